package catalog

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// Errors callers branch on.
var (
	ErrNotFound     = errors.New("entity not found")
	ErrNewerSchema  = errors.New("data directory was written by a newer idpbot")
	ErrIngestFailed = errors.New("ingest failed")
)

// Options configure a Store.
type Options struct {
	Logger *slog.Logger
	// CacheMB is Badger's cache of decompressed table blocks in MiB
	// (default DefaultCacheMB). Badger holds its two 6 MiB memtables and the
	// tables' indexes (about 2% of the store) besides.
	CacheMB int64
	// Workers parse descriptor files in parallel (default GOMAXPROCS).
	Workers int
	// IndexShards is the number of shards a new search index is split into
	// (default DefaultIndexShards, at most 16); an existing index keeps its
	// own.
	IndexShards int

	// Tests only: memtables of this many bytes (default 6 MiB), tables
	// written uncompressed (as stores were before compression), and how
	// often the level-0 guard looks.
	memTableSize  int64
	uncompressed  bool
	guardInterval time.Duration // default guardInterval
}

// Store is the catalog on disk: Badger holds the entities and their
// relations; the Bleve index is derived from it. Open repairs the index and
// finishes or undoes an interrupted ingest, so that after any crash the
// catalog is the old or the new one and search agrees with the store.
// A Store is safe for concurrent use; ingests are serialised.
type Store struct {
	db    *badger.DB
	index *shardedIndex
	an    *analyzers
	log   *slog.Logger
	opts  Options

	// mu is held for reading by queries and for writing while an ingest
	// applies its changes, so a query sees the catalog before or after.
	mu       sync.RWMutex
	ingestMu ingestLock
	names    *nameIndex
	// summaries caches what who-owns reads; applyLocked empties it.
	summaries summaryCache

	// stopGuard ends the level-0 guard (see guardL0).
	stopGuard func()

	// crash, when set (tests only), is called at each step of an ingest.
	crash func(step string)
	// batchSize is the number of entities per journal flush and index
	// batch (indexBatchSize; tests make it small).
	batchSize int
}

// pointer is the value of v1/e/<ref>: where the entity's body is, where it
// came from, and the edges it produced. Its encoding (see encode) starts with
// the hash, so that reads needing only the hash (every entity read) decode
// nothing.
type pointer struct {
	Hash     uint64
	Source   string
	File     string
	Line     int
	Edges    []Edge
	Warnings []Problem
}

// Open opens (creating if needed) the catalog in dir: dir/store holds Badger,
// dir/index holds Bleve.
func Open(ctx context.Context, dir string, opts Options) (*Store, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	db, err := badger.Open(badgerOptions(filepath.Join(dir, "store"), opts))
	if err != nil {
		return nil, fmt.Errorf("open store in %s: %w (is another idpbot using this data directory?)", dir, err)
	}
	s := &Store{db: db, log: opts.Logger, opts: opts, batchSize: indexBatchSize, ingestMu: make(ingestLock, 1)}
	// The guard runs from the start: recovering an interrupted ingest
	// writes too.
	interval := guardInterval
	if opts.guardInterval > 0 {
		interval = opts.guardInterval
	}
	ticker := time.NewTicker(interval)
	stop := guardL0(db, ticker.C, s.log)
	s.stopGuard = func() { stop(); ticker.Stop() }
	if err := s.checkSchema(); err != nil {
		s.Close()
		return nil, err
	}
	idx, created, err := openShards(filepath.Join(dir, "index"), opts.indexShards())
	if err != nil {
		s.Close()
		return nil, err
	}
	s.index = idx
	m, err := indexMapping()
	if err == nil {
		s.an, err = loadAnalyzers(m)
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	if err := s.recover(ctx, created); err != nil {
		s.Close()
		return nil, fmt.Errorf("recover catalog: %w", err)
	}
	if err := s.loadNames(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// DefaultCacheMB is the default size of Badger's block cache.
const DefaultCacheMB = 16

// Level-0 tables: Badger compacts nothing by itself (see badgerOptions);
// the store compacts level 0 into the tree when it holds compactL0Tables
// tables after an ingest and in CollectGarbage, and whenever it reaches
// maxL0Tables (guardL0). Writes would stall at stallL0Tables, which the
// guard keeps out of reach: with no compactor, a stall would last for good.
const (
	compactL0Tables = 4
	maxL0Tables     = 48
	stallL0Tables   = 256
)

// guardInterval is how often guardL0 looks at level 0. Between two looks
// writes flush at most a few dozen tables (6 MiB each), far from the
// stall.
const guardInterval = 2 * time.Second

// guardL0 compacts db whenever level 0 holds maxL0Tables tables, looking at
// each tick: whatever writes (state between two maintenances, the apply of
// a very large ingest, a restore) never reaches Badger's write stall. stop
// ends it, after a compaction in progress.
func guardL0(db *badger.DB, tick <-chan time.Time, log *slog.Logger) (stop func()) {
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		for {
			select {
			case <-done:
				return
			case <-tick:
			}
			if n, err := compactLevel0(db, maxL0Tables); err != nil {
				log.Warn("compact the store", "error", err)
			} else if n > 0 {
				log.Info("store compacted", "level0_tables", n, "reason", "level 0 full")
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done); <-finished }) }
}

// badgerOptions are the store's Badger options, sized for a small process.
//
// Memory is what they are chosen for. Tables are written through memory
// maps, so every table written stays resident until it is replaced, and
// Badger's table builders keep their buffers (up to the size of the largest
// table built) pooled, several at a time when compactions run in parallel.
// So:
//   - blocks are Snappy-compressed: a 100k-entity store takes 70 MB instead
//     of 170 (JSON bodies and repeated refs compress well); a small block
//     cache holds decompressed blocks;
//   - two 6 MiB memtables: level-0 tables are small, and so are the
//     builders that write them (a value over 512 KiB, which no entity
//     body reaches, goes to the value log: Badger requires values kept in
//     the tree to fit 15% of a memtable);
//   - no background compaction (NumCompactors 0): compaction beside an
//     ingest's parsing and indexing costs both cores and doubles the memory
//     at its peak, and repeated compactions of a growing tree rewrite it
//     several times. The store compacts at known points instead
//     (compactLevel0): once at the end of an ingest, in CollectGarbage,
//     and whenever level 0 reaches maxL0Tables (guardL0).
func badgerOptions(dir string, opts Options) badger.Options {
	cache := opts.CacheMB
	if cache <= 0 {
		cache = DefaultCacheMB
	}
	memtable := int64(6 << 20)
	if opts.memTableSize > 0 {
		memtable = opts.memTableSize
	}
	compression := options.Snappy
	if opts.uncompressed {
		compression = options.None
	}
	return badger.DefaultOptions(dir).
		WithLogger(badgerLogger{opts.Logger}).
		WithMemTableSize(memtable).
		WithValueThreshold(min(512<<10, memtable/10)).
		WithNumMemtables(2).
		WithCompression(compression).
		WithBlockCacheSize(cache << 20).
		WithIndexCacheSize(0).
		WithNumCompactors(0).
		// With no compactor, this only sets when Flatten sees level 0 as
		// worth compacting while no other level holds data (a first ingest,
		// a restore): from two tables on.
		WithNumLevelZeroTables(1).
		WithNumLevelZeroTablesStall(stallL0Tables).
		WithValueLogFileSize(64 << 20).
		WithCompactL0OnClose(false)
}

// compactLevel0 compacts the store into its last level when level 0 holds
// at least min tables, and returns how many of them went (0 if it did
// nothing). Reads and writes go on meanwhile.
func compactLevel0(db *badger.DB, min int) (int, error) {
	levels := db.Levels()
	if len(levels) == 0 || levels[0].NumTables < min {
		return 0, nil
	}
	// The compaction maps its new tables beside the old ones: hand the
	// memory the work before it left free (an ingest's parsing and
	// indexing) back to the system first, so the two do not add up. What
	// the compaction allocates is nearly all garbage (each block it reads
	// is decompressed into a new buffer), so the collector runs more often
	// meanwhile: a heap of about 1.25× the live one instead of 2× (GOGC
	// 25), which costs a few short collections.
	compacting.Lock() // GOGC is the process's: one compaction at a time changes it
	defer compacting.Unlock()
	debug.FreeOSMemory()
	// Read GOGC by setting it off for an instant: setting ours first would
	// turn a disabled collector on.
	if old := debug.SetGCPercent(-1); old >= 0 && old < compactGCPercent || old < 0 {
		debug.SetGCPercent(old) // GOGC lower than ours, or off: the operator's choice stands
	} else {
		debug.SetGCPercent(compactGCPercent)
		defer debug.SetGCPercent(old)
	}
	if err := db.Flatten(1); err != nil {
		return 0, err
	}
	return max(levels[0].NumTables-db.Levels()[0].NumTables, 0), nil
}

// compactGCPercent is the collector's GOGC while the store compacts.
const compactGCPercent = 25

// compacting serialises compactions in the process (stores opened side by
// side, a restore), so that each puts back the GOGC it found.
var compacting sync.Mutex

func (o Options) indexShards() int {
	if o.IndexShards <= 0 {
		return DefaultIndexShards
	}
	return min(o.IndexShards, maxIndexShards)
}

// Close closes the index and the store.
func (s *Store) Close() error {
	if s.stopGuard != nil {
		s.stopGuard()
	}
	var errs []error
	if s.index != nil {
		errs = append(errs, s.index.Close())
	}
	errs = append(errs, s.db.Close())
	return errors.Join(errs...)
}

func (s *Store) checkSchema() error {
	return s.db.Update(func(txn *badger.Txn) error {
		item, err := txn.Get(keySchema)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return txn.Set(keySchema, uvarint(SchemaVersion))
		}
		if err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		v, err := item.ValueCopy(nil)
		if err != nil {
			return err
		}
		ver, ok := readUvarint(v)
		switch {
		case !ok:
			return fmt.Errorf("data directory has an unreadable schema version; restore a backup or start from an empty directory")
		case ver > SchemaVersion:
			return fmt.Errorf("%w: schema version %d, this binary knows up to %d; upgrade idpbot or point --data-dir elsewhere", ErrNewerSchema, ver, SchemaVersion)
		}
		return nil
	})
}

// getJSON reads key into v; found is false when the key is absent.
func getJSON(txn *badger.Txn, key []byte, v any) (found bool, err error) {
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, item.Value(func(b []byte) error { return json.Unmarshal(b, v) })
}

func (s *Store) generation(txn *badger.Txn) (uint64, error) {
	item, err := txn.Get(keyGen)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var g uint64
	err = item.Value(func(b []byte) error { g, _ = readUvarint(b); return nil })
	return g, err
}

// indexFormat is the format the index's shards are stamped with
// (IndexFormat); 1 for shards from before the stamp existed, 0 when the
// shards disagree.
func (s *Store) indexFormat() (uint64, error) {
	var format uint64
	for i, sh := range s.index.shards {
		b, err := sh.GetInternal([]byte(internalFormat))
		if err != nil {
			return 0, err
		}
		f := uint64(1)
		if b != nil {
			f, _ = readUvarint(b)
		}
		if i > 0 && f != format {
			return 0, nil
		}
		format = f
	}
	return format, nil
}

func (s *Store) indexGeneration() (uint64, error) {
	b, err := s.index.GetInternal([]byte(internalGen))
	if err != nil || b == nil {
		return 0, err
	}
	g, _ := readUvarint(b)
	return g, nil
}

// badgerLogger sends Badger's logs to slog (warnings and errors only).
type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(f string, a ...any) {
	b.l.Error(fmt.Sprintf(f, a...), "component", "badger")
}
func (b badgerLogger) Warningf(f string, a ...any) {
	b.l.Warn(fmt.Sprintf(f, a...), "component", "badger")
}
func (b badgerLogger) Infof(string, ...any)  {}
func (b badgerLogger) Debugf(string, ...any) {}

// The pointer is encoded in binary (schema 1), hash first:
//
//	hash        8 bytes, big-endian
//	source      uvarint length, bytes
//	file        uvarint length, bytes
//	line        uvarint
//	edges       uvarint count, then per edge: a direction byte (0: the
//	            entity → other, 1: other → the entity), the type and the
//	            other end (each uvarint length, bytes)
//	warnings    uvarint length, JSON of []Problem (length 0: none)
//
// Every edge an entity produces has the entity at one end, so an edge is
// stored with its other end only; the pointer of a group naming hundreds of
// members stays small and decodes without reflection.
func (p *pointer) encode(self string) ([]byte, error) {
	n := 8 + 3*binary.MaxVarintLen64 + len(p.Source) + len(p.File)
	for _, e := range p.Edges {
		n += 1 + 2*binary.MaxVarintLen32 + len(e.Type) + len(e.From) + len(e.To) - len(self)
	}
	b := make([]byte, 8, n+binary.MaxVarintLen64)
	binary.BigEndian.PutUint64(b, p.Hash)
	b = appendString(b, p.Source)
	b = appendString(b, p.File)
	b = binary.AppendUvarint(b, uint64(max(p.Line, 0)))
	b = binary.AppendUvarint(b, uint64(len(p.Edges)))
	for _, e := range p.Edges {
		switch {
		case e.From == self:
			b = append(b, 0)
			b = appendString(b, e.Type)
			b = appendString(b, e.To)
		case e.To == self:
			b = append(b, 1)
			b = appendString(b, e.Type)
			b = appendString(b, e.From)
		default:
			return nil, fmt.Errorf("edge %s %s %s does not involve %s", e.From, e.Type, e.To, self)
		}
	}
	if len(p.Warnings) == 0 {
		return binary.AppendUvarint(b, 0), nil
	}
	w, err := json.Marshal(p.Warnings)
	if err != nil {
		return nil, err
	}
	return appendString(b, string(w)), nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// byteReader decodes the binary values; the first error sticks.
type byteReader struct {
	b   []byte
	err error
}

func (r *byteReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errors.New("truncated value")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *byteReader) bytes() []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.err = errors.New("truncated value")
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *byteReader) byte() byte {
	if r.err != nil {
		return 0
	}
	if len(r.b) == 0 {
		r.err = errors.New("truncated value")
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// decodePointer decodes the pointer of self from b (which it does not keep).
func decodePointer(self string, b []byte, p *pointer) error {
	if len(b) < 8 {
		return errors.New("pointer value is too short")
	}
	p.Hash = binary.BigEndian.Uint64(b)
	r := byteReader{b: b[8:]}
	p.Source = string(r.bytes())
	p.File = string(r.bytes())
	p.Line = int(r.uvarint())
	n := r.uvarint()
	if r.err == nil && n > uint64(len(r.b)) {
		return errors.New("pointer value is corrupt")
	}
	p.Edges = make([]Edge, 0, n)
	for i := uint64(0); i < n && r.err == nil; i++ {
		dir := r.byte()
		typ := string(r.bytes())
		other := string(r.bytes())
		switch dir {
		case 0:
			p.Edges = append(p.Edges, Edge{From: self, Type: typ, To: other})
		case 1:
			p.Edges = append(p.Edges, Edge{From: other, Type: typ, To: self})
		default:
			return errors.New("pointer value is corrupt")
		}
	}
	if w := r.bytes(); len(w) > 0 && r.err == nil {
		if err := json.Unmarshal(w, &p.Warnings); err != nil {
			return fmt.Errorf("pointer warnings: %w", err)
		}
	}
	if r.err != nil {
		return fmt.Errorf("pointer value: %w", r.err)
	}
	return nil
}

// pointerEdgesFrom returns the hash of an encoded pointer and calls fn with
// the type and target of each edge leaving the entity whose type want
// accepts, without decoding the rest.
func pointerEdgesFrom(b []byte, want func(typ []byte) bool, fn func(typ, to []byte)) (uint64, error) {
	if len(b) < 8 {
		return 0, errors.New("pointer value is too short")
	}
	hash := binary.BigEndian.Uint64(b)
	r := byteReader{b: b[8:]}
	r.bytes() // source
	r.bytes() // file
	r.uvarint()
	n := r.uvarint()
	for i := uint64(0); i < n && r.err == nil; i++ {
		dir := r.byte()
		typ := r.bytes()
		other := r.bytes()
		if dir == 0 && r.err == nil && want(typ) {
			fn(typ, other)
		}
	}
	if r.err != nil {
		return 0, fmt.Errorf("pointer value: %w", r.err)
	}
	return hash, nil
}

// srcEntry encoding (the value of v1/s/<source>\x00<ref>): hash (8 bytes,
// big-endian), line (uvarint), file (the rest).
func (e srcEntry) encode() []byte {
	b := make([]byte, 8, 8+binary.MaxVarintLen64+len(e.File))
	binary.BigEndian.PutUint64(b, e.Hash)
	b = binary.AppendUvarint(b, uint64(max(e.Line, 0)))
	return append(b, e.File...)
}

func decodeSrcEntry(b []byte) (srcEntry, error) {
	if len(b) < 9 {
		return srcEntry{}, errors.New("source entry is too short")
	}
	e := srcEntry{Hash: binary.BigEndian.Uint64(b)}
	line, n := binary.Uvarint(b[8:])
	if n <= 0 {
		return srcEntry{}, errors.New("source entry is corrupt")
	}
	e.Line, e.File = int(line), string(b[8+n:])
	return e, nil
}

// getPointer reads the pointer of ref; with full false only its hash.
func getPointer(txn *badger.Txn, ref string, full bool) (p pointer, found bool, err error) {
	item, err := txn.Get(entityKey(ref))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return p, false, nil
	}
	if err != nil {
		return p, false, err
	}
	err = item.Value(func(b []byte) error {
		if !full {
			if len(b) < 8 {
				return errors.New("pointer value is too short")
			}
			p.Hash = binary.BigEndian.Uint64(b)
			return nil
		}
		return decodePointer(ref, b, &p)
	})
	return p, true, err
}

// ingestLock serialises ingests, backups, reindexing and compaction: a
// mutex whose Lock can give up when a context ends (a backup requested
// while an ingest runs).
type ingestLock chan struct{}

func (l ingestLock) Lock() { l <- struct{}{} }

func (l ingestLock) Unlock() {
	select {
	case <-l:
	default:
		panic("catalog: unlock of an ingest lock not held")
	}
}

// LockContext locks l, or returns ctx's error when ctx ends first (or has
// ended).
func (l ingestLock) LockContext(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case l <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// TryLock locks l if it is free.
func (l ingestLock) TryLock() bool {
	select {
	case l <- struct{}{}:
		return true
	default:
		return false
	}
}

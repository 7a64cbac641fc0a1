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
	"sync"

	"github.com/blevesearch/bleve/v2"
	"github.com/dgraph-io/badger/v4"
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
	// CacheMB is Badger's block cache in MiB (default 32). With the 2×16 MiB
	// memtables and 16 MiB index cache, Badger holds about CacheMB+48 MiB.
	CacheMB int64
	// Workers parse descriptor files in parallel (default GOMAXPROCS).
	Workers int
}

// Store is the catalog on disk: Badger holds the entities and their
// relations; the Bleve index is derived from it. Open repairs the index and
// finishes or undoes an interrupted ingest, so that after any crash the
// catalog is the old or the new one and search agrees with the store.
// A Store is safe for concurrent use; ingests are serialised.
type Store struct {
	db    *badger.DB
	index bleve.Index
	an    *analyzers
	log   *slog.Logger
	opts  Options

	// mu is held for reading by queries and for writing while an ingest
	// applies its changes, so a query sees the catalog before or after.
	mu       sync.RWMutex
	ingestMu sync.Mutex
	names    *nameIndex

	// crash, when set (tests only), is called at each step of an ingest.
	crash func(step string)
	// batchSize is the number of entities per journal flush and index
	// batch (indexBatchSize; tests make it small).
	batchSize int
}

// pointer is the value of v1/e/<ref>: where the entity's body is, where it
// came from, and the edges it produced.
//
// It is stored as the hash (8 bytes, big-endian) followed by the JSON of the
// rest, so that reads needing only the hash (every entity read) decode
// nothing: a group's pointer can carry hundreds of edges.
type pointer struct {
	Hash     uint64    `json:"-"`
	Source   string    `json:"s"`
	File     string    `json:"f,omitempty"`
	Line     int       `json:"l,omitempty"`
	Edges    []Edge    `json:"r,omitempty"`
	Warnings []Problem `json:"w,omitempty"`
}

// Open opens (creating if needed) the catalog in dir: dir/store holds Badger,
// dir/index holds Bleve.
func Open(ctx context.Context, dir string, opts Options) (*Store, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.CacheMB <= 0 {
		opts.CacheMB = 32
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	bo := badger.DefaultOptions(filepath.Join(dir, "store")).
		WithLogger(badgerLogger{opts.Logger}).
		WithMemTableSize(16 << 20).
		WithNumMemtables(2).
		WithNumLevelZeroTables(4).
		WithNumLevelZeroTablesStall(8).
		WithBlockCacheSize(opts.CacheMB << 20).
		WithIndexCacheSize(16 << 20).
		WithValueLogFileSize(64 << 20).
		WithNumCompactors(2).
		WithCompactL0OnClose(false)
	db, err := badger.Open(bo)
	if err != nil {
		return nil, fmt.Errorf("open store in %s: %w (is another idpbot using this data directory?)", dir, err)
	}
	s := &Store{db: db, log: opts.Logger, opts: opts, batchSize: indexBatchSize}
	if err := s.checkSchema(); err != nil {
		db.Close()
		return nil, err
	}
	idx, created, err := openIndex(filepath.Join(dir, "index"))
	if err != nil {
		db.Close()
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

// Close closes the index and the store.
func (s *Store) Close() error {
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

func (p *pointer) encode() ([]byte, error) {
	j, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 8, 8+len(j))
	binary.BigEndian.PutUint64(b, p.Hash)
	return append(b, j...), nil
}

func decodePointer(b []byte, p *pointer) error {
	if len(b) < 8 {
		return errors.New("pointer value is too short")
	}
	p.Hash = binary.BigEndian.Uint64(b)
	return json.Unmarshal(b[8:], p)
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
		return decodePointer(b, &p)
	})
	return p, true, err
}

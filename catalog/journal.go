package catalog

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// An ingest's journal is a header in the store (v1/j/<id>: source, state)
// and a file of entries beside it, <data dir>/journal/<id>.journal: the
// pointer each new or changed entity gets ('p') and the refs the source no
// longer lists ('d'). The entries are written once, appended as the files
// are parsed, and read once, by the apply; kept in Badger they went through
// its write-ahead log, memtables, a level-0 table and a compaction, only to
// be deleted: at 100k entities the file saved about 4% of the ingest's CPU
// (docs/benchmarks.md).
//
// The file is complete, ended by an 'e' entry and synced, before the header
// says committed: a committed journal is finished from its file by the
// next ingest, backup or Open, and one still staging is undone from
// whatever part of it was written (a torn last entry is where a crash
// stopped the writer: the index is rebuilt then, to be sure). An
// entry is written before the staged body and the index document of its
// entity, so undoing it finds them all. The header says its entries are in
// a file (journal.Entries): a committed journal whose file is missing or
// damaged stops Open, one still staging is dropped with the index rebuilt.
// The header is synced before the file is created, and the finish syncs
// the store before it removes the file: a file without a header is left
// over from a finish and is removed.
//
// Entry: uvarint length of the body, body (op, uvarint length of the ref,
// ref, value), CRC-32C of the body (4 bytes, big-endian).

const (
	journalFileMagic = "idpbot-journal 1 "
	journalFileExt   = ".journal"
	journalEnd       = 'e'
	maxJournalEntry  = 64 << 20 // a value Badger keeps fits its 64 MiB value log file
)

var journalCRC = crc32.MakeTable(crc32.Castagnoli)

func (s *Store) journalDir() string {
	return filepath.Join(filepath.Dir(s.db.Opts().Dir), "journal")
}

func (s *Store) journalPath(id string) string {
	return filepath.Join(s.journalDir(), id+journalFileExt)
}

// newJournalID returns the id of a new journal: the start time in
// nanoseconds, hexadecimal, so that ids sort by age; moved on by one while
// a journal (header or file) of that id exists, e.g. after the clock went
// back.
func (s *Store) newJournalID(start time.Time) (string, error) {
	for n := start.UnixNano(); ; n++ {
		id := fmt.Sprintf("%016x", n)
		_, found, err := s.journalHeader(id)
		if err != nil {
			return "", err
		}
		_, err = os.Stat(s.journalPath(id))
		switch {
		case found || err == nil:
			continue
		case !errors.Is(err, os.ErrNotExist):
			return "", fmt.Errorf("new journal: %w", err)
		}
		return id, nil
	}
}

// journalHeader reads the header of journal id.
func (s *Store) journalHeader(id string) (j journal, found bool, err error) {
	err = s.db.View(func(txn *badger.Txn) error {
		found, err = getJSON(txn, journalKey(id), &j)
		return err
	})
	return j, found, err
}

// createJournalFile creates the entry file of journal id.
func (s *Store) createJournalFile(id string) (*os.File, error) {
	if err := os.MkdirAll(s.journalDir(), 0o750); err != nil {
		return nil, fmt.Errorf("create journal directory: %w", err)
	}
	f, err := os.OpenFile(s.journalPath(id), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return nil, fmt.Errorf("create journal: %w", err)
	}
	if _, err := f.WriteString(journalFileMagic + id + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("write journal: %w", err)
	}
	// The file's name must outlast a power cut as much as its contents
	// (synced before the commit): sync the directory, and its parent, which
	// holds the directory.
	for _, dir := range []string{s.journalDir(), filepath.Dir(s.journalDir())} {
		if err := syncPath(dir); err != nil {
			f.Close()
			return nil, fmt.Errorf("create journal: %w", err)
		}
	}
	return f, nil
}

// syncStore makes every write to the store so far durable. Badger's Sync
// syncs the write-ahead log of the memtable being written, not those of
// full memtables waiting to be flushed into tables; those logs are files
// Badger writes through memory maps, and syncing a file writes them back.
func (s *Store) syncStore() error {
	if err := s.db.Sync(); err != nil {
		return err
	}
	logs, err := filepath.Glob(filepath.Join(s.db.Opts().Dir, "*.mem"))
	if err != nil {
		return err
	}
	for _, l := range logs {
		err := syncPath(l)
		if errors.Is(err, os.ErrNotExist) {
			continue // flushed into a table meanwhile, which Badger synced
		}
		if err != nil {
			return fmt.Errorf("sync %s: %w", l, err)
		}
	}
	return nil
}

// syncPath syncs the file or directory at path.
func syncPath(path string) error {
	d, err := os.Open(path)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// appendJournalEntry appends one entry to b.
func appendJournalEntry(b []byte, op byte, ref string, value []byte) []byte {
	var refLen [binary.MaxVarintLen64]byte
	n := 1 + binary.PutUvarint(refLen[:], uint64(len(ref))) + len(ref) + len(value)
	b = binary.AppendUvarint(b, uint64(n))
	start := len(b)
	b = append(b, op)
	b = binary.AppendUvarint(b, uint64(len(ref)))
	b = append(b, ref...)
	b = append(b, value...)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b[start:], journalCRC))
}

// endJournalFile writes the end entry, syncs and closes f.
func endJournalFile(f *os.File) error {
	if _, err := f.Write(appendJournalEntry(nil, journalEnd, "", nil)); err != nil {
		f.Close()
		return fmt.Errorf("write journal: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync journal: %w", err)
	}
	return f.Close()
}

// errJournalUnreadable says a journal file does not start as one written
// for its ingest: nothing in it can be trusted.
var errJournalUnreadable = errors.New("unreadable journal file")

// errJournalTorn says an entry file stops inside an entry, or an entry's
// checksum is wrong: where a crash stopped its writer, or damage.
var errJournalTorn = errors.New("torn entry")

// journalReader reads the entries of one file.
type journalReader struct {
	r *bufio.Reader
}

func openJournalFile(path, id string) (*os.File, *journalReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	r := &journalReader{r: bufio.NewReaderSize(f, 1<<20)}
	line, err := r.r.ReadString('\n')
	if err != nil || line != journalFileMagic+id+"\n" {
		f.Close()
		return nil, nil, fmt.Errorf("%w: %s is not the journal file of ingest %s (it starts %q)", errJournalUnreadable, path, id, strings.TrimSpace(line))
	}
	return f, r, nil
}

// next returns the next entry; io.EOF at the end of the file, errJournalTorn
// inside an entry. value is the caller's.
func (r *journalReader) next() (op byte, ref string, value []byte, err error) {
	n, err := binary.ReadUvarint(r.r)
	if err == io.EOF {
		return 0, "", nil, io.EOF
	}
	if err != nil || n < 2 || n > maxJournalEntry {
		return 0, "", nil, errJournalTorn
	}
	body := make([]byte, n+4)
	if _, err := io.ReadFull(r.r, body); err != nil {
		return 0, "", nil, errJournalTorn
	}
	body, sum := body[:n], binary.BigEndian.Uint32(body[n:])
	if crc32.Checksum(body, journalCRC) != sum {
		return 0, "", nil, errJournalTorn
	}
	refLen, k := binary.Uvarint(body[1:])
	if k <= 0 || refLen > uint64(len(body)-1-k) {
		return 0, "", nil, errJournalTorn
	}
	rest := body[1+k:]
	return body[0], string(rest[:refLen]), rest[refLen:], nil
}

// journalEntries calls fn for each entry of journal id, in the order written,
// with a read transaction of the store (renewed every scanChunk entries,
// see scan). complete requires the whole file, as a committed journal has
// it; otherwise the entries up to a torn one are read, and torn says the
// file ended in one (or in damage: the caller cannot tell). A journal whose
// header does not say its entries are in a file has them in the store (an
// ingest of an earlier version) unless a file of its entries exists. A
// missing file is errJournalUnreadable.
func (s *Store) journalEntries(id string, complete bool, fn func(txn *badger.Txn, op byte, ref string, value []byte) error) (torn bool, err error) {
	j, found, err := s.journalHeader(id)
	if err != nil {
		return false, err
	}
	if !found {
		return false, fmt.Errorf("journal %s has no header", id)
	}
	path := s.journalPath(id)
	if j.Entries != entriesInFile {
		_, err := os.Stat(path)
		switch {
		case err == nil:
			j.Entries = entriesInFile // written before headers said so
		case !errors.Is(err, os.ErrNotExist):
			return false, fmt.Errorf("journal %s: %w", id, err)
		}
	}
	if j.Entries != entriesInFile {
		prefix := journalPrefix(id)
		return false, s.scan(prefix, func(txn *badger.Txn, item *badger.Item) error {
			op, ref, ok := journalEntry(item.Key(), prefix)
			if !ok {
				return nil
			}
			v, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			return fn(txn, op, ref, v)
		})
	}
	f, r, err := openJournalFile(path, id)
	if errors.Is(err, os.ErrNotExist) {
		return false, fmt.Errorf("%w: %s is missing (a journal directory must not be deleted, nor left behind when the store is copied)", errJournalUnreadable, path)
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	for ended := false; !ended; {
		err := s.db.View(func(txn *badger.Txn) error {
			for range scanChunk {
				op, ref, value, err := r.next()
				switch {
				case err == nil && op == journalEnd:
					ended = true
					return nil
				case err == nil:
					if err := fn(txn, op, ref, value); err != nil {
						return err
					}
					continue
				case !complete:
					// The rest was never written (a clean end: the staging
					// was cut off between batches), or a crash stopped the
					// writer inside an entry, or the file is damaged.
					torn = !errors.Is(err, io.EOF)
					ended = true
					return nil
				case errors.Is(err, io.EOF):
					return fmt.Errorf("journal %s ends before its end entry: the file is damaged", path)
				default:
					return fmt.Errorf("journal %s: %w: the file is damaged", path, err)
				}
			}
			return nil
		})
		if err != nil {
			return false, err
		}
	}
	return torn, nil
}

// removeJournal removes the entries of journal id: its file, and any in the
// store (see journalEntries).
func (s *Store) removeJournal(id string) error {
	if err := os.Remove(s.journalPath(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove journal: %w", err)
	}
	return s.deletePrefix(journalPrefix(id))
}

// journalFiles lists the ids of the entry files in the journal directory.
func (s *Store) journalFiles() ([]string, error) {
	entries, err := os.ReadDir(s.journalDir())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list journals: %w", err)
	}
	var ids []string
	for _, e := range entries {
		if id, ok := strings.CutSuffix(e.Name(), journalFileExt); ok && !e.IsDir() {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

package catalog

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// backupMagic starts every backup: the format and the schema version of
// the keys inside, checked by Restore.
const backupMagic = "idpbot-backup 1 schema "

// Backup writes a snapshot of the whole database (the catalog, and every
// State namespace: runs, the audit log, history, facts) to w,
// gzip-compressed, while the store stays in use. The search index is not
// in it: Restore's first Open rebuilds it from the store.
//
// Ingests wait for a backup, and a backup for an ingest in progress (or
// until ctx ends): the journal of an ingest between its commit and its
// finish has its entries in a file beside the store, which a backup does
// not hold, and Badger's stream reads the store in ranges, each at its own
// moment, so a backup beside an ingest could hold part of its changes. An
// ingest committed but not finished (its apply failed) is finished first.
func (s *Store) Backup(ctx context.Context, w io.Writer) (int64, error) {
	if err := s.ingestMu.LockContext(ctx); err != nil {
		return 0, err
	}
	defer s.ingestMu.Unlock()
	if err := s.finishCommitted(); err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	cw := &countingWriter{w: w}
	zw := gzip.NewWriter(cw)
	if _, err := fmt.Fprintf(zw, "%s%d\n", backupMagic, SchemaVersion); err != nil {
		return cw.n, err
	}
	if _, err := s.db.Backup(zw, 0); err != nil {
		return cw.n, fmt.Errorf("backup: %w", err)
	}
	if err := zw.Close(); err != nil {
		return cw.n, fmt.Errorf("backup: %w", err)
	}
	return cw.n, nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// ErrNotEmpty says Restore was pointed at a data directory that has data.
var ErrNotEmpty = errors.New("the data directory is not empty")

// Restore loads a backup made by Backup into dir, which must not hold a
// store yet; the next Open rebuilds the search index. A backup of a newer
// schema is refused, and a truncated or foreign file is an error that
// leaves dir without a store.
func Restore(ctx context.Context, dir string, r io.Reader) (err error) {
	storeDir := filepath.Join(dir, "store")
	if entries, err := os.ReadDir(storeDir); err == nil && len(entries) > 0 {
		return fmt.Errorf("restore into %s: %w; restore into a new directory, or move the old one away", dir, ErrNotEmpty)
	}
	zr, err := gzip.NewReader(r)
	if err != nil {
		return fmt.Errorf("restore: not an idpbot backup (%v)", err)
	}
	br := bufio.NewReader(zr)
	head, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(head, backupMagic) {
		return errors.New("restore: not an idpbot backup (no header)")
	}
	var schema int
	if _, err := fmt.Sscanf(strings.TrimPrefix(head, backupMagic), "%d", &schema); err != nil {
		return fmt.Errorf("restore: unreadable backup header %q", strings.TrimSpace(head))
	}
	if schema > SchemaVersion {
		return fmt.Errorf("%w: the backup has schema version %d, this binary knows up to %d; restore it with a newer idpbot", ErrNewerSchema, schema, SchemaVersion)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(storeDir) // nothing half-restored stays
		}
	}()
	db, err := badger.Open(badgerOptions(storeDir, Options{Logger: slog.New(slog.DiscardHandler)}))
	if err != nil {
		return fmt.Errorf("restore: open %s: %w", storeDir, err)
	}
	if err := ctx.Err(); err != nil {
		db.Close()
		return err
	}
	ticker := time.NewTicker(guardInterval)
	stopGuard := guardL0(db, ticker.C, slog.New(slog.DiscardHandler))
	err = db.Load(br, 256)
	stopGuard()
	ticker.Stop()
	if err != nil {
		db.Close()
		return fmt.Errorf("restore: %w (is the backup complete?)", err)
	}
	if _, err := compactLevel0(db, compactL0Tables); err != nil {
		db.Close()
		return fmt.Errorf("restore: compact: %w", err)
	}
	if err := db.Close(); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	// A stale index or journal from before must not be taken for this
	// store's.
	if err := os.RemoveAll(filepath.Join(dir, "journal")); err != nil {
		return err
	}
	return os.RemoveAll(filepath.Join(dir, "index"))
}

// CollectGarbage compacts the tables that writes of state (runs, audit,
// history) flushed since the last ingest into the tree (Badger compacts
// nothing by itself, see badgerOptions), then reclaims space in Badger's
// value log left by replaced and deleted values, a file at a time until
// none is worth rewriting. The scheduler runs it; it is safe while the
// store is in use.
func (s *Store) CollectGarbage(ctx context.Context) (rewritten int, err error) {
	s.ingestMu.Lock()
	_, err = compactLevel0(s.db, compactL0Tables)
	s.ingestMu.Unlock()
	if err != nil {
		return 0, fmt.Errorf("compact: %w", err)
	}
	for ctx.Err() == nil {
		err := s.db.RunValueLogGC(0.5)
		if errors.Is(err, badger.ErrNoRewrite) || errors.Is(err, badger.ErrRejected) {
			return rewritten, nil
		}
		if err != nil {
			return rewritten, fmt.Errorf("value log GC: %w", err)
		}
		rewritten++
	}
	return rewritten, ctx.Err()
}

// Sizes reports the bytes the store takes: Badger's LSM tree and value
// log (as Badger counts them).
func (s *Store) Sizes() (lsm, vlog int64) { return s.db.Size() }

// IndexBytes is the size of the search index directory (Bleve), segments
// awaiting removal included: what it takes on disk.
func (s *Store) IndexBytes() int64 {
	var n int64
	_ = filepath.WalkDir(s.indexDir(), func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // a segment removed while walking
		}
		if !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/dgraph-io/badger/v4"
)

// recover finishes or undoes the ingests a crash interrupted, then checks that
// the index agrees with the store (same generation, same number of entities)
// and rebuilds it from the store when it does not.
func (s *Store) recover(ctx context.Context, indexCreated bool) error {
	headers, orphans, err := s.journals()
	if err != nil {
		return err
	}
	for _, id := range orphans {
		if err := s.removeJournal(id); err != nil {
			return err
		}
	}
	repaired, rebuildIndex := false, false
	for _, j := range headers {
		if j.State == stateCommitted {
			s.log.Warn("finishing an interrupted ingest", "source", j.Source, "journal", j.ID)
			if err := s.rollForward(j); err != nil {
				return fmt.Errorf("finish ingest %s: %w (the store cannot be made whole: restore a backup, or move the data directory away and ingest again)", j.ID, err)
			}
		} else {
			s.log.Warn("undoing an interrupted ingest", "source", j.Source, "journal", j.ID)
			torn, err := s.rollback(j.ID)
			if torn {
				// Cut off inside an entry, or damaged: which index
				// documents it staged may be unknown.
				s.log.Warn("the journal of an interrupted ingest ends in a torn entry; rebuilding the search index", "journal", j.ID)
				rebuildIndex = true
			}
			if errors.Is(err, errJournalUnreadable) {
				// Which documents it staged is lost; the store never
				// used them (the ingest was not committed), so the
				// index is built again from the store.
				s.log.Warn("the journal of an interrupted ingest is unreadable; dropping it and rebuilding the search index", "journal", j.ID, "error", err)
				err = s.dropJournal(j.ID)
				rebuildIndex = true
			}
			if err != nil {
				return fmt.Errorf("undo ingest %s: %w", j.ID, err)
			}
		}
		repaired = true
	}
	if repaired {
		if err := s.rebuildDerived(); err != nil {
			return err
		}
	}
	return s.checkIndex(ctx, indexCreated, rebuildIndex)
}

// journals lists the journal headers, oldest first, and the ids of entries
// (files, or keys an earlier version wrote) left without a header.
func (s *Store) journals() ([]journal, []string, error) {
	var headers []journal
	ids := map[string]bool{}
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: pfxJournal})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			rest := it.Item().Key()[len(pfxJournal):]
			if i := indexByte(rest, 0); i >= 0 {
				ids[string(rest[:i])] = true
				continue
			}
			var j journal
			if err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, &j) }); err != nil {
				return fmt.Errorf("read journal: %w", err)
			}
			headers = append(headers, j)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	files, err := s.journalFiles()
	if err != nil {
		return nil, nil, err
	}
	for _, id := range files {
		ids[id] = true
	}
	for _, j := range headers {
		delete(ids, j.ID)
	}
	var orphans []string
	for id := range ids {
		orphans = append(orphans, id)
	}
	sort.Slice(headers, func(a, b int) bool { return headers[a].ID < headers[b].ID })
	return headers, orphans, nil
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// rollForward finishes a committed ingest: apply again (idempotent, while
// queries wait), put the index right for every ref the journal touches,
// and drop the journal.
func (s *Store) rollForward(j journal) error {
	puts, dels, err := s.applyLocked(j.ID)
	if err != nil {
		return err
	}
	if err := s.reindex(append(puts, dels...)); err != nil {
		return err
	}
	_, err = s.finish(j.ID, nil, nil)
	return err
}

// rebuildDerived rebuilds the relation edges and source memberships from the
// pointers, and deletes bodies no pointer uses. Recovery runs it after an
// interrupted ingest, whatever part of the write batches reached the disk.
func (s *Store) rebuildDerived() error {
	if err := s.db.DropPrefix(pfxRel, pfxSrc); err != nil {
		return fmt.Errorf("drop derived keys: %w", err)
	}
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	live := map[string]uint64{}
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: pfxEntity, PrefetchValues: false})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			ref := refFromEntityKey(it.Item().Key())
			var p pointer
			if err := it.Item().Value(func(b []byte) error { return decodePointer(ref, b, &p) }); err != nil {
				return fmt.Errorf("read %s: %w", ref, err)
			}
			live[ref] = p.Hash
			for _, e := range p.Edges {
				if givenEdge(e, ref) {
					if err := wb.Set(relKey(e), nil); err != nil {
						return err
					}
				}
			}
			if err := wb.Set(srcKey(p.Source, ref), srcEntry{Hash: p.Hash, File: p.File, Line: p.Line}.encode()); err != nil {
				return err
			}
		}
		it.Close()
		bodies := txn.NewIterator(badger.IteratorOptions{Prefix: pfxBody})
		defer bodies.Close()
		for bodies.Rewind(); bodies.Valid(); bodies.Next() {
			k := bodies.Item().KeyCopy(nil)
			rest := k[len(pfxBody):]
			i := indexByte(rest, 0)
			if i < 0 {
				continue
			}
			ref := string(rest[:i])
			if h, ok := live[ref]; !ok || string(bodyKey(ref, h)) != string(k) {
				if err := wb.Delete(k); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return wb.Flush()
}

// checkIndex rebuilds the index from the store when it is new, its
// generation differs from the store's, it holds a different number of
// documents than the store holds entities, it was built in another
// format (IndexFormat), or rebuild says so.
func (s *Store) checkIndex(ctx context.Context, created, rebuild bool) error {
	var storeGen uint64
	var count uint64
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		if storeGen, err = s.generation(txn); err != nil {
			return err
		}
		it := txn.NewIterator(badger.IteratorOptions{Prefix: pfxEntity})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			count++
		}
		return nil
	})
	if err != nil {
		return err
	}
	idxGen, err := s.indexGeneration()
	if err != nil {
		return fmt.Errorf("read index generation: %w", err)
	}
	docs, err := s.index.DocCount()
	if err != nil {
		return fmt.Errorf("count index documents: %w", err)
	}
	format, err := s.indexFormat()
	if err != nil {
		return fmt.Errorf("read index format: %w", err)
	}
	if !created && !rebuild && idxGen == storeGen && docs == count && format == IndexFormat {
		return nil
	}
	if created && !rebuild && count == 0 {
		return s.stampIndex(storeGen)
	}
	s.log.Warn("rebuilding the search index from the store", "store_generation", storeGen,
		"index_generation", idxGen, "entities", count, "index_documents", docs,
		"index_format", format, "format", IndexFormat)
	return s.rebuildIndex(ctx, storeGen)
}

// stampIndex records the generation of the store the index agrees with, and
// the format it was built in.
func (s *Store) stampIndex(gen uint64) error {
	b := s.index.NewBatch()
	b.SetInternal([]byte(internalGen), uvarint(gen))
	b.SetInternal([]byte(internalFormat), uvarint(IndexFormat))
	return s.index.Batch(b)
}

// rebuildIndex replaces the index with one built from the store.
func (s *Store) rebuildIndex(ctx context.Context, gen uint64) error {
	dir := s.indexDir()
	if err := s.index.Close(); err != nil {
		s.log.Warn("close index before rebuild", "error", err)
	}
	s.index = nil // until the new one opens: Close must not close the old twice
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove index: %w", err)
	}
	idx, _, err := openShards(dir, s.opts.indexShards())
	if err != nil {
		return err
	}
	s.index = idx
	var refs []string
	err = s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: pfxEntity})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			refs = append(refs, refFromEntityKey(it.Item().Key()))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i := 0; i < len(refs); i += indexBatchSize {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := s.reindex(refs[i:min(i+indexBatchSize, len(refs))]); err != nil {
			return err
		}
	}
	if len(refs) > indexBatchSize {
		if err := compactIndex(ctx, s.index); err != nil {
			return fmt.Errorf("merge index: %w", err)
		}
	}
	return s.stampIndex(gen)
}

func (s *Store) indexDir() string {
	return filepath.Join(filepath.Dir(s.db.Opts().Dir), "index")
}

// Reindex rebuilds the whole search index from the store.
func (s *Store) Reindex(ctx context.Context) error {
	s.ingestMu.Lock()
	defer s.ingestMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	var gen uint64
	if err := s.db.View(func(txn *badger.Txn) error {
		var err error
		gen, err = s.generation(txn)
		return err
	}); err != nil {
		return err
	}
	return s.rebuildIndex(ctx, gen)
}

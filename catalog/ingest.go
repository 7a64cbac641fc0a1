package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// indexBatchSize is the number of documents per Bleve batch and journal
// flush. Each batch in flight holds its analysed documents (several KB
// each) and two are in flight, while the parsing goes on; batches of a few
// thousand keep both cores busy without holding much (at 100k entities,
// 2500 against 5000 lowers the ingest's peak memory by about 20 MB at no
// measurable cost in time). Each batch makes an index segment; a large
// ingest merges them into one at its end.
const indexBatchSize = 2500

// maxReportedProblems caps the problems kept with a source's last report.
const maxReportedProblems = 1000

// Journal states.
const (
	stateStaging   = "staging"
	stateCommitted = "committed"
)

// journal is the header of an ingest in progress. Until State is committed
// the ingest can be undone; from then on it is finished on restart.
type journal struct {
	ID      string    `json:"id"`
	Source  string    `json:"source"`
	State   string    `json:"state"`
	Started time.Time `json:"started"`
	// Entries is where the entries are: "file" (journal.go); empty, in
	// the store (earlier versions).
	Entries string `json:"entries,omitempty"`
}

// entriesInFile is journal.Entries for a journal file.
const entriesInFile = "file"

// srcEntry is the value of v1/s/<source>\x00<ref> (see encode).
type srcEntry struct {
	Hash uint64
	File string
	Line int
}

// IngestReport says what an ingest did.
type IngestReport struct {
	Source     string        `json:"source"`
	Roots      []string      `json:"roots"`
	Finished   time.Time     `json:"finished"`
	Duration   time.Duration `json:"duration_ns"`
	Files      int           `json:"files"`
	Entities   int           `json:"entities"` // entities the source now provides
	Added      int           `json:"added"`
	Updated    int           `json:"updated"`
	Unchanged  int           `json:"unchanged"`
	Removed    int           `json:"removed"`
	Kept       int           `json:"kept"` // previous versions kept because the new one failed
	Problems   Problems      `json:"problems,omitempty"`
	Generation uint64        `json:"generation"`
}

// Ingest reads the descriptor files under roots (files, directories, globs;
// Location targets are followed) and makes them the entities of source,
// atomically: entities the source no longer lists are removed, and a crash at
// any point leaves the old catalog or the new one after the next Open.
//
// Entities that fail validation are reported and not stored; when an entity
// (or the file holding it) fails, its previous version is kept, so a broken
// commit never empties the catalog. The report's problems say what to fix.
func (s *Store) Ingest(ctx context.Context, source string, roots []string, opts ...IngestOption) (*IngestReport, error) {
	var origin *ingestOrigin
	if len(opts) > 0 {
		origin = &ingestOrigin{}
		for _, o := range opts {
			o(origin)
		}
	}
	if source == "" {
		return nil, errors.New("ingest: source name is empty")
	}
	s.ingestMu.Lock()
	defer s.ingestMu.Unlock()
	if err := s.finishCommitted(); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrIngestFailed, source, err)
	}
	start := time.Now()
	rep := &IngestReport{Source: source, Roots: roots}
	id, err := s.newJournalID(start)
	if err != nil {
		return nil, fmt.Errorf("ingest %s: %w", source, err)
	}

	old, err := s.sourceEntries(source)
	if err != nil {
		return nil, fmt.Errorf("ingest %s: %w", source, err)
	}
	// The header is synced before anything it will have to undo (the
	// file, whose name is synced, and Bleve's segments) reaches the disk.
	if err := s.putJournal(journal{ID: id, Source: source, State: stateStaging, Started: start.UTC(), Entries: entriesInFile}); err != nil {
		return nil, fmt.Errorf("ingest %s: start journal: %w", source, err)
	}
	if err := s.syncStore(); err != nil {
		return nil, fmt.Errorf("ingest %s: start journal: %w", source, err)
	}
	jf, err := s.createJournalFile(id)
	if err != nil { // nothing is staged yet
		if dropErr := s.dropJournal(id); dropErr != nil {
			err = errors.Join(err, fmt.Errorf("drop the journal: %w", dropErr))
		}
		return rep, fmt.Errorf("%w: %s: %w", ErrIngestFailed, source, err)
	}
	st := newStaging(s, id, source, old, rep, jf)
	err = load(ctx, roots, loadOptions{Workers: s.opts.Workers, Prepare: st.prepare, Origin: origin}, st.add)
	if err == nil {
		err = st.stageDeletes()
	}
	if err == nil {
		err = st.flush(true)
	}
	if werr := st.closeWriter(); werr != nil {
		err = werr // the writer's error explains a failed flush
	}
	if err == nil {
		err = endJournalFile(jf) // complete and synced before the commit
	} else {
		jf.Close()
	}
	var merged chan error
	waitMerge := func() {
		if merged != nil {
			if err := <-merged; err != nil {
				s.log.Warn("merge the search index", "error", err)
			}
			merged = nil
		}
	}
	defer waitMerge()
	if err == nil && st.indexed > s.batchSize {
		// Merge the batches' segments into one while the store applies.
		merged = make(chan error, 1)
		go func(idx *shardedIndex) { merged <- compactIndex(ctx, idx) }(s.index)
	}
	if err != nil {
		if _, rbErr := s.rollback(id); rbErr != nil {
			err = errors.Join(err, fmt.Errorf("undo: %w", rbErr))
		}
		return rep, fmt.Errorf("%w: %s: %w", ErrIngestFailed, source, err)
	}
	s.step("staged")

	if err := s.commitJournal(id); err != nil {
		if _, rbErr := s.rollback(id); rbErr != nil {
			err = errors.Join(err, rbErr)
		}
		return rep, fmt.Errorf("%w: %s: commit: %w", ErrIngestFailed, source, err)
	}
	s.step("committed")
	// From here the ingest is decided: an error leaves the journal for the
	// next ingest, backup or start to finish.
	_, _, err = s.applyLocked(id)
	if err != nil {
		return rep, fmt.Errorf("ingest %s: apply (finished by the next ingest, backup or start): %w", source, err)
	}
	s.step("applied")
	rep.Problems.Sort()
	rep.Entities = len(st.seen) + rep.Kept
	rep.Files = st.files
	rep.Finished = time.Now().UTC()
	rep.Duration = time.Since(start)
	gen, err := s.finish(id, st.deleted, rep)
	if err != nil {
		return rep, fmt.Errorf("ingest %s: finish (completed by the next ingest, backup or start): %w", source, err)
	}
	rep.Generation = gen
	s.log.Info("catalog ingested", "source", source, "entities", rep.Entities, "added", rep.Added,
		"updated", rep.Updated, "removed", rep.Removed, "problems", len(rep.Problems), "duration", rep.Duration)
	// With the parsing and the index merge done, fold the level-0 tables
	// the ingest flushed into the tree (see badgerOptions): the ingest is
	// complete whatever happens here.
	waitMerge()
	s.step("compacting")
	start = time.Now()
	if n, err := compactLevel0(s.db, compactL0Tables); err != nil {
		s.log.Warn("compact the store", "error", err)
	} else if n > 0 {
		s.log.Info("store compacted", "level0_tables", n, "duration", time.Since(start))
	}
	return rep, nil
}

// IngestOption adjusts an ingest.
type IngestOption func(*ingestOrigin)

// WithLocation records where the files read came from: location maps a
// file's path to the location stored in the backstage.io/managed-by-location
// and managed-by-origin-location annotations of its entities, e.g. a file
// mirrored from a repository to "url:https://github.com/org/repo/blob/main/catalog-info.yaml".
// Without it they are "file:<path>".
func WithLocation(location func(path string) string) IngestOption {
	return func(o *ingestOrigin) { o.location = location }
}

// WithAnnotations adds annotations to every entity of the ingest that does
// not set them itself (e.g. github.com/project-slug for the entities of a
// repository, as Backstage's SCM processors add it).
func WithAnnotations(annotations map[string]string) IngestOption {
	return func(o *ingestOrigin) { o.annotations = annotations }
}

// WithConfinedTargets refuses Location targets that point outside the
// ingest's roots (absolute paths, ../, globs reaching out, symbolic links
// leading out): for sources whose files are not the operator's own, such as
// repositories mirrored from GitHub. A refused target is an error problem
// on its Location entity; the rest of the source is ingested.
func WithConfinedTargets() IngestOption {
	return func(o *ingestOrigin) { o.confine = true }
}

// step marks a point of an ingest for crash tests.
func (s *Store) step(name string) {
	if s.crash != nil {
		s.crash(name)
	}
}

// prepare runs on the parsing workers for each accepted document: it
// encodes, hashes and builds the journal pointer and the index document, so
// that the single consumer only routes them.
func (st *staging) prepare(d *Doc) {
	ref := d.Entity.Ref().String()
	body, err := json.Marshal(d.Entity)
	var ptr []byte
	if err == nil {
		h := fnv.New64a()
		h.Write(body)
		d.Body, d.Hash = body, h.Sum64()
		var warnings []Problem
		for _, p := range d.Problems {
			if p.Severity == SeverityWarning {
				warnings = append(warnings, p)
			}
		}
		ptr, err = (&pointer{Hash: d.Hash, Source: st.source, File: d.File, Line: d.Line, Edges: d.Edges, Warnings: warnings}).encode(ref)
	}
	if err != nil { // cannot happen for values built from YAML; report it anyway
		d.Problems = append(d.Problems, Problem{Severity: SeverityError, File: d.File, Line: d.Line, Column: d.Column,
			Entity: ref, Message: "cannot encode entity: " + err.Error()})
		d.Entity, d.Body = nil, nil
		return
	}
	d.ref, d.pointer = ref, ptr
	d.indexDoc = st.s.an.document(ref, d.Entity)
}

// staging accumulates one ingest's new entities in the journal and the index.
type staging struct {
	s        *Store
	id       string
	source   string
	old      map[string]srcEntry
	rep      *IngestReport
	seen     map[string]docPlace // ref → the accepted definition
	failed   map[string]bool     // files that could not be read or parsed
	rejected map[string]bool     // refs whose new version failed validation
	deleted  []string
	files    int

	bodies  []stagedBody // bodies of the entries, written after them
	entries []byte       // journal entries, for the journal file
	journal *os.File
	batch   *indexBatch
	pending int
	indexed int // documents handed to the index
	// Full batches go to the writer goroutine, which makes the journal
	// entries durable and then indexes the documents, overlapping the
	// parsing. Unbuffered, so that at most two batches are in memory.
	writer  chan stagedBatch
	done    chan error
	failing atomic.Bool // the writer has failed: stop early
}

type docPlace struct {
	file string
	line int
}

// stagedBatch is the journal entries, the staged bodies and the index
// batch of the same documents.
type stagedBatch struct {
	entries []byte
	bodies  []stagedBody
	index   *indexBatch
	last    bool
}

// stagedBody is a body to write under its content-addressed key.
type stagedBody struct {
	key, body []byte
}

func newStaging(s *Store, id, source string, old map[string]srcEntry, rep *IngestReport, journal *os.File) *staging {
	st := &staging{s: s, id: id, source: source, old: old, rep: rep, journal: journal,
		seen: make(map[string]docPlace, len(old)), failed: map[string]bool{}, rejected: map[string]bool{},
		batch:  s.index.NewBatch(),
		writer: make(chan stagedBatch), done: make(chan error, 1)}
	go func(batches <-chan stagedBatch, done chan<- error) {
		var err error
		for b := range batches {
			if err == nil {
				err = st.write(b)
				if err != nil {
					st.failing.Store(true)
				}
			}
		}
		done <- err
	}(st.writer, st.done)
	return st
}

// write appends the journal entries to the journal file, writes the
// staged bodies, then indexes the batch: a staged body or an index
// document never exists without its journal entry, which is what lets
// an undo find them. (The bodies are kept until then, not handed to a
// write batch as they come: a batch commits by itself whenever it is
// full.)
func (st *staging) write(b stagedBatch) error {
	if _, err := st.journal.Write(b.entries); err != nil {
		return fmt.Errorf("write journal: %w", err)
	}
	// Bleve syncs the index documents it writes: their entries must be on
	// disk first, or a power cut could leave documents no entry names.
	if err := st.journal.Sync(); err != nil {
		return fmt.Errorf("sync journal: %w", err)
	}
	st.s.step("journal-written")
	wb := st.s.db.NewWriteBatch()
	defer wb.Cancel()
	for _, sb := range b.bodies {
		if err := wb.Set(sb.key, sb.body); err != nil {
			return fmt.Errorf("write staged bodies: %w", err)
		}
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("write staged bodies: %w", err)
	}
	if !b.last {
		st.s.step("flushed")
	}
	if b.index.Size() > 0 {
		if err := st.s.index.Batch(b.index); err != nil {
			return fmt.Errorf("index: %w", err)
		}
		st.s.step("batch-indexed")
	}
	return nil
}

func (st *staging) closeWriter() error {
	if st.writer == nil {
		return nil
	}
	close(st.writer)
	st.writer = nil
	return <-st.done
}

func (st *staging) add(res *loadResult) error {
	st.files++
	st.rep.Problems = append(st.rep.Problems, res.Problems...)
	if res.Failed {
		st.failed[res.File] = true
	}
	for _, d := range res.Docs {
		st.rep.Problems = append(st.rep.Problems, d.Problems...)
		if d.Entity == nil {
			for _, p := range d.Problems {
				if p.Entity != "" {
					st.rejected[p.Entity] = true
				}
			}
			continue
		}
		ref := d.ref
		if prev, dup := st.seen[ref]; dup {
			st.rep.Problems = append(st.rep.Problems, Problem{Severity: SeverityError, File: d.File, Line: d.Line, Column: d.Column,
				Entity: ref, Message: fmt.Sprintf("entity is defined twice; the first definition at %s:%d is kept", prev.file, prev.line),
				Hint: "names are unique per kind and namespace, case-insensitively: rename or remove one"})
			continue
		}
		o, had := st.old[ref]
		// Only a ref in the catalog (the name index holds them all, and
		// changes only under ingestMu) can belong to another source.
		if !had && (st.s.names == nil || st.s.names.has(ref)) {
			if other, err := st.s.sourceOf(ref); err != nil {
				return err
			} else if other != "" {
				st.rep.Problems = append(st.rep.Problems, Problem{Severity: SeverityError, File: d.File, Line: d.Line, Column: d.Column,
					Entity: ref, Message: fmt.Sprintf("entity is already in the catalog from source %q; this definition is ignored", other),
					Hint: "remove one of the two definitions, or rename this entity"})
				continue
			}
		}
		st.seen[ref] = docPlace{file: d.File, line: d.Line}
		if had && o.Hash == d.Hash && o.File == d.File && o.Line == d.Line {
			st.rep.Unchanged++
			continue
		}
		if had {
			st.rep.Updated++
		} else {
			st.rep.Added++
		}
		st.bodies = append(st.bodies, stagedBody{bodyKey(ref, d.Hash), d.Body})
		st.entries = appendJournalEntry(st.entries, 'p', ref, d.pointer)
		if err := st.batch.IndexAdvanced(d.indexDoc); err != nil {
			return fmt.Errorf("index %s: %w", ref, err)
		}
		st.indexed++
		d.Body, d.pointer, d.indexDoc, d.Entity = nil, nil, nil, nil // let the parsed document go
		if st.pending++; st.pending >= st.s.batchSize {
			if err := st.flush(false); err != nil {
				return err
			}
		}
	}
	return nil
}

// stageDeletes journals the removal of the source's entities that the new
// files no longer define, keeping those whose file failed or whose new
// version was rejected.
func (st *staging) stageDeletes() error {
	for ref, o := range st.old {
		if _, ok := st.seen[ref]; ok {
			continue
		}
		if st.failed[o.File] || st.rejected[ref] {
			st.rep.Kept++
			continue
		}
		st.entries = appendJournalEntry(st.entries, 'd', ref, nil)
		st.deleted = append(st.deleted, ref)
		st.rep.Removed++
	}
	return nil
}

// flush hands the staged batch to the writer.
func (st *staging) flush(last bool) error {
	if st.failing.Load() {
		return errors.New("staging failed") // the writer's error is reported by closeWriter
	}
	st.writer <- stagedBatch{entries: st.entries, bodies: st.bodies, index: st.batch, last: last}
	st.entries = make([]byte, 0, cap(st.entries))
	st.bodies, st.batch = make([]stagedBody, 0, cap(st.bodies)), st.s.index.NewBatch()
	st.pending = 0
	return nil
}

func (s *Store) sourceEntries(source string) (map[string]srcEntry, error) {
	out := map[string]srcEntry{}
	prefix := srcPrefix(source)
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: false})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var e srcEntry
			if err := it.Item().Value(func(b []byte) (err error) { e, err = decodeSrcEntry(b); return err }); err != nil {
				return fmt.Errorf("read source index: %w", err)
			}
			out[string(it.Item().Key()[len(prefix):])] = e
		}
		return nil
	})
	return out, err
}

// sourceOf returns the source that provides ref, or "".
func (s *Store) sourceOf(ref string) (string, error) {
	var p pointer
	var found bool
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		p, found, err = getPointer(txn, ref, true)
		return err
	})
	if !found {
		return "", err
	}
	return p.Source, err
}

func (s *Store) putJournal(j journal) error {
	b, err := json.Marshal(j)
	if err != nil {
		return err
	}
	return s.db.Update(func(txn *badger.Txn) error { return txn.Set(journalKey(j.ID), b) })
}

// commitJournal is the commit point of an ingest: one small transaction,
// synced to disk.
func (s *Store) commitJournal(id string) error {
	err := s.db.Update(func(txn *badger.Txn) error {
		var j journal
		found, err := getJSON(txn, journalKey(id), &j)
		if err != nil || !found {
			return errors.Join(err, fmt.Errorf("journal %s vanished", id))
		}
		j.State = stateCommitted
		b, err := json.Marshal(j)
		if err != nil {
			return err
		}
		return txn.Set(journalKey(id), b)
	})
	if err != nil {
		return err
	}
	return s.syncStore()
}

// applyLocked applies a committed journal to the live keys while queries
// wait, then updates the name index. It returns the refs put and deleted.
func (s *Store) applyLocked(id string) (puts, dels []string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var live func(string) bool
	if s.names != nil {
		live = s.names.has
	}
	puts, dels, err = s.apply(id, live)
	s.summaries.clear() // even on error: some of the batch may be applied
	if err != nil {
		return nil, nil, err
	}
	if s.names != nil {
		for _, r := range dels {
			s.names.remove(r)
		}
		for _, r := range puts {
			s.names.add(r)
		}
	}
	return puts, dels, nil
}

// finishCommitted finishes the ingests that were committed but not
// finished (their apply or finish failed; the next Open would otherwise do
// it), so that a later ingest or a backup starts from the catalog they
// made. The caller holds ingestMu.
func (s *Store) finishCommitted() error {
	headers, _, err := s.journals()
	if err != nil {
		return err
	}
	for _, j := range headers {
		if j.State != stateCommitted {
			continue
		}
		s.log.Warn("finishing an ingest whose apply or finish failed", "source", j.Source, "journal", j.ID)
		if err := s.rollForward(j); err != nil {
			return fmt.Errorf("finish the ingest of source %q committed before (journal %s): %w "+
				"(until it is, ingests and backups cannot run: if this persists, restore a backup, or move the data directory away and ingest again)", j.Source, j.ID, err)
		}
	}
	return nil
}

// apply makes the journal's pointers live: for each ref it removes what the
// previous version produced (edges, body, source membership) and writes the
// new. It is idempotent, so recovery can run it again after a crash.
// live, when not nil, says which refs may have a live pointer (the name
// index); the others are not looked up.
func (s *Store) apply(id string, live func(ref string) bool) (puts, dels []string, err error) {
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	_, err = s.journalEntries(id, true, func(txn *badger.Txn, op byte, ref string, raw []byte) error {
		if op != 'p' && op != 'd' {
			return fmt.Errorf("journal entry of %s: unknown operation %q", ref, op)
		}
		var oldp pointer
		var had bool
		if live == nil || live(ref) {
			var err error
			if oldp, had, err = getPointer(txn, ref, true); err != nil {
				return fmt.Errorf("read %s: %w", ref, err)
			}
		}
		var newp pointer
		if op == 'p' {
			if err := decodePointer(ref, raw, &newp); err != nil {
				return fmt.Errorf("journal entry of %s: %w", ref, err)
			}
		}
		if had {
			for _, e := range oldp.Edges {
				if givenEdge(e, ref) {
					if err := wb.Delete(relKey(e)); err != nil {
						return err
					}
				}
			}
			if op == 'd' || oldp.Hash != newp.Hash {
				if err := wb.Delete(bodyKey(ref, oldp.Hash)); err != nil {
					return err
				}
			}
			if err := wb.Delete(srcKey(oldp.Source, ref)); err != nil {
				return err
			}
		}
		if op == 'd' {
			dels = append(dels, ref)
			return wb.Delete(entityKey(ref))
		}
		puts = append(puts, ref)
		if err := wb.Set(entityKey(ref), raw); err != nil {
			return err
		}
		for _, e := range newp.Edges {
			if givenEdge(e, ref) {
				if err := wb.Set(relKey(e), nil); err != nil {
					return err
				}
			}
		}
		se := srcEntry{Hash: newp.Hash, File: newp.File, Line: newp.Line}.encode()
		return wb.Set(srcKey(newp.Source, ref), se)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("apply journal %s: %w", id, err)
	}
	if err := wb.Flush(); err != nil {
		return nil, nil, fmt.Errorf("apply journal %s: %w", id, err)
	}
	return puts, dels, nil
}

// journalEntry splits a journal entry key into its operation and ref.
func journalEntry(k, prefix []byte) (op byte, ref string, ok bool) {
	rest := k[len(prefix):]
	if len(rest) < 3 || rest[1] != 0 || (rest[0] != 'p' && rest[0] != 'd') {
		return 0, "", false
	}
	return rest[0], string(rest[2:]), true
}

// finish removes the deleted refs from the index, stamps index and store with
// the next generation, records the source's report and drops the journal:
// its header, then its entries (a crash between leaves entries without a
// header, which the next Open removes).
func (s *Store) finish(id string, deleted []string, rep *IngestReport) (uint64, error) {
	var gen uint64
	if err := s.db.View(func(txn *badger.Txn) error {
		var err error
		gen, err = s.generation(txn)
		return err
	}); err != nil {
		return 0, err
	}
	gen++
	b := s.index.NewBatch()
	for _, ref := range deleted {
		b.Delete(ref)
	}
	b.SetInternal([]byte(internalGen), uvarint(gen))
	if err := s.index.Batch(b); err != nil {
		return 0, fmt.Errorf("update index: %w", err)
	}
	s.step("indexed")
	err := s.db.Update(func(txn *badger.Txn) error {
		if rep != nil {
			rep.Generation = gen
			r := *rep
			if len(r.Problems) > maxReportedProblems {
				r.Problems = r.Problems[:maxReportedProblems]
			}
			b, err := json.Marshal(r)
			if err != nil {
				return err
			}
			if err := txn.Set(sourceInfoKey(rep.Source), b); err != nil {
				return err
			}
		}
		if err := txn.Delete(journalKey(id)); err != nil {
			return err
		}
		return txn.Set(keyGen, uvarint(gen))
	})
	if err != nil {
		return 0, fmt.Errorf("finish ingest: %w", err)
	}
	// The apply and this transaction reach the disk before the entries go:
	// a power cut must not find the header committed and the file gone.
	if err := s.syncStore(); err != nil {
		return 0, fmt.Errorf("finish ingest: %w", err)
	}
	if err := s.removeJournal(id); err != nil {
		s.log.Warn("drop the journal's entries (the next start does)", "journal", id, "error", err)
	}
	return gen, nil
}

// deletePrefix deletes every key under prefix.
func (s *Store) deletePrefix(prefix []byte) error {
	return s.deleteKeys(func(del func(key []byte) error) error {
		return s.scan(prefix, func(_ *badger.Txn, item *badger.Item) error {
			return del(item.KeyCopy(nil))
		})
	})
}

// deleteKeys deletes, in one write batch, the keys list hands to del.
func (s *Store) deleteKeys(list func(del func(key []byte) error) error) error {
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	if err := list(wb.Delete); err != nil {
		return err
	}
	return wb.Flush()
}

// rollback undoes an uncommitted ingest: staged bodies that no pointer uses
// are deleted, the index is put back for every staged ref, and the journal
// goes. The journal's entries may end in a torn one, where a crash stopped
// the staging: what follows was never written, nor staged nor indexed.
//
// torn says the entries ended in a torn one. Entries are synced before
// their batch is indexed, so that is only where a crash cut the writer off
// before the batch's bodies and index documents, unless the file is
// damaged: recovery rebuilds the index then, to be sure.
func (s *Store) rollback(id string) (torn bool, err error) {
	var refs []string
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	torn, err = s.journalEntries(id, false, func(txn *badger.Txn, op byte, ref string, value []byte) error {
		refs = append(refs, ref)
		if op != 'p' {
			return nil
		}
		var staged pointer
		if err := decodePointer(ref, value, &staged); err != nil {
			return err
		}
		live, found, err := getPointer(txn, ref, false)
		if err != nil {
			return err
		}
		if !found || live.Hash != staged.Hash {
			return wb.Delete(bodyKey(ref, staged.Hash))
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	if err := wb.Flush(); err != nil {
		return false, err
	}
	if err := s.reindex(refs); err != nil {
		return false, err
	}
	return torn, s.dropJournal(id)
}

// dropJournal removes journal id: its entries, then its header.
func (s *Store) dropJournal(id string) error {
	if err := s.removeJournal(id); err != nil {
		return err
	}
	return s.db.Update(func(txn *badger.Txn) error { return txn.Delete(journalKey(id)) })
}

// reindex puts the index documents of refs in line with the store.
func (s *Store) reindex(refs []string) error {
	b := s.index.NewBatch()
	flush := func() error {
		if b.Size() == 0 {
			return nil
		}
		err := s.index.Batch(b)
		b = s.index.NewBatch()
		return err
	}
	for _, ref := range refs {
		e, err := s.readEntity(ref)
		switch {
		case errors.Is(err, ErrNotFound):
			b.Delete(ref)
		case err != nil:
			return err
		default:
			if err := b.IndexAdvanced(s.an.document(ref, e)); err != nil {
				return err
			}
		}
		if b.Size() >= indexBatchSize {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// readEntity reads the body of ref without relations.
func (s *Store) readEntity(ref string) (*Entity, error) {
	var e *Entity
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		e, _, err = reader{txn: txn}.entity(ref)
		return err
	})
	return e, err
}

// SourceReports returns the last ingest report of every source.
func (s *Store) SourceReports(ctx context.Context) ([]IngestReport, error) {
	var out []IngestReport
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: pfxSourceInfo, PrefetchValues: false})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			var r IngestReport
			if err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, &r) }); err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// DefaultSource names the source of an ingest of roots when none is given.
func DefaultSource(roots []string) string {
	return "file:" + strings.Join(roots, ",")
}

// scanChunk is the number of keys scan reads in one read transaction (a
// variable for tests).
var scanChunk = 4096

// scan calls fn for every key under prefix, in order, reading them in
// chunks of scanChunk keys, each in its own read transaction. A long scan
// that writes as it goes (apply, deletePrefix) would otherwise hold every
// table of the store from its start: the tables its writes make the
// compactions replace would stay memory-mapped (and resident) beside their
// replacements until the scan ends. fn must not keep item or its key.
//
// No iterator of the store prefetches values: Badger starts a goroutine per
// item to copy a prefetched value, and the values here are small enough to
// live in the tables (see badgerOptions; one over 512 KiB would go to the
// value log and be read when asked for), where reading one is a copy
// anyway. A scan of the 100k store's 577k keys and values took 0.28–0.44 s
// without prefetching against 0.58–0.90 s with it.
func (s *Store) scan(prefix []byte, fn func(txn *badger.Txn, item *badger.Item) error) error {
	from := prefix
	for {
		var last []byte
		n := 0
		err := s.db.View(func(txn *badger.Txn) error {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: false})
			defer it.Close()
			for it.Seek(from); it.Valid() && n < scanChunk; it.Next() {
				if err := fn(txn, it.Item()); err != nil {
					return err
				}
				n++
				last = it.Item().KeyCopy(last[:0])
			}
			return nil
		})
		if err != nil || n < scanChunk {
			return err
		}
		from = append(last, 0) // the next key after last
	}
}

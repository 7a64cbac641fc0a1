package catalog

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/document"
	"golang.org/x/sync/errgroup"
)

// DefaultIndexShards is the number of shards a new search index is split
// into. Entities are spread over the shards by a hash of their ref; a query
// runs on every shard at once and the hits are merged, so a query matching
// half the catalog scores its hits on all cores, and an ingest indexes its
// batches on all cores.
const DefaultIndexShards = 2

// maxIndexShards bounds Options.IndexShards.
const maxIndexShards = 16

// shardPrefix names the shard directories: index/shard-0, index/shard-1…
const shardPrefix = "shard-"

// shardedIndex is the search index: Bleve indexes, one per shard, searched
// together through an alias.
type shardedIndex struct {
	shards []bleve.Index
	alias  bleve.IndexAlias
	closed bool
}

// openShards opens the index at dir, creating it with n shards when absent
// (an existing index keeps its number of shards). created reports a new
// (empty) index, which the caller fills from the store. An index that does
// not open — damaged, or of the single-index layout of earlier versions —
// is derived data: it is removed and created anew.
func openShards(dir string, n int) (ix *shardedIndex, created bool, err error) {
	existing, err := shardDirs(dir)
	if err != nil {
		return nil, false, err
	}
	if len(existing) > 0 {
		ix = &shardedIndex{}
		for _, d := range existing {
			idx, err := bleve.Open(d)
			if err != nil {
				ix.Close()
				ix = nil
				break
			}
			ix.shards = append(ix.shards, idx)
		}
		if ix != nil {
			ix.alias = bleve.NewIndexAlias(ix.shards...)
			return ix, false, nil
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, false, fmt.Errorf("remove the search index %s: %w", dir, err)
	}
	m, err := indexMapping()
	if err != nil {
		return nil, false, err
	}
	ix = &shardedIndex{}
	for i := range n {
		idx, err := bleve.New(filepath.Join(dir, shardPrefix+strconv.Itoa(i)), m)
		if err != nil {
			ix.Close()
			return nil, false, fmt.Errorf("create the search index %s: %w", dir, err)
		}
		ix.shards = append(ix.shards, idx)
	}
	ix.alias = bleve.NewIndexAlias(ix.shards...)
	return ix, true, nil
}

// shardDirs lists the shard directories under dir in shard order; none when
// dir is absent or holds something else (an older layout).
func shardDirs(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the search index %s: %w", dir, err)
	}
	var nums []int
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), shardPrefix) {
			return nil, nil // not our layout: start again
		}
		i, err := strconv.Atoi(strings.TrimPrefix(e.Name(), shardPrefix))
		if err != nil || i < 0 {
			return nil, nil
		}
		nums = append(nums, i)
	}
	sort.Ints(nums)
	out := make([]string, len(nums))
	for i, n := range nums {
		if n != i {
			return nil, nil // a shard is missing
		}
		out[i] = filepath.Join(dir, shardPrefix+strconv.Itoa(n))
	}
	return out, nil
}

// shardOf is the shard holding ref.
func (ix *shardedIndex) shardOf(ref string) int {
	if len(ix.shards) == 1 {
		return 0
	}
	h := fnv.New32a()
	h.Write([]byte(ref))
	return int(h.Sum32() % uint32(len(ix.shards)))
}

// Close closes every shard; closing again does nothing.
func (ix *shardedIndex) Close() error {
	if ix.closed {
		return nil
	}
	ix.closed = true
	var errs []error
	for _, s := range ix.shards {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}

// SearchInContext runs req on every shard at once and merges the hits (and
// facets, and totals). A shard that fails fails the search, as one index
// would: a partial result would pass for a complete one.
func (ix *shardedIndex) SearchInContext(ctx context.Context, req *bleve.SearchRequest) (*bleve.SearchResult, error) {
	if len(ix.shards) == 1 {
		return ix.shards[0].SearchInContext(ctx, req)
	}
	res, err := ix.alias.SearchInContext(ctx, req)
	if err != nil {
		return nil, err
	}
	if res.Status != nil && res.Status.Failed > 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for _, e := range res.Status.Errors {
			return nil, e
		}
		return nil, errors.New("a shard of the search index failed")
	}
	return res, nil
}

// facetSize is how many values of a facet to ask each shard for, so that
// the merged counts of the top n are right: each shard's own top n would
// leave out values just below its cut, undercounting them in the sum.
func (ix *shardedIndex) facetSize(n int) int {
	if len(ix.shards) == 1 {
		return n
	}
	return max(n, 1000)
}

// DocCount is the number of documents of all shards.
func (ix *shardedIndex) DocCount() (uint64, error) {
	var n uint64
	for _, s := range ix.shards {
		c, err := s.DocCount()
		if err != nil {
			return 0, err
		}
		n += c
	}
	return n, nil
}

// GetInternal reads an internal value that every shard holds (the
// generation stamp); nil when the shards disagree, e.g. after a crash
// between two shards' batches, so that the caller sees a mismatch.
func (ix *shardedIndex) GetInternal(key []byte) ([]byte, error) {
	var first []byte
	for i, s := range ix.shards {
		v, err := s.GetInternal(key)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			first = v
		} else if string(v) != string(first) {
			return nil, nil
		}
	}
	return first, nil
}

// indexBatch is a batch of index changes split by shard.
type indexBatch struct {
	ix    *shardedIndex
	parts []*bleve.Batch
}

// NewBatch starts a batch.
func (ix *shardedIndex) NewBatch() *indexBatch {
	b := &indexBatch{ix: ix, parts: make([]*bleve.Batch, len(ix.shards))}
	for i, s := range ix.shards {
		b.parts[i] = s.NewBatch()
	}
	return b
}

// IndexAdvanced adds a prepared document to its shard's part.
func (b *indexBatch) IndexAdvanced(doc *document.Document) error {
	return b.parts[b.ix.shardOf(doc.ID())].IndexAdvanced(doc)
}

// Delete removes ref from its shard.
func (b *indexBatch) Delete(ref string) { b.parts[b.ix.shardOf(ref)].Delete(ref) }

// SetInternal sets an internal value on every shard.
func (b *indexBatch) SetInternal(key, val []byte) {
	for _, p := range b.parts {
		p.SetInternal(key, val)
	}
}

// Size is the number of changes in the batch.
func (b *indexBatch) Size() int {
	n := 0
	for _, p := range b.parts {
		n += p.Size()
	}
	return n
}

// Batch applies b, the shards in parallel.
func (ix *shardedIndex) Batch(b *indexBatch) error {
	if len(ix.shards) == 1 {
		return ix.shards[0].Batch(b.parts[0])
	}
	var g errgroup.Group
	for i, s := range ix.shards {
		if b.parts[i].Size() == 0 { // index and internal operations
			continue
		}
		g.Go(func() error { return s.Batch(b.parts[i]) })
	}
	return g.Wait()
}

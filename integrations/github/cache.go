package github

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// stateVersion is the version of the state file's format.
const stateVersion = 1

// stateFile is the file, in the mirror directory, that keeps the ETag
// cache and what was last ingested per repository across restarts. Org
// names cannot start with '.', so it never collides with a mirror.
const stateFile = ".github-state.json"

// cacheEntry is a GET response kept for conditional requests.
type cacheEntry struct {
	ETag        string `json:"etag"`
	ContentType string `json:"content_type,omitempty"`
	// Link is the pagination of a listing page, which a 304 need not
	// repeat.
	Link string `json:"link,omitempty"`
	Body []byte `json:"body"`
}

// etagCache is the conditional-request cache: URL (and Accept) → the last
// 200 response with an ETag. used records what the current sync touched,
// so that save can drop entries of repositories that went away.
type etagCache struct {
	mu      sync.Mutex
	entries map[string]*cacheEntry
	used    map[string]bool
}

func newETagCache() *etagCache {
	return &etagCache{entries: map[string]*cacheEntry{}, used: map[string]bool{}}
}

func (c *etagCache) get(key string) *cacheEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.used[key] = true
	return c.entries[key]
}

func (c *etagCache) put(key string, e *cacheEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries[key] = e
	c.used[key] = true
}

func (c *etagCache) drop(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, key)
}

// prune drops the entries not used since the last prune, except those of
// URLs under one of keep (e.g. https://api.github.com/repos/org/repo, which
// keeps that repository's entries), and returns the remaining ones to
// persist.
func (c *etagCache) prune(keep []string) map[string]*cacheEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]*cacheEntry, len(c.entries))
	for k, e := range c.entries {
		if c.used[k] || under(k, keep) {
			out[k] = e
		}
	}
	c.entries = out
	c.used = map[string]bool{}
	return out
}

// under reports whether the cache key (URL, space, Accept) is the URL of
// one of prefixes or below it.
func under(key string, prefixes []string) bool {
	for _, p := range prefixes {
		if rest, ok := strings.CutPrefix(key, p); ok && rest != "" && strings.ContainsRune("/ ?", rune(rest[0])) {
			return true
		}
	}
	return false
}

// cacheTransport makes GET requests conditional: it sends If-None-Match
// with the cached ETag and answers a 304 with the cached body as a 200
// (marked with cacheHeader), so that callers never see a 304.
type cacheTransport struct {
	base  http.RoundTripper
	cache *etagCache
}

func (t *cacheTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet {
		return t.base.RoundTrip(req)
	}
	key := req.URL.String() + " " + req.Header.Get("Accept")
	e := t.cache.get(key)
	if e != nil {
		req = req.Clone(req.Context())
		req.Header.Set("If-None-Match", e.ETag)
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	switch {
	case resp.StatusCode == http.StatusNotModified && e != nil:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		h := resp.Header.Clone()
		h.Set(cacheHeader, "revalidated")
		if e.ContentType != "" {
			h.Set("Content-Type", e.ContentType)
		}
		h.Del("Link")
		if e.Link != "" {
			h.Set("Link", e.Link)
		}
		h.Set("Content-Length", strconv.Itoa(len(e.Body)))
		return &http.Response{Status: "200 OK", StatusCode: http.StatusOK, Proto: resp.Proto, ProtoMajor: resp.ProtoMajor,
			ProtoMinor: resp.ProtoMinor, Header: h, Body: io.NopCloser(bytes.NewReader(e.Body)),
			ContentLength: int64(len(e.Body)), Request: resp.Request}, nil
	case resp.StatusCode == http.StatusOK && resp.Header.Get("ETag") != "":
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxCachedBody+1))
		if err != nil {
			resp.Body.Close()
			return nil, fmt.Errorf("read response: %w", err)
		}
		if len(body) > maxCachedBody {
			// Too large to keep: hand the rest through unread.
			resp.Body = struct {
				io.Reader
				io.Closer
			}{io.MultiReader(bytes.NewReader(body), resp.Body), resp.Body}
			return resp, nil
		}
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		t.cache.put(key, &cacheEntry{ETag: resp.Header.Get("ETag"), ContentType: resp.Header.Get("Content-Type"),
			Link: resp.Header.Get("Link"), Body: body})
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		t.cache.drop(key)
	}
	return resp, nil
}

// fromCache reports whether resp was served from the ETag cache.
func fromCache(resp *http.Response) bool {
	return resp != nil && resp.Header.Get(cacheHeader) != ""
}

// persisted is the state file.
type persisted struct {
	Version int `json:"version"`
	// Ingested maps a source (github:<org>/<repo>) to the digest of the
	// files last ingested for it.
	Ingested map[string]string      `json:"ingested"`
	Cache    map[string]*cacheEntry `json:"cache"`
}

// loadState reads the state file; a missing one is an empty state.
func loadState(path string) (*persisted, error) {
	st := &persisted{Version: stateVersion, Ingested: map[string]string{}, Cache: map[string]*cacheEntry{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	var in persisted
	if err := json.Unmarshal(b, &in); err != nil {
		return st, fmt.Errorf("decode %s: %w", path, err)
	}
	if in.Version != stateVersion {
		return st, fmt.Errorf("%s has version %d, want %d", path, in.Version, stateVersion)
	}
	if in.Ingested != nil {
		st.Ingested = in.Ingested
	}
	if in.Cache != nil {
		st.Cache = in.Cache
	}
	return st, nil
}

// saveState writes the state file atomically.
func saveState(path string, st *persisted) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return writeFileAtomic(path, b)
}

// writeFileAtomic writes data to a temporary file beside path and renames
// it into place, so a reader sees the old file or the new one.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o640)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return err
}

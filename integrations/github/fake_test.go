package github

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeGitHub is GitHub's REST API in memory, answering with the recorded
// shapes in testdata/ and honouring ETags, pagination and authentication.
type fakeGitHub struct {
	t      *testing.T
	srv    *httptest.Server
	prefix string // "" (github.com) or "/api/v3" (Enterprise)
	// pageSize is the fake's page size, smaller than per_page=100 so that
	// a few repositories span pages.
	pageSize int

	mu    sync.Mutex
	token string // the bearer token required ("" accepts any)
	orgs  map[string][]*fakeRepo
	users map[string][]*fakeRepo
	// hook, when set, may answer a request itself (return true).
	hook func(w http.ResponseWriter, r *http.Request) bool
	seen []seenRequest
}

// fakeRepo is one repository of the fake.
type fakeRepo struct {
	owner, name string
	archived    bool
	disabled    bool
	fork        bool
	// renamedFrom is the repository's former name: GitHub answers a
	// request naming it with a 301 to the new name.
	renamedFrom string
	// unlisted leaves the repository out of the listings, as a listing
	// shifted by a deletion between its pages does; it is still there.
	unlisted   bool
	license    string // SPDX id; "" none
	protected  bool
	lastCommit time.Time
	files      map[string]string
	// contents, when set for a path, is the raw body served for it.
	contents map[string]string
	// failStatus, when set, is the status of every contents request.
	failStatus int
}

type seenRequest struct {
	Method, Path, Query, IfNoneMatch, Auth string
	Status                                 int
}

func newFake(t *testing.T, prefix string) *fakeGitHub {
	t.Helper()
	f := &fakeGitHub{t: t, prefix: prefix, pageSize: 2, orgs: map[string][]*fakeRepo{}, users: map[string][]*fakeRepo{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// baseURL is the API base the Source is configured with.
func (f *fakeGitHub) baseURL() string { return f.srv.URL + f.prefix + "/" }

// htmlURL is the web address of a repository (GitHub's html_url).
func (f *fakeGitHub) htmlURL(owner, name string) string { return f.srv.URL + "/" + owner + "/" + name }

func (f *fakeGitHub) addOrgRepo(r *fakeRepo) *fakeRepo {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.orgs[r.owner] = append(f.orgs[r.owner], r)
	return r
}

func (f *fakeGitHub) addUserRepo(r *fakeRepo) *fakeRepo {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users[r.owner] = append(f.users[r.owner], r)
	return r
}

// update changes the fake's state under its lock.
func (f *fakeGitHub) update(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn()
}

func (f *fakeGitHub) setHook(h func(w http.ResponseWriter, r *http.Request) bool) {
	f.update(func() { f.hook = h })
}

// requests returns the requests seen so far and forgets them.
func (f *fakeGitHub) requests() []seenRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.seen
	f.seen = nil
	return out
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (f *fakeGitHub) serve(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	f.mu.Lock()
	hook, token := f.hook, f.token
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.seen = append(f.seen, seenRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
			IfNoneMatch: r.Header.Get("If-None-Match"), Auth: r.Header.Get("Authorization"), Status: rec.status})
		f.mu.Unlock()
	}()
	w = rec
	w.Header().Set("X-RateLimit-Limit", "5000")
	w.Header().Set("X-RateLimit-Remaining", "4321")
	w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
	if hook != nil && hook(w, r) {
		return
	}
	p, ok := strings.CutPrefix(r.URL.Path, f.prefix+"/")
	if !ok {
		f.error(w, http.StatusNotFound, "not_found.json")
		return
	}
	if token != "" && r.Header.Get("Authorization") != "Bearer "+token {
		f.error(w, http.StatusUnauthorized, "bad_credentials.json")
		return
	}
	parts := strings.Split(p, "/")
	switch {
	case r.Method == http.MethodGet && len(parts) == 3 && parts[0] == "orgs" && parts[2] == "repos":
		f.listRepos(w, r, f.orgs, parts[1])
	case r.Method == http.MethodGet && len(parts) == 3 && parts[0] == "users" && parts[2] == "repos":
		f.listRepos(w, r, f.users, parts[1])
	case r.Method == http.MethodGet && len(parts) == 2 && parts[0] == "orgs":
		f.owner(w, f.orgs, parts[1], "org.json")
	case r.Method == http.MethodGet && len(parts) == 2 && parts[0] == "users":
		f.owner(w, f.users, parts[1], "user.json")
	case r.Method == http.MethodGet && len(parts) >= 3 && parts[0] == "repos":
		repo := f.repo(parts[1], parts[2])
		if repo == nil {
			if moved := f.renamed(parts[1], parts[2]); moved != nil {
				parts[2] = moved.name
				http.Redirect(w, r, f.prefix+"/"+strings.Join(parts, "/"), http.StatusMovedPermanently)
				return
			}
			f.error(w, http.StatusNotFound, "not_found.json")
			return
		}
		switch {
		case len(parts) == 3:
			f.reply(w, r, f.repoJSON(repo))
		case parts[3] == "contents":
			f.contents(w, r, repo, strings.Join(parts[4:], "/"))
		case parts[3] == "readme" && len(parts) == 4:
			f.readme(w, r, repo)
		case parts[3] == "branches" && len(parts) >= 5:
			f.branch(w, r, repo, strings.Join(parts[4:], "/"))
		default:
			f.error(w, http.StatusNotFound, "not_found.json")
		}
	default:
		f.error(w, http.StatusNotFound, "not_found.json")
	}
}

// fixture reads a testdata JSON file into a generic value.
func fixture(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

func (f *fakeGitHub) error(w http.ResponseWriter, status int, name string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	b, _ := os.ReadFile(filepath.Join("testdata", name))
	_, _ = w.Write(b)
}

// reply writes v as JSON with an ETag, or 304 when the client has it.
func (f *fakeGitHub) reply(w http.ResponseWriter, r *http.Request, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		f.t.Error(err)
	}
	f.replyRaw(w, r, b)
}

func (f *fakeGitHub) replyRaw(w http.ResponseWriter, r *http.Request, b []byte) {
	sum := sha1.Sum(b)
	etag := `W/"` + hex.EncodeToString(sum[:]) + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "private, max-age=60, s-maxage=60")
	w.Header().Set("Vary", "Accept, Authorization, Cookie, X-GitHub-OTP")
	if r.Header.Get("If-None-Match") == etag {
		w.Header().Del("Link") // the client must remember the pagination
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(b)
}

func (f *fakeGitHub) repo(owner, name string) *fakeRepo {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range []map[string][]*fakeRepo{f.orgs, f.users} {
		for _, r := range m[owner] {
			if strings.EqualFold(r.name, name) {
				return r
			}
		}
	}
	return nil
}

// renamed returns the repository formerly called owner/name.
func (f *fakeGitHub) renamed(owner, name string) *fakeRepo {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range []map[string][]*fakeRepo{f.orgs, f.users} {
		for _, r := range m[owner] {
			if r.renamedFrom != "" && strings.EqualFold(r.renamedFrom, name) {
				return r
			}
		}
	}
	return nil
}

func (f *fakeGitHub) owner(w http.ResponseWriter, m map[string][]*fakeRepo, name, tmpl string) {
	f.mu.Lock()
	_, ok := m[name]
	f.mu.Unlock()
	if !ok {
		f.error(w, http.StatusNotFound, "not_found.json")
		return
	}
	v := fixture(f.t, tmpl)
	v["login"] = name
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(b)
}

func (f *fakeGitHub) listRepos(w http.ResponseWriter, r *http.Request, m map[string][]*fakeRepo, owner string) {
	f.mu.Lock()
	all, ok := m[owner]
	var repos []*fakeRepo
	for _, r := range all {
		if !r.unlisted {
			repos = append(repos, r)
		}
	}
	f.mu.Unlock()
	if !ok {
		f.error(w, http.StatusNotFound, "not_found.json")
		return
	}
	if pp := r.URL.Query().Get("per_page"); pp != "100" {
		f.t.Errorf("%s: per_page=%q, want 100", r.URL.Path, pp)
	}
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	page = max(page, 1)
	last := max((len(repos)+f.pageSize-1)/f.pageSize, 1)
	link := func(n int) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(n))
		return fmt.Sprintf("<%s%s?%s>", f.srv.URL, r.URL.Path, q.Encode())
	}
	var links []string
	if page < last {
		links = append(links, link(page+1)+`; rel="next"`, link(last)+`; rel="last"`)
	}
	if page > 1 {
		links = append(links, link(1)+`; rel="first"`, link(page-1)+`; rel="prev"`)
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	out := []any{}
	for i := (page - 1) * f.pageSize; i < min(page*f.pageSize, len(repos)); i++ {
		out = append(out, f.repoJSON(repos[i]))
	}
	f.reply(w, r, out)
}

func (f *fakeGitHub) repoJSON(r *fakeRepo) map[string]any {
	v := fixture(f.t, "repo.json")
	api := f.srv.URL + f.prefix + "/repos/" + r.owner + "/" + r.name
	v["name"], v["full_name"] = r.name, r.owner+"/"+r.name
	v["html_url"], v["url"] = f.htmlURL(r.owner, r.name), api
	v["contents_url"] = api + "/contents/{+path}"
	v["default_branch"] = "main"
	v["archived"], v["disabled"], v["fork"] = r.archived, r.disabled, r.fork
	owner := v["owner"].(map[string]any)
	owner["login"] = r.owner
	if r.license == "" {
		v["license"] = nil
	} else {
		lic := v["license"].(map[string]any)
		lic["spdx_id"], lic["key"] = r.license, strings.ToLower(r.license)
	}
	return v
}

// encodeContent is GitHub's base64 with a line break every 60 characters.
func encodeContent(s string) string {
	b := base64.StdEncoding.EncodeToString([]byte(s))
	var lines []string
	for len(b) > 60 {
		lines = append(lines, b[:60])
		b = b[60:]
	}
	return strings.Join(append(lines, b), "\n") + "\n"
}

func (f *fakeGitHub) contentJSON(r *fakeRepo, p, content string) map[string]any {
	v := fixture(f.t, "content.json")
	sum := sha1.Sum([]byte(content))
	api := f.srv.URL + f.prefix + "/repos/" + r.owner + "/" + r.name + "/contents/" + p
	v["name"], v["path"], v["sha"], v["size"] = path.Base(p), p, hex.EncodeToString(sum[:]), len(content)
	v["content"], v["url"] = encodeContent(content), api
	v["html_url"] = f.htmlURL(r.owner, r.name) + "/blob/main/" + p
	return v
}

func (f *fakeGitHub) contents(w http.ResponseWriter, r *http.Request, repo *fakeRepo, p string) {
	f.mu.Lock()
	fail, raw, hasRaw := repo.failStatus, "", false
	if repo.contents != nil {
		raw, hasRaw = repo.contents[p]
	}
	content, isFile := repo.files[p]
	var entries []string
	for name := range repo.files {
		if dir := path.Dir(name); dir == p {
			entries = append(entries, name)
		}
	}
	f.mu.Unlock()
	switch {
	case fail != 0:
		f.error(w, fail, "server_error.json")
	case hasRaw:
		f.replyRaw(w, r, []byte(raw))
	case isFile:
		f.reply(w, r, f.contentJSON(repo, p, content))
	case len(entries) > 0:
		sort.Strings(entries)
		out := []any{}
		for _, name := range entries {
			e := fixture(f.t, "dir_entry.json")
			e["name"], e["path"] = path.Base(name), name
			out = append(out, e)
		}
		f.reply(w, r, out)
	default:
		f.error(w, http.StatusNotFound, "not_found.json")
	}
}

func (f *fakeGitHub) readme(w http.ResponseWriter, r *http.Request, repo *fakeRepo) {
	f.mu.Lock()
	content, ok := repo.files["README.md"]
	f.mu.Unlock()
	if !ok {
		f.error(w, http.StatusNotFound, "not_found.json")
		return
	}
	f.reply(w, r, f.contentJSON(repo, "README.md", content))
}

func (f *fakeGitHub) branch(w http.ResponseWriter, r *http.Request, repo *fakeRepo, name string) {
	if name != "main" {
		f.error(w, http.StatusNotFound, "not_found.json")
		return
	}
	f.mu.Lock()
	protected, last := repo.protected, repo.lastCommit
	f.mu.Unlock()
	v := fixture(f.t, "branch.json")
	v["protected"] = protected
	commit := v["commit"].(map[string]any)["commit"].(map[string]any)
	for _, who := range []string{"author", "committer"} {
		commit[who].(map[string]any)["date"] = last.UTC().Format(time.RFC3339)
	}
	f.reply(w, r, v)
}

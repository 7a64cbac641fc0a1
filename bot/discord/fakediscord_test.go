package discord

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorded is one request the fake Discord API received.
type recorded struct {
	Method string
	Path   string
	Auth   string
	Body   []byte
}

// fakeDiscord speaks the part of Discord's REST API idpbot uses:
// application commands (global and guild: GET, POST, PATCH, PUT), the
// interaction callback, and the interaction webhook (PATCH @original,
// POST follow-up). It records every request, and can answer the next
// requests of a route with an error status.
type fakeDiscord struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	commands map[string][]json.RawMessage // scope ("global" or guild id) → commands
	nextID   int
	log      []recorded
	failures map[string][]int // "METHOD route-kind" → statuses to answer first
	// got receives every request, for tests that wait for one.
	got chan recorded
	// channel messages posted with the bot token, oldest first
	channelMsgs map[string][]map[string]any
}

// postChannel keeps a channel message and answers it with a new id.
func (f *fakeDiscord) postChannel(w http.ResponseWriter, r *http.Request) {
	if !f.authorized(w, r) {
		return
	}
	var m map[string]any
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		if err := r.ParseMultipartForm(10 << 20); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if err := json.Unmarshal([]byte(r.FormValue("payload_json")), &m); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		sizes := []int64{}
		for i := 0; ; i++ {
			fh := r.MultipartForm.File[fmt.Sprintf("files[%d]", i)]
			if len(fh) == 0 {
				break
			}
			sizes = append(sizes, fh[0].Size)
		}
		m["_file_sizes"] = sizes
	} else if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.nextID++
	m["id"] = fmt.Sprint(f.nextID)
	if f.channelMsgs == nil {
		f.channelMsgs = map[string][]map[string]any{}
	}
	ch := r.PathValue("channel")
	f.channelMsgs[ch] = append(f.channelMsgs[ch], m)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"id": m["id"], "type": 0})
}

// listChannel answers GET messages?after=: the messages after that id,
// newest first, as Discord does.
func (f *fakeDiscord) listChannel(w http.ResponseWriter, r *http.Request) {
	if !f.authorized(w, r) {
		return
	}
	f.mu.Lock()
	msgs := f.channelMsgs[r.PathValue("channel")]
	out := []map[string]any{}
	for i := len(msgs) - 1; i >= 0; i-- {
		out = append(out, msgs[i])
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

func newFakeDiscord(t *testing.T) *fakeDiscord {
	t.Helper()
	f := &fakeDiscord{t: t, commands: map[string][]json.RawMessage{}, nextID: 1300000000000000000, failures: map[string][]int{}, got: make(chan recorded, 100)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v10/applications/{app}/commands", f.listCommands)
	mux.HandleFunc("GET /api/v10/applications/{app}/guilds/{guild}/commands", f.listCommands)
	mux.HandleFunc("POST /api/v10/applications/{app}/commands", f.createCommand)
	mux.HandleFunc("POST /api/v10/applications/{app}/guilds/{guild}/commands", f.createCommand)
	mux.HandleFunc("PATCH /api/v10/applications/{app}/commands/{id}", f.editCommand)
	mux.HandleFunc("PATCH /api/v10/applications/{app}/guilds/{guild}/commands/{id}", f.editCommand)
	mux.HandleFunc("PUT /api/v10/applications/{app}/commands", f.overwriteCommands)
	mux.HandleFunc("PUT /api/v10/applications/{app}/guilds/{guild}/commands", f.overwriteCommands)
	mux.HandleFunc("POST /api/v10/interactions/{id}/{token}/callback", f.ok(http.StatusNoContent, "callback"))
	mux.HandleFunc("PATCH /api/v10/webhooks/{app}/{token}/messages/@original", f.ok(http.StatusOK, "edit"))
	mux.HandleFunc("POST /api/v10/webhooks/{app}/{token}", f.ok(http.StatusOK, "followup"))
	mux.HandleFunc("GET /api/v10/gateway/bot", f.ok(http.StatusOK, "gateway"))
	mux.HandleFunc("POST /api/v10/channels/{channel}/messages", f.postChannel)
	mux.HandleFunc("GET /api/v10/channels/{channel}/messages", f.listChannel)
	mux.HandleFunc("PATCH /api/v10/channels/{channel}/messages/{message}", f.ok(http.StatusOK, "channel-edit"))
	f.srv = httptest.NewServer(f.record(mux))
	t.Cleanup(f.srv.Close)
	return f
}

// URL is the REST base to configure (Config.APIURL).
func (f *fakeDiscord) URL() string { return f.srv.URL + "/api/v10" }

// fail makes the next requests of kind answer with these statuses.
func (f *fakeDiscord) fail(kind string, statuses ...int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures[kind] = append(f.failures[kind], statuses...)
}

func (f *fakeDiscord) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rec := recorded{Method: r.Method, Path: r.URL.Path, Auth: r.Header.Get("Authorization"), Body: body}
		f.mu.Lock()
		f.log = append(f.log, rec)
		f.mu.Unlock()
		select {
		case f.got <- rec:
		default:
			f.t.Errorf("fake discord: too many requests unread")
		}
		multipart := strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data")
		if len(body) > 0 && !multipart && !json.Valid(body) {
			http.Error(w, `{"code":50109,"message":"The request body contains invalid JSON."}`, http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

// failed answers with a queued error status, if any for kind.
func (f *fakeDiscord) failed(w http.ResponseWriter, kind string) bool {
	f.mu.Lock()
	q := f.failures[kind]
	if len(q) == 0 {
		f.mu.Unlock()
		return false
	}
	status := q[0]
	f.failures[kind] = q[1:]
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(status)
		fmt.Fprint(w, `{"message":"You are being rate limited.","retry_after":0.0,"global":false}`)
		return true
	}
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"code":0,"message":"%s"}`, http.StatusText(status))
	return true
}

func (f *fakeDiscord) ok(status int, kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if f.failed(w, kind) {
			return
		}
		if status == http.StatusNoContent {
			w.WriteHeader(status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		if kind == "gateway" {
			fmt.Fprint(w, `{"url":"wss://gateway.invalid","shards":1}`)
			return
		}
		fmt.Fprint(w, `{"id":"1300000000000000500","type":0,"content":""}`)
	}
}

func scope(r *http.Request) string {
	if g := r.PathValue("guild"); g != "" {
		return g
	}
	return "global"
}

func (f *fakeDiscord) authorized(w http.ResponseWriter, r *http.Request) bool {
	if r.Header.Get("Authorization") != "Bot "+testBotToken {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"message":"401: Unauthorized","code":0}`)
		return false
	}
	return !f.failed(w, "commands")
}

func (f *fakeDiscord) listCommands(w http.ResponseWriter, r *http.Request) {
	if !f.authorized(w, r) {
		return
	}
	f.mu.Lock()
	cmds := f.commands[scope(r)]
	if cmds == nil {
		cmds = []json.RawMessage{}
	}
	b, _ := json.Marshal(cmds)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

// stored is a command as Discord keeps it: with an id and its own
// defaults spelled out.
func (f *fakeDiscord) stored(body []byte, id string) (json.RawMessage, error) {
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	m["id"], m["application_id"], m["version"] = id, testAppID, "1"
	if _, ok := m["type"]; !ok {
		m["type"] = 1
	}
	m["default_member_permissions"], m["nsfw"] = nil, false
	return json.Marshal(m)
}

func (f *fakeDiscord) createCommand(w http.ResponseWriter, r *http.Request) {
	if !f.authorized(w, r) {
		return
	}
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.nextID++
	id := strconv.Itoa(f.nextID)
	c, err := f.stored(body, id)
	if err == nil {
		f.commands[scope(r)] = append(f.commands[scope(r)], c)
	}
	f.mu.Unlock()
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(c)
}

func (f *fakeDiscord) editCommand(w http.ResponseWriter, r *http.Request) {
	if !f.authorized(w, r) {
		return
	}
	body, _ := io.ReadAll(r.Body)
	id := r.PathValue("id")
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, raw := range f.commands[scope(r)] {
		var have struct{ ID string }
		_ = json.Unmarshal(raw, &have)
		if have.ID == id {
			c, err := f.stored(body, id)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			f.commands[scope(r)][i] = c
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(c)
			return
		}
	}
	http.Error(w, `{"message":"Unknown application command","code":10063}`, http.StatusNotFound)
}

func (f *fakeDiscord) overwriteCommands(w http.ResponseWriter, r *http.Request) {
	if !f.authorized(w, r) {
		return
	}
	body, _ := io.ReadAll(r.Body)
	var cmds []json.RawMessage
	if err := json.Unmarshal(body, &cmds); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.commands[scope(r)] = nil
	for _, c := range cmds {
		f.nextID++
		s, err := f.stored(c, strconv.Itoa(f.nextID))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.commands[scope(r)] = append(f.commands[scope(r)], s)
	}
	w.Header().Set("Content-Type", "application/json")
	b, _ := json.Marshal(f.commands[scope(r)])
	_, _ = w.Write(b)
}

// requests returns what the fake API has received so far.
func (f *fakeDiscord) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.log...)
}

// next waits for the next request the fake API receives.
func (f *fakeDiscord) next(t *testing.T) recorded {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	select {
	case r := <-f.got:
		return r
	case <-ctx.Done():
		t.Fatal("fake discord: no request came")
		return recorded{}
	}
}

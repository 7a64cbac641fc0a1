package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack/slacktest"

	"github.com/idpbot/idpbot/bot"
	"github.com/idpbot/idpbot/bot/bottest"
	"github.com/idpbot/idpbot/bot/discord"
	"github.com/idpbot/idpbot/bot/slack"
	"github.com/idpbot/idpbot/catalog"
	"github.com/idpbot/idpbot/scoring"
)

// slackWorkspace is a slacktest server that keeps the messages posted with
// chat.postMessage, their metadata included, and serves them back from
// conversations.history, as Slack does.
type slackWorkspace struct {
	*slacktest.Server
	mu      sync.Mutex
	posts   map[string][]map[string]any // channel → messages, oldest first
	seq     int
	uploads map[string]int // file id → bytes uploaded
	// posted gets the blocks of every chat.postMessage (when nobody
	// reads, the oldest are dropped).
	posted chan string
	shared []sharedFile
}

type sharedFile struct{ id, channel, thread string }

func newSlackWorkspace(t *testing.T) *slackWorkspace {
	t.Helper()
	ws := &slackWorkspace{posts: map[string][]map[string]any{}, uploads: map[string]int{}, posted: make(chan string, 64)}
	ws.Server = slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/chat.postMessage", func(w http.ResponseWriter, r *http.Request) {
			r.ParseForm()
			ch := r.FormValue("channel")
			var md map[string]any
			if m := r.FormValue("metadata"); m != "" {
				json.Unmarshal([]byte(m), &md)
			}
			ws.mu.Lock()
			ws.seq++
			ts := fmt.Sprintf("%d.%06d", time.Now().Unix(), ws.seq)
			ws.posts[ch] = append(ws.posts[ch], map[string]any{"type": "message", "ts": ts, "text": r.FormValue("text"), "metadata": md, "blocks": json.RawMessage(orEmptyList(r.FormValue("blocks")))})
			ws.mu.Unlock()
			select {
			case ws.posted <- r.FormValue("blocks"):
			default:
			}
			json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": ch, "ts": ts})
		})
		c.Handle("/files.getUploadURLExternal", func(w http.ResponseWriter, r *http.Request) {
			r.ParseForm()
			ws.mu.Lock()
			ws.seq++
			id := fmt.Sprintf("F%06d", ws.seq)
			ws.mu.Unlock()
			json.NewEncoder(w).Encode(map[string]any{"ok": true, "file_id": id, "upload_url": ws.GetAPIURL() + "upload/" + id})
		})
		c.Handle("/upload/", func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			ws.mu.Lock()
			ws.uploads[strings.TrimPrefix(r.URL.Path, "/upload/")] = len(body)
			ws.mu.Unlock()
			w.Write([]byte("OK"))
		})
		c.Handle("/files.completeUploadExternal", func(w http.ResponseWriter, r *http.Request) {
			r.ParseForm()
			var files []map[string]any
			json.Unmarshal([]byte(r.FormValue("files")), &files)
			ws.mu.Lock()
			for _, f := range files {
				ws.shared = append(ws.shared, sharedFile{id: fmt.Sprint(f["id"]), channel: r.FormValue("channel_id"), thread: r.FormValue("thread_ts")})
			}
			ws.mu.Unlock()
			json.NewEncoder(w).Encode(map[string]any{"ok": true, "files": files})
		})
		c.Handle("/conversations.history", func(w http.ResponseWriter, r *http.Request) {
			r.ParseForm()
			ws.mu.Lock()
			msgs := ws.posts[r.FormValue("channel")]
			out := make([]map[string]any, 0, len(msgs))
			for i := len(msgs) - 1; i >= 0; i-- { // newest first
				m := msgs[i]
				if r.FormValue("include_all_metadata") != "1" {
					m = map[string]any{"type": m["type"], "ts": m["ts"], "text": m["text"]}
				}
				out = append(out, m)
			}
			ws.mu.Unlock()
			json.NewEncoder(w).Encode(map[string]any{"ok": true, "messages": out, "has_more": false})
		})
	})
	ws.Start()
	t.Cleanup(ws.Stop)
	return ws
}

// counts is how many messages carry each metadata key.
func (ws *slackWorkspace) counts() map[string]int {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	out := map[string]int{}
	for _, msgs := range ws.posts {
		for _, m := range msgs {
			if md, ok := m["metadata"].(map[string]any); ok {
				if p, ok := md["event_payload"].(map[string]any); ok {
					out[fmt.Sprint(p["key"])]++
				}
			}
		}
	}
	return out
}

// crashAt stops the "process" (cancels its context) at the n-th post:
// before posting it, or after posting it but before the post is recorded.
type crashAt struct {
	scoring.Poster
	n      int
	after  bool
	cancel context.CancelFunc
	mu     sync.Mutex
	seen   int
}

func (c *crashAt) Post(ctx context.Context, p *scoring.Post) error {
	c.mu.Lock()
	c.seen++
	hit := c.seen == c.n
	c.mu.Unlock()
	if hit && !c.after {
		c.cancel()
		return context.Canceled
	}
	err := c.Poster.Post(ctx, p)
	if hit {
		c.cancel()
	}
	return err
}

type weeklyRig struct {
	t     *testing.T
	dir   string
	ws    *slackWorkspace
	cards []*scoring.Scorecard
	now   time.Time
}

// run is one life of the process: open the data directory, run the weekly
// job (with poster wrapping the Slack poster, if set), close.
func (r *weeklyRig) run(wrap func(scoring.Poster, context.CancelFunc) scoring.Poster) error {
	r.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store, err := catalog.Open(context.Background(), r.dir, catalog.Options{})
	if err != nil {
		r.t.Fatal(err)
	}
	defer store.Close()
	router := bottest.Router(r.t, store, bot.Config{})
	fd, err := slack.New(slack.Config{BotToken: "xoxb-weekly", SigningSecret: "s", APIURL: r.ws.GetAPIURL()}, router, nil)
	if err != nil {
		r.t.Fatal(err)
	}
	var poster scoring.Poster = slackPoster{fd: fd}
	if wrap != nil {
		poster = wrap(poster, cancel)
	}
	hstate, _ := store.State("scores")
	pstate, _ := store.State("leaderboards")
	hist := scoring.NewHistory(hstate, time.UTC)
	w := scoring.NewWeekly(scoring.NewEvaluator(r.cards, store, nil), hist, pstate, store,
		map[string]scoring.Poster{"slack": poster},
		scoring.WeeklyConfig{Fallback: []scoring.Channel{{Platform: "slack", ID: "CFALLBACK"}}, Global: []scoring.Channel{{Platform: "slack", ID: "CGLOBAL"}}}, nil)
	w.SetClock(func() time.Time { return r.now })
	return w.Run(ctx)
}

func newWeeklyRig(t *testing.T) *weeklyRig {
	t.Helper()
	dir := t.TempDir()
	ctx := context.Background()
	store, err := catalog.Open(ctx, dir, catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Ingest(ctx, "examples", []string{exampleCatalog}); err != nil {
		t.Fatal(err)
	}
	store.Close()
	cards, problems, err := scoring.Load([]string{filepath.Join("..", "..", "deploy", "examples", "scorecards")})
	if err != nil || len(problems) > 0 {
		t.Fatal(err, problems)
	}
	return &weeklyRig{t: t, dir: dir, ws: newSlackWorkspace(t), cards: cards, now: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)}
}

func TestWeeklyLeaderboardsArePostedExactlyOnce(t *testing.T) {
	// A run without crashes tells how many posts a week makes.
	clean := newWeeklyRig(t)
	if err := clean.run(nil); err != nil {
		t.Fatal(err)
	}
	want := clean.ws.counts()
	if len(want) < 8 {
		t.Fatalf("a week made %d posts; want the global boards and a post per team and scorecard", len(want))
	}
	for k, n := range want {
		if n != 1 {
			t.Fatalf("clean run posted %s %d times", k, n)
		}
	}
	if err := clean.run(nil); err != nil {
		t.Fatal(err)
	}
	for k, n := range clean.ws.counts() {
		if n != 1 {
			t.Errorf("a second run in the same week posted %s again (%d)", k, n)
		}
	}

	// Stop the process before and after each of the first posts, restart,
	// and check every channel got each post once.
	for _, n := range []int{1, 2, 5, len(want)} {
		for _, after := range []bool{false, true} {
			t.Run(fmt.Sprintf("stop %s post %d", map[bool]string{false: "before", true: "after"}[after], n), func(t *testing.T) {
				r := newWeeklyRig(t)
				err := r.run(func(p scoring.Poster, cancel context.CancelFunc) scoring.Poster {
					return &crashAt{Poster: p, n: n, after: after, cancel: cancel}
				})
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("the stopped run returned %v, want context.Canceled", err)
				}
				if err := r.run(nil); err != nil {
					t.Fatalf("restart: %v", err)
				}
				got := r.ws.counts()
				for k := range want {
					if got[k] != 1 {
						t.Errorf("%s posted %d times", k, got[k])
					}
				}
				if len(got) != len(want) {
					t.Errorf("%d distinct posts, want %d", len(got), len(want))
				}
			})
		}
	}
}

func TestWeeklyNextWeekShowsChanges(t *testing.T) {
	r := newWeeklyRig(t)
	if err := r.run(nil); err != nil {
		t.Fatal(err)
	}
	r.now = r.now.AddDate(0, 0, 7)
	if err := r.run(nil); err != nil {
		t.Fatal(err)
	}
	r.ws.mu.Lock()
	defer r.ws.mu.Unlock()
	pay := r.ws.posts["C04PAYMENTS"]
	if len(pay) != 4 { // two scorecards, two weeks
		t.Fatalf("payments channel got %d posts, want 4", len(pay))
	}
	// Each post has its chart in its thread.
	charts := 0
	for _, f := range r.ws.shared {
		if f.channel == "C04PAYMENTS" {
			charts++
			if r.ws.uploads[f.id] < 1000 {
				t.Errorf("chart %s has %d bytes", f.id, r.ws.uploads[f.id])
			}
			found := false
			for _, m := range pay {
				found = found || m["ts"] == f.thread
			}
			if !found {
				t.Errorf("chart %s is not in the thread of a leaderboard post (thread %q)", f.id, f.thread)
			}
		}
	}
	if charts != 4 {
		t.Errorf("payments channel got %d charts, want 4", charts)
	}
	last := fmt.Sprint(pay[len(pay)-1]["text"])
	if !strings.Contains(last, "(=)") && !strings.Contains(last, "(+") && !strings.Contains(last, "(-") {
		t.Errorf("the second week's post shows no change since last week: %q", last)
	}
	if keys := fmt.Sprint(pay[0]["metadata"]); !strings.Contains(keys, "2026-W49") {
		t.Errorf("first post's key %s is not of week 49", keys)
	}
}

func TestCatchUpDue(t *testing.T) {
	r := newWeeklyRig(t)
	store, err := catalog.Open(context.Background(), r.dir, catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	pstate, _ := store.State("leaderboards")
	hstate, _ := store.State("scores")
	w := scoring.NewWeekly(scoring.NewEvaluator(r.cards, store, nil), scoring.NewHistory(hstate, time.UTC), pstate, store, nil, scoring.WeeklyConfig{}, nil)
	ctx := context.Background()
	monday9 := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	cases := []struct {
		now  time.Time
		want bool
	}{
		{monday9.Add(-time.Minute), false}, // not yet time this week
		{monday9, true},                    // the run is due
		{monday9.AddDate(0, 0, 3), true},   // down since before Monday: catch up on Thursday
		{monday9.AddDate(0, 0, -1), true},  // Sunday of week 48: its Monday run never finished
	}
	for _, c := range cases {
		if got, err := catchUpDue(ctx, w, defaultLeaderboardSchedule, time.UTC, c.now); err != nil || got != c.want {
			t.Errorf("catchUpDue at %s = %v, %v; want %v", c.now.Format("Mon 15:04"), got, err, c.want)
		}
	}
	w.SetClock(func() time.Time { return monday9.AddDate(0, 0, 3) })
	if err := w.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if due, _ := catchUpDue(ctx, w, defaultLeaderboardSchedule, time.UTC, monday9.AddDate(0, 0, 4)); due {
		t.Error("still due after the week's run finished")
	}
}

func orEmptyList(s string) string {
	if s == "" {
		return "[]"
	}
	return s
}

func TestWeeklyPostsToDiscordExactlyOnce(t *testing.T) {
	rest := &fakeDiscordREST{posted: make(chan map[string]any, 1), edited: make(chan string, 1)}
	restSrv := httptest.NewServer(rest)
	defer restSrv.Close()
	r := newWeeklyRig(t)
	life := func(crashAfter int) error {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		store, err := catalog.Open(context.Background(), r.dir, catalog.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		router := bottest.Router(t, store, bot.Config{})
		fd, err := discord.New(discord.Config{BotToken: "discord-weekly", ApplicationID: "1100000000000000001",
			PublicKey: strings.Repeat("ab", 32), APIURL: restSrv.URL}, router, nil)
		if err != nil {
			t.Fatal(err)
		}
		var poster scoring.Poster = discordPoster{fd}
		if crashAfter > 0 {
			poster = &crashAt{Poster: poster, n: crashAfter, after: true, cancel: cancel}
		}
		hstate, _ := store.State("scores")
		pstate, _ := store.State("leaderboards")
		w := scoring.NewWeekly(scoring.NewEvaluator(r.cards, store, nil), scoring.NewHistory(hstate, time.UTC), pstate, store,
			map[string]scoring.Poster{"discord": poster}, scoring.WeeklyConfig{}, nil)
		w.SetClock(func() time.Time { return r.now })
		return w.Run(ctx)
	}
	if err := life(2); !errors.Is(err, context.Canceled) {
		t.Fatalf("the stopped run returned %v", err)
	}
	if err := life(0); err != nil {
		t.Fatal(err)
	}
	rest.mu.Lock()
	defer rest.mu.Unlock()
	keys := map[string]int{}
	for _, msgs := range rest.kept {
		for _, m := range msgs {
			raw, _ := json.Marshal(m["embeds"])
			for _, part := range strings.Split(string(raw), "ref ") {
				if strings.HasPrefix(part, "2026-W49/") {
					keys[part[:strings.IndexAny(part, `"`)]]++
				}
			}
		}
	}
	if len(keys) < 6 {
		t.Fatalf("%d keyed Discord posts; want one per team channel and scorecard", len(keys))
	}
	for k, n := range keys {
		if n != 1 {
			t.Errorf("%s posted %d times", k, n)
		}
	}
	if len(rest.kept["1180000000000000001"]) != 2 {
		t.Errorf("the payments Discord channel got %d posts, want 2 (two scorecards)", len(rest.kept["1180000000000000001"]))
	}
	for _, m := range rest.kept["1180000000000000001"] {
		if name, _ := m["_file"].(string); !strings.HasSuffix(name, ".png") {
			t.Errorf("a Discord post has no chart attached: %v", m["_file"])
		}
	}
}

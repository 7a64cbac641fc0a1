package oncall_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idpbot/idpbot/bot"
	"github.com/idpbot/idpbot/bot/bottest"
	"github.com/idpbot/idpbot/catalog"
	"github.com/idpbot/idpbot/integrations/oncall"
	"github.com/idpbot/idpbot/integrations/pagerduty"
	"github.com/idpbot/idpbot/integrations/rotations"
)

// openCatalog is the example catalog in a real store.
func openCatalog(t *testing.T) *catalog.Store {
	t.Helper()
	ctx := context.Background()
	s, err := catalog.Open(ctx, t.TempDir(), catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	rep, err := s.Ingest(ctx, "file:examples", []string{filepath.Join("..", "..", "deploy", "examples", "catalog", "all.yaml")})
	if err != nil {
		t.Fatalf("ingest example catalog: %v", err)
	}
	if rep.Problems.Errors() > 0 {
		t.Fatalf("example catalog has errors: %v", rep.Problems)
	}
	return s
}

// TestStaleAnswerInChat is the "done when": /idp oncall answers
// from the stale cache with an age note, well inside the chat deadline,
// when the PagerDuty server is made to hang.
func TestStaleAnswerInChat(t *testing.T) {
	store := openCatalog(t)
	var hang atomic.Bool
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hang.Load() {
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		name := "service.json"
		if r.URL.Path == "/oncalls" {
			name = "oncalls-page1.json"
			if r.URL.Query().Get("offset") == "3" {
				name = "oncalls-page2.json"
			}
		}
		b, err := os.ReadFile(filepath.Join("..", "pagerduty", "testdata", name))
		if err != nil {
			t.Error(err)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // before the server closes

	clk := &clock{t: t0}
	pd, err := pagerduty.New(pagerduty.Config{Token: "test-token", APIURL: srv.URL}, store, nil, pagerduty.WithClock(clk.now))
	if err != nil {
		t.Fatal(err)
	}
	src := &oncall.Multi{
		PagerDuty: oncall.NewCached(pd, "pagerduty", oncall.CacheConfig{Deadline: 50 * time.Millisecond}, nil, oncall.WithClock(clk.now)),
		Rotations: rotations.New(store, rotations.WithClock(clk.now)),
	}
	router := bottest.Router(t, store, bot.Config{OnCall: src, Now: clk.now})
	ask := func() (string, time.Duration) {
		start := time.Now()
		rep := router.Handle(context.Background(), &bot.Request{Platform: bot.Slack, User: bot.ChatUser{ID: "U01ALICE", Name: "alice"}, ChannelID: "C1", Text: "oncall payments-api"})
		took := time.Since(start)
		var b strings.Builder
		b.WriteString(rep.Text + "\n")
		for _, blk := range rep.Blocks {
			if s, ok := blk.(*bot.Section); ok {
				b.WriteString(s.Text.String() + "\n")
				for _, f := range s.Fields {
					b.WriteString(f.Label + ": " + f.Value.String() + "\n")
				}
			}
		}
		return b.String(), took
	}

	fresh, _ := ask()
	if !strings.Contains(fresh, "Bilal Haddad") || strings.Contains(fresh, "not answering") {
		t.Fatalf("fresh answer:\n%s", fresh)
	}

	hang.Store(true)
	clk.advance(5 * time.Minute)
	stale, took := ask()
	for _, want := range []string{"Bilal Haddad", "this is what it said 5 minutes ago"} {
		if !strings.Contains(stale, want) {
			t.Errorf("stale answer lacks %q:\n%s", want, stale)
		}
	}
	if took > time.Second {
		t.Errorf("the stale answer took %s; want it well inside the 3s chat deadline", took)
	}
}

func TestDirectory(t *testing.T) {
	store := openCatalog(t)
	d := oncall.NewDirectory(store)
	people, err := d.People(context.Background(), []string{"Alice.Nguyen@northwind.example", "nobody@example.com", "", "lena.fischer@northwind.example"})
	if err != nil {
		t.Fatal(err)
	}
	if len(people) != 2 || people["alice.nguyen@northwind.example"].Ref != "user:default/alice.nguyen" || people["lena.fischer@northwind.example"].SlackID == "" {
		t.Errorf("People = %+v", people)
	}
	if p := oncall.Person(people, "nobody@example.com", "No Body"); p.Ref != "" || p.DisplayName != "No Body" || p.Email != "nobody@example.com" {
		t.Errorf("Person(unknown) = %+v", p)
	}
	if p := oncall.Person(people, "ALICE.NGUYEN@northwind.example", "A"); p.Ref != "user:default/alice.nguyen" {
		t.Errorf("Person(alice) = %+v", p)
	}
}

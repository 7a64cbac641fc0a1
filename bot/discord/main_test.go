package discord

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idpbot/idpbot/bot"
	"github.com/idpbot/idpbot/bot/bottest"
	"github.com/idpbot/idpbot/catalog"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// Test identities: fictional snowflakes; aliceID is alice.nguyen's
// discord.com/user-id in the example catalog.
const (
	testAppID    = "1200000000000000001"
	testGuildID  = "1200000000000000002"
	testChannel  = "1200000000000000003"
	testBotToken = "test-bot-token.not-a-secret"
	aliceID      = "1180000000000100137"
	strangerID   = "1200000000000000999"
)

// testNow is the clock of the signed-request tests.
var testNow = time.Unix(1_760_000_000, 0)

// store is the example catalog, opened once for the package's tests.
var store *catalog.Store

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "idpbot-discord-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	store, err = catalog.Open(ctx, dir, catalog.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open catalog:", err)
		return 1
	}
	defer store.Close()
	rep, err := store.Ingest(ctx, "examples", []string{"../../deploy/examples/catalog/all.yaml"})
	if err != nil || rep.Entities == 0 {
		fmt.Fprintln(os.Stderr, "ingest example catalog:", err, rep)
		return 1
	}
	return m.Run()
}

// testCatalog wraps the real catalog: it can hold every lookup until gate
// is closed, to make a command slow at will.
type testCatalog struct {
	bot.Catalog
	gate chan struct{}
}

func (c *testCatalog) enter(ctx context.Context) error {
	if c.gate == nil {
		return nil
	}
	select {
	case <-c.gate:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *testCatalog) WhoOwns(ctx context.Context, q string) (*catalog.Ownership, error) {
	if err := c.enter(ctx); err != nil {
		return nil, err
	}
	return c.Catalog.WhoOwns(ctx, q)
}

func (c *testCatalog) Resolve(ctx context.Context, q string, kinds ...string) (*catalog.Entity, error) {
	if err := c.enter(ctx); err != nil {
		return nil, err
	}
	return c.Catalog.Resolve(ctx, q, kinds...)
}

// harness is a FrontDoor over the example catalog, its HTTP endpoint on
// 127.0.0.1, the fake Discord API, and the key pair that signs requests.
type harness struct {
	t       *testing.T
	fd      *FrontDoor
	api     *fakeDiscord
	srv     *httptest.Server
	priv    ed25519.PrivateKey
	reg     *prometheus.Registry
	cat     *testCatalog
	router  *bot.Router
	logs    *syncBuffer
	nowFunc func() time.Time
}

type harnessOpt func(*Config, *testCatalog, *bot.Config)

func withAckBudget(d time.Duration) harnessOpt {
	return func(c *Config, _ *testCatalog, _ *bot.Config) { c.AckBudget = d }
}

// slow holds every catalog lookup until the returned channel is closed.
func slow(gate chan struct{}) harnessOpt {
	return func(c *Config, cat *testCatalog, _ *bot.Config) {
		c.AckBudget = time.Millisecond
		cat.gate = gate
	}
}

func withGuild() harnessOpt {
	return func(c *Config, _ *testCatalog, _ *bot.Config) { c.GuildID = testGuildID }
}

// withActions gives the router an action engine.
func withActions(eng bot.ActionEngine) harnessOpt {
	return func(_ *Config, _ *testCatalog, rc *bot.Config) { rc.Actions = eng }
}

// testKeySeed derives the test key pair (fixed, so failures reproduce).
var testKeySeed = bytes.Repeat([]byte{7}, ed25519.SeedSize)

func newHarness(t *testing.T, opts ...harnessOpt) *harness {
	t.Helper()
	priv := ed25519.NewKeyFromSeed(testKeySeed)
	api := newFakeDiscord(t)
	cfg := Config{
		BotToken:      testBotToken,
		ApplicationID: testAppID,
		PublicKey:     fmt.Sprintf("%x", priv.Public()),
		APIURL:        api.URL(),
	}
	cat := &testCatalog{Catalog: store}
	reg := prometheus.NewRegistry()
	metrics, err := bot.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	rcfg := bot.Config{Metrics: metrics, Logger: log, Now: func() time.Time { return testNow }}
	for _, o := range opts {
		o(&cfg, cat, &rcfg)
	}
	router := bottest.Router(t, cat, rcfg)
	if err := router.Register(testCommands()...); err != nil {
		t.Fatal(err)
	}
	fd, err := New(cfg, router, log, WithClock(func() time.Time { return testNow }), WithHTTPClient(api.srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	fd.api.wait = func(ctx context.Context, d time.Duration) error { return ctx.Err() }
	srv := httptest.NewServer(fd.Handler())
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := fd.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if strings.Contains(logs.String(), testBotToken) {
			t.Errorf("the bot token appears in the logs")
		}
	})
	return &harness{t: t, fd: fd, api: api, srv: srv, priv: priv, reg: reg, cat: cat, router: router, logs: logs}
}

// testCommands are extra commands registered on the test router: "flip"
// answers by replacing the message whose button was clicked.
func testCommands() []*bot.Command {
	return []*bot.Command{{
		Name:    "flip",
		Summary: "replace the message with the button (tests)",
		Run: func(ctx context.Context, c *bot.Call) (*bot.Reply, error) {
			return &bot.Reply{ReplaceOriginal: true, Text: "flipped", Blocks: []bot.Block{
				&bot.Section{Text: bot.Text{bot.P("Flipped by "), bot.Mention(c.Request.User.Name, map[bot.Platform]string{bot.Discord: c.Request.User.ID})}},
			}}, nil
		},
	}}
}

// runs is how many commands the router ran (any outcome).
func (h *harness) runs() float64 {
	h.t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		h.t.Fatal(err)
	}
	var n float64
	for _, mf := range mfs {
		if mf.GetName() != "idpbot_commands_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			n += m.GetCounter().GetValue()
		}
	}
	return n
}

// send posts body to the endpoint, signed at ts with key (nil: unsigned).
func (h *harness) send(body []byte, ts time.Time, key ed25519.PrivateKey) (int, []byte, http.Header) {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+InteractionsPath, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != nil {
		sec := strconv.FormatInt(ts.Unix(), 10)
		req.Header.Set(HeaderTimestamp, sec)
		req.Header.Set(HeaderSignature, Sign(key, sec, body))
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp.StatusCode, out, resp.Header
}

// interact sends a correctly signed interaction and returns the 200
// answer.
func (h *harness) interact(body []byte) []byte {
	h.t.Helper()
	status, out, hdr := h.send(body, testNow, h.priv)
	if status != http.StatusOK {
		h.t.Fatalf("status %d: %s", status, out)
	}
	if ct := hdr.Get("Content-Type"); ct != "application/json" {
		h.t.Fatalf("content type %q", ct)
	}
	return out
}

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var interactionSeq atomic.Int64

// opt is one option of a command interaction.
type opt struct {
	name    string
	value   any
	focused bool
}

// commandInteraction is an APPLICATION_COMMAND (or, with autocomplete,
// APPLICATION_COMMAND_AUTOCOMPLETE) interaction for /idp sub, from
// userID in the test guild.
func commandInteraction(t testing.TB, userID, sub string, autocomplete bool, opts ...opt) []byte {
	t.Helper()
	var options []map[string]any
	for _, o := range opts {
		m := map[string]any{"name": o.name, "value": o.value}
		switch o.value.(type) {
		case bool:
			m["type"] = 5
		case int, float64:
			m["type"] = 4
		default:
			m["type"] = 3
		}
		if o.focused {
			m["focused"] = true
		}
		options = append(options, m)
	}
	typ := 2
	if autocomplete {
		typ = 4
	}
	data := map[string]any{
		"id": "1300000000000000001", "name": CommandName, "type": 1,
		"options": []map[string]any{{"name": sub, "type": 1, "options": options}},
	}
	return interaction(t, typ, userID, data, nil)
}

// clickInteraction is a MESSAGE_COMPONENT interaction: a click on the
// button with customID.
func clickInteraction(t testing.TB, userID, customID string) []byte {
	t.Helper()
	data := map[string]any{"custom_id": customID, "component_type": 2}
	msg := map[string]any{"id": "1300000000000000777", "channel_id": testChannel, "content": "", "flags": 64}
	return interaction(t, 3, userID, data, msg)
}

func interaction(t testing.TB, typ int, userID string, data, msg map[string]any) []byte {
	t.Helper()
	n := interactionSeq.Add(1)
	in := map[string]any{
		"id":             strconv.FormatInt(1400000000000000000+n, 10),
		"application_id": testAppID,
		"type":           typ,
		"data":           data,
		"guild_id":       testGuildID,
		"channel_id":     testChannel,
		"member": map[string]any{
			"user":        map[string]any{"id": userID, "username": "user" + userID[len(userID)-3:], "discriminator": "0"},
			"permissions": "2147483647",
		},
		"token":   fmt.Sprintf("aW50ZXJhY3Rpb246MTIz.token-%d", n),
		"version": 1,
		"locale":  "en-US",
	}
	if msg != nil {
		in["message"] = msg
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

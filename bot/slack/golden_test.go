package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	slackapi "github.com/slack-go/slack"

	"github.com/idpbot/idpbot/bot"
)

// TestGolden pins the Block Kit of each kind of reply, made by the real
// router from the example catalog. go test ./bot/slack -update rewrites
// testdata/*.golden.
func TestGolden(t *testing.T) {
	failing := &testCatalog{Catalog: store, fail: errors.New("badger: value log truncated")}
	cases := []struct {
		name string
		text string
		cat  bot.Catalog
	}{
		{"who-owns", "who-owns payments-api", store},
		{"oncall", "oncall payments-api", store},
		{"search", "search ledger", store},
		{"show", "show payments-api", store},
		{"team", "team payments", store},
		{"team-mine", "team", store},
		{"help", "help", store},
		{"help-command", "help who-owns", store},
		{"did-you-mean", "who-owns paymnts-api", store},
		{"ambiguous", "show payments", store},
		{"unknown-command", "who-own payments-api", store},
		{"public", "who-owns ledger --public", store},
		{"internal-error", "search ledger", failing},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRouter(t, tc.cat, nil)
			req := &bot.Request{ID: "golden-req", Platform: bot.Slack, User: bot.ChatUser{ID: "U01ALICE", Name: "alice.nguyen"}, ChannelID: "C04PAYMENTS", TeamID: "T0NORTHWIND", Text: tc.text}
			rep := r.Handle(context.Background(), req)
			msg := Message(rep, r.ButtonValue)
			got, err := readableJSON(msg)
			if err != nil {
				t.Fatal(err)
			}
			checkWire(t, msg)
			checkGolden(t, tc.name, got)
			checkLimits(t, got)
		})
	}
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./bot/slack -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./bot/slack -update rewrites it)\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

// readableJSON is v as JSON, indented and without the \u003c escapes
// slack-go's marshalers put in for < and > (goldens are read by people;
// the content is the same as on the wire).
func readableJSON(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var generic any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&generic); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(generic); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// checkWire checks that the acknowledgement's own JSON encoder says what
// encoding/json says.
func checkWire(t *testing.T, msg *slackapi.WebhookMessage) {
	t.Helper()
	fast, err := appendMessage(nil, msg)
	if err != nil {
		t.Fatal(err)
	}
	slow, err := json.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	if err := json.Unmarshal(fast, &a); err != nil {
		t.Fatalf("appendMessage made invalid JSON: %v\n%s", err, fast)
	}
	if err := json.Unmarshal(slow, &b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("appendMessage differs from encoding/json:\n%s\n%s", fast, slow)
	}
}

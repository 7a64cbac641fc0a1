package console_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/idpbot/idpbot/bot"
	"github.com/idpbot/idpbot/bot/bottest"
	"github.com/idpbot/idpbot/bot/console"
)

func TestREPL(t *testing.T) {
	r := bottest.Router(t, bottest.ExampleCatalog(t), bot.Config{})
	in := strings.NewReader(strings.Join([]string{
		"/idp who-owns payments-api",
		"3", // [3] Details
		"9", // out of range
		"/as alice.nguyen",
		"team",
		"/as nobody-at-all", // refused: stays alice
		"whoami",
		"/nope",
		"/quit",
		"search never-reached",
	}, "\n"))
	var out bytes.Buffer
	if err := console.Run(context.Background(), in, &out, r, "", true); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"idp> Payments API",
		"  Owner:   Payments Team",
		"#payments (discord 1180000000000000001, slack C04PAYMENTS)",
		"Runbook <https://runbooks.northwind.example/payments/payments-api>",
		"[1] On call  [2] Team  [3] Details",
		"Kind:      Component", // the Details click
		"choose 1 to 2",        // the card from the click has two buttons
		"You are Alice Nguyen",
		"idp(alice.nguyen)> Payments Team",
		`Nothing in the catalog is called "nobody-at-all"`,
		"unknown console command /nope",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("transcript lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "never-reached") {
		t.Error("lines after /quit were run")
	}
	if strings.Count(got, "You are Alice Nguyen") != 2 {
		t.Errorf("after a refused /as the session should still be alice:\n%s", got)
	}
}

func TestAskReportsErrors(t *testing.T) {
	r := bottest.Router(t, bottest.ExampleCatalog(t), bot.Config{})
	s := console.NewSession(r, "")
	var out bytes.Buffer
	if rep := s.Ask(context.Background(), &out, "who-owns ledger"); rep.IsError {
		t.Fatalf("who-owns ledger is an error:\n%s", out.String())
	}
	out.Reset()
	if rep := s.Ask(context.Background(), &out, "who-owns no-such-thing-anywhere"); !rep.IsError {
		t.Fatalf("unknown name is not an error:\n%s", out.String())
	}
	if _, err := s.Choose(context.Background(), &out, 1); err == nil {
		t.Error("choosing from an answer with no buttons succeeded")
	}
}

func TestRunStopsWithContext(t *testing.T) {
	r := bottest.Router(t, bottest.ExampleCatalog(t), bot.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	defer pw.Close()
	done := make(chan error, 1)
	go func() { done <- console.Run(ctx, pr, &bytes.Buffer{}, r, "", false) }()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run after cancel: %v", err)
	}
}

package bot_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idpbot/idpbot/bot"
	"github.com/idpbot/idpbot/bot/bottest"
)

// profiles stands in for a platform's user directory (Slack's users.info):
// the remote system the front door asks, not a part of ours.
type profiles struct {
	emails map[string]string
	calls  atomic.Int32
	err    error
}

func (p *profiles) Email(_ context.Context, id string) (string, error) {
	p.calls.Add(1)
	return p.emails[id], p.err
}

func TestIdentity(t *testing.T) {
	store := bottest.ExampleCatalog(t)
	ctx := context.Background()
	dir := &profiles{emails: map[string]string{"U0NEW": "Bilal.Haddad@northwind.example"}}
	id := bot.NewIdentity(store, map[bot.Platform]bot.ProfileLookup{bot.Slack: dir}, time.Minute)
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	id.SetClock(func() time.Time { return now })

	t.Run("by annotation", func(t *testing.T) {
		for _, tc := range []struct {
			p  bot.Platform
			id string
		}{{bot.Slack, "U01ALICE"}, {bot.Discord, "1180000000000100137"}} {
			e, err := id.Resolve(ctx, tc.p, bot.ChatUser{ID: tc.id})
			if err != nil || e.Ref().String() != "user:default/alice.nguyen" {
				t.Errorf("%s %s → %v, %v; want alice.nguyen", tc.p, tc.id, e, err)
			}
		}
		if n := dir.calls.Load(); n != 0 {
			t.Errorf("profile lookups = %d; the annotation should answer first", n)
		}
	})
	t.Run("by profile e-mail, cached", func(t *testing.T) {
		for range 3 {
			e, err := id.Resolve(ctx, bot.Slack, bot.ChatUser{ID: "U0NEW"})
			if err != nil || e.Ref().String() != "user:default/bilal.haddad" {
				t.Fatalf("U0NEW → %v, %v; want bilal.haddad by e-mail", e, err)
			}
		}
		if n := dir.calls.Load(); n != 1 {
			t.Errorf("profile lookups = %d, want 1 (cached)", n)
		}
		now = now.Add(2 * time.Minute) // past the TTL
		if _, err := id.Resolve(ctx, bot.Slack, bot.ChatUser{ID: "U0NEW"}); err != nil {
			t.Fatal(err)
		}
		if n := dir.calls.Load(); n != 2 {
			t.Errorf("profile lookups after the TTL = %d, want 2", n)
		}
	})
	t.Run("unknown, and the hint says how to link", func(t *testing.T) {
		_, err := id.Resolve(ctx, bot.Slack, bot.ChatUser{ID: "U0GHOST"})
		ue, ok := bot.AsUserError(err)
		if !ok || !strings.Contains(ue.Hint, "slack.com/user-id: U0GHOST") {
			t.Fatalf("err = %v; want a user error with the annotation to add", err)
		}
	})
	t.Run("a failing directory is not the user's fault", func(t *testing.T) {
		down := &profiles{err: errors.New("slack: 500")}
		id2 := bot.NewIdentity(store, map[bot.Platform]bot.ProfileLookup{bot.Slack: down}, 0)
		_, err := id2.Resolve(ctx, bot.Slack, bot.ChatUser{ID: "U0DOWN"})
		if _, ok := bot.AsUserError(err); !ok {
			t.Fatalf("err = %v; want the not-linked user error", err)
		}
	})
	t.Run("console /as", func(t *testing.T) {
		e, err := id.Resolve(ctx, bot.Console, bot.ChatUser{CatalogRef: "carmen.ortiz"})
		if err != nil || e.Metadata.Name != "carmen.ortiz" {
			t.Fatalf("/as carmen.ortiz → %v, %v", e, err)
		}
	})
}

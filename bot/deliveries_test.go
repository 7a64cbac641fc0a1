package bot_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/idpbot/idpbot/bot"
)

func TestDeliveries(t *testing.T) {
	d := bot.NewDeliveries("test", time.Minute)
	release, finished := make(chan struct{}), make(chan struct{})
	parent, cancelParent := context.WithCancel(context.Background())
	if err := d.Go(parent, func(ctx context.Context) {
		<-release
		if ctx.Err() != nil {
			t.Error("the delivery's context ended with the request that started it")
		}
		close(finished)
	}); err != nil {
		t.Fatal(err)
	}
	cancelParent() // the request was answered; the delivery goes on
	shut := make(chan error, 1)
	go func() { shut <- d.Shutdown(context.Background()) }()
	close(release)
	if err := <-shut; err != nil {
		t.Fatal(err)
	}
	select {
	case <-finished:
	default:
		t.Fatal("Shutdown returned before the delivery finished")
	}
	if err := d.Go(context.Background(), func(context.Context) {}); !errors.Is(err, bot.ErrShuttingDown) {
		t.Errorf("Go after Shutdown = %v", err)
	}

	// A delivery that outlives Shutdown's deadline is cancelled.
	d = bot.NewDeliveries("test", time.Minute)
	cancelled := make(chan struct{})
	d.Go(context.Background(), func(ctx context.Context) { <-ctx.Done(); close(cancelled) })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := d.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Shutdown past its deadline = %v", err)
	}
	<-cancelled
}

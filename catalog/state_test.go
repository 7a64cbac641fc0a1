package catalog

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestStateCompareAndSet(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.State("runs")
	if err != nil {
		t.Fatal(err)
	}
	// 100 concurrent "approve" transitions on one record: exactly one wins,
	// the others see it already done.
	type run struct {
		State    string
		Approver string
	}
	if err := st.Update(ctx, func(tx *StateTx) error { return tx.Put("run/1", run{State: "pending"}) }); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, already := 0, 0
	for i := range 100 {
		wg.Go(func() {
			won := false
			err := st.Update(ctx, func(tx *StateTx) error {
				won = false
				var r run
				if _, err := tx.Get("run/1", &r); err != nil {
					return err
				}
				if r.State != "pending" {
					return nil
				}
				won = true
				return tx.Put("run/1", run{State: "approved", Approver: fmt.Sprint("user-", i)})
			})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				t.Error(err)
			case won:
				wins++
			default:
				already++
			}
		})
	}
	wg.Wait()
	if wins != 1 || already != 99 {
		t.Fatalf("wins %d, already approved %d; want 1 and 99", wins, already)
	}
	// Errors abort with nothing written.
	boom := errors.New("boom")
	if err := st.Update(ctx, func(tx *StateTx) error {
		tx.Put("run/2", run{State: "x"})
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("Update error = %v", err)
	}
	if found, _ := st.Get(ctx, "run/2", &run{}); found {
		t.Error("an aborted update was written")
	}
	for i := range 5 {
		st.Update(ctx, func(tx *StateTx) error { return tx.Put(fmt.Sprintf("log/%03d", i), i) })
	}
	s.Close()

	// Reopened: the state is there, scans are ordered both ways, and the
	// catalog's own keys are not mixed in.
	s, err = Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, _ = s.State("runs")
	var r run
	if found, err := st.Get(ctx, "run/1", &r); !found || err != nil || r.State != "approved" {
		t.Fatalf("after reopen: %+v %v %v", r, found, err)
	}
	var fwd, rev []int
	st.View(ctx, func(tx *StateTx) error {
		tx.Scan("log/", false, func(_ string, dec func(any) error) error {
			var n int
			dec(&n)
			fwd = append(fwd, n)
			return nil
		})
		return tx.Scan("log/", true, func(_ string, dec func(any) error) error {
			var n int
			dec(&n)
			rev = append(rev, n)
			if len(rev) == 2 {
				return ErrStopScan
			}
			return nil
		})
	})
	if fmt.Sprint(fwd) != "[0 1 2 3 4]" || fmt.Sprint(rev) != "[4 3]" {
		t.Errorf("scan forward %v, reverse (stopped at 2) %v", fwd, rev)
	}
	other, _ := s.State("history")
	n := 0
	other.View(ctx, func(tx *StateTx) error {
		return tx.Scan("", false, func(string, func(any) error) error { n++; return nil })
	})
	if n != 0 {
		t.Errorf("namespace history sees %d keys of runs", n)
	}
	for _, bad := range []string{"", "Runs", "a/b", "1x"} {
		if _, err := s.State(bad); err == nil {
			t.Errorf("State(%q) accepted", bad)
		}
	}
}

// A value too big for the tables (over 512 KiB) goes to Badger's value log;
// iterators do not prefetch, so Scan reads it when asked: it must come back
// whole, beside small ones, in both directions.
func TestStateScanReadsValuesFromTheValueLog(t *testing.T) {
	ctx := context.Background()
	_, st := openTestState(t, Options{}, "big")
	big := strings.Repeat("x", 600<<10)
	if err := st.Update(ctx, func(tx *StateTx) error {
		if err := tx.Put("k/1", "small"); err != nil {
			return err
		}
		if err := tx.Put("k/2", big); err != nil {
			return err
		}
		return tx.Put("k/3", "small too")
	}); err != nil {
		t.Fatal(err)
	}
	for _, reverse := range []bool{false, true} {
		var sizes []int
		err := st.View(ctx, func(tx *StateTx) error {
			return tx.Scan("k/", reverse, func(key string, decode func(v any) error) error {
				var v string
				if err := decode(&v); err != nil {
					return err
				}
				sizes = append(sizes, len(v))
				return nil
			})
		})
		want := []int{5, len(big), 9}
		if reverse {
			want = []int{9, len(big), 5}
		}
		if err != nil || !slices.Equal(sizes, want) {
			t.Errorf("reverse %v: value sizes %v, %v; want %v", reverse, sizes, err, want)
		}
	}
}

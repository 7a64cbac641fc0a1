package scoring

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/idpbot/idpbot/catalog"
)

// History keeps weekly snapshots of every scorecard (per entity and per
// team) and the level transitions between evaluations, in a catalog.State
// namespace. Storage is bounded: one snapshot a week (the week's latest
// evaluation) and one record per level change, pruned after KeepWeeks.
type History struct {
	st  *catalog.State
	loc *time.Location
	// KeepWeeks is how many weeks of snapshots Prune keeps (default 26).
	KeepWeeks int
}

// NewHistory keeps history in st; weeks are counted in loc (the time zone
// of the weekly posts).
func NewHistory(st *catalog.State, loc *time.Location) *History {
	if loc == nil {
		loc = time.UTC
	}
	return &History{st: st, loc: loc, KeepWeeks: 26}
}

// Week names the ISO week of t in the history's zone: "2026-W48".
func (h *History) Week(t time.Time) string {
	y, w := t.In(h.loc).ISOWeek()
	return fmt.Sprintf("%04d-W%02d", y, w)
}

// PreviousWeek names the week before the week of t.
func (h *History) PreviousWeek(t time.Time) string { return h.Week(t.In(h.loc).AddDate(0, 0, -7)) }

// EntitySnap is an entity's standing in a week.
type EntitySnap struct {
	Level   int      `json:"level"`
	Score   float64  `json:"score"`
	Failing []string `json:"failing,omitempty"` // rule ids not passing
}

// TeamSnap is a team's standing in a week.
type TeamSnap struct {
	DisplayName string  `json:"name"`
	Type        string  `json:"type,omitempty"`
	Score       float64 `json:"score"`
	Entities    int     `json:"entities"`
	Levels      []int   `json:"levels"`
}

// WeekSnap is one scorecard's snapshot of one week.
type WeekSnap struct {
	Week     string
	Entities map[string]EntitySnap
	Teams    map[string]TeamSnap
}

// Transition is a level change of an entity between two evaluations.
type Transition struct {
	Scorecard string    `json:"scorecard"`
	Entity    string    `json:"entity"`
	From      int       `json:"from"`
	To        int       `json:"to"`
	At        time.Time `json:"at"`
}

// recordBatch bounds the writes of one transaction (Badger limits a
// transaction's size).
const recordBatch = 2000

// Record stores rep as the snapshot of its week (replacing an earlier one
// of the same week) and the level transitions since the last record.
func (h *History) Record(ctx context.Context, rep *Report) error {
	week := h.Week(rep.At)
	for id, results := range rep.Results {
		err := inParts(len(results), func(lo, hi int) error {
			chunk := results[lo:hi]
			return h.st.Update(ctx, func(tx *catalog.StateTx) error {
				for _, r := range chunk {
					snap := EntitySnap{Level: r.Level, Score: r.Score}
					for _, rr := range r.Rules {
						if rr.Outcome != Pass {
							snap.Failing = append(snap.Failing, rr.Rule.ID)
						}
					}
					if err := tx.Put(weekKey(id, week, "e", r.Entity), snap); err != nil {
						return err
					}
					var last EntitySnap
					had, err := tx.Get(lastKey(id, r.Entity), &last)
					if err != nil {
						return err
					}
					if had && last.Level != r.Level {
						t := Transition{Scorecard: id, Entity: r.Entity, From: last.Level, To: r.Level, At: rep.At}
						if err := tx.Put(fmt.Sprintf("trans/%s/%s/%s", id, r.Entity, rep.At.UTC().Format(time.RFC3339Nano)), t); err != nil {
							return err
						}
					}
					if err := tx.Put(lastKey(id, r.Entity), snap); err != nil {
						return err
					}
				}
				return nil
			})
		})
		if err != nil {
			return fmt.Errorf("record history of %s: %w", id, err)
		}
		err = h.st.Update(ctx, func(tx *catalog.StateTx) error {
			for _, t := range rep.Teams[id] {
				snap := TeamSnap{DisplayName: t.DisplayName, Type: t.Type, Score: t.Score, Entities: t.Entities, Levels: t.Levels}
				if err := tx.Put(weekKey(id, week, "t", t.Team), snap); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("record team history of %s: %w", id, err)
		}
	}
	return nil
}

func weekKey(scorecard, week, kind, ref string) string {
	return fmt.Sprintf("week/%s/%s/%s/%s", scorecard, week, kind, ref)
}

func lastKey(scorecard, ref string) string { return fmt.Sprintf("last/%s/%s", scorecard, ref) }

// Snapshot reads one scorecard's snapshot of week; an empty one when none
// was recorded.
func (h *History) Snapshot(ctx context.Context, scorecard, week string) (*WeekSnap, error) {
	ws := &WeekSnap{Week: week, Entities: map[string]EntitySnap{}, Teams: map[string]TeamSnap{}}
	prefix := fmt.Sprintf("week/%s/%s/", scorecard, week)
	err := h.st.View(ctx, func(tx *catalog.StateTx) error {
		return tx.Scan(prefix, false, func(key string, decode func(any) error) error {
			kind, ref, _ := strings.Cut(strings.TrimPrefix(key, prefix), "/")
			switch kind {
			case "e":
				var s EntitySnap
				if err := decode(&s); err != nil {
					return err
				}
				ws.Entities[ref] = s
			case "t":
				var s TeamSnap
				if err := decode(&s); err != nil {
					return err
				}
				ws.Teams[ref] = s
			}
			return nil
		})
	})
	return ws, err
}

// Transitions lists an entity's level changes on a scorecard, newest first.
func (h *History) Transitions(ctx context.Context, scorecard, ref string, limit int) ([]Transition, error) {
	var out []Transition
	err := h.st.View(ctx, func(tx *catalog.StateTx) error {
		return tx.Scan(fmt.Sprintf("trans/%s/%s/", scorecard, ref), true, func(_ string, decode func(any) error) error {
			var t Transition
			if err := decode(&t); err != nil {
				return err
			}
			out = append(out, t)
			if limit > 0 && len(out) >= limit {
				return catalog.ErrStopScan
			}
			return nil
		})
	})
	return out, err
}

// Prune deletes snapshots older than KeepWeeks weeks before now, and
// transitions older than that too.
func (h *History) Prune(ctx context.Context, now time.Time) error {
	oldest := h.Week(now.AddDate(0, 0, -7*h.KeepWeeks))
	cutoff := now.AddDate(0, 0, -7*h.KeepWeeks).UTC().Format(time.RFC3339Nano)
	var doomed []string
	err := h.st.View(ctx, func(tx *catalog.StateTx) error {
		err := tx.Scan("week/", false, func(key string, _ func(any) error) error {
			parts := strings.SplitN(key, "/", 4) // week/<sc>/<week>/...
			if len(parts) == 4 && parts[2] < oldest {
				doomed = append(doomed, key)
			}
			return nil
		})
		if err != nil {
			return err
		}
		return tx.Scan("trans/", false, func(key string, _ func(any) error) error {
			if at := key[strings.LastIndex(key, "/")+1:]; at < cutoff {
				doomed = append(doomed, key)
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	sort.Strings(doomed)
	return inParts(len(doomed), func(lo, hi int) error {
		return h.st.Update(ctx, func(tx *catalog.StateTx) error {
			for _, k := range doomed[lo:hi] {
				if err := tx.Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
	})
}

// inParts calls write for [lo, hi) ranges covering [0, n), recordBatch
// long, each range split in halves again while the store finds it too big
// for one transaction (entities failing many rules write more).
func inParts(n int, write func(lo, hi int) error) error {
	var part func(lo, hi int) error
	part = func(lo, hi int) error {
		err := write(lo, hi)
		if errors.Is(err, catalog.ErrStateTooBig) && hi-lo > 1 {
			mid := lo + (hi-lo)/2
			if err := part(lo, mid); err != nil {
				return err
			}
			return part(mid, hi)
		}
		return err
	}
	for lo := 0; lo < n; lo += recordBatch {
		if err := part(lo, min(lo+recordBatch, n)); err != nil {
			return err
		}
	}
	return nil
}

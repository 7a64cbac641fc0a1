package scoring

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/idpbot/idpbot/catalog"
)

// Standing is a team's row of a leaderboard, with its change since the
// previous week's snapshot.
type Standing struct {
	Team        string
	DisplayName string
	Rank        int
	Score       float64
	// Delta is the score change since last week; HasDelta is false for a
	// team that had no snapshot then.
	Delta    float64
	HasDelta bool
	Entities int
	Levels   []int
}

// Fix is a rule that fails for several of a team's entities: what to fix
// next, with how many entities it would lift.
type Fix struct {
	Rule     *Rule
	Entities int
}

// Mover is an entity whose score changed since last week.
type Mover struct {
	Entity   string
	From, To float64
}

// Board is a scorecard's leaderboard of one week.
type Board struct {
	Scorecard *Scorecard
	Week      string
	At        time.Time
	Standings []Standing
	// MostImproved is the standing with the largest gain, if any gained.
	MostImproved *Standing
}

// TeamReport is what a team's channel gets: its standing, what improved,
// and the top things to fix.
type TeamReport struct {
	Standing Standing
	Fixes    []Fix   // up to three, most entities first
	Movers   []Mover // entities that gained most, up to three
	// NewlyFailing are rules that pass last week and fail now for some of
	// the team's entities.
	NewlyFailing []*Rule
}

// BuildBoard ranks the teams of a report against last week's snapshot
// (prev may be empty). Groups of spec.type team are ranked when there are
// any; departments and the organisation would crowd the board.
func BuildBoard(sc *Scorecard, rep *Report, week string, prev *WeekSnap) *Board {
	if prev == nil {
		prev = &WeekSnap{}
	}
	b := &Board{Scorecard: sc, Week: week, At: rep.At}
	teams := rep.Teams[sc.ID]
	var ranked []*TeamResult
	for _, t := range teams {
		if strings.EqualFold(t.Type, "team") {
			ranked = append(ranked, t)
		}
	}
	if len(ranked) == 0 {
		ranked = teams
	}
	for i, t := range ranked {
		s := Standing{Team: t.Team, DisplayName: t.DisplayName, Rank: i + 1, Score: t.Score, Entities: t.Entities, Levels: t.Levels}
		if p, ok := prev.Teams[t.Team]; ok {
			s.Delta, s.HasDelta = t.Score-p.Score, true
		}
		b.Standings = append(b.Standings, s)
	}
	for i := range b.Standings {
		s := &b.Standings[i]
		if s.HasDelta && s.Delta > 0.5 && (b.MostImproved == nil || s.Delta > b.MostImproved.Delta) {
			b.MostImproved = s
		}
	}
	return b
}

// BuildTeamReport details one team: the most common failing rules of its
// entities (weighted by the rule's weight), its entities that gained most,
// and the rules that newly fail.
func BuildTeamReport(sc *Scorecard, rep *Report, s Standing, owned map[string]bool, prev *WeekSnap) *TeamReport {
	if prev == nil {
		prev = &WeekSnap{}
	}
	tr := &TeamReport{Standing: s}
	count := map[string]int{}
	failingNow := map[string]bool{}
	byID := map[string]*Rule{}
	for _, r := range sc.Rules {
		byID[r.ID] = r
	}
	for _, res := range rep.Results[sc.ID] {
		if !owned[res.Entity] {
			continue
		}
		for _, rr := range res.Rules {
			if rr.Outcome != Pass {
				count[rr.Rule.ID]++
				failingNow[res.Entity+"\x00"+rr.Rule.ID] = true
			}
		}
		if p, ok := prev.Entities[res.Entity]; ok && res.Score-p.Score > 0.5 {
			tr.Movers = append(tr.Movers, Mover{Entity: res.Entity, From: p.Score, To: res.Score})
		}
	}
	for id, n := range count {
		tr.Fixes = append(tr.Fixes, Fix{Rule: byID[id], Entities: n})
	}
	sort.Slice(tr.Fixes, func(i, j int) bool {
		a, b := tr.Fixes[i], tr.Fixes[j]
		if wa, wb := float64(a.Entities)*a.Rule.Weight, float64(b.Entities)*b.Rule.Weight; wa != wb {
			return wa > wb
		}
		if a.Rule.Level != b.Rule.Level {
			return a.Rule.Level < b.Rule.Level
		}
		return a.Rule.ID < b.Rule.ID
	})
	tr.Fixes = tr.Fixes[:min(3, len(tr.Fixes))]
	sort.Slice(tr.Movers, func(i, j int) bool { return tr.Movers[i].To-tr.Movers[i].From > tr.Movers[j].To-tr.Movers[j].From })
	tr.Movers = tr.Movers[:min(3, len(tr.Movers))]
	newly := map[string]bool{}
	for ref, p := range prev.Entities {
		if !owned[ref] {
			continue
		}
		was := map[string]bool{}
		for _, id := range p.Failing {
			was[id] = true
		}
		for _, r := range sc.Rules {
			if failingNow[ref+"\x00"+r.ID] && !was[r.ID] {
				newly[r.ID] = true
			}
		}
	}
	for _, r := range sc.Rules {
		if newly[r.ID] {
			tr.NewlyFailing = append(tr.NewlyFailing, r)
		}
	}
	return tr
}

// Channel is a chat channel on a platform ("slack", "discord").
type Channel struct {
	Platform string
	ID       string
}

// Post is one leaderboard message: the board, and for a team's channel the
// team's report. Key identifies it (week, scorecard, channel) so that it is
// posted exactly once.
type Post struct {
	Key     string
	Channel Channel
	Board   *Board
	Team    *TeamReport // nil for the global leaderboard
}

// Poster posts leaderboards to one platform. Posted looks in the channel
// itself for a message carrying the key (Slack message metadata, for
// example), so that a crash between posting and recording it is detected.
type Poster interface {
	Post(ctx context.Context, p *Post) error
	Posted(ctx context.Context, p *Post) (bool, error)
}

// WeeklyConfig configures the weekly posts.
type WeeklyConfig struct {
	// Fallback receives the report of a team whose group names no channel
	// on a platform that has a poster.
	Fallback []Channel
	// Global receives the leaderboard of every team.
	Global []Channel
}

// Weekly evaluates every scorecard, records the week's snapshot and posts
// each team its standing, exactly once per (week, scorecard, channel),
// even across crashes and restarts.
type Weekly struct {
	ev      *Evaluator
	tracker *Tracker
	hist    *History
	state   *catalog.State
	cat     Catalog
	posters map[string]Poster
	cfg     WeeklyConfig
	now     func() time.Time
	log     *slog.Logger
}

// NewWeekly returns the weekly job. state is the namespace recording posts.
func NewWeekly(ev *Evaluator, hist *History, state *catalog.State, cat Catalog, posters map[string]Poster, cfg WeeklyConfig, log *slog.Logger) *Weekly {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Weekly{ev: ev, tracker: NewTracker(ev, hist, nil), hist: hist, state: state, cat: cat, posters: posters, cfg: cfg, now: time.Now, log: log}
}

// SetClock replaces the clock (tests).
func (w *Weekly) SetClock(now func() time.Time) {
	w.now = now
	w.tracker.SetClock(now)
}

// UseTracker makes the job evaluate through t (which records the history
// and updates metrics), so that the weekly run and the periodic one share
// their latest report.
func (w *Weekly) UseTracker(t *Tracker) {
	t.SetClock(w.now)
	w.tracker = t
}

// postRecord is the state of one post.
type postRecord struct {
	Status string    `json:"status"` // posting, done
	At     time.Time `json:"at"`
}

// WeekDone says whether every post of the week of t went out, so that a
// restart does not evaluate again to find nothing to post.
func (w *Weekly) WeekDone(ctx context.Context, t time.Time) (bool, error) {
	var done bool
	_, err := w.state.Get(ctx, "week/"+w.hist.Week(t), &done)
	return done, err
}

// Run is the weekly job: evaluate, record the snapshot, post what has not
// been posted this week. Posts that fail are retried by the next Run (a
// restart, or the catch-up at start); it returns their errors joined.
func (w *Weekly) Run(ctx context.Context) error {
	rep, err := w.tracker.Run(ctx)
	if err != nil {
		return err
	}
	week := w.hist.Week(rep.At)
	groups, err := w.cat.List(ctx, catalog.Filter{Sets: [][]catalog.Condition{{{Key: "kind", Value: catalog.KindGroup, HasValue: true}}}}, 0)
	if err != nil {
		return fmt.Errorf("list groups: %w", err)
	}
	byRef := map[string]*catalog.Entity{}
	for _, g := range groups {
		byRef[g.Ref().String()] = g
	}
	var errs []error
	for _, sc := range w.ev.Scorecards() {
		prev, err := w.hist.Snapshot(ctx, sc.ID, w.hist.PreviousWeek(rep.At))
		if err != nil {
			return err
		}
		board := BuildBoard(sc, rep, week, prev)
		for _, ch := range w.cfg.Global {
			errs = append(errs, w.postOnce(ctx, &Post{Key: postKey(week, sc.ID, ch, ""), Channel: ch, Board: board}))
		}
		for _, s := range board.Standings {
			g := byRef[s.Team]
			owned := map[string]bool{}
			if g != nil {
				for _, ref := range ownedBy(g, byRef) {
					owned[ref] = true
				}
			}
			team := BuildTeamReport(sc, rep, s, owned, prev)
			for _, ch := range w.channels(g) {
				errs = append(errs, w.postOnce(ctx, &Post{Key: postKey(week, sc.ID, ch, s.Team), Channel: ch, Board: board, Team: team}))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := w.state.Update(ctx, func(tx *catalog.StateTx) error { return tx.Put("week/"+week, true) }); err != nil {
		return err
	}
	return w.hist.Prune(ctx, rep.At)
}

// ownedBy lists what g and its sub-teams own.
func ownedBy(g *catalog.Entity, groups map[string]*catalog.Entity) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(*catalog.Entity)
	walk = func(e *catalog.Entity) {
		ref := e.Ref().String()
		if seen[ref] {
			return
		}
		seen[ref] = true
		out = append(out, e.RelationTargets(catalog.RelOwnerOf)...)
		for _, c := range e.RelationTargets(catalog.RelParentOf) {
			if ce := groups[c]; ce != nil {
				walk(ce)
			}
		}
	}
	walk(g)
	return out
}

// channels are the team's own channels on the platforms that have a
// poster, else the fallback channels.
func (w *Weekly) channels(g *catalog.Entity) []Channel {
	var out []Channel
	if g != nil {
		for platform, ann := range map[string]string{"slack": catalog.AnnotationSlackChannelID, "discord": catalog.AnnotationDiscordChannelID} {
			if id := strings.TrimSpace(g.Annotation(ann)); id != "" && w.posters[platform] != nil {
				out = append(out, Channel{Platform: platform, ID: id})
			}
		}
	}
	if len(out) == 0 {
		for _, ch := range w.cfg.Fallback {
			if w.posters[ch.Platform] != nil {
				out = append(out, ch)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Platform < out[j].Platform })
	return out
}

func postKey(week, scorecard string, ch Channel, team string) string {
	k := fmt.Sprintf("%s/%s/%s/%s", week, scorecard, ch.Platform, ch.ID)
	if team != "" {
		k += "/" + team
	}
	return k
}

// postOnce posts p unless it is recorded as done. A post found "posting"
// is an attempt that did not finish (a crash, or a failed post: one process
// holds a data directory, and the job runs one at a time), so the channel
// is searched for it before posting again.
func (w *Weekly) postOnce(ctx context.Context, p *Post) error {
	poster := w.posters[p.Channel.Platform]
	if poster == nil {
		return nil
	}
	key := "post/" + p.Key
	now := w.now()
	var skip, check bool
	err := w.state.Update(ctx, func(tx *catalog.StateTx) error {
		skip, check = false, false
		var rec postRecord
		had, err := tx.Get(key, &rec)
		if err != nil {
			return err
		}
		switch {
		case had && rec.Status == "done":
			skip = true
			return nil
		case had:
			check = true // an attempt that did not finish
		}
		return tx.Put(key, postRecord{Status: "posting", At: now})
	})
	if err != nil || skip {
		return err
	}
	if check {
		posted, err := poster.Posted(ctx, p)
		if err != nil {
			return fmt.Errorf("leaderboard %s: look for an earlier post: %w", p.Key, err)
		}
		if posted {
			w.log.InfoContext(ctx, "leaderboard already posted before a restart", "key", p.Key)
			return w.markDone(ctx, key)
		}
	}
	if err := poster.Post(ctx, p); err != nil {
		return fmt.Errorf("leaderboard %s: %w", p.Key, err)
	}
	w.log.InfoContext(ctx, "leaderboard posted", "key", p.Key)
	return w.markDone(ctx, key)
}

func (w *Weekly) markDone(ctx context.Context, key string) error {
	return w.state.Update(ctx, func(tx *catalog.StateTx) error {
		return tx.Put(key, postRecord{Status: "done", At: w.now()})
	})
}

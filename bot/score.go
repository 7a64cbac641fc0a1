package bot

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/idpbot/idpbot/catalog"
	"github.com/idpbot/idpbot/scoring"
)

// Scorer is what the score and leaderboard commands read;
// *scoring.Evaluator satisfies it.
type Scorer interface {
	Scorecards() []*scoring.Scorecard
	Scorecard(id string) (*scoring.Scorecard, bool)
	Entity(ctx context.Context, query string) (*catalog.Entity, []*scoring.Result, error)
	Run(ctx context.Context) (*scoring.Report, error)
}

var _ Scorer = (*scoring.Evaluator)(nil)

// maxLeaderboardRows keeps a leaderboard inside every platform's limits.
const maxLeaderboardRows = 15

// reportCache keeps the last full evaluation for leaderboards, so that a
// busy channel does not evaluate the whole catalog on every request.
type reportCache struct {
	mu     sync.Mutex
	rep    *scoring.Report
	ttl    time.Duration
	latest func() *scoring.Report
}

func (c *reportCache) get(ctx context.Context, s Scorer, now time.Time) (*scoring.Report, error) {
	if c.latest != nil {
		if rep := c.latest(); rep != nil {
			return rep, nil
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rep != nil && now.Sub(c.rep.At) < c.ttl {
		return c.rep, nil
	}
	rep, err := s.Run(ctx)
	if err != nil {
		return nil, err
	}
	c.rep = rep
	return rep, nil
}

func scoreCommands(r *Router) []*Command {
	return []*Command{
		{
			Name: "score", Aliases: []string{"scorecard"},
			Summary:  "an entity's scorecard levels, scores and what to fix next",
			Help:     "Shows every scorecard that applies to <entity>: the level reached, the score, the rules that fail with how to fix them, and what the next level needs.",
			Args:     []Arg{{Name: "entity", Help: "a service, API… by name or ref", Required: true, Complete: CompleteEntity}},
			Flags:    []Flag{{Name: "all", Help: "list passing rules too"}},
			Examples: []string{"score payments-api", "score payments-api --all"},
			Run:      r.score,
		},
		{
			Name: "leaderboard", Aliases: []string{"leaders"},
			Summary:  "teams ranked on a scorecard, or one team's entities",
			Args:     []Arg{{Name: "scorecard", Help: "a scorecard (the first if omitted)"}},
			Flags:    []Flag{{Name: "team", Value: "TEAM", Help: "rank this team's entities instead of the teams"}},
			Examples: []string{"leaderboard", "leaderboard production-readiness --team payments"},
			Run:      r.leaderboard,
		},
	}
}

func (r *Router) score(ctx context.Context, c *Call) (*Reply, error) {
	e, results, err := r.scorer.Entity(ctx, c.Args.Words[0])
	if err != nil {
		return nil, err
	}
	ref := e.Ref().String()
	rep := &Reply{}
	rep.Blocks = append(rep.Blocks, &Header{Text: "Scorecards of " + e.DisplayName()})
	if len(results) == 0 {
		rep.Text = fmt.Sprintf("No scorecard applies to %s.", ref)
		rep.Blocks = append(rep.Blocks, &Section{Text: T(rep.Text)})
		return rep, nil
	}
	_, all := c.Flag("all")
	var summary []string
	for i, res := range results {
		if i > 0 {
			rep.Blocks = append(rep.Blocks, &Divider{})
		}
		level := res.LevelName()
		if level == "" {
			level = "no level yet"
		}
		summary = append(summary, fmt.Sprintf("%s: %s, %.0f%%", res.Scorecard.Title, level, res.Score))
		head := &Section{Text: Text{B(res.Scorecard.Title), P(fmt.Sprintf(" — %s · score %.0f/100", level, res.Score))}}
		rep.Blocks = append(rep.Blocks, head)
		if next := res.Blocking(); len(next) > 0 {
			head.Text = append(head.Text, P(fmt.Sprintf("\nFor %s:", res.Scorecard.LevelName(res.Level+1))))
			rep.Blocks = append(rep.Blocks, &Section{Text: ruleLines(next, res.Scorecard)})
		} else if res.Level == len(res.Scorecard.Levels)-1 {
			head.Text = append(head.Text, P("\nTop level: every rule passes. 🎉"))
		}
		var rest []scoring.RuleResult
		for _, rr := range res.Rules {
			if rr.Rule.Level > res.Level+1 && rr.Outcome != scoring.Pass {
				rest = append(rest, rr)
			}
			if all && rr.Outcome == scoring.Pass {
				rest = append(rest, rr)
			}
		}
		if len(rest) > 0 {
			rep.Blocks = append(rep.Blocks, &Context{Text: ruleLines(rest, res.Scorecard)})
		}
	}
	rep.Text = fmt.Sprintf("%s — %s.", ref, strings.Join(summary, "; "))
	rep.Blocks = append(rep.Blocks, &Context{Text: Text{C(ref)}})
	return rep, nil
}

// ruleLines lists rule results: a mark, the title, the level, and the fix
// (or the reason of an error).
func ruleLines(rules []scoring.RuleResult, sc *scoring.Scorecard) Text {
	var t Text
	for i, rr := range rules {
		if i > 0 {
			t = append(t, P("\n"))
		}
		mark := map[scoring.Outcome]string{scoring.Pass: "✅ ", scoring.Fail: "❌ ", scoring.Error: "⚠️ "}[rr.Outcome]
		t = append(t, P(mark), B(rr.Rule.Title), P(" ("+sc.LevelName(rr.Rule.Level)+")"))
		switch {
		case rr.Outcome == scoring.Error:
			t = append(t, P(" — "+oneLine(rr.Reason, 200)))
			if rr.Rule.Fix != "" {
				t = append(t, P(" · "+oneLine(rr.Rule.Fix, 200)))
			}
		case rr.Outcome == scoring.Fail && rr.Rule.Fix != "":
			t = append(t, P(" — "+oneLine(rr.Rule.Fix, 200)))
		}
		if rr.Outcome != scoring.Pass && rr.Rule.Link != "" {
			t = append(t, P(" "), L("how", rr.Rule.Link))
		}
		for _, f := range rr.Facts {
			t = append(t, P(fmt.Sprintf(" · %s from %s, ", f.Name, f.Source)), When(f.At))
		}
	}
	return t
}

func (r *Router) leaderboard(ctx context.Context, c *Call) (*Reply, error) {
	cards := r.scorer.Scorecards()
	if len(cards) == 0 {
		return nil, Errorf("No scorecards are loaded.").WithHint("start idpbot with --scorecards PATH (see deploy/examples/scorecards)")
	}
	sc := cards[0]
	if len(c.Args.Words) > 0 {
		var ok bool
		if sc, ok = r.scorer.Scorecard(c.Args.Words[0]); !ok {
			ids := make([]string, len(cards))
			for i, x := range cards {
				ids[i] = x.ID
			}
			return nil, Errorf("There is no scorecard %q.", c.Args.Words[0]).WithHint("use one of %s", strings.Join(ids, ", "))
		}
	}
	rep, err := r.reports.get(ctx, r.scorer, r.now())
	if err != nil {
		return nil, err
	}
	out := &Reply{}
	if team, ok := c.Flag("team"); ok {
		g, err := r.cat.Resolve(ctx, team, catalog.KindGroup)
		if err != nil {
			return nil, err
		}
		return teamBoard(out, sc, rep, g), nil
	}
	// Rank teams against teams: departments and the organisation roll up
	// their teams and would crowd the board.
	var teams []*scoring.TeamResult
	for _, tr := range rep.Teams[sc.ID] {
		if strings.EqualFold(tr.Type, "team") {
			teams = append(teams, tr)
		}
	}
	if len(teams) == 0 {
		teams = rep.Teams[sc.ID]
	}
	out.Text = fmt.Sprintf("%s leaderboard: %d teams.", sc.Title, len(teams))
	out.Blocks = append(out.Blocks, &Header{Text: sc.Title + " leaderboard"})
	if len(teams) == 0 {
		out.Blocks = append(out.Blocks, &Section{Text: T("No team owns an entity this scorecard applies to.")})
		return out, nil
	}
	t := capped(len(teams), maxLeaderboardRows, "\n", "\n…and %d more teams", func(i int) Text {
		tr := teams[i]
		return Text{P(fmt.Sprintf("%s %d. ", medal(i), i+1)), B(tr.DisplayName),
			P(fmt.Sprintf(" — %.0f/100 over %s · %s", tr.Score, plural(tr.Entities, "entity"), levelCounts(sc, tr.Levels)))}
	})
	out.Blocks = append(out.Blocks, &Section{Text: t})
	foot := Text{P("Scores as of "), When(rep.At), P(fmt.Sprintf(" · %s ranks a team's entities", cmdline(c.Request, "leaderboard "+sc.ID+" --team <team>")))}
	var others []string
	for _, x := range cards {
		if x.ID != sc.ID {
			others = append(others, x.ID)
		}
	}
	if len(others) > 0 {
		foot = append(foot, P(" · other scorecards: "+strings.Join(others, ", ")))
	}
	out.Blocks = append(out.Blocks, &Context{Text: foot})
	return out, nil
}

func teamBoard(out *Reply, sc *scoring.Scorecard, rep *scoring.Report, g *catalog.Entity) *Reply {
	owned := map[string]bool{}
	for _, ref := range g.RelationTargets(catalog.RelOwnerOf) {
		owned[ref] = true
	}
	var rows []*scoring.Result
	for _, res := range rep.Results[sc.ID] {
		if owned[res.Entity] {
			rows = append(rows, res)
		}
	}
	// best first
	for i := 1; i < len(rows); i++ {
		for j := i; j > 0 && rows[j].Score > rows[j-1].Score; j-- {
			rows[j], rows[j-1] = rows[j-1], rows[j]
		}
	}
	out.Text = fmt.Sprintf("%s: %s's %s.", sc.Title, g.DisplayName(), plural(len(rows), "entity"))
	out.Blocks = append(out.Blocks, &Header{Text: sc.Title + " — " + g.DisplayName()})
	if len(rows) == 0 {
		out.Blocks = append(out.Blocks, &Section{Text: T("The team owns nothing this scorecard applies to.")})
		return out
	}
	t := capped(len(rows), maxLeaderboardRows, "\n", "\n…and %d more", func(i int) Text {
		res := rows[i]
		level := res.LevelName()
		if level == "" {
			level = "no level"
		}
		line := Text{C(catalog.MustParseRef(res.Entity).Name), P(fmt.Sprintf(" — %s, %.0f/100", level, res.Score))}
		if b := res.Blocking(); len(b) > 0 {
			line = append(line, P(" · next: "+b[0].Rule.Title))
		}
		return line
	})
	out.Blocks = append(out.Blocks, &Section{Text: t}, &Context{Text: Text{P("Scores as of "), When(rep.At)}})
	return out
}

func medal(i int) string {
	switch i {
	case 0:
		return "🥇"
	case 1:
		return "🥈"
	case 2:
		return "🥉"
	}
	return "  "
}

func levelCounts(sc *scoring.Scorecard, counts []int) string {
	var parts []string
	for i := len(sc.Levels) - 1; i >= 0; i-- {
		if counts[i] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[i], sc.Levels[i]))
		}
	}
	if n := counts[len(sc.Levels)]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d without a level", n))
	}
	return strings.Join(parts, ", ")
}

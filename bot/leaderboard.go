package bot

import (
	"fmt"
	"math"
	"strings"

	"github.com/idpbot/idpbot/catalog"
	"github.com/idpbot/idpbot/scoring"
)

// LeaderboardPost is the weekly message of a leaderboard: for a team's
// channel its standing, what improved and the top things to fix, with the
// board; for the global channel the board. It is posted in channel and
// stays well inside every platform's limits.
func LeaderboardPost(p *scoring.Post) *Reply {
	b := p.Board
	sc := b.Scorecard
	rep := &Reply{Visibility: InChannel}
	if p.Team != nil {
		s := p.Team.Standing
		rep.Text = fmt.Sprintf("%s: %s is #%d of %d this week with %.0f/100%s.", sc.Title, s.DisplayName, s.Rank, len(b.Standings), s.Score, deltaText(s))
		rep.Blocks = append(rep.Blocks, &Header{Text: fmt.Sprintf("%s — week %s", sc.Title, strings.TrimPrefix(b.Week[5:], "W"))})
		head := Text{P(fmt.Sprintf("%s %s is ", medal(s.Rank-1), s.DisplayName)), B(fmt.Sprintf("#%d of %d", s.Rank, len(b.Standings))),
			P(fmt.Sprintf(" with %.0f/100%s over %s.", s.Score, deltaText(s), plural(s.Entities, "entity")))}
		head = append(head, P(" "+cheer(s, b)))
		rep.Blocks = append(rep.Blocks, &Section{Text: head, Fields: []Field{{Label: "Levels", Value: T(levelCounts(sc, s.Levels))}}})
		if len(p.Team.Movers) > 0 {
			rep.Blocks = append(rep.Blocks, &Section{Text: append(Text{B("Most improved")}, capped(len(p.Team.Movers), 3, "", "", func(i int) Text {
				m := p.Team.Movers[i]
				return Text{P("\n• "), C(catalog.MustParseRef(m.Entity).Name), P(fmt.Sprintf(" %.0f → %.0f", m.From, m.To))}
			})...)})
		}
		if len(p.Team.Fixes) > 0 {
			t := Text{B("Fix next")}
			for _, f := range p.Team.Fixes {
				t = append(t, P("\n• "), B(f.Rule.Title), P(fmt.Sprintf(" (%s, %s)", sc.LevelName(f.Rule.Level), plural(f.Entities, "entity"))))
				if f.Rule.Fix != "" {
					t = append(t, P(" — "+oneLine(f.Rule.Fix, 160)))
				}
			}
			rep.Blocks = append(rep.Blocks, &Section{Text: t})
		}
		if len(p.Team.NewlyFailing) > 0 {
			var names []string
			for _, r := range p.Team.NewlyFailing {
				names = append(names, r.Title)
			}
			rep.Blocks = append(rep.Blocks, &Context{Text: T("Newly failing this week: " + strings.Join(names, ", "))})
		}
		rep.Blocks = append(rep.Blocks, &Divider{})
	} else {
		rep.Text = fmt.Sprintf("%s leaderboard, week %s: %s leads.", sc.Title, b.Week, leader(b))
		rep.Blocks = append(rep.Blocks, &Header{Text: fmt.Sprintf("%s leaderboard — week %s", sc.Title, strings.TrimPrefix(b.Week[5:], "W"))})
	}
	rows := capped(len(b.Standings), maxLeaderboardRows, "\n", "\n…and %d more teams", func(i int) Text {
		s := b.Standings[i]
		line := Text{P(fmt.Sprintf("%s %d. ", medal(i), s.Rank))}
		if p.Team != nil && s.Team == p.Team.Standing.Team {
			line = append(line, B(s.DisplayName))
		} else {
			line = append(line, P(s.DisplayName))
		}
		return append(line, P(fmt.Sprintf(" — %.0f/100%s", s.Score, deltaText(s))))
	})
	rep.Blocks = append(rep.Blocks, &Section{Text: rows})
	foot := Text{P("Scores as of "), When(b.At)}
	if b.MostImproved != nil {
		foot = append(foot, P(fmt.Sprintf(" · most improved: %s (%+.0f)", b.MostImproved.DisplayName, b.MostImproved.Delta)))
	}
	foot = append(foot, P(" · /idp score <entity> shows what to fix"))
	rep.Blocks = append(rep.Blocks, &Context{Text: foot})
	return rep
}

func deltaText(s scoring.Standing) string {
	switch {
	case !s.HasDelta:
		return ""
	case math.Abs(s.Delta) < 0.5:
		return " (=)"
	}
	return fmt.Sprintf(" (%+.0f)", s.Delta)
}

// cheer is a congratulatory line that fits the standing.
func cheer(s scoring.Standing, b *scoring.Board) string {
	switch {
	case b.MostImproved != nil && b.MostImproved.Team == s.Team:
		return "Most improved team of the week — well done! 🚀"
	case s.Rank == 1:
		return "Top of the board — great work! 🏆"
	case s.HasDelta && s.Delta >= 0.5:
		return "Moving up — nice progress! 📈"
	}
	return "Every fix below moves the score; you've got this. 💪"
}

func leader(b *scoring.Board) string {
	if len(b.Standings) == 0 {
		return "nobody"
	}
	return b.Standings[0].DisplayName
}

package scoring

import (
	"bytes"
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// maxChartTeams keeps the chart readable.
const maxChartTeams = 15

// Chart draws a board as a PNG bar chart: each team's score this week, and
// last week's beside it where there was one, best first. highlight (a team
// ref, or "") is drawn in a stronger colour.
func Chart(b *Board, highlight string) ([]byte, error) {
	n := min(len(b.Standings), maxChartTeams)
	if n == 0 {
		return nil, fmt.Errorf("chart: the board has no teams")
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s — week %s", b.Scorecard.Title, b.Week)
	p.Y.Label.Text = "score"
	p.Y.Min, p.Y.Max = 0, 115 // room above 100 for the legend
	now := make(plotter.Values, n)
	prev := make(plotter.Values, n)
	names := make([]string, n)
	hasPrev := false
	for i, s := range b.Standings[:n] {
		now[i] = s.Score
		if s.HasDelta {
			prev[i] = s.Score - s.Delta
			hasPrev = true
		}
		names[i] = s.DisplayName
	}
	w := vg.Points(14)
	thisWeek, err := plotter.NewBarChart(now, w)
	if err != nil {
		return nil, err
	}
	thisWeek.Color = color.RGBA{R: 0x2e, G: 0x7d, B: 0xd1, A: 0xff}
	thisWeek.LineStyle.Width = 0
	p.Add(thisWeek)
	p.Legend.Add("this week", thisWeek)
	if hasPrev {
		lastWeek, err := plotter.NewBarChart(prev, w)
		if err != nil {
			return nil, err
		}
		lastWeek.Color = color.RGBA{R: 0xb0, G: 0xbe, B: 0xc5, A: 0xff}
		lastWeek.LineStyle.Width = 0
		lastWeek.Offset = -w
		thisWeek.Offset = 0
		p.Add(lastWeek)
		p.Legend.Add("last week", lastWeek)
	}
	for i, s := range b.Standings[:n] {
		if s.Team == highlight {
			mark, err := plotter.NewBarChart(onlyAt(n, i, s.Score), w)
			if err == nil {
				mark.Color = color.RGBA{R: 0xf5, G: 0x9e, B: 0x0b, A: 0xff}
				mark.LineStyle.Width = 0
				p.Add(mark)
			}
		}
	}
	p.Legend.Top = true
	p.NominalX(names...)
	p.X.Min, p.X.Max = -0.8, float64(n)-0.2
	p.X.Tick.Label.Rotation = 0.6
	p.X.Tick.Label.XAlign = draw.XRight
	width := vg.Length(120+60*n) * vg.Millimeter / 4
	wt, err := p.WriterTo(max(width, 12*vg.Centimeter), 10*vg.Centimeter, "png")
	if err != nil {
		return nil, fmt.Errorf("chart: %w", err)
	}
	var buf bytes.Buffer
	if _, err := wt.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("chart: %w", err)
	}
	return buf.Bytes(), nil
}

func onlyAt(n, i int, v float64) plotter.Values {
	vs := make(plotter.Values, n)
	vs[i] = v
	return vs
}

package scoring

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// maxEntitySeries bounds the per-entity gauges: above it only teams are
// exported (a catalog of 100k entities would otherwise make 100k series
// per scorecard).
const maxEntitySeries = 2000

// Metrics exports evaluations to Prometheus: team scores and level counts,
// entity scores and levels (up to maxEntitySeries per scorecard), and how
// long evaluations take.
type Metrics struct {
	teamScore   *prometheus.GaugeVec
	teamLevel   *prometheus.GaugeVec
	entityScore *prometheus.GaugeVec
	entityLevel *prometheus.GaugeVec
	duration    prometheus.Histogram
	evaluated   *prometheus.GaugeVec
}

// NewMetrics registers the scorecard metrics with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		teamScore: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "idpbot_scorecard_team_score",
			Help: "Mean score (0-100) of a team's entities on a scorecard, sub-teams included."}, []string{"scorecard", "team"}),
		teamLevel: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "idpbot_scorecard_team_entities",
			Help: "A team's entities per level reached on a scorecard (level \"none\" for no level)."}, []string{"scorecard", "team", "level"}),
		entityScore: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "idpbot_scorecard_entity_score",
			Help: "Score (0-100) of an entity on a scorecard (only while a scorecard applies to at most 2000 entities)."}, []string{"scorecard", "entity"}),
		entityLevel: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "idpbot_scorecard_entity_level",
			Help: "Level index reached by an entity (-1: none; 0: the first level)."}, []string{"scorecard", "entity"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "idpbot_scorecard_evaluation_duration_seconds",
			Help: "Time to evaluate every scorecard over the catalog.", Buckets: prometheus.ExponentialBuckets(0.01, 2, 12)}),
		evaluated: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "idpbot_scorecard_entities",
			Help: "Entities a scorecard applies to."}, []string{"scorecard"}),
	}
	for _, c := range []prometheus.Collector{m.teamScore, m.teamLevel, m.entityScore, m.entityLevel, m.duration, m.evaluated} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Observe sets the gauges from a report (replacing the previous report's
// series) and records how long it took.
func (m *Metrics) Observe(rep *Report, took time.Duration, cards []*Scorecard) {
	if m == nil {
		return
	}
	m.duration.Observe(took.Seconds())
	m.teamScore.Reset()
	m.teamLevel.Reset()
	m.entityScore.Reset()
	m.entityLevel.Reset()
	for _, sc := range cards {
		results := rep.Results[sc.ID]
		m.evaluated.WithLabelValues(sc.ID).Set(float64(len(results)))
		for _, t := range rep.Teams[sc.ID] {
			m.teamScore.WithLabelValues(sc.ID, t.Team).Set(t.Score)
			for i, n := range t.Levels {
				level := "none"
				if i < len(sc.Levels) {
					level = sc.Levels[i]
				}
				m.teamLevel.WithLabelValues(sc.ID, t.Team, level).Set(float64(n))
			}
		}
		if len(results) > maxEntitySeries {
			continue
		}
		for _, r := range results {
			m.entityScore.WithLabelValues(sc.ID, r.Entity).Set(r.Score)
			m.entityLevel.WithLabelValues(sc.ID, r.Entity).Set(float64(r.Level))
		}
	}
}

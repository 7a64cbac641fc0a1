package bot

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts commands and times them, per platform and command.
type Metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// NewMetrics registers the command metrics with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "idpbot_commands_total",
			Help: "Commands handled, by platform, command and outcome (ok, form: a form was offered for missing inputs, user_error, internal_error).",
		}, []string{"platform", "command", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "idpbot_command_duration_seconds",
			Help:    "Time to answer a command, by platform and command.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"platform", "command"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.latency} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Metrics) observe(p Platform, command, outcome string, d time.Duration) {
	if m == nil {
		return
	}
	if command == "" {
		command = "invalid"
	}
	m.requests.WithLabelValues(string(p), command, outcome).Inc()
	m.latency.WithLabelValues(string(p), command).Observe(d.Seconds())
}

package consumers

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics of one consumer; the vectors are shared by every consumer of a
// registry and labelled by consumer name.
type metrics struct {
	processed  prometheus.Counter
	failures   prometheus.Counter
	duplicates prometheus.Counter
	poison     prometheus.Counter
	lag        prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer, name string) (*metrics, error) {
	processed, err := register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kontor_consumer_processed_total",
		Help: "Events handled successfully, by consumer.",
	}, []string{"consumer"}))
	if err != nil {
		return nil, err
	}
	failures, err := register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kontor_consumer_failures_total",
		Help: "Failed handler attempts, by consumer.",
	}, []string{"consumer"}))
	if err != nil {
		return nil, err
	}
	skipped, err := register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kontor_consumer_skipped_total",
		Help: "Messages acked without calling the handler, by consumer and reason (duplicate: already processed; poison: not an event envelope).",
	}, []string{"consumer", "reason"}))
	if err != nil {
		return nil, err
	}
	lag, err := register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "kontor_consumer_lag_seconds",
		Help: "Seconds between the date of the last event a consumer went through and the moment it did, by consumer.",
	}, []string{"consumer"}))
	if err != nil {
		return nil, err
	}
	return &metrics{
		processed:  processed.WithLabelValues(name),
		failures:   failures.WithLabelValues(name),
		duplicates: skipped.WithLabelValues(name, "duplicate"),
		poison:     skipped.WithLabelValues(name, "poison"),
		lag:        lag.WithLabelValues(name),
	}, nil
}

// register registers c, or returns the equal collector registered before
// (several consumers, or a restarted one, share one registry).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if reg == nil {
		return c, nil
	}
	err := reg.Register(c)
	var already prometheus.AlreadyRegisteredError
	if errors.As(err, &already) {
		if existing, ok := already.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, err
}

// observeLag sets the lag from the date of the event just gone through.
func (m *metrics) observeLag(date time.Time) {
	m.lag.Set(time.Since(date).Seconds())
}

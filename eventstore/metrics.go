package eventstore

import "github.com/prometheus/client_golang/prometheus"

// metrics describe the write path: how many commands each group commit
// carries and how long it takes, per ledger.
type metrics struct {
	batchSize     *prometheus.HistogramVec
	batchDuration *prometheus.HistogramVec
	stale         *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		batchSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kontor_ledger_batch_size",
			Help:    "Commands written per group commit, by ledger.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 12),
		}, []string{"ledger"}),
		batchDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kontor_ledger_batch_duration_seconds",
			Help:    "Time to evaluate and commit one group commit, by ledger.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}, []string{"ledger"}),
		stale: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kontor_ledger_stale_batches_total",
			Help: "Batches prepared again because another process wrote the ledger first, by ledger.",
		}, []string{"ledger"}),
	}
	if reg != nil {
		reg.MustRegister(m.batchSize, m.batchDuration, m.stale)
	}
	return m
}

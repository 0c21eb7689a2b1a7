package main

import (
	"math"
	"slices"
	"sync"
	"time"
)

// tally records, per log id of the measured ledger, when its commit was
// first seen and when its event was first received. It is safe for
// concurrent use.
type tally struct {
	mu         sync.Mutex
	committed  []time.Time // by log id: when its commit was seen
	dates      []time.Time // by log id: the event's date
	received   []time.Time // by log id: first receipt, zero until then
	events     int64       // distinct log ids received
	duplicates int64       // receipts of an id already received
	first      time.Time   // first receipt
	last       time.Time   // last receipt
}

// result is busbench's report, one JSON line.
type result struct {
	Tool         string  `json:"tool"`
	Bus          string  `json:"bus"`
	Ledger       string  `json:"ledger"`
	Expected     int64   `json:"expected"`
	Events       int64   `json:"events"`
	Duplicates   int64   `json:"duplicates"`
	Lost         int64   `json:"lost"`
	EventsPerSec float64 `json:"events_per_s"`
	LagP50       float64 `json:"lag_p50_ms"`
	LagP99       float64 `json:"lag_p99_ms"`
	LagMax       float64 `json:"lag_max_ms"`
	DateLagP50   float64 `json:"date_lag_p50_ms"`
	DateLagP99   float64 `json:"date_lag_p99_ms"`
}

// commit records that every log up to id upTo was seen committed at at.
func (t *tally) commit(upTo int64, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for int64(len(t.committed)) <= upTo {
		t.committed = append(t.committed, at)
	}
}

// receive records the event of log id, dated date, received at at.
func (t *tally) receive(id int64, date, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if id < int64(len(t.received)) && !t.received[id].IsZero() {
		t.duplicates++
		return
	}
	for int64(len(t.received)) <= id {
		t.received = append(t.received, time.Time{})
		t.dates = append(t.dates, time.Time{})
	}
	t.received[id], t.dates[id] = at, date
	t.events++
	if t.first.IsZero() {
		t.first = at
	}
	t.last = at
}

// progress returns the distinct events received so far and the time of the
// last one.
func (t *tally) progress() (int64, time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.events, t.last
}

// result summarizes the tally against the expected number of events. A
// receipt before its commit was seen counts as zero lag.
func (t *tally) result(expected int64) result {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := result{Tool: "busbench", Expected: expected, Events: t.events, Duplicates: t.duplicates,
		Lost: max(expected-t.events, 0)}
	if span := t.last.Sub(t.first); span > 0 {
		r.EventsPerSec = float64(t.events) / span.Seconds()
	}
	var lags, dateLags []time.Duration
	for id, at := range t.received {
		if at.IsZero() {
			continue
		}
		lag := time.Duration(0)
		if id < len(t.committed) {
			lag = max(at.Sub(t.committed[id]), 0)
		}
		lags = append(lags, lag)
		dateLags = append(dateLags, at.Sub(t.dates[id]))
	}
	slices.Sort(lags)
	slices.Sort(dateLags)
	r.LagP50, r.LagP99, r.LagMax = percentile(lags, 0.50), percentile(lags, 0.99), percentile(lags, 1)
	r.DateLagP50, r.DateLagP99 = percentile(dateLags, 0.50), percentile(dateLags, 0.99)
	return r
}

// percentile is the nearest-rank p-quantile of sorted, in milliseconds (0
// when empty).
func percentile(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := max(int(math.Ceil(p*float64(len(sorted))))-1, 0)
	return float64(sorted[i]) / float64(time.Millisecond)
}

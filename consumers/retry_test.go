package consumers

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kontorhq/kontor/platform/bus"
	"github.com/kontorhq/kontor/platform/pgtest"
)

// flaky fails the first failures calls for event l0-0 (the first one by
// panicking) and records the order of the successful calls.
type flaky struct {
	failures int
	mu       sync.Mutex
	calls    map[string]int
	order    []string
}

func (f *flaky) Handle(_ context.Context, env bus.Envelope) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[env.IdempotencyKey]++
	if env.IdempotencyKey == "l0-0" && f.calls["l0-0"] <= f.failures {
		if f.calls["l0-0"] == 1 {
			panic("boom")
		}
		return errors.New("flaky")
	}
	f.order = append(f.order, env.IdempotencyKey)
	return nil
}

func TestRetry(t *testing.T) {
	pool := pgtest.NewPool(t)
	for _, tc := range []struct {
		name     string
		attempts int
		failures int
	}{
		{"within one delivery", 5, 2},
		{"across nacks and redeliveries", 2, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			topic := "retry" + string(rune('a'+tc.attempts))
			tr := postgresTransport(t, pool, topic)
			publish(t, tr.publisher, topic, []string{"l0"}, seqRange(0, 2))
			reg := prometheus.NewRegistry()
			h := &flaky{failures: tc.failures, calls: map[string]int{}}
			name := "retrier-" + topic
			c := start(t, Options{
				Name:       name,
				Topics:     []string{topic},
				Subscriber: tr.subscriber(t, name),
				Handler:    h,
				DB:         pool,
				Registerer: reg,
				Logger:     quiet,
				Retry:      Retry{Attempts: tc.attempts, Initial: time.Millisecond, Max: 4 * time.Millisecond},
			})
			eventually(t, wait, "both events", func() bool {
				return metric(t, reg, "kontor_consumer_processed_total", "consumer", name) == 2
			})
			c.stop(t)
			h.mu.Lock()
			defer h.mu.Unlock()
			if h.calls["l0-0"] != tc.failures+1 || h.calls["l0-1"] != 1 {
				t.Errorf("calls %v, want l0-0 %d times and l0-1 once", h.calls, tc.failures+1)
			}
			if len(h.order) != 2 || h.order[0] != "l0-0" || h.order[1] != "l0-1" {
				t.Errorf("handled %v, want l0-0 then l0-1", h.order)
			}
			if got := metric(t, reg, "kontor_consumer_failures_total", "consumer", name); got != float64(tc.failures) {
				t.Errorf("failures metric %v, want %d", got, tc.failures)
			}
		})
	}
}

func TestRetryDelays(t *testing.T) {
	r := Retry{Initial: 100 * time.Millisecond, Max: time.Second}.withDefaults()
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, w := range want {
		if got := r.delay(i + 1); got != w*time.Millisecond {
			t.Errorf("delay(%d) = %v, want %v", i+1, got, w*time.Millisecond)
		}
	}
	if r.Attempts != DefaultRetryAttempts || r.Multiplier != DefaultRetryMultiplier {
		t.Errorf("defaults %+v", r)
	}
}

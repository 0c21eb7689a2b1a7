package consumers

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kontorhq/kontor/platform/bus"
)

// event is the payload of the test envelopes: the seq-th event of ledger.
type event struct {
	Ledger string `json:"ledger"`
	Seq    int    `json:"seq"`
}

func key(ledger string, seq int) string { return fmt.Sprintf("%s-%d", ledger, seq) }

// envelopeMessage builds the message of the seq-th event of ledger,
// partitioned by ledger.
func envelopeMessage(t testing.TB, ledger string, seq int, date time.Time) *message.Message {
	t.Helper()
	payload, _ := json.Marshal(event{Ledger: ledger, Seq: seq})
	msg, err := bus.NewMessage(bus.Envelope{
		IdempotencyKey: key(ledger, seq),
		Date:           date,
		App:            "ledger",
		Version:        "v2",
		Type:           "COMMITTED_TRANSACTIONS",
		Payload:        payload,
	}, ledger)
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

// publish sends the events seqs of every ledger: the ledgers concurrently,
// each one's events in order.
func publish(t testing.TB, pub message.Publisher, topic string, ledgers []string, seqs []int) {
	t.Helper()
	errs := make(chan error, len(ledgers))
	for _, l := range ledgers {
		msgs := make([]*message.Message, 0, len(seqs))
		for _, seq := range seqs {
			msgs = append(msgs, envelopeMessage(t, l, seq, time.Now()))
		}
		go func() { errs <- pub.Publish(topic, msgs...) }()
	}
	for range ledgers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func seqRange(from, to int) []int {
	s := make([]int, 0, to-from)
	for i := from; i < to; i++ {
		s = append(s, i)
	}
	return s
}

// recorder is a Handler that checks the per-ledger order of the events it
// handles and counts the calls per idempotency key.
type recorder struct {
	mu       sync.Mutex
	next     map[string]int
	calls    map[string]int
	handled  int
	problems []string
}

func newRecorder() *recorder {
	return &recorder{next: map[string]int{}, calls: map[string]int{}}
}

func (r *recorder) Handle(_ context.Context, env bus.Envelope) error {
	var e event
	if err := json.Unmarshal(env.Payload, &e); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls[env.IdempotencyKey]++
	r.handled++
	switch want := r.next[e.Ledger]; {
	case e.Seq == want:
		r.next[e.Ledger]++
	case e.Seq > want:
		r.problems = append(r.problems, fmt.Sprintf("ledger %s: got seq %d before %d", e.Ledger, e.Seq, want))
	}
	return nil
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.handled
}

// gated lets n events through h, then blocks every later call until its
// context is done, as a consumer stopped in the middle of the stream.
func gated(h Handler, n int) Handler {
	var mu sync.Mutex
	passed := 0
	return HandlerFunc(func(ctx context.Context, env bus.Envelope) error {
		mu.Lock()
		open := passed < n
		if open {
			passed++
		}
		mu.Unlock()
		if !open {
			<-ctx.Done()
			return ctx.Err()
		}
		return h.Handle(ctx, env)
	})
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// running is a consumer started by start.
type running struct {
	cancel context.CancelFunc
	done   chan error
}

// start runs a consumer in the background; stop ends it.
func start(t testing.TB, opts Options) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- Run(ctx, opts) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop cancels the consumer and waits for Run to return (once).
func (r *running) stop(t testing.TB) {
	t.Helper()
	if r.done == nil {
		return
	}
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after its context was cancelled")
	}
	r.done = nil
}

// metric reads the value of a counter or gauge of the consumer from reg.
func metric(t testing.TB, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for i := 0; i+1 < len(labels); i += 2 {
				if got[labels[i]] != labels[i+1] {
					continue next
				}
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}

func processedKeys(t testing.TB, pool *pgxpool.Pool, consumer string) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(),
		`SELECT count(*) FROM _system.consumer_processed WHERE consumer = $1`, consumer).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

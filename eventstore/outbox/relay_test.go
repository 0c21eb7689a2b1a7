package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/kontorhq/kontor/consumers"
	"github.com/kontorhq/kontor/domain/ledger"
	"github.com/kontorhq/kontor/eventstore"
	"github.com/kontorhq/kontor/platform/bus"
	"github.com/kontorhq/kontor/platform/pgtest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

const wait = 15 * time.Second

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// fixture is a migrated database with an event store.
type fixture struct {
	pool  *pgxpool.Pool
	store *eventstore.Store
}

func newFixture(t *testing.T, ledgers ...string) *fixture {
	t.Helper()
	pool := pgtest.NewPool(t)
	s := eventstore.New(pool, eventstore.Options{})
	t.Cleanup(s.Close)
	for _, l := range ledgers {
		if _, err := s.CreateLedger(context.Background(), l, ledger.LedgerConfiguration{}); err != nil {
			t.Fatal(err)
		}
	}
	return &fixture{pool: pool, store: s}
}

func (f *fixture) exec(t testing.TB, l string, cmd ledger.Command) ledger.Log {
	t.Helper()
	res, err := f.store.Execute(context.Background(), l, eventstore.Request{Command: cmd})
	if err != nil {
		t.Fatal(err)
	}
	return res.Log
}

func transfer(t testing.TB, f *fixture, l string, amount int64) ledger.Log {
	t.Helper()
	return f.exec(t, l, ledger.CreateTransaction{Postings: ledger.Postings{
		ledger.NewPosting("world", "users:1", "USD", big.NewInt(amount))}})
}

// postgresBus opens the postgres transport on f's database, its topic
// "ledger" created up front (concurrent first publishes race on it).
func postgresBus(t *testing.T, f *fixture) (message.Publisher, func(group string) message.Subscriber) {
	t.Helper()
	db := stdlib.OpenDBFromPool(f.pool)
	t.Cleanup(func() { db.Close() })
	opts := bus.Options{Driver: "postgres", DB: db}
	pub, err := bus.NewPublisher(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pub.Close() })
	sub := func(group string) message.Subscriber {
		s, err := bus.NewSubscriber(bus.SubscriberOptions{Options: opts, Group: group,
			PollInterval: 10 * time.Millisecond, ResendInterval: 10 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	if err := sub("init").(message.SubscribeInitializer).SubscribeInitialize(DefaultTopic); err != nil {
		t.Fatal(err)
	}
	return pub, sub
}

// collector records the envelopes a consumer handled, in order.
type collector struct {
	mu   sync.Mutex
	envs []bus.Envelope
}

func (c *collector) Handle(_ context.Context, env bus.Envelope) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.envs = append(c.envs, env)
	return nil
}

func (c *collector) snapshot() []bus.Envelope {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]bus.Envelope(nil), c.envs...)
}

func (c *collector) count() int { return len(c.snapshot()) }

// consume runs consumers.Run on topic "ledger" until the test ends.
func consume(t *testing.T, pool *pgxpool.Pool, sub message.Subscriber) *collector {
	t.Helper()
	c := &collector{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- consumers.Run(ctx, consumers.Options{Name: "test", Topics: []string{DefaultTopic},
			Subscriber: sub, Handler: c, DB: pool, Logger: quiet, Concurrency: 4})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("consumers.Run: %v", err)
		}
	})
	return c
}

// runRelay runs a relay in the background; the returned func stops it and
// waits for Run to return.
func runRelay(t *testing.T, pool *pgxpool.Pool, pub message.Publisher) (*Relay, func()) {
	t.Helper()
	r, err := New(pool, Options{Publisher: pub, PollInterval: 20 * time.Millisecond, Logger: quiet, PageSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Relay.Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return r, stop
}

// published counts the messages on the postgres topic "ledger".
func published(t testing.TB, pool *pgxpool.Pool) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM watermill_ledger`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func watermark(t testing.TB, pool *pgxpool.Pool, l string) int64 {
	t.Helper()
	var id int64
	_ = pool.QueryRow(context.Background(), `SELECT last_log_id FROM _system.outbox_watermarks WHERE ledger = $1`, l).Scan(&id)
	return id
}

func payload(t testing.TB, env bus.Envelope) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(env.Payload, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestPostgresRelayDeliversEveryEventOnceInOrderAndResumes(t *testing.T) {
	f := newFixture(t, "main")
	pub, sub := postgresBus(t, f)
	c := consume(t, f.pool, sub("test"))

	logs := []ledger.Log{
		transfer(t, f, "main", 100),
		transfer(t, f, "main", 5),
		f.exec(t, "main", ledger.SaveMetadata{Target: ledger.TransactionTarget(1), Metadata: ledger.Metadata{"a": "1"}}),
		f.exec(t, "main", ledger.SaveMetadata{Target: ledger.AccountTarget("users:1"), Metadata: ledger.Metadata{"k": "v"}}),
		f.exec(t, "main", ledger.DeleteMetadata{Target: ledger.TransactionTarget(1), Key: "a"}),
		f.exec(t, "main", ledger.RevertTransaction{ID: 2}),
	}
	relay, stop := runRelay(t, f.pool, pub)
	relay.Notify()
	eventually(t, "6 events", func() bool { return c.count() >= 6 })
	stop()

	wantTypes := []string{EventCommittedTransactions, EventCommittedTransactions, EventSavedMetadata,
		EventSavedMetadata, EventDeletedMetadata, EventRevertedTransaction}
	envs := c.snapshot()
	for i, env := range envs {
		if env.Type != wantTypes[i] || env.IdempotencyKey != fmt.Sprintf("main-%d", i+1) ||
			env.App != "ledger" || env.Version != "v2" || !env.Date.Equal(logs[i].Date.Time) {
			t.Errorf("event %d: %s %s %s %s %s, want %s main-%d ledger v2 %s", i, env.Type, env.IdempotencyKey,
				env.App, env.Version, env.Date, wantTypes[i], i+1, logs[i].Date.Time)
		}
		if p := payload(t, env); p["ledger"] != "main" {
			t.Errorf("event %d: ledger %v", i, p["ledger"])
		}
	}
	if p := payload(t, envs[0]); len(p["transactions"].([]any)) != 1 || p["accountMetadata"] == nil ||
		p["transactions"].([]any)[0].(map[string]any)["id"] != float64(1) {
		t.Errorf("COMMITTED_TRANSACTIONS payload %s", envs[0].Payload)
	}
	if p := payload(t, envs[2]); p["targetType"] != "TRANSACTION" || p["targetId"] != "1" || p["metadata"].(map[string]any)["a"] != "1" {
		t.Errorf("SAVED_METADATA payload %s", envs[2].Payload)
	}
	if p := payload(t, envs[3]); p["targetType"] != "ACCOUNT" || p["targetId"] != "users:1" {
		t.Errorf("SAVED_METADATA payload %s", envs[3].Payload)
	}
	if p := payload(t, envs[4]); p["targetType"] != "TRANSACTION" || p["targetId"] != float64(1) || p["key"] != "a" {
		t.Errorf("DELETED_METADATA payload %s", envs[4].Payload)
	}
	if p := payload(t, envs[5]); p["revertedTransaction"].(map[string]any)["id"] != float64(2) ||
		p["revertTransaction"].(map[string]any)["id"] != float64(3) {
		t.Errorf("REVERTED_TRANSACTION payload %s", envs[5].Payload)
	}
	if n := published(t, f.pool); n != 6 {
		t.Fatalf("%d messages published, want 6", n)
	}
	if w := watermark(t, f.pool, "main"); w != 6 {
		t.Fatalf("watermark %d, want 6", w)
	}

	// A restarted relay resumes from the watermark.
	transfer(t, f, "main", 1)
	transfer(t, f, "main", 2)
	runRelay(t, f.pool, pub)
	eventually(t, "8 events", func() bool { return c.count() >= 8 })
	eventually(t, "the watermark at 8", func() bool { return watermark(t, f.pool, "main") == 8 })
	if n := published(t, f.pool); n != 8 {
		t.Fatalf("%d messages published after restart, want 8 (no republishing)", n)
	}
	for i, env := range c.snapshot()[6:] {
		if env.IdempotencyKey != fmt.Sprintf("main-%d", i+7) {
			t.Errorf("after restart: event %s, want main-%d", env.IdempotencyKey, i+7)
		}
	}
}

func TestLogsCommittedWithoutRelayAreDeliveredLater(t *testing.T) {
	// The crash between commit and publish: logs are committed while no
	// relay runs; a relay started afterwards delivers them all.
	f := newFixture(t, "main")
	pub, sub := postgresBus(t, f)
	for i := range 7 {
		transfer(t, f, "main", int64(i+1))
	}
	if n := published(t, f.pool); n != 0 {
		t.Fatalf("%d messages before the relay started", n)
	}
	c := consume(t, f.pool, sub("test"))
	runRelay(t, f.pool, pub)
	eventually(t, "7 events", func() bool { return c.count() >= 7 })
	for i, env := range c.snapshot() {
		if env.IdempotencyKey != fmt.Sprintf("main-%d", i+1) || env.Type != EventCommittedTransactions {
			t.Errorf("event %d: %s %s", i, env.Type, env.IdempotencyKey)
		}
	}
}

// flaky fails its first publishes, then passes them to next.
type flaky struct {
	message.Publisher
	failures atomic.Int32
}

func (p *flaky) Publish(topic string, msgs ...*message.Message) error {
	if p.failures.Add(-1) >= 0 {
		return errors.New("broker unavailable")
	}
	return p.Publisher.Publish(topic, msgs...)
}

func TestFailedPublishKeepsTheWatermark(t *testing.T) {
	f := newFixture(t, "main")
	pub, _ := postgresBus(t, f)
	fp := &flaky{Publisher: pub}
	fp.failures.Store(1)
	transfer(t, f, "main", 1)
	r, err := New(f.pool, Options{Publisher: fp})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Publish(context.Background()); err == nil {
		t.Fatal("no error from a failing publisher")
	}
	if w := watermark(t, f.pool, "main"); w != 0 {
		t.Fatalf("watermark %d after a failed publish", w)
	}
	if n, err := r.Publish(context.Background()); err != nil || n != 1 {
		t.Fatalf("second pass: %d, %v", n, err)
	}
	if w, n := watermark(t, f.pool, "main"), published(t, f.pool); w != 1 || n != 1 {
		t.Fatalf("watermark %d, %d published", w, n)
	}
}

func TestTwoRelaysPublishEachLogOnce(t *testing.T) {
	f := newFixture(t, "main", "other")
	pub, _ := postgresBus(t, f)
	runRelay(t, f.pool, pub)
	runRelay(t, f.pool, pub)
	const n = 30
	for i := range n {
		transfer(t, f, "main", int64(i+1))
		transfer(t, f, "other", int64(i+1))
	}
	eventually(t, "every log published", func() bool {
		return watermark(t, f.pool, "main") == n && watermark(t, f.pool, "other") == n
	})
	var total, distinct int
	if err := f.pool.QueryRow(context.Background(), `SELECT count(*), count(DISTINCT payload->>'idempotency_key') FROM watermill_ledger`).
		Scan(&total, &distinct); err != nil {
		t.Fatal(err)
	}
	if total != 2*n || distinct != 2*n {
		t.Fatalf("%d messages, %d distinct, want %d", total, distinct, 2*n)
	}
}

func TestKafkaRelayKeepsPerLedgerOrder(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, DefaultTopic),
		kfake.GroupMinSessionTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	f := newFixture(t, "alpha", "beta")
	opts := bus.Options{Driver: "kafka", KafkaBrokers: cluster.ListenAddrs()}
	pub, err := bus.NewPublisher(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pub.Close() })
	sub, err := bus.NewSubscriber(bus.SubscriberOptions{Options: opts, Group: "test",
		KafkaSessionTimeout: 3 * time.Second, ResendInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Close() })

	const n = 25
	for i := range n {
		transfer(t, f, "alpha", int64(i+1))
		transfer(t, f, "beta", int64(i+1))
	}
	runRelay(t, f.pool, pub)
	c := consume(t, f.pool, sub)
	eventually(t, "every event", func() bool { return c.count() >= 2*n })
	next := map[string]int{"alpha": 1, "beta": 1}
	for _, env := range c.snapshot() {
		l := payload(t, env)["ledger"].(string)
		if want := fmt.Sprintf("%s-%d", l, next[l]); env.IdempotencyKey != want {
			t.Fatalf("got %s, want %s (per-ledger order broken)", env.IdempotencyKey, want)
		}
		next[l]++
	}
	if c.count() != 2*n {
		t.Fatalf("%d events, want %d", c.count(), 2*n)
	}
}

// recorder keeps the topic of every message published.
type recorder struct {
	mu     sync.Mutex
	topics map[string][]string // topic → event idempotency keys
}

func (r *recorder) Publish(topic string, msgs ...*message.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range msgs {
		env, err := bus.Decode(m)
		if err != nil {
			return err
		}
		r.topics[topic] = append(r.topics[topic], env.Type+" "+env.IdempotencyKey)
	}
	return nil
}

func (r *recorder) Close() error { return nil }

func TestTopicMappingRoutesEvents(t *testing.T) {
	f := newFixture(t, "main")
	transfer(t, f, "main", 1)
	f.exec(t, "main", ledger.SaveMetadata{Target: ledger.AccountTarget("users:1"), Metadata: ledger.Metadata{"k": "v"}})
	f.exec(t, "main", ledger.RevertTransaction{ID: 1, Force: true})
	topics, err := ParseTopicMapping([]string{"COMMITTED_TRANSACTIONS:txs", "*:rest"})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{topics: map[string][]string{}}
	r, err := New(f.pool, Options{Publisher: rec, Topics: topics})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := r.Publish(context.Background()); err != nil || n != 3 {
		t.Fatalf("published %d, %v", n, err)
	}
	want := map[string][]string{
		"txs":  {EventCommittedTransactions + " main-1"},
		"rest": {EventSavedMetadata + " main-2", EventRevertedTransaction + " main-3"},
	}
	if fmt.Sprint(rec.topics) != fmt.Sprint(want) {
		t.Fatalf("topics %v, want %v", rec.topics, want)
	}
}

package consumers

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/kontorhq/kontor/platform/bus"
	"github.com/kontorhq/kontor/platform/pgtest"
)

const wait = 20 * time.Second

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// transport is one bus driver under test.
type transport struct {
	publisher message.Publisher
	// subscriber opens a new member of consumer group group.
	subscriber func(t *testing.T, group string) message.Subscriber
}

func kafkaTransport(t *testing.T, topic string) transport {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, topic),
		kfake.GroupMinSessionTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	opts := bus.Options{Driver: "kafka", KafkaBrokers: cluster.ListenAddrs()}
	return newTransport(t, opts, bus.SubscriberOptions{Options: opts, KafkaSessionTimeout: 3 * time.Second})
}

// postgresTransport creates topic's tables first: the watermill-sql
// publisher creates them on its first publish and concurrent first
// publishes race.
func postgresTransport(t *testing.T, pool *pgxpool.Pool, topic string) transport {
	db := stdlib.OpenDBFromPool(pool)
	t.Cleanup(func() { db.Close() })
	opts := bus.Options{Driver: "postgres", DB: db}
	tr := newTransport(t, opts, bus.SubscriberOptions{Options: opts, PollInterval: 10 * time.Millisecond})
	if err := tr.subscriber(t, "init").(message.SubscribeInitializer).SubscribeInitialize(topic); err != nil {
		t.Fatal(err)
	}
	return tr
}

func newTransport(t *testing.T, opts bus.Options, subOpts bus.SubscriberOptions) transport {
	pub, err := bus.NewPublisher(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pub.Close() })
	subOpts.ResendInterval = 10 * time.Millisecond
	return transport{
		publisher: pub,
		subscriber: func(t *testing.T, group string) message.Subscriber {
			o := subOpts
			o.Group = group
			sub, err := bus.NewSubscriber(o)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { sub.Close() })
			return sub
		},
	}
}

func TestKafkaStream(t *testing.T) {
	pool := pgtest.NewPool(t)
	stream(t, kafkaTransport(t, "ledger"), pool, 250, 300, 50)
}

func TestPostgresStream(t *testing.T) {
	pool := pgtest.NewPool(t)
	stream(t, postgresTransport(t, pool, "ledger"), pool, 50, 120, 10)
}

// stream publishes perLedger events for each of 4 ledgers, consumes them
// with a consumer stopped after stopAt events and restarted, then
// re-publishes the first dups events of every ledger and one new event each.
// Every event must be handled exactly once, in order within its ledger.
func stream(t *testing.T, tr transport, pool *pgxpool.Pool, perLedger, stopAt, dups int) {
	const name, topic = "indexer", "ledger"
	ledgers := []string{"l0", "l1", "l2", "l3"}
	total := perLedger * len(ledgers)
	publish(t, tr.publisher, topic, ledgers, seqRange(0, perLedger))

	reg := prometheus.NewRegistry()
	rec := newRecorder()
	opts := Options{
		Name:       name,
		Topics:     []string{topic},
		Subscriber: tr.subscriber(t, name),
		Handler:    gated(rec, stopAt),
		DB:         pool,
		Registerer: reg,
		Logger:     quiet,
	}
	first := start(t, opts)
	eventually(t, wait, "the first run to handle its share", func() bool { return rec.count() >= stopAt })
	first.stop(t)
	if got := processedKeys(t, pool, name); got != stopAt {
		t.Fatalf("after the first run: %d keys recorded, want %d", got, stopAt)
	}

	// A new process: a new subscriber in the same group resumes the stream.
	opts.Subscriber = tr.subscriber(t, name)
	opts.Handler = rec
	second := start(t, opts)
	eventually(t, wait, "all events", func() bool {
		return metric(t, reg, "kontor_consumer_processed_total", "consumer", name) >= float64(total)
	})
	redelivered := metric(t, reg, "kontor_consumer_skipped_total", "consumer", name, "reason", "duplicate")
	if redelivered >= float64(stopAt) {
		t.Errorf("the restarted consumer went through %v processed events again: it did not resume from its checkpoint", redelivered)
	}

	// Duplicates of processed events, then one new event per ledger behind them.
	publish(t, tr.publisher, topic, ledgers, seqRange(0, dups))
	publish(t, tr.publisher, topic, ledgers, []int{perLedger})
	eventually(t, wait, "the events published after the duplicates", func() bool {
		return metric(t, reg, "kontor_consumer_processed_total", "consumer", name) >= float64(total+len(ledgers))
	})
	second.stop(t)

	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, p := range rec.problems {
		t.Error(p)
	}
	for _, l := range ledgers {
		for seq := 0; seq <= perLedger; seq++ {
			if n := rec.calls[key(l, seq)]; n != 1 {
				t.Errorf("%s handled %d times, want once", key(l, seq), n)
			}
		}
	}
	if len(rec.calls) != total+len(ledgers) {
		t.Errorf("%d distinct events handled, want %d", len(rec.calls), total+len(ledgers))
	}
	if got, want := metric(t, reg, "kontor_consumer_processed_total", "consumer", name), float64(total+len(ledgers)); got != want {
		t.Errorf("processed metric %v, want %v", got, want)
	}
	if got, want := metric(t, reg, "kontor_consumer_skipped_total", "consumer", name, "reason", "duplicate"), redelivered+float64(dups*len(ledgers)); got != want {
		t.Errorf("duplicates metric %v, want %v", got, want)
	}
	if got := metric(t, reg, "kontor_consumer_failures_total", "consumer", name); got != 0 {
		t.Errorf("failures metric %v, want 0", got)
	}
	if got := processedKeys(t, pool, name); got != total+len(ledgers) {
		t.Errorf("%d keys recorded, want %d", got, total+len(ledgers))
	}
}

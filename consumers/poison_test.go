package consumers

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kontorhq/kontor/platform/bus"
	"github.com/kontorhq/kontor/platform/pgtest"
)

func TestPoisonMessagesAreSkipped(t *testing.T) {
	pool := pgtest.NewPool(t)
	const topic, name = "mixed", "webhooks"
	tr := kafkaTransport(t, topic)
	raw := func(payload string) *message.Message {
		msg := message.NewMessage(watermill.NewUUID(), []byte(payload))
		msg.Metadata.Set(bus.PartitionKey, "l0")
		return msg
	}
	hourAgo := time.Now().Add(-time.Hour)
	noKey := `{"idempotency_key":"","date":"2024-05-01T10:00:00Z","app":"ledger","version":"v2","type":"SAVED_METADATA","payload":{}}`
	if err := tr.publisher.Publish(topic,
		raw(`not json`),
		envelopeMessage(t, "l0", 0, time.Now()),
		raw(`{"idempotency_key":"l0-x","date":"2024-05-01T10:00:00Z","payload":{}}`),
		raw(noKey),
		raw(noKey),
		envelopeMessage(t, "l0", 1, hourAgo),
	); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var seen []string
	reg := prometheus.NewRegistry()
	c := start(t, Options{
		Name:       name,
		Topics:     []string{topic},
		Subscriber: tr.subscriber(t, name),
		Handler: HandlerFunc(func(_ context.Context, env bus.Envelope) error {
			mu.Lock()
			defer mu.Unlock()
			seen = append(seen, env.IdempotencyKey)
			return nil
		}),
		DB:         pool,
		Registerer: reg,
		Logger:     quiet,
	})
	eventually(t, wait, "the valid events", func() bool {
		return metric(t, reg, "kontor_consumer_processed_total", "consumer", name) == 4
	})
	c.stop(t)

	mu.Lock()
	defer mu.Unlock()
	if want := []string{"l0-0", "", "", "l0-1"}; len(seen) != len(want) || seen[0] != want[0] || seen[1] != "" || seen[2] != "" || seen[3] != want[3] {
		t.Errorf("handled %q, want %q (events without a key are not deduplicated)", seen, want)
	}
	if got := metric(t, reg, "kontor_consumer_skipped_total", "consumer", name, "reason", "poison"); got != 2 {
		t.Errorf("poison metric %v, want 2", got)
	}
	if got := processedKeys(t, pool, name); got != 2 {
		t.Errorf("%d keys recorded, want 2", got)
	}
	lag := metric(t, reg, "kontor_consumer_lag_seconds", "consumer", name)
	if lag < 3600 || lag > 3600+wait.Seconds() {
		t.Errorf("lag %v s after an event an hour old", lag)
	}
}

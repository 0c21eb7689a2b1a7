package consumers

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kontorhq/kontor/platform/bus"
	"github.com/kontorhq/kontor/platform/pgtest"
)

func insertKeys(t *testing.T, pool *pgxpool.Pool, consumer string, age time.Duration, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, err := pool.Exec(context.Background(), `INSERT INTO _system.consumer_processed
			(consumer, idempotency_key, processed_at) VALUES ($1, $2, now() - make_interval(secs => $3))`,
			consumer, k, age.Seconds()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCleanupDeletesExpiredKeysOnly(t *testing.T) {
	pool := pgtest.NewPool(t)
	defer func(b int) { cleanupBatch = b }(cleanupBatch)
	cleanupBatch = 2 // exercise the batches
	insertKeys(t, pool, "a", 48*time.Hour, "old1", "old2", "old3")
	insertKeys(t, pool, "a", time.Minute, "new1", "new2")
	insertKeys(t, pool, "b", 48*time.Hour, "old1", "old2")

	n, err := Cleanup(context.Background(), pool, "a", 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("deleted %d, want 3", n)
	}
	if a, b := processedKeys(t, pool, "a"), processedKeys(t, pool, "b"); a != 2 || b != 2 {
		t.Errorf("left a=%d b=%d, want 2 and 2", a, b)
	}
	if n, err := Cleanup(context.Background(), pool, "a", 24*time.Hour); n != 0 || err != nil {
		t.Errorf("second cleanup: %d %v", n, err)
	}
	done, err := processed(context.Background(), pool, "a", "new1")
	if err != nil || !done {
		t.Errorf("new1 should still be processed: %v %v", done, err)
	}
}

func TestRunCleansUpAndStopsWhenTheSubscriberCloses(t *testing.T) {
	pool := pgtest.NewPool(t)
	const topic, name = "cleanup", "janitor"
	tr := postgresTransport(t, pool, topic)
	insertKeys(t, pool, name, 2*time.Hour, "expired")
	sub := tr.subscriber(t, name)
	done := make(chan error, 1)
	handled := make(chan struct{}, 1)
	go func() {
		done <- Run(context.Background(), Options{
			Name:       name,
			Topics:     []string{topic},
			Subscriber: sub,
			Handler: HandlerFunc(func(context.Context, bus.Envelope) error {
				handled <- struct{}{}
				return nil
			}),
			DB:        pool,
			Logger:    quiet,
			Retention: time.Hour,
		})
	}()
	publish(t, tr.publisher, topic, []string{"l0"}, []int{0})
	select {
	case <-handled:
	case <-time.After(wait):
		t.Fatal("event not handled")
	}
	eventually(t, wait, "the expired key to be deleted and the new one recorded", func() bool {
		var expired, fresh bool
		expired, _ = processed(context.Background(), pool, name, "expired")
		fresh, _ = processed(context.Background(), pool, name, "l0-0")
		return !expired && fresh
	})
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, ErrSubscriptionEnded) {
			t.Fatalf("Run returned %v, want ErrSubscriptionEnded", err)
		}
	case <-time.After(wait):
		t.Fatal("Run did not return after its subscriber closed")
	}
}

func TestRunValidatesOptions(t *testing.T) {
	pool := pgtest.NewPool(t)
	sub := postgresTransport(t, pool, "x").subscriber(t, "x")
	h := HandlerFunc(func(context.Context, bus.Envelope) error { return nil })
	for _, opts := range []Options{
		{Topics: []string{"x"}, Subscriber: sub, Handler: h, DB: pool},
		{Name: "x", Subscriber: sub, Handler: h, DB: pool},
		{Name: "x", Topics: []string{"x"}, Handler: h, DB: pool},
		{Name: "x", Topics: []string{"x"}, Subscriber: sub, DB: pool},
		{Name: "x", Topics: []string{"x"}, Subscriber: sub, Handler: h},
	} {
		if err := Run(context.Background(), opts); err == nil {
			t.Errorf("%+v: want an error", opts)
		}
	}
	if err := Run(context.Background(), Options{Name: "x", Topics: []string{"bad topic!"}, Subscriber: sub, Handler: h, DB: pool, Logger: quiet}); err == nil {
		t.Error("an invalid topic should fail the subscription")
	}
}

package bus

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v3/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kontorhq/kontor/platform/pgtest"
)

func TestKafkaPublisherReachesBroker(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, "ledger"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()

	pub, err := NewPublisher(Options{Driver: "kafka", KafkaBrokers: cluster.ListenAddrs()})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	for _, ledger := range []string{"a", "b", "a"} {
		msg := message.NewMessage(watermill.NewUUID(), []byte(`{"ledger":"`+ledger+`"}`))
		msg.Metadata.Set(PartitionKey, ledger)
		if err := pub.Publish("ledger", msg); err != nil {
			t.Fatal(err)
		}
	}

	client, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.ConsumeTopics("ledger"))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	partitions := map[string]int32{}
	got := 0
	for got < 3 {
		fetches := client.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("received %d of 3 messages", got)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			got++
			key := string(r.Key)
			if p, seen := partitions[key]; seen && p != r.Partition {
				t.Errorf("key %s on partitions %d and %d", key, p, r.Partition)
			}
			partitions[key] = r.Partition
		})
	}
	if len(partitions) != 2 {
		t.Fatalf("want messages keyed by ledger a and b, got %v", partitions)
	}
}

// TestKafkaPublisherBatchKeepsOrder publishes a page of events in one call,
// as the outbox relay does: every message arrives, in order per key.
func TestKafkaPublisherBatchKeepsOrder(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, "ledger"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	pub, err := NewPublisher(Options{Driver: "kafka", KafkaBrokers: cluster.ListenAddrs()})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	const n = 900
	keys := []string{"a", "b", "c"}
	msgs := make([]*message.Message, n)
	for i := range msgs {
		key := keys[i%len(keys)]
		msgs[i] = message.NewMessage(watermill.NewUUID(), []byte(fmt.Sprint(i)))
		msgs[i].Metadata.Set(PartitionKey, key)
	}
	if err := pub.Publish("ledger", msgs...); err != nil {
		t.Fatal(err)
	}

	client, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.ConsumeTopics("ledger"))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	last := map[string]int{"a": -1, "b": -1, "c": -1}
	got := 0
	for got < n {
		fetches := client.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("received %d of %d messages", got, n)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			got++
			i, err := strconv.Atoi(string(r.Value))
			if err != nil {
				t.Fatalf("record %q: %v", r.Value, err)
			}
			key := string(r.Key)
			if i <= last[key] || keys[i%len(keys)] != key {
				t.Fatalf("key %s: message %d after %d", key, i, last[key])
			}
			last[key] = i
		})
	}
	if last["a"] != n-3 || last["b"] != n-2 || last["c"] != n-1 {
		t.Fatalf("last per key %v", last)
	}
}

func TestPostgresPublisherWritesTopicTable(t *testing.T) {
	pool := pgtest.NewPool(t)
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	pub, err := NewPublisher(Options{Driver: "postgres", DB: db})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	if err := pub.Publish("ledger", message.NewMessage(watermill.NewUUID(), []byte(`{"x":1}`))); err != nil {
		t.Fatal(err)
	}

	sub, err := wsql.NewSubscriber(db, wsql.SubscriberConfig{
		SchemaAdapter:  wsql.DefaultPostgreSQLSchema{},
		OffsetsAdapter: wsql.DefaultPostgreSQLOffsetsAdapter{},
		ConsumerGroup:  "test",
	}, watermill.NopLogger{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := sub.SubscribeInitialize("ledger"); err != nil {
		t.Fatal(err)
	}
	msgs, err := sub.Subscribe(ctx, "ledger")
	if err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-msgs:
		m.Ack()
		if string(m.Payload) != `{"x":1}` {
			t.Fatalf("payload %s", m.Payload)
		}
	case <-ctx.Done():
		t.Fatal("no message")
	}
}

func TestInvalidOptions(t *testing.T) {
	for _, opts := range []Options{{Driver: "kafka"}, {Driver: "postgres"}, {Driver: "smoke"}} {
		if _, err := NewPublisher(opts); err == nil {
			t.Errorf("%+v: want an error", opts)
		}
	}
	if p, err := NewPublisher(Options{Driver: "none"}); p != nil || err != nil {
		t.Errorf("none: %v %v", p, err)
	}
}

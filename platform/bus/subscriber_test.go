package bus

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/kontorhq/kontor/platform/pgtest"
)

// receive publishes payloads with pub, then reads them back from sub in
// group order and acks them.
func receive(t *testing.T, pub message.Publisher, sub message.Subscriber, topic string, payloads ...string) {
	t.Helper()
	for _, p := range payloads {
		msg := message.NewMessage(watermill.NewUUID(), []byte(p))
		msg.Metadata.Set(PartitionKey, "one")
		if err := pub.Publish(topic, msg); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	msgs, err := sub.Subscribe(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range payloads {
		select {
		case m := <-msgs:
			if string(m.Payload) != want {
				t.Fatalf("got %s, want %s", m.Payload, want)
			}
			if m.Metadata.Get(PartitionKey) != "one" {
				t.Fatalf("metadata %v", m.Metadata)
			}
			m.Ack()
		case <-ctx.Done():
			t.Fatalf("no message %s", want)
		}
	}
	cancel()
	for range msgs {
	}
}

func TestKafkaSubscriberConsumesAsGroup(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "events"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	opts := Options{Driver: "kafka", KafkaBrokers: cluster.ListenAddrs()}
	pub, err := NewPublisher(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	sub, err := NewSubscriber(SubscriberOptions{Options: opts, Group: "indexer"})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	receive(t, pub, sub, "events", `{"n":1}`, `{"n":2}`, `{"n":3}`)
}

func TestPostgresSubscriberConsumesAsGroup(t *testing.T) {
	db := stdlib.OpenDBFromPool(pgtest.NewPool(t))
	defer db.Close()
	opts := Options{Driver: "postgres", DB: db}
	pub, err := NewPublisher(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	sub, err := NewSubscriber(SubscriberOptions{Options: opts, Group: "indexer", PollInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	receive(t, pub, sub, "events", `{"n":1}`, `{"n":2}`, `{"n":3}`)
}

func TestSaramaSubscriberConfig(t *testing.T) {
	cfg, err := SaramaSubscriberConfig(SubscriberOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Version != sarama.V2_8_0_0 || cfg.Consumer.Offsets.Initial != sarama.OffsetOldest || !cfg.Consumer.Return.Errors {
		t.Fatalf("unexpected defaults: %v %v %v", cfg.Version, cfg.Consumer.Offsets.Initial, cfg.Consumer.Return.Errors)
	}
	if cfg.Consumer.Group.Session.Timeout != 10*time.Second {
		t.Fatalf("session timeout %v", cfg.Consumer.Group.Session.Timeout)
	}
	cfg, err = SaramaSubscriberConfig(SubscriberOptions{KafkaSessionTimeout: 1500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Consumer.Group.Session.Timeout != 1500*time.Millisecond || cfg.Consumer.Group.Heartbeat.Interval != 500*time.Millisecond {
		t.Fatalf("session %v heartbeat %v", cfg.Consumer.Group.Session.Timeout, cfg.Consumer.Group.Heartbeat.Interval)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestInvalidSubscriberOptions(t *testing.T) {
	for _, opts := range []SubscriberOptions{
		{Options: Options{Driver: "kafka", KafkaBrokers: []string{"127.0.0.1:1"}}},
		{Options: Options{Driver: "kafka"}, Group: "g"},
		{Options: Options{Driver: "postgres"}, Group: "g"},
		{Options: Options{Driver: "smoke"}, Group: "g"},
	} {
		if _, err := NewSubscriber(opts); err == nil {
			t.Errorf("%+v: want an error", opts)
		}
	}
	if s, err := NewSubscriber(SubscriberOptions{Options: Options{Driver: "none"}}); s != nil || err != nil {
		t.Errorf("none: %v %v", s, err)
	}
}

func TestPostgresSubscribersInitializeConcurrently(t *testing.T) {
	db := stdlib.OpenDBFromPool(pgtest.NewPool(t))
	defer db.Close()
	errs := make(chan error, 4)
	for i := range 4 {
		sub, err := NewSubscriber(SubscriberOptions{Options: Options{Driver: "postgres", DB: db}, Group: fmt.Sprint("g", i)})
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Close()
		go func() { errs <- sub.(message.SubscribeInitializer).SubscribeInitialize("fresh") }()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

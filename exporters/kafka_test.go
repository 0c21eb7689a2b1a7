package exporters

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestKafkaProducesOneMessagePerLogKeyedByLedger(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, "ledger-logs"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	brokers, _ := json.Marshal(cluster.ListenAddrs())
	d, err := New(Config{Driver: "kafka", Config: json.RawMessage(`{"brokers":` + string(brokers) + `,"topic":"ledger-logs"}`)})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()

	a, b := referenceExports(t, "a"), referenceExports(t, "b")
	ctx := context.Background()
	if err := d.Accept(ctx, append(append([]Export(nil), a[:6]...), b...)); err != nil {
		t.Fatal(err)
	}
	if err := d.Accept(ctx, a[6:]); err != nil {
		t.Fatal(err)
	}
	want := len(a) + len(b)

	client, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.ConsumeTopics("ledger-logs"))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	pollCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	partitions := map[string]int32{}
	nextID := map[string]uint64{} // per ledger, the index of the next expected log
	got := 0
	for got < want {
		fetches := client.PollFetches(pollCtx)
		if pollCtx.Err() != nil {
			t.Fatalf("received %d of %d messages", got, want)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			got++
			key := string(r.Key)
			if p, seen := partitions[key]; seen && p != r.Partition {
				t.Errorf("ledger %s on partitions %d and %d", key, p, r.Partition)
			}
			partitions[key] = r.Partition
			var e Export
			if err := json.Unmarshal(r.Value, &e); err != nil {
				t.Fatalf("value: %v", err)
			}
			source := map[string][]Export{"a": a, "b": b}[key]
			i := nextID[key]
			if e.Ledger != key || int(i) >= len(source) || string(r.Value) != mustJSON(t, source[i]) {
				t.Fatalf("ledger %s message %d: %s", key, i, r.Value)
			}
			if !r.Timestamp.Equal(e.Log.Date.Truncate(time.Millisecond)) {
				t.Errorf("timestamp %s, log date %s", r.Timestamp, e.Log.Date)
			}
			nextID[key] = i + 1
		})
	}
	if len(partitions) != 2 {
		t.Fatalf("want messages keyed by ledgers a and b, got %v", partitions)
	}

	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Accept(ctx, a); !errors.Is(err, ErrClosed) {
		t.Fatalf("Accept after Close: %v", err)
	}
}

func TestKafkaUnreachableIsAnAcceptError(t *testing.T) {
	d, err := NewKafka(KafkaConfig{Brokers: []string{"127.0.0.1:1"}, Topic: "t"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Accept(context.Background(), referenceExports(t, "demo")); err == nil {
		t.Fatal("want an error")
	}
}

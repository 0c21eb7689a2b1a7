package bus

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
)

func TestEnvelopeRoundTrip(t *testing.T) {
	date := time.Date(2024, 5, 1, 12, 0, 0, 123456789, time.FixedZone("CEST", 2*3600))
	env := Envelope{
		IdempotencyKey: "main-42",
		Date:           date,
		App:            "ledger",
		Version:        "v2",
		Type:           "COMMITTED_TRANSACTIONS",
		Payload:        json.RawMessage(`{"ledger":"main"}`),
	}
	msg, err := NewMessage(env, "main")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"idempotency_key":"main-42","date":"2024-05-01T10:00:00.123457Z","app":"ledger","version":"v2","type":"COMMITTED_TRANSACTIONS","payload":{"ledger":"main"}}`
	if string(msg.Payload) != want {
		t.Fatalf("payload\n got %s\nwant %s", msg.Payload, want)
	}
	if got := msg.Metadata.Get(PartitionKey); got != "main" {
		t.Fatalf("partition key %q", got)
	}
	if msg.UUID == "" {
		t.Fatal("no message uuid")
	}
	back, err := Decode(msg)
	if err != nil {
		t.Fatal(err)
	}
	if !back.Date.Equal(date.Round(time.Microsecond)) || back.Date.Location() != time.UTC {
		t.Fatalf("date %v", back.Date)
	}
	if back.IdempotencyKey != env.IdempotencyKey || back.App != "ledger" || back.Version != "v2" ||
		back.Type != env.Type || string(back.Payload) != `{"ledger":"main"}` {
		t.Fatalf("decoded %+v", back)
	}
}

func TestEnvelopeDateTrimsZeros(t *testing.T) {
	if got := FormatDate(time.Date(2024, 5, 1, 10, 0, 0, 120000000, time.UTC)); got != "2024-05-01T10:00:00.12Z" {
		t.Fatal(got)
	}
	if got := FormatDate(time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)); got != "2024-05-01T10:00:00Z" {
		t.Fatal(got)
	}
}

func TestEnvelopeNilPayloadIsNull(t *testing.T) {
	msg, err := NewMessage(Envelope{IdempotencyKey: "k", Type: "T", Date: time.Unix(0, 0)}, "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(msg.Payload), `"payload":null}`) {
		t.Fatalf("payload %s", msg.Payload)
	}
	if _, ok := msg.Metadata[PartitionKey]; ok {
		t.Fatal("empty partition key should not be set")
	}
}

func TestNewMessageRefusesIncompleteEnvelopes(t *testing.T) {
	for _, env := range []Envelope{{Type: "T"}, {IdempotencyKey: "k"}} {
		if _, err := NewMessage(env, "l"); err == nil {
			t.Errorf("%+v: want an error", env)
		}
	}
}

func TestDecodeAcceptsTheReferenceShape(t *testing.T) {
	// As the reference publishes it: empty idempotency key, date with µs.
	raw := `{"idempotency_key":"","date":"2024-05-01T10:00:00.123456Z","app":"ledger","version":"v2","type":"SAVED_METADATA","payload":{"ledger":"a","targetType":"ACCOUNT","targetId":"world","metadata":{}},"extra":1}`
	env, err := Decode(message.NewMessage(watermill.NewUUID(), []byte(raw)))
	if err != nil {
		t.Fatal(err)
	}
	if env.Type != "SAVED_METADATA" || env.Date.Nanosecond() != 123456000 {
		t.Fatalf("%+v", env)
	}
}

func TestDecodeRejectsPoison(t *testing.T) {
	for _, raw := range []string{
		``,
		`not json`,
		`null`,
		`[1,2]`,
		`{"idempotency_key":"k","date":"2024-05-01T10:00:00Z","payload":{}}`,
		`{"idempotency_key":"k","type":"T","payload":{}}`,
		`{"idempotency_key":"k","date":"yesterday","type":"T"}`,
		`{"idempotency_key":"k","date":"2024-05-01T10:00:00Z","type":"T","payload":{`,
	} {
		if env, err := Decode(message.NewMessage(watermill.NewUUID(), []byte(raw))); err == nil {
			t.Errorf("%q decoded as %+v, want an error", raw, env)
		}
	}
}

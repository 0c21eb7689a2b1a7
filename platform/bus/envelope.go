package bus

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
)

// Envelope is one event on the bus, in the reference's JSON form:
//
//	{"idempotency_key":"l1-42","date":"2024-05-01T10:00:00.123456Z","app":"ledger","version":"v2","type":"COMMITTED_TRANSACTIONS","payload":{...}}
//
// The date is written in UTC at microsecond precision, RFC3339 with trailing
// fractional zeros trimmed.
type Envelope struct {
	// IdempotencyKey identifies the event across redeliveries and replays
	// (for the ledger: "<ledger>-<logId>"). Kontor never publishes it empty;
	// consumers accept an empty one but cannot deduplicate it.
	IdempotencyKey string
	// Date is when the event happened.
	Date time.Time
	// App is the publishing module: "ledger", "payments", …
	App string
	// Version is the version of the module's event schemas, like "v2".
	Version string
	// Type is the event type, like "COMMITTED_TRANSACTIONS".
	Type string
	// Payload is the event body, a JSON value.
	Payload json.RawMessage
}

// envelopeJSON is the wire form of Envelope.
type envelopeJSON struct {
	IdempotencyKey string          `json:"idempotency_key"`
	Date           string          `json:"date"`
	App            string          `json:"app"`
	Version        string          `json:"version"`
	Type           string          `json:"type"`
	Payload        json.RawMessage `json:"payload"`
}

// FormatDate renders t as envelopes carry it: UTC, rounded to the
// microsecond, RFC3339 with trailing fractional zeros trimmed.
func FormatDate(t time.Time) string {
	return t.UTC().Round(time.Microsecond).Format(time.RFC3339Nano)
}

// MarshalJSON writes the reference envelope; a nil payload is written as null.
func (e Envelope) MarshalJSON() ([]byte, error) {
	payload := e.Payload
	if len(payload) == 0 {
		payload = json.RawMessage("null")
	}
	return json.Marshal(envelopeJSON{
		IdempotencyKey: e.IdempotencyKey,
		Date:           FormatDate(e.Date),
		App:            e.App,
		Version:        e.Version,
		Type:           e.Type,
		Payload:        payload,
	})
}

// UnmarshalJSON reads the reference envelope. It requires a type and an
// RFC3339 date; other fields may be empty.
func (e *Envelope) UnmarshalJSON(b []byte) error {
	var w envelopeJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	if w.Type == "" {
		return errors.New("envelope: no type")
	}
	date, err := time.Parse(time.RFC3339Nano, w.Date)
	if err != nil {
		return fmt.Errorf("envelope: date %q is not RFC3339", w.Date)
	}
	*e = Envelope{
		IdempotencyKey: w.IdempotencyKey,
		Date:           date.UTC(),
		App:            w.App,
		Version:        w.Version,
		Type:           w.Type,
		Payload:        w.Payload,
	}
	return nil
}

// NewMessage encodes env as a watermill message with a random UUID, whose
// PartitionKey metadata is partitionKey (the ledger, for ledger events), so
// that the events of one key keep their order on Kafka. It refuses an
// envelope without idempotency key or type.
func NewMessage(env Envelope, partitionKey string) (*message.Message, error) {
	if env.IdempotencyKey == "" {
		return nil, errors.New("envelope: no idempotency key")
	}
	if env.Type == "" {
		return nil, errors.New("envelope: no type")
	}
	payload, err := json.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("envelope %s: %w", env.IdempotencyKey, err)
	}
	msg := message.NewMessage(watermill.NewUUID(), payload)
	if partitionKey != "" {
		msg.Metadata.Set(PartitionKey, partitionKey)
	}
	return msg, nil
}

// Decode reads the envelope a message carries. An error means the message
// is not an event envelope at all (a poison message).
func Decode(msg *message.Message) (Envelope, error) {
	var env Envelope
	if err := json.Unmarshal(msg.Payload, &env); err != nil {
		return Envelope{}, fmt.Errorf("message %s: %w", msg.UUID, err)
	}
	return env, nil
}

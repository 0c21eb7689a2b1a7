package outbox

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/kontorhq/kontor/domain/ledger"
	"github.com/kontorhq/kontor/platform/bus"
)

// Event types published for the ledger's logs (spec/ledger.md §6).
const (
	EventCommittedTransactions = "COMMITTED_TRANSACTIONS"
	EventSavedMetadata         = "SAVED_METADATA"
	EventRevertedTransaction   = "REVERTED_TRANSACTION"
	EventDeletedMetadata       = "DELETED_METADATA"
	EventInsertedSchema        = "INSERTED_SCHEMA"
)

// Envelope constants of ledger events.
const (
	// App is the envelope's app of ledger events.
	App = "ledger"
	// Version is the envelope's version of ledger events.
	Version = "v2"
)

type committedTransactions struct {
	Ledger          string                 `json:"ledger"`
	Transactions    []ledger.Transaction   `json:"transactions"`
	AccountMetadata ledger.AccountMetadata `json:"accountMetadata"`
}

type savedMetadata struct {
	Ledger     string            `json:"ledger"`
	TargetType ledger.TargetType `json:"targetType"`
	TargetID   string            `json:"targetId"`
	Metadata   ledger.Metadata   `json:"metadata"`
}

type revertedTransaction struct {
	Ledger              string             `json:"ledger"`
	RevertedTransaction ledger.Transaction `json:"revertedTransaction"`
	RevertTransaction   ledger.Transaction `json:"revertTransaction"`
}

type deletedMetadata struct {
	Ledger     string            `json:"ledger"`
	TargetType ledger.TargetType `json:"targetType"`
	TargetID   any               `json:"targetId"`
	Key        string            `json:"key"`
}

type insertedSchema struct {
	Ledger string          `json:"ledger"`
	Schema json.RawMessage `json:"schema"`
}

// IdempotencyKey is the idempotency key of the event of log logID of
// ledgerName: "<ledger>-<logId>".
func IdempotencyKey(ledgerName string, logID uint64) string {
	return ledgerName + "-" + strconv.FormatUint(logID, 10)
}

// Event maps a log of ledgerName to the event the reference publishes for
// it (spec/ledger.md §6), in the envelope {"idempotency_key":
// "<ledger>-<logId>","date":<log date>,"app":"ledger","version":"v2",
// "type","payload"}:
//
//   - NEW_TRANSACTION → COMMITTED_TRANSACTIONS {"ledger","transactions":[tx],"accountMetadata"}
//   - SET_METADATA → SAVED_METADATA {"ledger","targetType","targetId","metadata"}, the
//     targetId always a string (a transaction id in decimal)
//   - REVERTED_TRANSACTION → REVERTED_TRANSACTION {"ledger","revertedTransaction","revertTransaction"}
//   - DELETE_METADATA → DELETED_METADATA {"ledger","targetType","targetId","key"}, the
//     targetId as in the log (a number for a transaction, like the reference)
//   - INSERTED_SCHEMA → INSERTED_SCHEMA {"ledger","schema"}
func Event(ledgerName string, log ledger.Log) (bus.Envelope, error) {
	var (
		typ     string
		payload any
	)
	switch p := log.Data.(type) {
	case ledger.CreatedTransaction:
		am := p.AccountMetadata
		if am == nil {
			am = ledger.AccountMetadata{}
		}
		typ = EventCommittedTransactions
		payload = committedTransactions{ledgerName, []ledger.Transaction{p.Transaction}, am}
	case ledger.SavedMetadata:
		md := p.Metadata
		if md == nil {
			md = ledger.Metadata{}
		}
		typ = EventSavedMetadata
		payload = savedMetadata{ledgerName, p.Target.Type, targetIDString(p.Target), md}
	case ledger.RevertedTransaction:
		typ = EventRevertedTransaction
		payload = revertedTransaction{ledgerName, p.RevertedTransaction, p.RevertTransaction}
	case ledger.DeletedMetadata:
		typ = EventDeletedMetadata
		var id any = p.Target.Address
		if p.Target.Type == ledger.TargetTransaction {
			id = p.Target.TransactionID
		}
		payload = deletedMetadata{ledgerName, p.Target.Type, id, p.Key}
	case ledger.InsertedSchema:
		schema := p.Schema
		if len(schema) == 0 {
			schema = json.RawMessage("null")
		}
		typ = EventInsertedSchema
		payload = insertedSchema{ledgerName, schema}
	default:
		return bus.Envelope{}, fmt.Errorf("log %s-%d: no event for payload %T", ledgerName, log.ID, log.Data)
	}
	b, err := json.Marshal(payload)
	if err != nil {
		return bus.Envelope{}, fmt.Errorf("log %s-%d: %w", ledgerName, log.ID, err)
	}
	return bus.Envelope{
		IdempotencyKey: IdempotencyKey(ledgerName, log.ID),
		Date:           log.Date.Time,
		App:            App,
		Version:        Version,
		Type:           typ,
		Payload:        b,
	}, nil
}

func targetIDString(t ledger.MetadataTarget) string {
	if t.Type == ledger.TargetTransaction {
		return strconv.FormatUint(t.TransactionID, 10)
	}
	return t.Address
}

// eventFromRow decodes a stored log row into its event.
func eventFromRow(ledgerName string, id int64, typ string, date time.Time, data []byte) (bus.Envelope, error) {
	payload, err := ledger.DecodePayload(ledger.LogType(typ), data)
	if err != nil {
		return bus.Envelope{}, fmt.Errorf("log %s-%d: %w", ledgerName, id, err)
	}
	return Event(ledgerName, ledger.Log{ID: uint64(id), Data: payload, Date: ledger.NewTime(date)})
}

package ledger

import (
	"encoding/json"

	"github.com/kontorhq/kontor/domain"
)

// LogType names what a log records. Its JSON and stored form is the string.
type LogType string

// Log types, with the reference's names.
const (
	LogTypeNewTransaction      LogType = "NEW_TRANSACTION"
	LogTypeSetMetadata         LogType = "SET_METADATA"
	LogTypeRevertedTransaction LogType = "REVERTED_TRANSACTION"
	LogTypeDeleteMetadata      LogType = "DELETE_METADATA"
	LogTypeInsertedSchema      LogType = "INSERTED_SCHEMA"
)

// DecodePayload decodes data, as stored or exported, as the payload of a
// log of type t.
func DecodePayload(t LogType, data []byte) (LogPayload, error) {
	switch t {
	case LogTypeNewTransaction:
		return decodeAs[CreatedTransaction](data)
	case LogTypeSetMetadata:
		return decodeAs[SavedMetadata](data)
	case LogTypeRevertedTransaction:
		return decodeAs[RevertedTransaction](data)
	case LogTypeDeleteMetadata:
		return decodeAs[DeletedMetadata](data)
	case LogTypeInsertedSchema:
		return decodeAs[InsertedSchema](data)
	}
	return nil, domain.Errorf(domain.CodeValidation, "unknown log type %q", t)
}

func decodeAs[P LogPayload](data []byte) (LogPayload, error) {
	var p P
	err := json.Unmarshal(data, &p)
	return p, err
}

// Log is one entry of a ledger's append-only, hash-chained log. Its JSON is
// the reference's (GET /logs, export, import), keys in this order: type,
// data, date, idempotencyKey, idempotencyHash, id, hash (standard base64,
// null when absent), schemaVersion (omitted when empty).
type Log struct {
	ID   uint64
	Data LogPayload
	// Date is when the log was written; every log of one batch shares it.
	Date            Time
	IdempotencyKey  string
	IdempotencyHash string
	// Hash is the 32-byte SHA-256 link of the chain, nil when not hashed.
	Hash []byte
	// SchemaVersion is the schema the command was validated against. The
	// reference does not hash it.
	SchemaVersion string
}

// NewLog returns a log holding payload; the sequencer fills in the rest.
func NewLog(payload LogPayload) Log {
	return Log{Data: payload}
}

// Type returns the type of the log's payload, "" when it has none.
func (l Log) Type() LogType {
	if l.Data == nil {
		return ""
	}
	return l.Data.Type()
}

// logJSON is the wire shape of a Log, in the reference's key order.
type logJSON struct {
	Type            LogType         `json:"type"`
	Data            json.RawMessage `json:"data"`
	Date            Time            `json:"date"`
	IdempotencyKey  string          `json:"idempotencyKey"`
	IdempotencyHash string          `json:"idempotencyHash"`
	ID              uint64          `json:"id"`
	Hash            []byte          `json:"hash"`
	SchemaVersion   string          `json:"schemaVersion,omitempty"`
}

// MarshalJSON renders the reference's log JSON, data in full.
func (l Log) MarshalJSON() ([]byte, error) {
	if l.Data == nil {
		return nil, domain.Errorf(domain.CodeInternal, "log %d has no data", l.ID)
	}
	data, err := json.Marshal(l.Data)
	if err != nil {
		return nil, err
	}
	return json.Marshal(logJSON{
		Type:            l.Type(),
		Data:            data,
		Date:            l.Date,
		IdempotencyKey:  l.IdempotencyKey,
		IdempotencyHash: l.IdempotencyHash,
		ID:              l.ID,
		Hash:            l.Hash,
		SchemaVersion:   l.SchemaVersion,
	})
}

// UnmarshalJSON reads the reference's log JSON, decoding data according to
// type. Unknown keys (such as the "ledger" of pipeline exports) are ignored;
// an unknown type is a VALIDATION error.
func (l *Log) UnmarshalJSON(b []byte) error {
	var aux logJSON
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	payload, err := DecodePayload(aux.Type, aux.Data)
	if err != nil {
		return err
	}
	*l = Log{
		ID:              aux.ID,
		Data:            payload,
		Date:            aux.Date,
		IdempotencyKey:  aux.IdempotencyKey,
		IdempotencyHash: aux.IdempotencyHash,
		Hash:            aux.Hash,
		SchemaVersion:   aux.SchemaVersion,
	}
	return nil
}

// Memento returns the bytes of the log's data that the hash chain covers:
// the encoding/json form of the payload's memento (HTML-escaped, map keys
// sorted, amounts as bare integers), as the reference stores them.
func (l Log) Memento() ([]byte, error) {
	if l.Data == nil {
		return nil, domain.Errorf(domain.CodeInternal, "log %d has no data", l.ID)
	}
	if created, ok := l.Data.(CreatedTransaction); ok {
		return created.appendMemento(make([]byte, 0, 512)), nil
	}
	return json.Marshal(l.Data.memento())
}

package ledger

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/kontorhq/kontor/domain"
)

// LogPayload is the data of a log: one of CreatedTransaction,
// SavedMetadata, DeletedMetadata, RevertedTransaction and InsertedSchema.
type LogPayload interface {
	// Type returns the log type this payload is the data of.
	Type() LogType
	// memento returns the value whose JSON encoding the hash chain covers.
	memento() any
}

// CreatedTransaction is the data of a NEW_TRANSACTION log: the committed
// transaction and the account metadata set along with it.
type CreatedTransaction struct {
	Transaction     Transaction     `json:"transaction"`
	AccountMetadata AccountMetadata `json:"accountMetadata"`
}

// Type returns LogTypeNewTransaction.
func (CreatedTransaction) Type() LogType { return LogTypeNewTransaction }

func (p CreatedTransaction) memento() any {
	return struct {
		Transaction     transactionMemento `json:"transaction"`
		AccountMetadata AccountMetadata    `json:"accountMetadata"`
	}{p.Transaction.memento(), p.AccountMetadata}
}

// RevertedTransaction is the data of a REVERTED_TRANSACTION log: the
// original transaction, now carrying its revertedAt, and the new
// transaction that reverts it.
type RevertedTransaction struct {
	RevertedTransaction Transaction `json:"revertedTransaction"`
	RevertTransaction   Transaction `json:"transaction"`
}

// Type returns LogTypeRevertedTransaction.
func (RevertedTransaction) Type() LogType { return LogTypeRevertedTransaction }

func (p RevertedTransaction) memento() any {
	return struct {
		RevertedTransactionID uint64             `json:"revertedTransactionID"`
		Transaction           transactionMemento `json:"transaction"`
	}{p.RevertedTransaction.ID, p.RevertTransaction.memento()}
}

// TargetType says what metadata is attached to.
type TargetType string

// Metadata target types.
const (
	TargetAccount     TargetType = "ACCOUNT"
	TargetTransaction TargetType = "TRANSACTION"
)

// MetadataTarget designates an account (by address) or a transaction (by
// id). In JSON it is two keys of its payload: "targetType" and "targetId",
// the latter a string for an account and a number for a transaction.
type MetadataTarget struct {
	Type          TargetType
	Address       string // when Type is TargetAccount
	TransactionID uint64 // when Type is TargetTransaction
}

// AccountTarget designates the account at address.
func AccountTarget(address string) MetadataTarget {
	return MetadataTarget{Type: TargetAccount, Address: address}
}

// TransactionTarget designates the transaction with id.
func TransactionTarget(id uint64) MetadataTarget {
	return MetadataTarget{Type: TargetTransaction, TransactionID: id}
}

// id returns the JSON value of "targetId".
func (t MetadataTarget) id() any {
	if t.Type == TargetTransaction {
		return t.TransactionID
	}
	return t.Address
}

// parseMetadataTarget reads a target from its two JSON values. A
// transaction id may be a number or a string holding one.
func parseMetadataTarget(typ TargetType, id json.RawMessage) (MetadataTarget, error) {
	switch typ {
	case TargetAccount:
		var address string
		if err := json.Unmarshal(id, &address); err != nil {
			return MetadataTarget{}, domain.Errorf(domain.CodeValidation, "invalid account targetId %s: expected a string", id)
		}
		return AccountTarget(address), nil
	case TargetTransaction:
		n, err := strconv.ParseUint(string(bytes.Trim(id, `"`)), 10, 64)
		if err != nil {
			return MetadataTarget{}, domain.Errorf(domain.CodeValidation, "invalid transaction targetId %s: expected an unsigned integer", id)
		}
		return TransactionTarget(n), nil
	}
	return MetadataTarget{}, domain.Errorf(domain.CodeValidation, "invalid targetType %q: expected ACCOUNT or TRANSACTION", typ)
}

// SavedMetadata is the data of a SET_METADATA log: metadata added to an
// account or a transaction. JSON: {"targetType","targetId","metadata"}; its
// memento is the same JSON.
type SavedMetadata struct {
	Target   MetadataTarget
	Metadata Metadata
}

// Type returns LogTypeSetMetadata.
func (SavedMetadata) Type() LogType { return LogTypeSetMetadata }

func (p SavedMetadata) memento() any { return p }

// MarshalJSON renders {"targetType","targetId","metadata"}.
func (p SavedMetadata) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		TargetType TargetType `json:"targetType"`
		TargetID   any        `json:"targetId"`
		Metadata   Metadata   `json:"metadata"`
	}{p.Target.Type, p.Target.id(), p.Metadata})
}

// UnmarshalJSON reads {"targetType","targetId","metadata"}.
func (p *SavedMetadata) UnmarshalJSON(b []byte) error {
	var aux struct {
		TargetType TargetType      `json:"targetType"`
		TargetID   json.RawMessage `json:"targetId"`
		Metadata   Metadata        `json:"metadata"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	target, err := parseMetadataTarget(aux.TargetType, aux.TargetID)
	if err != nil {
		return err
	}
	*p = SavedMetadata{Target: target, Metadata: aux.Metadata}
	return nil
}

// DeletedMetadata is the data of a DELETE_METADATA log: one metadata key
// removed from an account or a transaction. JSON: {"targetType","targetId",
// "key"}; its memento is the same JSON.
type DeletedMetadata struct {
	Target MetadataTarget
	Key    string
}

// Type returns LogTypeDeleteMetadata.
func (DeletedMetadata) Type() LogType { return LogTypeDeleteMetadata }

func (p DeletedMetadata) memento() any { return p }

// MarshalJSON renders {"targetType","targetId","key"}.
func (p DeletedMetadata) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		TargetType TargetType `json:"targetType"`
		TargetID   any        `json:"targetId"`
		Key        string     `json:"key"`
	}{p.Target.Type, p.Target.id(), p.Key})
}

// UnmarshalJSON reads {"targetType","targetId","key"}.
func (p *DeletedMetadata) UnmarshalJSON(b []byte) error {
	var aux struct {
		TargetType TargetType      `json:"targetType"`
		TargetID   json.RawMessage `json:"targetId"`
		Key        string          `json:"key"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	target, err := parseMetadataTarget(aux.TargetType, aux.TargetID)
	if err != nil {
		return err
	}
	*p = DeletedMetadata{Target: target, Key: aux.Key}
	return nil
}

// InsertedSchema is the data of an INSERTED_SCHEMA log: the schema as JSON
// ({"chart","transactions"?,"queries"?,"version","createdAt"}), kept as
// given. JSON: {"schema": ...}; its memento is the same JSON.
type InsertedSchema struct {
	Schema json.RawMessage `json:"schema"`
}

// Type returns LogTypeInsertedSchema.
func (InsertedSchema) Type() LogType { return LogTypeInsertedSchema }

func (p InsertedSchema) memento() any { return p }

package ledger

import (
	"math/big"

	"github.com/kontorhq/kontor/domain"
)

// Command is a write request to a ledger. Evaluate turns it into the
// payload of the log that records it, or refuses it.
type Command interface {
	// Evaluate checks the command against state at time now and returns
	// the payload of its log. The event store assigns ids and volumes.
	Evaluate(state State, now Time) (LogPayload, error)
}

// State is what evaluating a command reads: the ledger as of the commands
// evaluated before it.
type State interface {
	// Balance returns the balance of account in asset (nil when none).
	Balance(account, asset string) *big.Int
	// Transaction returns the transaction with the given id.
	Transaction(id uint64) (Transaction, bool)
	// HasReference reports whether a transaction already uses reference.
	HasReference(reference string) bool
}

// CreateTransaction records postings as a new transaction.
type CreateTransaction struct {
	Postings        Postings
	Metadata        Metadata
	Timestamp       Time // zero: the time of the write
	Reference       string
	AccountMetadata AccountMetadata
	// Force lets any source overdraft.
	Force bool
}

// Evaluate implements Command.
func (c CreateTransaction) Evaluate(state State, now Time) (LogPayload, error) {
	if len(c.Postings) == 0 {
		return nil, domain.Errorf(domain.CodeNoPostings, "transaction has no postings")
	}
	if err := c.Postings.Validate(); err != nil {
		return nil, err
	}
	for address := range c.AccountMetadata {
		if err := ValidateAddress(address); err != nil {
			return nil, err
		}
	}
	if c.Reference != "" && state.HasReference(c.Reference) {
		return nil, domain.Errorf(domain.CodeConflict, "duplicate reference %q", c.Reference)
	}
	if err := CheckFunds(c.Postings, state.Balance, c.Force); err != nil {
		return nil, err
	}
	timestamp := c.Timestamp
	if timestamp.IsZero() {
		timestamp = now
	}
	return CreatedTransaction{
		Transaction: Transaction{
			Postings:   c.Postings,
			Metadata:   c.Metadata.Clone(),
			Timestamp:  timestamp,
			Reference:  c.Reference,
			InsertedAt: now,
			UpdatedAt:  now,
		},
		AccountMetadata: c.AccountMetadata,
	}, nil
}

// RevertTransaction records the reverse of a transaction.
type RevertTransaction struct {
	ID              uint64
	Force           bool
	AtEffectiveDate bool
	Metadata        Metadata
}

// Evaluate implements Command.
func (c RevertTransaction) Evaluate(state State, now Time) (LogPayload, error) {
	tx, ok := state.Transaction(c.ID)
	if !ok {
		return nil, domain.Errorf(domain.CodeNotFound, "transaction %d not found", c.ID)
	}
	reverted, err := tx.Revert(now, c.AtEffectiveDate, c.Metadata)
	if err != nil {
		return nil, err
	}
	if !c.Force {
		if err := CheckRevertFunds(reverted.RevertTransaction.Postings, state.Balance); err != nil {
			return nil, err
		}
	}
	return reverted, nil
}

// SaveMetadata adds metadata to an account or a transaction.
type SaveMetadata struct {
	Target   MetadataTarget
	Metadata Metadata
}

// Evaluate implements Command.
func (c SaveMetadata) Evaluate(state State, _ Time) (LogPayload, error) {
	if err := checkTarget(state, c.Target); err != nil {
		return nil, err
	}
	return SavedMetadata{Target: c.Target, Metadata: c.Metadata.Clone()}, nil
}

// DeleteMetadata removes a metadata key from an account or a transaction.
type DeleteMetadata struct {
	Target MetadataTarget
	Key    string
}

// Evaluate implements Command. Deleting a key a transaction lacks is
// NOT_FOUND, like the reference; on an account it always succeeds.
func (c DeleteMetadata) Evaluate(state State, _ Time) (LogPayload, error) {
	if err := checkTarget(state, c.Target); err != nil {
		return nil, err
	}
	if c.Target.Type == TargetTransaction {
		tx, _ := state.Transaction(c.Target.TransactionID)
		if _, ok := tx.Metadata[c.Key]; !ok {
			return nil, domain.Errorf(domain.CodeNotFound, "metadata key %q not found on transaction %d", c.Key, tx.ID)
		}
	}
	return DeletedMetadata{Target: c.Target, Key: c.Key}, nil
}

func checkTarget(state State, target MetadataTarget) error {
	switch target.Type {
	case TargetAccount:
		return ValidateAddress(target.Address)
	case TargetTransaction:
		if _, ok := state.Transaction(target.TransactionID); !ok {
			return domain.Errorf(domain.CodeNotFound, "transaction %d not found", target.TransactionID)
		}
		return nil
	default:
		return domain.Errorf(domain.CodeValidation, "unknown metadata target type %q", target.Type)
	}
}

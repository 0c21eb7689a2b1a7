package ledger

import (
	"strconv"

	"github.com/kontorhq/kontor/domain"
)

// MetadataKeyReverts is the metadata key a revert transaction carries, set
// to the id of the transaction it reverts.
const MetadataKeyReverts = "com.formance.spec/state/reverts"

// Revert returns the payload of the REVERTED_TRANSACTION log that reverts
// tx at the given time: tx marked reverted at that time, and the reverse
// transaction, whose postings are tx's in reverse order with source and
// destination swapped, whose metadata is the given metadata plus
// MetadataKeyReverts, and whose timestamp is tx's when atEffectiveDate, else
// at. The caller assigns the reverse transaction its id and volumes, and
// checks funds with CheckRevertFunds unless forced. A transaction already
// reverted gives an ALREADY_REVERT error.
func (tx Transaction) Revert(at Time, atEffectiveDate bool, metadata Metadata) (RevertedTransaction, error) {
	if tx.Reverted() {
		return RevertedTransaction{}, domain.Errorf(domain.CodeAlreadyRevert, "already reverted, id: %d", tx.ID)
	}
	timestamp := at
	if atEffectiveDate {
		timestamp = tx.Timestamp
	}
	return RevertedTransaction{
		RevertedTransaction: tx.WithRevertedAt(at),
		RevertTransaction: Transaction{
			Postings:   tx.Postings.Reverse(),
			Metadata:   metadata.Merge(Metadata{MetadataKeyReverts: strconv.FormatUint(tx.ID, 10)}),
			Timestamp:  timestamp,
			InsertedAt: at,
			UpdatedAt:  at,
		},
	}, nil
}

package ledger_test

import (
	"encoding/base64"
	"fmt"
	"math/big"

	"github.com/kontorhq/kontor/domain"
	"github.com/kontorhq/kontor/domain/ledger"
)

// The write path in miniature: check funds, compute volumes, build the log
// and chain it on the ledger's last hash.
func Example() {
	volumes := ledger.PostCommitVolumes{} // the current volumes, from a cache
	postings := ledger.Postings{ledger.NewPosting("world", "users:001", "USD/2", big.NewInt(100))}

	if err := postings.Validate(); err != nil {
		panic(err)
	}
	balance := func(account, asset string) *big.Int { return volumes.Get(account, asset).Balance() }
	if err := ledger.CheckFunds(postings, balance, false); err != nil {
		panic(err)
	}

	date, _ := ledger.ParseTime("2024-05-01T10:00:00.123456Z")
	tx := ledger.Transaction{
		ID:                1,
		Postings:          postings,
		Metadata:          ledger.Metadata{"order": "42"},
		Timestamp:         date,
		InsertedAt:        date,
		UpdatedAt:         date,
		PostCommitVolumes: ledger.ComputePostCommitVolumes(postings, volumes.Get),
	}
	log := ledger.NewLog(ledger.CreatedTransaction{Transaction: tx})
	log.ID, log.Date = 1, date

	chain := ledger.NewChain(nil) // the hash of the ledger's last log, nil for none
	if err := chain.Append(&log); err != nil {
		panic(err)
	}
	fmt.Println(log.Type(), base64.StdEncoding.EncodeToString(log.Hash))

	// Users cannot spend what they do not have.
	err := ledger.CheckFunds(ledger.Postings{ledger.NewPosting("users:002", "world", "USD/2", big.NewInt(1))}, balance, false)
	fmt.Println(domain.ErrorCode(err), domain.ErrorMessage(err))
	// Output:
	// NEW_TRANSACTION +j/+bvxFulf8xth851msZxPoNLd8TQgkRfh0AYe81Sk=
	// INSUFFICIENT_FUND Not enough funds. Needed [USD/2 1] (only [USD/2 0] available)
}

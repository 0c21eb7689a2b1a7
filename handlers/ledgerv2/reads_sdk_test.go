package ledgerv2_test

import (
	"context"
	"math/big"
	"testing"
	"time"

	formance "github.com/formancehq/formance-sdk-go/v3"
	"github.com/formancehq/formance-sdk-go/v3/pkg/models/operations"
	"github.com/formancehq/formance-sdk-go/v3/pkg/models/shared"
)

// TestReadsThroughSDK writes through the real write path and reads every
// v2 read endpoint back with the Formance SDK, which must decode them.
func TestReadsThroughSDK(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	v2 := formance.New(formance.WithServerURL(newKontor(t))).Ledger.V2
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := v2.CreateLedger(ctx, operations.V2CreateLedgerRequest{Ledger: "main"})
	must(err)
	ref := "ref-1"
	for i, dest := range []string{"users:001", "users:002", "users:003"} {
		var reference *string
		if i == 0 {
			reference = &ref
		}
		_, err := v2.CreateTransaction(ctx, operations.V2CreateTransactionRequest{Ledger: "main", V2PostTransaction: shared.V2PostTransaction{
			Postings:  []shared.V2Posting{{Source: "world", Destination: dest, Amount: big.NewInt(int64(100 * (i + 1))), Asset: "USD/2"}},
			Metadata:  map[string]string{"n": dest},
			Reference: reference,
		}})
		must(err)
	}
	_, err = v2.AddMetadataToAccount(ctx, operations.V2AddMetadataToAccountRequest{Ledger: "main", Address: "users:002",
		RequestBody: map[string]string{"tier": "gold"}})
	must(err)

	pageSize := int64(2)
	txs, err := v2.ListTransactions(ctx, operations.V2ListTransactionsRequest{Ledger: "main", PageSize: &pageSize})
	must(err)
	c := txs.V2TransactionsCursorResponse.Cursor
	if len(c.Data) != 2 || c.Data[0].ID.Int64() != 3 || !c.HasMore || c.Next == nil {
		t.Fatalf("transactions page 1: %+v", c)
	}
	txs, err = v2.ListTransactions(ctx, operations.V2ListTransactionsRequest{Ledger: "main", Cursor: c.Next})
	must(err)
	if c := txs.V2TransactionsCursorResponse.Cursor; len(c.Data) != 1 || c.Data[0].ID.Int64() != 1 || *c.Data[0].Reference != "ref-1" || c.Previous == nil {
		t.Fatalf("transactions page 2: %+v", c)
	}
	count, err := v2.CountTransactions(ctx, operations.V2CountTransactionsRequest{Ledger: "main",
		Query: map[string]any{"$match": map[string]any{"metadata[n]": "users:002"}}})
	must(err)
	if got := count.Headers["Count"]; len(got) != 1 || got[0] != "1" {
		t.Errorf("count: %v", count.Headers)
	}

	expand := "volumes"
	tx, err := v2.GetTransaction(ctx, operations.V2GetTransactionRequest{Ledger: "main", ID: big.NewInt(2), Expand: &expand})
	must(err)
	if got := tx.V2GetTransactionResponse.Data; got.PostCommitVolumes["users:002"]["USD/2"].Balance.Int64() != 200 {
		t.Errorf("transaction 2: %+v", got)
	}
	account, err := v2.GetAccount(ctx, operations.V2GetAccountRequest{Ledger: "main", Address: "users:002", Expand: &expand})
	must(err)
	if got := account.V2AccountResponse.Data; got.Metadata["tier"] != "gold" || got.Volumes["USD/2"].Balance.Int64() != 200 {
		t.Errorf("account: %+v", got)
	}
	accounts, err := v2.ListAccounts(ctx, operations.V2ListAccountsRequest{Ledger: "main",
		Query: map[string]any{"$match": map[string]any{"address": "users:"}}})
	must(err)
	if got := accounts.V2AccountsCursorResponse.Cursor.Data; len(got) != 3 || got[0].Address != "users:001" {
		t.Errorf("accounts: %+v", got)
	}
	balances, err := v2.GetBalancesAggregated(ctx, operations.V2GetBalancesAggregatedRequest{Ledger: "main",
		Query: map[string]any{"$match": map[string]any{"address": "users:"}}})
	must(err)
	if got := balances.V2AggregateBalancesResponse.Data; got["USD/2"].Int64() != 600 {
		t.Errorf("balances: %v", got)
	}
	groupBy, future := int64(1), time.Now().Add(time.Hour)
	volumes, err := v2.GetVolumesWithBalances(ctx, operations.V2GetVolumesWithBalancesRequest{Ledger: "main", GroupBy: &groupBy, EndTime: &future})
	must(err)
	if got := volumes.V2VolumesWithBalanceCursorResponse.Cursor.Data; len(got) != 2 || got[0].Account != "users" || got[0].Balance.Int64() != 600 {
		t.Errorf("volumes: %+v", got)
	}
	logs, err := v2.ListLogs(ctx, operations.V2ListLogsRequest{Ledger: "main", PageSize: &pageSize})
	must(err)
	if got := logs.V2LogsCursorResponse.Cursor; len(got.Data) != 2 || got.Data[0].ID.Int64() != 4 || got.Data[0].Type != shared.V2LogTypeSetMetadata {
		t.Errorf("logs: %+v", got)
	}
	ledgers, err := v2.ListLedgers(ctx, operations.V2ListLedgersRequest{})
	must(err)
	if got := ledgers.V2LedgerListResponse.Cursor.Data; len(got) != 1 || got[0].Name != "main" || got[0].Bucket != "_default" {
		t.Errorf("ledgers: %+v", got)
	}
	l, err := v2.GetLedger(ctx, operations.V2GetLedgerRequest{Ledger: "main"})
	must(err)
	if got := l.V2GetLedgerResponse.Data; got.Name != "main" || got.Features["HASH_LOGS"] != "SYNC" {
		t.Errorf("ledger: %+v", got)
	}
	info, err := v2.GetLedgerInfo(ctx, operations.V2GetLedgerInfoRequest{Ledger: "main"})
	must(err)
	if got := info.V2LedgerInfoResponse.Data; got == nil || *got.Name != "main" || len(got.Storage.Migrations) == 0 {
		t.Errorf("ledger info: %+v", got)
	}
	stats, err := v2.ReadStats(ctx, operations.V2ReadStatsRequest{Ledger: "main"})
	must(err)
	if got := stats.V2StatsResponse.Data; got.Transactions.Int64() != 3 || got.Accounts != 4 {
		t.Errorf("stats: %+v", got)
	}
}

package ledger

import (
	"encoding/json"
	"math/big"
	"os"
	"testing"
)

// TestReplayReferenceExport replays the reference export the way the write
// path will: funds are checked against running volumes, post-commit volumes
// are computed from them and must equal the ones the reference recorded,
// and the final volumes must equal the reference's GET /volumes afterwards
// (reference-export-v2.volumes.json), each asset summing to zero.
func TestReplayReferenceExport(t *testing.T) {
	volumes := PostCommitVolumes{}
	balance := func(account, asset string) *big.Int { return volumes.Get(account, asset).Balance() }
	commit := func(logID uint64, tx Transaction) {
		t.Helper()
		post := ComputePostCommitVolumes(tx.Postings, volumes.Get)
		got, _ := json.Marshal(post)
		want, _ := json.Marshal(tx.PostCommitVolumes)
		if string(got) != string(want) {
			t.Fatalf("log %d: post-commit volumes\n got %s\nwant %s", logID, got, want)
		}
		for account, byAsset := range post {
			for asset, v := range byAsset {
				volumes.set(account, asset, v)
			}
		}
	}
	for _, line := range readLines(t, "reference-export-v2.jsonl") {
		var log Log
		if err := json.Unmarshal(line, &log); err != nil {
			t.Fatal(err)
		}
		switch p := log.Data.(type) {
		case CreatedTransaction:
			if err := CheckFunds(p.Transaction.Postings, balance, false); err != nil {
				t.Fatalf("log %d: %v", log.ID, err)
			}
			commit(log.ID, p.Transaction)
		case RevertedTransaction:
			// The fixture's only atEffectiveDate revert was forced.
			forced := p.RevertTransaction.Timestamp.Equal(p.RevertedTransaction.Timestamp.Time)
			if err := CheckRevertFunds(p.RevertTransaction.Postings, balance); err != nil && !forced {
				t.Fatalf("log %d: %v", log.ID, err)
			}
			commit(log.ID, p.RevertTransaction)
		}
	}

	raw, err := os.ReadFile("testdata/reference-export-v2.volumes.json")
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Cursor struct {
			Data []struct {
				Account string `json:"account"`
				Asset   string `json:"asset"`
				Volumes
			} `json:"data"`
		} `json:"cursor"`
	}
	if err := json.Unmarshal(raw, &page); err != nil {
		t.Fatal(err)
	}
	rows := 0
	for _, row := range page.Cursor.Data {
		got := volumes.Get(row.Account, row.Asset)
		if got.Input.Cmp(row.Input) != 0 || got.Output.Cmp(row.Output) != 0 {
			t.Errorf("%s %s: got %+v, want %+v", row.Account, row.Asset, got, row.Volumes)
		}
		rows++
	}
	sums := map[string]*big.Int{}
	count := 0
	for _, byAsset := range volumes {
		for asset, v := range byAsset {
			count++
			if sums[asset] == nil {
				sums[asset] = new(big.Int)
			}
			sums[asset].Add(sums[asset], v.Balance())
		}
	}
	if count != rows {
		t.Errorf("replay has %d (account, asset) pairs, the reference %d", count, rows)
	}
	for asset, sum := range sums {
		if sum.Sign() != 0 {
			t.Errorf("balances of %s sum to %s", asset, sum)
		}
	}
}

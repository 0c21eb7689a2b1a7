package eventstore

import (
	"context"
	"sync"
	"testing"

	"github.com/kontorhq/kontor/domain"
	"github.com/kontorhq/kontor/domain/ledger"
)

func TestExecuteAtomic(t *testing.T) {
	s, pool, _ := newStore(t, nil)
	ctx := context.Background()
	createReq := func(src, dst string, amount int64, ref string) Request {
		return Request{Command: ledger.CreateTransaction{Postings: send(src, dst, amount, "USD"), Reference: ref}}
	}

	// All succeed: every request is written, in order, with its own log.
	results, errs, err := s.ExecuteAtomic(ctx, "main", []Request{
		createReq("world", "a", 10, "r1"),
		createReq("a", "b", 4, ""),
		{Command: ledger.SaveMetadata{Target: ledger.TransactionTarget(1), Metadata: ledger.Metadata{"k": "v"}}, IdempotencyKey: "ik-1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range errs {
		if e != nil {
			t.Fatalf("request %d: %v", i, e)
		}
	}
	if results[0].Log.ID != 1 || results[1].Log.ID != 2 || results[2].Log.ID != 3 {
		t.Fatalf("log ids %d %d %d", results[0].Log.ID, results[1].Log.ID, results[2].Log.ID)
	}
	if balanceOf(t, pool, "a", "USD").Int64() != 6 || balanceOf(t, pool, "b", "USD").Int64() != 4 {
		t.Fatal("balances after the atomic group")
	}

	// One fails (insufficient funds in the middle, a duplicate reference at
	// the end): nothing of the group is written, each request says why.
	_, errs, err = s.ExecuteAtomic(ctx, "main", []Request{
		createReq("world", "c", 5, ""),
		createReq("b", "c", 100, ""),
		createReq("world", "c", 1, "r1"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if errs[0] != nil || domain.ErrorCode(errs[1]) != domain.CodeInsufficientFund || domain.ErrorCode(errs[2]) != domain.CodeConflict {
		t.Fatalf("errors %v", errs)
	}
	var logs, txs int
	_ = pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM _default.logs), (SELECT count(*) FROM _default.transactions)`).Scan(&logs, &txs)
	if logs != 3 || txs != 2 {
		t.Fatalf("a failed group wrote: %d logs, %d transactions", logs, txs)
	}

	// A failed group leaves no trace in the batch either: the requests
	// batched with it see the state without it.
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		succeeded int64
	)
	create(t, s, send("world", "e", 1, "USD"))
	for i := 0; i < 20; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, errs, err := s.ExecuteAtomic(ctx, "main", []Request{createReq("world", "d", 1, ""), createReq("d", "e", 2, "")})
			if err == nil && errs[0] == nil && errs[1] == nil {
				mu.Lock()
				succeeded++
				mu.Unlock()
			} else if err == nil && (errs[0] != nil || domain.ErrorCode(errs[1]) != domain.CodeInsufficientFund) {
				t.Errorf("group: %v", errs)
			}
		}()
		go func() {
			defer wg.Done()
			if _, err := s.Execute(ctx, "main", createReq("world", "d", 1, "")); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	d, e := balanceOf(t, pool, "d", "USD").Int64(), balanceOf(t, pool, "e", "USD").Int64()
	if e != 1+2*succeeded || d != 20-succeeded {
		t.Fatalf("d %d e %d after %d successful groups: want %d and %d", d, e, succeeded, 20-succeeded, 1+2*succeeded)
	}
	verifyChain(t, pool)
}

func TestDryRunSeesItsBatch(t *testing.T) {
	s, pool, _ := newStore(t, nil)
	seq, b, outcomes := prepareBatch(t, s, nil,
		Request{Command: ledger.CreateTransaction{Postings: send("world", "a", 5, "USD"), Reference: "r"}},
		Request{Command: ledger.CreateTransaction{Postings: send("world", "a", 1, "USD"), Reference: "r"}, DryRun: true},
		Request{Command: ledger.CreateTransaction{Postings: send("a", "b", 5, "USD")}, DryRun: true},
	)
	if outcomes[0].err != nil || domain.ErrorCode(outcomes[1].err) != domain.CodeConflict || outcomes[2].err != nil {
		t.Fatalf("outcomes %v %v %v", outcomes[0].err, outcomes[1].err, outcomes[2].err)
	}
	writeBatch(t, seq, b)
	if got := balanceOf(t, pool, "a", "USD").Int64(); got != 5 {
		t.Fatalf("balance %d", got)
	}
}

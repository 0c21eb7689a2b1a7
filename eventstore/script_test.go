package eventstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/kontorhq/kontor/domain"
	"github.com/kontorhq/kontor/domain/ledger"
	"github.com/kontorhq/kontor/domain/numscript"
)

func script(t *testing.T, src string, vars map[string]string) *Script {
	t.Helper()
	prog, err := numscript.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	return &Script{Program: prog, Vars: vars}
}

func runScript(t *testing.T, s *Store, sc *Script) (ledger.CreatedTransaction, error) {
	t.Helper()
	res, err := s.Execute(context.Background(), "main", Request{Script: sc})
	if err != nil {
		return ledger.CreatedTransaction{}, err
	}
	return res.Log.Data.(ledger.CreatedTransaction), nil
}

func mustRun(t *testing.T, s *Store, src string, vars map[string]string) ledger.CreatedTransaction {
	t.Helper()
	created, err := runScript(t, s, script(t, src, vars))
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	return created
}

func postingsString(p ledger.Postings) string {
	out := ""
	for _, p := range p {
		out += fmt.Sprintf("[%s>%s %s %s]", p.Source, p.Destination, p.Asset, p.Amount)
	}
	return out
}

func TestScriptSends(t *testing.T) {
	s, pool, _ := newStore(t, nil)
	create(t, s, send("world", "users:1", 100, "USD"))

	// Overdraft bounds: 100 held + 50 allowed.
	bounded := `vars { monetary $m }
send $m (
  source = @users:1 allowing overdraft up to [USD 50]
  destination = @shop
)`
	created := mustRun(t, s, bounded, map[string]string{"m": "USD 150"})
	if got := postingsString(created.Transaction.Postings); got != "[users:1>shop USD 150]" {
		t.Fatalf("bounded overdraft postings %s", got)
	}
	if v := created.Transaction.PostCommitVolumes.Get("shop", "USD"); v.Input.Int64() != 150 {
		t.Fatalf("destination post-commit volumes %+v", v)
	}
	_, err := runScript(t, s, script(t, bounded, map[string]string{"m": "USD 1"}))
	var de *domain.Error
	if !errors.As(err, &de) || de.Code != domain.CodeInsufficientFund || numscript.ErrorKindOf(err) != numscript.KindMissingFunds {
		t.Fatalf("past the overdraft bound: %v", err)
	}
	if got := balanceOf(t, pool, "users:1", "USD").Int64(); got != -50 {
		t.Fatalf("users:1 balance %d, want -50", got)
	}

	// Allotment: shares are floored, the leftover goes first to the first.
	created = mustRun(t, s, `send [USD 100] (
  source = @shop
  destination = {
    1/3 to @a
    1/3 to @b
    remaining to @c
  }
)`, nil)
	if got := postingsString(created.Transaction.Postings); got != "[shop>a USD 34][shop>b USD 33][shop>c USD 33]" {
		t.Fatalf("allotment postings %s", got)
	}

	// save reserves funds, send-all takes the rest.
	created = mustRun(t, s, `save [USD 10] from @shop
send [USD *] (
  source = @shop
  destination = @d
)`, nil)
	if got := postingsString(created.Transaction.Postings); got != "[shop>d USD 40]" {
		t.Fatalf("send-all postings %s", got)
	}
	if got := balanceOf(t, pool, "shop", "USD").Int64(); got != 10 {
		t.Fatalf("shop balance %d, want the 10 saved", got)
	}
	if got := balanceOf(t, pool, "d", "USD").Int64(); got != 40 {
		t.Fatalf("d balance %d, want 40", got)
	}

	if _, err := runScript(t, s, script(t, `send [USD *] (source = @nobody destination = @d)`, nil)); domain.ErrorCode(err) != domain.CodeNoPostings {
		t.Fatalf("script moving nothing: %v", err)
	}
	if _, err := runScript(t, s, script(t, `vars { monetary $m } send $m (source = @world destination = @d)`, nil)); domain.ErrorCode(err) != domain.CodeInterpreterRuntime {
		t.Fatalf("missing variable: %v", err)
	}

	// A process with a cold cache loads the destination's balance too.
	cold := New(pool, Options{})
	defer cold.Close()
	created, err = runScript(t, cold, script(t, `send [USD 1] (source = @world destination = @d)`, nil))
	if err != nil || created.Transaction.PostCommitVolumes.Get("d", "USD").Input.Int64() != 41 {
		t.Fatalf("cold destination: %+v %v", created.Transaction.PostCommitVolumes, err)
	}
	verifyChain(t, pool)
}

func TestScriptMetadata(t *testing.T) {
	s, pool, _ := newStore(t, nil)
	ctx := context.Background()
	sc := script(t, `send [USD 5] (source = @world destination = @users:1)
set_tx_meta("kind", "deposit")
set_account_meta(@users:1, "tier", "gold")
set_account_meta(@users:2, "seen", "yes")`, nil)
	sc.Metadata = ledger.Metadata{"order": "7"}
	sc.AccountMetadata = ledger.AccountMetadata{"users:1": {"tier": "silver", "from": "request"}}
	sc.Reference = "dep-1"
	created, err := runScript(t, s, sc)
	if err != nil {
		t.Fatal(err)
	}
	tx := created.Transaction
	if tx.Metadata["kind"] != "deposit" || tx.Metadata["order"] != "7" || tx.Reference != "dep-1" {
		t.Fatalf("transaction %+v", tx)
	}
	want := ledger.AccountMetadata{"users:1": {"tier": "gold", "from": "request"}, "users:2": {"seen": "yes"}}
	if fmt.Sprint(created.AccountMetadata) != fmt.Sprint(want) {
		t.Fatalf("account metadata %v, want %v", created.AccountMetadata, want)
	}
	var logMD, acc1, acc2 string
	_ = pool.QueryRow(ctx, `SELECT (data->'accountMetadata')::text FROM _default.logs WHERE id = 1`).Scan(&logMD)
	_ = pool.QueryRow(ctx, `SELECT metadata::text FROM _default.accounts WHERE address = 'users:1'`).Scan(&acc1)
	_ = pool.QueryRow(ctx, `SELECT metadata::text FROM _default.accounts WHERE address = 'users:2'`).Scan(&acc2)
	if logMD != `{"users:1":{"from":"request","tier":"gold"},"users:2":{"seen":"yes"}}` ||
		acc1 != `{"from": "request", "tier": "gold"}` || acc2 != `{"seen": "yes"}` {
		t.Fatalf("log accountMetadata %s, accounts %s %s", logMD, acc1, acc2)
	}
	if _, err := runScript(t, s, sc); domain.ErrorCode(err) != domain.CodeConflict {
		t.Fatalf("duplicate reference: %v", err)
	}

	// meta() reads what is stored.
	created = mustRun(t, s, `vars { string $tier = meta(@users:1, "tier") }
send [USD 1] (source = @world destination = @users:1)
set_tx_meta("tier", $tier)`, nil)
	if created.Transaction.Metadata["tier"] != "gold" {
		t.Fatalf("meta() read %q", created.Transaction.Metadata["tier"])
	}

	override := script(t, `send [USD 1] (source = @world destination = @a)
set_tx_meta("k", "script")`, nil)
	override.Metadata = ledger.Metadata{"k": "request"}
	_, err = runScript(t, s, override)
	var de *domain.Error
	if !errors.As(err, &de) || de.Code != domain.CodeMetadataOverride || de.Message != "cannot override metadata 'k'" {
		t.Fatalf("metadata override: %v", err)
	}
}

func TestScriptDryRun(t *testing.T) {
	s, pool, _ := newStore(t, nil)
	ctx := context.Background()
	create(t, s, send("world", "a", 10, "USD"))
	res, err := s.Execute(ctx, "main", Request{Script: script(t, `send [USD 4] (source = @a destination = @b)
set_account_meta(@b, "k", "v")`, nil), DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	created := res.Log.Data.(ledger.CreatedTransaction)
	if created.Transaction.ID != 2 || created.Transaction.PostCommitVolumes.Get("a", "USD").Output.Int64() != 4 ||
		created.AccountMetadata["b"]["k"] != "v" {
		t.Fatalf("dry run %+v", created)
	}
	var logs, accounts int
	_ = pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM _default.logs), (SELECT count(*) FROM _default.accounts WHERE address = 'b')`).
		Scan(&logs, &accounts)
	if logs != 1 || accounts != 0 || balanceOf(t, pool, "a", "USD").Int64() != 10 {
		t.Fatalf("dry run wrote: %d logs, account b %d", logs, accounts)
	}
	// A later script does not see the dry run's metadata.
	_, err = runScript(t, s, script(t, `vars { string $k = meta(@b, "k") }
send [USD 1] (source = @world destination = @b)`, nil))
	if numscript.ErrorKindOf(err) != numscript.KindMetadataNotFound {
		t.Fatalf("metadata of a dry run: %v", err)
	}
}

// prepareBatch evaluates reqs as one batch on a sequencer of its own,
// on parent's state when parent is set.
func prepareBatch(t *testing.T, s *Store, parent *batch, reqs ...Request) (*sequencer, *batch, []outcome) {
	t.Helper()
	l, err := s.readLedger(context.Background(), "main")
	if err != nil {
		t.Fatal(err)
	}
	seq := newSequencer(s.pool, l, s.opts, s.metrics, s.pipes)
	if parent != nil {
		seq.cache = parent.cache
	}
	queued := make([]*pending, len(reqs))
	for i, r := range reqs {
		queued[i] = &pending{ctx: context.Background(), req: r, reply: make(chan outcome, 1)}
	}
	b, outcomes, err := seq.prepare(queued, parent)
	if err != nil {
		t.Fatal(err)
	}
	return seq, b, outcomes
}

func writeBatch(t *testing.T, seq *sequencer, b *batch) {
	t.Helper()
	if err := seq.write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	b.commit()
}

// TestScriptSeesItsBatch runs scripts after commands of the same batch and
// of the parent batch still in flight: meta() and balances see them.
func TestScriptSeesItsBatch(t *testing.T) {
	s, pool, _ := newStore(t, nil)
	ctx := context.Background()
	readTier := `vars { string $tier = meta(@users:1, "tier") }
send [USD 1] (source = @users:1 destination = @shop)
set_tx_meta("tier", $tier)`
	seq, first, outcomes := prepareBatch(t, s, nil,
		Request{Command: ledger.CreateTransaction{Postings: send("world", "users:1", 3, "USD")}},
		Request{Command: ledger.SaveMetadata{Target: ledger.AccountTarget("users:1"), Metadata: ledger.Metadata{"tier": "gold"}}},
		Request{Script: script(t, readTier, nil)},
	)
	for i, o := range outcomes {
		if o.err != nil {
			t.Fatalf("command %d: %v", i, o.err)
		}
	}
	if got := outcomes[2].res.Log.Data.(ledger.CreatedTransaction).Transaction.Metadata["tier"]; got != "gold" {
		t.Fatalf("meta() in the same batch read %q", got)
	}
	// The next batch is prepared while the first is not written yet.
	seq2, second, outcomes := prepareBatch(t, s, first,
		Request{Script: script(t, readTier, nil)},
		Request{Command: ledger.DeleteMetadata{Target: ledger.AccountTarget("users:1"), Key: "tier"}},
		Request{Script: script(t, readTier, nil)},
		Request{Script: script(t, `send [USD 2] (source = @users:1 destination = @shop)`, nil)},
	)
	if outcomes[0].err != nil || outcomes[0].res.Log.Data.(ledger.CreatedTransaction).Transaction.Metadata["tier"] != "gold" {
		t.Fatalf("meta() of the parent batch: %+v", outcomes[0])
	}
	if numscript.ErrorKindOf(outcomes[2].err) != numscript.KindMetadataNotFound {
		t.Fatalf("meta() after a delete in the batch: %v", outcomes[2].err)
	}
	if domain.ErrorCode(outcomes[3].err) != domain.CodeInsufficientFund {
		t.Fatalf("spending the parent's and the batch's funds twice: %v", outcomes[3].err)
	}
	writeBatch(t, seq, first)
	second.parent = nil
	writeBatch(t, seq2, second)
	if got := balanceOf(t, pool, "users:1", "USD").Int64(); got != 1 {
		t.Fatalf("users:1 balance %d, want 1", got)
	}
	var md string
	_ = pool.QueryRow(ctx, `SELECT metadata::text FROM _default.accounts WHERE address = 'users:1'`).Scan(&md)
	if md != `{}` {
		t.Fatalf("users:1 metadata %s", md)
	}
	verifyChain(t, pool)
}

// TestScriptAssetScaling reads every scale of an asset an account holds:
// from the database, and from the batch for a scale the database lacks.
func TestScriptAssetScaling(t *testing.T) {
	s, pool, _ := newStore(t, nil)
	create(t, s, send("world", "alice", 1, "EUR"))
	scaling := `#![feature("experimental-asset-scaling")]
send [EUR/2 200] (
  source = @alice with scaling through @swap
  destination = @dest
)`
	seq, b, outcomes := prepareBatch(t, s, nil,
		Request{Command: ledger.CreateTransaction{Postings: send("world", "alice", 100, "EUR/2")}},
		Request{Command: ledger.CreateTransaction{Postings: send("world", "alice", 2, "EUR/4")}},
		Request{Script: script(t, scaling, nil)},
	)
	if outcomes[2].err != nil {
		t.Fatal(outcomes[2].err)
	}
	got := postingsString(outcomes[2].res.Log.Data.(ledger.CreatedTransaction).Transaction.Postings)
	if got != "[alice>swap EUR 1][swap>alice EUR/2 100][alice>dest EUR/2 200]" {
		t.Fatalf("scaling postings %s", got)
	}
	writeBatch(t, seq, b)
	for asset, want := range map[string]int64{"EUR": 0, "EUR/2": 0, "EUR/4": 2} {
		if got := balanceOf(t, pool, "alice", asset).Int64(); got != want {
			t.Fatalf("alice %s balance %d, want %d", asset, got, want)
		}
	}
}

// TestScriptStoreFailure: a database failure while a script runs fails
// that command with an internal error; the rest of the batch goes on.
func TestScriptStoreFailure(t *testing.T) {
	s, pool, _ := newStore(t, nil)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `ALTER TABLE _default.volumes RENAME TO volumes_away`); err != nil {
		t.Fatal(err)
	}
	seq, b, outcomes := prepareBatch(t, s, nil,
		Request{Script: script(t, `send [USD 1] (source = @users:1 destination = @shop)`, nil)},
		Request{Command: ledger.SaveMetadata{Target: ledger.AccountTarget("users:1"), Metadata: ledger.Metadata{"k": "v"}}},
	)
	var de *domain.Error
	if outcomes[0].err == nil || errors.As(outcomes[0].err, &de) {
		t.Fatalf("script on a failing database: %v, want an internal error", outcomes[0].err)
	}
	if outcomes[1].err != nil {
		t.Fatalf("the rest of the batch: %v", outcomes[1].err)
	}
	if _, err := pool.Exec(ctx, `ALTER TABLE _default.volumes_away RENAME TO volumes`); err != nil {
		t.Fatal(err)
	}
	writeBatch(t, seq, b)
	verifyChain(t, pool)
}

// TestConcurrentScripts runs 32 writers spending one hot account through a
// script: the account is never overdrawn and every log is chained.
func TestConcurrentScripts(t *testing.T) {
	s, pool, _ := newStore(t, nil)
	ctx := context.Background()
	create(t, s, send("world", "hot", 500, "USD"))
	prog, err := numscript.Parse(`vars { account $dest }
send [USD 1] (
  source = @hot
  destination = {
    50% to $dest
    remaining to @fees
  }
)`)
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 32, 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	succeeded, refused := 0, 0
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				_, err := s.Execute(ctx, "main", Request{Script: &Script{Program: prog,
					Vars: map[string]string{"dest": fmt.Sprintf("users:%d:%d", w, i)}}})
				mu.Lock()
				switch domain.ErrorCode(err) {
				case "":
					succeeded++
				case domain.CodeInsufficientFund:
					refused++
				default:
					t.Errorf("unexpected error: %v", err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if succeeded != 500 || refused != writers*each-500 {
		t.Fatalf("succeeded %d refused %d, want 500 and %d", succeeded, refused, writers*each-500)
	}
	if got := balanceOf(t, pool, "hot", "USD"); got.Sign() != 0 {
		t.Fatalf("hot balance %s, want 0", got)
	}
	var negative int
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM _default.moves WHERE account <> 'world' AND pcv_input < pcv_output`).Scan(&negative)
	if negative != 0 {
		t.Fatalf("%d moves left an account below zero", negative)
	}
	verifyChain(t, pool)
}

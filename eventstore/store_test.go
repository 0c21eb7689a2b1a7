package eventstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/kontorhq/kontor/domain"
	"github.com/kontorhq/kontor/domain/ledger"
	"github.com/kontorhq/kontor/platform/pgtest"
	"github.com/kontorhq/kontor/projections"
)

func newStore(t *testing.T, features ledger.Features) (*Store, *pgxpool.Pool, string) {
	t.Helper()
	pool := pgtest.NewPool(t)
	s := New(pool, Options{})
	t.Cleanup(s.Close)
	if _, err := s.CreateLedger(context.Background(), "main", ledger.LedgerConfiguration{Features: features}); err != nil {
		t.Fatal(err)
	}
	return s, pool, "main"
}

func send(src, dst string, amount int64, asset string) ledger.Postings {
	return ledger.Postings{ledger.NewPosting(src, dst, asset, big.NewInt(amount))}
}

func create(t *testing.T, s *Store, postings ledger.Postings) ledger.Transaction {
	t.Helper()
	res, err := s.Execute(context.Background(), "main", Request{Command: ledger.CreateTransaction{Postings: postings}})
	if err != nil {
		t.Fatal(err)
	}
	return res.Log.Data.(ledger.CreatedTransaction).Transaction
}

func balanceOf(t *testing.T, pool *pgxpool.Pool, account, asset string) *big.Int {
	t.Helper()
	var s string
	err := pool.QueryRow(context.Background(), `SELECT (input - output)::text FROM _default.volumes
		WHERE ledger = 'main' AND address = $1 AND asset = $2`, account, asset).Scan(&s)
	if err != nil {
		t.Fatalf("balance of %s: %v", account, err)
	}
	return parseInt(s)
}

func TestCreateTransaction(t *testing.T) {
	s, pool, _ := newStore(t, nil)
	tx := create(t, s, send("world", "users:1", 100, "USD/2"))
	if tx.ID != 1 {
		t.Fatalf("first transaction id %d, want 1", tx.ID)
	}
	if got := tx.PostCommitVolumes.Get("users:1", "USD/2"); got.Input.Int64() != 100 || got.Output.Sign() != 0 {
		t.Fatalf("pcv users:1 = %+v", got)
	}
	if got := tx.PostCommitVolumes.Get("world", "USD/2"); got.Output.Int64() != 100 {
		t.Fatalf("pcv world = %+v", got)
	}
	if got := tx.PostCommitEffectiveVolumes.Get("users:1", "USD/2"); got.Input.Int64() != 100 {
		t.Fatalf("pcev users:1 = %+v", got)
	}
	tx2 := create(t, s, send("users:1", "users:2", 30, "USD/2"))
	if tx2.ID != 2 || balanceOf(t, pool, "users:1", "USD/2").Int64() != 70 || balanceOf(t, pool, "users:2", "USD/2").Int64() != 30 {
		t.Fatalf("after second transaction: id %d", tx2.ID)
	}
	var accounts, logs, moves int
	_ = pool.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM _default.accounts), (SELECT count(*) FROM _default.logs),
		(SELECT count(*) FROM _default.moves)`).Scan(&accounts, &logs, &moves)
	if accounts != 3 || logs != 2 || moves != 4 {
		t.Fatalf("accounts %d logs %d moves %d, want 3 2 4", accounts, logs, moves)
	}
}

func TestInsufficientFundsAndForce(t *testing.T) {
	s, pool, _ := newStore(t, nil)
	create(t, s, send("world", "users:1", 10, "EUR"))
	_, err := s.Execute(context.Background(), "main", Request{Command: ledger.CreateTransaction{Postings: send("users:1", "users:2", 11, "EUR")}})
	var de *domain.Error
	if !errors.As(err, &de) || de.Code != domain.CodeInsufficientFund {
		t.Fatalf("want INSUFFICIENT_FUND, got %v", err)
	}
	details, ok := de.Details.(ledger.InsufficientFunds)
	if !ok || details.Account != "users:1" || details.Asset != "EUR" || details.Needed.Int64() != 11 || details.Available.Int64() != 10 {
		t.Fatalf("details %+v", de.Details)
	}
	if _, err := s.Execute(context.Background(), "main", Request{Command: ledger.CreateTransaction{
		Postings: send("users:1", "users:2", 11, "EUR"), Force: true}}); err != nil {
		t.Fatal(err)
	}
	if got := balanceOf(t, pool, "users:1", "EUR").Int64(); got != -1 {
		t.Fatalf("forced overdraft: balance %d, want -1", got)
	}
}

func TestReferenceIdempotencyAndDryRun(t *testing.T) {
	s, pool, _ := newStore(t, nil)
	ctx := context.Background()
	cmd := ledger.CreateTransaction{Postings: send("world", "a", 1, "USD"), Reference: "ref-1"}
	if _, err := s.Execute(ctx, "main", Request{Command: cmd}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Execute(ctx, "main", Request{Command: cmd}); domain.ErrorCode(err) != domain.CodeConflict {
		t.Fatalf("duplicate reference: %v", err)
	}

	req := Request{Command: ledger.CreateTransaction{Postings: send("world", "a", 5, "USD")}, IdempotencyKey: "ik", IdempotencyHash: "h1"}
	first, err := s.Execute(ctx, "main", req)
	if err != nil || first.IdempotencyHit {
		t.Fatal(err)
	}
	again, err := s.Execute(ctx, "main", req)
	if err != nil || !again.IdempotencyHit || again.Log.ID != first.Log.ID {
		t.Fatalf("replay: %+v %v", again, err)
	}
	if got := again.Log.Data.(ledger.CreatedTransaction).Transaction.ID; got != 2 {
		t.Fatalf("replayed transaction id %d", got)
	}
	req.IdempotencyHash = "h2"
	if _, err := s.Execute(ctx, "main", req); domain.ErrorCode(err) != domain.CodeValidation {
		t.Fatalf("same key, other request: %v", err)
	}

	dry, err := s.Execute(ctx, "main", Request{Command: ledger.CreateTransaction{Postings: send("world", "a", 7, "USD")}, DryRun: true})
	if err != nil || dry.Log.Data.(ledger.CreatedTransaction).Transaction.ID != 3 || dry.TransactionJSON != nil {
		t.Fatalf("dry run: %+v %v", dry, err)
	}
	// A written transaction comes with its JSON as its log holds it.
	if want, _ := first.Log.Data.(ledger.CreatedTransaction).Transaction.MarshalJSON(); string(first.TransactionJSON) != string(want) {
		t.Fatalf("transaction JSON %s, want %s", first.TransactionJSON, want)
	}
	if got := balanceOf(t, pool, "a", "USD").Int64(); got != 6 {
		t.Fatalf("dry run changed balance: %d", got)
	}
	next := create(t, s, send("world", "a", 1, "USD"))
	if next.ID != 3 {
		t.Fatalf("after a dry run the next id is %d, want 3", next.ID)
	}
}

func TestRevertAndMetadata(t *testing.T) {
	s, pool, _ := newStore(t, nil)
	ctx := context.Background()
	tx := create(t, s, send("world", "users:1", 100, "USD"))
	create(t, s, send("users:1", "users:2", 60, "USD"))
	if _, err := s.Execute(ctx, "main", Request{Command: ledger.RevertTransaction{ID: tx.ID}}); domain.ErrorCode(err) != domain.CodeInsufficientFund {
		t.Fatalf("revert without funds: %v", err)
	}
	res, err := s.Execute(ctx, "main", Request{Command: ledger.RevertTransaction{ID: tx.ID, Force: true}})
	if err != nil {
		t.Fatal(err)
	}
	rev := res.Log.Data.(ledger.RevertedTransaction)
	if rev.RevertTransaction.ID != 3 || !rev.RevertedTransaction.Reverted() || rev.RevertTransaction.Metadata[ledger.MetadataKeyReverts] != "1" {
		t.Fatalf("revert: %+v", rev)
	}
	if got := balanceOf(t, pool, "users:1", "USD").Int64(); got != -60 {
		t.Fatalf("balance after forced revert: %d", got)
	}
	if _, err := s.Execute(ctx, "main", Request{Command: ledger.RevertTransaction{ID: tx.ID, Force: true}}); domain.ErrorCode(err) != domain.CodeAlreadyRevert {
		t.Fatalf("second revert: %v", err)
	}
	if _, err := s.Execute(ctx, "main", Request{Command: ledger.RevertTransaction{ID: 99}}); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Fatalf("revert of a missing transaction: %v", err)
	}

	exec := func(cmd ledger.Command) {
		t.Helper()
		if _, err := s.Execute(ctx, "main", Request{Command: cmd}); err != nil {
			t.Fatal(err)
		}
	}
	exec(ledger.SaveMetadata{Target: ledger.TransactionTarget(2), Metadata: ledger.Metadata{"a": "1", "b": "2"}})
	exec(ledger.DeleteMetadata{Target: ledger.TransactionTarget(2), Key: "a"})
	exec(ledger.SaveMetadata{Target: ledger.AccountTarget("merchants:9"), Metadata: ledger.Metadata{"k": "v"}})
	if _, err := s.Execute(ctx, "main", Request{Command: ledger.DeleteMetadata{Target: ledger.TransactionTarget(2), Key: "a"}}); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Fatalf("deleting a missing key: %v", err)
	}
	var txMD, accMD string
	var txRevisions, accRevisions int
	_ = pool.QueryRow(ctx, `SELECT metadata::text FROM _default.transactions WHERE id = 2`).Scan(&txMD)
	_ = pool.QueryRow(ctx, `SELECT metadata::text FROM _default.accounts WHERE address = 'merchants:9'`).Scan(&accMD)
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM _default.transactions_metadata WHERE transaction_id = 2`).Scan(&txRevisions)
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM _default.accounts_metadata WHERE address = 'merchants:9'`).Scan(&accRevisions)
	if txMD != `{"b": "2"}` || accMD != `{"k": "v"}` || txRevisions != 3 || accRevisions != 2 {
		t.Fatalf("metadata: tx %s (%d revisions), account %s (%d revisions)", txMD, txRevisions, accMD, accRevisions)
	}
	// A transaction's history starts at its first change, with the
	// metadata it was created with dated at its timestamp.
	var history string
	_ = pool.QueryRow(ctx, `SELECT string_agg(h.revision || ' ' || h.metadata::text || ' ' || (h.date = t.timestamp), '; ' ORDER BY h.revision)
		FROM _default.transactions_metadata h JOIN _default.transactions t ON t.ledger = h.ledger AND t.id = h.transaction_id
		WHERE h.transaction_id = 2`).Scan(&history)
	if want := `1 {} true; 2 {"a": "1", "b": "2"} false; 3 {"b": "2"} false`; history != want {
		t.Fatalf("history of tx 2: %s, want %s", history, want)
	}
	var unchanged int
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM _default.transactions_metadata WHERE transaction_id <> 2`).Scan(&unchanged)
	if unchanged != 0 {
		t.Fatalf("%d history rows for transactions whose metadata never changed", unchanged)
	}
}

func TestBackDatedEffectiveVolumes(t *testing.T) {
	s, pool, _ := newStore(t, nil)
	ctx := context.Background()
	at := func(day int) ledger.Time { return ledger.NewTime(time.Date(2024, 1, day, 0, 0, 0, 0, time.UTC)) }
	for _, c := range []struct {
		day    int
		amount int64
	}{{10, 100}, {20, 10}, {5, 1}} {
		if _, err := s.Execute(ctx, "main", Request{Command: ledger.CreateTransaction{
			Postings: send("world", "a", c.amount, "USD"), Timestamp: at(c.day)}}); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := pool.Query(ctx, `SELECT transaction_id, pcev_input::text FROM _default.moves WHERE account = 'a' ORDER BY effective_date`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var id int64
		var in string
		_ = rows.Scan(&id, &in)
		got = append(got, fmt.Sprintf("%d:%s", id, in))
	}
	if fmt.Sprint(got) != "[3:1 1:101 2:111]" {
		t.Fatalf("effective volumes by date: %v, want [3:1 1:101 2:111]", got)
	}
}

// TestConcurrentHotAccount runs 64 writers on one funded account: no
// update is lost, the account never goes below zero, every asset sums to
// zero across accounts and the hash chain verifies.
func TestConcurrentHotAccount(t *testing.T) {
	s, pool, _ := newStore(t, nil)
	ctx := context.Background()
	create(t, s, send("world", "hot", 1000, "USD"))
	const writers, each = 64, 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	succeeded, refused := 0, 0
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				_, err := s.Execute(ctx, "main", Request{Command: ledger.CreateTransaction{
					Postings: send("hot", fmt.Sprintf("users:%d:%d", w, i), 1, "USD")}})
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
	if succeeded != 1000 || refused != writers*each-1000 {
		t.Fatalf("succeeded %d refused %d, want 1000 and %d", succeeded, refused, writers*each-1000)
	}
	if got := balanceOf(t, pool, "hot", "USD"); got.Sign() != 0 {
		t.Fatalf("hot balance %s, want 0", got)
	}
	var sum string
	_ = pool.QueryRow(ctx, `SELECT sum(input - output)::text FROM _default.volumes WHERE ledger = 'main' AND asset = 'USD'`).Scan(&sum)
	if sum != "0" {
		t.Fatalf("sum of balances %s, want 0", sum)
	}
	var negative int
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM _default.moves WHERE account <> 'world' AND pcv_input < pcv_output`).Scan(&negative)
	if negative != 0 {
		t.Fatalf("%d moves left an account below zero", negative)
	}
	verifyChain(t, pool)
}

func verifyChain(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	verifyChainOf(t, pool, "main")
}

// verifyChainOf checks that the ledger's log ids are dense and its hash
// chain verifies.
func verifyChainOf(t *testing.T, pool *pgxpool.Pool, name string) {
	t.Helper()
	var n, last int64
	if err := pool.QueryRow(context.Background(), `SELECT count(*), coalesce(max(id), 0) FROM _default.logs
		WHERE ledger = $1`, name).Scan(&n, &last); err != nil {
		t.Fatal(err)
	}
	if n != last {
		t.Fatalf("%d logs up to id %d: ids are not dense", n, last)
	}
	v, err := projections.NewReader(pool).VerifyLogs(context.Background(), name, 0, 0)
	if err != nil || v.Break != nil || v.Checked != uint64(n) {
		t.Fatalf("chain of %s: %+v, %v", name, v, err)
	}
}

// TestTwoProcessesOneLedger runs two stores, as two Kontor processes would,
// on one database and ledger: each revalidates its cache under the ledger's
// lock, so no write is lost and the chain stays whole.
func TestTwoProcessesOneLedger(t *testing.T) {
	first, pool, _ := newStore(t, nil)
	second := New(pool, Options{})
	defer second.Close()
	ctx := context.Background()
	create(t, first, send("world", "shared", 200, "USD"))
	// The second store writes once, then the first: the second's cache is
	// behind, so its next batch is found stale whatever the timing.
	create(t, second, send("world", "other", 1, "USD"))
	create(t, first, send("world", "other", 1, "USD"))

	var wg sync.WaitGroup
	errs := make(chan error, 400)
	for i := range 400 {
		store := first
		if i%2 == 1 {
			store = second
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := store.Execute(ctx, "main", Request{Command: ledger.CreateTransaction{
				Postings: send("shared", fmt.Sprintf("dest:%d", i%7), 1, "USD")}})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	ok, refused := 0, 0
	for err := range errs {
		switch domain.ErrorCode(err) {
		case "":
			ok++
		case domain.CodeInsufficientFund:
			refused++
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if ok != 200 || refused != 200 {
		t.Fatalf("ok %d refused %d, want 200 and 200", ok, refused)
	}
	if got := balanceOf(t, pool, "shared", "USD"); got.Sign() != 0 {
		t.Fatalf("shared balance %s, want 0", got)
	}
	var txs, maxID int
	_ = pool.QueryRow(ctx, `SELECT count(*), max(id) FROM _default.transactions WHERE ledger = 'main'`).Scan(&txs, &maxID)
	if txs != 203 || maxID != 203 {
		t.Fatalf("%d transactions, max id %d: want 203 and 203 (no id reused or skipped)", txs, maxID)
	}
	verifyChain(t, pool)
	stale := testutil.ToFloat64(first.metrics.stale.WithLabelValues("main")) +
		testutil.ToFloat64(second.metrics.stale.WithLabelValues("main"))
	if stale == 0 {
		t.Fatal("no batch was found stale: the cross-process path was not exercised")
	}
}

func TestCommittedHook(t *testing.T) {
	pool := pgtest.NewPool(t)
	var commits atomic.Int32
	s := New(pool, Options{Committed: func() { commits.Add(1) }})
	defer s.Close()
	ctx := context.Background()
	if _, err := s.CreateLedger(ctx, "main", ledger.LedgerConfiguration{}); err != nil {
		t.Fatal(err)
	}
	create(t, s, send("world", "a", 1, "USD"))
	if commits.Load() != 1 {
		t.Fatalf("%d commit notifications after one write, want 1", commits.Load())
	}
	_, err := s.Execute(ctx, "main", Request{Command: ledger.CreateTransaction{Postings: send("b", "a", 1, "USD")}})
	if domain.ErrorCode(err) != domain.CodeInsufficientFund || commits.Load() != 1 {
		t.Fatalf("a refused write notified: %v, %d", err, commits.Load())
	}
}

// TestBucketSchemaReachesExistingBuckets: a process applies bucket.sql to a
// bucket before it first writes there, only when the bucket was given
// another version of it.
func TestBucketSchemaReachesExistingBuckets(t *testing.T) {
	s, pool, _ := newStore(t, nil)
	ctx := context.Background()
	create(t, s, send("world", "users:1", 1, "USD"))
	indexed := func() bool {
		var ok bool
		if err := pool.QueryRow(ctx, `SELECT to_regclass('_default.transactions_addresses_kept') IS NOT NULL`).Scan(&ok); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	writeWithNewStore := func() {
		t.Helper()
		other := New(pool, Options{})
		defer other.Close()
		if _, err := other.Execute(ctx, "main", Request{Command: ledger.CreateTransaction{Postings: send("world", "users:1", 1, "USD")}}); err != nil {
			t.Fatal(err)
		}
	}

	// Same version: nothing is applied.
	if _, err := pool.Exec(ctx, `DROP INDEX _default.transactions_addresses_kept`); err != nil {
		t.Fatal(err)
	}
	writeWithNewStore()
	if indexed() {
		t.Fatal("bucket.sql was applied again to a bucket that has this version")
	}

	// Another version, here one whose moves were keyed by seq alone with
	// a second index, whose logs stored their mementos, whose names and
	// addresses had the database's collation, and whose transactions all
	// kept their addresses, in an index of them all: applied before the
	// write.
	if _, err := pool.Exec(ctx, `ALTER TABLE _default.moves DROP CONSTRAINT moves_pkey, ADD PRIMARY KEY (ledger, seq);
		CREATE INDEX moves_transaction ON _default.moves (ledger, transaction_id);
		ALTER TABLE _default.logs ADD COLUMN memento bytea NOT NULL DEFAULT '';
		ALTER TABLE _default.moves ALTER COLUMN account TYPE text COLLATE "default";
		ALTER TABLE _default.transactions ALTER COLUMN sources TYPE text[] COLLATE "default";
		UPDATE _default.transactions SET sources = '{world}', destinations = '{users:1}';
		ALTER TABLE _default.transactions ALTER COLUMN sources SET NOT NULL, ALTER COLUMN destinations SET NOT NULL;
		CREATE INDEX transactions_addresses ON _default.transactions USING gin ((sources || destinations));
		UPDATE _system.buckets SET schema = 'older' WHERE name = '_default'`); err != nil {
		t.Fatal(err)
	}
	writeWithNewStore()
	if !indexed() {
		t.Fatal("bucket.sql did not reach a bucket given another version")
	}
	var kept string
	if err := pool.QueryRow(ctx, `SELECT coalesce(to_regclass('_default.transactions_addresses')::text, '')
			|| (SELECT count(*) FROM pg_attribute WHERE attrelid = '_default.transactions'::regclass AND attnotnull
				AND attname IN ('sources', 'destinations'))`).Scan(&kept); err != nil {
		t.Fatal(err)
	}
	if kept != "0" {
		t.Fatalf("transactions after the upgrade: %q, want no index of every address and nullable addresses", kept)
	}
	var key string
	if err := pool.QueryRow(ctx, `SELECT pg_get_constraintdef(oid) || coalesce(to_regclass('_default.moves_transaction')::text, '')
			|| (SELECT count(*) FROM information_schema.columns WHERE table_schema = '_default' AND table_name = 'logs' AND column_name = 'memento')
		FROM pg_constraint WHERE conrelid = '_default.moves'::regclass AND contype = 'p'`).Scan(&key); err != nil {
		t.Fatal(err)
	}
	if key != "PRIMARY KEY (ledger, transaction_id, seq)0" {
		t.Fatalf("moves after the upgrade: %s", key)
	}
	var uncollated []string
	if err := pool.QueryRow(ctx, `SELECT coalesce(array_agg(attrelid::regclass || '.' || attname ORDER BY 1), '{}') FROM pg_attribute
		WHERE attrelid IN ('_default.moves'::regclass, '_default.transactions'::regclass) AND attnum > 0
			AND atttypid IN ('text'::regtype, 'text[]'::regtype) AND attname IN ('ledger', 'account', 'asset', 'sources', 'destinations')
			AND attcollation <> 'pg_catalog."C"'::regcollation`).Scan(&uncollated); err != nil {
		t.Fatal(err)
	}
	if len(uncollated) > 0 {
		t.Fatalf("columns without the C collation after the upgrade: %v", uncollated)
	}
	var digest string
	if err := pool.QueryRow(ctx, `SELECT schema FROM _system.buckets WHERE name = '_default'`).Scan(&digest); err != nil || digest != bucketDigest {
		t.Fatalf("bucket digest %q (%v), want %q", digest, err, bucketDigest)
	}
}

// TestTransactionAddresses: a ledger without moves keeps the addresses of
// its transactions with them, for filters; one with moves leaves them out.
func TestTransactionAddresses(t *testing.T) {
	for _, tc := range []struct {
		features ledger.Features
		want     string
	}{
		{ledger.MinimalFeatures(), "{world,a,world} {b,c,b}"},
		{nil, "NULL NULL"},
	} {
		s, pool, _ := newStore(t, tc.features)
		create(t, s, ledger.Postings{ledger.NewPosting("world", "b", "USD", big.NewInt(2)),
			ledger.NewPosting("a", "c", "USD", big.NewInt(0)), ledger.NewPosting("world", "b", "EUR", big.NewInt(1))})
		var got string
		if err := pool.QueryRow(context.Background(), `SELECT coalesce(sources::text, 'NULL') || ' ' || coalesce(destinations::text, 'NULL')
			FROM _default.transactions WHERE ledger = 'main'`).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("features %v: addresses %s, want %s", tc.features, got, tc.want)
		}
	}
}

// TestStoredLogWritesEqualEffectiveVolumesOnce: a transaction's log stores
// effective volumes equal to its post-commit volumes as a marker, a
// back-dated one stores them in full, and reading either log gives them
// back.
func TestStoredLogWritesEqualEffectiveVolumesOnce(t *testing.T) {
	s, pool, _ := newStore(t, nil)
	ctx := context.Background()
	create(t, s, send("world", "a", 5, "USD"))
	past := ledger.NewTime(time.Now().Add(-time.Hour))
	if _, err := s.Execute(ctx, "main", Request{Command: ledger.CreateTransaction{
		Postings: send("world", "a", 2, "USD"), Timestamp: past}}); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[int64]struct {
		marked bool
		pcev   int64 // a's effective input
	}{1: {true, 5}, 2: {false, 2}} {
		var data []byte
		if err := pool.QueryRow(ctx, `SELECT data::text FROM _default.logs WHERE ledger = 'main' AND id = $1`, id).Scan(&data); err != nil {
			t.Fatal(err)
		}
		marked := bytes.Contains(data, []byte(`"postCommitEffectiveVolumes":"postCommitVolumes"`))
		payload, err := ledger.DecodePayload(ledger.LogTypeNewTransaction, data)
		if err != nil {
			t.Fatal(err)
		}
		pcev := payload.(ledger.CreatedTransaction).Transaction.PostCommitEffectiveVolumes
		if marked != want.marked || pcev["a"]["USD"].Input.Int64() != want.pcev {
			t.Errorf("log %d: marker %v (want %v), a's effective input %v (want %d): %s",
				id, marked, want.marked, pcev["a"]["USD"].Input, want.pcev, data)
		}
	}
}

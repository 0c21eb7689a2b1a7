package eventstore

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/kontorhq/kontor/domain/ledger"
	"github.com/kontorhq/kontor/platform/pgtest"
)

// rowsInsert is a batch inserting ns into pipe_rows, parameters in text.
func rowsInsert(ns ...string) []wireQuery {
	var out []wireQuery
	for _, n := range ns {
		out = append(out, wireQuery{name: "pipe_insert", sql: `INSERT INTO pipe_rows (n) VALUES ($1::int)`,
			oids: []uint32{23}, params: [][]byte{[]byte(n)}})
	}
	return out
}

func answer(t *testing.T, sent <-chan error) error {
	t.Helper()
	select {
	case err := <-sent:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("no answer from the pipe")
		return nil
	}
}

func TestPipeSettlesEachBatchAlone(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	if _, err := pool.Exec(ctx, `CREATE TABLE pipe_rows (n int PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	p, err := dialPipe(ctx, pool.Config().ConnConfig.Config.Copy())
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()

	// All three are written before any is answered; the second fails on
	// its second row and is rolled back alone.
	a := p.send(rowsInsert("1", "2"))
	b := p.send(rowsInsert("3", "1"))
	c := p.send(rowsInsert("4"))
	if err := answer(t, a); err != nil {
		t.Fatalf("first batch: %v", err)
	}
	var pgErr *pgconn.PgError
	if err := answer(t, b); !errors.As(err, &pgErr) || pgErr.Code != "23505" {
		t.Fatalf("second batch: %v, want a unique violation", err)
	}
	if err := answer(t, c); err != nil {
		t.Fatalf("third batch: %v", err)
	}
	rows, _ := pool.Query(ctx, `SELECT n FROM pipe_rows ORDER BY n`)
	got, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []int32{1, 2, 4}) {
		t.Fatalf("rows %v, want [1 2 4]", got)
	}

	// A lost connection fails what waits and what comes after.
	killed := p.send([]wireQuery{{name: "pipe_kill", sql: `SELECT pg_terminate_backend(pg_backend_pid())`}})
	if err := answer(t, killed); err == nil {
		t.Fatal("a batch whose connection died succeeded")
	}
	if !p.broken() {
		t.Fatal("the pipe does not know its connection died")
	}
	if err := answer(t, p.send(rowsInsert("5"))); err == nil {
		t.Fatal("a batch sent on a dead pipe succeeded")
	}
}

// TestStoreReopensItsPipe kills the ledger's connection between writes:
// the write that meets the dead connection may fail, the ones after it
// succeed on a new connection, and ids stay dense.
func TestStoreReopensItsPipe(t *testing.T) {
	s, pool, _ := newStore(t, nil)
	ctx := context.Background()
	create(t, s, send("world", "users:1", 1, "USD"))
	if _, err := pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`); err != nil {
		t.Fatal(err)
	}
	failures := 0
	for range 3 {
		if _, err := s.Execute(ctx, "main", Request{Command: ledger.CreateTransaction{Postings: send("world", "users:1", 1, "USD")}}); err != nil {
			failures++
		}
	}
	if failures > 1 {
		t.Fatalf("%d writes failed after the connection was lost, want at most 1", failures)
	}
	var n, last int64
	if err := pool.QueryRow(ctx, `SELECT count(*), max(id) FROM _default.transactions WHERE ledger = 'main'`).Scan(&n, &last); err != nil {
		t.Fatal(err)
	}
	if want := int64(4 - failures); n != want || last != n {
		t.Fatalf("%d transactions, last id %d; want %d, dense", n, last, want)
	}
}

// TestLedgersBeyondMaxPipesWriteThroughThePool: with one pipe for the
// store, the ledger written first holds it and another ledger's writes go
// through the pool, in order, as fast as they come.
func TestLedgersBeyondMaxPipesWriteThroughThePool(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	s := New(pool, Options{MaxPipes: 1})
	t.Cleanup(s.Close)
	for _, name := range []string{"first", "second"} {
		if _, err := s.CreateLedger(ctx, name, ledger.LedgerConfiguration{}); err != nil {
			t.Fatal(err)
		}
	}
	write := func(name string, n int) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.Execute(ctx, name, Request{Command: ledger.CreateTransaction{Postings: send("world", "users:1", 1, "USD")}})
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	write("first", 1)
	if len(s.pipes) != 1 {
		t.Fatalf("%d pipes open after the first ledger's write, want 1", len(s.pipes))
	}
	write("second", 50)
	if len(s.pipes) != 1 {
		t.Fatalf("%d pipes open, want still 1", len(s.pipes))
	}
	var n, last int64
	if err := pool.QueryRow(ctx, `SELECT count(*), max(id) FROM _default.transactions WHERE ledger = 'second'`).Scan(&n, &last); err != nil {
		t.Fatal(err)
	}
	if n != 50 || last != 50 {
		t.Fatalf("second ledger: %d transactions, last id %d; want 50 and 50", n, last)
	}
	verifyChainOf(t, pool, "second")
}

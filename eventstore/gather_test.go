package eventstore

import (
	"context"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kontorhq/kontor/domain/ledger"
)

func TestGatherTargetIsHalfTheFadingPeak(t *testing.T) {
	s := &sequencer{}
	if got := s.gatherTarget(1); got != 0 {
		t.Fatalf("one command held: target %d, want 0", got)
	}
	if got := s.gatherTarget(40); got != 20 {
		t.Fatalf("40 held: target %d, want 20", got)
	}
	if got := s.gatherTarget(3); got != 19 && got != 20 {
		t.Fatalf("3 held right after 40: target %d, want the peak's half (19 or 20)", got)
	}
	// Two half-lives later the peak of 40 counts for 10.
	s.peakAt = s.peakAt.Add(-2 * peakHalfLife)
	if got := s.gatherTarget(3); got != 4 && got != 5 {
		t.Fatalf("3 held two half-lives after 40: target %d, want 4 or 5", got)
	}
	if math.Abs(s.peak-10) > 0.01 {
		t.Fatalf("peak %.2f, want 10", s.peak)
	}
}

// TestBatchBehindABatchInFlightGathers holds the ledger's lock so that a
// batch stays in flight, then sends commands one by one: after a burst of
// 30 has shown the ledger's load, the batch queued behind the one in
// flight gathers many of them rather than leaving with the first.
func TestBatchBehindABatchInFlightGathers(t *testing.T) {
	s, pool, _ := newStore(t, nil)
	ctx := context.Background()
	create(t, s, send("world", "users:0", 1, "USD"))
	seq, err := s.sequencer(ctx, "main")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	submit := func(i int) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Execute(ctx, "main", Request{Command: ledger.CreateTransaction{
				Postings: send("world", fmt.Sprintf("users:%d", i), 1, "USD")}})
			if err != nil {
				t.Errorf("command %d: %v", i, err)
			}
		}()
	}

	// The burst: one command waits on the lock, 30 queue behind it.
	release := holdLock(t, pool, seq.lockID)
	submit(1)
	waitLockWaiter(t, pool)
	for i := range 30 {
		submit(100 + i)
	}
	time.Sleep(100 * time.Millisecond)
	release()
	wg.Wait()

	// The trickle: one command waits on the lock, 12 follow 2 ms apart.
	release = holdLock(t, pool, seq.lockID)
	submit(2)
	waitLockWaiter(t, pool)
	for i := range 12 {
		submit(200 + i)
		time.Sleep(2 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	release()
	wg.Wait()

	// The trickle's first command is a batch alone; the next batch was
	// queued behind it.
	sizes, first := batchSizes(t, pool), trickleFirstTx(t, pool)
	var after []int
	for i, id := range sizes.firstTx {
		if id == first {
			after = sizes.size[i+1:]
		}
	}
	if len(after) == 0 || after[0] < 6 {
		t.Fatalf("batches after the one in flight hold %v commands: the first should gather at least 6", after)
	}
	verifyChain(t, pool)
}

// holdLock takes the ledger's advisory lock on a connection of its own
// and returns the function that releases it.
func holdLock(t *testing.T, pool *pgxpool.Pool, id int64) func() {
	t.Helper()
	ctx := context.Background()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, id); err != nil {
		t.Fatal(err)
	}
	return func() {
		if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, id); err != nil {
			t.Error(err)
		}
		conn.Release()
	}
}

// waitLockWaiter waits until a batch waits on an advisory lock.
func waitLockWaiter(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	for range 500 {
		var n int
		if err := pool.QueryRow(context.Background(),
			`SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no batch waits on the ledger's lock")
}

type batches struct{ firstTx, size []int }

// batchSizes returns the ledger's batches in order: the PostgreSQL
// transaction that wrote each log tells its batch.
func batchSizes(t *testing.T, pool *pgxpool.Pool) batches {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT min(id)::int, count(*)::int FROM _default.transactions
		WHERE ledger = 'main' GROUP BY xmin::text ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b batches
	for rows.Next() {
		var first, n int
		if err := rows.Scan(&first, &n); err != nil {
			t.Fatal(err)
		}
		b.firstTx, b.size = append(b.firstTx, first), append(b.size, n)
	}
	return b
}

// trickleFirstTx returns the id of the trickle's first transaction, the one
// to users:2.
func trickleFirstTx(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	var id int
	if err := pool.QueryRow(context.Background(), `SELECT transaction_id::int FROM _default.moves
		WHERE ledger = 'main' AND account = 'users:2'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

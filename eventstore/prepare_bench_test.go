package eventstore

import (
	"context"
	"fmt"
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/kontorhq/kontor/domain/ledger"
	"github.com/kontorhq/kontor/platform/pgtest"
)

// BenchmarkPrepare measures the CPU the sequencer spends on a batch before
// the network: what prepare does after prefetch — execute (evaluate, the
// volumes and moves, the hash chain), build (the pipeline's columns and
// JSON) — and the wire encoding of every parameter (encode). One op is one
// batch of benchBatch CreateTransaction commands, world → users:i of 1
// USD/2, all features on; ns/tx is per transaction. It needs no database:
// balances and accounts are seeded in the cache, and the statements'
// parameter types are those PostgreSQL gives them (TestBenchDescriptions).
func BenchmarkPrepare(b *testing.B) {
	s, c, reqs := benchSetup(b)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := benchPrepare(s, c, reqs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBatch), "ns/tx")
}

const benchBatch = 32

// benchSetup returns a sequencer that can encode without a database, a
// cache holding the balances and accounts the requests use, and the requests.
func benchSetup(tb testing.TB) (*sequencer, *cache, []Request) {
	tb.Helper()
	l := ledger.Ledger{Bucket: "_default", Name: "main", Features: ledger.DefaultFeatures()}
	s := &sequencer{ledger: l, lockID: ledgerLockID(l), types: pgtype.NewMap(),
		descriptions: map[string]*pgconn.StatementDescription{}}
	c := newCache()
	c.loaded, c.lastLogID, c.lastTxID, c.lastMoveSeq = true, 1000, 1000, 2000
	c.lastHash = make([]byte, 32)
	c.lastLogDate = time.Now().Add(-time.Second)
	c.balances, c.accounts = map[key]balance{}, map[string]account{}
	seed := func(address string, in, out int64) {
		c.balances[key{address, "USD/2"}] = balance{volumes: ledger.Volumes{Input: big.NewInt(in), Output: big.NewInt(out)},
			lastEffective: c.lastLogDate}
		c.accounts[address] = account{exists: true, firstUsage: c.lastLogDate}
	}
	seed(ledger.World, 0, 1_000_000)
	reqs := make([]Request, benchBatch)
	for i := range reqs {
		user := fmt.Sprintf("users:%d", i)
		seed(user, 1000, 0)
		reqs[i] = Request{Command: ledger.CreateTransaction{
			Postings: ledger.Postings{ledger.NewPosting(ledger.World, user, "USD/2", big.NewInt(1))}}}
	}
	queries, err := benchPipeline(s, c, reqs)
	if err != nil {
		tb.Fatal(err)
	}
	for _, q := range queries {
		oids := make([]uint32, len(q.Arguments))
		for i, arg := range q.Arguments {
			if oids[i], err = benchOID(arg); err != nil {
				tb.Fatal(err)
			}
		}
		s.descriptions[q.SQL] = &pgconn.StatementDescription{Name: statementName(q.SQL), SQL: q.SQL, ParamOIDs: oids}
	}
	return s, c, reqs
}

// benchPipeline executes reqs in a new batch on c and returns the queries
// prepare would encode.
func benchPipeline(s *sequencer, c *cache, reqs []Request) ([]*pgx.QueuedQuery, error) {
	b := newBatch(c, nil, s.ledger.Features, ledger.Now())
	for _, req := range reqs {
		if o := b.execute(req); o.err != nil {
			return nil, o.err
		}
	}
	db := &bucketDB{ledger: s.ledger}
	if err := b.build(db); err != nil {
		return nil, err
	}
	if b.pipeline == nil {
		return nil, fmt.Errorf("the batch has back-dated moves")
	}
	p := &pgx.Batch{}
	db.queueLock(p, s.lockID, b)
	p.QueuedQueries = append(p.QueuedQueries, b.pipeline.QueuedQueries...)
	return p.QueuedQueries, nil
}

// benchPrepare is prepare after prefetch, on c's state.
func benchPrepare(s *sequencer, c *cache, reqs []Request) ([]wireQuery, error) {
	queries, err := benchPipeline(s, c, reqs)
	if err != nil {
		return nil, err
	}
	return s.encode(context.Background(), queries)
}

// benchOID is the type PostgreSQL gives a parameter of the write path's
// statements, each cast to the type of the Go value it takes.
func benchOID(arg any) (uint32, error) {
	switch arg.(type) {
	case string:
		return pgtype.TextOID, nil
	case int64:
		return pgtype.Int8OID, nil
	case bool:
		return pgtype.BoolOID, nil
	case time.Time:
		return pgtype.TimestamptzOID, nil
	case []byte:
		return pgtype.ByteaOID, nil
	case []int64:
		return pgtype.Int8ArrayOID, nil
	case []string, []pgtype.Text:
		return pgtype.TextArrayOID, nil
	case []bool:
		return pgtype.BoolArrayOID, nil
	case []time.Time:
		return pgtype.TimestamptzArrayOID, nil
	case [][]byte:
		return pgtype.ByteaArrayOID, nil
	case []pgtype.Numeric:
		return pgtype.NumericArrayOID, nil
	}
	return 0, fmt.Errorf("no OID for %T", arg)
}

// TestBenchDescriptions checks that BenchmarkPrepare encodes as prepare
// does: each statement's parameter types are those PostgreSQL describes.
func TestBenchDescriptions(t *testing.T) {
	bench, _, _ := benchSetup(t)
	pool := pgtest.NewPool(t)
	s := New(pool, Options{})
	t.Cleanup(s.Close)
	if _, err := s.CreateLedger(context.Background(), "main", ledger.LedgerConfiguration{}); err != nil {
		t.Fatal(err)
	}
	seq := newSequencer(pool, bench.ledger, Options{}, newMetrics(nil), nil)
	for sql, want := range bench.descriptions {
		got, err := seq.describe(context.Background(), sql)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.ParamOIDs, want.ParamOIDs) {
			t.Errorf("%s: PostgreSQL takes %v, the benchmark %v", sql, got.ParamOIDs, want.ParamOIDs)
		}
	}
}

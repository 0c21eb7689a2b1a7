package projections

import (
	"context"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kontorhq/kontor/domain/ledger"
	"github.com/kontorhq/kontor/domain/query"
	"github.com/kontorhq/kontor/platform/api"
	"github.com/kontorhq/kontor/platform/pgtest"
	"github.com/kontorhq/kontor/projections/projectionstest"
)

var t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// hour returns t0 plus n hours.
func hour(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }

// big70 is 2^70, beyond int64.
var big70 = new(big.Int).Lsh(big.NewInt(1), 70)

func posting(source, destination string, amount int64, asset string) ledger.Posting {
	return ledger.NewPosting(source, destination, asset, big.NewInt(amount))
}

// books seeds the ledger "books" (default features) and returns a reader:
//
//	tx 1  @1h  world → users:001 100 USD/2, ref-1 {kind: deposit, order: o-1}
//	tx 2  @2h  world → users:002 50 USD/2, ref-2 {kind: deposit}
//	tx 3  @3h  users:001 → merchants:042 30 USD/2, users:001 → platform:fees 5 USD/2 {kind: payment}
//	tx 4  @4h  world → org:acme:admin 5 EUR
//	tx 5  @5h  world → org:beta:admin 7 EUR
//	tx 6  @6h  org:acme:admin → org:acme:user 2 EUR
//	tx 7  @-24h (inserted @7h) world → users:002 1 USD/2
//	tx 8  @8h  world → whale 2^70 COIN
//	tx 9  @9h  revert of tx 2 (logs 1–9)
//	log 10 @10h users:001 {tier: gold}; log 11 @11h tx 1 {foo: bar};
//	log 12 @12h org:acme:admin {role: admin, tier: silver}
//
// and the ledger "other" in bucket "b2" with every feature off and the
// metadata {owner: research}: tx 1 @1h world → users:1 10 USD {a: 1},
// then log 2 @2h tx 1 {b: 2}.
func books(t *testing.T) *Reader {
	t.Helper()
	pool := pgtest.NewPool(t)
	s := projectionstest.NewSeeder(t, pool, "books", ledger.DefaultBucket, nil)
	s.Transaction(hour(1), hour(1), ledger.Metadata{"kind": "deposit", "order": "o-1"}, "ref-1", posting("world", "users:001", 100, "USD/2"))
	s.Transaction(hour(2), hour(2), ledger.Metadata{"kind": "deposit"}, "ref-2", posting("world", "users:002", 50, "USD/2"))
	s.Transaction(hour(3), hour(3), ledger.Metadata{"kind": "payment"}, "",
		posting("users:001", "merchants:042", 30, "USD/2"), posting("users:001", "platform:fees", 5, "USD/2"))
	s.Transaction(hour(4), hour(4), nil, "", posting("world", "org:acme:admin", 5, "EUR"))
	s.Transaction(hour(5), hour(5), nil, "", posting("world", "org:beta:admin", 7, "EUR"))
	s.Transaction(hour(6), hour(6), nil, "", posting("org:acme:admin", "org:acme:user", 2, "EUR"))
	s.Transaction(hour(-24), hour(7), nil, "", posting("world", "users:002", 1, "USD/2"))
	s.Transaction(hour(8), hour(8), nil, "", ledger.NewPosting("world", "whale", "COIN", big70))
	s.Revert(2, hour(9))
	s.SetMetadata(hour(10), ledger.AccountTarget("users:001"), ledger.Metadata{"tier": "gold"})
	s.SetMetadata(hour(11), ledger.TransactionTarget(1), ledger.Metadata{"foo": "bar"})
	s.SetMetadata(hour(12), ledger.AccountTarget("org:acme:admin"), ledger.Metadata{"role": "admin", "tier": "silver"})

	other := projectionstest.NewSeeder(t, pool, "other", "b2", ledger.MinimalFeatures())
	other.Transaction(hour(1), hour(1), ledger.Metadata{"a": "1"}, "", posting("world", "users:1", 10, "USD"))
	other.SetMetadata(hour(2), ledger.TransactionTarget(1), ledger.Metadata{"b": "2"})
	if _, err := pool.Exec(context.Background(), `UPDATE _system.ledgers SET metadata = '{"owner":"research"}' WHERE name = 'other'`); err != nil {
		t.Fatal(err)
	}
	return NewReader(pool)
}

// TestBooks runs the read tests that share the books fixture.
func TestBooks(t *testing.T) {
	t.Parallel()
	r := books(t)
	for name, test := range map[string]func(*testing.T, *Reader){
		"transaction filters":               testTransactionFilters,
		"transaction filters without moves": testTransactionAddressFiltersWithoutMoves,
		"account filters":                   testAccountFilters,
		"log filters":                       testLogFilters,
		"volume filters":                    testVolumeFilters,
		"aggregated balance filters":        testAggregatedBalanceFilters,
		"ledger filters":                    testLedgerFilters,
		"unknown ledger":                    testUnknownLedger,
		"point in time":                     testPointInTime,
		"missing features":                  testMissingFeatures,
		"big amounts":                       testBigAmounts,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			test(t, r)
		})
	}
}

// parse parses a filter or fails the test.
func parse(t *testing.T, filter string, schema query.Schema) query.Expr {
	t.Helper()
	e, err := query.Parse([]byte(filter), schema)
	if err != nil {
		t.Fatalf("%s: %v", filter, err)
	}
	return e
}

// keys lists every page of a list filtered with schema, following next
// cursors, and returns its items' keys joined by spaces; a key listed twice
// fails the test.
func keys[T any](t *testing.T, schema query.Schema, q ListQuery, list func(ListQuery) (api.Cursor[T], error), key func(T) string) string {
	t.Helper()
	var out []string
	seen := map[string]bool{}
	for {
		page, err := list(q)
		if err != nil {
			t.Fatal(err)
		}
		for _, item := range page.Data {
			k := key(item)
			if seen[k] {
				t.Fatalf("%s listed twice", k)
			}
			seen[k] = true
			out = append(out, k)
		}
		if page.Next == "" {
			return strings.Join(out, " ")
		}
		if q, err = DecodeCursor(page.Next, schema); err != nil {
			t.Fatal(err)
		}
	}
}

func txID(tx ledger.Transaction) string { return strconv.FormatUint(tx.ID, 10) }
func address(a Account) string          { return a.Address }
func logID(l ledger.Log) string         { return strconv.FormatUint(l.ID, 10) }
func volumeKey(v VolumesWithBalance) string {
	return v.Account + "/" + v.Asset + "=" + v.Balance.String()
}

package projections

import (
	"context"
	"strings"
	"testing"

	"github.com/kontorhq/kontor/domain"
	"github.com/kontorhq/kontor/domain/ledger"
	"github.com/kontorhq/kontor/domain/query"
	"github.com/kontorhq/kontor/platform/api"
)

// filterCase is a filter and the keys of what it selects, in list order.
type filterCase struct {
	filter, want string
}

func testTransactionFilters(t *testing.T, r *Reader) {
	const all = "9 8 7 6 5 4 3 2 1"
	for _, tc := range []filterCase{
		{`{}`, all},
		{`{"$and":[]}`, all},
		{`{"$or":[]}`, ""},
		{`{"$match":{"id":3}}`, "3"},
		{`{"$lt":{"id":3}}`, "2 1"},
		{`{"$lte":{"id":3}}`, "3 2 1"},
		{`{"$gte":{"id":8}}`, "9 8"},
		{`{"$gt":{"id":99999999999999999999999}}`, ""},
		{`{"$lt":{"id":99999999999999999999999}}`, all},
		{`{"$match":{"id":99999999999999999999999}}`, ""},
		{`{"$gt":{"id":-99999999999999999999999}}`, all},
		{`{"$lte":{"id":-99999999999999999999999}}`, ""},
		{`{"$match":{"reference":"ref-1"}}`, "1"},
		{`{"$like":{"reference":"ref-%"}}`, "2 1"},
		{`{"$in":{"reference":["ref-2","nope"]}}`, "2"},
		{`{"$in":{"reference":[]}}`, ""},
		{`{"$not":{"$match":{"reference":"ref-1"}}}`, "9 8 7 6 5 4 3 2"},
		{`{"$match":{"reference":"x' OR '1'='1"}}`, ""},
		{`{"$lt":{"timestamp":"2024-01-01T02:00:00Z"}}`, "7 1"},
		{`{"$gte":{"timestamp":"2024-01-01T08:00:00+00:00"}}`, "9 8"},
		{`{"$match":{"timestamp":"2024-01-01T05:00:00Z"}}`, "5"},
		{`{"$gt":{"inserted_at":"2024-01-01T06:00:00Z"}}`, "9 8 7"},
		{`{"$match":{"updated_at":"2024-01-01T09:00:00Z"}}`, "9 2"},
		{`{"$lte":{"reverted_at":"2024-01-01T09:00:00Z"}}`, "2"},
		{`{"$not":{"$lte":{"reverted_at":"2024-01-01T09:00:00Z"}}}`, "9 8 7 6 5 4 3 1"},
		{`{"$match":{"reverted":true}}`, "2"},
		{`{"$match":{"reverted":false}}`, "9 8 7 6 5 4 3 1"},
		{`{"$match":{"account":"users:001"}}`, "3 1"},
		{`{"$match":{"source":"users:001"}}`, "3"},
		{`{"$match":{"destination":"users:"}}`, "7 2 1"},
		{`{"$match":{"account":"users:"}}`, "9 7 3 2 1"},
		{`{"$match":{"destination":"::admin"}}`, "5 4"},
		{`{"$match":{"account":"org:..."}}`, "6 5 4"},
		{`{"$match":{"source":"org:acme:..."}}`, "6"},
		{`{"$match":{"account":"..."}}`, all},
		{`{"$match":{"destination":":"}}`, "7 3 2 1"},
		{`{"$in":{"account":["whale","merchants:042"]}}`, "8 3"},
		{`{"$in":{"source":["whale","merchants:042"]}}`, ""},
		{`{"$like":{"account":"org:%:admin"}}`, "6 5 4"},
		{`{"$like":{"destination":"platform%"}}`, "3"},
		{`{"$match":{"metadata[kind]":"deposit"}}`, "2 1"},
		{`{"$exists":{"metadata":"kind"}}`, "3 2 1"},
		{`{"$not":{"$exists":{"metadata":"kind"}}}`, "9 8 7 6 5 4"},
		{`{"$like":{"metadata[kind]":"pay%"}}`, "3"},
		{`{"$in":{"metadata[kind]":["payment","x"]}}`, "3"},
		{`{"$not":{"$match":{"metadata[kind]":"deposit"}}}`, "9 8 7 6 5 4 3"},
		{`{"$match":{"metadata[com.formance.spec/state/reverts]":"2"}}`, "9"},
		{`{"$match":{"metadata[foo]":"bar"}}`, "1"},
		{`{"$or":[{"$match":{"id":1}},{"$match":{"id":8}}]}`, "8 1"},
		{`{"$and":[{"$match":{"account":"users:"}},{"$not":{"$match":{"reverted":true}}},{"$gt":{"id":1}}]}`, "9 7 3"},
	} {
		checkTransactionFilter(t, r, "books", tc)
	}
}

// checkTransactionFilter lists and counts the transactions of ledgerName
// that tc's filter selects.
func checkTransactionFilter(t *testing.T, r *Reader, ledgerName string, tc filterCase) {
	t.Helper()
	ctx := context.Background()
	q := ListQuery{Filter: parse(t, tc.filter, query.Transactions), PageSize: 4}
	got := keys(t, query.Transactions, q, func(q ListQuery) (api.Cursor[ledger.Transaction], error) {
		return r.Transactions(ctx, ledgerName, q)
	}, txID)
	if got != tc.want {
		t.Errorf("%s: got [%s], want [%s]", tc.filter, got, tc.want)
	}
	n, err := r.CountTransactions(ctx, ledgerName, q)
	if err != nil || n != uint64(len(strings.Fields(tc.want))) {
		t.Errorf("%s: count %d %v, want %d", tc.filter, n, err, len(strings.Fields(tc.want)))
	}
}

// testTransactionAddressFiltersWithoutMoves: a ledger without moves keeps
// the addresses of its transactions with them.
func testTransactionAddressFiltersWithoutMoves(t *testing.T, r *Reader) {
	for _, tc := range []filterCase{
		{`{"$match":{"account":"users:1"}}`, "1"},
		{`{"$match":{"source":"world"}}`, "1"},
		{`{"$match":{"destination":"world"}}`, ""},
		{`{"$match":{"destination":"users:"}}`, "1"},
		{`{"$in":{"source":["users:1","nope"]}}`, ""},
		{`{"$in":{"account":["users:1","nope"]}}`, "1"},
		{`{"$like":{"account":"wor%"}}`, "1"},
		{`{"$not":{"$match":{"account":"users:1"}}}`, ""},
	} {
		checkTransactionFilter(t, r, "other", tc)
	}
}

func testAccountFilters(t *testing.T, r *Reader) {
	ctx := context.Background()
	const all = "merchants:042 org:acme:admin org:acme:user org:beta:admin platform:fees users:001 users:002 whale world"
	for _, tc := range []filterCase{
		{`{}`, all},
		{`{"$match":{"address":"users:"}}`, "users:001 users:002"},
		{`{"$match":{"address":"::admin"}}`, "org:acme:admin org:beta:admin"},
		{`{"$match":{"address":"org:..."}}`, "org:acme:admin org:acme:user org:beta:admin"},
		{`{"$match":{"address":"org:acme:..."}}`, "org:acme:admin org:acme:user"},
		{`{"$match":{"address":"org:"}}`, ""},
		{`{"$match":{"address":"..."}}`, all},
		{`{"$match":{"address":":"}}`, "merchants:042 platform:fees users:001 users:002"},
		{`{"$match":{"address":""}}`, "whale world"},
		{`{"$match":{"address":"world"}}`, "world"},
		{`{"$like":{"address":"%a%e%"}}`, "org:acme:admin org:acme:user platform:fees whale"},
		{`{"$in":{"address":["world","whale","nope"]}}`, "whale world"},
		{`{"$lt":{"balance[USD/2]":0}}`, "world"},
		{`{"$gt":{"balance[EUR]":2}}`, "org:acme:admin org:beta:admin"},
		{`{"$match":{"balance[EUR]":2}}`, "org:acme:user"},
		{`{"$gt":{"balance":1000000}}`, "whale"},
		{`{"$lt":{"balance":-1000000}}`, "world"},
		{`{"$gte":{"balance[COIN]":1180591620717411303424}}`, "whale"},
		{`{"$gt":{"balance[COIN]":1180591620717411303424}}`, ""},
		{`{"$not":{"$lt":{"balance[USD/2]":0}}}`, "merchants:042 org:acme:admin org:acme:user org:beta:admin platform:fees users:001 users:002 whale"},
		{`{"$match":{"metadata[tier]":"gold"}}`, "users:001"},
		{`{"$exists":{"metadata":"tier"}}`, "org:acme:admin users:001"},
		{`{"$in":{"metadata[tier]":["gold","silver"]}}`, "org:acme:admin users:001"},
		{`{"$like":{"metadata[tier]":"s%"}}`, "org:acme:admin"},
		{`{"$lt":{"first_usage":"2024-01-01T00:00:00Z"}}`, "users:002 world"},
		{`{"$gte":{"insertion_date":"2024-01-01T08:00:00Z"}}`, "whale"},
		{`{"$gte":{"updated_at":"2024-01-01T10:00:00Z"}}`, "org:acme:admin users:001"},
		{`{"$and":[{"$match":{"address":"users:"}},{"$gt":{"balance[USD/2]":10}}]}`, "users:001"},
	} {
		q := ListQuery{Filter: parse(t, tc.filter, query.Accounts), PageSize: 4}
		got := keys(t, query.Accounts, q, func(q ListQuery) (api.Cursor[Account], error) {
			return r.Accounts(ctx, "books", q)
		}, address)
		if got != tc.want {
			t.Errorf("%s: got [%s], want [%s]", tc.filter, got, tc.want)
		}
		n, err := r.CountAccounts(ctx, "books", q)
		if err != nil || n != uint64(len(strings.Fields(tc.want))) {
			t.Errorf("%s: count %d %v, want %d", tc.filter, n, err, len(strings.Fields(tc.want)))
		}
	}
}

func testLogFilters(t *testing.T, r *Reader) {
	ctx := context.Background()
	for _, tc := range []filterCase{
		{`{}`, "12 11 10 9 8 7 6 5 4 3 2 1"},
		{`{"$match":{"type":"SET_METADATA"}}`, "12 11 10"},
		{`{"$in":{"type":["REVERTED_TRANSACTION"]}}`, "9"},
		{`{"$like":{"type":"%META%"}}`, "12 11 10"},
		{`{"$lt":{"id":3}}`, "2 1"},
		{`{"$gte":{"date":"2024-01-01T11:00:00Z"}}`, "12 11"},
	} {
		q := ListQuery{Filter: parse(t, tc.filter, query.Logs), PageSize: 5}
		got := keys(t, query.Logs, q, func(q ListQuery) (api.Cursor[ledger.Log], error) {
			return r.Logs(ctx, "books", q)
		}, logID)
		if got != tc.want {
			t.Errorf("%s: got [%s], want [%s]", tc.filter, got, tc.want)
		}
	}
}

func testVolumeFilters(t *testing.T, r *Reader) {
	ctx := context.Background()
	for _, tc := range []struct {
		filter  string
		groupBy int
		want    string
	}{
		{`{}`, 0, "merchants:042/USD/2=30 org:acme:admin/EUR=3 org:acme:user/EUR=2 org:beta:admin/EUR=7 platform:fees/USD/2=5 " +
			"users:001/USD/2=65 users:002/USD/2=1 whale/COIN=1180591620717411303424 world/COIN=-1180591620717411303424 world/EUR=-12 world/USD/2=-101"},
		{`{"$match":{"account":"org:..."}}`, 0, "org:acme:admin/EUR=3 org:acme:user/EUR=2 org:beta:admin/EUR=7"},
		{`{"$match":{"address":"users:"}}`, 0, "users:001/USD/2=65 users:002/USD/2=1"},
		{`{"$gt":{"balance[EUR]":0}}`, 0, "org:acme:admin/EUR=3 org:acme:user/EUR=2 org:beta:admin/EUR=7"},
		{`{"$lt":{"balance":0}}`, 0, "world/COIN=-1180591620717411303424 world/EUR=-12 world/USD/2=-101"},
		{`{"$match":{"metadata[tier]":"gold"}}`, 0, "users:001/USD/2=65"},
		{`{"$exists":{"metadata":"role"}}`, 0, "org:acme:admin/EUR=3"},
		{`{"$lt":{"first_usage":"2024-01-01T00:00:00Z"}}`, 0, "users:002/USD/2=1 world/COIN=-1180591620717411303424 world/EUR=-12 world/USD/2=-101"},
		{`{}`, 1, "merchants/USD/2=30 org/EUR=12 platform/USD/2=5 users/USD/2=66 whale/COIN=1180591620717411303424 " +
			"world/COIN=-1180591620717411303424 world/EUR=-12 world/USD/2=-101"},
		{`{"$match":{"account":"org:..."}}`, 2, "org:acme/EUR=5 org:beta/EUR=7"},
		{`{"$gt":{"balance[EUR]":2}}`, 1, "org/EUR=10"},
	} {
		q := ListQuery{Filter: parse(t, tc.filter, query.Volumes), PageSize: 3, GroupBy: tc.groupBy}
		got := keys(t, query.Volumes, q, func(q ListQuery) (api.Cursor[VolumesWithBalance], error) {
			return r.Volumes(ctx, "books", q)
		}, volumeKey)
		if got != tc.want {
			t.Errorf("%s groupBy %d:\n got [%s]\nwant [%s]", tc.filter, tc.groupBy, got, tc.want)
		}
	}
}

func testAggregatedBalanceFilters(t *testing.T, r *Reader) {
	ctx := context.Background()
	for _, tc := range []filterCase{
		{`{}`, `{"COIN":0,"EUR":0,"USD/2":0}`},
		{`{"$match":{"address":"users:"}}`, `{"USD/2":66}`},
		{`{"$match":{"address":"org:..."}}`, `{"EUR":12}`},
		{`{"$exists":{"metadata":"tier"}}`, `{"EUR":3,"USD/2":65}`},
		{`{"$match":{"metadata[tier]":"silver"}}`, `{"EUR":3}`},
		{`{"$match":{"address":"nobody"}}`, `{}`},
	} {
		b, err := r.AggregatedBalances(ctx, "books", BalancesQuery{Filter: parse(t, tc.filter, query.AggregatedBalances)})
		if got := jsonOf(t, b); err != nil || got != tc.want {
			t.Errorf("%s: got %s %v, want %s", tc.filter, got, err, tc.want)
		}
	}
}

func testLedgerFilters(t *testing.T, r *Reader) {
	ctx := context.Background()
	for _, tc := range []filterCase{
		{`{}`, "books other"},
		{`{"$match":{"name":"books"}}`, "books"},
		{`{"$like":{"name":"o%"}}`, "other"},
		{`{"$in":{"name":["other","nope"]}}`, "other"},
		{`{"$match":{"bucket":"b2"}}`, "other"},
		{`{"$gt":{"id":1}}`, "other"},
		{`{"$match":{"features[HASH_LOGS]":"DISABLED"}}`, "other"},
		{`{"$match":{"features[HASH_LOGS]":"SYNC"}}`, "books"},
		{`{"$match":{"metadata[owner]":"research"}}`, "other"},
		{`{"$exists":{"metadata":"owner"}}`, "other"},
	} {
		q := ListQuery{Filter: parse(t, tc.filter, query.Ledgers), PageSize: 1}
		got := keys(t, query.Ledgers, q, func(q ListQuery) (api.Cursor[ledger.Ledger], error) {
			return r.Ledgers(ctx, q)
		}, func(l ledger.Ledger) string { return l.Name })
		if got != tc.want {
			t.Errorf("%s: got [%s], want [%s]", tc.filter, got, tc.want)
		}
	}
}

// TestUnknownLedger: every read of a ledger that does not exist is a
// LEDGER_NOT_FOUND error.
func testUnknownLedger(t *testing.T, r *Reader) {
	ctx := context.Background()
	errs := []error{}
	add := func(_ any, err error) { errs = append(errs, err) }
	add(r.Ledger(ctx, "nope"))
	add(r.Transactions(ctx, "nope", ListQuery{}))
	add(r.CountTransactions(ctx, "nope", ListQuery{}))
	add(r.Transaction(ctx, "nope", 1, GetQuery{}))
	add(r.Accounts(ctx, "nope", ListQuery{}))
	add(r.CountAccounts(ctx, "nope", ListQuery{}))
	add(r.Account(ctx, "nope", "world", GetQuery{}))
	add(r.AggregatedBalances(ctx, "nope", BalancesQuery{}))
	add(r.Volumes(ctx, "nope", ListQuery{}))
	add(r.Logs(ctx, "nope", ListQuery{}))
	add(r.Stats(ctx, "nope"))
	add(r.LedgerInfo(ctx, "nope"))
	for i, err := range errs {
		if domain.ErrorCode(err) != domain.CodeLedgerNotFound {
			t.Errorf("read %d: got %v, want LEDGER_NOT_FOUND", i, err)
		}
	}
}

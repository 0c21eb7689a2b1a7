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

// iso renders hour(n) as a *ledger.Time.
func iso(n int) *ledger.Time {
	t := ledger.NewTime(hour(n))
	return &t
}

func testPointInTime(t *testing.T, r *Reader) {
	ctx := context.Background()
	txs := func(q ListQuery) string {
		return keys(t, query.Transactions, q, func(q ListQuery) (api.Cursor[ledger.Transaction], error) {
			return r.Transactions(ctx, "books", q)
		}, txID)
	}
	for name, tc := range map[string]struct {
		q    ListQuery
		want string
	}{
		"pit":                {ListQuery{PIT: iso(5)}, "7 5 4 3 2 1"},
		"oot":                {ListQuery{OOT: iso(4)}, "9 8 6 5 4"},
		"pit and oot":        {ListQuery{PIT: iso(5), OOT: iso(2)}, "5 4 3 2"},
		"reverted then":      {ListQuery{PIT: iso(5), Filter: parse(t, `{"$match":{"reverted":true}}`, query.Transactions)}, ""},
		"reverted later":     {ListQuery{PIT: iso(9), Filter: parse(t, `{"$match":{"reverted":true}}`, query.Transactions)}, "2"},
		"metadata then":      {ListQuery{PIT: iso(10), Filter: parse(t, `{"$exists":{"metadata":"foo"}}`, query.Transactions)}, ""},
		"metadata later":     {ListQuery{PIT: iso(11), Filter: parse(t, `{"$exists":{"metadata":"foo"}}`, query.Transactions)}, "1"},
		"metadata now":       {ListQuery{Filter: parse(t, `{"$match":{"metadata[foo]":"bar"}}`, query.Transactions)}, "1"},
		"pit before any":     {ListQuery{PIT: iso(-48)}, ""},
		"oot after all":      {ListQuery{OOT: iso(48)}, ""},
		"pit at a timestamp": {ListQuery{PIT: iso(1), OOT: iso(1)}, "1"},
	} {
		if got := txs(tc.q); got != tc.want {
			t.Errorf("%s: got [%s], want [%s]", name, got, tc.want)
		}
	}

	tx, err := r.Transaction(ctx, "books", 2, GetQuery{PIT: iso(5)})
	if err != nil || tx.Reverted() || tx.Metadata["kind"] != "deposit" {
		t.Errorf("tx 2 at 5h: %+v %v", tx, err)
	}
	if tx, err = r.Transaction(ctx, "books", 2, GetQuery{PIT: iso(9)}); err != nil || !tx.Reverted() {
		t.Errorf("tx 2 at 9h: %+v %v", tx, err)
	}
	if tx, err = r.Transaction(ctx, "books", 1, GetQuery{PIT: iso(10)}); err != nil || jsonOf(t, tx.Metadata) != `{"kind":"deposit","order":"o-1"}` {
		t.Errorf("tx 1 at 10h: %+v %v", tx.Metadata, err)
	}
	if _, err = r.Transaction(ctx, "books", 8, GetQuery{PIT: iso(7)}); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Errorf("tx 8 at 7h: %v", err)
	}

	accounts := keys(t, query.Accounts, ListQuery{PIT: iso(2)}, func(q ListQuery) (api.Cursor[Account], error) {
		return r.Accounts(ctx, "books", q)
	}, address)
	if accounts != "users:001 users:002 world" {
		t.Errorf("accounts at 2h: %s", accounts)
	}
	a, err := r.Account(ctx, "books", "users:001", GetQuery{PIT: iso(9)})
	if err != nil || len(a.Metadata) != 0 {
		t.Errorf("users:001 at 9h: %+v %v", a, err)
	}
	if a, err = r.Account(ctx, "books", "users:001", GetQuery{PIT: iso(10)}); err != nil || a.Metadata["tier"] != "gold" {
		t.Errorf("users:001 at 10h: %+v %v", a, err)
	}

	// tx 7 (dated -24h) was inserted at 7h: by insertion, users:002 had
	// received 50 at 2h; by effective date, 51.
	expand := []string{ExpandVolumes, ExpandEffectiveVolumes}
	for _, tc := range []struct {
		address   string
		pit       int
		volumes   string
		effective string
	}{
		{"users:002", 2, `{"USD/2":{"input":50,"output":0,"balance":50}}`, `{"USD/2":{"input":51,"output":0,"balance":51}}`},
		{"world", 2, `{"USD/2":{"input":0,"output":150,"balance":-150}}`, `{"USD/2":{"input":0,"output":151,"balance":-151}}`},
		{"users:002", 12, `{"USD/2":{"input":51,"output":50,"balance":1}}`, `{"USD/2":{"input":51,"output":50,"balance":1}}`},
		{"whale", 12, `{"COIN":{"input":1180591620717411303424,"output":0,"balance":1180591620717411303424}}`,
			`{"COIN":{"input":1180591620717411303424,"output":0,"balance":1180591620717411303424}}`},
	} {
		a, err := r.Account(ctx, "books", tc.address, GetQuery{PIT: iso(tc.pit), Expand: expand})
		if err != nil || jsonOf(t, a.Volumes) != tc.volumes || jsonOf(t, a.EffectiveVolumes) != tc.effective {
			t.Errorf("%s at %dh: %s %s %v", tc.address, tc.pit, jsonOf(t, a.Volumes), jsonOf(t, a.EffectiveVolumes), err)
		}
	}
	balance := parse(t, `{"$match":{"balance[USD/2]":51}}`, query.Accounts)
	if got := keys(t, query.Accounts, ListQuery{PIT: iso(2), Filter: balance}, func(q ListQuery) (api.Cursor[Account], error) {
		return r.Accounts(ctx, "books", q)
	}, address); got != "users:002" {
		t.Errorf("balance 51 at 2h: %s", got)
	}

	users := parse(t, `{"$match":{"address":"users:"}}`, query.AggregatedBalances)
	for _, tc := range []struct {
		q    BalancesQuery
		want string
	}{
		{BalancesQuery{PIT: iso(2)}, `{"USD/2":0}`},
		{BalancesQuery{PIT: iso(2), Filter: users}, `{"USD/2":151}`},
		{BalancesQuery{PIT: iso(2), Filter: users, UseInsertionDate: true}, `{"USD/2":150}`},
		{BalancesQuery{PIT: iso(-48)}, `{}`},
	} {
		if b, err := r.AggregatedBalances(ctx, "books", tc.q); err != nil || jsonOf(t, b) != tc.want {
			t.Errorf("%+v: %s %v, want %s", tc.q, jsonOf(t, b), err, tc.want)
		}
	}

	volumes := func(q ListQuery) string {
		q.Filter = parse(t, `{"$match":{"address":"users:002"}}`, query.Volumes)
		return keys(t, query.Volumes, q, func(q ListQuery) (api.Cursor[VolumesWithBalance], error) {
			return r.Volumes(ctx, "books", q)
		}, volumeKey)
	}
	for name, tc := range map[string]struct {
		q    ListQuery
		want string
	}{
		"effective pit":    {ListQuery{PIT: iso(2)}, "users:002/USD/2=51"},
		"insertion pit":    {ListQuery{PIT: iso(2), InsertionDate: true}, "users:002/USD/2=50"},
		"between":          {ListQuery{PIT: iso(2), OOT: iso(0)}, "users:002/USD/2=50"},
		"from 8h":          {ListQuery{OOT: iso(8)}, "users:002/USD/2=-50"},
		"nothing then":     {ListQuery{PIT: iso(-48)}, ""},
		"insertion from 7": {ListQuery{OOT: iso(7), InsertionDate: true}, "users:002/USD/2=-49"},
	} {
		if got := volumes(tc.q); got != tc.want {
			t.Errorf("volumes %s: got [%s], want [%s]", name, got, tc.want)
		}
	}
}

// TestMissingFeatures: reads that need moves history fail with VALIDATION
// on a ledger without it; the others work.
func testMissingFeatures(t *testing.T, r *Reader) {
	ctx := context.Background()

	pit := iso(5)
	for name, err := range map[string]error{
		"volumes at pit":           second(r.Volumes(ctx, "other", ListQuery{PIT: pit})),
		"account volumes at pit":   second(r.Account(ctx, "other", "users:1", GetQuery{PIT: pit, Expand: []string{ExpandVolumes}})),
		"effective volumes at pit": second(r.Accounts(ctx, "other", ListQuery{PIT: pit, Expand: []string{ExpandEffectiveVolumes}})),
		"balance filter at pit": second(r.Accounts(ctx, "other", ListQuery{PIT: pit,
			Filter: parse(t, `{"$gt":{"balance":0}}`, query.Accounts)})),
		"balances at pit":   second(r.AggregatedBalances(ctx, "other", BalancesQuery{PIT: pit})),
		"balances inserted": second(r.AggregatedBalances(ctx, "other", BalancesQuery{PIT: pit, UseInsertionDate: true})),
		"volumes oot":       second(r.Volumes(ctx, "other", ListQuery{OOT: pit})),
	} {
		if domain.ErrorCode(err) != domain.CodeValidation || !strings.Contains(err.Error(), "MOVES_HISTORY") {
			t.Errorf("%s: got %v, want VALIDATION naming the feature", name, err)
		}
	}

	a, err := r.Account(ctx, "other", "users:1", GetQuery{Expand: []string{ExpandVolumes, ExpandEffectiveVolumes}})
	if err != nil || jsonOf(t, a.Volumes) != `{"USD":{"input":10,"output":0,"balance":10}}` || jsonOf(t, a.EffectiveVolumes) != jsonOf(t, a.Volumes) {
		t.Errorf("current volumes: %+v %v", a, err)
	}
	tx, err := r.Transaction(ctx, "other", 1, GetQuery{PIT: pit, Expand: []string{ExpandVolumes, ExpandEffectiveVolumes}})
	if err != nil || tx.PostCommitEffectiveVolumes != nil || tx.PostCommitVolumes == nil || tx.Metadata["b"] != "2" {
		t.Errorf("tx without history: %+v %v", tx, err)
	}
	b, err := r.AggregatedBalances(ctx, "other", BalancesQuery{})
	if err != nil || jsonOf(t, b) != `{"USD":0}` {
		t.Errorf("balances: %s %v", jsonOf(t, b), err)
	}
}

func second[T any](_ T, err error) error { return err }

func testBigAmounts(t *testing.T, r *Reader) {
	ctx := context.Background()
	tx, err := r.Transaction(ctx, "books", 8, GetQuery{Expand: []string{ExpandVolumes, ExpandEffectiveVolumes}})
	if err != nil {
		t.Fatal(err)
	}
	got := jsonOf(t, tx)
	for _, want := range []string{
		`"postings":[{"source":"world","destination":"whale","amount":1180591620717411303424,"asset":"COIN"}]`,
		`"postCommitVolumes":{"whale":{"COIN":{"input":1180591620717411303424,"output":0,"balance":1180591620717411303424}}`,
		`"postCommitEffectiveVolumes":{"whale":{"COIN":{"input":1180591620717411303424,"output":0,"balance":1180591620717411303424}}`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("tx 8: %s lacks %s", got, want)
		}
	}
	b, err := r.AggregatedBalances(ctx, "books", BalancesQuery{Filter: parse(t, `{"$match":{"address":"whale"}}`, query.AggregatedBalances)})
	if err != nil || jsonOf(t, b) != `{"COIN":1180591620717411303424}` {
		t.Errorf("whale balance: %s %v", jsonOf(t, b), err)
	}
}

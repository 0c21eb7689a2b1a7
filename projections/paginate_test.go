package projections

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/kontorhq/kontor/domain"
	"github.com/kontorhq/kontor/domain/ledger"
	"github.com/kontorhq/kontor/domain/query"
	"github.com/kontorhq/kontor/platform/api"
	"github.com/kontorhq/kontor/platform/pgtest"
	"github.com/kontorhq/kontor/projections/projectionstest"
)

// pages seeds the ledger "pages" with 23 transactions world → acc:NN
// (1 USD each, NN = id), three per timestamp, and the ledgers l1…l4.
func pages(t *testing.T) *Reader {
	t.Helper()
	pool := pgtest.NewPool(t)
	s := projectionstest.NewSeeder(t, pool, "pages", ledger.DefaultBucket, nil)
	for i := 1; i <= 23; i++ {
		at := hour(i / 3)
		s.Transaction(at, at, nil, "", posting("world", fmt.Sprintf("acc:%02d", i), 1, "USD"))
	}
	for i := 1; i <= 4; i++ {
		projectionstest.NewSeeder(t, pool, fmt.Sprintf("l%d", i), ledger.DefaultBucket, nil)
	}
	return NewReader(pool)
}

// walk pages a list forward from q through next cursors, then back from
// the last page through previous cursors, and checks that both walks see
// the same pages, with no item twice and hasMore, next and previous set
// exactly when there is such a page. It returns every key in order.
func walk[T any](t *testing.T, schema query.Schema, q ListQuery, list func(ListQuery) (api.Cursor[T], error), key func(T) string) string {
	t.Helper()
	fetch := func(q ListQuery) (api.Cursor[T], []string) {
		t.Helper()
		c, err := list(q)
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, item := range c.Data {
			keys = append(keys, key(item))
		}
		return c, keys
	}
	decode := func(token string) ListQuery {
		t.Helper()
		q, err := DecodeCursor(token, schema)
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	var forward [][]string
	c, keys := fetch(q)
	for {
		forward = append(forward, keys)
		if (len(forward) == 1) != (c.Previous == "") {
			t.Fatalf("page %d: previous %q", len(forward), c.Previous)
		}
		if c.HasMore != (c.Next != "") {
			t.Fatalf("page %d: hasMore %v with next %q", len(forward), c.HasMore, c.Next)
		}
		if c.Next == "" {
			break
		}
		if len(forward) > 100 {
			t.Fatal("more than 100 pages")
		}
		c, keys = fetch(decode(c.Next))
	}
	backward := [][]string{keys}
	for c.Previous != "" {
		c, keys = fetch(decode(c.Previous))
		backward = append(backward, keys)
		if !c.HasMore {
			t.Fatalf("a previous page has no next")
		}
	}
	slices.Reverse(backward)
	if fmt.Sprint(forward) != fmt.Sprint(backward) {
		t.Fatalf("pages differ:\n forward %v\nbackward %v", forward, backward)
	}
	all := slices.Concat(forward...)
	seen := map[string]bool{}
	for _, k := range all {
		if seen[k] {
			t.Fatalf("%s listed twice: %v", k, forward)
		}
		seen[k] = true
	}
	return strings.Join(all, " ")
}

// TestPages runs the pagination tests that share the pages fixture.
func TestPages(t *testing.T) {
	t.Parallel()
	r := pages(t)
	for name, test := range map[string]func(*testing.T, *Reader){
		"pagination":             testPagination,
		"cursor keeps the query": testCursorKeepsTheQuery,
		"bad cursors":            testBadCursors,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			test(t, r)
		})
	}
}

func testPagination(t *testing.T, r *Reader) {
	ctx := context.Background()
	txs := func(q ListQuery) (api.Cursor[ledger.Transaction], error) { return r.Transactions(ctx, "pages", q) }
	ids := func(from, to int) string {
		var out []string
		for i := from; i != to; {
			out = append(out, fmt.Sprint(i))
			if from < to {
				i++
			} else {
				i--
			}
		}
		out = append(out, fmt.Sprint(to))
		return strings.Join(out, " ")
	}
	sort := func(s string) Sort {
		sort, err := ParseSort(s)
		if err != nil {
			t.Fatal(err)
		}
		return sort
	}
	for name, tc := range map[string]struct {
		q    ListQuery
		want string
	}{
		"id desc":          {ListQuery{PageSize: 5}, ids(23, 1)},
		"reverse":          {ListQuery{PageSize: 5, Reverse: true}, ids(1, 23)},
		"sort id:asc":      {ListQuery{PageSize: 7, Sort: sort("id:asc")}, ids(1, 23)},
		"one per page":     {ListQuery{PageSize: 1, Sort: sort("id:asc")}, ids(1, 23)},
		"exact pages":      {ListQuery{PageSize: 23}, ids(23, 1)},
		"timestamp asc":    {ListQuery{PageSize: 4, Sort: sort("timestamp:asc")}, ids(1, 23)},
		"timestamp desc":   {ListQuery{PageSize: 4, Sort: sort("timestamp")}, ids(23, 1)},
		"insertedAt desc":  {ListQuery{PageSize: 4, Sort: sort("insertedAt:desc")}, ids(23, 1)},
		"filtered":         {ListQuery{PageSize: 2, Filter: parse(t, `{"$lte":{"id":9}}`, query.Transactions)}, ids(9, 1)},
		"filtered reverse": {ListQuery{PageSize: 2, Reverse: true, Filter: parse(t, `{"$match":{"account":"acc:..."}}`, query.Transactions)}, ids(1, 23)},
	} {
		t.Run(name, func(t *testing.T) {
			if got := walk(t, query.Transactions, tc.q, txs, txID); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}

	t.Run("accounts", func(t *testing.T) {
		got := walk(t, query.Accounts, ListQuery{PageSize: 5}, func(q ListQuery) (api.Cursor[Account], error) {
			return r.Accounts(ctx, "pages", q)
		}, address)
		if !strings.HasPrefix(got, "acc:01 acc:02 ") || !strings.HasSuffix(got, "acc:23 world") {
			t.Errorf("got %s", got)
		}
	})
	t.Run("accounts by first usage", func(t *testing.T) {
		got := walk(t, query.Accounts, ListQuery{PageSize: 4, Sort: sort("firstUsage:desc")}, func(q ListQuery) (api.Cursor[Account], error) {
			return r.Accounts(ctx, "pages", q)
		}, address)
		if !strings.HasPrefix(got, "acc:23 acc:22 acc:21 ") || !strings.HasSuffix(got, "acc:03 world acc:02 acc:01") {
			t.Errorf("got %s", got)
		}
	})
	t.Run("logs", func(t *testing.T) {
		got := walk(t, query.Logs, ListQuery{PageSize: 6}, func(q ListQuery) (api.Cursor[ledger.Log], error) {
			return r.Logs(ctx, "pages", q)
		}, logID)
		if got != ids(23, 1) {
			t.Errorf("got %s", got)
		}
	})
	t.Run("volumes", func(t *testing.T) {
		got := walk(t, query.Volumes, ListQuery{PageSize: 10}, func(q ListQuery) (api.Cursor[VolumesWithBalance], error) {
			return r.Volumes(ctx, "pages", q)
		}, volumeKey)
		if !strings.HasPrefix(got, "acc:01/USD=1 ") || !strings.HasSuffix(got, "acc:23/USD=1 world/USD=-23") {
			t.Errorf("got %s", got)
		}
	})
	t.Run("ledgers", func(t *testing.T) {
		got := walk(t, query.Ledgers, ListQuery{PageSize: 2}, func(q ListQuery) (api.Cursor[ledger.Ledger], error) {
			return r.Ledgers(ctx, q)
		}, func(l ledger.Ledger) string { return l.Name })
		if got != "pages l1 l2 l3 l4" {
			t.Errorf("got %s", got)
		}
	})
}

func testCursorKeepsTheQuery(t *testing.T, r *Reader) {
	ctx := context.Background()
	q := ListQuery{
		PageSize: 2,
		Filter:   parse(t, `{"$and":[{"$match":{"address":"acc:..."}},{"$lt":{"balance[USD]":99999999999999999999999}}]}`, query.Accounts),
		PIT:      at(t, "2024-01-01T03:00:00Z"),
		Expand:   []string{ExpandVolumes},
	}
	first, err := r.Accounts(ctx, "pages", q)
	if err != nil {
		t.Fatal(err)
	}
	next, err := DecodeCursor(first.Next, query.Accounts)
	if err != nil {
		t.Fatal(err)
	}
	if jsonOf(t, next.Filter) != jsonOf(t, q.Filter) || next.PIT.String() != q.PIT.String() ||
		fmt.Sprint(next.Expand) != "[volumes]" || next.PageSize != 2 {
		t.Fatalf("cursor query %+v", next)
	}
	// acc:01 … acc:11 were used by 03:00 (timestamps hour(id/3)).
	got := walk(t, query.Accounts, q, func(q ListQuery) (api.Cursor[Account], error) {
		return r.Accounts(ctx, "pages", q)
	}, func(a Account) string { return a.Address + "=" + a.Volumes["USD"].Balance().String() })
	if got != "acc:01=1 acc:02=1 acc:03=1 acc:04=1 acc:05=1 acc:06=1 acc:07=1 acc:08=1 acc:09=1 acc:10=1 acc:11=1" {
		t.Errorf("got %s", got)
	}

	// pageSize may change along the way.
	next.PageSize = 5
	page, err := r.Accounts(ctx, "pages", next)
	if err != nil || len(page.Data) != 5 || page.Data[0].Address != "acc:03" {
		t.Fatalf("resized page: %+v %v", page, err)
	}
}

func testBadCursors(t *testing.T, r *Reader) {
	ctx := context.Background()
	accounts, err := r.Accounts(ctx, "pages", ListQuery{PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	for name, token := range map[string]string{
		"not base64":       "!!",
		"not JSON":         api.EncodeCursor("x"),
		"no column":        api.EncodeCursor(map[string]any{"order": 0, "pageSize": 2}),
		"bad order":        api.EncodeCursor(map[string]any{"column": "id", "order": 7}),
		"negative offset":  api.EncodeCursor(map[string]any{"column": "address", "offset": -1}),
		"bad filter":       api.EncodeCursor(map[string]any{"column": "id", "filters": map[string]any{"qb": map[string]any{"$match": map[string]any{"nope": 1}}}}),
		"bad pit":          api.EncodeCursor(map[string]any{"column": "id", "filters": map[string]any{"pit": "yesterday"}}),
		"bad groupBy":      api.EncodeCursor(map[string]any{"column": "id", "filters": map[string]any{"opts": map[string]any{"groupBy": -2}}}),
		"opts not object":  api.EncodeCursor(map[string]any{"column": "id", "filters": map[string]any{"opts": 3}}),
		"paginationID big": `eyJjb2x1bW4iOiJpZCIsInBhZ2luYXRpb25JRCI6OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTl9`,
	} {
		if _, err := DecodeCursor(token, query.Transactions); domain.ErrorCode(err) != domain.CodeValidation {
			t.Errorf("%s: got %v, want VALIDATION", name, err)
		}
	}
	// A cursor of another list, or on a column the list cannot sort on.
	for name, token := range map[string]string{
		"accounts cursor": accounts.Next,
		"unknown column":  api.EncodeCursor(map[string]any{"column": "nope", "order": 1, "paginationID": 3}),
		"offset on id":    api.EncodeCursor(map[string]any{"column": "id", "offset": 3}),
	} {
		q, err := DecodeCursor(token, query.Transactions)
		if err == nil {
			_, err = r.Transactions(ctx, "pages", q)
		}
		if domain.ErrorCode(err) != domain.CodeValidation {
			t.Errorf("%s: got %v, want VALIDATION", name, err)
		}
	}
	// A reverse cursor without a bound reads the first page.
	q, err := DecodeCursor(api.EncodeCursor(map[string]any{"column": "id", "order": 1, "pageSize": 2, "reverse": true}), query.Transactions)
	if err != nil {
		t.Fatal(err)
	}
	if page, err := r.Transactions(ctx, "pages", q); err != nil || txID(page.Data[0]) != "23" || page.Previous != "" {
		t.Errorf("reverse cursor without bound: %+v %v", page, err)
	}
	if _, err := r.Transactions(ctx, "pages", ListQuery{Sort: Sort{Column: "postings"}}); domain.ErrorCode(err) != domain.CodeValidation {
		t.Errorf("sort on postings: %v", err)
	}
}

func TestParseSort(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Sort{
		"":                {},
		"id":              {Column: "id"},
		"id:asc":          {Column: "id", Order: OrderAsc},
		"insertedAt:DESC": {Column: "inserted_at", Order: OrderDesc},
		"first_usage:asc": {Column: "first_usage", Order: OrderAsc},
	} {
		if got, err := ParseSort(in); err != nil || got != want {
			t.Errorf("%q: got %+v %v, want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"id:up", ":asc", "id:"} {
		if _, err := ParseSort(bad); domain.ErrorCode(err) != domain.CodeValidation {
			t.Errorf("%q: got %v, want VALIDATION", bad, err)
		}
	}
}

package projections

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/kontorhq/kontor/domain/ledger"
	"github.com/kontorhq/kontor/platform/api"
	"github.com/kontorhq/kontor/platform/pgtest"
	"github.com/kontorhq/kontor/projections/projectionstest"
)

// anchorExport is the reference's export of the anchor demo ledger
// (spec/anchor-examples.md); its logs are ids 1–6 and 8–10.
const anchorExport = "../domain/ledger/testdata/anchor-export-demo.jsonl"

// demo seeds the ledger "demo" with the first n logs of the anchor export.
func demo(t *testing.T, n int) *Reader {
	t.Helper()
	pool := pgtest.NewPool(t)
	s := projectionstest.NewSeeder(t, pool, "demo", ledger.DefaultBucket, nil)
	s.Apply(projectionstest.ReadLogs(t, anchorExport)[:n]...)
	return NewReader(pool)
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func data(t *testing.T, v any, err error) string {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	return jsonOf(t, map[string]any{"data": v})
}

func cursor[T any](t *testing.T, c api.Cursor[T], err error) string {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	return jsonOf(t, map[string]any{"cursor": c})
}

// TestAnchorReads compares reads with the bodies the reference served
// (spec/anchor-examples.md) after the same logs.
func TestAnchorReads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := demo(t, 9)
	expand := []string{ExpandVolumes, ExpandEffectiveVolumes}
	check := func(name, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s\n got %s\nwant %s", name, got, want)
		}
	}

	tx, err := r.Transaction(ctx, "demo", 5, GetQuery{Expand: expand})
	check("transaction 5", data(t, tx, err),
		`{"data":{"postings":[{"source":"users:001","destination":"merchants:042","amount":40,"asset":"USD/2"},{"source":"users:001","destination":"platform:fees","amount":10,"asset":"USD/2"}],"metadata":{"kind":"numscript"},"timestamp":"2026-11-21T13:20:49.550455Z","id":5,"insertedAt":"2026-11-21T13:20:49.550455Z","updatedAt":"2026-11-21T13:20:49.550455Z","postCommitVolumes":{"merchants:042":{"USD/2":{"input":40,"output":0,"balance":40}},"platform:fees":{"USD/2":{"input":10,"output":0,"balance":10}},"users:001":{"USD/2":{"input":100,"output":50,"balance":50}}},"postCommitEffectiveVolumes":{"merchants:042":{"USD/2":{"input":40,"output":0,"balance":40}},"platform:fees":{"USD/2":{"input":10,"output":0,"balance":10}},"users:001":{"USD/2":{"input":100,"output":50,"balance":50}}},"reverted":false,"preCommitVolumes":{"merchants:042":{"USD/2":{"input":0,"output":0,"balance":0}},"platform:fees":{"USD/2":{"input":0,"output":0,"balance":0}},"users:001":{"USD/2":{"input":100,"output":0,"balance":100}}},"preCommitEffectiveVolumes":{"merchants:042":{"USD/2":{"input":0,"output":0,"balance":0}},"platform:fees":{"USD/2":{"input":0,"output":0,"balance":0}},"users:001":{"USD/2":{"input":100,"output":0,"balance":100}}}}}`)

	accounts, err := r.Accounts(ctx, "demo", ListQuery{PageSize: 3, Expand: []string{ExpandVolumes}})
	check("accounts", cursor(t, accounts, err),
		`{"cursor":{"pageSize":3,"hasMore":true,"next":"eyJjb2x1bW4iOiJhZGRyZXNzIiwib3JkZXIiOjAsInBhZ2VTaXplIjozLCJmaWx0ZXJzIjp7InBpdCI6bnVsbCwib290IjpudWxsLCJxYiI6bnVsbCwiZXhwYW5kIjpbInZvbHVtZXMiXSwib3B0cyI6bnVsbH0sIm9mZnNldCI6M30","data":[{"address":"bank","metadata":{},"firstUsage":"2024-01-01T00:00:00Z","insertionDate":"2026-11-21T13:20:49.448634Z","updatedAt":"2026-11-21T13:20:49.448634Z","volumes":{"EUR/2":{"input":1000,"output":250,"balance":750}}},{"address":"merchants:042","metadata":{},"firstUsage":"2026-11-21T13:20:49.550455Z","insertionDate":"2026-11-21T13:20:49.550455Z","updatedAt":"2026-11-21T13:20:49.550455Z","volumes":{"USD/2":{"input":40,"output":0,"balance":40}}},{"address":"platform:fees","metadata":{},"firstUsage":"2026-11-21T13:20:49.550455Z","insertionDate":"2026-11-21T13:20:49.550455Z","updatedAt":"2026-11-21T13:20:49.550455Z","volumes":{"USD/2":{"input":10,"output":0,"balance":10}}}]}}`)

	account, err := r.Account(ctx, "demo", "world", GetQuery{Expand: []string{ExpandVolumes}})
	check("world", data(t, account, err),
		`{"data":{"address":"world","metadata":{},"firstUsage":"2024-01-01T00:00:00Z","insertionDate":"2026-11-21T13:20:49.397432Z","updatedAt":"2026-11-21T13:20:49.448634Z","volumes":{"COIN":{"input":0,"output":10,"balance":-10},"EUR/2":{"input":0,"output":1000,"balance":-1000},"USD/2":{"input":12,"output":107,"balance":-95}}}}`)

	volumes, err := r.Volumes(ctx, "demo", ListQuery{PageSize: 3})
	check("volumes", cursor(t, volumes, err),
		`{"cursor":{"pageSize":3,"hasMore":true,"next":"eyJjb2x1bW4iOiJhY2NvdW50Iiwib3JkZXIiOjAsInBhZ2VTaXplIjozLCJmaWx0ZXJzIjp7InBpdCI6bnVsbCwib290IjpudWxsLCJxYiI6bnVsbCwib3B0cyI6eyJpbnNlcnRpb25EYXRlIjpmYWxzZSwiZ3JvdXBCeSI6MH19LCJvZmZzZXQiOjN9","data":[{"account":"bank","asset":"EUR/2","input":1000,"output":250,"balance":750},{"account":"merchants:042","asset":"USD/2","input":40,"output":0,"balance":40},{"account":"platform:fees","asset":"USD/2","input":10,"output":0,"balance":10}]}}`)

	balances, err := r.AggregatedBalances(ctx, "demo", BalancesQuery{})
	check("balances", data(t, balances, err), `{"data":{"COIN":0,"EUR/2":0,"USD/2":0}}`)

	logs, err := r.Logs(ctx, "demo", ListQuery{PageSize: 2})
	check("logs", cursor(t, logs, err),
		`{"cursor":{"pageSize":2,"hasMore":true,"next":"eyJjb2x1bW4iOiJpZCIsIm9yZGVyIjoxLCJwYWdlU2l6ZSI6MiwiZmlsdGVycyI6eyJwaXQiOm51bGwsIm9vdCI6bnVsbCwicWIiOm51bGwsIm9wdHMiOm51bGx9LCJib3R0b20iOjEwLCJwYWdpbmF0aW9uSUQiOjgsInJldmVyc2UiOmZhbHNlfQ","data":[{"type":"SET_METADATA","data":{"targetType":"ACCOUNT","targetId":"users:001","metadata":{"tier":"gold"}},"date":"2026-11-21T13:20:50.317303Z","idempotencyKey":"","idempotencyHash":"7OEHRPM7PUFrNOSt8bcitZ1wt7VF0HeQLaD3KFQku18=","id":10,"hash":"OJLhyCqL1VKMc8yH2GsdVefRxWIABpm3QW6G4kW+SZE="},{"type":"SET_METADATA","data":{"targetType":"TRANSACTION","targetId":1,"metadata":{"foo":"bar"}},"date":"2026-11-21T13:20:50.120378Z","idempotencyKey":"","idempotencyHash":"3dJwUIIUCv79hWIBFyj3x6xTHO_6CezJ5NIFiSv4zeE=","id":9,"hash":"ItxewDIFpdU0is5LwdHeJ0h6KZvPQCg6JBKh/TfQL4I="}]}}`)

	if _, err := r.Account(ctx, "demo", "users:001", GetQuery{PIT: at(t, "2020-01-01T00:00:00Z")}); err == nil || err.Error() != "NOT_FOUND: not found" {
		t.Errorf("account before its first use: %v", err)
	}
}

func at(t *testing.T, s string) *ledger.Time {
	t.Helper()
	v, err := ledger.ParseTime(s)
	if err != nil {
		t.Fatal(err)
	}
	return &v
}

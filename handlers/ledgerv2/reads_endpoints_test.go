package ledgerv2_test

import (
	"encoding/json"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kontorhq/kontor/domain/ledger"
	"github.com/kontorhq/kontor/projections/projectionstest"
)

// readServer serves the anchor demo ledger (all its logs) and the ledger
// "whales" (bucket "deep", every feature off) holding one transaction of
// 2^70 COIN dated 2024-01-01 to whale.
func readServer(t *testing.T) string {
	t.Helper()
	base, pool := newReader(t)
	projectionstest.NewSeeder(t, pool, "demo", ledger.DefaultBucket, nil).Apply(projectionstest.ReadLogs(t, anchorExport)...)
	whales := projectionstest.NewSeeder(t, pool, "whales", "deep", ledger.MinimalFeatures())
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	whales.Transaction(at, at, nil, "", ledger.NewPosting("world", "whale", "COIN", new(big.Int).Lsh(big.NewInt(1), 70)))
	return base + "/v2"
}

// get calls GET (or HEAD) path with an optional body and decodes a 200
// body into out.
func get(t *testing.T, method, url, body string, out any, header ...string) (int, http.Header) {
	t.Helper()
	status, h, raw := call(t, method, url, body, header...)
	if status == http.StatusOK && out != nil {
		if err := json.Unmarshal([]byte(raw), out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, url, err, raw)
		}
	}
	return status, h
}

// page is a decoded cursor response.
type page struct {
	Cursor struct {
		PageSize int               `json:"pageSize"`
		HasMore  bool              `json:"hasMore"`
		Previous string            `json:"previous"`
		Next     string            `json:"next"`
		Data     []json.RawMessage `json:"data"`
	} `json:"cursor"`
}

// ids returns the "id" of every item of a page.
func (p page) ids(t *testing.T) []int {
	t.Helper()
	var out []int
	for _, raw := range p.Cursor.Data {
		var item struct{ ID int }
		if err := json.Unmarshal(raw, &item); err != nil {
			t.Fatal(err)
		}
		out = append(out, item.ID)
	}
	return out
}

func q(filter string) string { return "query=" + url.QueryEscape(filter) }

func TestReadEndpoints(t *testing.T) {
	t.Parallel()
	v2 := readServer(t)

	var info struct {
		Data struct {
			Server, Version string
			Config          struct {
				Storage struct {
					Driver  string
					Ledgers []string
				}
			}
		}
	}
	if status, _ := get(t, "GET", v2+"/_info", "", &info); status != 200 || info.Data.Server != "ledger" ||
		info.Data.Version == "" || info.Data.Config.Storage.Driver != "postgres" || !slices.Equal(info.Data.Config.Storage.Ledgers, []string{"demo", "whales"}) {
		t.Errorf("/_info: %d %+v", status, info)
	}

	// Ledgers: list (with or without the trailing slash), a cursor, one ledger.
	for _, path := range []string{"", "/"} {
		var p page
		if status, _ := get(t, "GET", v2+path+"?pageSize=1", "", &p); status != 200 || len(p.Cursor.Data) != 1 || !p.Cursor.HasMore {
			t.Fatalf("list ledgers %q: %d %+v", path, status, p)
		}
		var next page
		if status, _ := get(t, "GET", v2+"/?cursor="+p.Cursor.Next, "", &next); status != 200 ||
			!strings.Contains(string(next.Cursor.Data[0]), `"name":"whales"`) || next.Cursor.Previous == "" {
			t.Errorf("ledgers page 2: %d %+v", status, next)
		}
	}
	status, _, body := call(t, "GET", v2+"/whales", "")
	if status != 200 || !strings.HasPrefix(body, `{"data":{"bucket":"deep","metadata":{},"features":{"ACCOUNT_METADATA_HISTORY":"DISABLED",`) ||
		!strings.Contains(body, `"id":2,"name":"whales","addedAt":"`) {
		t.Errorf("GET /whales: %d %s", status, body)
	}
	var ledgerInfo struct {
		Data struct {
			Name    string
			Storage struct {
				Migrations []struct{ Version, State string }
			}
		}
	}
	if status, _ := get(t, "GET", v2+"/demo/_info", "", &ledgerInfo); status != 200 || ledgerInfo.Data.Name != "demo" ||
		len(ledgerInfo.Data.Storage.Migrations) == 0 || ledgerInfo.Data.Storage.Migrations[0].Version != "1" ||
		ledgerInfo.Data.Storage.Migrations[0].State != "DONE" {
		t.Errorf("/demo/_info: %d %+v", status, ledgerInfo)
	}
	if status, _, body := call(t, "GET", v2+"/demo/stats", ""); status != 200 || body != `{"data":{"transactions":7,"accounts":9}}`+"\n" {
		t.Errorf("stats: %d %s", status, body)
	}

	// Transactions: filters from the query parameter or the body, order
	// parameters, and HEAD counts.
	users001 := `{"$match":{"account":"users:001"}}`
	for _, tc := range []struct {
		params, body string
		want         []int
	}{
		{q(users001), "", []int{5, 1}},
		{"", users001, []int{5, 1}},
		{"reverse=true&pageSize=3", "", []int{1, 3, 4}},
		{"reverse=1&" + q(users001), "", []int{1, 5}},
		{"sort=id:asc&pageSize=2", "", []int{1, 3}},
		{"order=effective&pageSize=2", "", []int{9, 7}},
		{"sort=timestamp:asc&pageSize=2", "", []int{3, 1}},
		{"pit=2026-11-21T13:20:49.5Z", "", []int{4, 3, 1}},
		{"oot=2026-11-21T13:20:49.6Z", "", []int{9, 7}},
		{q(`{"$match":{"metadata[foo]":"bar"}}`) + "&pit=2026-11-21T13:20:50.2Z", "", []int{1}},
		{q(`{"$match":{"metadata[foo]":"bar"}}`) + "&pit=2026-11-21T13:20:50.1Z", "", nil},
	} {
		var p page
		status, _ := get(t, "GET", v2+"/demo/transactions?"+tc.params, tc.body, &p)
		if status != 200 || !slices.Equal(p.ids(t), tc.want) {
			t.Errorf("transactions?%s %s: %d %v, want %v", tc.params, tc.body, status, p.ids(t), tc.want)
		}
		status, h := get(t, "HEAD", v2+"/demo/transactions?"+tc.params, tc.body, nil)
		if tc.params == "" || !strings.Contains(tc.params, "pageSize") {
			if status != 204 || h.Get("Count") != itoa(len(tc.want)) {
				t.Errorf("HEAD transactions?%s %s: %d Count %q, want %d", tc.params, tc.body, status, h.Get("Count"), len(tc.want))
			}
		}
	}

	// Cursors round trip over HTTP, forward then back; pageSize may change.
	var forward [][]int
	var p page
	get(t, "GET", v2+"/demo/transactions?pageSize=2&"+q(`{"$gt":{"id":0}}`), "", &p)
	for {
		forward = append(forward, p.ids(t))
		if p.Cursor.Next == "" {
			break
		}
		next := p.Cursor.Next
		p = page{}
		get(t, "GET", v2+"/demo/transactions?cursor="+next+"&"+q(`{"$match":{"id":1}}`), "", &p)
	}
	var backward [][]int
	for p.Cursor.Previous != "" {
		previous := p.Cursor.Previous
		p = page{}
		get(t, "GET", v2+"/demo/transactions?cursor="+previous, "", &p)
		backward = append([][]int{p.ids(t)}, backward...)
	}
	if got := slices.Concat(forward...); !slices.Equal(got, []int{9, 7, 6, 5, 4, 3, 1}) || len(forward) != 4 ||
		!slices.Equal(slices.Concat(backward...), []int{9, 7, 6, 5, 4, 3}) {
		t.Errorf("cursor walk: forward %v, backward %v", forward, backward)
	}
	get(t, "GET", v2+"/demo/transactions?pageSize=2", "", &p)
	var resized page
	if get(t, "GET", v2+"/demo/transactions?pageSize=4&cursor="+p.Cursor.Next, "", &resized); !slices.Equal(resized.ids(t), []int{6, 5, 4, 3}) {
		t.Errorf("resized page: %v", resized.ids(t))
	}

	// One transaction; expand on single reads is repeated, not split.
	for params, want := range map[string][]string{
		"":                {`"reverted":false}}`},
		"?expand=volumes": {`"postCommitVolumes":`, `"preCommitVolumes":`},
		"?expand=volumes&expand=effectiveVolumes": {`"postCommitEffectiveVolumes":`, `"preCommitEffectiveVolumes":`},
		"?expand=volumes,effectiveVolumes":        {`"reverted":false}}`},
		"?pit=2026-11-21T13:20:50.2Z":             {`"metadata":{"foo":"bar","order":"o-1"}`},
		"?pit=2026-11-21T13:20:50.1Z":             {`"metadata":{"order":"o-1"}`},
	} {
		status, _, body := call(t, "GET", v2+"/demo/transactions/1"+params, "")
		for _, w := range want {
			if status != 200 || !strings.Contains(body, w) {
				t.Errorf("transactions/1%s: %d %s lacks %s", params, status, body, w)
			}
		}
		if params == "" && strings.Contains(body, "postCommitVolumes") {
			t.Errorf("transactions/1 without expand has volumes: %s", body)
		}
	}

	// Accounts: lists split expand on commas; HEAD counts.
	status, _, body = call(t, "GET", v2+"/demo/accounts?pageSize=1&expand=volumes,effectiveVolumes&"+q(`{"$match":{"address":"users:001"}}`), "")
	if status != 200 || !strings.Contains(body, `"metadata":{"tier":"gold"}`) || !strings.Contains(body, `"effectiveVolumes":{"USD/2":{"input":100,"output":50,"balance":50}}`) {
		t.Errorf("accounts expanded: %d %s", status, body)
	}
	for params, want := range map[string]string{"": "9", q(`{"$match":{"address":"users:"}}`): "5", "pit=2024-06-01T00:00:00Z": "3"} {
		if status, h := get(t, "HEAD", v2+"/demo/accounts?"+params, "", nil); status != 204 || h.Get("Count") != want {
			t.Errorf("HEAD accounts?%s: %d %q, want %s", params, status, h.Get("Count"), want)
		}
	}
	if status, _, body := call(t, "GET", v2+"/demo/accounts/users:001?pit=2026-11-21T13:20:50.3Z", ""); status != 200 || !strings.Contains(body, `"metadata":{}`) {
		t.Errorf("users:001 before its metadata: %d %s", status, body)
	}

	// Balances and volumes, with their legacy parameters.
	for params, want := range map[string]string{
		"":                                   `{"data":{"COIN":0,"EUR/2":0,"USD/2":0}}`,
		q(`{"$match":{"address":"users:"}}`): `{"data":{"COIN":10,"EUR/2":250,"USD/2":45}}`,
		"pit=2025-01-01T00:00:00Z":           `{"data":{"EUR/2":0}}`,
		"pit=2026-11-21T13:20:49.4Z&useInsertionDate=true&" + q(`{"$match":{"address":"users:001"}}`):   `{"data":{"USD/2":100}}`,
		"pit=2026-11-21T13:20:49.4Z&use_insertion_date=true&" + q(`{"$match":{"address":"users:001"}}`): `{"data":{"USD/2":100}}`,
	} {
		if status, _, body := call(t, "GET", v2+"/demo/aggregate/balances?"+params, ""); status != 200 || body != want+"\n" {
			t.Errorf("balances?%s: %d %s, want %s", params, status, body, want)
		}
	}
	for params, want := range map[string]string{
		"groupBy=1&" + q(`{"$match":{"account":"users:..."}}`):                                    `{"account":"users","asset":"COIN","input":10,"output":0,"balance":10},{"account":"users","asset":"EUR/2","input":250,"output":0,"balance":250},{"account":"users","asset":"USD/2","input":107,"output":62,"balance":45}`,
		"endTime=2025-01-01T00:00:00Z&" + q(`{"$match":{"account":"bank"}}`):                      `{"account":"bank","asset":"EUR/2","input":1000,"output":250,"balance":750}`,
		"startTime=2025-01-01T00:00:00Z&" + q(`{"$match":{"account":"bank"}}`):                    `]`,
		"startTime=2025-01-01T00:00:00Z&insertionDate=true&" + q(`{"$match":{"account":"bank"}}`): `{"account":"bank","asset":"EUR/2","input":1000,"output":250,"balance":750}`,
	} {
		if status, _, body := call(t, "GET", v2+"/demo/volumes?"+params, ""); status != 200 || !strings.Contains(body, `"data":[`+want) {
			t.Errorf("volumes?%s: %d %s, want %s", params, status, body, want)
		}
	}

	// Logs.
	var logs page
	if get(t, "GET", v2+"/demo/logs?pageSize=4&"+q(`{"$match":{"type":"NEW_TRANSACTION"}}`), "", &logs); !slices.Equal(logs.ids(t), []int{6, 5, 4, 3}) {
		t.Errorf("logs: %v", logs.ids(t))
	}

	// Formance-Bigint-As-String renders amounts, not ids, as strings.
	for path, want := range map[string]string{
		"/whales/transactions/1?expand=volumes": `"amount":"1180591620717411303424","asset":"COIN"}],"metadata":{},"timestamp":"2024-01-01T00:00:00Z","id":1,`,
		"/whales/volumes":                       `{"account":"whale","asset":"COIN","input":"1180591620717411303424","output":"0","balance":"1180591620717411303424"}`,
		"/whales/aggregate/balances":            `{"data":{"COIN":"0"}}`,
		"/whales/accounts/whale?expand=volumes": `"volumes":{"COIN":{"input":"1180591620717411303424","output":"0","balance":"1180591620717411303424"}}`,
	} {
		if status, _, body := call(t, "GET", v2+path, "", "Formance-Bigint-As-String", "true"); status != 200 || !strings.Contains(body, want) {
			t.Errorf("%s as strings: %d %s, want %s", path, status, body, want)
		}
	}
	if _, _, body := call(t, "GET", v2+"/whales/volumes", ""); !strings.Contains(body, `"input":1180591620717411303424,`) {
		t.Errorf("volumes without the header: %s", body)
	}
}

func itoa(n int) string { return big.NewInt(int64(n)).String() }

// TestReadErrors: bad input is a 4xx with the reference's error code,
// never a 500.
func TestReadErrors(t *testing.T) {
	t.Parallel()
	v2 := readServer(t)
	for _, tc := range []struct {
		method, path, body string
		status             int
		code               string
	}{
		{"GET", "/demo/transactions?" + q(`{`), "", 400, "VALIDATION"},
		{"GET", "/demo/transactions", `{"$match":{"nope":1}}`, 400, "VALIDATION"},
		{"GET", "/demo/transactions?" + q(`{"$match":{"nope":1}}`), "", 400, "VALIDATION"},
		{"GET", "/demo/transactions?" + q(`{"$gt":{"reference":"a"}}`), "", 400, "VALIDATION"},
		{"GET", "/demo/transactions?" + q(`{"$in":{"account":["users:"]}}`), "", 400, "VALIDATION"},
		{"GET", "/demo/transactions?" + q(`{"$match":{"id":1.5}}`), "", 400, "VALIDATION"},
		{"GET", "/demo/transactions?cursor=!!", "", 400, "VALIDATION"},
		{"GET", "/demo/transactions?cursor=eyJ4IjoxfQ", "", 400, "VALIDATION"},
		{"GET", "/demo/transactions?pageSize=abc", "", 400, "VALIDATION"},
		{"GET", "/demo/transactions?pageSize=-1", "", 400, "VALIDATION"},
		{"GET", "/demo/transactions?pit=yesterday", "", 400, "VALIDATION"},
		{"GET", "/demo/transactions?oot=2024-13-01T00:00:00Z", "", 400, "VALIDATION"},
		{"GET", "/demo/transactions?sort=id:up", "", 400, "VALIDATION"},
		{"GET", "/demo/transactions?sort=postings", "", 400, "VALIDATION"},
		{"GET", "/demo/transactions/99999", "", 404, "NOT_FOUND"},
		{"GET", "/demo/transactions/0", "", 404, "NOT_FOUND"},
		{"GET", "/demo/transactions/abc", "", 400, "VALIDATION"},
		{"GET", "/demo/transactions/-1", "", 400, "VALIDATION"},
		{"GET", "/demo/transactions/99999999999999999999", "", 400, "VALIDATION"},
		{"GET", "/demo/transactions/18446744073709551615", "", 404, "NOT_FOUND"},
		{"GET", "/demo/transactions/1?pit=x", "", 400, "VALIDATION"},
		{"GET", "/demo/accounts?" + q(`{"$match":{"account":"x"}}`), "", 400, "VALIDATION"},
		{"GET", "/demo/accounts?sort=balance", "", 400, "VALIDATION"},
		{"GET", "/demo/accounts/never:used", "", 404, "NOT_FOUND"},
		{"GET", "/demo/accounts/world?pit=x", "", 400, "VALIDATION"},
		{"GET", "/demo/aggregate/balances?" + q(`{"$match":{"balance":1}}`), "", 400, "VALIDATION"},
		{"GET", "/demo/aggregate/balances?pit=x", "", 400, "VALIDATION"},
		{"GET", "/demo/volumes?groupBy=x", "", 400, "VALIDATION"},
		{"GET", "/demo/volumes?groupBy=-1", "", 400, "VALIDATION"},
		{"GET", "/demo/volumes?endTime=x", "", 400, "VALIDATION"},
		{"GET", "/demo/volumes?startTime=x", "", 400, "VALIDATION"},
		{"GET", "/demo/logs?" + q(`{"$match":{"address":"x"}}`), "", 400, "VALIDATION"},
		{"GET", "/?" + q(`{"$match":{"nope":"x"}}`), "", 400, "VALIDATION"},
		{"GET", "/whales/volumes?pit=2025-01-01T00:00:00Z", "", 400, "VALIDATION"},
		{"GET", "/whales/accounts/whale?pit=2025-01-01T00:00:00Z&expand=volumes", "", 400, "VALIDATION"},
		{"GET", "/whales/aggregate/balances?pit=2025-01-01T00:00:00Z", "", 400, "VALIDATION"},
		{"GET", "/nope", "", 404, "NOT_FOUND"},
		{"GET", "/nope/_info", "", 404, "LEDGER_NOT_FOUND"},
		{"GET", "/nope/stats", "", 404, "LEDGER_NOT_FOUND"},
		{"GET", "/nope/transactions", "", 404, "LEDGER_NOT_FOUND"},
		{"GET", "/nope/transactions/1", "", 404, "LEDGER_NOT_FOUND"},
		{"GET", "/nope/accounts", "", 404, "LEDGER_NOT_FOUND"},
		{"GET", "/nope/accounts/world", "", 404, "LEDGER_NOT_FOUND"},
		{"GET", "/nope/aggregate/balances", "", 404, "LEDGER_NOT_FOUND"},
		{"GET", "/nope/volumes", "", 404, "LEDGER_NOT_FOUND"},
		{"GET", "/nope/logs", "", 404, "LEDGER_NOT_FOUND"},
		{"GET", "/%ff/transactions", "", 404, "LEDGER_NOT_FOUND"},
		{"GET", "/a%00b/accounts", "", 404, "LEDGER_NOT_FOUND"},
		{"GET", "/_info/transactions", "", 404, "LEDGER_NOT_FOUND"},
		{"GET", "/demo/accounts/%ff", "", 404, "NOT_FOUND"},
		{"GET", "/demo/accounts/a%00b", "", 404, "NOT_FOUND"},
		{"GET", "/demo/accounts/users:001:", "", 404, "NOT_FOUND"},
	} {
		status, _, body := call(t, tc.method, v2+tc.path, tc.body)
		if status != tc.status || errorCode(t, body) != tc.code {
			t.Errorf("%s %s: %d %s, want %d %s", tc.method, tc.path, status, body, tc.status, tc.code)
		}
	}
	for _, path := range []string{"/demo/transactions?" + q(`{`), "/demo/accounts?pageSize=x", "/nope/transactions", "/nope/accounts"} {
		if status, _, _ := call(t, "HEAD", v2+path, ""); status != 400 && status != 404 {
			t.Errorf("HEAD %s: %d", path, status)
		}
	}
	// Whatever the parameters, never a 500.
	for _, raw := range []string{`{"$and":{}}`, `{"$not":[]}`, `{"$match":{"metadata[k]":1}}`, `{"$like":{"reference":"\\"}}`,
		`{"$exists":{"metadata":""}}`, `{"$match":{"reference":"\u0000"}}`, `[]`, `"x"`, `{"$lt":{"timestamp":"2024"}}`,
		`{"$match":{"reference":"` + strings.Repeat("x", 10000) + `"}}`} {
		for _, path := range []string{"/demo/transactions", "/demo/accounts", "/demo/volumes", "/demo/logs", "/demo/aggregate/balances"} {
			if status, _, body := call(t, "GET", v2+path+"?"+q(raw), ""); status >= 500 {
				t.Errorf("%s %s: %d %s", path, raw, status, body)
			}
		}
	}
}

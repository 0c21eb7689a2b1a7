package ledgerv2_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"testing"

	formance "github.com/formancehq/formance-sdk-go/v3"
	"github.com/formancehq/formance-sdk-go/v3/pkg/models/operations"
	"github.com/formancehq/formance-sdk-go/v3/pkg/models/shared"
)

const (
	jsonStream   = "application/vnd.formance.ledger.api.v2.bulk+json-stream"
	scriptStream = "application/vnd.formance.ledger.api.v2.bulk+script-stream"
)

// bulkResult is one element's result as the API sends it.
type bulkResult struct {
	ResponseType string `json:"responseType"`
	Data         *struct {
		ID       int64             `json:"id"`
		Postings []posting         `json:"postings"`
		Metadata map[string]string `json:"metadata"`
	} `json:"data"`
	ErrorCode        string `json:"errorCode"`
	ErrorDescription string `json:"errorDescription"`
	ErrorDetails     string `json:"errorDetails"`
	LogID            int64  `json:"logID"`
}

type posting struct {
	Source      string `json:"source"`
	Destination string `json:"destination"`
	Amount      int64  `json:"amount"`
	Asset       string `json:"asset"`
}

// bulk posts body to the bulk endpoint of ledger main and returns the
// status and the results; a body that is not a bulk response fails the
// test unless the status is an error.
func bulk(t *testing.T, base, query, contentType, body string) (int, []bulkResult, string) {
	t.Helper()
	code, _, raw := call(t, "POST", base+"/api/ledger/v2/main/_bulk"+query, body, "Content-Type", contentType)
	var res struct{ Data []bulkResult }
	if err := json.Unmarshal([]byte(raw), &res); err != nil {
		t.Fatalf("bulk answer %d is not JSON: %s", code, raw)
	}
	return code, res.Data, raw
}

// creates is a JSON bulk of one CREATE_TRANSACTION element per
// "src>dst=amount" posting (asset USD).
func creates(specs ...string) string {
	var elements []string
	for _, s := range specs {
		route, amount, _ := strings.Cut(s, "=")
		src, dst, _ := strings.Cut(route, ">")
		elements = append(elements, fmt.Sprintf(`{"action":"CREATE_TRANSACTION","data":{"postings":[{"source":%q,"destination":%q,"amount":%s,"asset":"USD"}]}}`, src, dst, amount))
	}
	return "[" + strings.Join(elements, ",") + "]"
}

// ledgerState is the number of transactions and the balances of some
// accounts in USD.
func ledgerState(t *testing.T, base string, accounts ...string) string {
	t.Helper()
	code, header, _ := call(t, "HEAD", base+"/api/ledger/v2/main/transactions", "")
	if code != 204 {
		t.Fatalf("count transactions: %d", code)
	}
	state := "transactions=" + header.Get("Count")
	for _, a := range accounts {
		var acc struct {
			Data struct {
				Volumes map[string]struct{ Balance int64 }
			}
		}
		code, _, raw := call(t, "GET", base+"/api/ledger/v2/main/accounts/"+a+"?expand=volumes", "")
		if code == 200 {
			if err := json.Unmarshal([]byte(raw), &acc); err != nil {
				t.Fatal(err)
			}
		}
		state += fmt.Sprintf(" %s=%d", a, acc.Data.Volumes["USD"].Balance)
	}
	return state
}

func newBulkLedger(t *testing.T) string {
	t.Helper()
	base := newKontor(t)
	if code, _, body := call(t, "POST", base+"/api/ledger/v2/main", ""); code != 204 {
		t.Fatalf("create ledger: %d %s", code, body)
	}
	return base
}

func TestBulkThroughSDK(t *testing.T) {
	base := newBulkLedger(t)
	ctx := context.Background()
	v2 := formance.New(formance.WithServerURL(base)).Ledger.V2
	ik := func(s string) *string { return &s }
	tx1, tx2 := big.NewInt(1), big.NewInt(2)
	elements := []shared.V2BulkElement{
		shared.CreateV2BulkElementCreateTransaction(shared.V2BulkElementCreateTransaction{Ik: ik("create-1"), Data: &shared.V2PostTransaction{
			Postings:  []shared.V2Posting{{Source: "world", Destination: "users:1", Amount: big.NewInt(100), Asset: "USD"}},
			Reference: ik("order-1"), Metadata: map[string]string{"k": "v", "other": "x"}}}),
		shared.CreateV2BulkElementCreateTransaction(shared.V2BulkElementCreateTransaction{Data: &shared.V2PostTransaction{
			Postings: []shared.V2Posting{{Source: "users:1", Destination: "users:2", Amount: big.NewInt(30), Asset: "USD"}}}}),
		shared.CreateV2BulkElementAddMetadata(shared.V2BulkElementAddMetadata{Ik: ik("meta-1"), Data: &shared.V2BulkElementAddMetadataData{
			TargetType: shared.V2TargetTypeTransaction, TargetID: shared.CreateV2TargetIDBigint(tx2), Metadata: map[string]string{"note": "bulk"}}}),
		shared.CreateV2BulkElementDeleteMetadata(shared.V2BulkElementDeleteMetadata{Data: &shared.V2BulkElementDeleteMetadataData{
			TargetType: shared.V2TargetTypeTransaction, TargetID: shared.CreateV2TargetIDBigint(tx1), Key: "k"}}),
		shared.CreateV2BulkElementAddMetadata(shared.V2BulkElementAddMetadata{Data: &shared.V2BulkElementAddMetadataData{
			TargetType: shared.V2TargetTypeAccount, TargetID: shared.CreateV2TargetIDStr("users:2"), Metadata: map[string]string{"tier": "gold", "old": "1"}}}),
		shared.CreateV2BulkElementDeleteMetadata(shared.V2BulkElementDeleteMetadata{Data: &shared.V2BulkElementDeleteMetadataData{
			TargetType: shared.V2TargetTypeAccount, TargetID: shared.CreateV2TargetIDStr("users:2"), Key: "old"}}),
		shared.CreateV2BulkElementRevertTransaction(shared.V2BulkElementRevertTransaction{Ik: ik("revert-2"), Data: &shared.V2BulkElementRevertTransactionData{
			ID: tx2, Metadata: map[string]string{"why": "test"}}}),
	}
	res, err := v2.CreateBulk(ctx, operations.V2CreateBulkRequest{Ledger: "main", RequestBody: elements})
	if err != nil {
		t.Fatalf("CreateBulk: %v", err)
	}
	results := res.V2BulkResponse.Data
	if res.StatusCode != 200 || len(results) != len(elements) {
		t.Fatalf("CreateBulk: %d, %d results", res.StatusCode, len(results))
	}
	wantTypes := []shared.V2BulkElementResultType{"CREATE_TRANSACTION", "CREATE_TRANSACTION", "ADD_METADATA",
		"DELETE_METADATA", "ADD_METADATA", "DELETE_METADATA", "REVERT_TRANSACTION"}
	for i, r := range results {
		if r.Type != wantTypes[i] {
			t.Fatalf("result %d is %s, want %s", i, r.Type, wantTypes[i])
		}
	}
	created := results[0].V2BulkElementResultCreateTransactionSchemas
	if created.LogID != 1 || created.Data.ID.Int64() != 1 || *created.Data.Reference != "order-1" ||
		created.Data.PostCommitVolumes["users:1"]["USD"].Balance.Int64() != 100 {
		t.Fatalf("first creation: %+v", created)
	}
	if moved := results[1].V2BulkElementResultCreateTransactionSchemas; moved.LogID != 2 || moved.Data.ID.Int64() != 2 {
		t.Fatalf("second creation: %+v", moved)
	}
	if results[2].Schemas.LogID != 3 || results[3].V2BulkElementResultDeleteMetadataSchemas.LogID != 4 ||
		results[4].Schemas.LogID != 5 || results[5].V2BulkElementResultDeleteMetadataSchemas.LogID != 6 {
		t.Fatalf("metadata log ids: %+v", results[2:6])
	}
	revert := results[6].V2BulkElementResultRevertTransactionSchemas
	if revert.LogID != 7 || revert.Data.ID.Int64() != 3 || revert.Data.Postings[0].Source != "users:2" ||
		revert.Data.Postings[0].Destination != "users:1" || revert.Data.Metadata["why"] != "test" ||
		revert.Data.Metadata["com.formance.spec/state/reverts"] != "2" {
		t.Fatalf("revert: %+v", revert)
	}

	// The ledger shows every element's effect.
	got1, err := v2.GetTransaction(ctx, operations.V2GetTransactionRequest{Ledger: "main", ID: tx1})
	if err != nil || !equalMaps(got1.V2GetTransactionResponse.Data.Metadata, map[string]string{"other": "x"}) {
		t.Fatalf("transaction 1 after the bulk: %v %+v", err, got1)
	}
	got2, err := v2.GetTransaction(ctx, operations.V2GetTransactionRequest{Ledger: "main", ID: tx2})
	if err != nil || got2.V2GetTransactionResponse.Data.Metadata["note"] != "bulk" || !got2.V2GetTransactionResponse.Data.Reverted {
		t.Fatalf("transaction 2 after the bulk: %v %+v", err, got2)
	}
	acc, err := v2.GetAccount(ctx, operations.V2GetAccountRequest{Ledger: "main", Address: "users:2"})
	if err != nil || !equalMaps(acc.V2AccountResponse.Data.Metadata, map[string]string{"tier": "gold"}) {
		t.Fatalf("users:2 after the bulk: %v %+v", err, acc)
	}
	if s := ledgerState(t, base, "users:1", "users:2"); s != "transactions=3 users:1=100 users:2=0" {
		t.Fatalf("state: %s", s)
	}

	// Replaying the elements with an ik returns what they wrote and writes
	// nothing; a single request with the same key and body is a replay too.
	replay, err := v2.CreateBulk(ctx, operations.V2CreateBulkRequest{Ledger: "main", RequestBody: []shared.V2BulkElement{elements[0], elements[2], elements[6]}})
	if err != nil || replay.StatusCode != 200 {
		t.Fatalf("replay: %v", err)
	}
	r := replay.V2BulkResponse.Data
	if r[0].V2BulkElementResultCreateTransactionSchemas.LogID != 1 || r[0].V2BulkElementResultCreateTransactionSchemas.Data.ID.Int64() != 1 ||
		r[1].Schemas.LogID != 3 || r[2].V2BulkElementResultRevertTransactionSchemas.Data.ID.Int64() != 3 {
		t.Fatalf("replay results: %+v", r)
	}
	single, err := v2.CreateTransaction(ctx, operations.V2CreateTransactionRequest{Ledger: "main", IdempotencyKey: ik("create-1"),
		V2PostTransaction: *elements[0].V2BulkElementCreateTransaction.Data})
	if err != nil || single.V2CreateTransactionResponse.Data.ID.Int64() != 1 || single.RawResponse.Header.Get("Idempotency-Hit") != "true" {
		t.Fatalf("single request with a bulk element's key: %v", err)
	}
	if s := ledgerState(t, base, "users:1", "users:2"); s != "transactions=3 users:1=100 users:2=0" {
		t.Fatalf("state after the replays: %s", s)
	}

	// The same key with another request is refused, for that element only.
	other := shared.CreateV2BulkElementAddMetadata(shared.V2BulkElementAddMetadata{Ik: ik("meta-1"), Data: &shared.V2BulkElementAddMetadataData{
		TargetType: shared.V2TargetTypeTransaction, TargetID: shared.CreateV2TargetIDBigint(tx1), Metadata: map[string]string{"note": "bulk"}}})
	res, err = v2.CreateBulk(ctx, operations.V2CreateBulkRequest{Ledger: "main", RequestBody: []shared.V2BulkElement{other}})
	if err != nil || res.StatusCode != 400 {
		t.Fatalf("reused key: %v %+v", err, res)
	}
	if e := res.V2BulkResponse.Data[0].V2BulkElementResultErrorSchemas; e == nil || e.ErrorCode != "VALIDATION" || e.ErrorDescription == "" {
		t.Fatalf("reused key: %+v", res.V2BulkResponse.Data[0])
	}

	// A failed element comes back as an ERROR result the SDK reads.
	cont := true
	res, err = v2.CreateBulk(ctx, operations.V2CreateBulkRequest{Ledger: "main", ContinueOnFailure: &cont, RequestBody: []shared.V2BulkElement{
		shared.CreateV2BulkElementRevertTransaction(shared.V2BulkElementRevertTransaction{Data: &shared.V2BulkElementRevertTransactionData{ID: tx2}}),
		shared.CreateV2BulkElementRevertTransaction(shared.V2BulkElementRevertTransaction{Data: &shared.V2BulkElementRevertTransactionData{ID: big.NewInt(42)}}),
	}})
	if err != nil || res.StatusCode != 400 || len(res.V2BulkResponse.Data) != 2 {
		t.Fatalf("failing reverts: %v %+v", err, res)
	}
	if e := res.V2BulkResponse.Data[0].V2BulkElementResultErrorSchemas; e == nil || e.ErrorCode != "ALREADY_REVERT" {
		t.Fatalf("revert of a reverted transaction: %+v", res.V2BulkResponse.Data[0])
	}
	if e := res.V2BulkResponse.Data[1].V2BulkElementResultErrorSchemas; e == nil || e.ErrorCode != "NOT_FOUND" || e.LogID != 0 {
		t.Fatalf("revert of a missing transaction: %+v", res.V2BulkResponse.Data[1])
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestBulkFailureModes(t *testing.T) {
	base := newBulkLedger(t)
	if code, results, raw := bulk(t, base, "", "application/json", creates("world>a=10")); code != 200 || results[0].LogID != 1 {
		t.Fatalf("seed: %s", raw)
	}
	failing := creates("world>b=1", "a>b=100", "world>b=2")

	// Sequential: the element after the failure is not run.
	code, results, raw := bulk(t, base, "", "application/json", failing)
	if code != 400 || results[0].ResponseType != "CREATE_TRANSACTION" || results[0].Data.ID != 2 ||
		results[1].ResponseType != "ERROR" || results[1].ErrorCode != "INSUFFICIENT_FUND" || results[1].LogID != 0 ||
		results[2].ResponseType != "ERROR" || results[2].ErrorCode != "INTERNAL" || results[2].ErrorDescription != "context canceled" {
		t.Fatalf("sequential: %d %s", code, raw)
	}
	if s := ledgerState(t, base, "a", "b"); s != "transactions=2 a=10 b=1" {
		t.Fatalf("after the sequential bulk: %s", s)
	}

	// continueOnFailure: it is.
	code, results, raw = bulk(t, base, "?continueOnFailure=true", "application/json", failing)
	if code != 400 || results[0].Data.ID != 3 || results[1].ErrorCode != "INSUFFICIENT_FUND" ||
		results[2].ResponseType != "CREATE_TRANSACTION" || results[2].Data.ID != 4 || results[2].LogID != 4 {
		t.Fatalf("continueOnFailure: %d %s", code, raw)
	}
	if s := ledgerState(t, base, "a", "b"); s != "transactions=4 a=10 b=4" {
		t.Fatalf("after continueOnFailure: %s", s)
	}

	// Atomic: nothing is written, with or without continueOnFailure.
	for _, query := range []string{"?atomic=true", "?atomic=true&continueOnFailure=true"} {
		code, results, raw = bulk(t, base, query, "application/json", failing)
		if code != 400 || results[0].ResponseType != "ERROR" || results[0].ErrorDescription != "context canceled" ||
			!strings.Contains(results[0].ErrorDetails, "not written") || results[1].ErrorCode != "INSUFFICIENT_FUND" ||
			results[2].ResponseType != "ERROR" || results[2].Data != nil {
			t.Fatalf("%s: %d %s", query, code, raw)
		}
		if s := ledgerState(t, base, "a", "b"); s != "transactions=4 a=10 b=4" {
			t.Fatalf("%s wrote: %s", query, s)
		}
	}
	// An element that cannot be built fails an atomic bulk too.
	code, results, raw = bulk(t, base, "?atomic=true&continueOnFailure=true", "application/json",
		`[{"action":"CREATE_TRANSACTION","data":{"postings":[{"source":"world","destination":"a","amount":1,"asset":"USD"}]}},
		  {"action":"CREATE_TRANSACTION","data":{"metadata":{"k":"v"}}}]`)
	if code != 400 || results[0].ResponseType != "ERROR" || results[1].ErrorCode != "NO_POSTINGS" {
		t.Fatalf("atomic with an empty transaction: %d %s", code, raw)
	}
	if s := ledgerState(t, base, "a", "b"); s != "transactions=4 a=10 b=4" {
		t.Fatalf("atomic with an empty transaction wrote: %s", s)
	}
	// A successful atomic bulk writes everything, in order; the second
	// element sees the first.
	code, results, raw = bulk(t, base, "?atomic=true", "application/json", creates("world>c=5", "c>a=5", "a>b=15"))
	if code != 200 || results[0].LogID != 5 || results[1].LogID != 6 || results[2].LogID != 7 || results[2].Data.ID != 7 {
		t.Fatalf("atomic: %d %s", code, raw)
	}
	if s := ledgerState(t, base, "a", "b", "c"); s != "transactions=7 a=0 b=19 c=0" {
		t.Fatalf("after the atomic bulk: %s", s)
	}

	// Idempotency keys in an atomic bulk: a replay returns the same logs,
	// and writes nothing.
	keyed := `[{"action":"CREATE_TRANSACTION","ik":"at-1","data":{"postings":[{"source":"world","destination":"d","amount":7,"asset":"USD"}]}},
		{"action":"ADD_METADATA","ik":"at-2","data":{"targetType":"ACCOUNT","targetId":"d","metadata":{"k":"v"}}}]`
	for i := range 2 {
		code, results, raw = bulk(t, base, "?atomic=true", "application/json", keyed)
		if code != 200 || results[0].Data.ID != 8 || results[0].LogID != 8 || results[1].ResponseType != "ADD_METADATA" || results[1].LogID != 9 {
			t.Fatalf("keyed atomic bulk, attempt %d: %d %s", i+1, code, raw)
		}
	}
	if s := ledgerState(t, base, "d"); s != "transactions=8 d=7" {
		t.Fatalf("after the keyed atomic bulks: %s", s)
	}
}

func TestBulkParallel(t *testing.T) {
	base := newBulkLedger(t)
	var specs []string
	for i := range 40 {
		if i%10 == 7 {
			specs = append(specs, fmt.Sprintf("empty:%d>x=1", i)) // no funds
			continue
		}
		specs = append(specs, fmt.Sprintf("world>p:%d=%d", i, i+1))
	}
	code, results, raw := bulk(t, base, "?parallel=true&continueOnFailure=true", "application/json", creates(specs...))
	if code != 400 || len(results) != 40 {
		t.Fatalf("parallel: %d %s", code, raw)
	}
	logIDs := map[int64]bool{}
	for i, r := range results {
		if i%10 == 7 {
			if r.ErrorCode != "INSUFFICIENT_FUND" {
				t.Fatalf("result %d: %+v", i, r)
			}
			continue
		}
		// Each result is its own element's, whatever order they ran in.
		if r.ResponseType != "CREATE_TRANSACTION" || r.Data.Postings[0].Destination != fmt.Sprintf("p:%d", i) || r.Data.Postings[0].Amount != int64(i+1) {
			t.Fatalf("result %d belongs to another element: %+v", i, r)
		}
		logIDs[r.LogID] = true
	}
	if len(logIDs) != 36 {
		t.Fatalf("%d distinct log ids for 36 transactions", len(logIDs))
	}
	if s := ledgerState(t, base, "p:0", "p:39"); s != "transactions=36 p:0=1 p:39=40" {
		t.Fatalf("after the parallel bulk: %s", s)
	}

	// Without continueOnFailure, what ran is exactly what was written.
	code, results, raw = bulk(t, base, "?parallel=true", "application/json", creates(specs...))
	if code != 400 {
		t.Fatalf("parallel without continueOnFailure: %d %s", code, raw)
	}
	written, failed := 0, 0
	for i, r := range results {
		switch {
		case r.ResponseType == "CREATE_TRANSACTION" && r.Data.Postings[0].Destination == fmt.Sprintf("p:%d", i):
			written++
		case r.ErrorCode == "INSUFFICIENT_FUND" && i%10 == 7:
			failed++
		case r.ErrorDescription == "context canceled":
		default:
			t.Fatalf("result %d: %+v", i, r)
		}
	}
	if failed == 0 || written+failed == len(results) {
		t.Fatalf("without continueOnFailure: %d written, %d failed, none canceled", written, failed)
	}
	if s := ledgerState(t, base); s != "transactions="+strconv.Itoa(36+written) {
		t.Fatalf("after %d successes: %s", written, s)
	}

	if code, _, raw := call(t, "POST", base+"/api/ledger/v2/main/_bulk?atomic=true&parallel=true", creates("world>a=1")); code != 400 || errorCode(t, raw) != "VALIDATION" {
		t.Fatalf("atomic and parallel: %d %s", code, raw)
	}
}

func TestBulkRejectsMalformedBodies(t *testing.T) {
	base := newBulkLedger(t)
	ok := `{"action":"CREATE_TRANSACTION","data":{"postings":[{"source":"world","destination":"a","amount":1,"asset":"USD"}]}}`
	tooMany := "[" + strings.Repeat(ok+",", 100) + ok + "]"
	for _, tc := range []struct {
		name, contentType, body, code, message string
		status                                 int
	}{
		{"not JSON", "application/json", `[` + ok + `,{`, "VALIDATION", "malformed JSON", 400},
		{"not an array", "application/json", ok, "VALIDATION", "a JSON array of elements", 400},
		{"trailing data", "application/json", "[" + ok + "] []", "VALIDATION", "after the array", 400},
		{"empty body", "application/json", "", "VALIDATION", "a JSON array of elements", 400},
		{"unknown action", "application/json", `[` + ok + `,{"action":"MINT","data":{}}]`, "VALIDATION", `element 1: unknown action "MINT"`, 400},
		{"no data", "application/json", `[` + ok + `,{"action":"ADD_METADATA"}]`, "VALIDATION", "element 1: data is required", 400},
		{"bad target type", "application/json", `[` + ok + `,{"action":"ADD_METADATA","data":{"targetType":"LEDGER","targetId":"x","metadata":{}}}]`,
			"VALIDATION", "element 1: targetType must be ACCOUNT or TRANSACTION", 400},
		{"bad transaction id", "application/json", `[` + ok + `,{"action":"DELETE_METADATA","data":{"targetType":"TRANSACTION","targetId":-1,"key":"k"}}]`,
			"VALIDATION", "element 1: targetId of a TRANSACTION", 400},
		{"no key", "application/json", `[` + ok + `,{"action":"DELETE_METADATA","data":{"targetType":"ACCOUNT","targetId":"a"}}]`,
			"VALIDATION", "element 1: key is required", 400},
		{"no revert id", "application/json", `[` + ok + `,{"action":"REVERT_TRANSACTION","data":{"force":true}}]`,
			"VALIDATION", "element 1: id is required", 400},
		{"metadata not strings", "application/json", `[` + ok + `,{"action":"ADD_METADATA","data":{"targetType":"ACCOUNT","targetId":"a","metadata":{"k":1}}}]`,
			"VALIDATION", "element 1: ", 400},
		{"bad amount", "application/json", `[{"action":"CREATE_TRANSACTION","data":{"postings":[{"source":"world","destination":"a","amount":"x","asset":"USD"}]}}]`,
			"VALIDATION", "element 0: ", 400},
		{"bad ik", "application/json", `[{"action":"CREATE_TRANSACTION","ik":"` + strings.Repeat("k", 300) + `","data":{"postings":[]}}]`,
			"VALIDATION", "element 0: idempotency key", 400},
		{"too many", "application/json", tooMany, "BULK_SIZE_EXCEEDED", "at most 100", 413},
		{"stream element not JSON", jsonStream, ok + ok + `{"action":`, "VALIDATION", "element 2: malformed JSON", 400},
		{"stream element unknown action", jsonStream, ok + "\n" + `{"action":"mint","data":{}}`, "VALIDATION", "element 1: unknown action", 400},
		{"script without end", scriptStream, "//script\nsend [USD 1] (source = @world destination = @a)\n", "VALIDATION", "line 1: //script without //end", 400},
		{"text outside scripts", scriptStream, "hello\n", "VALIDATION", `line 1: expected a //script line, got "hello"`, 400},
		{"nested script", scriptStream, "//script\n//script\n//end\n", "VALIDATION", "line 2: //script inside the script of line 1", 400},
		{"unknown option", scriptStream, "//script id=1\n//end\n", "VALIDATION", `line 1: unknown //script option "id=1"`, 400},
	} {
		code, _, raw := call(t, "POST", base+"/api/ledger/v2/main/_bulk?continueOnFailure=true", tc.body, "Content-Type", tc.contentType)
		var e struct{ ErrorCode, ErrorMessage string }
		_ = json.Unmarshal([]byte(raw), &e)
		if code != tc.status || e.ErrorCode != tc.code || !strings.Contains(e.ErrorMessage, tc.message) {
			t.Errorf("%s: %d %s, want %d %s %q", tc.name, code, raw, tc.status, tc.code, tc.message)
		}
	}
	if s := ledgerState(t, base, "a"); s != "transactions=0 a=0" {
		t.Fatalf("a malformed bulk wrote: %s", s)
	}
	if code, _, raw := call(t, "POST", base+"/api/ledger/v2/nope/_bulk", "["+ok+"]"); code != 404 || errorCode(t, raw) != "LEDGER_NOT_FOUND" {
		t.Fatalf("unknown ledger: %d %s", code, raw)
	}
	if code, results, raw := bulk(t, base, "", "application/json", "[]"); code != 200 || len(results) != 0 {
		t.Fatalf("empty bulk: %d %s", code, raw)
	}
}

func TestBulkStreams(t *testing.T) {
	base := newBulkLedger(t)

	// A JSON stream has no element cap.
	var stream strings.Builder
	for i := range 150 {
		fmt.Fprintf(&stream, `{"action":"CREATE_TRANSACTION","ik":"s-%d","data":{"postings":[{"source":"world","destination":"s:%d","amount":%d,"asset":"USD"}]}}`, i, i%3, i+1)
		if i%2 == 0 {
			stream.WriteString("\n")
		}
	}
	code, results, raw := bulk(t, base, "", jsonStream+"; charset=utf-8", stream.String())
	if code != 200 || len(results) != 150 || results[149].LogID != 150 || results[149].Data.Postings[0].Amount != 150 {
		t.Fatalf("JSON stream: %d %.300s", code, raw)
	}
	code, results, _ = bulk(t, base, "", jsonStream, stream.String())
	if code != 200 || results[10].LogID != 11 || results[10].Data.ID != 11 {
		t.Fatalf("JSON stream replay: %d %+v", code, results[10])
	}
	if s := ledgerState(t, base, "s:0"); s != "transactions=150 s:0="+strconv.Itoa(50*(1+148)/2) {
		t.Fatalf("after the JSON stream: %s", s)
	}

	// A script stream: blocks, one with an idempotency key.
	scripts := `//script ik=pay-1
send [USD 100] (
  source = @world
  destination = @shop
)
//end

//script
send [USD 3] (
  source = @shop
  destination = @fees
)
set_tx_meta("kind", "fee")
//end
`
	code, results, raw = bulk(t, base, "", scriptStream, scripts)
	if code != 200 || len(results) != 2 || results[0].Data.ID != 151 || results[0].Data.Postings[0] != (posting{"world", "shop", 100, "USD"}) ||
		results[1].Data.Postings[0] != (posting{"shop", "fees", 3, "USD"}) || results[1].Data.Metadata["kind"] != "fee" {
		t.Fatalf("script stream: %d %s", code, raw)
	}
	code, results, raw = bulk(t, base, "?continueOnFailure=true", scriptStream, scripts+"//script\nsend [USD 1000] (source = @shop destination = @fees)\n//end\n//script\nsend oops\n//end\n")
	if code != 400 || results[0].Data.ID != 151 || results[1].Data.ID != 153 ||
		results[2].ErrorCode != "INSUFFICIENT_FUND" || results[3].ErrorCode != "COMPILATION_FAILED" {
		t.Fatalf("script stream replay and errors: %d %s", code, raw)
	}
	if s := ledgerState(t, base, "shop", "fees"); s != "transactions=153 shop=94 fees=6" {
		t.Fatalf("after the script streams: %s", s)
	}
	if code, _, raw := call(t, "POST", base+"/api/ledger/v2/main/_bulk", "//script\n//end\n", "Content-Type", scriptStream); code != 400 || !strings.Contains(raw, `"NO_POSTINGS"`) {
		t.Fatalf("empty script: %d %s", code, raw)
	}
}

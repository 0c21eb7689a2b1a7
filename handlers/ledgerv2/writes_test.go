package ledgerv2_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	formance "github.com/formancehq/formance-sdk-go/v3"
	"github.com/formancehq/formance-sdk-go/v3/pkg/models/operations"
	"github.com/formancehq/formance-sdk-go/v3/pkg/models/sdkerrors"
	"github.com/formancehq/formance-sdk-go/v3/pkg/models/shared"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kontorhq/kontor/eventstore"
	"github.com/kontorhq/kontor/handlers/gateway"
	"github.com/kontorhq/kontor/handlers/ledgerv2"
	"github.com/kontorhq/kontor/platform/pgtest"
	"github.com/kontorhq/kontor/projections"
)

// newKontor serves the ledger module, as `kontor serve` does, on a fresh
// database and returns its base URL.
func newKontor(t *testing.T) string {
	t.Helper()
	pool := pgtest.NewPool(t)
	store := eventstore.New(pool, eventstore.Options{})
	t.Cleanup(store.Close)
	module := ledgerv2.NewModule(ledgerv2.New(store, projections.NewReader(pool), "v0.0.0-test"), "v0.0.0-test", pool.Ping)
	srv := httptest.NewServer(gateway.New(gateway.Options{MaxBodyBytes: 1 << 20, Registry: prometheus.NewRegistry()}, module))
	t.Cleanup(srv.Close)
	return srv.URL
}

func call(t *testing.T, method, url, body string, header ...string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func errorCode(t *testing.T, body string) string {
	t.Helper()
	var e struct{ ErrorCode, ErrorMessage string }
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.ErrorMessage == "" {
		t.Fatalf("not an error body: %s", body)
	}
	return e.ErrorCode
}

func TestWritesThroughSDK(t *testing.T) {
	base := newKontor(t)
	ctx := context.Background()
	sdk := formance.New(formance.WithServerURL(base))
	v2 := sdk.Ledger.V2

	if _, err := v2.CreateLedger(ctx, operations.V2CreateLedgerRequest{Ledger: "main"}); err != nil {
		t.Fatalf("CreateLedger: %v", err)
	}
	_, err := v2.CreateLedger(ctx, operations.V2CreateLedgerRequest{Ledger: "main"})
	var apiErr *sdkerrors.V2ErrorResponse
	if !errors.As(err, &apiErr) || apiErr.ErrorCode != shared.V2ErrorsEnumLedgerAlreadyExists {
		t.Fatalf("second CreateLedger: %v", err)
	}

	ik := "ik-1"
	post := operations.V2CreateTransactionRequest{
		Ledger:         "main",
		IdempotencyKey: &ik,
		V2PostTransaction: shared.V2PostTransaction{
			Postings: []shared.V2Posting{{Source: "world", Destination: "users:001", Amount: big.NewInt(100), Asset: "USD/2"}},
			Metadata: map[string]string{"order": "42"},
		},
	}
	res, err := v2.CreateTransaction(ctx, post)
	if err != nil {
		t.Fatalf("CreateTransaction: %v", err)
	}
	tx := res.V2CreateTransactionResponse.Data
	if tx.ID.Int64() != 1 || tx.Metadata["order"] != "42" || tx.PostCommitVolumes["users:001"]["USD/2"].Balance.Int64() != 100 {
		t.Fatalf("created transaction: %+v", tx)
	}
	replay, err := v2.CreateTransaction(ctx, post)
	if err != nil || replay.V2CreateTransactionResponse.Data.ID.Int64() != 1 || replay.RawResponse.Header.Get("Idempotency-Hit") != "true" {
		t.Fatalf("replay: %v", err)
	}
	post.V2PostTransaction.Metadata = map[string]string{"order": "43"}
	if _, err := v2.CreateTransaction(ctx, post); !errors.As(err, &apiErr) || apiErr.ErrorCode != shared.V2ErrorsEnumValidation {
		t.Fatalf("same key, other body: %v", err)
	}

	_, err = v2.CreateTransaction(ctx, operations.V2CreateTransactionRequest{Ledger: "main", V2PostTransaction: shared.V2PostTransaction{
		Postings: []shared.V2Posting{{Source: "users:001", Destination: "users:002", Amount: big.NewInt(101), Asset: "USD/2"}}}})
	if !errors.As(err, &apiErr) || apiErr.ErrorCode != shared.V2ErrorsEnumInsufficientFund || apiErr.Details == nil {
		t.Fatalf("overdraft: %v", err)
	}
	var details struct {
		Account, Asset    string
		Needed, Available int64
	}
	if err := json.Unmarshal([]byte(*apiErr.Details), &details); err != nil ||
		details.Account != "users:001" || details.Asset != "USD/2" || details.Needed != 101 || details.Available != 100 {
		t.Fatalf("insufficient fund details: %s", *apiErr.Details)
	}

	if _, err := v2.AddMetadataOnTransaction(ctx, operations.V2AddMetadataOnTransactionRequest{
		Ledger: "main", ID: big.NewInt(1), RequestBody: map[string]string{"k": "v"}}); err != nil {
		t.Fatalf("AddMetadataOnTransaction: %v", err)
	}
	if _, err := v2.DeleteTransactionMetadata(ctx, operations.V2DeleteTransactionMetadataRequest{
		Ledger: "main", ID: big.NewInt(1), Key: "k"}); err != nil {
		t.Fatalf("DeleteTransactionMetadata: %v", err)
	}
	if _, err := v2.AddMetadataToAccount(ctx, operations.V2AddMetadataToAccountRequest{
		Ledger: "main", Address: "users:001", RequestBody: map[string]string{"tier": "gold"}}); err != nil {
		t.Fatalf("AddMetadataToAccount: %v", err)
	}
	if _, err := v2.DeleteAccountMetadata(ctx, operations.V2DeleteAccountMetadataRequest{
		Ledger: "main", Address: "users:001", Key: "tier"}); err != nil {
		t.Fatalf("DeleteAccountMetadata: %v", err)
	}

	rev, err := v2.RevertTransaction(ctx, operations.V2RevertTransactionRequest{Ledger: "main", ID: big.NewInt(1)})
	if err != nil {
		t.Fatalf("RevertTransaction: %v", err)
	}
	reverse := rev.V2RevertTransactionResponse.Data
	if rev.StatusCode != 201 || reverse.ID.Int64() != 2 || reverse.Postings[0].Source != "users:001" || reverse.Metadata["com.formance.spec/state/reverts"] != "1" {
		t.Fatalf("revert: %d %+v", rev.StatusCode, reverse)
	}
	if _, err := v2.RevertTransaction(ctx, operations.V2RevertTransactionRequest{Ledger: "main", ID: big.NewInt(1)}); !errors.As(err, &apiErr) || apiErr.ErrorCode != shared.V2ErrorsEnumAlreadyRevert {
		t.Fatalf("second revert: %v", err)
	}

	if _, err := v2.UpdateLedgerMetadata(ctx, operations.V2UpdateLedgerMetadataRequest{Ledger: "main", RequestBody: map[string]string{"owner": "ops"}}); err != nil {
		t.Fatalf("UpdateLedgerMetadata: %v", err)
	}
	if _, err := v2.DeleteLedgerMetadata(ctx, operations.V2DeleteLedgerMetadataRequest{Ledger: "main", Key: "owner"}); err != nil {
		t.Fatalf("DeleteLedgerMetadata: %v", err)
	}
}

func TestWriteErrors(t *testing.T) {
	base := newKontor(t)
	v2 := base + "/api/ledger/v2"
	if code, _, _ := call(t, "POST", v2+"/main", ""); code != 204 {
		t.Fatalf("create ledger: %d", code)
	}
	posting := `{"postings":[{"source":"world","destination":"a","amount":1,"asset":"USD"}]}`
	cases := []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"bad ledger name", "POST", "/bad name!", "", 400, "VALIDATION"},
		{"bad features", "POST", "/other", `{"features":{"HASH_LOGS":"MAYBE"}}`, 400, "VALIDATION"},
		{"unknown ledger", "POST", "/nope/transactions", posting, 404, "LEDGER_NOT_FOUND"},
		{"malformed JSON", "POST", "/main/transactions", `{"postings":`, 400, "VALIDATION"},
		{"no postings", "POST", "/main/transactions", `{"metadata":{}}`, 400, "NO_POSTINGS"},
		{"negative amount", "POST", "/main/transactions", `{"postings":[{"source":"world","destination":"a","amount":-1,"asset":"USD"}]}`, 400, "VALIDATION"},
		{"bad address", "POST", "/main/transactions", `{"postings":[{"source":"world","destination":"a b","amount":1,"asset":"USD"}]}`, 400, "VALIDATION"},
		{"bad asset", "POST", "/main/transactions", `{"postings":[{"source":"world","destination":"a","amount":1,"asset":"usd"}]}`, 400, "VALIDATION"},
		{"non-string metadata", "POST", "/main/transactions", `{"postings":[{"source":"world","destination":"a","amount":1,"asset":"USD"}],"metadata":{"a":1}}`, 400, "VALIDATION"},
		{"postings and script", "POST", "/main/transactions", `{"postings":[{"source":"world","destination":"a","amount":1,"asset":"USD"}],"script":{"plain":"send"}}`, 400, "VALIDATION"},
		{"bad transaction id", "POST", "/main/transactions/abc/revert", "", 400, "VALIDATION"},
		{"missing transaction", "POST", "/main/transactions/42/revert", "", 404, "NOT_FOUND"},
		{"metadata on missing transaction", "POST", "/main/transactions/42/metadata", `{"a":"b"}`, 404, "NOT_FOUND"},
		{"metadata body not an object", "POST", "/main/accounts/a/metadata", `["a"]`, 400, "VALIDATION"},
		{"metadata on a bad address", "POST", "/main/accounts/a%20b/metadata", `{"a":"b"}`, 400, "VALIDATION"},
		{"ledger v1 not built", "GET", "/../main/transactions", "", 501, "NOT_IMPLEMENTED"},
		{"no such v2 route", "GET", "/main/nothing/here", "", 404, "NOT_FOUND"},
	}
	for _, tc := range cases {
		code, _, body := call(t, tc.method, v2+tc.path, tc.body)
		if code != tc.status || errorCode(t, body) != tc.code {
			t.Errorf("%s: got %d %s, want %d %s", tc.name, code, body, tc.status, tc.code)
		}
	}

	code, _, body := call(t, "POST", v2+"/main/transactions?dryRun=true", posting)
	if code != 200 || !strings.Contains(body, `"id":1`) {
		t.Fatalf("dry run: %d %s", code, body)
	}
	code, _, body = call(t, "POST", v2+"/main/transactions", `{"postings":[{"source":"world","destination":"a","amount":123456789012345678901234567890,"asset":"USD"}]}`,
		"Formance-Bigint-As-String", "true")
	if code != 200 || !strings.Contains(body, `"id":1`) || !strings.Contains(body, `"amount":"123456789012345678901234567890"`) {
		t.Fatalf("big amount as string (the dry run must not have used id 1): %d %s", code, body)
	}
}

func TestSchemasAreNotImplemented(t *testing.T) {
	base := newKontor(t) + "/api/ledger/v2"
	for _, c := range []struct{ method, path string }{
		{http.MethodPost, "/main/schemas/v1"},
		{http.MethodGet, "/main/schemas"},
		{http.MethodPost, "/main/queries/q/run"},
	} {
		status, _, body := call(t, c.method, base+c.path, "{}")
		if status != http.StatusNotImplemented || errorCode(t, body) != "NOT_IMPLEMENTED" {
			t.Errorf("%s %s: %d %s", c.method, c.path, status, body)
		}
	}
}

package ledgerv2_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	formance "github.com/formancehq/formance-sdk-go/v3"
	"github.com/formancehq/formance-sdk-go/v3/pkg/models/operations"
	"github.com/formancehq/formance-sdk-go/v3/pkg/models/sdkerrors"
	"github.com/formancehq/formance-sdk-go/v3/pkg/models/shared"
)

const referenceExport = "../../domain/ledger/testdata/reference-export-v2.jsonl"

func TestLogImport(t *testing.T) {
	base := newKontor(t)
	ctx := context.Background()
	v2 := formance.New(formance.WithServerURL(base)).Ledger.V2
	file, err := os.ReadFile(referenceExport)
	if err != nil {
		t.Fatal(err)
	}
	features := map[string]string{"MOVES_HISTORY": "ON", "MOVES_HISTORY_POST_COMMIT_EFFECTIVE_VOLUMES": "SYNC",
		"HASH_LOGS": "SYNC", "ACCOUNT_METADATA_HISTORY": "SYNC", "TRANSACTION_METADATA_HISTORY": "SYNC"}
	for _, name := range []string{"copy", "tampered", "big"} {
		if _, err := v2.CreateLedger(ctx, operations.V2CreateLedgerRequest{Ledger: name,
			V2CreateLedgerRequest: shared.V2CreateLedgerRequest{Features: features}}); err != nil {
			t.Fatal(err)
		}
	}

	// The reference's export imports, and exports back byte for byte.
	res, err := v2.ImportLogs(ctx, operations.V2ImportLogsRequest{Ledger: "copy", V2ImportLogsRequest: file})
	if err != nil || res.StatusCode != http.StatusNoContent {
		t.Fatalf("import: %v", err)
	}
	status, _, body := call(t, http.MethodPost, base+"/api/ledger/v2/copy/logs/export", "")
	if status != http.StatusOK || body != string(file) {
		t.Fatalf("export after import: %d\n%s", status, body)
	}
	balances, err := v2.GetBalancesAggregated(ctx, operations.V2GetBalancesAggregatedRequest{Ledger: "copy"})
	if err != nil {
		t.Fatal(err)
	}
	for asset, sum := range balances.V2AggregateBalancesResponse.Data {
		if sum.Sign() != 0 {
			t.Fatalf("%s sums to %s", asset, sum)
		}
	}

	// A ledger with logs refuses an import; so does a file with a broken
	// chain, which leaves nothing behind.
	var apiErr *sdkerrors.V2ErrorResponse
	_, err = v2.ImportLogs(ctx, operations.V2ImportLogsRequest{Ledger: "copy", V2ImportLogsRequest: file})
	if !errors.As(err, &apiErr) || apiErr.ErrorCode != shared.V2ErrorsEnumImport {
		t.Fatalf("import into a used ledger: %v", err)
	}
	tampered := strings.Replace(string(file), `"z":"last"`, `"z":"first"`, 1)
	_, err = v2.ImportLogs(ctx, operations.V2ImportLogsRequest{Ledger: "tampered", V2ImportLogsRequest: []byte(tampered)})
	if !errors.As(err, &apiErr) || apiErr.ErrorCode != shared.V2ErrorsEnumImport || !strings.Contains(apiErr.ErrorMessage, "log 1: hash mismatch") {
		t.Fatalf("tampered import: %v", err)
	}
	status, _, body = call(t, http.MethodPost, base+"/api/ledger/v2/tampered/logs/export", "")
	if status != http.StatusOK || body != "" {
		t.Fatalf("a failed import left logs: %s", body)
	}
	status, _, body = call(t, http.MethodPost, base+"/api/ledger/v2/nope/logs/import", string(file))
	if status != http.StatusNotFound || errorCode(t, body) != "LEDGER_NOT_FOUND" {
		t.Fatalf("unknown ledger: %d %s", status, body)
	}

	// An import is not bound by the request body limit (1 MiB here).
	var sb strings.Builder
	pad := strings.Repeat("x", 400)
	const n = 3000
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&sb, `{"type":"NEW_TRANSACTION","data":{"transaction":{"postings":[{"source":"world","destination":"users:%d","amount":%d,"asset":"USD"}],`+
			`"metadata":{"pad":%q},"timestamp":"2026-01-01T00:00:00Z","id":%d,"insertedAt":"2026-01-01T00:00:00Z"},"accountMetadata":{}},`+
			`"date":"2026-01-01T00:00:00Z","id":%d}`+"\n", i%10, i, pad, i, i)
	}
	if sb.Len() < 1<<20 {
		t.Fatalf("the generated import is only %d bytes", sb.Len())
	}
	status, _, body = call(t, http.MethodPost, base+"/api/ledger/v2/big/logs/import", sb.String())
	if status != http.StatusNoContent {
		t.Fatalf("big import: %d %s", status, body)
	}
	count, err := v2.CountTransactions(ctx, operations.V2CountTransactionsRequest{Ledger: "big"})
	if err != nil || count.Headers["Count"][0] != fmt.Sprint(n) {
		t.Fatalf("count after the big import: %v %v", count, err)
	}
}

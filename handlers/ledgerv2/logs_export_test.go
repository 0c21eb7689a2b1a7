package ledgerv2_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"testing"

	"github.com/kontorhq/kontor/domain/ledger"
	"github.com/kontorhq/kontor/projections"
	"github.com/kontorhq/kontor/projections/projectionstest"
)

func TestLogExportAndVerify(t *testing.T) {
	t.Parallel()
	base, pool := newReader(t)
	v2 := base + "/v2"
	logs := projectionstest.ReadLogs(t, anchorExport)
	projectionstest.NewSeeder(t, pool, "demo", ledger.DefaultBucket, nil).Apply(logs...)
	projectionstest.NewSeeder(t, pool, "unhashed", ledger.DefaultBucket,
		ledger.Features{ledger.FeatureHashLogs: "DISABLED"}).Apply(logs[:2]...)
	projectionstest.NewSeeder(t, pool, "empty", ledger.DefaultBucket, nil)

	// Export: the reference's export, byte for byte.
	status, header, body := call(t, http.MethodPost, v2+"/demo/logs/export", "")
	want, err := os.ReadFile(anchorExport)
	if err != nil {
		t.Fatal(err)
	}
	if status != http.StatusOK || header.Get("Content-Type") != "application/octet-stream" || body != string(want) {
		t.Fatalf("export: %d %s\n%s", status, header.Get("Content-Type"), body)
	}
	status, header, body = call(t, http.MethodPost, v2+"/empty/logs/export", "")
	if status != http.StatusOK || header.Get("Content-Type") != "application/octet-stream" || body != "" {
		t.Fatalf("empty export: %d %s %q", status, header.Get("Content-Type"), body)
	}
	status, _, body = call(t, http.MethodPost, v2+"/nope/logs/export", "")
	if status != http.StatusNotFound || errorCode(t, body) != "LEDGER_NOT_FOUND" {
		t.Fatalf("unknown ledger export: %d %s", status, body)
	}

	verify := func(ledgerAndQuery string) (int, projections.Verification, string) {
		t.Helper()
		status, _, body := call(t, http.MethodGet, v2+"/"+ledgerAndQuery, "")
		var out struct{ Data projections.Verification }
		if status == http.StatusOK {
			if err := json.Unmarshal([]byte(body), &out); err != nil {
				t.Fatalf("%s: %v: %s", ledgerAndQuery, err, body)
			}
		}
		return status, out.Data, body
	}
	status, v, body := verify("demo/logs/verify")
	if status != http.StatusOK || v.Break != nil || v.Checked != 9 || v.LastID != 10 || !bytes.Equal(v.LastHash, logs[8].Hash) {
		t.Fatalf("verify: %d %s", status, body)
	}
	status, v, body = verify("demo/logs/verify?from=2&to=4")
	if status != http.StatusOK || v.Break != nil || v.Checked != 3 || v.LastID != 4 || !bytes.Equal(v.LastHash, logs[3].Hash) {
		t.Fatalf("verify 2..4: %d %s", status, body)
	}
	for _, bad := range []string{"from=x", "from=0", "to=-1", "from=5&to=4", "to=99999999999999999999"} {
		status, _, body = verify("demo/logs/verify?" + bad)
		if status != http.StatusBadRequest || errorCode(t, body) != "VALIDATION" {
			t.Fatalf("%s: %d %s", bad, status, body)
		}
	}
	status, _, body = verify("unhashed/logs/verify")
	if status != http.StatusBadRequest || errorCode(t, body) != "VALIDATION" {
		t.Fatalf("unhashed: %d %s", status, body)
	}
	status, _, body = verify("nope/logs/verify")
	if status != http.StatusNotFound || errorCode(t, body) != "LEDGER_NOT_FOUND" {
		t.Fatalf("unknown ledger verify: %d %s", status, body)
	}

	// A forged hash is the break.
	if _, err := pool.Exec(context.Background(), `UPDATE _default.logs SET hash = sha256('x'::bytea)
		WHERE ledger = 'demo' AND id = 5`); err != nil {
		t.Fatal(err)
	}
	status, v, body = verify("demo/logs/verify")
	if status != http.StatusOK || v.Break == nil || v.Break.LogID != 5 || v.Checked != 5 || v.LastID != 4 ||
		!bytes.Equal(v.Break.Expected, logs[4].Hash) {
		t.Fatalf("forged: %d %s", status, body)
	}
}

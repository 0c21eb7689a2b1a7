package exporters

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestExportJSONIsTheLogPlusLedger(t *testing.T) {
	lines := referenceLines(t)
	for i, e := range referenceExports(t, "demo") {
		want := strings.TrimSuffix(lines[i], "}") + `,"ledger":"demo"}`
		if got := mustJSON(t, e); got != want {
			t.Fatalf("log %d:\n got %s\nwant %s", e.Log.ID, got, want)
		}
		var back Export
		if err := json.Unmarshal([]byte(want), &back); err != nil {
			t.Fatal(err)
		}
		if back.Ledger != "demo" || mustJSON(t, back) != want {
			t.Fatalf("round trip of log %d: %s", e.Log.ID, mustJSON(t, back))
		}
	}
}

func TestExportJSONEscapesTheLedgerName(t *testing.T) {
	e := referenceExports(t, `a"b`)[0]
	var m map[string]any
	if err := json.Unmarshal([]byte(mustJSON(t, e)), &m); err != nil {
		t.Fatal(err)
	}
	if m["ledger"] != `a"b` {
		t.Fatalf("ledger = %v", m["ledger"])
	}
}

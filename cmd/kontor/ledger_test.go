package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"strings"
	"testing"

	"github.com/kontorhq/kontor/domain/ledger"
	"github.com/kontorhq/kontor/eventstore"
	"github.com/kontorhq/kontor/platform/pgtest"
	"github.com/kontorhq/kontor/platform/postgres"
)

func TestLedgerExportAndVerify(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	uri := pgtest.NewDatabase(t)
	if _, _, err := runKontor(t, "migrate", "--postgres-uri", uri); err != nil {
		t.Fatal(err)
	}
	pool, err := postgres.Open(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	s := eventstore.New(pool, eventstore.Options{})
	t.Cleanup(s.Close)
	if _, err := s.CreateLedger(ctx, "main", ledger.LedgerConfiguration{}); err != nil {
		t.Fatal(err)
	}
	var want []ledger.Log
	for _, cmd := range []ledger.Command{
		ledger.CreateTransaction{Postings: ledger.Postings{ledger.NewPosting("world", "users:1", "USD", big.NewInt(10))}},
		ledger.SaveMetadata{Target: ledger.AccountTarget("users:1"), Metadata: ledger.Metadata{"k": "v"}},
		ledger.RevertTransaction{ID: 1},
	} {
		res, err := s.Execute(ctx, "main", eventstore.Request{Command: cmd})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, res.Log)
	}

	out, errOut, err := runKontor(t, "ledger", "export", "main", "--postgres-uri", uri)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("exported %d lines, want %d:\n%s", len(lines), len(want), out)
	}
	for i, line := range lines {
		var got ledger.Log
		if err := json.Unmarshal([]byte(line), &got); err != nil {
			t.Fatal(err)
		}
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want[i])
		if string(g) != string(w) {
			t.Fatalf("line %d:\n got %s\nwant %s", i+1, g, w)
		}
	}
	if !strings.Contains(errOut, "exported 3 logs of ledger main") {
		t.Fatalf("no progress line on stderr: %q", errOut)
	}

	// The export imports into a fresh ledger, which then exports the same.
	if _, err := s.CreateLedger(ctx, "copy", ledger.LedgerConfiguration{}); err != nil {
		t.Fatal(err)
	}
	file := writeFile(t, t.TempDir(), "main.jsonl", out)
	_, errOut, err = runKontor(t, "ledger", "import", "copy", file, "--postgres-uri", uri)
	if err != nil || !strings.Contains(errOut, "imported 3 logs into ledger copy") {
		t.Fatalf("import: %v: %s", err, errOut)
	}
	copied, _, err := runKontor(t, "ledger", "export", "copy", "--postgres-uri", uri)
	if err != nil || copied != out {
		t.Fatalf("export of the copy: %v\n%s", err, copied)
	}
	if _, _, err := runKontor(t, "ledger", "import", "copy", file, "--postgres-uri", uri); err == nil || !strings.Contains(err.Error(), "IMPORT") {
		t.Fatalf("second import: %v", err)
	}

	// Rebuilding the copy leaves its balances and export as they were.
	var balance string
	readBalance := func() string {
		t.Helper()
		var b string
		if err := pool.QueryRow(ctx, `SELECT (input - output)::text FROM _default.volumes
			WHERE ledger = 'copy' AND address = 'users:1' AND asset = 'USD'`).Scan(&b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	balance = readBalance()
	_, errOut, err = runKontor(t, "ledger", "rebuild", "copy", "--postgres-uri", uri)
	if err != nil || !strings.Contains(errOut, "rebuilt ledger copy from 3 logs") {
		t.Fatalf("rebuild: %v: %s", err, errOut)
	}
	if got := readBalance(); got != balance || got != "0" {
		t.Fatalf("balance after rebuild %s, before %s", got, balance)
	}
	if copied, _, err = runKontor(t, "ledger", "export", "copy", "--postgres-uri", uri); err != nil || copied != out {
		t.Fatalf("export after rebuild: %v\n%s", err, copied)
	}

	out, _, err = runKontor(t, "ledger", "verify", "main", "--postgres-uri", uri)
	lastHash := base64.StdEncoding.EncodeToString(want[2].Hash)
	if err != nil || !strings.Contains(out, "3 logs checked, chain intact, last log 3 hash "+lastHash) {
		t.Fatalf("verify: %v: %s", err, out)
	}
	out, _, err = runKontor(t, "ledger", "verify", "main", "--from", "2", "--to", "2", "--postgres-uri", uri)
	if err != nil || !strings.Contains(out, "1 logs checked, chain intact, last log 2 ") {
		t.Fatalf("verify 2..2: %v: %s", err, out)
	}

	if _, err := pool.Exec(ctx, `UPDATE _default.logs SET data = CASE type
			WHEN 'NEW_TRANSACTION' THEN jsonb_set(data::jsonb, '{transaction,metadata,tampered}', '"yes"')
			ELSE jsonb_set(data::jsonb, '{metadata,tampered}', '"yes"') END::json
		WHERE ledger = 'main' AND id = 2`); err != nil {
		t.Fatal(err)
	}
	out, _, err = runKontor(t, "ledger", "verify", "main", "--postgres-uri", uri)
	if err == nil || !strings.Contains(err.Error(), "broken at log 2") || !strings.Contains(out, "chain broken at log 2") {
		t.Fatalf("tampered: %v: %s", err, out)
	}
	if _, _, err := runKontor(t, "ledger", "verify", "main", "--from", "3", "--to", "2", "--postgres-uri", uri); err == nil {
		t.Fatal("to before from: no error")
	}
	if _, _, err := runKontor(t, "ledger", "export", "nope", "--postgres-uri", uri); err == nil ||
		!strings.Contains(err.Error(), "LEDGER_NOT_FOUND") {
		t.Fatalf("unknown ledger: %v", err)
	}
}

func TestProgressWriter(t *testing.T) {
	var reports []int
	var sink strings.Builder
	p := &progressWriter{w: &sink, report: func(n int) { reports = append(reports, n) }}
	chunk := strings.Repeat("{}\n", 6000)
	for range 4 {
		if _, err := p.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	if len(reports) != 2 || reports[0] != 12000 || reports[1] != 24000 || sink.Len() != 4*len(chunk) {
		t.Fatalf("reports %v", reports)
	}
}

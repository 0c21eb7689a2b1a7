package eventstore

import (
	"bytes"
	"context"
	"encoding/json"
	"math/big"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kontorhq/kontor/domain"
	"github.com/kontorhq/kontor/domain/ledger"
	"github.com/kontorhq/kontor/platform/pgtest"
	"github.com/kontorhq/kontor/projections"
)

// allFeatures turns every ledger feature on, as the reference fixture's
// ledger had them.
var allFeatures = ledger.Features{
	ledger.FeatureMovesHistory:                           "ON",
	ledger.FeatureMovesHistoryPostCommitEffectiveVolumes: "SYNC",
	ledger.FeatureHashLogs:                               "SYNC",
	ledger.FeatureAccountMetadataHistory:                 "SYNC",
	ledger.FeatureTransactionMetadataHistory:             "SYNC",
}

const referenceExport = "../domain/ledger/testdata/reference-export-v2.jsonl"

// readModels returns every row a ledger has in each table of its bucket,
// as JSON without the ledger column, in a stable order: two ledgers with
// equal read models give equal maps.
func readModels(t *testing.T, pool *pgxpool.Pool, name string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, table := range []string{"logs", "transactions", "accounts", "volumes", "moves", "accounts_metadata", "transactions_metadata"} {
		rows, err := pool.Query(context.Background(), `SELECT (to_jsonb(t) - 'ledger')::text AS row FROM _default.`+table+
			` t WHERE ledger = $1 ORDER BY 1`, name)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var row string
			if err := rows.Scan(&row); err != nil {
				t.Fatal(err)
			}
			out[table] = append(out[table], row)
		}
		if rows.Err() != nil {
			t.Fatal(rows.Err())
		}
	}
	return out
}

func sameReadModels(t *testing.T, got, want map[string][]string) {
	t.Helper()
	for table, rows := range want {
		if len(got[table]) != len(rows) {
			t.Fatalf("%s: %d rows, want %d", table, len(got[table]), len(rows))
		}
		for i := range rows {
			if got[table][i] != rows[i] {
				t.Fatalf("%s differ:\n got %s\nwant %s", table, got[table][i], rows[i])
			}
		}
	}
	if len(got) != len(want) {
		t.Fatalf("tables: got %d, want %d", len(got), len(want))
	}
}

func exportLedger(t *testing.T, pool *pgxpool.Pool, name string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := projections.NewReader(pool).ExportLogs(context.Background(), name, &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestImportReferenceExport(t *testing.T) {
	pool := pgtest.NewPool(t)
	s := New(pool, Options{})
	t.Cleanup(s.Close)
	ctx := context.Background()
	if _, err := s.CreateLedger(ctx, "imported", ledger.LedgerConfiguration{Features: allFeatures}); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(referenceExport)
	if err != nil {
		t.Fatal(err)
	}
	var reported []int
	n, err := s.Import(ctx, "imported", bytes.NewReader(file), func(done int) { reported = append(reported, done) })
	if err != nil {
		t.Fatal(err)
	}
	if n != 10 || len(reported) != 1 || reported[0] != 10 {
		t.Fatalf("imported %d logs, progress %v", n, reported)
	}
	// Our export of the imported ledger is the reference's, byte for byte:
	// same ids, dates, payloads and hashes.
	if got := exportLedger(t, pool, "imported"); !bytes.Equal(got, file) {
		t.Fatalf("re-export differs:\n got %s\nwant %s", got, file)
	}

	// The volumes are those the reference had after writing these logs.
	var want struct {
		Cursor struct {
			Data []struct {
				Account, Asset string
				Input, Output  json.Number
			}
		}
	}
	raw, err := os.ReadFile(strings.Replace(referenceExport, ".jsonl", ".volumes.json", 1))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	for _, v := range want.Cursor.Data {
		var in, out string
		if err := pool.QueryRow(ctx, `SELECT input::text, output::text FROM _default.volumes
			WHERE ledger = 'imported' AND address = $1 AND asset = $2`, v.Account, v.Asset).Scan(&in, &out); err != nil {
			t.Fatalf("%s %s: %v", v.Account, v.Asset, err)
		}
		if in != v.Input.String() || out != v.Output.String() {
			t.Fatalf("%s %s: input %s output %s, want %s %s", v.Account, v.Asset, in, out, v.Input, v.Output)
		}
	}
	var volumes int
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM _default.volumes WHERE ledger = 'imported'`).Scan(&volumes)
	if volumes != len(want.Cursor.Data) {
		t.Fatalf("%d volumes rows, the reference has %d", volumes, len(want.Cursor.Data))
	}

	// The ledger goes on from where the import left it.
	res, err := s.Execute(ctx, "imported", Request{Command: ledger.CreateTransaction{
		Postings: ledger.Postings{ledger.NewPosting("world", "users:001", "USD/2", big.NewInt(1))}}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Log.ID != 11 || res.Log.Data.(ledger.CreatedTransaction).Transaction.ID != 7 {
		t.Fatalf("after the import: log %d", res.Log.ID)
	}
	v, err := projections.NewReader(pool).VerifyLogs(ctx, "imported", 0, 0)
	if err != nil || v.Break != nil || v.Checked != 11 {
		t.Fatalf("verify after import: %+v %v", v, err)
	}
	// A ledger with logs refuses an import.
	if _, err := s.Import(ctx, "imported", bytes.NewReader(file), nil); domain.ErrorCode(err) != domain.CodeImport {
		t.Fatalf("import into a ledger with logs: %v", err)
	}
}

// TestImportFailureLeavesNothing tampers with one log of the reference
// export: the import fails naming it, and nothing of it remains.
func TestImportFailureLeavesNothing(t *testing.T) {
	pool := pgtest.NewPool(t)
	s := New(pool, Options{})
	t.Cleanup(s.Close)
	ctx := context.Background()
	if _, err := s.CreateLedger(ctx, "main", ledger.LedgerConfiguration{Features: allFeatures}); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(referenceExport)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(file), "\n")
	for _, c := range []struct {
		name, input, want string
	}{
		{"metadata changed", strings.Join(lines[:4], "") + strings.Replace(lines[4], `"metadata":{`, `"metadata":{"x":"y",`, 1), "log 5: hash mismatch"},
		{"log dropped", strings.Join(lines[:3], "") + strings.Join(lines[4:], ""), "log 5: hash mismatch"},
		{"not JSON", strings.Join(lines[:2], "") + "{nope\n", "log #3 of the input is not a valid log"},
		{"ids going back", strings.Join(lines[:3], "") + lines[1], "log 2: log ids must increase"},
		{"unknown transaction", lines[0] + `{"type":"SET_METADATA","data":{"targetType":"TRANSACTION","targetId":99,"metadata":{"a":"b"}},` +
			`"date":"2026-11-21T13:58:13.339342Z","id":2}` + "\n", "log 2: transaction 99 not found"},
		{"duplicate reference", lines[0] + strings.Replace(lines[0], `"id":1`, `"id":2`, -1), "log 2: duplicate reference"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.Import(ctx, "main", strings.NewReader(c.input), nil)
			if domain.ErrorCode(err) != domain.CodeImport || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want IMPORT %q", err, c.want)
			}
			for table, rows := range readModels(t, pool, "main") {
				if len(rows) > 0 {
					t.Fatalf("a failed import left %d rows in %s", len(rows), table)
				}
			}
		})
	}
	// The same ledger then takes the whole file.
	if n, err := s.Import(ctx, "main", bytes.NewReader(file), nil); err != nil || n != 10 {
		t.Fatalf("import after failures: %d %v", n, err)
	}
}

// writeEveryKind writes logs of every kind to the ledger "main",
// back-dated transactions, reverts and a batch of two included, and
// returns how many.
func writeEveryKind(t *testing.T, s *Store) int {
	t.Helper()
	ctx := context.Background()
	at := func(s string) ledger.Time {
		ts, _ := time.Parse(time.RFC3339, s)
		return ledger.NewTime(ts)
	}
	usd := func(src, dst string, amount int64) ledger.Postings {
		return ledger.Postings{ledger.NewPosting(src, dst, "USD/2", big.NewInt(amount))}
	}
	reqs := []Request{
		{Command: ledger.CreateTransaction{Postings: usd("world", "users:1", 100), Metadata: ledger.Metadata{"k": "<é>"}}, IdempotencyKey: "ik-1", IdempotencyHash: "h"},
		{Command: ledger.CreateTransaction{Postings: usd("users:1", "users:2", 30), Reference: "ref", Timestamp: at("2020-01-01T00:00:00Z")}},
		{Command: ledger.CreateTransaction{Postings: usd("world", "users:2", 5), Timestamp: at("2019-06-01T00:00:00Z"),
			AccountMetadata: ledger.AccountMetadata{"users:2": {"tier": "gold"}}}},
		{Command: ledger.SaveMetadata{Target: ledger.AccountTarget("users:1"), Metadata: ledger.Metadata{"a": "1"}}},
		{Command: ledger.SaveMetadata{Target: ledger.TransactionTarget(1), Metadata: ledger.Metadata{"b": "2"}}},
		{Command: ledger.DeleteMetadata{Target: ledger.TransactionTarget(1), Key: "k"}},
		{Command: ledger.DeleteMetadata{Target: ledger.AccountTarget("users:1"), Key: "a"}},
		{Command: ledger.RevertTransaction{ID: 2, AtEffectiveDate: true}},
		{Command: ledger.RevertTransaction{ID: 3, Force: true, Metadata: ledger.Metadata{"why": "test"}}},
	}
	for i, req := range reqs {
		if _, err := s.Execute(ctx, "main", req); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if i == 4 {
			// Two requests in one batch share its date.
			if _, _, err := s.ExecuteAtomic(ctx, "main", []Request{
				{Command: ledger.CreateTransaction{Postings: usd("world", "users:3", 1)}},
				{Command: ledger.CreateTransaction{Postings: usd("users:3", "users:1", 1)}},
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return len(reqs) + 2
}

// TestImportRoundTrip exports a ledger holding every kind of log and
// imports the export into a fresh one: the read models are identical.
func TestImportRoundTrip(t *testing.T) {
	s, pool, _ := newStore(t, allFeatures)
	ctx := context.Background()
	written := writeEveryKind(t, s)
	exported := exportLedger(t, pool, "main")
	if _, err := s.CreateLedger(ctx, "copy", ledger.LedgerConfiguration{Features: allFeatures}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Import(ctx, "copy", bytes.NewReader(exported), nil); err != nil || n != written {
		t.Fatalf("import: %d logs, %v", n, err)
	}
	sameReadModels(t, readModels(t, pool, "copy"), readModels(t, pool, "main"))
}

// TestRebuild drops and rebuilds a ledger's read models from its logs:
// balances, volumes, moves, metadata and metadata history are identical,
// and the ledger takes writes after it. A log that no longer matches its
// hash fails the rebuild, which then changes nothing.
func TestRebuild(t *testing.T) {
	s, pool, _ := newStore(t, allFeatures)
	ctx := context.Background()
	written := writeEveryKind(t, s)
	before := readModels(t, pool, "main")
	var reported []int
	n, err := s.Rebuild(ctx, "main", func(done int) { reported = append(reported, done) })
	if err != nil || n != written || len(reported) != 1 || reported[0] != written {
		t.Fatalf("rebuild: %d %v, progress %v", n, err, reported)
	}
	sameReadModels(t, readModels(t, pool, "main"), before)
	if res, err := s.Execute(ctx, "main", Request{Command: ledger.CreateTransaction{
		Postings: send("users:1", "users:4", 1, "USD/2")}}); err != nil || res.Log.ID != uint64(written)+1 {
		t.Fatalf("write after rebuild: %v", err)
	}
	verifyChain(t, pool)

	before = readModels(t, pool, "main")
	if _, err := pool.Exec(ctx, `UPDATE _default.logs SET data = replace(data::text, '"users:4"', '"users:5"')::json
		WHERE ledger = 'main' AND id = $1`, written+1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Rebuild(ctx, "main", nil); err == nil || !strings.Contains(err.Error(), "hash mismatch") {
		t.Fatalf("rebuild of a tampered log: %v", err)
	}
	after := readModels(t, pool, "main")
	delete(after, "logs")
	delete(before, "logs")
	sameReadModels(t, after, before)
}

// TestImportWithGaps imports the anchor ledger's export, whose log ids
// skip 7 (a rolled-back write of the reference): ids are kept, gaps too.
func TestImportWithGaps(t *testing.T) {
	s, pool, _ := newStore(t, allFeatures)
	file, err := os.ReadFile("../domain/ledger/testdata/anchor-export-demo.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s.Import(context.Background(), "main", bytes.NewReader(file), nil); err != nil || n != 9 {
		t.Fatalf("import: %d %v", n, err)
	}
	if got := exportLedger(t, pool, "main"); !bytes.Equal(got, file) {
		t.Fatalf("re-export differs:\n got %s\nwant %s", got, file)
	}
}

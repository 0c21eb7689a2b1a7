package projections

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kontorhq/kontor/domain"
	"github.com/kontorhq/kontor/domain/ledger"
	"github.com/kontorhq/kontor/eventstore"
	"github.com/kontorhq/kontor/platform/pgtest"
	"github.com/kontorhq/kontor/projections/projectionstest"
)

// written creates the ledger "main" through the event store and writes
// logs of every kind but schemas; it returns the logs the store answered.
func written(t *testing.T, features ledger.Features) (*pgxpool.Pool, []ledger.Log) {
	t.Helper()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	s := eventstore.New(pool, eventstore.Options{})
	t.Cleanup(s.Close)
	if _, err := s.CreateLedger(ctx, "main", ledger.LedgerConfiguration{Features: features}); err != nil {
		t.Fatal(err)
	}
	send := func(src, dst string, amount int64) ledger.Command {
		return ledger.CreateTransaction{Postings: ledger.Postings{
			ledger.NewPosting(src, dst, "USD/2", big.NewInt(amount))}, Metadata: ledger.Metadata{"k": "<&>"}}
	}
	var logs []ledger.Log
	for i, req := range []eventstore.Request{
		{Command: send("world", "users:1", 100), IdempotencyKey: "ik-1", IdempotencyHash: "h1"},
		{Command: send("users:1", "users:2", 30)},
		{Command: ledger.SaveMetadata{Target: ledger.AccountTarget("users:1"), Metadata: ledger.Metadata{"tier": "gold"}}},
		{Command: ledger.SaveMetadata{Target: ledger.TransactionTarget(1), Metadata: ledger.Metadata{"a": "b"}}},
		{Command: ledger.RevertTransaction{ID: 2}},
		{Command: ledger.DeleteMetadata{Target: ledger.TransactionTarget(1), Key: "a"}},
		{Command: send("world", "users:3", 7)},
	} {
		res, err := s.Execute(ctx, "main", req)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		logs = append(logs, res.Log)
	}
	return pool, logs
}

// export runs ExportLogs and parses its lines.
func export(t *testing.T, r *Reader, name string) ([]ledger.Log, []byte) {
	t.Helper()
	var buf bytes.Buffer
	n, err := r.ExportLogs(context.Background(), name, &buf)
	if err != nil {
		t.Fatal(err)
	}
	var logs []ledger.Log
	scanner := bufio.NewScanner(bytes.NewReader(buf.Bytes()))
	scanner.Buffer(nil, 1<<24)
	for scanner.Scan() {
		var l ledger.Log
		if err := json.Unmarshal(scanner.Bytes(), &l); err != nil {
			t.Fatalf("line %d: %v", len(logs)+1, err)
		}
		logs = append(logs, l)
	}
	if n != len(logs) {
		t.Fatalf("ExportLogs reported %d logs, wrote %d", n, len(logs))
	}
	return logs, buf.Bytes()
}

func TestExportLogs(t *testing.T) {
	t.Parallel()
	pool, want := written(t, nil)
	r := NewReader(pool)
	got, _ := export(t, r, "main")
	if len(got) != len(want) {
		t.Fatalf("exported %d logs, want %d", len(got), len(want))
	}
	types := map[ledger.LogType]bool{}
	for i := range want {
		if got[i].ID != uint64(i+1) {
			t.Fatalf("line %d has log id %d", i+1, got[i].ID)
		}
		if g, w := jsonOf(t, got[i]), jsonOf(t, want[i]); g != w {
			t.Fatalf("log %d:\n got %s\nwant %s", i+1, g, w)
		}
		types[got[i].Type()] = true
	}
	if len(types) != 4 {
		t.Fatalf("log types %v, want 4", types)
	}
	if got[0].IdempotencyKey != "ik-1" || got[0].IdempotencyHash != "h1" {
		t.Fatalf("idempotency not exported: %+v", got[0])
	}

	var buf bytes.Buffer
	if _, err := r.ExportLogs(context.Background(), "nope", &buf); !isCode(err, domain.CodeLedgerNotFound) || buf.Len() != 0 {
		t.Fatalf("unknown ledger: %v, wrote %q", err, buf.String())
	}
}

// TestExportMatchesReference: the export of a ledger holding the
// reference's logs is the reference's export, byte for byte, and its chain
// (with a gap at id 7) verifies.
func TestExportMatchesReference(t *testing.T) {
	t.Parallel()
	r := demo(t, 9)
	_, got := export(t, r, "demo")
	want, err := os.ReadFile(anchorExport)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("export differs from the reference:\n got %s\nwant %s", got, want)
	}
	v, err := r.VerifyLogs(context.Background(), "demo", 0, 0)
	logs := projectionstest.ReadLogs(t, anchorExport)
	if err != nil || v.Break != nil || v.Checked != 9 || v.LastID != 10 || !bytes.Equal(v.LastHash, logs[8].Hash) {
		t.Fatalf("verify: %+v, %v", v, err)
	}
	// From 8, the chain resumes on log 6's hash (7 does not exist).
	v, err = r.VerifyLogs(context.Background(), "demo", 7, 9)
	if err != nil || v.Break != nil || v.Checked != 2 || v.LastID != 9 || !bytes.Equal(v.LastHash, logs[7].Hash) {
		t.Fatalf("verify 7..9: %+v, %v", v, err)
	}
}

// TestExportPages writes more than two pages of logs.
func TestExportPages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	s := eventstore.New(pool, eventstore.Options{})
	t.Cleanup(s.Close)
	if _, err := s.CreateLedger(ctx, "big", ledger.LedgerConfiguration{}); err != nil {
		t.Fatal(err)
	}
	const total = 2*exportPageSize + 17
	var wg sync.WaitGroup
	errs := make(chan error, total)
	for w := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < total; i += 32 {
				_, err := s.Execute(ctx, "big", eventstore.Request{Command: ledger.CreateTransaction{Postings: ledger.Postings{
					ledger.NewPosting("world", fmt.Sprintf("users:%d", i), "EUR", big.NewInt(1))}}})
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	r := NewReader(pool)
	logs, _ := export(t, r, "big")
	if len(logs) != total {
		t.Fatalf("exported %d logs, want %d", len(logs), total)
	}
	for i, l := range logs {
		if l.ID != uint64(i+1) {
			t.Fatalf("line %d has log id %d", i+1, l.ID)
		}
	}
	v, err := r.VerifyLogs(ctx, "big", 0, 0)
	if err != nil || v.Break != nil || v.Checked != total || v.LastID != total || !bytes.Equal(v.LastHash, logs[total-1].Hash) {
		t.Fatalf("verify: %+v, %v", v, err)
	}
	v, err = r.VerifyLogs(ctx, "big", exportPageSize, exportPageSize+1)
	if err != nil || v.Break != nil || v.Checked != 2 || v.LastID != exportPageSize+1 {
		t.Fatalf("verify range: %+v, %v", v, err)
	}
}

func TestVerifyLogs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, logs := written(t, nil)
	r := NewReader(pool)
	last := logs[len(logs)-1]

	v, err := r.VerifyLogs(ctx, "main", 0, 0)
	if err != nil || v.Break != nil || v.Checked != uint64(len(logs)) || v.LastID != last.ID || !bytes.Equal(v.LastHash, last.Hash) {
		t.Fatalf("good chain: %+v, %v", v, err)
	}
	v, err = r.VerifyLogs(ctx, "main", 3, 5)
	if err != nil || v.Break != nil || v.Checked != 3 || v.LastID != 5 || !bytes.Equal(v.LastHash, logs[4].Hash) {
		t.Fatalf("range 3..5: %+v, %v", v, err)
	}
	v, err = r.VerifyLogs(ctx, "main", 100, 0)
	if err != nil || v.Break != nil || v.Checked != 0 || v.LastID != 0 {
		t.Fatalf("range past the end: %+v, %v", v, err)
	}
	if _, err := r.VerifyLogs(ctx, "main", 5, 3); !isCode(err, domain.CodeValidation) {
		t.Fatalf("to before from: %v", err)
	}
	if _, err := r.VerifyLogs(ctx, "nope", 0, 0); !isCode(err, domain.CodeLedgerNotFound) {
		t.Fatalf("unknown ledger: %v", err)
	}

	// Changed data breaks the chain at that log.
	var original string
	if err := pool.QueryRow(ctx, `SELECT data::text FROM _default.logs WHERE ledger = 'main' AND id = 4`).Scan(&original); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, tamper, 4); err != nil {
		t.Fatal(err)
	}
	v, err = r.VerifyLogs(ctx, "main", 0, 0)
	if err != nil || v.Break == nil || v.Break.LogID != 4 || v.Checked != 4 || v.LastID != 3 ||
		!bytes.Equal(v.LastHash, logs[2].Hash) || !bytes.Equal(v.Break.Got, logs[3].Hash) ||
		bytes.Equal(v.Break.Expected, logs[3].Hash) {
		t.Fatalf("tampered data: %+v, %v", v, err)
	}
	// A range that ends before the change still verifies; one after it
	// starts from the stored hash of its predecessor, which is intact.
	if v, err = r.VerifyLogs(ctx, "main", 1, 3); err != nil || v.Break != nil || v.Checked != 3 {
		t.Fatalf("range 1..3: %+v, %v", v, err)
	}
	if v, err = r.VerifyLogs(ctx, "main", 5, 0); err != nil || v.Break != nil || v.Checked != 3 {
		t.Fatalf("range 5..: %+v, %v", v, err)
	}

	// A changed hash breaks the chain at that log.
	if _, err := pool.Exec(ctx, `UPDATE _default.logs SET data = $1 WHERE ledger = 'main' AND id = 4`, original); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE _default.logs SET hash = sha256('forged'::bytea)
		WHERE ledger = 'main' AND id = 6`); err != nil {
		t.Fatal(err)
	}
	v, err = r.VerifyLogs(ctx, "main", 0, 0)
	if err != nil || v.Break == nil || v.Break.LogID != 6 || v.Checked != 6 || v.LastID != 5 ||
		!bytes.Equal(v.Break.Expected, logs[5].Hash) {
		t.Fatalf("tampered hash: %+v, %v", v, err)
	}
}

func TestVerifyLogsNeedsHashing(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"ASYNC", "DISABLED"} {
		pool, logs := written(t, ledger.Features{ledger.FeatureHashLogs: mode})
		r := NewReader(pool)
		_, err := r.VerifyLogs(context.Background(), "main", 0, 0)
		if !isCode(err, domain.CodeValidation) || err.(*domain.Error).Message != "ledger main does not hash its logs" {
			t.Fatalf("HASH_LOGS=%s: %v", mode, err)
		}
		// Export does not need hashes.
		if got, _ := export(t, r, "main"); len(got) != len(logs) {
			t.Fatalf("HASH_LOGS=%s: exported %d logs, want %d", mode, len(got), len(logs))
		}
	}
}

func isCode(err error, code string) bool {
	var de *domain.Error
	return errors.As(err, &de) && de.Code == code
}

// tamper changes, or with restore puts back, the metadata a log's data
// records, which its hash covers.
const tamper = `UPDATE _default.logs SET data = CASE type
		WHEN 'NEW_TRANSACTION' THEN jsonb_set(data::jsonb, '{transaction,metadata,tampered}', '"yes"')
		ELSE jsonb_set(data::jsonb, '{metadata,tampered}', '"yes"') END::json
	WHERE ledger = 'main' AND id = $1`

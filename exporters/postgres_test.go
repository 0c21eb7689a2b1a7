package exporters

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kontorhq/kontor/platform/pgtest"
)

func TestPostgresCreatesTableAndIgnoresReplays(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	ctx := context.Background()
	d, err := New(Config{Driver: "postgres", Config: json.RawMessage(`{"dsn":"` + dsn + `"}`)})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()

	a, b := referenceExports(t, "a"), referenceExports(t, "b")
	batch := append(append([]Export(nil), a...), b[:5]...)
	if err := d.Accept(ctx, batch); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)

	// The table is the documented one.
	var columns string
	err = conn.QueryRow(ctx, `SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position)
		FROM information_schema.columns WHERE table_name = 'ledger_logs'`).Scan(&columns)
	if err != nil {
		t.Fatal(err)
	}
	if want := "ledger text, id bigint, type text, date timestamp with time zone, data jsonb, hash bytea"; columns != want {
		t.Fatalf("columns: %s\nwant:    %s", columns, want)
	}
	var pk string
	err = conn.QueryRow(ctx, `SELECT pg_get_constraintdef(oid) FROM pg_constraint
		WHERE conrelid = 'ledger_logs'::regclass AND contype = 'p'`).Scan(&pk)
	if err != nil || pk != "PRIMARY KEY (ledger, id)" {
		t.Fatalf("primary key %q, %v", pk, err)
	}

	count := func() int {
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM ledger_logs`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != len(batch) {
		t.Fatalf("%d rows, want %d", n, len(batch))
	}

	// Each row holds its log.
	for _, e := range batch {
		data, _ := json.Marshal(e.Log.Data)
		var (
			typ   string
			date  time.Time
			hash  []byte
			equal bool
		)
		err := conn.QueryRow(ctx, `SELECT type, date, hash, data = $3::jsonb FROM ledger_logs WHERE ledger = $1 AND id = $2`,
			e.Ledger, int64(e.Log.ID), string(data)).Scan(&typ, &date, &hash, &equal)
		if err != nil {
			t.Fatalf("log %d of %s: %v", e.Log.ID, e.Ledger, err)
		}
		if typ != string(e.Log.Type()) || !date.Equal(e.Log.Date.Time) || !bytes.Equal(hash, e.Log.Hash) || !equal {
			t.Fatalf("log %d of %s: type %s date %s hash %x data equal %v", e.Log.ID, e.Ledger, typ, date, hash, equal)
		}
	}

	// A replay, overlapping and with duplicates inside the batch, adds only
	// what is new and changes nothing else.
	replay := append(append(append([]Export(nil), batch...), b...), b...)
	if _, err := conn.Exec(ctx, `UPDATE ledger_logs SET type = 'SEEN' WHERE ledger = 'a'`); err != nil {
		t.Fatal(err)
	}
	if err := d.Accept(ctx, replay); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != len(a)+len(b) {
		t.Fatalf("%d rows after replay, want %d", n, len(a)+len(b))
	}
	var seen int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM ledger_logs WHERE type = 'SEEN'`).Scan(&seen); err != nil || seen != len(a) {
		t.Fatalf("replay rewrote rows: %d untouched of %d, %v", seen, len(a), err)
	}

	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Accept(ctx, batch); !errors.Is(err, ErrClosed) {
		t.Fatalf("Accept after Close: %v", err)
	}
}

func TestPostgresSchemaQualifiedTableAndUnhashedLogs(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE SCHEMA exports`); err != nil {
		t.Fatal(err)
	}
	d, err := NewPostgres(PostgresConfig{DSN: dsn, Table: "exports.Logs"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	exports := referenceExports(t, "demo")
	for i := range exports {
		exports[i].Log.Hash = nil
	}
	if err := d.Accept(ctx, exports); err != nil {
		t.Fatal(err)
	}
	var n, nulls int
	if err := conn.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE hash IS NULL) FROM exports."Logs"`).Scan(&n, &nulls); err != nil {
		t.Fatal(err)
	}
	if n != len(exports) || nulls != n {
		t.Fatalf("%d rows, %d without hash; want %d of each", n, nulls, len(exports))
	}
}

func TestPostgresUnreachableIsAnAcceptError(t *testing.T) {
	d, err := NewPostgres(PostgresConfig{DSN: "postgres://postgres@127.0.0.1:1/none?connect_timeout=2"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Accept(context.Background(), referenceExports(t, "demo")); err == nil {
		t.Fatal("want an error")
	}
}

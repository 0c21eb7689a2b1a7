package projections

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kontorhq/kontor/domain/ledger"
	"github.com/kontorhq/kontor/domain/query"
	"github.com/kontorhq/kontor/platform/api"
)

// logsSpec: by id descending (keyset) by default.
var logsSpec = listSpec{
	column: "id",
	desc:   true,
	key:    "id",
	sortable: map[string]string{
		"id":   "g.id",
		"date": "g.date",
	},
	tiebreak: []string{"g.id"},
}

// Logs lists a ledger's logs (query.Logs filters: id, date, type); PIT and
// OOT bound their dates.
func (r *Reader) Logs(ctx context.Context, name string, q ListQuery) (api.Cursor[ledger.Log], error) {
	l, err := r.resolve(ctx, name)
	if err != nil {
		return api.Cursor[ledger.Log]{}, err
	}
	b := &sqlBuilder{}
	cond, err := b.where(q.Filter, func(b *sqlBuilder, leaf query.Leaf) (string, error) {
		switch leaf.Field {
		case "id":
			return b.compareBigint("g.id", leaf)
		case "date":
			return b.compare("g.date", leaf, false)
		case "type":
			return b.text("g.type", leaf, false)
		}
		return "", unsupported(leaf)
	})
	if err != nil {
		return api.Cursor[ledger.Log]{}, err
	}
	cond = "g.ledger = " + b.bind(l.Name) + " AND " + cond
	if q.PIT != nil {
		cond += " AND g.date <= " + b.bind(q.PIT.Time)
	}
	if q.OOT != nil {
		cond += " AND g.date >= " + b.bind(q.OOT.Time)
	}
	sel := tablesOf(l).expand(`SELECT ` + logColumns + ` FROM {logs} g WHERE ` + cond)
	return page(ctx, r.pool, logsSpec, q, b, sel, func(rows pgx.Rows) (ledger.Log, int64, error) {
		log, err := scanLog(rows)
		return log, int64(log.ID), err
	})
}

// logColumns are the columns of the logs table, aliased g, that scanLog
// reads.
const logColumns = `g.id, g.type, g.data, g.date, coalesce(g.idempotency_key, ''),
	coalesce(g.idempotency_hash, ''), g.hash, coalesce(g.schema_version, '')`

// scanLog reads a log selected by logColumns. Decoded into its payload
// type, the log renders the reference's JSON.
func scanLog(row pgx.Row) (ledger.Log, error) {
	var (
		id                  int64
		typ, ik, ih, schema string
		data, hash          []byte
		date                time.Time
	)
	if err := row.Scan(&id, &typ, &data, &date, &ik, &ih, &hash, &schema); err != nil {
		return ledger.Log{}, err
	}
	payload, err := ledger.DecodePayload(ledger.LogType(typ), data)
	if err != nil {
		return ledger.Log{}, fmt.Errorf("log %d: %w", id, err)
	}
	return ledger.Log{ID: uint64(id), Data: payload, Date: ledger.NewTime(date), IdempotencyKey: ik,
		IdempotencyHash: ih, Hash: hash, SchemaVersion: schema}, nil
}

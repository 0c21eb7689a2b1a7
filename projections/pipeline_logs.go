package projections

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/kontorhq/kontor/domain/ledger"
)

// LogsAfter returns up to limit logs of the ledger called name whose ids
// are above after, in id order: the pages a pipeline sends to its exporter.
// An unknown ledger is LEDGER_NOT_FOUND.
func (r *Reader) LogsAfter(ctx context.Context, name string, after uint64, limit int) ([]ledger.Log, error) {
	if after >= math.MaxInt64 || limit <= 0 {
		return nil, nil
	}
	l, err := r.resolve(ctx, name)
	if err != nil {
		return nil, err
	}
	rows, err := r.pool.Query(ctx, tablesOf(l).expand(`SELECT id, type, data, date, coalesce(idempotency_key, ''),
		coalesce(idempotency_hash, ''), hash, coalesce(schema_version, '') FROM {logs}
		WHERE ledger = $1 AND id > $2 ORDER BY id LIMIT $3`), l.Name, int64(after), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var logs []ledger.Log
	for rows.Next() {
		var (
			id                  int64
			typ, ik, ih, schema string
			data, hash          []byte
			date                time.Time
		)
		if err := rows.Scan(&id, &typ, &data, &date, &ik, &ih, &hash, &schema); err != nil {
			return nil, err
		}
		payload, err := ledger.DecodePayload(ledger.LogType(typ), data)
		if err != nil {
			return nil, fmt.Errorf("log %d: %w", id, err)
		}
		logs = append(logs, ledger.Log{ID: uint64(id), Data: payload, Date: ledger.NewTime(date),
			IdempotencyKey: ik, IdempotencyHash: ih, Hash: hash, SchemaVersion: schema})
	}
	return logs, rows.Err()
}

package projections

import (
	"context"
	"math"

	"github.com/jackc/pgx/v5"

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
	rows, err := r.pool.Query(ctx, tablesOf(l).expand(`SELECT `+logColumns+` FROM {logs} g
		WHERE g.ledger = $1 AND g.id > $2 ORDER BY g.id LIMIT $3`), l.Name, int64(after), limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (ledger.Log, error) { return scanLog(row) })
}

package projections

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kontorhq/kontor/domain/ledger"
	"github.com/kontorhq/kontor/domain/query"
	"github.com/kontorhq/kontor/platform/api"
)

// ledgersSpec: by id ascending (keyset) by default.
var ledgersSpec = listSpec{
	column: "id",
	key:    "id",
	sortable: map[string]string{
		"id":       "l.id",
		"name":     "l.name",
		"bucket":   "l.bucket",
		"added_at": "l.added_at",
	},
	tiebreak: []string{"l.id"},
}

// Ledgers lists the ledgers (query.Ledgers filters: name, bucket, id,
// features[F], metadata[k]); those of deleted buckets only with
// IncludeDeleted.
func (r *Reader) Ledgers(ctx context.Context, q ListQuery) (api.Cursor[ledger.Ledger], error) {
	b := &sqlBuilder{}
	cond, err := b.where(q.Filter, ledgerLeaf)
	if err != nil {
		return api.Cursor[ledger.Ledger]{}, err
	}
	if !q.IncludeDeleted {
		cond += " AND l.deleted_at IS NULL"
	}
	spec := ledgersSpec
	spec.opts = ledgersOpts{IncludeDeleted: q.IncludeDeleted}
	sel := `SELECT ` + ledgerColumns + ` FROM _system.ledgers l WHERE ` + cond
	return page(ctx, r.pool, spec, q, b, sel, func(rows pgx.Rows) (ledger.Ledger, int64, error) {
		l, err := scanLedger(rows)
		return l, l.ID, err
	})
}

func ledgerLeaf(b *sqlBuilder, l query.Leaf) (string, error) {
	switch l.Field {
	case "name":
		return b.text("l.name", l, false)
	case "bucket":
		return b.text("l.bucket", l, false)
	case "id":
		return b.compareBigint("l.id", l)
	case "features":
		return b.jsonMap("l.features", l)
	case "metadata":
		return b.jsonMap("l.metadata", l)
	}
	return "", unsupported(l)
}

// LedgerNames returns the names of the ledgers in use, by id.
func (r *Reader) LedgerNames(ctx context.Context) ([]string, error) {
	rows, err := r.pool.Query(ctx, `SELECT name FROM _system.ledgers WHERE deleted_at IS NULL ORDER BY id`)
	if err != nil {
		return nil, err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if names == nil {
		names = []string{}
	}
	return names, err
}

// Stats counts a ledger's transactions and accounts.
type Stats struct {
	Transactions uint64 `json:"transactions"`
	Accounts     uint64 `json:"accounts"`
}

// Stats returns the ledger's counts.
func (r *Reader) Stats(ctx context.Context, name string) (Stats, error) {
	l, err := r.resolve(ctx, name)
	if err != nil {
		return Stats{}, err
	}
	var s Stats
	err = r.pool.QueryRow(ctx, tablesOf(l).expand(`SELECT
		(SELECT count(*) FROM {transactions} WHERE ledger = $1),
		(SELECT count(*) FROM {accounts} WHERE ledger = $1)`), l.Name).Scan(&s.Transactions, &s.Accounts)
	return s, err
}

// LedgerInfo is GET /v2/{ledger}/_info: the ledger and its storage's
// migrations.
type LedgerInfo struct {
	Name    string `json:"name"`
	Storage struct {
		Migrations []Migration `json:"migrations"`
	} `json:"storage"`
}

// Migration is one applied schema migration.
type Migration struct {
	Version string      `json:"version"`
	Name    string      `json:"name,omitempty"`
	State   string      `json:"state"`
	Date    ledger.Time `json:"date"`
}

// LedgerInfo returns the ledger's name and the migrations of its storage.
func (r *Reader) LedgerInfo(ctx context.Context, name string) (LedgerInfo, error) {
	l, err := r.resolve(ctx, name)
	if err != nil {
		return LedgerInfo{}, err
	}
	info := LedgerInfo{Name: l.Name}
	rows, err := r.pool.Query(ctx, `SELECT version_id::text, tstamp FROM (
			SELECT DISTINCT ON (version_id) version_id, is_applied, tstamp
			FROM _system.goose_db_version WHERE version_id > 0 ORDER BY version_id, id DESC) v
		WHERE is_applied ORDER BY version_id`)
	if err != nil {
		return LedgerInfo{}, err
	}
	info.Storage.Migrations, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Migration, error) {
		m := Migration{State: "DONE"}
		var date time.Time
		err := row.Scan(&m.Version, &date)
		m.Date = ledger.NewTime(date)
		return m, err
	})
	if info.Storage.Migrations == nil {
		info.Storage.Migrations = []Migration{}
	}
	return info, err
}

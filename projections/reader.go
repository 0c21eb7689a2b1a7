// Package projections holds the ledger's read models and their queries:
// ledgers, transactions, accounts, volumes, balances and logs as the v2 API
// shows them, read from the tables the event store writes (spec/ledger.md
// §2, §3.2–3.4, §3.9). Filters (domain/query) become SQL with bind
// parameters only, and every list pages with the reference cursor.
package projections

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kontorhq/kontor/domain"
	"github.com/kontorhq/kontor/domain/ledger"
)

// Reader answers the ledger's read queries from PostgreSQL.
type Reader struct {
	pool *pgxpool.Pool
	// ledgers caches resolved ledgers by name: their bucket, id and
	// features never change, so reads need not look them up each time.
	ledgers sync.Map
	// accountReads coalesces concurrent single-account reads, by
	// coalescerKey.
	accountReads sync.Map
}

// NewReader returns a Reader on pool.
func NewReader(pool *pgxpool.Pool) *Reader {
	return &Reader{pool: pool}
}

// ledgerColumns are the _system.ledgers columns scanLedger reads.
const ledgerColumns = `name, id, bucket, metadata, features, state, added_at, deleted_at`

// Ledger returns the ledger called name. A ledger that does not exist, or
// whose bucket was deleted, is a LEDGER_NOT_FOUND error.
func (r *Reader) Ledger(ctx context.Context, name string) (ledger.Ledger, error) {
	if ledger.ValidateLedgerName(name) != nil {
		// No such ledger can exist; the name may not even be valid text.
		return ledger.Ledger{}, domain.Errorf(domain.CodeLedgerNotFound, "not found")
	}
	row := r.pool.QueryRow(ctx, `SELECT `+ledgerColumns+` FROM _system.ledgers
		WHERE name = $1 AND deleted_at IS NULL`, name)
	l, err := scanLedger(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return ledger.Ledger{}, domain.Errorf(domain.CodeLedgerNotFound, "not found")
	}
	return l, err
}

// resolve returns the ledger a read is about, from the cache when it was
// seen before. Its metadata may be stale: GET /{ledger} uses Ledger.
func (r *Reader) resolve(ctx context.Context, name string) (ledger.Ledger, error) {
	if l, ok := r.ledgers.Load(name); ok {
		return l.(ledger.Ledger), nil
	}
	l, err := r.Ledger(ctx, name)
	if err == nil {
		r.ledgers.Store(name, l)
	}
	return l, err
}

func scanLedger(row pgx.Row) (ledger.Ledger, error) {
	var (
		l              ledger.Ledger
		state          string
		addedAt        time.Time
		deletedAt      *time.Time
		metadata, feat map[string]string
	)
	if err := row.Scan(&l.Name, &l.ID, &l.Bucket, &metadata, &feat, &state, &addedAt, &deletedAt); err != nil {
		return ledger.Ledger{}, err
	}
	l.Metadata, l.Features, l.State = metadata, feat, ledger.LedgerState(state)
	l.AddedAt = ledger.NewTime(addedAt)
	if deletedAt != nil {
		at := ledger.NewTime(*deletedAt)
		l.DeletedAt = &at
	}
	return l, nil
}

// tables names the tables of one ledger's bucket in SQL text.
type tables struct {
	names *strings.Replacer
}

func tablesOf(l ledger.Ledger) tables {
	schema := pgx.Identifier{l.Bucket}.Sanitize() + "."
	var pairs []string
	for _, name := range []string{"logs", "transactions", "transactions_metadata", "accounts",
		"accounts_metadata", "volumes", "moves"} {
		pairs = append(pairs, "{"+name+"}", schema+name)
	}
	return tables{names: strings.NewReplacer(pairs...)}
}

// expand replaces {logs}, {transactions}, … in sql by the bucket's
// qualified table names.
func (t tables) expand(sql string) string {
	return t.names.Replace(sql)
}

// feature reports whether the ledger has feature set to value.
func feature(l ledger.Ledger, name, value string) bool {
	return l.Features[name] == value
}

// requireFeature returns a VALIDATION error when the ledger lacks a feature
// that a query needs, like the reference's ErrMissingFeature.
func requireFeature(l ledger.Ledger, name, value, what string) error {
	if feature(l, name, value) {
		return nil
	}
	return domain.Errorf(domain.CodeValidation, "%s needs the feature %s=%s, which ledger %q does not have", what, name, value, l.Name)
}

// jsonColumn is a jsonb column read as bytes, and where to decode it.
type jsonColumn struct {
	raw  []byte
	into any
}

// decodeColumns decodes every non-NULL column.
func decodeColumns(columns ...jsonColumn) error {
	for _, c := range columns {
		if c.raw == nil {
			continue
		}
		if err := json.Unmarshal(c.raw, c.into); err != nil {
			return err
		}
	}
	return nil
}

package projections

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kontorhq/kontor/domain"
	"github.com/kontorhq/kontor/domain/ledger"
	"github.com/kontorhq/kontor/domain/query"
	"github.com/kontorhq/kontor/platform/api"
)

// transactionsSpec: by id descending (keyset) by default.
var transactionsSpec = listSpec{
	column: "id",
	desc:   true,
	key:    "id",
	sortable: map[string]string{
		"id":          "t.id",
		"timestamp":   "t.timestamp",
		"inserted_at": "t.inserted_at",
		"updated_at":  "t.updated_at",
		"reverted_at": "t.reverted_at",
	},
	tiebreak: []string{"t.id"},
}

// Transactions lists a ledger's transactions (query.Transactions filters).
// With PIT, only transactions dated up to it, with their metadata and
// revert as they were then; with OOT, only those dated from it.
func (r *Reader) Transactions(ctx context.Context, name string, q ListQuery) (api.Cursor[ledger.Transaction], error) {
	l, err := r.resolve(ctx, name)
	if err != nil {
		return api.Cursor[ledger.Transaction]{}, err
	}
	b := &sqlBuilder{}
	from, err := transactionsFrom(l, b, q.PIT, q.OOT, q.Filter)
	if err != nil {
		return api.Cursor[ledger.Transaction]{}, err
	}
	sel := transactionSelect(l, b, q.expands(ExpandVolumes), q.expands(ExpandEffectiveVolumes)) + from
	return page(ctx, r.pool, transactionsSpec, q, b, sel, func(rows pgx.Rows) (ledger.Transaction, int64, error) {
		tx, err := scanTransaction(rows)
		return tx, int64(tx.ID), err
	})
}

// CountTransactions counts the transactions Transactions would list.
func (r *Reader) CountTransactions(ctx context.Context, name string, q ListQuery) (uint64, error) {
	l, err := r.resolve(ctx, name)
	if err != nil {
		return 0, err
	}
	b := &sqlBuilder{}
	from, err := transactionsFrom(l, b, q.PIT, q.OOT, q.Filter)
	if err != nil {
		return 0, err
	}
	var n uint64
	err = r.pool.QueryRow(ctx, "SELECT count(*) "+from, b.args...).Scan(&n)
	return n, err
}

// Transaction returns one transaction, as it was at q.PIT when set. A
// transaction that does not exist (then) is a NOT_FOUND error.
func (r *Reader) Transaction(ctx context.Context, name string, id uint64, q GetQuery) (ledger.Transaction, error) {
	l, err := r.resolve(ctx, name)
	if err != nil {
		return ledger.Transaction{}, err
	}
	if id > math.MaxInt64 {
		return ledger.Transaction{}, domain.Errorf(domain.CodeNotFound, "not found")
	}
	b := &sqlBuilder{}
	from, err := transactionsFrom(l, b, q.PIT, nil, nil)
	if err != nil {
		return ledger.Transaction{}, err
	}
	sel := transactionSelect(l, b, q.expands(ExpandVolumes), q.expands(ExpandEffectiveVolumes)) + from +
		" AND t.id = " + b.bind(int64(id))
	rows, err := r.pool.Query(ctx, sel, b.args...)
	if err != nil {
		return ledger.Transaction{}, err
	}
	tx, err := pgx.CollectExactlyOneRow(rows, func(row pgx.CollectableRow) (ledger.Transaction, error) {
		return scanTransaction(row)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return ledger.Transaction{}, domain.Errorf(domain.CodeNotFound, "not found")
	}
	return tx, err
}

// transactionsFrom returns "FROM (<the ledger's transactions>) t WHERE
// <filter>", the dataset seen at pit and from oot.
func transactionsFrom(l ledger.Ledger, b *sqlBuilder, pit, oot *ledger.Time, filter query.Expr) (string, error) {
	name := b.bind(l.Name)
	metadata, revertedAt, bounds := "tx.metadata", "tx.reverted_at", ""
	if pit != nil {
		at := b.bind(pit.Time)
		bounds += " AND tx.timestamp <= " + at
		revertedAt = "CASE WHEN tx.reverted_at <= " + at + " THEN tx.reverted_at END"
		if feature(l, ledger.FeatureTransactionMetadataHistory, "SYNC") {
			// A transaction whose metadata never changed has no history.
			metadata = `coalesce((SELECT m.metadata FROM {transactions_metadata} m
				WHERE m.ledger = tx.ledger AND m.transaction_id = tx.id AND m.date <= ` + at + `
				ORDER BY m.revision DESC LIMIT 1),
				CASE WHEN NOT EXISTS (SELECT FROM {transactions_metadata} m
					WHERE m.ledger = tx.ledger AND m.transaction_id = tx.id) THEN tx.metadata END, '{}')`
		}
	}
	if oot != nil {
		bounds += " AND tx.timestamp >= " + b.bind(oot.Time)
	}
	cond, err := b.where(filter, transactionLeaf(feature(l, ledger.FeatureMovesHistory, "ON")))
	if err != nil {
		return "", err
	}
	return tablesOf(l).expand(fmt.Sprintf(` FROM (SELECT tx.ledger, tx.id, tx.timestamp, tx.reference, tx.inserted_at,
			tx.updated_at, %s AS reverted_at, tx.postings, %s AS metadata, tx.post_commit_volumes, tx.sources,
			tx.destinations
		FROM {transactions} tx WHERE tx.ledger = %s%s) t WHERE %s`, revertedAt, metadata, name, bounds, cond)), nil
}

// transactionSelect returns the select list scanTransaction reads; the
// volumes are only read when expanded.
func transactionSelect(l ledger.Ledger, b *sqlBuilder, volumes, effective bool) string {
	pcv, pcev := "NULL::jsonb", "NULL::jsonb"
	if volumes {
		pcv = "t.post_commit_volumes"
	}
	if effective {
		// The effective volumes after a transaction are those of its last
		// move per account and asset.
		pcev = tablesOf(l).expand(`(SELECT jsonb_object_agg(account, volumes) FROM (
				SELECT account, jsonb_object_agg(asset, jsonb_build_object('input', pcev_input, 'output', pcev_output)) AS volumes
				FROM (SELECT DISTINCT ON (m.account, m.asset) m.account, m.asset, m.pcev_input, m.pcev_output
					FROM {moves} m WHERE m.ledger = t.ledger AND m.transaction_id = t.id AND m.pcev_input IS NOT NULL
					ORDER BY m.account, m.asset, m.seq DESC) last
				GROUP BY account) per_account)`)
	}
	return `SELECT t.id, t.timestamp, coalesce(t.reference, ''), t.inserted_at, t.updated_at, t.reverted_at,
		t.postings, t.metadata, ` + pcv + `, ` + pcev
}

func scanTransaction(row pgx.Row) (ledger.Transaction, error) {
	var (
		tx                           ledger.Transaction
		id                           int64
		timestamp, inserted, updated time.Time
		reverted                     *time.Time
		postings, metadata           []byte
		pcv, pcev                    []byte
	)
	if err := row.Scan(&id, &timestamp, &tx.Reference, &inserted, &updated, &reverted,
		&postings, &metadata, &pcv, &pcev); err != nil {
		return ledger.Transaction{}, err
	}
	tx.ID = uint64(id)
	tx.Timestamp, tx.InsertedAt, tx.UpdatedAt = ledger.NewTime(timestamp), ledger.NewTime(inserted), ledger.NewTime(updated)
	if reverted != nil {
		at := ledger.NewTime(*reverted)
		tx.RevertedAt = &at
	}
	err := decodeColumns(jsonColumn{postings, &tx.Postings}, jsonColumn{metadata, &tx.Metadata},
		jsonColumn{pcv, &tx.PostCommitVolumes}, jsonColumn{pcev, &tx.PostCommitEffectiveVolumes})
	if err != nil {
		return ledger.Transaction{}, fmt.Errorf("transaction %d: %w", id, err)
	}
	return tx, nil
}

// transactionAddresses is the expression of the transactions' GIN index
// on addresses (see bucket.sql) and transactionAddressesKept its
// predicate: the transactions of ledgers without moves.
const (
	transactionAddresses     = "(t.sources || t.destinations)"
	transactionAddressesKept = "t.sources IS NOT NULL"
)

// transactionAddressColumns are the columns holding the addresses each
// field names, and moveSides the condition on the moves of each.
var (
	transactionAddressColumns = map[string][]string{"source": {"t.sources"}, "destination": {"t.destinations"},
		"account": {"t.sources", "t.destinations"}}
	moveSides = map[string]string{"source": " AND m.is_source", "destination": " AND NOT m.is_source"}
)

// transactionLeaf translates the query.Transactions fields on the dataset
// t. The addresses of a transaction are those of its moves when its ledger
// keeps them (withMoves), and its sources and destinations columns
// otherwise.
func transactionLeaf(withMoves bool) leafSQL {
	return func(b *sqlBuilder, l query.Leaf) (string, error) {
		switch l.Field {
		case "id":
			return b.compareBigint("t.id", l)
		case "reference":
			return b.text("t.reference", l, true)
		case "timestamp", "inserted_at", "updated_at":
			return b.compare("t."+l.Field, l, false)
		case "reverted_at":
			return b.compare("t.reverted_at", l, true)
		case "reverted":
			return b.compare("(t.reverted_at IS NOT NULL)", l, false)
		case "source", "destination", "account":
			if withMoves {
				return b.moveAddress(l)
			}
			return b.addressIn(transactionAddressColumns[l.Field], transactionAddresses, transactionAddressesKept, l)
		case "metadata":
			return b.jsonMap("t.metadata", l)
		}
		return "", unsupported(l)
	}
}

// moveAddress translates a leaf on the addresses of a transaction of t
// (source, destination, account) as a move of it on a matching account, on
// the side the field names.
func (b *sqlBuilder) moveAddress(l query.Leaf) (string, error) {
	cond, err := b.address(addressOf("m.account"), l)
	if err != nil {
		return "", err
	}
	return "EXISTS (SELECT FROM {moves} m WHERE m.ledger = t.ledger AND m.transaction_id = t.id" + moveSides[l.Field] +
		" AND " + cond + ")", nil
}

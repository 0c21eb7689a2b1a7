package eventstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/kontorhq/kontor/domain/ledger"
)

// querier runs statements: a pool, or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// bucketDB runs the event store's queries for one ledger: reads through
// the pool, writes inside the transaction of a batch.
type bucketDB struct {
	tx     querier
	ledger ledger.Ledger
}

// q expands the table names of sql ("{logs}") in the ledger's bucket. The
// write path expands the same statements for every batch, so each
// expansion is kept.
func (db *bucketDB) q(sql string) string {
	key := [2]string{db.ledger.Bucket, sql}
	if out, ok := expanded.Load(key); ok {
		return out.(string)
	}
	schema := pgx.Identifier{db.ledger.Bucket}.Sanitize()
	out := strings.NewReplacer(
		"{logs}", schema+".logs",
		"{transactions}", schema+".transactions",
		"{transactions_metadata}", schema+".transactions_metadata",
		"{accounts}", schema+".accounts",
		"{accounts_metadata}", schema+".accounts_metadata",
		"{volumes}", schema+".volumes",
		"{moves}", schema+".moves",
		"{ledger_changed}", schema+".ledger_changed",
	).Replace(sql)
	expanded.Store(key, out)
	return out
}

// expanded holds the statements q expanded, by bucket and statement; both
// come from a small fixed set.
var expanded sync.Map

// lastLog reads the ledger's last log id, date and hash, without locking.
func (db *bucketDB) lastLog(ctx context.Context) (uint64, time.Time, []byte, error) {
	var (
		id   int64
		date time.Time
		hash []byte
	)
	err := db.tx.QueryRow(ctx, db.q(`SELECT id, date, hash FROM {logs} WHERE ledger = $1 ORDER BY id DESC LIMIT 1`),
		db.ledger.Name).Scan(&id, &date, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, time.Time{}, nil, nil
	}
	return uint64(id), date, hash, err
}

// queueLock queues what a batch does before writing: take the ledger's
// lock, then check that the ledger still ends with b's base log — the same
// id, date and hash, so that a log another process wrote with the same id
// does not pass — failing with SQLSTATE KS001. The check is plain SQL,
// which calls the function raising the error only when it fails: a PL/pgSQL
// function doing all of it cost three times as much per batch.
func (db *bucketDB) queueLock(p *pgx.Batch, lockID int64, b *batch) {
	p.Queue(`SELECT pg_advisory_xact_lock($1)`, lockID)
	p.Queue(db.q(`SELECT {ledger_changed}($1) WHERE NOT CASE
			WHEN $2::bigint = 0 THEN NOT EXISTS (SELECT FROM {logs} WHERE ledger = $1)
			ELSE EXISTS (SELECT FROM {logs} WHERE ledger = $1 AND id = $2 AND date = $3 AND hash IS NOT DISTINCT FROM $4)
				AND NOT EXISTS (SELECT FROM {logs} WHERE ledger = $1 AND id > $2)
		END`), db.ledger.Name, int64(b.baseLogID), b.baseLogDate, b.baseHash)
}

func (db *bucketDB) counters(ctx context.Context) (uint64, int64, error) {
	var txID, seq int64
	err := db.tx.QueryRow(ctx, db.q(`SELECT
		(SELECT coalesce(max(id), 0) FROM {transactions} WHERE ledger = $1),
		(SELECT coalesce(max(seq), 0) FROM {moves} WHERE ledger = $1
			AND transaction_id = (SELECT max(transaction_id) FROM {moves} WHERE ledger = $1))`), db.ledger.Name).Scan(&txID, &seq)
	return uint64(txID), seq, err
}

// collect runs sql and gathers its rows into a map, each row turned into
// a key and a value by scan.
func collect[K comparable, V any](ctx context.Context, q querier, sql string, args []any,
	scan func(pgx.Rows) (K, V, error)) (map[K]V, error) {
	out := map[K]V{}
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		k, v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, rows.Err()
}

// logColumns are the columns scanLog reads.
const logColumns = `id, type, data, date, coalesce(idempotency_key, ''), coalesce(idempotency_hash, ''), hash`

func (db *bucketDB) logsByIdempotencyKey(ctx context.Context, keys []string) (map[string]ledger.Log, error) {
	if len(keys) == 0 {
		return map[string]ledger.Log{}, nil
	}
	return collect(ctx, db.tx, db.q(`SELECT `+logColumns+` FROM {logs} WHERE ledger = $1 AND idempotency_key = ANY($2)`),
		[]any{db.ledger.Name, keys}, func(rows pgx.Rows) (string, ledger.Log, error) {
			log, err := scanLog(rows)
			return log.IdempotencyKey, log, err
		})
}

// logsAfter returns up to limit logs following log after, in id order.
func (db *bucketDB) logsAfter(ctx context.Context, after uint64, limit int) ([]ledger.Log, error) {
	rows, err := db.tx.Query(ctx, db.q(`SELECT `+logColumns+` FROM {logs} WHERE ledger = $1 AND id > $2
		ORDER BY id LIMIT $3`), db.ledger.Name, int64(after), limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanLog)
}

func scanLog(rows pgx.CollectableRow) (ledger.Log, error) {
	var (
		id   int64
		typ  string
		data []byte
		date time.Time
		log  ledger.Log
		err  error
	)
	if err := rows.Scan(&id, &typ, &data, &date, &log.IdempotencyKey, &log.IdempotencyHash, &log.Hash); err != nil {
		return log, err
	}
	if log.Data, err = ledger.DecodePayload(ledger.LogType(typ), data); err != nil {
		return log, fmt.Errorf("decode log %d: %w", id, err)
	}
	log.ID, log.Date = uint64(id), ledger.NewTime(date)
	return log, nil
}

func (db *bucketDB) existingReferences(ctx context.Context, refs []string) (map[string]bool, error) {
	if len(refs) == 0 {
		return map[string]bool{}, nil
	}
	return collect(ctx, db.tx, db.q(`SELECT reference FROM {transactions} WHERE ledger = $1 AND reference = ANY($2)`),
		[]any{db.ledger.Name, refs}, func(rows pgx.Rows) (string, bool, error) {
			var ref string
			err := rows.Scan(&ref)
			return ref, true, err
		})
}

func (db *bucketDB) transactions(ctx context.Context, ids []uint64) (map[uint64]ledger.Transaction, error) {
	if len(ids) == 0 {
		return map[uint64]ledger.Transaction{}, nil
	}
	signed := make([]int64, len(ids))
	for i, id := range ids {
		signed[i] = int64(id)
	}
	return collect(ctx, db.tx, db.q(`SELECT id, postings, metadata, timestamp, coalesce(reference, ''),
		inserted_at, updated_at, reverted_at, post_commit_volumes
		FROM {transactions} WHERE ledger = $1 AND id = ANY($2)`), []any{db.ledger.Name, signed}, scanTransaction)
}

func scanTransaction(rows pgx.Rows) (uint64, ledger.Transaction, error) {
	var (
		tx                           ledger.Transaction
		id                           int64
		postings, metadata, pcv      []byte
		timestamp, inserted, updated time.Time
		reverted                     *time.Time
	)
	if err := rows.Scan(&id, &postings, &metadata, &timestamp, &tx.Reference, &inserted, &updated, &reverted, &pcv); err != nil {
		return 0, tx, err
	}
	if err := json.Unmarshal(postings, &tx.Postings); err != nil {
		return 0, tx, err
	}
	if err := json.Unmarshal(metadata, &tx.Metadata); err != nil {
		return 0, tx, err
	}
	if pcv != nil {
		if err := json.Unmarshal(pcv, &tx.PostCommitVolumes); err != nil {
			return 0, tx, err
		}
	}
	tx.ID = uint64(id)
	tx.Timestamp, tx.InsertedAt, tx.UpdatedAt = ledger.NewTime(timestamp), ledger.NewTime(inserted), ledger.NewTime(updated)
	if reverted != nil {
		at := ledger.NewTime(*reverted)
		tx.RevertedAt = &at
	}
	return tx.ID, tx, nil
}

// balances reads the volumes of keys, and of every asset of the families
// ({account, base asset}) whose base is the family's (EUR: EUR, EUR/2...).
func (db *bucketDB) balances(ctx context.Context, keys, families []key) (map[key]balance, error) {
	if len(keys) == 0 && len(families) == 0 {
		return map[key]balance{}, nil
	}
	accounts, assets := make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		accounts[i], assets[i] = k.account, k.asset
	}
	familyAccounts, bases := make([]string, len(families)), make([]string, len(families))
	for i, f := range families {
		familyAccounts[i], bases[i] = f.account, f.asset
	}
	return collect(ctx, db.tx, db.q(`SELECT v.address, v.asset, v.input::text, v.output::text, v.last_effective_date
		FROM {volumes} v JOIN unnest($2::text[], $3::text[]) AS k(address, asset)
		ON v.address = k.address AND v.asset = k.asset
		WHERE v.ledger = $1
		UNION ALL
		SELECT v.address, v.asset, v.input::text, v.output::text, v.last_effective_date
		FROM {volumes} v JOIN unnest($4::text[], $5::text[]) AS f(address, base)
		ON v.address = f.address AND split_part(v.asset, '/', 1) = f.base
		WHERE v.ledger = $1`), []any{db.ledger.Name, accounts, assets, familyAccounts, bases},
		func(rows pgx.Rows) (key, balance, error) {
			var (
				k             key
				input, output string
				b             balance
			)
			if err := rows.Scan(&k.account, &k.asset, &input, &output, &b.lastEffective); err != nil {
				return k, b, err
			}
			b.volumes = ledger.Volumes{Input: parseInt(input), Output: parseInt(output)}
			return k, b, nil
		})
}

func (db *bucketDB) accounts(ctx context.Context, addresses []string) (map[string]account, error) {
	if len(addresses) == 0 {
		return map[string]account{}, nil
	}
	return collect(ctx, db.tx, db.q(`SELECT address, first_usage FROM {accounts} WHERE ledger = $1 AND address = ANY($2)`),
		[]any{db.ledger.Name, addresses}, func(rows pgx.Rows) (string, account, error) {
			var (
				address string
				a       = account{exists: true}
			)
			err := rows.Scan(&address, &a.firstUsage)
			return address, a, err
		})
}

// accountMetadata reads the metadata of the given accounts; an account
// the ledger lacks is left out.
func (db *bucketDB) accountMetadata(ctx context.Context, addresses []string) (map[string]ledger.Metadata, error) {
	if len(addresses) == 0 {
		return map[string]ledger.Metadata{}, nil
	}
	return collect(ctx, db.tx, db.q(`SELECT address, metadata FROM {accounts} WHERE ledger = $1 AND address = ANY($2)`),
		[]any{db.ledger.Name, addresses}, func(rows pgx.Rows) (string, ledger.Metadata, error) {
			var (
				address string
				md      ledger.Metadata
			)
			err := rows.Scan(&address, &md)
			return address, md, err
		})
}

func parseInt(s string) *big.Int {
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic("eventstore: numeric column is not an integer: " + s)
	}
	return n
}

// numeric returns n as a parameter. It shares n: amounts are never changed
// in place (see put).
func numeric(n *big.Int) pgtype.Numeric {
	return pgtype.Numeric{Int: n, Valid: true}
}

package eventstore

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math/big"
	"strings"
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

// q expands the table names of sql ("{logs}") in the ledger's bucket.
func (db *bucketDB) q(sql string) string {
	schema := pgx.Identifier{db.ledger.Bucket}.Sanitize()
	return strings.NewReplacer(
		"{logs}", schema+".logs",
		"{transactions}", schema+".transactions",
		"{transactions_metadata}", schema+".transactions_metadata",
		"{accounts}", schema+".accounts",
		"{accounts_metadata}", schema+".accounts_metadata",
		"{volumes}", schema+".volumes",
		"{moves}", schema+".moves",
		"{expect_last_log}", schema+".expect_last_log",
	).Replace(sql)
}

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

// queueLock queues what a batch does before writing: take its ticket (an
// advisory lock keyed by the log it ends with), wait for the ticket of the
// log it builds on (held by the batch that writes that log, until it
// commits), take the ledger's lock, then check that the ledger still ends
// with b's base log — the same id, date and hash, so that a log another
// process wrote with the same id does not pass — failing with SQLSTATE
// KS001. Tickets make batches in flight commit in the order they build on
// each other; waits always go to lower log ids, so they cannot deadlock.
func (db *bucketDB) queueLock(p *pgx.Batch, lockID int64, b *batch) {
	p.Queue(`SELECT pg_advisory_xact_lock($1)`, ticket(lockID, b.lastLogID))
	p.Queue(`SELECT pg_advisory_xact_lock_shared($1)`, ticket(lockID, b.baseLogID))
	p.Queue(`SELECT pg_advisory_xact_lock($1)`, lockID)
	p.Queue(db.q(`SELECT {expect_last_log}($1, $2, $3, $4)`), db.ledger.Name, int64(b.baseLogID), b.baseLogDate, b.baseHash)
}

// ticket is the advisory lock key of a ledger's log id.
func ticket(lockID int64, logID uint64) int64 {
	h := fnv.New64a()
	var buf [16]byte
	binary.BigEndian.PutUint64(buf[:8], uint64(lockID))
	binary.BigEndian.PutUint64(buf[8:], logID)
	_, _ = h.Write(buf[:])
	return int64(h.Sum64())
}

func (db *bucketDB) counters(ctx context.Context) (uint64, int64, error) {
	var txID, seq int64
	err := db.tx.QueryRow(ctx, db.q(`SELECT
		(SELECT coalesce(max(id), 0) FROM {transactions} WHERE ledger = $1),
		(SELECT coalesce(max(seq), 0) FROM {moves} WHERE ledger = $1)`), db.ledger.Name).Scan(&txID, &seq)
	return uint64(txID), seq, err
}

func (db *bucketDB) logsByIdempotencyKey(ctx context.Context, keys []string) (map[string]ledger.Log, error) {
	out := map[string]ledger.Log{}
	if len(keys) == 0 {
		return out, nil
	}
	rows, err := db.tx.Query(ctx, db.q(`SELECT id, type, data, date, idempotency_key, coalesce(idempotency_hash, ''), hash
		FROM {logs} WHERE ledger = $1 AND idempotency_key = ANY($2)`), db.ledger.Name, keys)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id            int64
			typ, ik, hash string
			data, chain   []byte
			date          time.Time
			log           ledger.Log
		)
		if err := rows.Scan(&id, &typ, &data, &date, &ik, &hash, &chain); err != nil {
			return nil, err
		}
		if log.Data, err = ledger.DecodePayload(ledger.LogType(typ), data); err != nil {
			return nil, fmt.Errorf("decode log %d: %w", id, err)
		}
		log.ID, log.Date, log.IdempotencyKey, log.IdempotencyHash, log.Hash = uint64(id), ledger.NewTime(date), ik, hash, chain
		out[log.IdempotencyKey] = log
	}
	return out, rows.Err()
}

func (db *bucketDB) existingReferences(ctx context.Context, refs []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(refs) == 0 {
		return out, nil
	}
	rows, err := db.tx.Query(ctx, db.q(`SELECT reference FROM {transactions} WHERE ledger = $1 AND reference = ANY($2)`),
		db.ledger.Name, refs)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var ref string
		if err := rows.Scan(&ref); err != nil {
			return nil, err
		}
		out[ref] = true
	}
	return out, rows.Err()
}

func (db *bucketDB) transactions(ctx context.Context, ids []uint64) (map[uint64]ledger.Transaction, error) {
	out := map[uint64]ledger.Transaction{}
	if len(ids) == 0 {
		return out, nil
	}
	signed := make([]int64, len(ids))
	for i, id := range ids {
		signed[i] = int64(id)
	}
	rows, err := db.tx.Query(ctx, db.q(`SELECT id, postings, metadata, timestamp, coalesce(reference, ''),
		inserted_at, updated_at, reverted_at, post_commit_volumes
		FROM {transactions} WHERE ledger = $1 AND id = ANY($2)`), db.ledger.Name, signed)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			tx                           ledger.Transaction
			id                           int64
			postings, metadata, pcv      []byte
			timestamp, inserted, updated time.Time
			reverted                     *time.Time
		)
		if err := rows.Scan(&id, &postings, &metadata, &timestamp, &tx.Reference, &inserted, &updated, &reverted, &pcv); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(postings, &tx.Postings); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(metadata, &tx.Metadata); err != nil {
			return nil, err
		}
		if pcv != nil {
			if err := json.Unmarshal(pcv, &tx.PostCommitVolumes); err != nil {
				return nil, err
			}
		}
		tx.ID = uint64(id)
		tx.Timestamp, tx.InsertedAt, tx.UpdatedAt = ledger.NewTime(timestamp), ledger.NewTime(inserted), ledger.NewTime(updated)
		if reverted != nil {
			at := ledger.NewTime(*reverted)
			tx.RevertedAt = &at
		}
		out[tx.ID] = tx
	}
	return out, rows.Err()
}

// balances reads the volumes of keys, and of every asset of the families
// ({account, base asset}) whose base is the family's (EUR: EUR, EUR/2...).
func (db *bucketDB) balances(ctx context.Context, keys, families []key) (map[key]balance, error) {
	out := map[key]balance{}
	if len(keys) == 0 && len(families) == 0 {
		return out, nil
	}
	accounts, assets := make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		accounts[i], assets[i] = k.account, k.asset
	}
	familyAccounts, bases := make([]string, len(families)), make([]string, len(families))
	for i, f := range families {
		familyAccounts[i], bases[i] = f.account, f.asset
	}
	rows, err := db.tx.Query(ctx, db.q(`SELECT v.address, v.asset, v.input::text, v.output::text, v.last_effective_date
		FROM {volumes} v JOIN unnest($2::text[], $3::text[]) AS k(address, asset)
		ON v.address = k.address AND v.asset = k.asset
		WHERE v.ledger = $1
		UNION ALL
		SELECT v.address, v.asset, v.input::text, v.output::text, v.last_effective_date
		FROM {volumes} v JOIN unnest($4::text[], $5::text[]) AS f(address, base)
		ON v.address = f.address AND split_part(v.asset, '/', 1) = f.base
		WHERE v.ledger = $1`), db.ledger.Name, accounts, assets, familyAccounts, bases)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			k             key
			input, output string
			b             balance
		)
		if err := rows.Scan(&k.account, &k.asset, &input, &output, &b.lastEffective); err != nil {
			return nil, err
		}
		b.volumes = ledger.Volumes{Input: parseInt(input), Output: parseInt(output)}
		out[k] = b
	}
	return out, rows.Err()
}

func (db *bucketDB) accounts(ctx context.Context, addresses []string) (map[string]account, error) {
	out := map[string]account{}
	if len(addresses) == 0 {
		return out, nil
	}
	rows, err := db.tx.Query(ctx, db.q(`SELECT address, first_usage FROM {accounts} WHERE ledger = $1 AND address = ANY($2)`),
		db.ledger.Name, addresses)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			address string
			a       = account{exists: true}
		)
		if err := rows.Scan(&address, &a.firstUsage); err != nil {
			return nil, err
		}
		out[address] = a
	}
	return out, rows.Err()
}

// accountMetadata reads the metadata of the given accounts; an account
// the ledger lacks is left out.
func (db *bucketDB) accountMetadata(ctx context.Context, addresses []string) (map[string]ledger.Metadata, error) {
	out := map[string]ledger.Metadata{}
	if len(addresses) == 0 {
		return out, nil
	}
	rows, err := db.tx.Query(ctx, db.q(`SELECT address, metadata FROM {accounts} WHERE ledger = $1 AND address = ANY($2)`),
		db.ledger.Name, addresses)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			address string
			md      ledger.Metadata
		)
		if err := rows.Scan(&address, &md); err != nil {
			return nil, err
		}
		out[address] = md
	}
	return out, rows.Err()
}

func parseInt(s string) *big.Int {
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic("eventstore: numeric column is not an integer: " + s)
	}
	return n
}

func numeric(n *big.Int) pgtype.Numeric {
	return pgtype.Numeric{Int: new(big.Int).Set(n), Valid: true}
}

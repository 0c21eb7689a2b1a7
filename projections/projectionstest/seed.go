// Package projectionstest seeds ledgers for the tests of the read side
// without the write path: it creates a ledger and its bucket with plain
// SQL, and replays logs into the bucket's tables the way the event store
// projects them (transactions, accounts, volumes, moves with post-commit
// volumes in both orders, metadata history, logs).
package projectionstest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kontorhq/kontor/domain/ledger"
)

// Seeder writes one ledger's data.
type Seeder struct {
	t      testing.TB
	pool   *pgxpool.Pool
	Ledger ledger.Ledger

	volumes   ledger.PostCommitVolumes
	accounts  map[string]*account
	txs       map[uint64]*ledger.Transaction
	revisions map[uint64]int
	seq       int64
	lastLog   uint64
	lastTx    uint64
}

type account struct {
	firstUsage time.Time
	metadata   ledger.Metadata
	revision   int
}

// NewSeeder creates the ledger name in bucket with features (nil: the
// defaults), creating the bucket's tables from eventstore/bucket.sql.
func NewSeeder(t testing.TB, pool *pgxpool.Pool, name, bucket string, features ledger.Features) *Seeder {
	t.Helper()
	ctx := context.Background()
	_, self, _, _ := runtime.Caller(0)
	ddl, err := os.ReadFile(filepath.Join(filepath.Dir(self), "..", "..", "eventstore", "bucket.sql"))
	if err != nil {
		t.Fatalf("projectionstest: %v", err)
	}
	schema := pgx.Identifier{bucket}.Sanitize()
	if _, err := pool.Exec(ctx, strings.ReplaceAll(string(ddl), "BUCKET", schema)); err != nil {
		t.Fatalf("projectionstest: create bucket %s: %v", bucket, err)
	}
	l := ledger.Ledger{Name: name, Bucket: bucket, Metadata: ledger.Metadata{}, Features: features.WithDefaults()}
	var added time.Time
	err = pool.QueryRow(ctx, `INSERT INTO _system.ledgers (name, bucket, metadata, features, state)
		VALUES ($1, $2, $3, $4, 'in-use') RETURNING id, added_at`, name, bucket, l.Metadata, l.Features).Scan(&l.ID, &added)
	if err != nil {
		t.Fatalf("projectionstest: create ledger %s: %v", name, err)
	}
	l.AddedAt, l.State = ledger.NewTime(added), ledger.LedgerStateInUse
	return &Seeder{
		t: t, pool: pool, Ledger: l,
		volumes:   ledger.PostCommitVolumes{},
		accounts:  map[string]*account{},
		txs:       map[uint64]*ledger.Transaction{},
		revisions: map[uint64]int{},
	}
}

// ReadLogs reads a JSON-lines log export.
func ReadLogs(t testing.TB, path string) []ledger.Log {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("projectionstest: %v", err)
	}
	var logs []ledger.Log
	scanner := bufio.NewScanner(bytes.NewReader(raw))
	scanner.Buffer(nil, 1<<24)
	for scanner.Scan() {
		var log ledger.Log
		if err := json.Unmarshal(scanner.Bytes(), &log); err != nil {
			t.Fatalf("projectionstest: %s: %v", path, err)
		}
		logs = append(logs, log)
	}
	return logs
}

// Transaction commits postings dated at timestamp (inserted at
// insertedAt) with metadata and reference, through a NEW_TRANSACTION log,
// and returns it.
func (s *Seeder) Transaction(timestamp, insertedAt time.Time, metadata ledger.Metadata, reference string, postings ...ledger.Posting) ledger.Transaction {
	s.t.Helper()
	at := ledger.NewTime(insertedAt)
	tx := ledger.Transaction{
		ID:                s.lastTx + 1,
		Postings:          postings,
		Metadata:          metadata,
		Timestamp:         ledger.NewTime(timestamp),
		Reference:         reference,
		InsertedAt:        at,
		UpdatedAt:         at,
		PostCommitVolumes: ledger.ComputePostCommitVolumes(postings, s.volumes.Get),
	}
	log := ledger.NewLog(ledger.CreatedTransaction{Transaction: tx})
	log.ID, log.Date = s.lastLog+1, at
	s.Apply(log)
	return tx
}

// Revert reverts the transaction id at date, through a
// REVERTED_TRANSACTION log, and returns the reverse transaction.
func (s *Seeder) Revert(id uint64, date time.Time) ledger.Transaction {
	s.t.Helper()
	at := ledger.NewTime(date)
	p, err := s.txs[id].Revert(at, false, nil)
	if err != nil {
		s.t.Fatalf("projectionstest: revert %d: %v", id, err)
	}
	p.RevertTransaction.ID = s.lastTx + 1
	p.RevertTransaction.PostCommitVolumes = ledger.ComputePostCommitVolumes(p.RevertTransaction.Postings, s.volumes.Get)
	log := ledger.NewLog(p)
	log.ID, log.Date = s.lastLog+1, at
	s.Apply(log)
	return p.RevertTransaction
}

// SetMetadata adds metadata to a target at date, through a SET_METADATA log.
func (s *Seeder) SetMetadata(date time.Time, target ledger.MetadataTarget, metadata ledger.Metadata) {
	s.t.Helper()
	log := ledger.NewLog(ledger.SavedMetadata{Target: target, Metadata: metadata})
	log.ID, log.Date = s.lastLog+1, ledger.NewTime(date)
	s.Apply(log)
}

// Apply writes the effects of logs, in order, in one PostgreSQL
// transaction.
func (s *Seeder) Apply(logs ...ledger.Log) {
	s.t.Helper()
	batch := &pgx.Batch{}
	for _, log := range logs {
		s.log(batch, log)
		switch p := log.Data.(type) {
		case ledger.CreatedTransaction:
			s.transaction(batch, p.Transaction)
			for address, metadata := range p.AccountMetadata {
				s.accountMetadata(batch, address, log.Date.Time, func(m ledger.Metadata) { maps(m, metadata) })
			}
		case ledger.RevertedTransaction:
			s.transaction(batch, p.RevertTransaction)
			s.reverted(batch, p.RevertedTransaction.ID, p.RevertedTransaction.RevertedAt.Time)
		case ledger.SavedMetadata:
			s.metadata(batch, p.Target, log.Date.Time, func(m ledger.Metadata) { maps(m, p.Metadata) })
		case ledger.DeletedMetadata:
			s.metadata(batch, p.Target, log.Date.Time, func(m ledger.Metadata) { delete(m, p.Key) })
		}
	}
	if s.Ledger.Features[ledger.FeatureMovesHistoryPostCommitEffectiveVolumes] == "SYNC" {
		// Effective volumes: running sums in (effective date, seq) order.
		batch.Queue(s.q(`UPDATE {moves} m SET pcev_input = x.i, pcev_output = x.o FROM (
			SELECT seq, sum(CASE WHEN is_source THEN 0 ELSE amount END) OVER w AS i,
				sum(CASE WHEN is_source THEN amount ELSE 0 END) OVER w AS o
			FROM {moves} WHERE ledger = $1
			WINDOW w AS (PARTITION BY account, asset ORDER BY effective_date, seq)) x
			WHERE m.ledger = $1 AND m.seq = x.seq`), s.Ledger.Name)
	}
	ctx := context.Background()
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return tx.SendBatch(ctx, batch).Close()
	})
	if err != nil {
		s.t.Fatalf("projectionstest: apply: %v", err)
	}
}

func maps(dst, src ledger.Metadata) {
	for k, v := range src {
		dst[k] = v
	}
}

// q qualifies the table names of sql ("{moves}") with the bucket.
func (s *Seeder) q(sql string) string {
	schema := pgx.Identifier{s.Ledger.Bucket}.Sanitize() + "."
	var pairs []string
	for _, table := range []string{"logs", "transactions", "transactions_metadata", "accounts",
		"accounts_metadata", "volumes", "moves"} {
		pairs = append(pairs, "{"+table+"}", schema+table)
	}
	return strings.NewReplacer(pairs...).Replace(sql)
}

func (s *Seeder) feature(name, value string) bool {
	return s.Ledger.Features[name] == value
}

func (s *Seeder) log(batch *pgx.Batch, log ledger.Log) {
	data, err := json.Marshal(log.Data)
	if err != nil {
		s.t.Fatal(err)
	}
	batch.Queue(s.q(`INSERT INTO {logs} (ledger, id, type, date, data, hash, idempotency_key, idempotency_hash)
		VALUES ($1, $2, $3, $4, $5, $6, nullif($7, ''), nullif($8, ''))`),
		s.Ledger.Name, int64(log.ID), string(log.Type()), log.Date.Time, string(data), log.Hash,
		log.IdempotencyKey, log.IdempotencyHash)
	s.lastLog = log.ID
}

func (s *Seeder) transaction(batch *pgx.Batch, tx ledger.Transaction) {
	postings, err := json.Marshal(tx.Postings)
	if err != nil {
		s.t.Fatal(err)
	}
	// As the writer does: a ledger keeping moves leaves the addresses out.
	var sources, destinations []string
	if !s.feature(ledger.FeatureMovesHistory, "ON") {
		for _, p := range tx.Postings {
			if !slices.Contains(sources, p.Source) {
				sources = append(sources, p.Source)
			}
			if !slices.Contains(destinations, p.Destination) {
				destinations = append(destinations, p.Destination)
			}
		}
	}
	pcv := map[string]map[string]map[string]*big.Int{}
	for address, byAsset := range tx.PostCommitVolumes {
		pcv[address] = map[string]map[string]*big.Int{}
		for asset, v := range byAsset {
			v = v.Copy()
			pcv[address][asset] = map[string]*big.Int{"input": v.Input, "output": v.Output}
		}
	}
	metadata := tx.Metadata.Clone()
	batch.Queue(s.q(`INSERT INTO {transactions} (ledger, id, timestamp, reference, inserted_at, updated_at,
			postings, metadata, post_commit_volumes, sources, destinations)
		VALUES ($1, $2, $3, nullif($4, ''), $5, $6, $7, $8, $9, $10, $11)`),
		s.Ledger.Name, int64(tx.ID), tx.Timestamp.Time, tx.Reference, tx.InsertedAt.Time, tx.UpdatedAt.Time,
		string(postings), metadata, pcv, sources, destinations)
	stored := tx
	stored.Metadata = metadata
	s.txs[tx.ID] = &stored
	s.lastTx = max(s.lastTx, tx.ID)

	for _, p := range tx.Postings {
		s.touch(batch, p.Destination, tx)
		s.touch(batch, p.Source, tx)
		s.move(batch, tx, p.Destination, p.Asset, p.Amount, false)
		s.move(batch, tx, p.Source, p.Asset, p.Amount, true)
	}
}

// touch creates the account at its first use, and moves its first usage
// back when tx is dated before it.
func (s *Seeder) touch(batch *pgx.Batch, address string, tx ledger.Transaction) {
	a, ok := s.accounts[address]
	switch {
	case !ok:
		a = &account{firstUsage: tx.Timestamp.Time, metadata: ledger.Metadata{}}
		s.accounts[address] = a
		batch.Queue(s.q(`INSERT INTO {accounts} (ledger, address, address_array, metadata, first_usage, insertion_date, updated_at)
			VALUES ($1, $2, $3, '{}', $4, $5, $5)`),
			s.Ledger.Name, address, strings.Split(address, ":"), tx.Timestamp.Time, tx.InsertedAt.Time)
		s.accountRevision(batch, address, tx.InsertedAt.Time)
	case tx.Timestamp.Before(a.firstUsage):
		a.firstUsage = tx.Timestamp.Time
		batch.Queue(s.q(`UPDATE {accounts} SET first_usage = $3, updated_at = $4 WHERE ledger = $1 AND address = $2`),
			s.Ledger.Name, address, tx.Timestamp.Time, tx.InsertedAt.Time)
	}
}

func (s *Seeder) move(batch *pgx.Batch, tx ledger.Transaction, address, asset string, amount *big.Int, source bool) {
	if source {
		s.volumes.AddOutput(address, asset, amount)
	} else {
		s.volumes.AddInput(address, asset, amount)
	}
	v := s.volumes.Get(address, asset)
	batch.Queue(s.q(`INSERT INTO {volumes} AS v (ledger, address, asset, input, output, last_effective_date)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (ledger, address, asset) DO UPDATE SET input = excluded.input, output = excluded.output,
			last_effective_date = greatest(v.last_effective_date, excluded.last_effective_date)`),
		s.Ledger.Name, address, asset, numeric(v.Input), numeric(v.Output), tx.Timestamp.Time)
	if !s.feature(ledger.FeatureMovesHistory, "ON") {
		return
	}
	s.seq++
	batch.Queue(s.q(`INSERT INTO {moves} (ledger, seq, transaction_id, account, asset, amount, is_source,
			insertion_date, effective_date, pcv_input, pcv_output)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`),
		s.Ledger.Name, s.seq, int64(tx.ID), address, asset, numeric(amount), source,
		tx.InsertedAt.Time, tx.Timestamp.Time, numeric(v.Input), numeric(v.Output))
}

func (s *Seeder) reverted(batch *pgx.Batch, id uint64, at time.Time) {
	batch.Queue(s.q(`UPDATE {transactions} SET reverted_at = $3, updated_at = $3 WHERE ledger = $1 AND id = $2`),
		s.Ledger.Name, int64(id), at)
	if tx := s.txs[id]; tx != nil {
		*tx = tx.WithRevertedAt(ledger.NewTime(at))
		s.txRevision(batch, id, at, tx.Metadata)
	}
}

func (s *Seeder) metadata(batch *pgx.Batch, target ledger.MetadataTarget, at time.Time, change func(ledger.Metadata)) {
	if target.Type == ledger.TargetAccount {
		s.accountMetadata(batch, target.Address, at, change)
		return
	}
	tx := s.txs[target.TransactionID]
	before := tx.Metadata.Clone()
	change(tx.Metadata)
	batch.Queue(s.q(`UPDATE {transactions} SET metadata = $3, updated_at = $4 WHERE ledger = $1 AND id = $2`),
		s.Ledger.Name, int64(tx.ID), tx.Metadata.Clone(), at)
	s.txRevision(batch, tx.ID, at, before)
}

func (s *Seeder) accountMetadata(batch *pgx.Batch, address string, at time.Time, change func(ledger.Metadata)) {
	a, ok := s.accounts[address]
	if !ok {
		a = &account{firstUsage: at, metadata: ledger.Metadata{}}
		s.accounts[address] = a
		batch.Queue(s.q(`INSERT INTO {accounts} (ledger, address, address_array, metadata, first_usage, insertion_date, updated_at)
			VALUES ($1, $2, $3, '{}', $4, $4, $4)`), s.Ledger.Name, address, strings.Split(address, ":"), at)
	}
	change(a.metadata)
	batch.Queue(s.q(`UPDATE {accounts} SET metadata = $3, updated_at = $4 WHERE ledger = $1 AND address = $2`),
		s.Ledger.Name, address, a.metadata.Clone(), at)
	s.accountRevision(batch, address, at)
}

// txRevision records a change of a transaction's metadata as the writer
// does: the first change also records revision 1, the metadata the
// transaction was created with (before), dated at its timestamp.
func (s *Seeder) txRevision(batch *pgx.Batch, id uint64, at time.Time, before ledger.Metadata) {
	if !s.feature(ledger.FeatureTransactionMetadataHistory, "SYNC") {
		return
	}
	insert := s.q(`INSERT INTO {transactions_metadata} (ledger, transaction_id, revision, date, metadata)
		VALUES ($1, $2, $3, $4, $5)`)
	if s.revisions[id] == 0 {
		s.revisions[id] = 1
		batch.Queue(insert, s.Ledger.Name, int64(id), 1, s.txs[id].Timestamp.Time, before.Clone())
	}
	s.revisions[id]++
	batch.Queue(insert, s.Ledger.Name, int64(id), s.revisions[id], at, s.txs[id].Metadata.Clone())
}

func (s *Seeder) accountRevision(batch *pgx.Batch, address string, at time.Time) {
	if !s.feature(ledger.FeatureAccountMetadataHistory, "SYNC") {
		return
	}
	a := s.accounts[address]
	a.revision++
	batch.Queue(s.q(`INSERT INTO {accounts_metadata} (ledger, address, revision, date, metadata)
		VALUES ($1, $2, $3, $4, $5)`), s.Ledger.Name, address, a.revision, at, a.metadata.Clone())
}

func numeric(n *big.Int) pgtype.Numeric {
	if n == nil {
		n = new(big.Int)
	}
	return pgtype.Numeric{Int: new(big.Int).Set(n), Valid: true}
}

package eventstore

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/kontorhq/kontor/domain/ledger"
)

// flush writes what the batch produced: moves first (so that back-dated
// effective volumes can be computed before the transactions and logs that
// carry them are written), then transactions, logs, volumes, accounts and
// the updates of existing rows, in command order. A log's payload shares
// the volume maps of its transaction, so the patched effective volumes
// reach the log and the caller's result too.
func (b *batch) flush(ctx context.Context, db *bucketDB) error {
	if len(b.logs) == 0 {
		return nil
	}
	steps := []func(context.Context, *bucketDB) error{
		b.writeMoves, b.fixBackDatedMoves, b.writeTransactions, b.writeLogs,
		b.writeVolumes, b.writeAccounts, b.writeUpdates,
	}
	for _, step := range steps {
		if err := step(ctx, db); err != nil {
			return err
		}
	}
	return nil
}

func (b *batch) history(feature string) bool { return b.feature(feature, "SYNC") }

func copyRows(ctx context.Context, db *bucketDB, table string, columns []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	_, err := db.tx.CopyFrom(ctx, pgx.Identifier{db.ledger.Bucket, table}, columns, pgx.CopyFromRows(rows))
	if err != nil {
		return fmt.Errorf("insert %s: %w", table, err)
	}
	return nil
}

func (b *batch) writeMoves(ctx context.Context, db *bucketDB) error {
	rows := make([][]any, len(b.moves))
	for i, m := range b.moves {
		pcevIn, pcevOut := pgtype.Numeric{}, pgtype.Numeric{}
		if m.pcev != nil {
			pcevIn, pcevOut = numeric(m.pcev.Input), numeric(m.pcev.Output)
		}
		rows[i] = []any{db.ledger.Name, m.seq, int64(m.txID), m.account, m.asset, numeric(m.amount), m.isSource,
			b.now.Time, m.effective, numeric(m.pcv.Input), numeric(m.pcv.Output), pcevIn, pcevOut}
	}
	return copyRows(ctx, db, "moves", []string{"ledger", "seq", "transaction_id", "account", "asset", "amount",
		"is_source", "insertion_date", "effective_date", "pcv_input", "pcv_output", "pcev_input", "pcev_output"}, rows)
}

// fixBackDatedMoves computes, in command order, the effective volumes of
// every move dated before an existing move of its account and asset, and
// adds its amount to the effective volumes of the moves it precedes.
func (b *batch) fixBackDatedMoves(ctx context.Context, db *bucketDB) error {
	if !b.feature(ledger.FeatureMovesHistoryPostCommitEffectiveVolumes, "SYNC") {
		return nil
	}
	sql := db.q(`WITH prev AS (
			SELECT pcev_input, pcev_output FROM {moves}
			WHERE ledger = $1 AND account = $2 AND asset = $3 AND (effective_date, seq) < ($4, $5)
			ORDER BY effective_date DESC, seq DESC LIMIT 1
		), later AS (
			UPDATE {moves} SET pcev_input = pcev_input + $6, pcev_output = pcev_output + $7
			WHERE ledger = $1 AND account = $2 AND asset = $3 AND effective_date > $4 AND seq < $5
		)
		UPDATE {moves} SET
			pcev_input = coalesce((SELECT pcev_input FROM prev), 0) + $6,
			pcev_output = coalesce((SELECT pcev_output FROM prev), 0) + $7
		WHERE ledger = $1 AND seq = $5
		RETURNING pcev_input::text, pcev_output::text`)
	for _, m := range b.moves {
		if m.pcev != nil {
			continue
		}
		in, out := new(big.Int), new(big.Int)
		if m.isSource {
			out.Set(m.amount)
		} else {
			in.Set(m.amount)
		}
		var pcevIn, pcevOut string
		if err := db.tx.QueryRow(ctx, sql, db.ledger.Name, m.account, m.asset, m.effective, m.seq,
			numeric(in), numeric(out)).Scan(&pcevIn, &pcevOut); err != nil {
			return fmt.Errorf("back-dated move %d: %w", m.seq, err)
		}
		if m.lastOfTxInKey {
			put(m.tx.PostCommitEffectiveVolumes, m.account, m.asset,
				ledger.Volumes{Input: parseInt(pcevIn), Output: parseInt(pcevOut)})
		}
	}
	return nil
}

func (b *batch) writeTransactions(ctx context.Context, db *bucketDB) error {
	rows := make([][]any, len(b.newTxs))
	var history [][]any
	for i, tx := range b.newTxs {
		postings, err := json.Marshal(tx.Postings)
		if err != nil {
			return err
		}
		metadata, _ := json.Marshal(tx.Metadata)
		pcv, _ := json.Marshal(tx.PostCommitVolumes)
		sources, destinations := make([]string, len(tx.Postings)), make([]string, len(tx.Postings))
		for j, p := range tx.Postings {
			sources[j], destinations[j] = p.Source, p.Destination
		}
		var reference *string
		if tx.Reference != "" {
			reference = &tx.Reference
		}
		rows[i] = []any{db.ledger.Name, int64(tx.ID), tx.Timestamp.Time, reference, tx.InsertedAt.Time, tx.UpdatedAt.Time,
			postings, metadata, pcv, sources, destinations}
		if b.history(ledger.FeatureTransactionMetadataHistory) {
			history = append(history, []any{db.ledger.Name, int64(tx.ID), 1, tx.Timestamp.Time, metadata})
		}
	}
	err := copyRows(ctx, db, "transactions", []string{"ledger", "id", "timestamp", "reference", "inserted_at",
		"updated_at", "postings", "metadata", "post_commit_volumes", "sources", "destinations"}, rows)
	if err != nil {
		return err
	}
	return copyRows(ctx, db, "transactions_metadata", []string{"ledger", "transaction_id", "revision", "date", "metadata"}, history)
}

func (b *batch) writeLogs(ctx context.Context, db *bucketDB) error {
	rows := make([][]any, len(b.logs))
	for i, l := range b.logs {
		data, err := json.Marshal(l.Data)
		if err != nil {
			return err
		}
		memento, err := l.Memento()
		if err != nil {
			return err
		}
		rows[i] = []any{db.ledger.Name, int64(l.ID), string(l.Type()), l.Date.Time, data, memento, l.Hash,
			nullable(l.IdempotencyKey), nullable(l.IdempotencyHash)}
	}
	return copyRows(ctx, db, "logs", []string{"ledger", "id", "type", "date", "data", "memento", "hash",
		"idempotency_key", "idempotency_hash"}, rows)
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (b *batch) writeVolumes(ctx context.Context, db *bucketDB) error {
	if len(b.touched) == 0 {
		return nil
	}
	var accounts, assets, inputs, outputs []string
	var dates []time.Time
	for k := range b.touched {
		v := b.balances[k]
		accounts, assets = append(accounts, k.account), append(assets, k.asset)
		inputs, outputs = append(inputs, v.volumes.Input.String()), append(outputs, v.volumes.Output.String())
		dates = append(dates, v.lastEffective)
	}
	_, err := db.tx.Exec(ctx, db.q(`INSERT INTO {volumes} (ledger, address, asset, input, output, last_effective_date)
		SELECT $1, a, s, i::numeric, o::numeric, d FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[]) AS t(a, s, i, o, d)
		ON CONFLICT (ledger, address, asset) DO UPDATE
		SET input = excluded.input, output = excluded.output, last_effective_date = excluded.last_effective_date`),
		db.ledger.Name, accounts, assets, inputs, outputs, dates)
	if err != nil {
		return fmt.Errorf("write volumes: %w", err)
	}
	return nil
}

func (b *batch) writeAccounts(ctx context.Context, db *bucketDB) error {
	if len(b.newAccounts) == 0 {
		return nil
	}
	var addresses []string
	var firstUsages []time.Time
	for a := range b.newAccounts {
		addresses = append(addresses, a)
		firstUsages = append(firstUsages, b.accounts[a].firstUsage)
	}
	_, err := db.tx.Exec(ctx, db.q(`WITH upserted AS (
			INSERT INTO {accounts} (ledger, address, address_array, first_usage, insertion_date, updated_at)
			SELECT $1, a, string_to_array(a, ':'), f, $4, $4 FROM unnest($2::text[], $3::timestamptz[]) AS t(a, f)
			ON CONFLICT (ledger, address) DO UPDATE SET first_usage = least({accounts}.first_usage, excluded.first_usage)
			RETURNING address, metadata, (xmax = 0) AS inserted
		)
		INSERT INTO {accounts_metadata} (ledger, address, revision, date, metadata)
		SELECT $1, address, 1, $4, metadata FROM upserted WHERE inserted AND $5`),
		db.ledger.Name, addresses, firstUsages, b.now.Time, b.history(ledger.FeatureAccountMetadataHistory))
	if err != nil {
		return fmt.Errorf("write accounts: %w", err)
	}
	return nil
}

// writeUpdates applies metadata changes and revert marks in command order,
// each with its metadata history revision when the ledger keeps history.
func (b *batch) writeUpdates(ctx context.Context, db *bucketDB) error {
	if len(b.updates) == 0 {
		return nil
	}
	txHistory := db.q(`INSERT INTO {transactions_metadata} (ledger, transaction_id, revision, date, metadata)
		SELECT u.ledger, u.id, coalesce((SELECT max(revision) FROM {transactions_metadata} h
			WHERE h.ledger = u.ledger AND h.transaction_id = u.id), 0) + 1, u.updated_at, u.metadata
		FROM u WHERE $4`)
	accountHistory := db.q(`INSERT INTO {accounts_metadata} (ledger, address, revision, date, metadata)
		SELECT u.ledger, u.address, coalesce((SELECT max(revision) FROM {accounts_metadata} h
			WHERE h.ledger = u.ledger AND h.address = u.address), 0) + 1, u.updated_at, u.metadata
		FROM u WHERE $4`)
	txUpdate := func(set string) string {
		return db.q(`WITH u AS (UPDATE {transactions} SET `+set+`, updated_at = $5
			WHERE ledger = $1 AND id = $2 RETURNING ledger, id, metadata, updated_at) `) + txHistory
	}
	accountUpdate := func(set string) string {
		return db.q(`WITH u AS (UPDATE {accounts} SET `+set+`, updated_at = $5
			WHERE ledger = $1 AND address = $2 RETURNING ledger, address, metadata, updated_at) `) + accountHistory
	}
	txHist, accHist := b.history(ledger.FeatureTransactionMetadataHistory), b.history(ledger.FeatureAccountMetadataHistory)
	batch := &pgx.Batch{}
	for _, u := range b.updates {
		md, _ := json.Marshal(u.md)
		switch u.kind {
		case setTxMetadata:
			batch.Queue(txUpdate("metadata = metadata || $3"), db.ledger.Name, int64(u.txID), md, txHist, b.now.Time)
		case deleteTxMetadata:
			batch.Queue(txUpdate("metadata = metadata - $3::text"), db.ledger.Name, int64(u.txID), u.key, txHist, b.now.Time)
		case setAccountMetadata:
			batch.Queue(accountUpdate("metadata = metadata || $3"), db.ledger.Name, u.address, md, accHist, b.now.Time)
		case deleteAccountMetadata:
			batch.Queue(accountUpdate("metadata = metadata - $3::text"), db.ledger.Name, u.address, u.key, accHist, b.now.Time)
		case markReverted:
			batch.Queue(db.q(`UPDATE {transactions} SET reverted_at = $3, updated_at = $3 WHERE ledger = $1 AND id = $2`),
				db.ledger.Name, int64(u.txID), b.now.Time)
		}
	}
	if err := db.tx.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("write updates: %w", err)
	}
	return nil
}

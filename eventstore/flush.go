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

// build encodes what the batch produced into one pipeline of multi-row
// statements — moves, transactions, logs, volumes, accounts, then the
// updates of existing rows in command order — so that writing it is one
// round trip. It runs while the previous batch is being written. Back-dated
// moves need their effective volumes computed by the database before the
// transactions and logs that carry them are encoded, so a batch holding
// some is encoded by flush instead.
//
// A statement takes one array parameter per column and unnests them in its
// select list: PostgreSQL zips those row by row, where unnest in FROM first
// copies the rows into a tuplestore (a tenth of its time for the batch).
func (b *batch) build(db *bucketDB) error {
	if b.hasBackDatedMoves() {
		return nil
	}
	b.pipeline = &pgx.Batch{}
	if len(b.logs) == 0 {
		return nil // nothing to write, but it commits after what it saw
	}
	b.queueMoves(b.pipeline, db)
	return b.queueRest(b.pipeline, db)
}

// flush writes the batch inside the writer's explicit transaction: the
// pipeline build encoded, or, for a batch with back-dated moves, its moves,
// their effective volumes, then the rest. A log's payload
// shares the volume maps of its transaction, so the effective volumes that
// back-dated moves receive reach the log and the caller's result too.
func (b *batch) flush(ctx context.Context, db *bucketDB) error {
	if len(b.logs) == 0 {
		return nil
	}
	pipeline := b.pipeline
	if pipeline == nil {
		if err := b.sendMoves(ctx, db); err != nil {
			return err
		}
		if err := b.fixBackDatedMoves(ctx, db); err != nil {
			return err
		}
		pipeline = &pgx.Batch{}
		if err := b.queueRest(pipeline, db); err != nil {
			return err
		}
	}
	if err := db.tx.SendBatch(ctx, pipeline).Close(); err != nil {
		return fmt.Errorf("write batch: %w", err)
	}
	return nil
}

// queueRest queues everything but the moves.
func (b *batch) queueRest(p *pgx.Batch, db *bucketDB) error {
	if err := b.queueTransactions(p, db); err != nil {
		return err
	}
	if !b.logsStored {
		if err := b.queueLogs(p, db); err != nil {
			return err
		}
	}
	b.queueVolumes(p, db)
	b.queueAccounts(p, db)
	b.queueUpdates(p, db)
	return nil
}

func (b *batch) history(feature string) bool { return b.feature(feature, "SYNC") }

func (b *batch) hasBackDatedMoves() bool {
	if !b.feature(ledger.FeatureMovesHistoryPostCommitEffectiveVolumes, "SYNC") {
		return false
	}
	for _, m := range b.moves {
		if !m.pcevIsPCV {
			return true
		}
	}
	return false
}

func (b *batch) queueMoves(p *pgx.Batch, db *bucketDB) {
	if len(b.moves) == 0 {
		return
	}
	n := len(b.moves)
	var (
		seqs, txIDs      = make([]int64, n), make([]int64, n)
		accounts, assets = make([]string, n), make([]string, n)
		amounts          = make([]pgtype.Numeric, n)
		sources          = make([]bool, n)
		effective        = make([]time.Time, n)
		inserted         = make([]time.Time, n)
		pcvIn, pcvOut    = make([]pgtype.Numeric, n), make([]pgtype.Numeric, n)
		pcevIn, pcevOut  = make([]pgtype.Numeric, n), make([]pgtype.Numeric, n)
	)
	for i, m := range b.moves {
		seqs[i], txIDs[i], accounts[i], assets[i] = m.seq, int64(m.txID), m.account, m.asset
		amounts[i], sources[i], effective[i], inserted[i] = numeric(m.amount), m.isSource, m.effective, m.tx.InsertedAt.Time
		pcvIn[i], pcvOut[i] = numeric(m.pcv.Input), numeric(m.pcv.Output)
		if m.pcevIsPCV {
			pcevIn[i], pcevOut[i] = pcvIn[i], pcvOut[i]
		}
	}
	p.Queue(db.q(`INSERT INTO {moves} (ledger, insertion_date, seq, transaction_id, account, asset, amount, is_source,
			effective_date, pcv_input, pcv_output, pcev_input, pcev_output)
		SELECT $1, unnest($2::timestamptz[]), unnest($3::bigint[]), unnest($4::bigint[]), unnest($5::text[]),
			unnest($6::text[]), unnest($7::numeric[]), unnest($8::boolean[]), unnest($9::timestamptz[]),
			unnest($10::numeric[]), unnest($11::numeric[]), unnest($12::numeric[]), unnest($13::numeric[])`),
		db.ledger.Name, inserted, seqs, txIDs, accounts, assets, amounts, sources, effective, pcvIn, pcvOut, pcevIn, pcevOut)
}

func (b *batch) sendMoves(ctx context.Context, db *bucketDB) error {
	p := &pgx.Batch{}
	b.queueMoves(p, db)
	if err := db.tx.SendBatch(ctx, p).Close(); err != nil {
		return fmt.Errorf("write moves: %w", err)
	}
	return nil
}

// fixBackDatedMoves computes, in command order, the effective volumes of
// every move dated before an existing move of its account and asset, and
// adds its amount to the effective volumes of the moves it precedes.
func (b *batch) fixBackDatedMoves(ctx context.Context, db *bucketDB) error {
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
		WHERE ledger = $1 AND transaction_id = $8 AND seq = $5
		RETURNING pcev_input::text, pcev_output::text`)
	for _, m := range b.moves {
		if m.pcevIsPCV {
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
			numeric(in), numeric(out), int64(m.txID)).Scan(&pcevIn, &pcevOut); err != nil {
			return fmt.Errorf("back-dated move %d: %w", m.seq, err)
		}
		if m.lastOfTxInKey {
			put(m.tx.PostCommitEffectiveVolumes, m.account, m.asset,
				ledger.Volumes{Input: parseInt(pcevIn), Output: parseInt(pcevOut)})
		}
	}
	return nil
}

func (b *batch) queueTransactions(p *pgx.Batch, db *bucketDB) error {
	if len(b.newTxs) == 0 {
		return nil
	}
	n := len(b.newTxs)
	ids, timestamps := make([]int64, n), make([]time.Time, n)
	inserted, updated := make([]time.Time, n), make([]time.Time, n)
	references := make([]pgtype.Text, n)
	for i, tx := range b.newTxs {
		ids[i], timestamps[i] = int64(tx.ID), tx.Timestamp.Time
		inserted[i], updated[i] = tx.InsertedAt.Time, tx.UpdatedAt.Time
		references[i] = pgtype.Text{String: tx.Reference, Valid: tx.Reference != ""}
	}
	// The hand-written encoders, called directly: encoding/json would only
	// re-check their output. A ledger keeping moves finds a transaction's
	// addresses in them and leaves its sources and destinations NULL.
	addresses := !b.feature(ledger.FeatureMovesHistory, "ON")
	t := texts{buf: make([]byte, 0, 256*n), ends: make([]int, 0, 5*n)}
	for _, tx := range b.newTxs {
		t.end(tx.Postings.AppendJSON(t.buf))
	}
	for _, tx := range b.newTxs {
		t.end(tx.Metadata.AppendJSON(t.buf))
	}
	for _, tx := range b.newTxs {
		t.end(tx.PostCommitVolumes.AppendJSON(t.buf))
	}
	if addresses {
		for _, tx := range b.newTxs {
			t.end(appendArrayLiteral(t.buf, tx.Postings, true))
		}
		for _, tx := range b.newTxs {
			t.end(appendArrayLiteral(t.buf, tx.Postings, false))
		}
	}
	columns := t.strings()
	args := []any{db.ledger.Name, inserted, ids, timestamps, references, columns[:n], columns[n : 2*n], columns[2*n : 3*n], updated}
	if !addresses {
		p.Queue(db.q(insertTransactions), args...)
		return nil
	}
	p.Queue(db.q(insertTransactionsAddresses), append(args, columns[3*n:4*n], columns[4*n:])...)
	return nil
}

// insertTransactions inserts transactions, one array parameter per column;
// insertTransactionsAddresses also their sources and destinations.
const (
	transactionColumns = `ledger, inserted_at, updated_at, id, timestamp, reference, postings, metadata, post_commit_volumes`
	transactionValues  = `$1, unnest($2::timestamptz[]), unnest($9::timestamptz[]), unnest($3::bigint[]),
		unnest($4::timestamptz[]), unnest($5::text[]), unnest($6::text[])::json, unnest($7::text[])::jsonb,
		unnest($8::text[])::json`
	insertTransactions          = `INSERT INTO {transactions} (` + transactionColumns + `) SELECT ` + transactionValues
	insertTransactionsAddresses = `INSERT INTO {transactions} (` + transactionColumns + `, sources, destinations)
		SELECT ` + transactionValues + `, unnest($10::text[])::text[], unnest($11::text[])::text[]`
)

// texts renders many text values into one buffer, turned into one string:
// each value is a slice of it rather than a string of its own.
type texts struct {
	buf  []byte
	ends []int
}

// end takes buf, t.buf with one more value appended, and ends that value.
func (t *texts) end(buf []byte) {
	t.buf, t.ends = buf, append(t.ends, len(buf))
}

// strings returns the values, in the order they were appended.
func (t *texts) strings() []string {
	all := string(t.buf)
	out := make([]string, len(t.ends))
	start := 0
	for i, end := range t.ends {
		out[i], start = all[start:end], end
	}
	return out
}

// appendArrayLiteral appends the sources (or destinations) of postings as
// a PostgreSQL array literal; addresses hold no character that needs quoting.
func appendArrayLiteral(b []byte, postings ledger.Postings, sources bool) []byte {
	b = append(b, '{')
	for i, p := range postings {
		if i > 0 {
			b = append(b, ',')
		}
		if sources {
			b = append(b, p.Source...)
		} else {
			b = append(b, p.Destination...)
		}
	}
	return append(b, '}')
}

func (b *batch) queueLogs(p *pgx.Batch, db *bucketDB) error {
	n := len(b.logs)
	ids, dates := make([]int64, n), make([]time.Time, n)
	types, iks, ikHashes := make([]string, n), make([]pgtype.Text, n), make([]pgtype.Text, n)
	hashes := make([][]byte, n)
	t := texts{buf: make([]byte, 0, 512*n), ends: make([]int, 0, n)}
	for i, l := range b.logs {
		buf, tx, err := appendPayload(t.buf, l.Data)
		if err != nil {
			return err
		}
		t.end(buf)
		if tx != nil {
			if b.encoded == nil {
				b.encoded = map[uint64][]byte{}
			}
			b.encoded[l.ID] = tx
		}
		ids[i], dates[i], types[i], hashes[i] = int64(l.ID), l.Date.Time, string(l.Type()), l.Hash
		iks[i] = pgtype.Text{String: l.IdempotencyKey, Valid: l.IdempotencyKey != ""}
		ikHashes[i] = pgtype.Text{String: l.IdempotencyHash, Valid: l.IdempotencyHash != ""}
	}
	data := t.strings()
	p.Queue(db.q(`INSERT INTO {logs} (ledger, date, id, type, data, hash, idempotency_key, idempotency_hash)
		SELECT $1, unnest($2::timestamptz[]), unnest($3::bigint[]), unnest($4::text[]), unnest($5::text[])::json,
			unnest($6::bytea[]), unnest($7::text[]), unnest($8::text[])`),
		db.ledger.Name, dates, ids, types, data, hashes, iks, ikHashes)
	return nil
}

func (b *batch) queueVolumes(p *pgx.Batch, db *bucketDB) {
	if len(b.touched) == 0 {
		return
	}
	n := len(b.touched)
	accounts, assets := make([]string, 0, n), make([]string, 0, n)
	inputs, outputs := make([]pgtype.Numeric, 0, n), make([]pgtype.Numeric, 0, n)
	dates := make([]time.Time, 0, n)
	for k := range b.touched {
		v := b.balances[k]
		accounts, assets = append(accounts, k.account), append(assets, k.asset)
		inputs, outputs = append(inputs, numeric(v.volumes.Input)), append(outputs, numeric(v.volumes.Output))
		dates = append(dates, v.lastEffective)
	}
	p.Queue(db.q(`INSERT INTO {volumes} (ledger, address, asset, input, output, last_effective_date)
		SELECT $1, unnest($2::text[]), unnest($3::text[]), unnest($4::numeric[]), unnest($5::numeric[]),
			unnest($6::timestamptz[])
		ON CONFLICT (ledger, address, asset) DO UPDATE
		SET input = excluded.input, output = excluded.output, last_effective_date = excluded.last_effective_date`),
		db.ledger.Name, accounts, assets, inputs, outputs, dates)
}

func (b *batch) queueAccounts(p *pgx.Batch, db *bucketDB) {
	if len(b.newAccounts) == 0 {
		return
	}
	n := len(b.newAccounts)
	addresses, firstUsages, inserted := make([]string, 0, n), make([]time.Time, 0, n), make([]time.Time, 0, n)
	for a, at := range b.newAccounts {
		addresses = append(addresses, a)
		firstUsages = append(firstUsages, b.accounts[a].firstUsage)
		inserted = append(inserted, at)
	}
	p.Queue(db.q(`WITH upserted AS (
			INSERT INTO {accounts} (ledger, address, address_array, first_usage, insertion_date, updated_at)
			SELECT $1, a, string_to_array(a, ':'), f, i, i FROM unnest($2::text[], $3::timestamptz[], $4::timestamptz[]) AS t(a, f, i)
			ON CONFLICT (ledger, address) DO UPDATE SET first_usage = least({accounts}.first_usage, excluded.first_usage)
			RETURNING address, metadata, insertion_date, (xmax = 0) AS inserted
		)
		INSERT INTO {accounts_metadata} (ledger, address, revision, date, metadata)
		SELECT $1, address, 1, insertion_date, metadata FROM upserted WHERE inserted AND $5`),
		db.ledger.Name, addresses, firstUsages, inserted, b.history(ledger.FeatureAccountMetadataHistory))
}

// queueUpdates applies metadata changes and revert marks in command order,
// each with its metadata history revision when the ledger keeps history.
// A transaction's history starts at its first change, which also records
// revision 1: the metadata it was created with, dated at its timestamp (a
// transaction never changed has no history; readers take its metadata).
func (b *batch) queueUpdates(p *pgx.Batch, db *bucketDB) {
	txHistory := db.q(`, first AS (
			INSERT INTO {transactions_metadata} (ledger, transaction_id, revision, date, metadata)
			SELECT o.ledger, o.id, 1, o.timestamp, o.metadata FROM o
			WHERE $4 AND NOT EXISTS (SELECT FROM {transactions_metadata} h WHERE h.ledger = o.ledger AND h.transaction_id = o.id)
		)
		INSERT INTO {transactions_metadata} (ledger, transaction_id, revision, date, metadata)
		SELECT u.ledger, u.id, coalesce((SELECT max(revision) FROM {transactions_metadata} h
			WHERE h.ledger = u.ledger AND h.transaction_id = u.id), 1) + 1, u.updated_at, u.metadata
		FROM u WHERE $4`)
	accountHistory := db.q(`INSERT INTO {accounts_metadata} (ledger, address, revision, date, metadata)
		SELECT u.ledger, u.address, coalesce((SELECT max(revision) FROM {accounts_metadata} h
			WHERE h.ledger = u.ledger AND h.address = u.address), 0) + 1, u.updated_at, u.metadata
		FROM u WHERE $4`)
	txUpdate := func(set string) string {
		return db.q(`WITH o AS (SELECT ledger, id, timestamp, metadata FROM {transactions} WHERE ledger = $1 AND id = $2),
			u AS (UPDATE {transactions} SET `+set+`, updated_at = $5
			WHERE ledger = $1 AND id = $2 RETURNING ledger, id, metadata, updated_at)`) + txHistory
	}
	accountUpdate := func(set string) string {
		return db.q(`WITH u AS (UPDATE {accounts} SET `+set+`, updated_at = $5
			WHERE ledger = $1 AND address = $2 RETURNING ledger, address, metadata, updated_at) `) + accountHistory
	}
	txHist, accHist := b.history(ledger.FeatureTransactionMetadataHistory), b.history(ledger.FeatureAccountMetadataHistory)
	for _, u := range b.updates {
		md, _ := json.Marshal(u.md)
		switch u.kind {
		case setTxMetadata:
			p.Queue(txUpdate("metadata = metadata || $3"), db.ledger.Name, int64(u.txID), md, txHist, u.at)
		case deleteTxMetadata:
			p.Queue(txUpdate("metadata = metadata - $3::text"), db.ledger.Name, int64(u.txID), u.key, txHist, u.at)
		case setAccountMetadata:
			p.Queue(accountUpdate("metadata = metadata || $3"), db.ledger.Name, u.address, md, accHist, u.at)
		case deleteAccountMetadata:
			p.Queue(accountUpdate("metadata = metadata - $3::text"), db.ledger.Name, u.address, u.key, accHist, u.at)
		case markReverted:
			p.Queue(db.q(`UPDATE {transactions} SET reverted_at = $3, updated_at = $3 WHERE ledger = $1 AND id = $2`),
				db.ledger.Name, int64(u.txID), u.at)
		}
	}
}

// appendPayload appends a log's data as the log stores it to b and
// returns, for a NEW_TRANSACTION log, the JSON of its transaction, which
// the caller's response reuses. Payloads with a hand-written encoder
// (transactions) are used as they are: encoding/json would only re-check
// their output.
func appendPayload(b []byte, p ledger.LogPayload) (data, tx []byte, err error) {
	created, ok := p.(ledger.CreatedTransaction)
	if !ok {
		data, err = json.Marshal(p)
		return append(b, data...), nil, err
	}
	data, tx = created.AppendStoredJSON(b)
	return data, tx, nil
}

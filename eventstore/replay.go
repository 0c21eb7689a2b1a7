package eventstore

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/kontorhq/kontor/domain"
	"github.com/kontorhq/kontor/domain/ledger"
)

// replayBatchSize is how many logs an import or a rebuild writes per batch.
const replayBatchSize = 1000

// Import replays the logs read from r — JSON objects, one per line, as
// the export writes them — into the named ledger, which must have no logs.
// Each log goes through the write path of live commands, keeping its ids,
// dates and idempotency key; its hash is recomputed and, when the log
// carries one, must match. The whole import is one PostgreSQL transaction
// holding the ledger's lock: on any error nothing of it remains. progress,
// if set, is called with the number of logs imported after each batch.
func (s *Store) Import(ctx context.Context, name string, r io.Reader, progress func(imported int)) (int, error) {
	dec := json.NewDecoder(r)
	return s.replayLogs(ctx, name, false, func(_ *bucketDB, read int) ([]ledger.Log, error) {
		var logs []ledger.Log
		for len(logs) < replayBatchSize {
			var l ledger.Log
			err := dec.Decode(&l)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, domain.Errorf(domain.CodeImport, "log #%d of the input is not a valid log: %v", read+len(logs)+1, err)
			}
			logs = append(logs, l)
		}
		return logs, nil
	}, progress)
}

// Rebuild drops the read models of the named ledger — transactions,
// accounts, volumes, moves, metadata history — and builds them again from
// its logs, through the write path, checking each log's hash on the way.
// It holds the ledger's lock in one PostgreSQL transaction: writers wait,
// readers see the old read models until it commits.
func (s *Store) Rebuild(ctx context.Context, name string, progress func(replayed int)) (int, error) {
	var last uint64
	return s.replayLogs(ctx, name, true, func(db *bucketDB, _ int) ([]ledger.Log, error) {
		logs, err := db.logsAfter(ctx, last, replayBatchSize)
		if len(logs) > 0 {
			last = logs[len(logs)-1].ID
		}
		return logs, err
	}, progress)
}

// replayLogs replays the logs next returns, batch after batch until an
// empty one, into the named ledger in one transaction holding its lock.
// An import needs a ledger without logs and writes them; a rebuild first
// deletes the ledger's read models and keeps its logs.
func (s *Store) replayLogs(ctx context.Context, name string, rebuild bool,
	next func(db *bucketDB, read int) ([]ledger.Log, error), progress func(int)) (int, error) {
	l, err := s.readLedger(ctx, name)
	if err != nil {
		return 0, err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("replay into %s: %w", name, err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	db := &bucketDB{tx: tx, ledger: l}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, ledgerLockID(l)); err != nil {
		return 0, fmt.Errorf("replay into %s: %w", name, err)
	}
	if rebuild {
		for _, table := range []string{"moves", "volumes", "accounts_metadata", "accounts", "transactions_metadata", "transactions"} {
			if _, err := tx.Exec(ctx, db.q(`DELETE FROM {`+table+`} WHERE ledger = $1`), name); err != nil {
				return 0, fmt.Errorf("rebuild %s: %w", name, err)
			}
		}
	}
	c := newCache()
	if err := c.load(ctx, db); err != nil {
		return 0, fmt.Errorf("replay into %s: %w", name, err)
	}
	switch {
	case rebuild:
		c.lastLogID, c.lastLogDate, c.lastHash = 0, time.Time{}, nil
	case c.lastLogID != 0:
		return 0, domain.Errorf(domain.CodeImport,
			"ledger %s already has %d logs: logs are imported only into a ledger without writes", name, c.lastLogID)
	}
	total := 0
	for {
		logs, err := next(db, total)
		if err != nil {
			return 0, err
		}
		if len(logs) == 0 {
			break
		}
		if err := replayBatch(ctx, c, db, logs, rebuild); err != nil {
			return 0, err
		}
		total += len(logs)
		if progress != nil {
			progress(total)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("replay into %s: %w", name, err)
	}
	return total, nil
}

// replayBatch replays logs as one batch on c in the replay's transaction;
// a rebuild writes everything but the logs, which are there already.
func replayBatch(ctx context.Context, c *cache, db *bucketDB, logs []ledger.Log, rebuild bool) error {
	reqs := make([]*pending, len(logs))
	for i := range logs {
		req := Request{Command: ledger.ReplayCommand(logs[i].Data), imported: &logs[i]}
		if !rebuild {
			// Prefetched, so that a key used twice is caught.
			req.IdempotencyKey = logs[i].IdempotencyKey
		}
		reqs[i] = &pending{req: req}
	}
	b := newBatch(c, nil, db.ledger.Features, ledger.Now())
	b.ctx, b.db, b.logsStored = ctx, db, rebuild
	if err := b.prefetch(ctx, db, reqs); err != nil {
		return err
	}
	for _, p := range reqs {
		if o := b.execute(p.req); o.err != nil {
			return o.err
		}
	}
	if err := b.build(db); err != nil {
		return err
	}
	if err := b.flush(ctx, db); err != nil {
		return err
	}
	b.commit()
	return nil
}

// replay applies a log being imported or rebuilt to the batch: the command its payload
// records is evaluated for the checks of a live write, then the payload
// itself is applied with the log's ids and dates, and the log's hash is
// recomputed on the chain and compared to the one it carries.
func (b *batch) replay(req Request) outcome {
	l := *req.imported
	fail := func(format string, args ...any) outcome {
		return outcome{err: domain.Errorf(domain.CodeImport, "log %d: "+format, append([]any{l.ID}, args...)...)}
	}
	if l.ID <= b.lastLogID {
		return fail("log ids must increase: it follows log %d", b.lastLogID)
	}
	if l.Data == nil {
		return fail("no data")
	}
	b.now = l.Date
	if _, err := req.Command.Evaluate(b, l.Date); err != nil {
		var de *domain.Error
		if errors.As(err, &de) {
			return fail("%s", de.Message)
		}
		return fail("%v", err)
	}
	if _, dup := b.idempotency[l.IdempotencyKey]; dup && l.IdempotencyKey != "" {
		return fail("idempotency key %q is used by an earlier log", l.IdempotencyKey)
	}
	if txID, ok := createdTransactionID(l.Data); ok {
		if txID <= b.lastTxID {
			return fail("transaction ids must increase from 1: transaction %d follows transaction %d", txID, b.lastTxID)
		}
		b.lastTxID = txID - 1
	}
	payload, _ := b.apply(l.Data)
	log := l
	log.Data, log.Hash = payload, nil
	hash, err := log.ComputeHash(b.lastHash)
	if err != nil {
		return fail("%v", err)
	}
	if l.Hash != nil && !bytes.Equal(hash, l.Hash) {
		return fail("hash mismatch: the log carries %s, its content chained on the previous log gives %s",
			base64.StdEncoding.EncodeToString(l.Hash), base64.StdEncoding.EncodeToString(hash))
	}
	b.lastHash = hash
	if b.feature(ledger.FeatureHashLogs, "SYNC") {
		log.Hash = hash
	}
	b.lastLogID, b.lastLogDate = log.ID, log.Date.Time
	if log.IdempotencyKey != "" {
		b.idempotency[log.IdempotencyKey] = log
	}
	b.logs = append(b.logs, log)
	return outcome{res: Result{Log: log}}
}

// createdTransactionID returns the id of the transaction a payload creates.
func createdTransactionID(p ledger.LogPayload) (uint64, bool) {
	switch p := p.(type) {
	case ledger.CreatedTransaction:
		return p.Transaction.ID, true
	case ledger.RevertedTransaction:
		return p.RevertTransaction.ID, true
	}
	return 0, false
}

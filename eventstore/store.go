// Package eventstore is the ledger's write side: the append-only,
// hash-chained log in PostgreSQL and the per-ledger sequencer that batches
// concurrent commands, evaluates them in order against an in-memory balance
// cache and writes each batch — logs and projections — in one PostgreSQL
// transaction (group commit).
package eventstore

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kontorhq/kontor/domain"
	"github.com/kontorhq/kontor/domain/ledger"
)

//go:embed bucket.sql
var bucketSQL string

// Options bound the write path.
type Options struct {
	// MaxBatch is the most commands written in one PostgreSQL transaction.
	MaxBatch int
	// QueueSize is the most commands waiting per ledger; more get a 503.
	QueueSize int
	// MaxCachedBalances bounds the per-ledger balance cache; it is emptied
	// when it grows past this.
	MaxCachedBalances int
	// Registerer, when set, receives the write path's metrics.
	Registerer prometheus.Registerer
	// Committed, when set, is called after each batch that wrote logs
	// commits (the outbox relay's wake-up); it must not block.
	Committed func()
	// MaxPipes bounds the ledgers writing through a connection of their
	// own (a pipe) at once, outside the pool; the others write through the
	// pool, one batch after the other. Default 16.
	MaxPipes int
}

func (o *Options) setDefaults() {
	if o.MaxBatch <= 0 {
		o.MaxBatch = 1000
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 20000
	}
	if o.MaxCachedBalances <= 0 {
		o.MaxCachedBalances = 1_000_000
	}
	if o.MaxPipes <= 0 {
		o.MaxPipes = 16
	}
}

// Store executes commands on the ledgers of one database.
type Store struct {
	pool    *pgxpool.Pool
	opts    Options
	metrics *metrics

	pipes chan struct{} // a slot per pipe open (see Options.MaxPipes)

	mu         sync.Mutex
	sequencers map[string]*sequencer
	buckets    map[string]bool // buckets whose schema this process applied
	closed     bool
	wg         sync.WaitGroup
}

// New returns a store writing through pool.
func New(pool *pgxpool.Pool, opts Options) *Store {
	opts.setDefaults()
	return &Store{pool: pool, opts: opts, metrics: newMetrics(opts.Registerer), pipes: make(chan struct{}, opts.MaxPipes),
		sequencers: map[string]*sequencer{}, buckets: map[string]bool{}}
}

// Close stops every sequencer after the batch it is writing.
func (s *Store) Close() {
	s.mu.Lock()
	s.closed = true
	for _, seq := range s.sequencers {
		close(seq.stop)
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// Request is one command, or one script, with its options.
type Request struct {
	Command ledger.Command
	// Script, exclusive with Command, is a Numscript transaction.
	Script *Script
	// IdempotencyKey, when set, makes a retry of the same request return
	// the original log; IdempotencyHash identifies the request's content.
	IdempotencyKey  string
	IdempotencyHash string
	// DryRun evaluates the command without writing anything.
	DryRun bool

	// imported, set by Import, is a log to replay; Command is the command
	// its payload records.
	imported *ledger.Log
}

// Result is the outcome of a request.
type Result struct {
	// Log records the command: the new log, the stored one on an
	// idempotency hit, or the would-be log of a dry run (ids included).
	Log            ledger.Log
	IdempotencyHit bool
	// TransactionJSON, when set, is the JSON of the transaction a
	// NEW_TRANSACTION log created, as the log holds it.
	TransactionJSON []byte
}

// Execute runs req on the named ledger.
func (s *Store) Execute(ctx context.Context, name string, req Request) (Result, error) {
	if (req.Command == nil) == (req.Script == nil) {
		return Result{}, domain.Errorf(domain.CodeValidation, "a request has either a command or a script")
	}
	seq, err := s.sequencer(ctx, name)
	if err != nil {
		return Result{}, err
	}
	o := seq.submit(ctx, &pending{req: req})
	return o.res, o.err
}

// ExecuteAtomic runs reqs on the named ledger, in order, in one batch:
// either every request is written, or — when any fails — none is. results
// and errs are in request order (results hold the logs the requests wrote
// or would have written); err reports a failure of the whole call.
func (s *Store) ExecuteAtomic(ctx context.Context, name string, reqs []Request) (results []Result, errs []error, err error) {
	if len(reqs) == 0 {
		return nil, nil, nil
	}
	for _, req := range reqs {
		if (req.Command == nil) == (req.Script == nil) {
			return nil, nil, domain.Errorf(domain.CodeValidation, "a request has either a command or a script")
		}
	}
	seq, err := s.sequencer(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	o := seq.submit(ctx, &pending{group: reqs})
	if o.err != nil {
		return nil, nil, o.err
	}
	results, errs = make([]Result, len(reqs)), make([]error, len(reqs))
	for i, g := range o.group {
		results[i], errs[i] = g.res, g.err
	}
	return results, errs, nil
}

func (s *Store) sequencer(ctx context.Context, name string) (*sequencer, error) {
	s.mu.Lock()
	seq, ok := s.sequencers[name]
	s.mu.Unlock()
	if ok {
		return seq, nil
	}
	l, err := s.readLedger(ctx, name)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	applied := s.buckets[l.Bucket]
	s.mu.Unlock()
	if !applied {
		if err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return applyBucket(ctx, tx, l.Bucket) }); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buckets[l.Bucket] = true
	if s.closed {
		return nil, domain.Errorf(domain.CodeUnavailable, "the ledger store is shutting down")
	}
	if seq, ok := s.sequencers[name]; ok {
		return seq, nil
	}
	seq = newSequencer(s.pool, l, s.opts, s.metrics, s.pipes)
	s.sequencers[name] = seq
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		seq.run()
	}()
	return seq, nil
}

func (s *Store) readLedger(ctx context.Context, name string) (ledger.Ledger, error) {
	var (
		l                  ledger.Ledger
		metadata, features []byte
	)
	err := s.pool.QueryRow(ctx, `SELECT name, id, bucket, metadata, features FROM _system.ledgers
		WHERE name = $1 AND deleted_at IS NULL`, name).Scan(&l.Name, &l.ID, &l.Bucket, &metadata, &features)
	if errors.Is(err, pgx.ErrNoRows) {
		return l, domain.Errorf(domain.CodeLedgerNotFound, "ledger %s not found", name)
	}
	if err != nil {
		return l, fmt.Errorf("read ledger %s: %w", name, err)
	}
	if err := json.Unmarshal(metadata, &l.Metadata); err != nil {
		return l, err
	}
	return l, json.Unmarshal(features, &l.Features)
}

// applyBucket gives bucket the schema of bucket.sql in tx, unless it has
// it already (see _system.buckets), under the bucket's lock: concurrent
// CREATE ... IF NOT EXISTS race.
func applyBucket(ctx context.Context, tx pgx.Tx, bucket string) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('kontor:bucket:' || $1, 0))`, bucket); err != nil {
		return err
	}
	var current string
	err := tx.QueryRow(ctx, `SELECT schema FROM _system.buckets WHERE name = $1`, bucket).Scan(&current)
	if err == nil && current == bucketDigest {
		return nil
	}
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	if _, err := tx.Exec(ctx, strings.ReplaceAll(bucketSQL, "BUCKET", pgx.Identifier{bucket}.Sanitize())); err != nil {
		return fmt.Errorf("prepare bucket %s: %w", bucket, err)
	}
	_, err = tx.Exec(ctx, `INSERT INTO _system.buckets (name, schema) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET schema = excluded.schema`, bucket, bucketDigest)
	return err
}

// bucketDigest identifies the text of bucket.sql.
var bucketDigest = func() string {
	h := sha256.Sum256([]byte(bucketSQL))
	return hex.EncodeToString(h[:])
}()

// CreateLedger registers a new ledger and makes its bucket ready. A name
// already taken gives LEDGER_ALREADY_EXISTS.
func (s *Store) CreateLedger(ctx context.Context, name string, cfg ledger.LedgerConfiguration) (ledger.Ledger, error) {
	l, err := ledger.NewLedger(name, cfg)
	if err != nil {
		return l, err
	}
	metadata, _ := json.Marshal(l.Metadata)
	features, _ := json.Marshal(l.Features)
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := applyBucket(ctx, tx, l.Bucket); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO _system.ledgers (name, bucket, metadata, features)
			VALUES ($1, $2, $3, $4) RETURNING id, added_at`, l.Name, l.Bucket, metadata, features).
			Scan(&l.ID, &l.AddedAt.Time)
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return l, domain.Errorf(domain.CodeLedgerAlreadyExists, "ledger %s already exists", name)
	}
	if err != nil {
		return l, fmt.Errorf("create ledger %s: %w", name, err)
	}
	l.AddedAt = ledger.NewTime(l.AddedAt.Time)
	return l, nil
}

// SaveLedgerMetadata merges metadata into the ledger's own metadata.
func (s *Store) SaveLedgerMetadata(ctx context.Context, name string, metadata ledger.Metadata) error {
	b, _ := json.Marshal(metadata)
	return s.updateLedger(ctx, name, `UPDATE _system.ledgers SET metadata = metadata || $2 WHERE name = $1 AND deleted_at IS NULL`, b)
}

// DeleteLedgerMetadata removes key from the ledger's own metadata.
func (s *Store) DeleteLedgerMetadata(ctx context.Context, name, key string) error {
	return s.updateLedger(ctx, name, `UPDATE _system.ledgers SET metadata = metadata - $2 WHERE name = $1 AND deleted_at IS NULL`, key)
}

func (s *Store) updateLedger(ctx context.Context, name, sql string, arg any) error {
	tag, err := s.pool.Exec(ctx, sql, name, arg)
	if err != nil {
		return fmt.Errorf("update ledger %s: %w", name, err)
	}
	if tag.RowsAffected() == 0 {
		return domain.Errorf(domain.CodeLedgerNotFound, "ledger %s not found", name)
	}
	return nil
}

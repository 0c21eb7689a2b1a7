package eventstore

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kontorhq/kontor/domain"
	"github.com/kontorhq/kontor/domain/ledger"
)

// sequencer funnels the writes of one ledger into one goroutine, which
// takes every waiting command (up to MaxBatch) as a batch, evaluates it
// and hands it to a writer that commits it in one PostgreSQL transaction;
// while a batch is written, the next one gathers and is evaluated.
type sequencer struct {
	pool    *pgxpool.Pool
	ledger  ledger.Ledger
	opts    Options
	lockID  int64
	size    prometheus.Observer
	elapsed prometheus.Observer
	stale   prometheus.Counter

	queue chan *pending
	stop  chan struct{}
	cache *cache
}

type pending struct {
	ctx   context.Context
	req   Request
	reply chan outcome
}

type outcome struct {
	res Result
	err error
}

func newSequencer(pool *pgxpool.Pool, l ledger.Ledger, opts Options, m *metrics) *sequencer {
	h := fnv.New64a()
	_, _ = h.Write([]byte("kontor:ledger:" + l.Bucket + ":" + l.Name))
	return &sequencer{
		pool:    pool,
		ledger:  l,
		opts:    opts,
		lockID:  int64(h.Sum64()),
		size:    m.batchSize.WithLabelValues(l.Name),
		elapsed: m.batchDuration.WithLabelValues(l.Name),
		stale:   m.stale.WithLabelValues(l.Name),
		queue:   make(chan *pending, opts.QueueSize),
		stop:    make(chan struct{}),
		cache:   newCache(),
	}
}

// submit queues req and waits for its outcome. A full queue is refused at
// once with a 503 rather than piling up latency.
func (s *sequencer) submit(ctx context.Context, req Request) (Result, error) {
	p := &pending{ctx: ctx, req: req, reply: make(chan outcome, 1)}
	select {
	case s.queue <- p:
	default:
		return Result{}, domain.Errorf(domain.CodeUnavailable,
			"ledger %s has %d writes waiting: retry later", s.ledger.Name, cap(s.queue))
	}
	select {
	case o := <-p.reply:
		return o.res, o.err
	case <-ctx.Done():
		// The command may still be written: its batch no longer waits for us.
		return Result{}, ctx.Err()
	}
}

// flight is a batch handed to the writer: done is closed once it is
// committed (err nil), refused as stale, or failed.
type flight struct {
	batch    *batch
	reqs     []*pending
	outcomes []outcome
	done     chan struct{}
	err      error
}

// errStale reports that another process wrote the ledger after the batch
// was prepared: it must be prepared again on fresh state.
var errStale = errors.New("ledger changed since the batch was prepared")

// run is the sequencer's loop. It prepares a batch (prefetch and evaluate)
// while the previous one is being written, on that previous batch's state:
// the database and the Go side work at the same time. If the previous batch
// fails, the prepared one is prepared again on committed state.
func (s *sequencer) run() {
	var inflight *flight
	queued := make([]*pending, 0, s.opts.MaxBatch)
	for {
		var landed <-chan struct{}
		if inflight != nil {
			landed = inflight.done
		}
		select {
		case <-s.stop:
			if inflight != nil {
				s.finish(inflight)
			}
			s.drain()
			return
		case <-landed:
			// Nothing new came while it was written: settle it now (a stale
			// batch is written again here, its callers still waiting).
			s.finish(inflight)
			inflight = nil
			continue
		case p := <-s.queue:
			queued = append(queued[:0], p)
		}
	gather:
		for len(queued) < s.opts.MaxBatch {
			select {
			case p := <-s.queue:
				queued = append(queued, p)
			default:
				break gather
			}
		}
		reqs := live(queued)
		if len(reqs) == 0 {
			continue
		}
		var parent *batch
		if inflight != nil {
			parent = inflight.batch
		}
		b, outcomes, err := s.prepare(reqs, parent)
		if inflight != nil {
			committed := s.finish(inflight)
			inflight = nil
			if committed {
				b.parent = nil // its state is in the cache now
			} else {
				b, outcomes, err = s.prepare(reqs, nil)
			}
		}
		if err != nil {
			fail(reqs, err)
			continue
		}
		inflight = s.launch(b, reqs, outcomes)
	}
}

// live returns the requests whose caller still waits, answering the others.
func live(batch []*pending) []*pending {
	out := make([]*pending, 0, len(batch))
	for _, p := range batch {
		if err := p.ctx.Err(); err != nil {
			p.reply <- outcome{err: err}
			continue
		}
		out = append(out, p)
	}
	return out
}

func fail(reqs []*pending, err error) {
	for _, p := range reqs {
		p.reply <- outcome{err: err}
	}
}

// drain refuses what is still queued when the store closes.
func (s *sequencer) drain() {
	for {
		select {
		case p := <-s.queue:
			p.reply <- outcome{err: domain.Errorf(domain.CodeUnavailable, "the ledger store is shutting down")}
		default:
			return
		}
	}
}

// prepare evaluates reqs on parent's state (or the cache's when parent is
// nil) and returns the batch ready to be written with each command's
// outcome.
func (s *sequencer) prepare(reqs []*pending, parent *batch) (*batch, []outcome, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db := &bucketDB{tx: s.pool, ledger: s.ledger}
	if parent == nil && (!s.cache.loaded || len(s.cache.balances) > s.opts.MaxCachedBalances) {
		if err := s.cache.load(ctx, db); err != nil {
			return nil, nil, internal(s.ledger.Name, err)
		}
	}
	b := newBatch(s.cache, parent, s.ledger.Features, ledger.Now())
	b.ctx, b.db = ctx, db
	defer func() { b.ctx, b.db = nil, nil }()
	if err := b.prefetch(ctx, db, reqs); err != nil {
		return nil, nil, internal(s.ledger.Name, err)
	}
	outcomes := make([]outcome, len(reqs))
	for i, p := range reqs {
		outcomes[i] = b.execute(p.req)
	}
	if err := b.build(db); err != nil {
		return nil, nil, internal(s.ledger.Name, err)
	}
	return b, outcomes, nil
}

// launch writes b in the background: under the ledger's lock, if the
// ledger still ends with the log b builds on, in one PostgreSQL
// transaction. The callers are answered as soon as it commits.
func (s *sequencer) launch(b *batch, reqs []*pending, outcomes []outcome) *flight {
	f := &flight{batch: b, reqs: reqs, outcomes: outcomes, done: make(chan struct{})}
	go func() {
		defer close(f.done)
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		f.err = s.write(ctx, b)
		switch {
		case f.err == nil:
			s.size.Observe(float64(len(reqs)))
			s.elapsed.Observe(time.Since(start).Seconds())
			for i, p := range reqs {
				p.reply <- outcomes[i]
			}
		case !errors.Is(f.err, errStale):
			fail(reqs, internal(s.ledger.Name, f.err))
		}
	}()
	return f
}

// write commits b. A batch encoded in advance goes in one round trip: the
// ledger's lock, the check that its last log is still b's base, and the
// inserts, all in one pipeline that PostgreSQL runs as one implicit
// transaction. A batch with back-dated moves needs the database between
// its steps, so it runs in an explicit transaction.
func (s *sequencer) write(ctx context.Context, b *batch) error {
	db := &bucketDB{tx: s.pool, ledger: s.ledger}
	if b.pipeline != nil {
		p := &pgx.Batch{}
		p.Queue(`SELECT pg_advisory_xact_lock($1)`, s.lockID)
		p.Queue(db.q(`SELECT {expect_last_log}($1, $2)`), s.ledger.Name, int64(b.baseLogID))
		p.QueuedQueries = append(p.QueuedQueries, b.pipeline.QueuedQueries...)
		err := s.pool.SendBatch(ctx, p).Close()
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "KS001" {
			return errStale
		}
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		db := &bucketDB{tx: tx, ledger: s.ledger}
		last, _, err := db.lockLedger(ctx, s.lockID)
		if err != nil {
			return err
		}
		if last != b.baseLogID {
			return errStale
		}
		return b.flush(ctx, db)
	})
}

// finish waits for f and reports whether it committed. A committed batch
// moves into the cache; a failed one empties the cache; a stale one is
// prepared and written again until it goes through.
func (s *sequencer) finish(f *flight) bool {
	<-f.done
	if f.err == nil {
		f.batch.commit()
		return true
	}
	s.cache.invalidate()
	if !errors.Is(f.err, errStale) {
		return false
	}
	for attempt := 0; ; attempt++ {
		s.stale.Inc()
		b, outcomes, err := s.prepare(f.reqs, nil)
		if err != nil {
			fail(f.reqs, err)
			return false
		}
		retry := s.launch(b, f.reqs, outcomes)
		<-retry.done
		switch {
		case retry.err == nil:
			b.commit()
			return false // the batch prepared on f's first attempt is void
		case !errors.Is(retry.err, errStale) || attempt == 10:
			s.cache.invalidate()
			if errors.Is(retry.err, errStale) {
				fail(f.reqs, domain.Errorf(domain.CodeUnavailable, "ledger %s is under heavy concurrent writes: retry", s.ledger.Name))
			}
			return false
		}
		s.cache.invalidate()
	}
}

// internal wraps a database failure for the callers of a batch.
func internal(ledgerName string, err error) error {
	var de *domain.Error
	if errors.As(err, &de) {
		return err
	}
	slog.Error("ledger batch failed", "ledger", ledgerName, "error", err)
	return fmt.Errorf("write batch: %w", err)
}

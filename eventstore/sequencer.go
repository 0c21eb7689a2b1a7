package eventstore

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kontorhq/kontor/domain"
	"github.com/kontorhq/kontor/domain/ledger"
)

// sequencer funnels the writes of one ledger into one goroutine, which
// takes every waiting command (up to MaxBatch) as a batch and writes it in
// one PostgreSQL transaction: while a batch commits, the next one gathers.
type sequencer struct {
	pool    *pgxpool.Pool
	ledger  ledger.Ledger
	opts    Options
	lockID  int64
	size    prometheus.Observer
	elapsed prometheus.Observer

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

func (s *sequencer) run() {
	batch := make([]*pending, 0, s.opts.MaxBatch)
	for {
		select {
		case <-s.stop:
			s.drain()
			return
		case p := <-s.queue:
			batch = append(batch[:0], p)
		}
	gather:
		for len(batch) < s.opts.MaxBatch {
			select {
			case p := <-s.queue:
				batch = append(batch, p)
			default:
				break gather
			}
		}
		s.process(batch)
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

// process writes one batch. Commands whose caller left are skipped; the
// others each get their own outcome. If the database fails, every command
// of the batch gets the error and the cache is reloaded next time.
func (s *sequencer) process(batch []*pending) {
	live := batch[:0:0]
	for _, p := range batch {
		if err := p.ctx.Err(); err != nil {
			p.reply <- outcome{err: err}
			continue
		}
		live = append(live, p)
	}
	if len(live) == 0 {
		return
	}
	start := time.Now()
	defer func() {
		s.size.Observe(float64(len(live)))
		s.elapsed.Observe(time.Since(start).Seconds())
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	var outcomes []outcome
	var commit func()
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		outcomes, commit, err = s.write(ctx, tx, live)
		return err
	})
	if err != nil {
		s.cache.invalidate()
		var de *domain.Error
		if !errors.As(err, &de) {
			slog.Error("ledger batch failed", "ledger", s.ledger.Name, "commands", len(live), "error", err)
			err = fmt.Errorf("write batch: %w", err)
		}
		for _, p := range live {
			p.reply <- outcome{err: err}
		}
		return
	}
	commit()
	for i, p := range live {
		p.reply <- outcomes[i]
	}
}

// write evaluates the batch inside tx and writes what it produced. It
// returns each command's outcome and a function that, called after the
// commit, moves the batch's state into the cache.
func (s *sequencer) write(ctx context.Context, tx pgx.Tx, batch []*pending) ([]outcome, func(), error) {
	db := &bucketDB{tx: tx, ledger: s.ledger}
	lastID, lastHash, err := db.lockLedger(ctx, s.lockID)
	if err != nil {
		return nil, nil, err
	}
	if err := s.cache.sync(ctx, db, lastID, lastHash, s.opts.MaxCachedBalances); err != nil {
		return nil, nil, err
	}
	now := ledger.Now()
	b := newBatch(s.cache, s.ledger.Features, now)
	if err := b.prefetch(ctx, db, batch); err != nil {
		return nil, nil, err
	}
	outcomes := make([]outcome, len(batch))
	for i, p := range batch {
		outcomes[i] = b.execute(p.req)
	}
	if err := b.flush(ctx, db); err != nil {
		return nil, nil, err
	}
	return outcomes, func() { b.commit() }, nil
}

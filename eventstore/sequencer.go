package eventstore

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
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

	// types and descriptions encode batches ahead of their write (see
	// encode); pipe carries them to PostgreSQL, opened on connConfig when
	// needed and closed when the ledger is idle. Only the sequencer's
	// goroutine uses them.
	types        *pgtype.Map
	descriptions map[string]*pgconn.StatementDescription
	connConfig   *pgconn.Config
	pipe         *pipe
	// slots holds a slot for each pipe the store's sequencers have open.
	slots chan struct{}

	// peak is the most commands the ledger has held at once lately
	// (queued and in flight), seen at peakAt; see gatherTarget.
	peak   float64
	peakAt time.Time
}

// pipeIdle is how long a ledger's pipe stays open with nothing to write.
const pipeIdle = 5 * time.Second

type pending struct {
	ctx context.Context
	req Request
	// group, when set instead of req, is an atomic group of requests.
	group []Request
	reply chan outcome
}

// requests returns the requests p carries.
func (p *pending) requests() []Request {
	if p.group != nil {
		return p.group
	}
	return []Request{p.req}
}

type outcome struct {
	res Result
	err error
	// group holds the outcome of each request of an atomic group.
	group []outcome
}

func newSequencer(pool *pgxpool.Pool, l ledger.Ledger, opts Options, m *metrics, slots chan struct{}) *sequencer {
	return &sequencer{
		pool:    pool,
		ledger:  l,
		opts:    opts,
		lockID:  ledgerLockID(l),
		size:    m.batchSize.WithLabelValues(l.Name),
		elapsed: m.batchDuration.WithLabelValues(l.Name),
		stale:   m.stale.WithLabelValues(l.Name),
		queue:   make(chan *pending, opts.QueueSize),
		stop:    make(chan struct{}),
		cache:   newCache(),

		types:        pgtype.NewMap(),
		descriptions: map[string]*pgconn.StatementDescription{},
		connConfig:   pool.Config().ConnConfig.Config.Copy(),
		slots:        slots,
	}
}

// ledgerLockID is the advisory lock every write of l takes.
func ledgerLockID(l ledger.Ledger) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte("kontor:ledger:" + l.Bucket + ":" + l.Name))
	return int64(h.Sum64())
}

// submit queues req and waits for its outcome. A full queue is refused at
// once with a 503 rather than piling up latency.
func (s *sequencer) submit(ctx context.Context, p *pending) outcome {
	p.ctx, p.reply = ctx, make(chan outcome, 1)
	select {
	case s.queue <- p:
	default:
		return outcome{err: domain.Errorf(domain.CodeUnavailable,
			"ledger %s has %d writes waiting: retry later", s.ledger.Name, cap(s.queue))}
	}
	select {
	case o := <-p.reply:
		return o
	case <-ctx.Done():
		// The command may still be written: its batch no longer waits for us.
		return outcome{err: ctx.Err()}
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

// errStale reports that the batch cannot be written on the state it was
// prepared on — another process wrote the ledger, or the batch it builds on
// failed: it must be prepared again on fresh state.
var errStale = errors.New("ledger changed since the batch was prepared")

// maxInFlight bounds the batches sent and not yet settled: one being
// written, the next queued behind it in PostgreSQL.
const maxInFlight = 2

// run is the sequencer's loop. It prepares each batch (prefetch and
// evaluate) on the state of the batch still being written and sends it
// behind that one at once; each checks that the ledger ends with the log
// it was prepared on. If a batch fails, the one prepared on it is
// prepared again on committed state.
func (s *sequencer) run() {
	var inflight []*flight
	queued := make([]*pending, 0, s.opts.MaxBatch)
	for {
		var landed <-chan struct{}
		var idle <-chan time.Time
		if len(inflight) > 0 {
			landed = inflight[0].done
		} else if s.pipe != nil {
			idle = time.After(pipeIdle)
		}
		queue := s.queue
		if len(inflight) >= maxInFlight || (len(inflight) > 0 && inflight[len(inflight)-1].batch.pipeline == nil) {
			// Full, or the last batch has back-dated moves whose volumes
			// its writer is still computing: nothing may build on it yet.
			queue = nil
		}
		select {
		case <-s.stop:
			for len(inflight) > 0 {
				inflight = s.settle(inflight)
			}
			s.drain()
			s.closePipe()
			return
		case <-idle:
			s.closePipe()
			continue
		case <-landed:
			inflight = s.settle(inflight)
			continue
		case p := <-queue:
			queued = append(queued[:0], p)
		}
		queued = s.take(queued)
		want := s.gatherTarget(len(queued) + len(s.queue) + inFlight(inflight))
		if len(inflight) > 0 && len(queued) < want {
			queued, inflight = s.fill(queued, want, inflight)
		}
		reqs := live(queued)
		if len(reqs) == 0 {
			continue
		}
		prev := lastFlight(inflight)
		var parent *batch
		if prev != nil {
			parent = prev.batch
		}
		b, outcomes, err := s.prepare(reqs, parent)
		if err != nil {
			fail(reqs, err)
			continue
		}
		inflight = append(inflight, s.launch(b, reqs, outcomes, prev))
	}
}

// peakHalfLife is how fast the ledger's peak of commands held fades.
const peakHalfLife = time.Second

// gatherTarget notes that the ledger holds held commands and returns how
// many a batch gathers before it is sent behind the batch in flight: half
// the peak held lately. Behind that batch it would wait in PostgreSQL
// anyway, so gathering costs it little, and a bigger batch costs less per
// command: without the target, a batch sent at once behind each big one
// often holds a single command and still costs a whole commit. Under
// steady load the two batches share the ledger's writers; under light
// load the target is at most one, and nothing waits.
func (s *sequencer) gatherTarget(held int) int {
	now := time.Now()
	faded := s.peak * math.Exp2(-float64(now.Sub(s.peakAt))/float64(peakHalfLife))
	s.peak, s.peakAt = max(float64(held), faded), now
	return int(s.peak) / 2
}

// fill adds commands to queued until it holds want (or MaxBatch), or the
// batch in flight lands: the pipe then has nothing to run, and the batch
// goes with what it holds.
func (s *sequencer) fill(queued []*pending, want int, inflight []*flight) ([]*pending, []*flight) {
	for len(queued) < min(want, s.opts.MaxBatch) {
		select {
		case p := <-s.queue:
			queued = append(queued, p)
		case <-inflight[0].done:
			return s.take(queued), s.settle(inflight)
		}
	}
	return queued, inflight
}

// take adds the commands waiting in the queue to queued, up to MaxBatch.
func (s *sequencer) take(queued []*pending) []*pending {
	for len(queued) < s.opts.MaxBatch {
		select {
		case p := <-s.queue:
			queued = append(queued, p)
		default:
			return queued
		}
	}
	return queued
}

// inFlight counts the commands of the batches in flight.
func inFlight(inflight []*flight) int {
	n := 0
	for _, f := range inflight {
		n += len(f.reqs)
	}
	return n
}

// lastFlight returns the last batch in flight, nil if none.
func lastFlight(inflight []*flight) *flight {
	if len(inflight) == 0 {
		return nil
	}
	return inflight[len(inflight)-1]
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
		if p.group != nil {
			outcomes[i] = outcome{group: b.executeAtomic(p.group)}
			continue
		}
		outcomes[i] = b.execute(p.req)
	}
	if err := b.build(db); err != nil {
		return nil, nil, internal(s.ledger.Name, err)
	}
	if b.pipeline != nil {
		p := &pgx.Batch{}
		db.queueLock(p, s.lockID, b)
		p.QueuedQueries = append(p.QueuedQueries, b.pipeline.QueuedQueries...)
		var err error
		if b.wire, err = s.encode(ctx, p.QueuedQueries); err != nil {
			return nil, nil, internal(s.ledger.Name, err)
		}
	}
	return b, outcomes, nil
}

// launch writes b: a batch encoded in advance is sent on the ledger's
// pipe at once, behind prev (the batch b builds on, nil when b builds on
// committed state); without a pipe, or for a batch with back-dated moves,
// it is written once prev is. If prev fails, b is stale. The callers are
// answered as soon as b commits.
func (s *sequencer) launch(b *batch, reqs []*pending, outcomes []outcome, prev *flight) *flight {
	f := &flight{batch: b, reqs: reqs, outcomes: outcomes, done: make(chan struct{})}
	start := time.Now()
	var (
		on   *pipe
		sent <-chan error
	)
	if b.pipeline != nil {
		on, sent = s.send(b)
	}
	go func() {
		defer close(f.done)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if sent != nil {
			f.err = await(ctx, on, sent)
		}
		if prev != nil {
			<-prev.done
			if prev.err != nil {
				f.err = errStale
				return
			}
		}
		switch {
		case sent != nil:
		case b.pipeline != nil:
			f.err = staleOr(s.sendPooled(ctx, b.wire))
		default:
			f.err = s.write(ctx, b)
		}
		switch {
		case f.err == nil:
			s.size.Observe(float64(len(reqs)))
			s.elapsed.Observe(time.Since(start).Seconds())
			if s.opts.Committed != nil && len(b.logs) > 0 {
				s.opts.Committed()
			}
			for i, p := range reqs {
				o := outcomes[i]
				if tx, ok := b.encoded[o.res.Log.ID]; ok && o.err == nil && !p.req.DryRun {
					o.res.TransactionJSON = tx
				}
				p.reply <- o
			}
		case !errors.Is(f.err, errStale):
			fail(reqs, internal(s.ledger.Name, f.err))
		}
	}()
	return f
}

// send writes b, encoded in advance, on the ledger's pipe — the ledger's
// lock, the check that the ledger still ends with b's base log, the
// inserts — opening the pipe if needed. It returns nil when the ledger has
// no pipe and cannot open one (the store's pipes are all taken, or the
// database refuses a connection): b then goes through the pool.
func (s *sequencer) send(b *batch) (*pipe, <-chan error) {
	if s.pipe != nil && s.pipe.broken() {
		s.closePipe()
	}
	if s.pipe == nil {
		select {
		case s.slots <- struct{}{}:
		default:
			return nil, nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		p, err := dialPipe(ctx, s.connConfig)
		if err != nil {
			<-s.slots
			slog.Warn("ledger writes through the pool", "ledger", s.ledger.Name, "error", err)
			return nil, nil
		}
		s.pipe = p
	}
	return s.pipe, s.pipe.send(b.wire)
}

// sendPooled writes queries, encoded in advance, in one round trip on a
// connection of the pool, which PostgreSQL runs as one implicit
// transaction; each statement is prepared on the connection the first
// time it is used there.
func (s *sequencer) sendPooled(ctx context.Context, queries []wireQuery) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	batch := &pgconn.Batch{}
	for _, q := range queries {
		if _, err := conn.Conn().Prepare(ctx, q.name, q.sql); err != nil {
			return err
		}
		batch.ExecPrepared(q.name, q.params, q.formats, nil)
	}
	_, err = conn.Conn().PgConn().ExecBatch(ctx, batch).ReadAll()
	return err
}

// await waits for the outcome of a batch sent on p. A batch that fails
// otherwise than on its base check, or does not answer in time, closes p:
// the statements it parsed may be missing, and the batches behind it are
// stale anyway.
func await(ctx context.Context, p *pipe, sent <-chan error) error {
	var err error
	select {
	case err = <-sent:
	case <-ctx.Done():
		err = ctx.Err()
	}
	err = staleOr(err)
	if err != nil && !errors.Is(err, errStale) && p != nil {
		p.close()
	}
	return err
}

// closePipe closes the ledger's pipe, if open, and gives its slot back.
func (s *sequencer) closePipe() {
	if s.pipe != nil {
		s.pipe.close()
		s.pipe = nil
		<-s.slots
	}
}

// write writes b, a batch with back-dated moves: it needs the database
// between its steps, so it runs in an explicit transaction on a
// connection of the pool, under the ledger's lock and base check.
func (s *sequencer) write(ctx context.Context, b *batch) error {
	p := &pgx.Batch{}
	(&bucketDB{ledger: s.ledger}).queueLock(p, s.lockID, b)
	return staleOr(pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := tx.SendBatch(ctx, p).Close(); err != nil {
			return err
		}
		return b.flush(ctx, &bucketDB{tx: tx, ledger: s.ledger})
	}))
}

// staleOr turns the base check's failure into errStale.
func staleOr(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "KS001" {
		return errStale
	}
	return err
}

// settle waits for the oldest batch in flight and returns the others. A
// committed batch moves into the cache. A failed or stale one voids every
// batch prepared on it: they fail their base check, and the commands of
// the stale ones are written again, in order, on fresh state.
func (s *sequencer) settle(inflight []*flight) []*flight {
	f, rest := inflight[0], inflight[1:]
	<-f.done
	if f.err == nil {
		f.batch.commit()
		if len(rest) > 0 {
			rest[0].batch.parent = nil // its base is in the cache now
		}
		return rest
	}
	var again [][]*pending
	failed := false
	for _, g := range inflight {
		<-g.done
		if errors.Is(g.err, errStale) {
			again = append(again, g.reqs)
		} else if g.err != nil {
			failed = true
		}
	}
	if failed {
		s.cache.invalidate()
	} else {
		s.revalidate()
	}
	for _, reqs := range again {
		s.rewrite(reqs)
	}
	return nil
}

// rewrite prepares reqs on fresh state and writes them, again while
// another process keeps writing the ledger first (at most 10 times).
func (s *sequencer) rewrite(reqs []*pending) {
	for attempt := 0; ; attempt++ {
		s.stale.Inc()
		b, outcomes, err := s.prepare(reqs, nil)
		if err != nil {
			fail(reqs, err)
			return
		}
		f := s.launch(b, reqs, outcomes, nil)
		<-f.done
		switch {
		case f.err == nil:
			b.commit()
			return
		case !errors.Is(f.err, errStale):
			s.cache.invalidate()
			return
		case attempt == 10:
			s.cache.invalidate()
			fail(reqs, domain.Errorf(domain.CodeUnavailable, "ledger %s is under heavy concurrent writes: retry", s.ledger.Name))
			return
		}
		s.revalidate()
	}
}

// revalidate checks the cache against the ledger after a stale batch.
func (s *sequencer) revalidate() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s.cache.revalidate(ctx, &bucketDB{tx: s.pool, ledger: s.ledger})
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

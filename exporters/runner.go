package exporters

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kontorhq/kontor/domain/ledger"
)

// Defaults of RunnerOptions.
const (
	// DefaultPageSize is how many logs a pipeline reads at once, at least.
	DefaultPageSize = 100
	// DefaultPullInterval is how often an idle pipeline looks for logs
	// committed by other processes.
	DefaultPullInterval = time.Second
	// DefaultRetryPeriod is the wait before the first retry of a failed
	// push; it doubles on each failure up to MaxRetryDelay.
	DefaultRetryPeriod = time.Second
	// MaxRetryDelay bounds the wait between retries (unless RetryPeriod is
	// longer).
	MaxRetryDelay = time.Minute
	// DefaultSyncInterval is how often the runner re-reads the pipelines
	// besides the change notifications.
	DefaultSyncInterval = 10 * time.Second
)

// pipelineLockClass is the first key of the runner's two-key advisory
// locks (the second is the hash of the pipeline id).
const pipelineLockClass = 0x6b706970 // "kpip"

// LogSource reads the logs that pipelines send (projections.Reader).
type LogSource interface {
	// LogsAfter returns up to limit logs of the ledger with ids above
	// after, in id order.
	LogsAfter(ctx context.Context, ledger string, after uint64, limit int) ([]ledger.Log, error)
}

// RunnerOptions configure a Runner; zero fields take the defaults.
type RunnerOptions struct {
	// PageSize is the least number of logs read at once; a pipeline reads
	// a multiple of its exporter's batching.maxItems, so that full pages
	// go out at once.
	PageSize int
	// PullInterval is how often an idle pipeline looks for new logs that
	// Notify did not announce (written by other processes).
	PullInterval time.Duration
	// RetryPeriod is the wait before the first retry of a failed push.
	RetryPeriod time.Duration
	// SyncInterval is how often the runner re-reads the pipelines table,
	// besides the change notifications: it takes over the pipelines of a
	// runner that died.
	SyncInterval time.Duration
	// Registerer receives the metrics; nil keeps them unregistered.
	Registerer prometheus.Registerer
	// Logger receives failures (slog.Default when nil).
	Logger *slog.Logger
}

// Runner runs the enabled pipelines of a database: for each, it reads the
// ledger's logs past the pipeline's checkpoint in id order, pushes them
// through the exporter's driver (batched as the exporter says), and moves
// the checkpoint after each accepted push — so delivery is at-least-once.
// A failed push is recorded as the pipeline's error and retried with
// backoff; a restarted runner resumes from the checkpoints.
//
// Runners of several processes share the work: a pipeline runs where its
// advisory lock (held on a dedicated connection) was taken. Changes made
// through a Store reach every runner at once by a PostgreSQL notification.
type Runner struct {
	pool      *pgxpool.Pool
	store     *Store
	logs      LogSource
	opts      RunnerOptions
	log       *slog.Logger
	resync    chan struct{}
	committed signal
	exported  *prometheus.CounterVec
	failures  *prometheus.CounterVec

	// Owned by Run's goroutine.
	lockConn  *pgx.Conn
	lockEpoch int // counts lock connections: locks of an older one are gone
	workers   map[string]*worker
}

// worker is one running pipeline.
type worker struct {
	p      runnable
	epoch  int // the lock connection holding its lock
	cancel context.CancelFunc
	done   chan struct{}
}

// NewRunner returns a runner of the pipelines of pool's database, reading
// logs from logs.
func NewRunner(pool *pgxpool.Pool, logs LogSource, opts RunnerOptions) (*Runner, error) {
	if opts.PageSize <= 0 {
		opts.PageSize = DefaultPageSize
	}
	if opts.PullInterval <= 0 {
		opts.PullInterval = DefaultPullInterval
	}
	if opts.RetryPeriod <= 0 {
		opts.RetryPeriod = DefaultRetryPeriod
	}
	if opts.SyncInterval <= 0 {
		opts.SyncInterval = DefaultSyncInterval
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	r := &Runner{
		pool:   pool,
		store:  NewStore(pool),
		logs:   logs,
		opts:   opts,
		log:    opts.Logger,
		resync: make(chan struct{}, 1),
		exported: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kontor_pipeline_exported_logs_total",
			Help: "Ledger logs accepted by the exporter of a pipeline.",
		}, []string{"ledger", "pipeline"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kontor_pipeline_failures_total",
			Help: "Failed pushes (or log reads) of a pipeline; each is retried.",
		}, []string{"ledger", "pipeline"}),
		workers: map[string]*worker{},
	}
	if opts.Registerer != nil {
		for _, c := range []prometheus.Collector{r.exported, r.failures} {
			if err := opts.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("pipeline metrics: %w", err)
			}
		}
	}
	return r, nil
}

// Notify wakes the idle pipelines to read new logs; call it after a
// commit. It never blocks.
func (r *Runner) Notify() {
	r.committed.notify()
}

// poke makes Run re-read the pipelines.
func (r *Runner) poke() {
	select {
	case r.resync <- struct{}{}:
	default:
	}
}

// Run runs the pipelines until ctx is done, then stops them and returns
// nil. It re-reads the pipelines at start, on every change notification,
// when a pipeline stops and every SyncInterval. Call it once.
func (r *Runner) Run(ctx context.Context) error {
	listening := make(chan struct{})
	go func() {
		defer close(listening)
		r.listen(ctx)
	}()
	ticker := time.NewTicker(r.opts.SyncInterval)
	defer ticker.Stop()
	for {
		if err := r.sync(ctx); err != nil && ctx.Err() == nil {
			r.log.Error("pipelines: sync failed", "error", err)
		}
		select {
		case <-ctx.Done():
			r.stopAll()
			<-listening
			return nil
		case <-r.resync:
		case <-ticker.C:
		}
	}
}

// sync starts the enabled pipelines that no runner runs, and stops the
// ones that were disabled, deleted, reset or whose exporter changed.
func (r *Runner) sync(ctx context.Context) error {
	for id, w := range r.workers {
		select {
		case <-w.done:
			delete(r.workers, id)
			r.unlock(id, w.epoch)
		default:
		}
	}
	if err := r.connectLocks(ctx); err != nil {
		return err
	}
	want, err := r.store.runnables(ctx)
	if err != nil {
		return fmt.Errorf("read pipelines: %w", err)
	}
	for id, w := range r.workers {
		if p, ok := want[id]; !ok || !p.same(w.p) {
			w.cancel() // it pokes when done; a wanted pipeline restarts then
		}
	}
	for id, p := range want {
		if _, running := r.workers[id]; running {
			continue
		}
		var locked bool
		if err := r.lockConn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, hashtext($2))`,
			pipelineLockClass, id).Scan(&locked); err != nil {
			r.dropLocks()
			return fmt.Errorf("lock pipeline %s: %w", id, err)
		}
		if !locked {
			continue // another runner has it
		}
		wctx, cancel := context.WithCancel(ctx)
		w := &worker{p: p, epoch: r.lockEpoch, cancel: cancel, done: make(chan struct{})}
		r.workers[id] = w
		go func() {
			defer r.poke()
			defer close(w.done)
			r.work(wctx, p)
		}()
	}
	return nil
}

// same reports whether p and q run the same way.
func (p runnable) same(q runnable) bool {
	return p.generation == q.generation && p.ledger == q.ledger &&
		p.config.Driver == q.config.Driver && string(p.config.Config) == string(q.config.Config)
}

// connectLocks makes sure the lock connection is up.
func (r *Runner) connectLocks(ctx context.Context) error {
	if r.lockConn != nil {
		if err := r.lockConn.Ping(ctx); err == nil {
			return nil
		}
		r.dropLocks()
	}
	conn, err := pgx.ConnectConfig(ctx, r.pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("lock connection: %w", err)
	}
	r.lockConn = conn
	r.lockEpoch++
	return nil
}

// dropLocks closes the lock connection, which releases every lock it
// held, and stops the pipelines that ran under them.
func (r *Runner) dropLocks() {
	if r.lockConn == nil {
		return
	}
	for _, w := range r.workers {
		w.cancel()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = r.lockConn.Close(ctx)
	r.lockConn = nil
}

// unlock releases the lock of pipeline id taken on the lock connection of
// epoch (a lock of a closed connection is already gone).
func (r *Runner) unlock(id string, epoch int) {
	if r.lockConn == nil || epoch != r.lockEpoch {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := r.lockConn.Exec(ctx, `SELECT pg_advisory_unlock($1, hashtext($2))`, pipelineLockClass, id); err != nil {
		r.dropLocks()
	}
}

// stopAll stops every pipeline, waits for them and releases their locks.
func (r *Runner) stopAll() {
	for _, w := range r.workers {
		w.cancel()
	}
	for id, w := range r.workers {
		<-w.done
		delete(r.workers, id)
	}
	r.dropLocks()
}

// listen pokes Run on every change notification, reconnecting when its
// connection fails, until ctx is done.
func (r *Runner) listen(ctx context.Context) {
	var delay backoff
	for {
		listened, err := r.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		if listened {
			delay = backoff{}
		}
		wait := delay.next(r.opts.RetryPeriod)
		r.log.Warn("pipelines: change notifications lost; reconnecting", "error", err, "in", wait)
		if !sleep(ctx, wait) {
			return
		}
	}
}

// listenOnce listens on one connection until it fails; listened says
// whether it got that far.
func (r *Runner) listenOnce(ctx context.Context) (listened bool, err error) {
	conn, err := pgx.ConnectConfig(ctx, r.pool.Config().ConnConfig.Copy())
	if err != nil {
		return false, err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, `LISTEN `+changesChannel); err != nil {
		return false, err
	}
	r.poke() // for the changes made while not listening
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return true, err
		}
		r.poke()
	}
}

// work runs pipeline p until ctx is done or p is reset or deleted.
func (r *Runner) work(ctx context.Context, p runnable) {
	log := r.log.With("pipeline", p.id, "ledger", p.ledger)
	exported, failures := r.exported.WithLabelValues(p.ledger, p.id), r.failures.WithLabelValues(p.ledger, p.id)
	driver, err := New(p.config)
	if err != nil { // stored configurations were validated; this one no longer is
		r.record(log, p, err)
		<-ctx.Done()
		return
	}
	batching, _ := p.config.Batching()
	run := &pipelineRun{store: r.store, logs: r.logs, p: p, batcher: NewBatcher(driver, batching),
		limit: batching.MaxItems * max(1, (r.opts.PageSize+batching.MaxItems-1)/batching.MaxItems)}
	defer func() {
		if err := run.batcher.Close(); err != nil {
			log.Warn("pipelines: last flush failed; its logs are sent again on restart", "error", err)
		}
	}()
	pull := time.NewTimer(r.opts.PullInterval)
	defer pull.Stop()
	var retry backoff
	for {
		committed := r.committed.wait() // before reading: no commit is missed
		n, current, err := run.pass(ctx, retry.failing())
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			failures.Inc()
			r.record(log, p, err)
			if !sleep(ctx, retry.next(r.opts.RetryPeriod)) {
				return
			}
			continue
		}
		if !current {
			return // reset or deleted: Run restarts it if needed
		}
		if retry.failing() {
			log.Info("pipelines: pushing again")
			retry = backoff{}
		}
		exported.Add(float64(n))
		if n == run.limit {
			continue
		}
		pull.Reset(r.opts.PullInterval)
		select {
		case <-ctx.Done():
			return
		case <-committed:
		case <-pull.C:
		}
	}
}

// pipelineRun is the state of one running pipeline.
type pipelineRun struct {
	store   *Store
	logs    LogSource
	p       runnable
	batcher *Batcher
	limit   int    // logs read at once: a multiple of batching.maxItems
	cursor  uint64 // the checkpoint, once loaded
	loaded  bool
}

// pass reads the logs past the checkpoint, pushes them and moves the
// checkpoint; clearError clears the pipeline's error even when there is
// nothing to push. It returns how many logs it pushed, and false when the
// pipeline was reset or deleted.
func (run *pipelineRun) pass(ctx context.Context, clearError bool) (int, bool, error) {
	p := run.p
	if !run.loaded {
		last, current, err := run.store.checkpoint(ctx, p.id, p.generation)
		if err != nil || !current {
			return 0, current, err
		}
		run.cursor, run.loaded = last, true
	}
	logs, err := run.logs.LogsAfter(ctx, p.ledger, run.cursor, run.limit)
	if err != nil {
		return 0, true, fmt.Errorf("read the logs of ledger %s: %w", p.ledger, err)
	}
	if len(logs) == 0 {
		if clearError {
			return 0, true, run.store.clearError(ctx, p.id, p.generation)
		}
		return 0, true, nil
	}
	if err := run.batcher.Accept(ctx, exportsOf(p.ledger, logs)); err != nil {
		return 0, true, err
	}
	// The exporter has the logs: record it even when the pipeline is
	// stopping, so that a restart does not send them again.
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	last := logs[len(logs)-1].ID
	current, err := run.store.advance(actx, p.id, p.generation, last)
	if err != nil || !current {
		return 0, current, err
	}
	run.cursor = last
	return len(logs), true, nil
}

// record logs a failure of pipeline p and stores it as its error.
func (r *Runner) record(log *slog.Logger, p runnable, failure error) {
	log.Warn("pipelines: push failed", "error", failure)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.store.fail(ctx, p.id, p.generation, failure.Error()); err != nil {
		log.Warn("pipelines: could not record the failure", "error", err)
	}
}

// exportsOf tags logs with their ledger.
func exportsOf(ledgerName string, logs []ledger.Log) []Export {
	out := make([]Export, len(logs))
	for i, l := range logs {
		out[i] = Export{Ledger: ledgerName, Log: l}
	}
	return out
}

// backoff is the wait between retries: it starts at a period and doubles
// up to MaxRetryDelay (or the period, when longer), with ±20% jitter.
type backoff struct {
	delay time.Duration // 0 while not failing
}

func (b *backoff) failing() bool { return b.delay > 0 }

func (b *backoff) next(period time.Duration) time.Duration {
	if b.delay == 0 {
		b.delay = period
	} else {
		b.delay = min(2*b.delay, max(MaxRetryDelay, period))
	}
	return b.delay - b.delay/5 + rand.N(2*b.delay/5+1)
}

// sleep waits d, or less when ctx ends first; it returns false then.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// signal wakes every goroutine waiting on it at once.
type signal struct {
	mu sync.Mutex
	ch chan struct{}
}

// wait returns a channel closed by the next notify.
func (s *signal) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

// notify wakes the waiters; it allocates nothing when there are none.
func (s *signal) notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}

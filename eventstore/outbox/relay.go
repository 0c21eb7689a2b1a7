// Package outbox publishes the ledger's events on the bus. The logs table of
// each bucket is the outbox: a Relay publishes, per ledger, the committed logs
// past a watermark (table _system.outbox_watermarks) in log id order, then
// advances the watermark — only after the publisher accepted them, so
// delivery is at-least-once (consumers deduplicate on the idempotency key
// "<ledger>-<logId>") and a log is published only once it is committed.
//
// The watermark is sound because the event store commits the batches of one
// ledger in log id order (each batch waits for the commit of the batch it
// builds on), so a reader never sees a log before the logs below it.
//
// One relay per database is enough; more are safe: a relay publishes a
// ledger only while it holds that ledger's session advisory lock
// (pg_try_advisory_lock), and skips the ledgers another relay is publishing.
package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kontorhq/kontor/platform/bus"
)

// Defaults of Options.
const (
	DefaultPageSize     = 500
	DefaultPollInterval = 500 * time.Millisecond
	// DefaultTopic is the topic of every event unless a TopicMapping says
	// otherwise.
	DefaultTopic = "ledger"
)

// lockClass is the first key of the relay's two-key advisory locks (the
// second is the hash of the ledger name); two-key locks never collide with
// the event store's one-key locks.
const lockClass = 0x6b6f7574 // "kout"

// TopicMapping maps an event type (like "COMMITTED_TRANSACTIONS") to the topic
// it is published on; the key "*" applies to the types not listed. Types
// matched by neither go to DefaultTopic.
type TopicMapping map[string]string

// Topic returns the topic of events of type eventType.
func (m TopicMapping) Topic(eventType string) string {
	if t, ok := m[eventType]; ok && t != "" {
		return t
	}
	if t, ok := m["*"]; ok && t != "" {
		return t
	}
	return DefaultTopic
}

// ParseTopicMapping reads "TYPE:topic" entries (like the reference's
// --publisher-topic-mapping), "*" as a type matching every other type.
func ParseTopicMapping(entries []string) (TopicMapping, error) {
	m := TopicMapping{}
	for _, e := range entries {
		for _, part := range strings.Split(e, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			typ, topic, ok := strings.Cut(part, ":")
			if !ok || typ == "" || topic == "" {
				return nil, fmt.Errorf("topic mapping %q: want TYPE:topic", part)
			}
			m[typ] = topic
		}
	}
	return m, nil
}

// Options configure a Relay.
type Options struct {
	// Publisher receives the events; required.
	Publisher message.Publisher
	// Topics maps event types to topics (every event on DefaultTopic when
	// nil).
	Topics TopicMapping
	// PageSize bounds the logs read and published at once
	// (DefaultPageSize when zero).
	PageSize int
	// PollInterval is how often Run looks for logs committed by other
	// processes (DefaultPollInterval when zero).
	PollInterval time.Duration
	// Registerer receives the metrics; nil keeps them unregistered.
	Registerer prometheus.Registerer
	// Logger receives publishing failures (slog.Default when nil).
	Logger *slog.Logger
}

// Relay publishes committed ledger logs as events. Its methods are safe for
// concurrent use.
type Relay struct {
	pool      *pgxpool.Pool
	opts      Options
	wake      chan struct{}
	published *prometheus.CounterVec
	lag       *prometheus.GaugeVec
}

// New returns a relay publishing the logs of the ledgers of pool's database.
func New(pool *pgxpool.Pool, opts Options) (*Relay, error) {
	if opts.Publisher == nil {
		return nil, errors.New("outbox: no publisher")
	}
	if opts.PageSize <= 0 {
		opts.PageSize = DefaultPageSize
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	r := &Relay{
		pool: pool,
		opts: opts,
		wake: make(chan struct{}, 1),
		published: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kontor_outbox_published_events_total",
			Help: "Ledger events published on the bus by the outbox relay.",
		}, []string{"ledger"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "kontor_outbox_lag_logs",
			Help: "Committed ledger logs not yet published, as of the relay's last pass.",
		}, []string{"ledger"}),
	}
	if opts.Registerer != nil {
		for _, c := range []prometheus.Collector{r.published, r.lag} {
			if err := opts.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("outbox metrics: %w", err)
			}
		}
	}
	return r, nil
}

// Notify wakes Run up to publish without waiting for the poll interval;
// call it after a commit. It never blocks.
func (r *Relay) Notify() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run publishes until ctx is done, then returns nil: a pass over every
// ledger at start, on Notify and every poll interval. A failed pass is
// logged and retried at the next wake-up.
func (r *Relay) Run(ctx context.Context) error {
	ticker := time.NewTicker(r.opts.PollInterval)
	defer ticker.Stop()
	for {
		if _, err := r.Publish(ctx); err != nil && ctx.Err() == nil {
			r.opts.Logger.Error("outbox relay: publish failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-r.wake:
		case <-ticker.C:
		}
	}
}

// Publish makes one pass: for each ledger not locked by another relay, it
// publishes every log past the watermark, page by page. It returns the
// number of events published; on error it goes on with the other ledgers
// and returns the first error.
func (r *Relay) Publish(ctx context.Context) (int, error) {
	rows, err := r.pool.Query(ctx, `SELECT name, bucket FROM _system.ledgers ORDER BY name`)
	if err != nil {
		return 0, fmt.Errorf("outbox: list ledgers: %w", err)
	}
	type target struct{ name, bucket string }
	ledgers, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (target, error) {
		var t target
		return t, row.Scan(&t.name, &t.bucket)
	})
	if err != nil {
		return 0, fmt.Errorf("outbox: list ledgers: %w", err)
	}
	total := 0
	var first error
	for _, l := range ledgers {
		n, err := r.publishLedger(ctx, l.name, l.bucket)
		total += n
		if err != nil && first == nil {
			first = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return total, first
}

// publishLedger publishes one ledger's logs past its watermark, holding its
// advisory lock; it returns 0 at once when another relay holds the lock.
func (r *Relay) publishLedger(ctx context.Context, name, bucket string) (n int, err error) {
	conn, err := r.pool.Acquire(ctx)
	if err != nil {
		return 0, fmt.Errorf("outbox %s: %w", name, err)
	}
	defer conn.Release()
	var locked bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, hashtext($2))`, lockClass, name).Scan(&locked); err != nil {
		return 0, fmt.Errorf("outbox %s: lock: %w", name, err)
	}
	if !locked {
		return 0, nil
	}
	defer func() {
		uctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, uerr := conn.Exec(uctx, `SELECT pg_advisory_unlock($1, hashtext($2))`, lockClass, name); uerr != nil {
			// A session lock must not outlive this use: drop the connection.
			_ = conn.Conn().Close(uctx)
		}
	}()

	logs := pgx.Identifier{bucket, "logs"}.Sanitize()
	var watermark int64
	err = conn.QueryRow(ctx, `SELECT last_log_id FROM _system.outbox_watermarks WHERE ledger = $1`, name).Scan(&watermark)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("outbox %s: watermark: %w", name, err)
	}
	for {
		last, count, err := r.publishPage(ctx, conn.Conn(), name, logs, watermark)
		if err != nil {
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) && pgErr.Code == "42P01" {
				return n, nil // bucket not created yet
			}
			return n, err
		}
		if count == 0 {
			break
		}
		if _, err := conn.Exec(ctx, `INSERT INTO _system.outbox_watermarks (ledger, last_log_id) VALUES ($1, $2)
			ON CONFLICT (ledger) DO UPDATE SET last_log_id = EXCLUDED.last_log_id
			WHERE outbox_watermarks.last_log_id < EXCLUDED.last_log_id`, name, last); err != nil {
			return n, fmt.Errorf("outbox %s: advance watermark to %d: %w", name, last, err)
		}
		watermark = last
		n += count
		r.published.WithLabelValues(name).Add(float64(count))
		if count < r.opts.PageSize {
			break
		}
	}
	var max int64
	if err := conn.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM `+logs+` WHERE ledger = $1`, name).Scan(&max); err == nil {
		r.lag.WithLabelValues(name).Set(float64(max - watermark))
	}
	return n, nil
}

// publishPage publishes up to a page of logs after watermark, in id order,
// consecutive events of one topic in one Publish call. It returns the id of
// the last log published and their count.
func (r *Relay) publishPage(ctx context.Context, conn *pgx.Conn, name, logs string, watermark int64) (int64, int, error) {
	rows, err := conn.Query(ctx, `SELECT id, type, date, data::text FROM `+logs+`
		WHERE ledger = $1 AND id > $2 ORDER BY id LIMIT $3`, name, watermark, r.opts.PageSize)
	if err != nil {
		return 0, 0, err
	}
	type event struct {
		topic string
		msg   *message.Message
	}
	var (
		events []event
		last   int64
	)
	for rows.Next() {
		var (
			id   int64
			typ  string
			date time.Time
			data string
		)
		if err := rows.Scan(&id, &typ, &date, &data); err != nil {
			rows.Close()
			return 0, 0, err
		}
		env, err := eventFromRow(name, id, typ, date, []byte(data))
		if err != nil {
			rows.Close()
			return 0, 0, err
		}
		msg, err := bus.NewMessage(env, name)
		if err != nil {
			rows.Close()
			return 0, 0, err
		}
		events = append(events, event{r.opts.Topics.Topic(env.Type), msg})
		last = id
	}
	if err := rows.Err(); err != nil {
		return 0, 0, err
	}
	for i := 0; i < len(events); {
		j := i
		var msgs []*message.Message
		for ; j < len(events) && events[j].topic == events[i].topic; j++ {
			msgs = append(msgs, events[j].msg)
		}
		if err := r.opts.Publisher.Publish(events[i].topic, msgs...); err != nil {
			return 0, 0, fmt.Errorf("outbox %s: publish to %s: %w", name, events[i].topic, err)
		}
		i = j
	}
	return last, len(events), nil
}

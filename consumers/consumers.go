// Package consumers runs Kontor's bus-fed workers (webhook dispatch, search
// indexing, orchestration triggers, …) with one shared discipline:
//
//   - one consumer group per consumer name, so each consumer keeps its own
//     checkpoint on the transport;
//   - a message that is not an event envelope is logged and acked (a poison
//     message never blocks the stream);
//   - at-least-once processing: an envelope whose idempotency key this
//     consumer already processed is acked without calling the handler, and a
//     key is recorded (table _system.consumer_processed) only after its
//     handler succeeded — so handlers must be idempotent, and a redelivery of
//     an already processed event is a no-op;
//   - a failing handler is retried with bounded exponential backoff, then the
//     message is nacked and the transport delivers it again: a permanently
//     failing event holds back its partition (its ledger) until it succeeds;
//   - Prometheus metrics per consumer: processed, failures, skipped, lag.
//
// Recorded keys are kept for Options.Retention (a day by default) and
// deleted by Cleanup, which Run calls every Options.CleanupInterval. A
// redelivery older than the retention is handled again, which idempotent
// handlers tolerate; keep the retention longer than the longest expected
// redelivery window.
package consumers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kontorhq/kontor/platform/bus"
)

// Handler processes one event. It must be idempotent: an event can be
// delivered again after a crash between its handling and its record.
type Handler interface {
	Handle(ctx context.Context, env bus.Envelope) error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, env bus.Envelope) error

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, env bus.Envelope) error { return f(ctx, env) }

// Defaults of Options.
const (
	DefaultConcurrency     = 64
	DefaultRetention       = 24 * time.Hour
	DefaultCleanupInterval = time.Hour
)

// Options configure a consumer.
type Options struct {
	// Name identifies the consumer: its metrics label and its dedupe keys.
	// Subscriber must have been opened with consumer group Name.
	Name string
	// Topics are the bus topics to consume.
	Topics []string
	// Subscriber delivers the messages (see bus.NewSubscriber). Run does not
	// close it.
	Subscriber message.Subscriber
	// Handler processes the events.
	Handler Handler
	// DB holds the dedupe table.
	DB *pgxpool.Pool
	// Retry bounds the attempts of a failing handler before a nack.
	Retry Retry
	// Registerer receives the metrics; nil keeps them unregistered.
	Registerer prometheus.Registerer
	// Logger receives poison messages and handler failures (slog.Default
	// when nil).
	Logger *slog.Logger
	// Concurrency bounds the messages handled at once, across partitions
	// and topics (DefaultConcurrency when zero). Messages of one partition
	// are always handled one after the other.
	Concurrency int
	// Retention is how long processed keys are kept (DefaultRetention when
	// zero; negative keeps them forever and disables the cleanup).
	Retention time.Duration
	// CleanupInterval is how often Run deletes expired keys
	// (DefaultCleanupInterval when zero).
	CleanupInterval time.Duration
}

func (o *Options) validate() error {
	switch {
	case o.Name == "":
		return errors.New("consumers: no name")
	case len(o.Topics) == 0:
		return fmt.Errorf("consumer %s: no topics", o.Name)
	case o.Subscriber == nil:
		return fmt.Errorf("consumer %s: no subscriber", o.Name)
	case o.Handler == nil:
		return fmt.Errorf("consumer %s: no handler", o.Name)
	case o.DB == nil:
		return fmt.Errorf("consumer %s: no database", o.Name)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Retention == 0 {
		o.Retention = DefaultRetention
	}
	if o.CleanupInterval <= 0 {
		o.CleanupInterval = DefaultCleanupInterval
	}
	o.Retry = o.Retry.withDefaults()
	return nil
}

// ErrSubscriptionEnded is returned by Run when a subscription stops while
// its context is still alive (the subscriber was closed).
var ErrSubscriptionEnded = errors.New("subscription ended")

// Run consumes opts.Topics until ctx is done, then waits for the messages in
// hand and returns nil. Messages not acked by then are delivered again to the
// group's next member. Run returns an error for invalid options, a failed
// subscription, or a subscription that ends on its own.
func Run(ctx context.Context, opts Options) error {
	if err := opts.validate(); err != nil {
		return err
	}
	m, err := newMetrics(opts.Registerer, opts.Name)
	if err != nil {
		return fmt.Errorf("consumer %s: %w", opts.Name, err)
	}
	c := &consumer{opts: opts, metrics: m, log: opts.Logger.With("consumer", opts.Name)}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	streams := make([]<-chan *message.Message, 0, len(opts.Topics))
	for _, topic := range opts.Topics {
		ch, err := opts.Subscriber.Subscribe(ctx, topic)
		if err != nil {
			cancel()
			for _, s := range streams {
				drain(s)
			}
			return fmt.Errorf("consumer %s: subscribe to %s: %w", opts.Name, topic, err)
		}
		streams = append(streams, ch)
	}

	var (
		wg      sync.WaitGroup
		errOnce sync.Once
		runErr  error
	)
	sem := make(chan struct{}, opts.Concurrency)
	for i, ch := range streams {
		wg.Go(func() {
			c.dispatch(ctx, ch, sem, &wg)
			if ctx.Err() == nil {
				errOnce.Do(func() {
					runErr = fmt.Errorf("consumer %s, topic %s: %w", opts.Name, opts.Topics[i], ErrSubscriptionEnded)
				})
				cancel()
			}
		})
	}
	if opts.Retention > 0 {
		wg.Go(func() { c.cleanupLoop(ctx) })
	}
	wg.Wait()
	return runErr
}

// dispatch hands each message of ch to its own goroutine, at most
// Concurrency at once, until ch is closed. The transports deliver a
// partition's next message only once the previous one is acked, so this
// keeps the order within a partition.
func (c *consumer) dispatch(ctx context.Context, ch <-chan *message.Message, sem chan struct{}, wg *sync.WaitGroup) {
	for msg := range ch {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			continue // not acked: delivered again after the restart
		}
		wg.Go(func() {
			defer func() { <-sem }()
			c.process(ctx, msg)
		})
	}
}

// drain empties a subscription whose context is cancelled, so that the
// subscriber finishes and leaves its group.
func drain(ch <-chan *message.Message) {
	for range ch {
	}
}

func (c *consumer) cleanupLoop(ctx context.Context) {
	ticker := time.NewTicker(c.opts.CleanupInterval)
	defer ticker.Stop()
	for {
		if n, err := Cleanup(ctx, c.opts.DB, c.opts.Name, c.opts.Retention); err != nil && ctx.Err() == nil {
			c.log.Warn("consumer: cleaning up processed keys", "error", err)
		} else if n > 0 {
			c.log.Debug("consumer: processed keys deleted", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

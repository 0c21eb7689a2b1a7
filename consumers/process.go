package consumers

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/kontorhq/kontor/platform/bus"
)

// recordTimeout bounds the write of a processed key. It is detached from the
// run's context so that a shutdown right after a successful handler still
// records it (instead of handling the event again after the restart).
const recordTimeout = 10 * time.Second

type consumer struct {
	opts    Options
	metrics *metrics
	log     *slog.Logger
}

// process decodes, handles and acks or nacks one message.
func (c *consumer) process(ctx context.Context, msg *message.Message) {
	env, err := bus.Decode(msg)
	if err != nil {
		c.log.Warn("consumer: skipping a message that is not an event envelope",
			"message_uuid", msg.UUID, "error", err)
		c.metrics.poison.Inc()
		msg.Ack()
		return
	}
	// The transport may give up on a message (the postgres ack deadline):
	// stop working on it then, it will be delivered again.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(msg.Context(), cancel)()

	if err := c.handleWithRetry(ctx, env); err != nil {
		if ctx.Err() == nil {
			msg.Nack() // delivered again after the transport's resend interval
		}
		// Otherwise the run is stopping or the transport gave up on the
		// message: it will be delivered again, nothing to tell.
		return
	}
	msg.Ack()
}

// handleWithRetry runs attempts until one succeeds, Retry.Attempts have
// failed, or ctx is done.
func (c *consumer) handleWithRetry(ctx context.Context, env bus.Envelope) error {
	r := c.opts.Retry
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := c.attempt(ctx, env)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err() // shutting down: not the handler's failure
		}
		c.metrics.failures.Inc()
		if attempt >= r.Attempts {
			c.log.Error("consumer: event failed, nacked for redelivery",
				"idempotency_key", env.IdempotencyKey, "type", env.Type, "attempts", attempt, "error", err)
			return err
		}
		c.log.Warn("consumer: event failed, retrying",
			"idempotency_key", env.IdempotencyKey, "type", env.Type, "attempt", attempt, "error", err)
		if err := sleep(ctx, r.delay(attempt)); err != nil {
			return err
		}
	}
}

// attempt handles env unless its key is already recorded, then records it.
func (c *consumer) attempt(ctx context.Context, env bus.Envelope) error {
	key := env.IdempotencyKey
	if key != "" {
		done, err := processed(ctx, c.opts.DB, c.opts.Name, key)
		if err != nil {
			return err
		}
		if done {
			c.metrics.observeLag(env.Date)
			c.metrics.duplicates.Inc()
			return nil
		}
	}
	if err := c.handle(ctx, env); err != nil {
		return err
	}
	if key != "" {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
		defer cancel()
		if err := record(rctx, c.opts.DB, c.opts.Name, key); err != nil {
			return err
		}
	}
	c.metrics.observeLag(env.Date)
	c.metrics.processed.Inc()
	return nil
}

// handle calls the handler, turning a panic into an error.
func (c *consumer) handle(ctx context.Context, env bus.Envelope) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler panicked: %v", p)
		}
	}()
	return c.opts.Handler.Handle(ctx, env)
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

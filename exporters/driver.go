package exporters

import (
	"context"
	"errors"
)

// Driver delivers exports to one destination. Accept delivers a batch, in
// order, and returns only once the destination has it; a batch it fails on
// may have been partly delivered, and the caller sends it again.
//
// Delivery is at-least-once, so Accept may be given exports it already
// accepted: storing drivers ignore them, forwarding drivers send them again
// (see the package documentation). A Driver is safe for concurrent use; it
// opens its connections on the first Accept, never in its constructor.
type Driver interface {
	// Accept delivers exports. An empty batch is a no-op.
	Accept(ctx context.Context, exports []Export) error
	// Close releases the driver's connections. Accept fails after Close.
	Close() error
}

// ErrClosed is returned by Accept on a closed driver or Batcher.
var ErrClosed = errors.New("exporters: closed")

// New builds the driver that cfg describes, once cfg validates (see
// Config.Validate). It does no I/O: connections open on the first Accept.
// The driver is not batched; wrap it in a Batcher for that.
func New(cfg Config) (Driver, error) {
	parsed, err := cfg.parse()
	if err != nil {
		return nil, err
	}
	return parsed.open()
}

// noop is the reference's "noop" driver: it accepts everything and keeps
// nothing.
type noop struct{}

func (noop) Accept(context.Context, []Export) error { return nil }
func (noop) Close() error                           { return nil }

package exporters

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// flushTimeout bounds one flush: the driver's Accept of one batch.
const flushTimeout = time.Minute

// Batcher is a Driver that groups the exports it is given — by one caller
// or several at once — into batches for the driver it wraps: a batch goes
// out when it holds MaxItems exports, at the latest FlushInterval after the
// oldest of them arrived, and on Close. Batches are sent one at a time, in
// arrival order.
//
// Accept returns once all its exports are delivered, with the error of the
// first batch holding some of them that failed; its exports not sent yet
// are then dropped, as the caller will send them again.
type Batcher struct {
	driver   Driver
	batching Batching

	requests chan *batchRequest
	closing  chan struct{} // closed by Close
	done     chan struct{} // closed when run returns
	once     sync.Once
	closeErr error // of the flushes on Close, set before done closes
	pending  atomic.Int64
}

// batchRequest is one Accept call waiting for its exports to be flushed.
type batchRequest struct {
	exports []Export
	left    int // exports of the request not flushed yet
	failed  bool
	result  chan error // buffered: receives exactly one value
}

// batchItem is one pending export.
type batchItem struct {
	export Export
	req    *batchRequest
}

// NewBatcher returns a Batcher sending to d, which it owns: Close closes d.
// Zero fields of b take the defaults of DefaultBatching.
func NewBatcher(d Driver, b Batching) *Batcher {
	if b.MaxItems <= 0 {
		b.MaxItems = DefaultMaxItems
	}
	if b.FlushInterval <= 0 {
		b.FlushInterval = DefaultFlushInterval
	}
	bt := &Batcher{
		driver:   d,
		batching: b,
		requests: make(chan *batchRequest),
		closing:  make(chan struct{}),
		done:     make(chan struct{}),
	}
	go bt.run()
	return bt
}

// Accept queues exports and waits until they are delivered, the batch
// holding them fails, or ctx ends (the exports may still be delivered
// afterwards).
func (b *Batcher) Accept(ctx context.Context, exports []Export) error {
	if len(exports) == 0 {
		return nil
	}
	req := &batchRequest{exports: exports, left: len(exports), result: make(chan error, 1)}
	select {
	case b.requests <- req:
	case <-b.closing:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.result:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Pending returns how many exports wait for their batch to be sent.
func (b *Batcher) Pending() int {
	return int(b.pending.Load())
}

// Close flushes what is pending, waits for it (each batch bounded by a
// minute), closes the driver and returns the errors of that last flush and
// of the driver's Close. Later calls return nil.
func (b *Batcher) Close() error {
	first := false
	b.once.Do(func() {
		first = true
		close(b.closing)
	})
	<-b.done
	if !first {
		return nil
	}
	return errors.Join(b.closeErr, b.driver.Close())
}

// run owns the pending exports: it takes requests, and flushes on size, on
// the timer and on Close.
func (b *Batcher) run() {
	defer close(b.done)
	var (
		pending []batchItem
		timer   = time.NewTimer(b.batching.FlushInterval)
		expired <-chan time.Time // the timer's channel while pending is not empty
	)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case req := <-b.requests:
			if len(pending) == 0 {
				timer.Reset(b.batching.FlushInterval)
				expired = timer.C
			}
			for _, e := range req.exports {
				pending = append(pending, batchItem{export: e, req: req})
			}
			for len(pending) >= b.batching.MaxItems {
				pending, _ = b.flush(pending)
			}
		case <-expired:
			for len(pending) > 0 {
				pending, _ = b.flush(pending)
			}
		case <-b.closing:
			var errs []error
			for len(pending) > 0 {
				var err error
				pending, err = b.flush(pending)
				errs = append(errs, err)
			}
			b.closeErr = errors.Join(errs...)
			return
		}
		b.pending.Store(int64(len(pending)))
		if len(pending) == 0 && expired != nil {
			timer.Stop()
			expired = nil
		}
	}
}

// flush sends up to MaxItems pending exports as one batch, reports to the
// requests whose exports are all settled, and returns what is left pending
// (without the exports of requests that failed) and the driver's error.
func (b *Batcher) flush(pending []batchItem) ([]batchItem, error) {
	n := min(b.batching.MaxItems, len(pending))
	batch := make([]Export, n)
	for i, item := range pending[:n] {
		batch[i] = item.export
	}
	ctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
	err := b.driver.Accept(ctx, batch)
	cancel()

	for _, item := range pending[:n] {
		req := item.req
		if req.left == 0 { // already answered
			continue
		}
		req.left--
		if err != nil {
			req.failed, req.left = true, 0
			req.result <- err
		} else if req.left == 0 {
			req.result <- nil
		}
	}
	rest := pending[n:]
	if err == nil {
		return rest, nil
	}
	kept := rest[:0:0]
	for _, item := range rest {
		if !item.req.failed {
			kept = append(kept, item)
		}
	}
	return kept, err
}

package exporters

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"
)

func TestBatcherFlushesOnSize(t *testing.T) {
	rec := &recorder{}
	b := NewBatcher(rec, Batching{MaxItems: 3, FlushInterval: time.Hour})
	defer b.Close()
	ctx := context.Background()

	// Six exports make two full batches: Accept returns without waiting
	// for the interval.
	if err := b.Accept(ctx, numbered(t, 1, 6)); err != nil {
		t.Fatal(err)
	}
	if got := rec.sizes(); !reflect.DeepEqual(got, []int{3, 3}) {
		t.Fatalf("batches %v, want [3 3]", got)
	}

	// Seven more: two full batches go at once, the last export waits.
	done := make(chan error, 1)
	go func() { done <- b.Accept(ctx, numbered(t, 7, 7)) }()
	eventually(t, 5*time.Second, "two more full batches", func() bool { return len(rec.sizes()) == 4 })
	select {
	case err := <-done:
		t.Fatalf("Accept returned (%v) before its last export was sent", err)
	default:
	}
	// The eighth export fills the pending batch: both callers are answered.
	if err := b.Accept(ctx, numbered(t, 14, 2)); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := rec.sizes(); !reflect.DeepEqual(got, []int{3, 3, 3, 3, 3}) {
		t.Fatalf("batches %v", got)
	}
	if got, want := rec.ids(), ids(1, 15); !reflect.DeepEqual(got, want) {
		t.Fatalf("ids %v, want %v", got, want)
	}
}

func TestBatcherFlushesOnInterval(t *testing.T) {
	rec := &recorder{}
	b := NewBatcher(rec, Batching{MaxItems: 100, FlushInterval: 20 * time.Millisecond})
	defer b.Close()
	start := time.Now()
	if err := b.Accept(context.Background(), numbered(t, 1, 5)); err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(start); elapsed < 20*time.Millisecond {
		t.Fatalf("flushed after %s, before the interval", elapsed)
	}
	if got := rec.sizes(); !reflect.DeepEqual(got, []int{5}) {
		t.Fatalf("batches %v, want [5]", got)
	}
	// The timer starts again with the next export.
	if err := b.Accept(context.Background(), numbered(t, 6, 1)); err != nil {
		t.Fatal(err)
	}
	if got := rec.sizes(); !reflect.DeepEqual(got, []int{5, 1}) {
		t.Fatalf("batches %v, want [5 1]", got)
	}
}

func TestBatcherGroupsConcurrentCallers(t *testing.T) {
	rec := &recorder{}
	b := NewBatcher(rec, Batching{MaxItems: 10, FlushInterval: time.Hour})
	defer b.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 5)
	for i := range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- b.Accept(context.Background(), numbered(t, 1+2*i, 2))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := rec.sizes(); !reflect.DeepEqual(got, []int{10}) {
		t.Fatalf("batches %v, want one of 10", got)
	}
}

func TestBatcherFailureAnswersTheCallerAndDropsItsRest(t *testing.T) {
	boom := errors.New("boom")
	rec := &recorder{failWith: boom}
	b := NewBatcher(rec, Batching{MaxItems: 2, FlushInterval: time.Hour})
	defer b.Close()
	ctx := context.Background()
	if err := b.Accept(ctx, numbered(t, 1, 5)); !errors.Is(err, boom) {
		t.Fatalf("Accept: %v, want boom", err)
	}
	rec.mu.Lock()
	rec.failWith = nil
	rec.mu.Unlock()
	// The three exports the failed batch left behind are not sent: the
	// caller sends them again.
	if err := b.Accept(ctx, numbered(t, 1, 2)); err != nil {
		t.Fatal(err)
	}
	if got := rec.ids(); !reflect.DeepEqual(got, []uint64{1, 2}) {
		t.Fatalf("ids %v, want [1 2]", got)
	}
}

func TestBatcherCloseFlushesAndClosesTheDriver(t *testing.T) {
	rec := &recorder{}
	b := NewBatcher(rec, Batching{MaxItems: 100, FlushInterval: time.Hour})
	done := make(chan error, 1)
	go func() { done <- b.Accept(context.Background(), numbered(t, 1, 3)) }()
	eventually(t, 5*time.Second, "3 exports pending", func() bool { return b.Pending() == 3 })

	// A caller that stops waiting leaves its exports queued.
	ctx, cancel := context.WithCancel(context.Background())
	cancelled := make(chan error, 1)
	go func() { cancelled <- b.Accept(ctx, numbered(t, 4, 1)) }()
	eventually(t, 5*time.Second, "4 exports pending", func() bool { return b.Pending() == 4 })
	cancel()
	if err := <-cancelled; !errors.Is(err, context.Canceled) {
		t.Fatalf("Accept with a cancelled context: %v", err)
	}
	select {
	case err := <-done:
		t.Fatalf("Accept returned (%v) before Close", err)
	default:
	}

	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := rec.sizes(); !reflect.DeepEqual(got, []int{4}) {
		t.Fatalf("batches %v, want [4]", got)
	}
	if got := rec.ids(); !reflect.DeepEqual(got, ids(1, 4)) {
		t.Fatalf("ids %v", got)
	}
	rec.mu.Lock()
	closed := rec.closed
	rec.mu.Unlock()
	if !closed {
		t.Fatal("Close did not close the driver")
	}
	if err := b.Accept(context.Background(), numbered(t, 1, 1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Accept after Close: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestBatcherCloseReportsTheFlushError(t *testing.T) {
	boom := errors.New("boom")
	rec := &recorder{}
	b := NewBatcher(rec, Batching{MaxItems: 100, FlushInterval: time.Hour})
	done := make(chan error, 1)
	go func() { done <- b.Accept(context.Background(), numbered(t, 1, 1)) }()
	eventually(t, 5*time.Second, "1 export pending", func() bool { return b.Pending() == 1 })
	rec.mu.Lock()
	rec.failWith = boom
	rec.mu.Unlock()
	if err := b.Close(); !errors.Is(err, boom) {
		t.Fatalf("Close: %v, want boom", err)
	}
	if err := <-done; !errors.Is(err, boom) {
		t.Fatalf("Accept: %v, want boom", err)
	}
}

func TestBatcherWithARealDriver(t *testing.T) {
	var out bytes.Buffer // read after Close only
	b := NewBatcher(NewStdout(&out), Batching{MaxItems: 4, FlushInterval: 10 * time.Millisecond})
	exports := referenceExports(t, "demo")
	if err := b.Accept(context.Background(), exports); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	want := ""
	for _, e := range exports {
		want += mustJSON(t, e) + "\n"
	}
	if out.String() != want {
		t.Fatalf("output:\n%s", out.String())
	}
}

// ids returns first, first+1, … last.
func ids(first, last uint64) []uint64 {
	var out []uint64
	for id := first; id <= last; id++ {
		out = append(out, id)
	}
	return out
}

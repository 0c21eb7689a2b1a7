package exporters

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kontorhq/kontor/domain/ledger"
	"github.com/kontorhq/kontor/eventstore"
	"github.com/kontorhq/kontor/platform/pgtest"
	"github.com/kontorhq/kontor/projections"
)

// testRunnerOptions make pipelines react fast. The pull interval is long on
// purpose: logs written here reach the pipelines through Notify.
var testRunnerOptions = RunnerOptions{
	PullInterval: time.Minute,
	RetryPeriod:  20 * time.Millisecond,
	SyncInterval: 200 * time.Millisecond,
	Logger:       slog.New(slog.DiscardHandler),
}

// pipelineEnv is a migrated database with the ledger "main", its event
// store, and the pipelines runners started on it.
type pipelineEnv struct {
	t      *testing.T
	pool   *pgxpool.Pool
	events *eventstore.Store
	store  *Store
	reader *projections.Reader

	mu      sync.Mutex
	runners []*Runner
}

func newPipelineEnv(t *testing.T) *pipelineEnv {
	t.Helper()
	pool := pgtest.NewPool(t)
	e := &pipelineEnv{t: t, pool: pool, store: NewStore(pool), reader: projections.NewReader(pool)}
	e.events = eventstore.New(pool, eventstore.Options{Committed: e.notify})
	t.Cleanup(e.events.Close)
	if _, err := e.events.CreateLedger(context.Background(), "main", ledger.LedgerConfiguration{}); err != nil {
		t.Fatal(err)
	}
	return e
}

// notify wakes every runner, as serve chains Runner.Notify into the
// store's Committed hook.
func (e *pipelineEnv) notify() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, r := range e.runners {
		r.Notify()
	}
}

// start runs a runner until the returned stop is called (or the test ends).
func (e *pipelineEnv) start(opts RunnerOptions) (stop func()) {
	e.t.Helper()
	r, err := NewRunner(e.pool, e.reader, opts)
	if err != nil {
		e.t.Fatal(err)
	}
	e.mu.Lock()
	e.runners = append(e.runners, r)
	e.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				e.t.Errorf("Run: %v", err)
			}
			e.mu.Lock()
			e.runners = slices.DeleteFunc(e.runners, func(x *Runner) bool { return x == r })
			e.mu.Unlock()
		})
	}
	e.t.Cleanup(stop)
	return stop
}

// write appends n logs to "main": transactions, every third one a
// metadata change.
func (e *pipelineEnv) write(n int) {
	e.t.Helper()
	for i := range n {
		var cmd ledger.Command = ledger.CreateTransaction{Postings: ledger.Postings{
			ledger.NewPosting("world", fmt.Sprintf("users:%d", i), "USD/2", big.NewInt(int64(i+1)))}}
		if i%3 == 2 {
			cmd = ledger.SaveMetadata{Target: ledger.AccountTarget("users:0"), Metadata: ledger.Metadata{"n": fmt.Sprint(i)}}
		}
		if _, err := e.events.Execute(context.Background(), "main", eventstore.Request{Command: cmd}); err != nil {
			e.t.Fatal(err)
		}
	}
}

// logs returns the logs of "main", as the exporters must receive them.
func (e *pipelineEnv) logs() []Export {
	e.t.Helper()
	logs, err := e.reader.LogsAfter(context.Background(), "main", 0, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	return exportsOf("main", logs)
}

// pipeline creates an exporter with config and its pipeline on "main".
func (e *pipelineEnv) pipeline(driver, config string) Pipeline {
	e.t.Helper()
	ctx := context.Background()
	exp, err := e.store.CreateExporter(ctx, Config{Driver: driver, Config: json.RawMessage(config)})
	if err != nil {
		e.t.Fatal(err)
	}
	p, err := e.store.CreatePipeline(ctx, "main", exp.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// state reads pipeline p back.
func (e *pipelineEnv) state(p Pipeline) Pipeline {
	e.t.Helper()
	got, err := e.store.Pipeline(context.Background(), "main", p.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return got
}

// receiver is an HTTP endpoint recording the exports POSTed to it; it
// answers 503 while failing is set.
type receiver struct {
	srv      *httptest.Server
	mu       sync.Mutex
	exports  []Export
	batches  int
	failing  atomic.Bool
	rejected atomic.Int64
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if rc.failing.Load() {
			rc.rejected.Add(1)
			http.Error(w, "receiver down", http.StatusServiceUnavailable)
			return
		}
		var batch []Export
		if err := json.Unmarshal(body, &batch); err != nil {
			t.Errorf("receiver: %v: %s", err, body)
		}
		rc.mu.Lock()
		rc.exports = append(rc.exports, batch...)
		rc.batches++
		rc.mu.Unlock()
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

// config is an http exporter configuration sending here in batches of
// maxItems.
func (rc *receiver) config(maxItems int) string {
	return fmt.Sprintf(`{"url":%q,"batching":{"maxItems":%d,"flushInterval":"10ms"}}`, rc.srv.URL, maxItems)
}

func (rc *receiver) ids() []uint64 {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := make([]uint64, len(rc.exports))
	for i, e := range rc.exports {
		out[i] = e.Log.ID
	}
	return out
}

// seq returns from, from+1, …, to.
func seq(from, to uint64) []uint64 {
	var out []uint64
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

// waitIDs waits until got returns want.
func waitIDs(t *testing.T, what string, got func() []uint64, want []uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !slices.Equal(got(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: received %v\nwant %v", what, got(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitCheckpoint waits until pipeline p's checkpoint is last.
func waitCheckpoint(t *testing.T, e *pipelineEnv, p Pipeline, last uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for got := e.state(p); got.LastLogID == nil || *got.LastLogID != last; got = e.state(p) {
		if time.Now().After(deadline) {
			t.Fatalf("checkpoint: %+v, want lastLogID %d", got, last)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// settle lets a change notification reach the runners.
func settle() { time.Sleep(300 * time.Millisecond) }

func TestPipelineExportsInOrderAndFollowsStopStartReset(t *testing.T) {
	t.Parallel()
	e := newPipelineEnv(t)
	ctx := context.Background()
	rc := newReceiver(t)
	e.write(5) // before the pipeline exists
	e.start(testRunnerOptions)
	p := e.pipeline(DriverHTTP, rc.config(2))
	if !p.Enabled || p.LastLogID != nil || p.Error != "" || p.Ledger != "main" {
		t.Fatalf("new pipeline: %+v", p)
	}

	waitIDs(t, "existing logs", rc.ids, seq(1, 5))
	e.write(3) // woken by Notify: the pull interval is a minute
	waitIDs(t, "new logs", rc.ids, seq(1, 8))
	rc.mu.Lock()
	for i, want := range e.logs() {
		if got := mustJSON(t, rc.exports[i]); got != mustJSON(t, want) {
			t.Fatalf("export %d:\n got %s\nwant %s", i, got, mustJSON(t, want))
		}
	}
	if rc.batches < 4 { // batches of at most 2
		t.Errorf("%d batches for 8 logs in batches of 2", rc.batches)
	}
	rc.mu.Unlock()
	waitCheckpoint(t, e, p, 8)

	if err := e.store.StopPipeline(ctx, "main", p.ID); err != nil {
		t.Fatal(err)
	}
	settle()
	e.write(2)
	settle()
	if got := rc.ids(); !slices.Equal(got, seq(1, 8)) {
		t.Fatalf("a stopped pipeline exported: %v", got)
	}
	if got := e.state(p); got.Enabled || *got.LastLogID != 8 {
		t.Fatalf("stopped pipeline: %+v", got)
	}

	if err := e.store.StartPipeline(ctx, "main", p.ID); err != nil {
		t.Fatal(err)
	}
	waitIDs(t, "after start", rc.ids, seq(1, 10)) // from the checkpoint: nothing lost, nothing again

	if err := e.store.ResetPipeline(ctx, "main", p.ID); err != nil {
		t.Fatal(err)
	}
	waitIDs(t, "after reset", rc.ids, append(seq(1, 10), seq(1, 10)...))
	waitCheckpoint(t, e, p, 10)

	if err := e.store.DeletePipeline(ctx, "main", p.ID); err != nil {
		t.Fatal(err)
	}
	settle()
	e.write(1)
	settle()
	if got := rc.ids(); len(got) != 20 {
		t.Fatalf("a deleted pipeline exported: %v", got[20:])
	}
}

func TestPipelineRecordsFailuresAndRetriesUntilTheDriverRecovers(t *testing.T) {
	t.Parallel()
	e := newPipelineEnv(t)
	rc := newReceiver(t)
	rc.failing.Store(true)
	e.write(4)
	e.start(testRunnerOptions)
	p := e.pipeline(DriverHTTP, rc.config(100))

	deadline := time.Now().Add(10 * time.Second)
	for rc.rejected.Load() < 3 || e.state(p).Error == "" {
		if time.Now().After(deadline) {
			t.Fatalf("after %d rejected pushes: %+v", rc.rejected.Load(), e.state(p))
		}
		time.Sleep(5 * time.Millisecond)
	}
	got := e.state(p)
	if !strings.Contains(got.Error, "status 503") || !strings.Contains(got.Error, "receiver down") || got.LastLogID != nil {
		t.Fatalf("failing pipeline: %+v", got)
	}

	rc.failing.Store(false)
	waitIDs(t, "after recovery", rc.ids, seq(1, 4))
	deadline = time.Now().Add(10 * time.Second)
	for got = e.state(p); got.Error != "" || got.LastLogID == nil || *got.LastLogID != 4; got = e.state(p) {
		if time.Now().After(deadline) {
			t.Fatalf("recovered pipeline: %+v", got)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRunnerResumesFromTheCheckpointAfterARestart(t *testing.T) {
	t.Parallel()
	e := newPipelineEnv(t)
	rc := newReceiver(t)
	e.write(5)
	stop := e.start(testRunnerOptions)
	p := e.pipeline(DriverHTTP, rc.config(100))
	waitIDs(t, "first runner", rc.ids, seq(1, 5))
	waitCheckpoint(t, e, p, 5)
	stop()

	e.write(3) // while no runner runs
	e.start(testRunnerOptions)
	waitIDs(t, "second runner", rc.ids, seq(1, 8))
	waitCheckpoint(t, e, p, 8)
}

func TestOneRunnerAtATimeRunsAPipelineAndAnotherTakesOver(t *testing.T) {
	t.Parallel()
	e := newPipelineEnv(t)
	rc := newReceiver(t)
	opts := testRunnerOptions
	opts.SyncInterval = 50 * time.Millisecond
	stopFirst := e.start(opts)
	p := e.pipeline(DriverHTTP, rc.config(1))
	settle()
	e.start(opts)
	e.write(6)
	waitIDs(t, "two runners", rc.ids, seq(1, 6)) // each log once
	waitCheckpoint(t, e, p, 6)
	stopFirst() // the other runner may or may not be the one running it
	e.write(4)
	waitIDs(t, "after one runner stopped", rc.ids, seq(1, 10))
}

func TestUpdatedExporterRestartsItsPipelinesFromTheCheckpoint(t *testing.T) {
	t.Parallel()
	e := newPipelineEnv(t)
	ctx := context.Background()
	first, second := newReceiver(t), newReceiver(t)
	e.start(testRunnerOptions)
	p := e.pipeline(DriverHTTP, first.config(100))
	e.write(3)
	waitIDs(t, "first exporter", first.ids, seq(1, 3))
	// Delivery is at least once: the checkpoint follows the push, and an
	// update before it lands would send 1..3 again.
	waitCheckpoint(t, e, p, 3)
	err := e.store.UpdateExporter(ctx, p.ExporterID, Config{Driver: DriverHTTP, Config: json.RawMessage(second.config(100))})
	if err != nil {
		t.Fatal(err)
	}
	settle()
	e.write(2)
	waitIDs(t, "updated exporter", second.ids, seq(4, 5))
	if got := first.ids(); len(got) != 3 {
		t.Fatalf("the old destination got %v", got)
	}
}

func TestPipelineOfAMissingLedgerRecordsWhyAndRecovers(t *testing.T) {
	t.Parallel()
	e := newPipelineEnv(t)
	ctx := context.Background()
	rc := newReceiver(t)
	e.start(testRunnerOptions)
	exp, err := e.store.CreateExporter(ctx, Config{Driver: DriverHTTP, Config: json.RawMessage(rc.config(10))})
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.store.CreatePipeline(ctx, "later", exp.ID) // the store does not check ledgers; the API does
	if err != nil {
		t.Fatal(err)
	}
	read := func() Pipeline {
		got, err := e.store.Pipeline(ctx, "later", p.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	deadline := time.Now().Add(10 * time.Second)
	for read().Error == "" {
		if time.Now().After(deadline) {
			t.Fatalf("no error recorded: %+v", read())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := read(); got.Error != "read the logs of ledger later: LEDGER_NOT_FOUND: not found" {
		t.Fatalf("error %q", got.Error)
	}

	if _, err := e.events.CreateLedger(ctx, "later", ledger.LedgerConfiguration{}); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(10 * time.Second)
	for read().Error != "" { // cleared by the first retry that reads, with nothing to push
		if time.Now().After(deadline) {
			t.Fatalf("error not cleared: %+v", read())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := read(); got.LastLogID != nil || len(rc.ids()) != 0 {
		t.Fatalf("nothing to export yet: %+v, %v", got, rc.ids())
	}
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	formance "github.com/formancehq/formance-sdk-go/v3"
	"github.com/formancehq/formance-sdk-go/v3/pkg/models/operations"
	"github.com/formancehq/formance-sdk-go/v3/pkg/models/shared"
	"github.com/jackc/pgx/v5"

	"github.com/kontorhq/kontor/platform/config"
	"github.com/kontorhq/kontor/platform/pgtest"
)

// workerTestConfig is a configuration on database uri with the given
// worker settings.
func workerTestConfig(uri string, worker config.Worker) *config.Config {
	return &config.Config{
		PostgresURI:     uri,
		LogLevel:        "error",
		Bus:             "postgres",
		AutoMigrate:     true,
		MaxBodyBytes:    1 << 20,
		ShutdownTimeout: 5 * time.Second,
		Region:          "local",
		Env:             "test",
		Worker:          worker,
	}
}

// testWorker are worker settings for tests: fast retries and takeovers.
func testWorker(enabled bool, pull time.Duration) config.Worker {
	return config.Worker{Enabled: enabled, PipelinesPullInterval: pull, PipelinesPushRetryPeriod: 20 * time.Millisecond,
		PipelinesSyncPeriod: 100 * time.Millisecond, PipelinesLogsPageSize: 100}
}

// background runs f until the returned stop is called, which fails the
// test when f returns an error or does not return within 10s.
func background(t *testing.T, f func(context.Context) error) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("stopped with %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Error("did not stop within 10s")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// serveForTest runs serve with cfg and returns its base URL once it answers.
func serveForTest(t *testing.T, cfg *config.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	background(t, func(ctx context.Context) error { return serve(ctx, cfg, ln, io.Discard) })
	base := "http://" + ln.Addr().String()
	waitUntil(t, "the server answers", func() bool {
		rsp, err := http.Get(base + "/versions")
		if err != nil {
			return false
		}
		rsp.Body.Close()
		return true
	})
	return base
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 10s: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// exportSink records the log ids an http exporter POSTs to it.
type exportSink struct {
	mu  sync.Mutex
	ids []int64
}

func newExportSink(t *testing.T) (*exportSink, string) {
	s := &exportSink{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var batch []struct {
			ID int64 `json:"id"`
		}
		if err := json.NewDecoder(r.Body).Decode(&batch); err != nil {
			t.Errorf("sink: %v", err)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, l := range batch {
			s.ids = append(s.ids, l.ID)
		}
	}))
	t.Cleanup(srv.Close)
	return s, srv.URL
}

func (s *exportSink) received() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.ids)
}

// ledgerWithPipeline creates the ledger "main" and a pipeline from it to an
// http exporter posting to url, through the API at base.
func ledgerWithPipeline(t *testing.T, base, url string) (write func(n int)) {
	t.Helper()
	ctx := context.Background()
	v2 := formance.New(formance.WithServerURL(base)).Ledger.V2
	if _, err := v2.CreateLedger(ctx, operations.V2CreateLedgerRequest{Ledger: "main"}); err != nil {
		t.Fatal(err)
	}
	exp, err := v2.CreateExporter(ctx, shared.V2CreateExporterRequest{Driver: "http",
		Config: map[string]any{"url": url, "batching": map[string]any{"flushInterval": "10ms"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v2.CreatePipeline(ctx, operations.V2CreatePipelineRequest{Ledger: "main",
		V2CreatePipelineRequest: &shared.V2CreatePipelineRequest{ExporterID: exp.Object.Data.ID}}); err != nil {
		t.Fatal(err)
	}
	return func(n int) {
		t.Helper()
		for i := range n {
			if _, err := v2.CreateTransaction(ctx, operations.V2CreateTransactionRequest{Ledger: "main",
				V2PostTransaction: shared.V2PostTransaction{Postings: []shared.V2Posting{
					{Source: "world", Destination: fmt.Sprintf("users:%d", i), Amount: big.NewInt(1), Asset: "EUR/2"}}}}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func seqIDs(n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(i + 1)
	}
	return out
}

func TestServeRunsThePipelinesByDefault(t *testing.T) {
	sink, url := newExportSink(t)
	// A minute between pulls: only the commit notification can wake the
	// pipeline up in time.
	base := serveForTest(t, workerTestConfig(pgtest.NewDatabase(t), testWorker(true, time.Minute)))
	write := ledgerWithPipeline(t, base, url)
	write(3)
	waitUntil(t, "logs exported by serve", func() bool { return slices.Equal(sink.received(), seqIDs(3)) })
}

func TestWorkerCommandRunsTheWorkersOfAServerWithout(t *testing.T) {
	uri := pgtest.NewDatabase(t)
	sink, url := newExportSink(t)
	base := serveForTest(t, workerTestConfig(uri, testWorker(false, time.Minute)))
	write := ledgerWithPipeline(t, base, url)
	write(3)

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	watermark := func() int64 {
		var last int64
		err := conn.QueryRow(ctx, `SELECT coalesce(max(last_log_id), 0) FROM _system.outbox_watermarks WHERE ledger = 'main'`).Scan(&last)
		if err != nil {
			t.Fatal(err)
		}
		return last
	}
	time.Sleep(300 * time.Millisecond)
	if got := sink.received(); len(got) != 0 || watermark() != 0 {
		t.Fatalf("serve --worker=false ran the workers: exported %v, published up to %d", got, watermark())
	}

	// The worker pulls the logs another process wrote.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	stop := background(t, func(ctx context.Context) error {
		return work(ctx, workerTestConfig(uri, testWorker(false, 20*time.Millisecond)), ln, io.Discard)
	})
	waitUntil(t, "logs exported by the worker", func() bool { return slices.Equal(sink.received(), seqIDs(3)) })
	waitUntil(t, "events published by the worker", func() bool { return watermark() == 3 })
	write(2)
	waitUntil(t, "new logs exported by the worker", func() bool { return slices.Equal(sink.received(), seqIDs(5)) })
	waitUntil(t, "new events published by the worker", func() bool { return watermark() == 5 })

	// Its metrics and health are served on --bind.
	for path, want := range map[string]string{"/metrics": "kontor_pipeline_exported_logs_total", "/_healthcheck": "{}"} {
		resp, err := http.Get("http://" + ln.Addr().String() + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Fatalf("worker %s: %d %s", path, resp.StatusCode, body)
		}
	}
	stop() // graceful: returns nil at once
}

func TestWorkerCommandHidesTheHTTPSettings(t *testing.T) {
	cmd := newWorkerCmd()
	for _, name := range httpFlags {
		if f := cmd.Flags().Lookup(name); f == nil || !f.Hidden {
			t.Errorf("flag --%s: %+v", name, f)
		}
	}
	for _, name := range []string{"postgres-uri", "bind", "bus", "kafka-brokers", "publisher-topic-mapping", "worker-pipelines-pull-interval"} {
		if f := cmd.Flags().Lookup(name); f == nil || f.Hidden {
			t.Errorf("flag --%s: %+v", name, f)
		}
	}
}

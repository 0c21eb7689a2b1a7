package ledgerv2_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	formance "github.com/formancehq/formance-sdk-go/v3"
	"github.com/formancehq/formance-sdk-go/v3/pkg/models/operations"
	"github.com/formancehq/formance-sdk-go/v3/pkg/models/sdkerrors"
	"github.com/formancehq/formance-sdk-go/v3/pkg/models/shared"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kontorhq/kontor/eventstore"
	"github.com/kontorhq/kontor/exporters"
	"github.com/kontorhq/kontor/handlers/gateway"
	"github.com/kontorhq/kontor/handlers/ledgerv2"
	"github.com/kontorhq/kontor/platform/pgtest"
	"github.com/kontorhq/kontor/projections"
)

// newKontorWithPipelines serves the ledger module with its pipelines and a
// running pipelines runner, as serve wires them, and returns the base URL.
func newKontorWithPipelines(t *testing.T) string {
	t.Helper()
	pool := pgtest.NewPool(t)
	reader := projections.NewReader(pool)
	runner, err := exporters.NewRunner(pool, reader, exporters.RunnerOptions{RetryPeriod: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runner.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("runner: %v", err)
		}
	})
	store := eventstore.New(pool, eventstore.Options{Committed: runner.Notify})
	t.Cleanup(store.Close)
	h := ledgerv2.New(store, reader, "v0.0.0-test").WithPipelines(exporters.NewStore(pool))
	module := ledgerv2.NewModule(h, "v0.0.0-test", pool.Ping)
	srv := httptest.NewServer(gateway.New(gateway.Options{MaxBodyBytes: 1 << 20, Registry: prometheus.NewRegistry()}, module))
	t.Cleanup(srv.Close)
	return srv.URL
}

// logSink records the log ids POSTed to it by an http exporter.
type logSink struct {
	srv *httptest.Server
	mu  sync.Mutex
	ids []int64
}

func newLogSink(t *testing.T) *logSink {
	s := &logSink{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var batch []struct {
			ID     int64  `json:"id"`
			Ledger string `json:"ledger"`
		}
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &batch); err != nil {
			t.Errorf("sink: %v: %s", err, body)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, l := range batch {
			if l.Ledger != "main" {
				t.Errorf("sink: log of ledger %q", l.Ledger)
			}
			s.ids = append(s.ids, l.ID)
		}
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// waitFor waits until cond holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 10s: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// sdkCode returns the V2 error code of an SDK error.
func sdkCode(err error) shared.V2ErrorsEnum {
	var apiErr *sdkerrors.V2ErrorResponse
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode
	}
	return ""
}

func TestPipelinesThroughSDK(t *testing.T) {
	t.Parallel()
	base := newKontorWithPipelines(t)
	ctx := context.Background()
	v2 := formance.New(formance.WithServerURL(base)).Ledger.V2
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	sink := newLogSink(t)
	_, err := v2.CreateLedger(ctx, operations.V2CreateLedgerRequest{Ledger: "main"})
	must(err)
	write := func(n int) {
		t.Helper()
		for i := range n {
			_, err := v2.CreateTransaction(ctx, operations.V2CreateTransactionRequest{Ledger: "main",
				V2PostTransaction: shared.V2PostTransaction{Postings: []shared.V2Posting{
					{Source: "world", Destination: fmt.Sprintf("users:%d", i), Amount: big.NewInt(100), Asset: "USD/2"}}}})
			must(err)
		}
	}
	received := func() []int64 {
		sink.mu.Lock()
		defer sink.mu.Unlock()
		return slices.Clone(sink.ids)
	}
	ids := func(from, to int64) []int64 {
		var out []int64
		for i := from; i <= to; i++ {
			out = append(out, i)
		}
		return out
	}

	// Exporters.
	config := map[string]any{"url": sink.srv.URL, "batching": map[string]any{"maxItems": 10, "flushInterval": "10ms"}}
	created, err := v2.CreateExporter(ctx, shared.V2CreateExporterRequest{Driver: "http", Config: config})
	must(err)
	exp := created.Object.Data
	if created.StatusCode != http.StatusCreated || exp.ID == "" || exp.Driver != "http" || exp.Config["url"] != sink.srv.URL ||
		time.Since(exp.CreatedAt) > time.Minute {
		t.Fatalf("created exporter: %d %+v", created.StatusCode, exp)
	}
	got, err := v2.GetExporterState(ctx, operations.V2GetExporterStateRequest{ExporterID: exp.ID})
	must(err)
	if e := got.Object.Data; e.ID != exp.ID || e.Driver != "http" || e.Config["url"] != sink.srv.URL ||
		!e.CreatedAt.Equal(exp.CreatedAt) {
		t.Fatalf("exporter: %+v", e)
	}
	listed, err := v2.ListExporters(ctx)
	must(err)
	// The SDK reads the reference's {"cursor":{"pageSize","hasMore","data"}}
	// into Cursor.Data.
	if l := listed.Object.Cursor.Data; listed.StatusCode != http.StatusOK || len(l) != 1 || l[0].ID != exp.ID || l[0].Driver != "http" {
		t.Fatalf("list exporters: %d %+v", listed.StatusCode, listed.Object.Cursor)
	}

	// A pipeline exports the logs written before and after it.
	write(2)
	p, err := v2.CreatePipeline(ctx, operations.V2CreatePipelineRequest{Ledger: "main",
		V2CreatePipelineRequest: &shared.V2CreatePipelineRequest{ExporterID: exp.ID}})
	must(err)
	pipeline := p.Object.Data
	if p.StatusCode != http.StatusCreated || pipeline.ID == "" || pipeline.Ledger != "main" || pipeline.ExporterID != exp.ID ||
		pipeline.Enabled == nil || !*pipeline.Enabled || pipeline.LastLogID != nil {
		t.Fatalf("created pipeline: %d %+v", p.StatusCode, pipeline)
	}
	write(2)
	waitFor(t, "logs 1..4 exported", func() bool { return slices.Equal(received(), ids(1, 4)) })
	state := func() shared.V2Pipeline {
		t.Helper()
		res, err := v2.GetPipelineState(ctx, operations.V2GetPipelineStateRequest{Ledger: "main", PipelineID: pipeline.ID})
		must(err)
		return res.Object.Data
	}
	waitFor(t, "checkpoint 4", func() bool { s := state(); return s.LastLogID != nil && *s.LastLogID == 4 })

	// Stop, start, reset.
	stopped, err := v2.StopPipeline(ctx, operations.V2StopPipelineRequest{Ledger: "main", PipelineID: pipeline.ID})
	must(err)
	if s := state(); stopped.StatusCode != http.StatusAccepted || *s.Enabled || *s.LastLogID != 4 {
		t.Fatalf("stop: %d %+v", stopped.StatusCode, s)
	}
	time.Sleep(200 * time.Millisecond) // the runner hears of it
	write(1)
	time.Sleep(200 * time.Millisecond)
	if got := received(); len(got) != 4 {
		t.Fatalf("a stopped pipeline exported %v", got)
	}
	_, err = v2.StopPipeline(ctx, operations.V2StopPipelineRequest{Ledger: "main", PipelineID: pipeline.ID})
	if sdkCode(err) != shared.V2ErrorsEnumValidation || !strings.Contains(err.Error(), "is already stopped") {
		t.Fatalf("stop a stopped pipeline: %v", err)
	}
	started, err := v2.StartPipeline(ctx, operations.V2StartPipelineRequest{Ledger: "main", PipelineID: pipeline.ID})
	must(err)
	if started.StatusCode != http.StatusAccepted {
		t.Fatalf("start: %d", started.StatusCode)
	}
	waitFor(t, "log 5 after start", func() bool { return slices.Equal(received(), ids(1, 5)) })
	reset, err := v2.ResetPipeline(ctx, operations.V2ResetPipelineRequest{Ledger: "main", PipelineID: pipeline.ID})
	must(err)
	if reset.StatusCode != http.StatusAccepted {
		t.Fatalf("reset: %d", reset.StatusCode)
	}
	waitFor(t, "replay after reset", func() bool { return slices.Equal(received(), append(ids(1, 5), ids(1, 5)...)) })
	waitFor(t, "checkpoint 5 after the replay", func() bool { s := state(); return s.LastLogID != nil && *s.LastLogID == 5 })

	list, err := v2.ListPipelines(ctx, operations.V2ListPipelinesRequest{Ledger: "main"})
	must(err)
	if l := list.Object.Cursor.Data; list.StatusCode != http.StatusOK || len(l) != 1 || l[0].ID != pipeline.ID ||
		l[0].LastLogID == nil || *l[0].LastLogID != 5 || !*l[0].Enabled {
		t.Fatalf("list pipelines: %d %+v", list.StatusCode, list.Object.Cursor)
	}

	// What cannot be done.
	_, err = v2.CreatePipeline(ctx, operations.V2CreatePipelineRequest{Ledger: "main",
		V2CreatePipelineRequest: &shared.V2CreatePipelineRequest{ExporterID: exp.ID}})
	if sdkCode(err) != shared.V2ErrorsEnumValidation || !strings.Contains(err.Error(), "already has a pipeline to exporter") {
		t.Fatalf("second pipeline to the same exporter: %v", err)
	}
	_, err = v2.StartPipeline(ctx, operations.V2StartPipelineRequest{Ledger: "main", PipelineID: pipeline.ID})
	if sdkCode(err) != shared.V2ErrorsEnumValidation || !strings.Contains(err.Error(), "is already started") {
		t.Fatalf("start a started pipeline: %v", err)
	}
	_, err = v2.DeleteExporter(ctx, operations.V2DeleteExporterRequest{ExporterID: exp.ID})
	if sdkCode(err) != shared.V2ErrorsEnumValidation || !strings.Contains(err.Error(), "used by 1 pipeline") {
		t.Fatalf("delete an exporter in use: %v", err)
	}
	_, err = v2.CreateExporter(ctx, shared.V2CreateExporterRequest{Driver: "http", Config: map[string]any{"url": "ftp://x"}})
	if sdkCode(err) != shared.V2ErrorsEnumValidation || !strings.Contains(err.Error(), "config.url must be an absolute http or https URL") {
		t.Fatalf("invalid exporter: %v", err)
	}

	// Update the exporter: the pipeline goes on from its checkpoint.
	updated, err := v2.UpdateExporter(ctx, operations.V2UpdateExporterRequest{ExporterID: exp.ID,
		V2CreateExporterRequest: shared.V2CreateExporterRequest{Driver: "noop", Config: map[string]any{}}})
	must(err)
	if updated.StatusCode != http.StatusNoContent {
		t.Fatalf("update exporter: %d", updated.StatusCode)
	}
	got, err = v2.GetExporterState(ctx, operations.V2GetExporterStateRequest{ExporterID: exp.ID})
	must(err)
	if e := got.Object.Data; e.Driver != "noop" || len(e.Config) != 0 {
		t.Fatalf("updated exporter: %+v", e)
	}
	time.Sleep(200 * time.Millisecond) // the runner hears of it
	write(1)
	waitFor(t, "checkpoint 6 through noop", func() bool { s := state(); return s.LastLogID != nil && *s.LastLogID == 6 })
	if got := received(); len(got) != 10 {
		t.Fatalf("the old destination got %v", got)
	}

	// Delete the pipeline, then the exporter.
	deleted, err := v2.DeletePipeline(ctx, operations.V2DeletePipelineRequest{Ledger: "main", PipelineID: pipeline.ID})
	must(err)
	if deleted.StatusCode != http.StatusNoContent {
		t.Fatalf("delete pipeline: %d", deleted.StatusCode)
	}
	_, err = v2.GetPipelineState(ctx, operations.V2GetPipelineStateRequest{Ledger: "main", PipelineID: pipeline.ID})
	if sdkCode(err) != shared.V2ErrorsEnumNotFound {
		t.Fatalf("deleted pipeline: %v", err)
	}
	deletedExp, err := v2.DeleteExporter(ctx, operations.V2DeleteExporterRequest{ExporterID: exp.ID})
	must(err)
	if deletedExp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete exporter: %d", deletedExp.StatusCode)
	}
	_, err = v2.GetExporterState(ctx, operations.V2GetExporterStateRequest{ExporterID: exp.ID})
	if sdkCode(err) != shared.V2ErrorsEnumNotFound {
		t.Fatalf("deleted exporter: %v", err)
	}
}

func TestPipelinesShapesAndErrors(t *testing.T) {
	t.Parallel()
	base := newKontorWithPipelines(t)
	v2 := base + "/api/ledger/v2"
	if status, _, body := call(t, http.MethodPost, v2+"/main", ""); status != http.StatusNoContent {
		t.Fatalf("create ledger: %d %s", status, body)
	}
	const unknown = "0b7e6a2c-1111-4222-8333-944445555666"
	for _, c := range []struct {
		method, path, body string
		status             int
		code, message      string
	}{
		{"POST", "/_/exporters", `{"driver":"nope","config":{}}`, 400, "VALIDATION", `unknown driver "nope" (supported: clickhouse, http, kafka, noop, postgres, stdout)`},
		{"POST", "/_/exporters", `{"config":{}}`, 400, "VALIDATION", "driver is required"},
		{"POST", "/_/exporters", `{"driver":"http","config":{}}`, 400, "VALIDATION", "exporter http: config.url is required"},
		{"POST", "/_/exporters", `{"driver":"http","config":{"url":"http://x","batching":{"maxItems":-1}}}`, 400, "VALIDATION", "config.batching.maxItems must be positive"},
		{"POST", "/_/exporters", `{"driver":"stdout","config":{"colour":true}}`, 400, "VALIDATION", "config.colour is not a known setting"},
		{"POST", "/_/exporters", `{"driver":`, 400, "VALIDATION", "malformed JSON body"},
		{"POST", "/_/exporters", ``, 400, "VALIDATION", "request body is empty"},
		{"GET", "/_/exporters/" + unknown, ``, 404, "NOT_FOUND", "exporter " + unknown + " not found"},
		{"GET", "/_/exporters/not-a-uuid", ``, 404, "NOT_FOUND", "exporter not-a-uuid not found"},
		{"PUT", "/_/exporters/" + unknown, `{"driver":"noop","config":{}}`, 404, "NOT_FOUND", "not found"},
		{"PUT", "/_/exporters/" + unknown, `{"driver":"kafka","config":{}}`, 400, "VALIDATION", "config.brokers is required"},
		{"DELETE", "/_/exporters/" + unknown, ``, 404, "NOT_FOUND", "not found"},
		{"GET", "/nowhere/pipelines", ``, 404, "LEDGER_NOT_FOUND", "not found"},
		{"POST", "/nowhere/pipelines", `{"exporterID":"` + unknown + `"}`, 404, "LEDGER_NOT_FOUND", "not found"},
		{"POST", "/main/pipelines", `{}`, 400, "VALIDATION", "exporterID is required"},
		{"POST", "/main/pipelines", ``, 400, "VALIDATION", "exporterID is required"},
		{"POST", "/main/pipelines", `{"exporterID":"` + unknown + `"}`, 400, "VALIDATION", "exporter " + unknown + " not found"},
		{"POST", "/main/pipelines", `{"exporterID":"nope"}`, 400, "VALIDATION", "exporter nope not found"},
		{"GET", "/main/pipelines/" + unknown, ``, 404, "NOT_FOUND", "pipeline " + unknown + " not found"},
		{"POST", "/main/pipelines/" + unknown + "/start", ``, 404, "NOT_FOUND", "not found"},
		{"POST", "/main/pipelines/" + unknown + "/stop", ``, 404, "NOT_FOUND", "not found"},
		{"POST", "/main/pipelines/" + unknown + "/reset", ``, 404, "NOT_FOUND", "not found"},
		{"DELETE", "/main/pipelines/x", ``, 404, "NOT_FOUND", "not found"},
		{"GET", "/_/exporters?pageSize=-1", ``, 400, "VALIDATION", "pageSize must be a non-negative integer"},
		{"GET", "/_/exporters?cursor=bm90IGpzb24", ``, 400, "VALIDATION", "invalid cursor"},
	} {
		status, _, body := call(t, c.method, v2+c.path, c.body)
		var e struct{ ErrorCode, ErrorMessage string }
		_ = json.Unmarshal([]byte(body), &e)
		if status != c.status || e.ErrorCode != c.code || !strings.Contains(e.ErrorMessage, c.message) {
			t.Errorf("%s %s %s: %d %s\nwant %d %s %q", c.method, c.path, c.body, status, body, c.status, c.code, c.message)
		}
	}

	// The reference shapes, and pages of the lists.
	var ids []string
	for i := range 3 {
		status, _, body := call(t, http.MethodPost, v2+"/_/exporters", fmt.Sprintf(`{"driver":"noop","config":{"batching":{"maxItems":%d}}}`, i+1))
		var created struct {
			Data map[string]json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal([]byte(body), &created); status != http.StatusCreated || err != nil {
			t.Fatalf("create exporter: %d %s", status, body)
		}
		if keys := slices.Sorted(maps.Keys(created.Data)); !slices.Equal(keys, []string{"config", "createdAt", "driver", "id"}) {
			t.Fatalf("exporter keys %v", keys)
		}
		if got := string(created.Data["config"]); got != fmt.Sprintf(`{"batching":{"maxItems":%d}}`, i+1) {
			t.Fatalf("exporter config %s", got)
		}
		var id string
		_ = json.Unmarshal(created.Data["id"], &id)
		ids = append(ids, id)
	}
	type page struct {
		Cursor struct {
			PageSize int    `json:"pageSize"`
			HasMore  bool   `json:"hasMore"`
			Next     string `json:"next"`
			Previous string `json:"previous"`
			Data     []struct {
				ID string `json:"id"`
			} `json:"data"`
		} `json:"cursor"`
	}
	read := func(url string) page {
		t.Helper()
		status, _, body := call(t, http.MethodGet, url, "")
		var p page
		if err := json.Unmarshal([]byte(body), &p); status != http.StatusOK || err != nil {
			t.Fatalf("GET %s: %d %s", url, status, body)
		}
		return p
	}
	first := read(v2 + "/_/exporters?pageSize=2")
	if c := first.Cursor; c.PageSize != 2 || !c.HasMore || c.Next == "" || c.Previous != "" || len(c.Data) != 2 ||
		c.Data[0].ID != ids[0] || c.Data[1].ID != ids[1] {
		t.Fatalf("first page: %+v", c)
	}
	second := read(v2 + "/_/exporters?cursor=" + first.Cursor.Next)
	if c := second.Cursor; c.HasMore || c.Next != "" || c.Previous == "" || len(c.Data) != 1 || c.Data[0].ID != ids[2] {
		t.Fatalf("second page: %+v", c)
	}
	if back := read(v2 + "/_/exporters?cursor=" + second.Cursor.Previous); !slices.Equal(
		[]string{back.Cursor.Data[0].ID, back.Cursor.Data[1].ID}, ids[:2]) {
		t.Fatalf("previous page: %+v", back.Cursor)
	}

	status, _, body := call(t, http.MethodPost, v2+"/main/pipelines", `{"exporterID":"`+ids[0]+`"}`)
	var created struct {
		Data map[string]json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &created); status != http.StatusCreated || err != nil {
		t.Fatalf("create pipeline: %d %s", status, body)
	}
	if keys := slices.Sorted(maps.Keys(created.Data)); !slices.Equal(keys, []string{"createdAt", "enabled", "exporterID", "id", "ledger"}) {
		t.Fatalf("pipeline keys %v (no lastLogID before the first export)", keys)
	}
	var pipelineID string
	_ = json.Unmarshal(created.Data["id"], &pipelineID)
	if p := read(v2 + "/main/pipelines"); len(p.Cursor.Data) != 1 || p.Cursor.Data[0].ID != pipelineID || p.Cursor.HasMore {
		t.Fatalf("pipelines: %+v", p.Cursor)
	}
	// Another ledger does not see it.
	if status, _, body := call(t, http.MethodPost, v2+"/other", ""); status != http.StatusNoContent {
		t.Fatalf("create ledger: %d %s", status, body)
	}
	if status, _, body := call(t, http.MethodGet, v2+"/other/pipelines/"+pipelineID, ""); status != http.StatusNotFound || errorCode(t, body) != "NOT_FOUND" {
		t.Fatalf("pipeline through another ledger: %d %s", status, body)
	}
	if p := read(v2 + "/other/pipelines"); len(p.Cursor.Data) != 0 {
		t.Fatalf("pipelines of another ledger: %+v", p.Cursor)
	}
}

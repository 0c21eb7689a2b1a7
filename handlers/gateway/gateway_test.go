package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kontorhq/kontor/handlers/route"
	"github.com/kontorhq/kontor/platform/api"
)

// fakeModule is a module served by the gateway in these tests.
type fakeModule struct {
	name   string
	health error
}

func (m fakeModule) Name() string                 { return m.name }
func (m fakeModule) Version() string              { return "v9.9.9" }
func (m fakeModule) Health(context.Context) error { return m.health }
func (m fakeModule) Mount(r *route.Router) {
	r.Handle(http.MethodGet, "/things/{id}", func(w http.ResponseWriter, r *http.Request) {
		api.Ok(w, map[string]string{"id": r.PathValue("id")})
	})
	r.Handle(http.MethodPost, "/things", func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		if err := api.DecodeJSON(r, &body, false); err != nil {
			api.WriteError(w, r, err)
			return
		}
		api.Created(w, body)
	})
	r.Any("/panic", func(http.ResponseWriter, *http.Request) {
		panic("secret internal state")
	})
}

func newGateway(t *testing.T, modules ...Module) (http.Handler, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	return New(Options{Region: "eu", Env: "test", MaxBodyBytes: 64, Registry: reg}, modules...), reg
}

func do(h http.Handler, method, path, body string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	h.ServeHTTP(rec, httptest.NewRequest(method, path, r))
	return rec
}

func errorCode(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var e api.ErrorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
		t.Fatalf("error body is not JSON: %q", rec.Body)
	}
	if e.ErrorMessage == "" {
		t.Fatalf("error body without message: %q", rec.Body)
	}
	return e.ErrorCode
}

func TestVersions(t *testing.T) {
	h, _ := newGateway(t, fakeModule{name: "ledger"}, fakeModule{name: "wallets", health: errors.New("down")})
	rec := do(h, "GET", "/versions", "")
	if rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	var body struct {
		Region, Env string
		Versions    []Version
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if body.Region != "eu" || body.Env != "test" || len(body.Versions) != len(Modules) {
		t.Fatalf("versions: %s", rec.Body)
	}
	want := map[string]Version{
		"ledger":   {"ledger", "v9.9.9", true},
		"wallets":  {"wallets", "v9.9.9", false},
		"payments": {"payments", NotImplementedVersion, false},
	}
	for _, v := range body.Versions {
		if w, ok := want[v.Name]; ok && v != w {
			t.Errorf("%s: got %+v, want %+v", v.Name, v, w)
		}
	}
}

func TestModuleRoutes(t *testing.T) {
	h, _ := newGateway(t, fakeModule{name: "ledger"}, fakeModule{name: "wallets", health: errors.New("down")})

	if rec := do(h, "GET", "/api/ledger/things/42", ""); rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != `{"data":{"id":"42"}}` {
		t.Errorf("module route: %d %s", rec.Code, rec.Body)
	}
	if rec := do(h, "GET", "/api/ledger/_info", ""); rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != `{"version":"v9.9.9"}` {
		t.Errorf("_info: %d %s", rec.Code, rec.Body)
	}
	if rec := do(h, "GET", "/api/ledger/_healthcheck", ""); rec.Code != 200 {
		t.Errorf("healthy _healthcheck: %d", rec.Code)
	}
	if rec := do(h, "GET", "/api/wallets/_healthcheck", ""); rec.Code != 503 {
		t.Errorf("unhealthy _healthcheck: %d", rec.Code)
	}
	for _, path := range []string{"/api/payments/v3/accounts", "/api/payments", "/api/auth/oauth/token", "/api/search/"} {
		rec := do(h, "GET", path, "")
		if rec.Code != 501 || errorCode(t, rec) != "NOT_IMPLEMENTED" {
			t.Errorf("%s: got %d %s, want 501 NOT_IMPLEMENTED", path, rec.Code, rec.Body)
		}
	}
	if rec := do(h, "DELETE", "/api/ledger/things/42", ""); rec.Code != 405 || errorCode(t, rec) != "VALIDATION" ||
		rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("method not allowed: %d %q %s", rec.Code, rec.Header().Get("Allow"), rec.Body)
	}
	for _, path := range []string{"/nowhere", "/api/ledger/unknown", "/api/unknown/x"} {
		rec := do(h, "GET", path, "")
		if rec.Code != 404 || errorCode(t, rec) != "NOT_FOUND" {
			t.Errorf("%s: got %d %s, want 404 NOT_FOUND", path, rec.Code, rec.Body)
		}
	}
}

func TestBadInput(t *testing.T) {
	h, _ := newGateway(t, fakeModule{name: "ledger"})
	if rec := do(h, "POST", "/api/ledger/things", `{"a":`); rec.Code != 400 || errorCode(t, rec) != "VALIDATION" {
		t.Errorf("malformed JSON: %d %s", rec.Code, rec.Body)
	}
	if rec := do(h, "POST", "/api/ledger/things", `{"a":1}`); rec.Code != 201 {
		t.Errorf("small body: %d %s", rec.Code, rec.Body)
	}
	big := `{"a":"` + strings.Repeat("x", 100) + `"}`
	rec := do(h, "POST", "/api/ledger/things", big)
	if rec.Code != 413 || errorCode(t, rec) != "VALIDATION" || !strings.Contains(rec.Body.String(), "64 bytes") {
		t.Errorf("oversized body: %d %s", rec.Code, rec.Body)
	}
	// Without a declared length the limit holds while reading.
	req := httptest.NewRequest("POST", "/api/ledger/things", io.MultiReader(strings.NewReader(big)))
	req.ContentLength = -1
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 413 {
		t.Errorf("oversized streamed body: %d %s", rec.Code, rec.Body)
	}
}

func TestPanicIsRecoveredWithoutLeaking(t *testing.T) {
	h, _ := newGateway(t, fakeModule{name: "ledger"})
	rec := do(h, "GET", "/api/ledger/panic", "")
	if rec.Code != 500 || errorCode(t, rec) != "INTERNAL" || strings.Contains(rec.Body.String(), "secret") {
		t.Fatalf("panic: %d %s", rec.Code, rec.Body)
	}
}

func TestMetrics(t *testing.T) {
	h, _ := newGateway(t, fakeModule{name: "ledger"})
	do(h, "GET", "/api/ledger/things/1", "")
	do(h, "GET", "/api/ledger/things/2", "")
	do(h, "GET", "/random/path", "")
	rec := do(h, "GET", "/metrics", "")
	if rec.Code != 200 {
		t.Fatalf("/metrics: %d", rec.Code)
	}
	text := rec.Body.String()
	for _, want := range []string{
		`kontor_http_requests_total{method="GET",route="/api/ledger/things/{id}",status="200"} 2`,
		`kontor_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`kontor_http_request_duration_seconds_count{method="GET",route="/api/ledger/things/{id}",status="200"} 2`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

package route

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func serve(h http.Handler, method, path, body string, chunked bool) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if chunked {
		req.ContentLength = -1
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func echo(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
		return
	}
	_, _ = w.Write(b)
}

func TestBodyLimitSparesStreamingRoutes(t *testing.T) {
	r := New(10)
	r.Handle(http.MethodPost, "/small", echo)
	r.Stream(http.MethodPost, "/stream", echo)
	h := r.Mux()
	body := strings.Repeat("x", 100)
	for _, c := range []struct {
		path    string
		chunked bool
		status  int
	}{
		{"/small", false, http.StatusRequestEntityTooLarge},
		{"/small", true, http.StatusRequestEntityTooLarge},
		{"/stream", false, http.StatusOK},
		{"/stream", true, http.StatusOK},
	} {
		rec := serve(h, http.MethodPost, c.path, body, c.chunked)
		if rec.Code != c.status || (c.status == http.StatusOK && rec.Body.String() != body) {
			t.Errorf("%s (chunked %v): %d %q", c.path, c.chunked, rec.Code, rec.Body.String())
		}
	}
	if rec := serve(h, http.MethodPost, "/small", "short", false); rec.Code != 200 || rec.Body.String() != "short" {
		t.Errorf("body within the limit: %d %q", rec.Code, rec.Body.String())
	}
}

func TestRoutes(t *testing.T) {
	r := New(1 << 10)
	say := func(s string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, s+" "+r.PathValue("ledger")+" "+r.PathValue("id")+" "+r.Pattern)
		}
	}
	v2 := r.Prefix("/api").Prefix("/v2")
	v2.Handle(http.MethodGet, "/", say("list"))
	v2.Handle(http.MethodGet, "/_info", say("info"))
	v2.Handle(http.MethodGet, "/{ledger}", say("get"))
	v2.Handle(http.MethodPost, "/{ledger}", say("create"))
	v2.Handle(http.MethodGet, "/{ledger}/transactions", say("list-txs"))
	v2.Handle(http.MethodHead, "/{ledger}/transactions", say("count-txs"))
	v2.Handle(http.MethodPost, "/{ledger}/transactions/{id}/revert", say("revert"))
	r.Any("/api/", say("elsewhere"))
	h := r.Mux()

	for _, c := range []struct{ method, path, want string }{
		{"GET", "/api/v2/", "list   GET /api/v2/{$}"},
		{"GET", "/api/v2/_info", "info   GET /api/v2/_info"},
		{"GET", "/api/v2/main", "get main  GET /api/v2/{ledger}"},
		{"HEAD", "/api/v2/main", "get main  GET /api/v2/{ledger}"}, // a recorder keeps HEAD bodies
		{"POST", "/api/v2/main", "create main  POST /api/v2/{ledger}"},
		{"GET", "/api/v2/main/transactions", "list-txs main  GET /api/v2/{ledger}/transactions"},
		{"POST", "/api/v2/main/transactions/42/revert", "revert main 42 POST /api/v2/{ledger}/transactions/{id}/revert"},
		{"GET", "/api/v1/main", "elsewhere   /api/"},
		{"GET", "/api/v2/main/transactions/42/revert/more", "elsewhere   /api/"},
	} {
		rec := serve(h, c.method, c.path, "", false)
		if rec.Code != 200 || rec.Body.String() != c.want {
			t.Errorf("%s %s: %d %q, want %q", c.method, c.path, rec.Code, rec.Body.String(), c.want)
		}
	}
	if rec := serve(h, "HEAD", "/api/v2/main/transactions", "", false); rec.Code != 200 {
		t.Errorf("HEAD with its own route: %d", rec.Code)
	}

	rec := serve(h, "DELETE", "/api/v2/main/transactions", "", false)
	var e struct{ ErrorCode, ErrorMessage string }
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || rec.Code != 405 || e.ErrorCode != "VALIDATION" ||
		rec.Header().Get("Allow") != "GET, HEAD" || !strings.Contains(e.ErrorMessage, "DELETE") {
		t.Errorf("method not allowed: %d %s %q", rec.Code, rec.Header().Get("Allow"), rec.Body)
	}
	if rec := serve(h, "PUT", "/api/v2/main", "", false); rec.Code != 405 || rec.Header().Get("Allow") != "GET, HEAD, POST" {
		t.Errorf("method not allowed: %d %s", rec.Code, rec.Header().Get("Allow"))
	}
}

package exporters

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// hookServer records the bodies POSTed to it and answers status.
type hookServer struct {
	mu     sync.Mutex
	bodies [][]byte
	types  []string
	status int
}

func (h *hookServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.Method != http.MethodPost {
		http.Error(w, "want POST", http.StatusMethodNotAllowed)
		return
	}
	h.bodies = append(h.bodies, body)
	h.types = append(h.types, r.Header.Get("Content-Type"))
	w.WriteHeader(h.status)
	_, _ = w.Write([]byte("server says no"))
}

func TestHTTPPostsBatchesAsJSONArrays(t *testing.T) {
	hook := &hookServer{status: http.StatusNoContent}
	srv := httptest.NewServer(hook)
	defer srv.Close()

	d, err := New(Config{Driver: "http", Config: json.RawMessage(`{"url":"` + srv.URL + `/hook"}`)})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	exports := referenceExports(t, "demo")
	ctx := context.Background()
	for _, batch := range [][]Export{exports[:4], exports[4:], nil} {
		if err := d.Accept(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}

	hook.mu.Lock()
	defer hook.mu.Unlock()
	if len(hook.bodies) != 2 {
		t.Fatalf("%d requests, want 2 (an empty batch sends nothing)", len(hook.bodies))
	}
	var got []Export
	for i, body := range hook.bodies {
		if hook.types[i] != "application/json" {
			t.Fatalf("Content-Type %q", hook.types[i])
		}
		var raw []json.RawMessage
		if err := json.Unmarshal(body, &raw); err != nil {
			t.Fatalf("body %d is not a JSON array: %v", i, err)
		}
		for _, r := range raw {
			var e Export
			if err := json.Unmarshal(r, &e); err != nil {
				t.Fatal(err)
			}
			if string(r) != mustJSON(t, e) {
				t.Fatalf("element %s", r)
			}
			got = append(got, e)
		}
	}
	if len(got) != len(exports) {
		t.Fatalf("%d exports received, want %d", len(got), len(exports))
	}
	for i, e := range got {
		if e.Ledger != "demo" || e.Log.ID != exports[i].Log.ID {
			t.Fatalf("export %d: ledger %q id %d", i, e.Ledger, e.Log.ID)
		}
	}
}

func TestHTTPErrorStatusIsAnError(t *testing.T) {
	hook := &hookServer{status: http.StatusInternalServerError}
	srv := httptest.NewServer(hook)
	defer srv.Close()

	d, err := NewHTTP(HTTPConfig{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	err = d.Accept(context.Background(), referenceExports(t, "demo"))
	if err == nil || !strings.Contains(err.Error(), "status 500") || !strings.Contains(err.Error(), "server says no") {
		t.Fatalf("want an error with the status and body, got %v", err)
	}
}

func TestHTTPTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)

	d, err := NewHTTP(HTTPConfig{URL: srv.URL, Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	start := time.Now()
	err = d.Accept(context.Background(), referenceExports(t, "demo")[:1])
	if err == nil {
		t.Fatal("want a timeout error")
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Fatalf("timed out after %s", elapsed)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Accept(context.Background(), referenceExports(t, "demo")[:1]); !errors.Is(err, ErrClosed) {
		t.Fatalf("Accept after Close: %v", err)
	}
}

package exporters

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kontorhq/kontor/domain/ledger"
)

// referenceLines returns the log lines the reference ledger exported.
func referenceLines(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../domain/ledger/testdata/reference-export-v2.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			lines = append(lines, line)
		}
	}
	if len(lines) == 0 {
		t.Fatal("no reference logs")
	}
	return lines
}

// referenceExports returns the reference logs as exports of ledgerName.
func referenceExports(t *testing.T, ledgerName string) []Export {
	t.Helper()
	var out []Export
	for _, line := range referenceLines(t) {
		var log ledger.Log
		if err := json.Unmarshal([]byte(line), &log); err != nil {
			t.Fatal(err)
		}
		out = append(out, Export{Ledger: ledgerName, Log: log})
	}
	return out
}

// mustJSON marshals an export.
func mustJSON(t *testing.T, e Export) string {
	t.Helper()
	b, err := e.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", within, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// recorder is an in-memory Driver that records the batches it is given
// and fails while failWith is set.
type recorder struct {
	mu       sync.Mutex
	batches  [][]Export
	failWith error
	closed   bool
}

func (r *recorder) Accept(_ context.Context, exports []Export) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failWith != nil {
		return r.failWith
	}
	r.batches = append(r.batches, append([]Export(nil), exports...))
	return nil
}

func (r *recorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	return nil
}

// sizes returns the sizes of the recorded batches.
func (r *recorder) sizes() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []int
	for _, b := range r.batches {
		out = append(out, len(b))
	}
	return out
}

// ids returns the log ids of all recorded exports, in order.
func (r *recorder) ids() []uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []uint64
	for _, b := range r.batches {
		for _, e := range b {
			out = append(out, e.Log.ID)
		}
	}
	return out
}

// numbered returns n exports of ledger "l" with ids from first on, built
// from a reference log.
func numbered(t *testing.T, first, n int) []Export {
	t.Helper()
	base := referenceExports(t, "l")[0]
	out := make([]Export, n)
	for i := range out {
		e := base
		e.Log.ID = uint64(first + i)
		out[i] = e
	}
	return out
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

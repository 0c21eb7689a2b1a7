package exporters

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

func TestStdoutWritesJSONLines(t *testing.T) {
	var buf bytes.Buffer
	d := NewStdout(&buf)
	exports := referenceExports(t, "demo")
	ctx := context.Background()
	if err := d.Accept(ctx, exports[:3]); err != nil {
		t.Fatal(err)
	}
	if err := d.Accept(ctx, exports[3:]); err != nil {
		t.Fatal(err)
	}
	if err := d.Accept(ctx, nil); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != len(exports) {
		t.Fatalf("%d lines for %d exports", len(lines), len(exports))
	}
	for i, e := range exports {
		if lines[i] != mustJSON(t, e) {
			t.Fatalf("line %d: %s", i, lines[i])
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Accept(ctx, exports); !errors.Is(err, ErrClosed) {
		t.Fatalf("Accept after Close: %v", err)
	}
}

package exporters

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"sync"
)

// Stdout is the "stdout" driver: it writes each export as one JSON line.
type Stdout struct {
	mu     sync.Mutex
	w      io.Writer
	closed bool
}

// NewStdout returns a stdout driver writing to w (os.Stdout when nil).
func NewStdout(w io.Writer) *Stdout {
	if w == nil {
		w = os.Stdout
	}
	return &Stdout{w: w}
}

func parseStdout(settings json.RawMessage) (func() (Driver, error), error) {
	var none struct{}
	if err := decodeSettings("config", settings, &none); err != nil {
		return nil, err
	}
	return func() (Driver, error) { return NewStdout(nil), nil }, nil
}

func parseNoop(settings json.RawMessage) (func() (Driver, error), error) {
	var none struct{}
	if err := decodeSettings("config", settings, &none); err != nil {
		return nil, err
	}
	return func() (Driver, error) { return noop{}, nil }, nil
}

// Accept writes the batch in one Write, so that concurrent batches never
// interleave their lines.
func (s *Stdout) Accept(_ context.Context, exports []Export) error {
	if len(exports) == 0 {
		return nil
	}
	var buf bytes.Buffer
	if err := encodeLines(&buf, exports); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	_, err := s.w.Write(buf.Bytes())
	return err
}

// Close stops the driver; it leaves the writer open.
func (s *Stdout) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

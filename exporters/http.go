package exporters

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// HTTP driver limits.
const (
	// DefaultHTTPTimeout bounds one POST when "timeout" is absent.
	DefaultHTTPTimeout = 10 * time.Second
	// MaxHTTPTimeout bounds "timeout".
	MaxHTTPTimeout = 5 * time.Minute
)

// HTTPConfig is the "http" driver's config: {"url":"https://…","timeout":"10s"}.
type HTTPConfig struct {
	// URL receives the POSTs; http or https.
	URL string
	// Timeout bounds one POST, response included (DefaultHTTPTimeout when 0).
	Timeout time.Duration
}

// HTTP is the "http" driver: it POSTs each batch as a JSON array of exports
// and wants a 2xx answer.
type HTTP struct {
	url    string
	client *http.Client
	closed atomic.Bool
}

// NewHTTP validates cfg and returns an http driver.
func NewHTTP(cfg HTTPConfig) (*HTTP, error) {
	if err := validateURL(cfg.URL); err != nil {
		return nil, err
	}
	if cfg.Timeout < 0 || cfg.Timeout > MaxHTTPTimeout {
		return nil, invalid("config.timeout must be between 0 and %s", MaxHTTPTimeout)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultHTTPTimeout
	}
	return &HTTP{url: cfg.URL, client: &http.Client{Timeout: cfg.Timeout}}, nil
}

func parseHTTP(settings json.RawMessage) (func() (Driver, error), error) {
	var aux struct {
		URL     string         `json:"url"`
		Timeout durationString `json:"timeout"`
	}
	if err := decodeSettings("config", settings, &aux); err != nil {
		return nil, err
	}
	timeout, err := parseDuration("config.timeout", string(aux.Timeout), DefaultHTTPTimeout, MaxHTTPTimeout)
	if err != nil {
		return nil, err
	}
	cfg := HTTPConfig{URL: aux.URL, Timeout: timeout}
	if _, err := NewHTTP(cfg); err != nil {
		return nil, err
	}
	return func() (Driver, error) { return NewHTTP(cfg) }, nil
}

func validateURL(raw string) error {
	if raw == "" {
		return invalid(`config.url is required (like "https://example.com/logs")`)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return invalid("config.url must be an absolute http or https URL, got %q", raw)
	}
	return nil
}

// Accept POSTs the batch; a non-2xx answer is an error carrying the status
// and the start of the body.
func (h *HTTP) Accept(ctx context.Context, exports []Export) error {
	if len(exports) == 0 {
		return nil
	}
	if h.closed.Load() {
		return ErrClosed
	}
	body, err := encodeArray(exports)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	rsp, err := h.client.Do(req)
	if err != nil {
		return fmt.Errorf("exporter http: %w", err)
	}
	defer rsp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(rsp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(rsp.Body, 1<<20)) // lets the connection be reused
	if rsp.StatusCode < 200 || rsp.StatusCode > 299 {
		return fmt.Errorf("exporter http: POST %s: status %d: %s", req.URL.Redacted(), rsp.StatusCode, strings.TrimSpace(string(snippet)))
	}
	return nil
}

// Close drops idle connections; Accept fails afterwards.
func (h *HTTP) Close() error {
	h.closed.Store(true)
	h.client.CloseIdleConnections()
	return nil
}

package exporters

import (
	"encoding/json"
	"time"
)

// Batching limits, defaults and bounds.
const (
	// DefaultMaxItems is the batch size when "maxItems" is absent or 0.
	DefaultMaxItems = 100
	// MaxMaxItems bounds "maxItems".
	MaxMaxItems = 10_000
	// DefaultFlushInterval is the flush interval when "flushInterval" is absent.
	DefaultFlushInterval = time.Second
	// MaxFlushInterval bounds "flushInterval".
	MaxFlushInterval = time.Hour
)

// Batching says how a Batcher groups exports: a batch is sent when it holds
// MaxItems exports, or FlushInterval after its first export arrived,
// whichever comes first. Its JSON is {"maxItems":100,"flushInterval":"1s"}.
type Batching struct {
	MaxItems      int
	FlushInterval time.Duration
}

// DefaultBatching is the batching of a configuration without one.
var DefaultBatching = Batching{MaxItems: DefaultMaxItems, FlushInterval: DefaultFlushInterval}

// MarshalJSON renders the reference form, the interval as a Go duration.
func (b Batching) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		MaxItems      int    `json:"maxItems"`
		FlushInterval string `json:"flushInterval"`
	}{b.MaxItems, b.FlushInterval.String()})
}

// parseBatching reads and validates the "batching" setting (raw may be
// empty), defaults applied.
func parseBatching(raw json.RawMessage) (Batching, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return DefaultBatching, nil
	}
	if jsonKind(raw) != "object" {
		return Batching{}, invalid(`config.batching must be an object like {"maxItems":100,"flushInterval":"1s"}`)
	}
	var aux struct {
		MaxItems      int            `json:"maxItems"`
		FlushInterval durationString `json:"flushInterval"`
	}
	if err := decodeSettings("config.batching", raw, &aux); err != nil {
		return Batching{}, err
	}
	b := Batching{MaxItems: aux.MaxItems}
	switch {
	case b.MaxItems == 0:
		b.MaxItems = DefaultMaxItems
	case b.MaxItems < 0:
		return Batching{}, invalid("config.batching.maxItems must be positive, got %d", b.MaxItems)
	case b.MaxItems > MaxMaxItems:
		return Batching{}, invalid("config.batching.maxItems must be at most %d, got %d", MaxMaxItems, b.MaxItems)
	}
	var err error
	b.FlushInterval, err = parseDuration("config.batching.flushInterval", string(aux.FlushInterval), DefaultFlushInterval, MaxFlushInterval)
	if err != nil {
		return Batching{}, err
	}
	return b, nil
}

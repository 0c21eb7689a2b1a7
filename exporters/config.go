package exporters

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/kontorhq/kontor/domain"
)

// Driver names, as given in an exporter configuration's "driver".
const (
	DriverStdout     = "stdout"
	DriverHTTP       = "http"
	DriverKafka      = "kafka"
	DriverPostgres   = "postgres"
	DriverClickHouse = "clickhouse"
	DriverNoop       = "noop"
)

// Config is an exporter configuration as the ledger v2 API takes it
// (V2ExporterConfiguration): a driver name and that driver's settings, which
// may include "batching":{"maxItems":N,"flushInterval":"1s"}.
type Config struct {
	Driver string          `json:"driver"`
	Config json.RawMessage `json:"config"`
}

// Validate checks the driver name and its settings and returns a
// *domain.Error with code VALIDATION that names the faulty setting.
func (c Config) Validate() error {
	_, err := c.parse()
	return err
}

// Batching returns the configuration's batching settings, defaults applied.
func (c Config) Batching() (Batching, error) {
	parsed, err := c.parse()
	if err != nil {
		return Batching{}, err
	}
	return parsed.batching, nil
}

// parsedConfig is a validated Config.
type parsedConfig struct {
	batching Batching
	open     func() (Driver, error)
}

// driverParser validates a driver's settings (without "batching") and
// returns what opens the driver.
type driverParser func(settings json.RawMessage) (func() (Driver, error), error)

// parsers holds every driver New can build.
var parsers = map[string]driverParser{
	DriverStdout:     parseStdout,
	DriverNoop:       parseNoop,
	DriverHTTP:       parseHTTP,
	DriverKafka:      parseKafka,
	DriverPostgres:   parsePostgres,
	DriverClickHouse: parseClickHouse,
}

// Drivers returns the names of the supported drivers, sorted.
func Drivers() []string {
	names := make([]string, 0, len(parsers))
	for name := range parsers {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

func (c Config) parse() (parsedConfig, error) {
	if c.Driver == "" {
		return parsedConfig{}, invalid("driver is required (one of %s)", strings.Join(Drivers(), ", "))
	}
	parser, ok := parsers[c.Driver]
	if !ok {
		return parsedConfig{}, invalid("unknown driver %q (supported: %s)", c.Driver, strings.Join(Drivers(), ", "))
	}
	fields := map[string]json.RawMessage{}
	if raw := bytes.TrimSpace(c.Config); len(raw) > 0 && string(raw) != "null" {
		if raw[0] != '{' || json.Unmarshal(raw, &fields) != nil {
			return parsedConfig{}, invalid("exporter %s: config must be a JSON object", c.Driver)
		}
	}
	batching, err := parseBatching(fields["batching"])
	if err != nil {
		return parsedConfig{}, prefix(c.Driver, err)
	}
	delete(fields, "batching")
	settings, err := json.Marshal(fields)
	if err != nil {
		return parsedConfig{}, err
	}
	open, err := parser(settings)
	if err != nil {
		return parsedConfig{}, prefix(c.Driver, err)
	}
	return parsedConfig{batching: batching, open: open}, nil
}

// invalid returns a VALIDATION error.
func invalid(format string, args ...any) *domain.Error {
	return domain.Errorf(domain.CodeValidation, format, args...)
}

// prefix names the driver in a validation error's message.
func prefix(driver string, err error) error {
	var e *domain.Error
	if errors.As(err, &e) {
		return invalid("exporter %s: %s", driver, e.Message)
	}
	return invalid("exporter %s: %v", driver, err)
}

// decodeSettings decodes the JSON object at path ("config") into v (a
// pointer to a struct with json tags), rejecting unknown keys and wrong
// types with messages that name the setting.
func decodeSettings(path string, settings json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(settings))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		return nil
	}
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return invalid("%s.%s must be %s, not a JSON %s", path, typeErr.Field, kindName(typeErr.Type.String()), typeErr.Value)
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return invalid("%s.%s is not a known setting", path, strings.Trim(name, `"`))
	}
	return invalid("%s: %v", path, err)
}

// kindName says in words what JSON a Go type of a settings struct wants.
func kindName(goType string) string {
	switch goType {
	case "string":
		return "a string"
	case "[]string":
		return "an array of strings"
	case "int", "*int":
		return "an integer"
	case "exporters.durationString":
		return `a duration string like "1s"`
	}
	return "a " + goType
}

// parseDuration reads a Go duration string ("500ms", "1s") bounded to
// (0, limit]; "" gives def.
func parseDuration(name, s string, def, limit time.Duration) (time.Duration, error) {
	if s == "" {
		return def, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, invalid("%s: invalid duration %q (use a duration like \"500ms\", \"1s\" or \"1m\")", name, s)
	}
	if d <= 0 {
		return 0, invalid("%s must be positive, got %q", name, s)
	}
	if d > limit {
		return 0, invalid("%s must be at most %s, got %q", name, limit, s)
	}
	return d, nil
}

// durationString decodes a JSON duration setting: a string like "1s".
type durationString string

// UnmarshalJSON accepts only a JSON string, so that a number (nanoseconds?
// seconds?) is rejected rather than guessed.
func (d *durationString) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return &json.UnmarshalTypeError{Value: jsonKind(b), Type: reflect.TypeFor[durationString]()}
	}
	*d = durationString(s)
	return nil
}

// jsonKind names the kind of a JSON value for error messages.
func jsonKind(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "value"
	}
	switch b[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number"
}

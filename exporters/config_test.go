package exporters

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kontorhq/kontor/domain"
)

func TestConfigValidation(t *testing.T) {
	for _, tc := range []struct {
		name, driver, config string
		err                  string // substring of the message; "" for valid
	}{
		{"stdout", "stdout", `{}`, ""},
		{"stdout without config", "stdout", ``, ""},
		{"stdout null config", "stdout", `null`, ""},
		{"noop", "noop", `{}`, ""},
		{"no driver", "", `{}`, "driver is required"},
		{"unknown driver", "elasticsearch", `{}`, `unknown driver "elasticsearch" (supported: clickhouse, http, kafka, noop, postgres, stdout)`},
		{"config not an object", "stdout", `[1]`, "exporter stdout: config must be a JSON object"},
		{"unknown setting", "stdout", `{"url":"http://x"}`, "exporter stdout: config.url is not a known setting"},

		{"http", "http", `{"url":"https://example.com/hook"}`, ""},
		{"http timeout", "http", `{"url":"http://127.0.0.1:1/x","timeout":"2s"}`, ""},
		{"http missing url", "http", `{}`, "exporter http: config.url is required"},
		{"http relative url", "http", `{"url":"/hook"}`, `config.url must be an absolute http or https URL, got "/hook"`},
		{"http ftp url", "http", `{"url":"ftp://example.com"}`, "config.url must be an absolute http or https URL"},
		{"http url not a string", "http", `{"url":42}`, "config.url must be a string, not a JSON number"},
		{"http bad timeout", "http", `{"url":"http://x","timeout":"soon"}`, `config.timeout: invalid duration "soon"`},
		{"http numeric timeout", "http", `{"url":"http://x","timeout":5}`, `config.timeout must be a duration string like "1s", not a JSON number`},
		{"http huge timeout", "http", `{"url":"http://x","timeout":"1h"}`, "config.timeout must be at most 5m0s"},

		{"kafka", "kafka", `{"brokers":["localhost:9092"],"topic":"logs"}`, ""},
		{"kafka no brokers", "kafka", `{"topic":"logs"}`, "exporter kafka: config.brokers is required"},
		{"kafka broker without port", "kafka", `{"brokers":["localhost"],"topic":"logs"}`, `config.brokers: "localhost" is not a host:port address`},
		{"kafka brokers not an array", "kafka", `{"brokers":"localhost:9092","topic":"logs"}`, "config.brokers must be an array of strings, not a JSON string"},
		{"kafka no topic", "kafka", `{"brokers":["localhost:9092"]}`, "exporter kafka: config.topic is required"},
		{"kafka bad topic", "kafka", `{"brokers":["localhost:9092"],"topic":"a b"}`, `config.topic "a b" is not a valid Kafka topic name`},

		{"postgres", "postgres", `{"dsn":"postgres://u:p@localhost:5432/db"}`, ""},
		{"postgres table", "postgres", `{"dsn":"postgres://localhost/db","table":"exports.logs"}`, ""},
		{"postgres missing dsn", "postgres", `{}`, "exporter postgres: config.dsn is required"},
		{"postgres bad dsn", "postgres", `{"dsn":"postgres://u:secret@localhost:notaport/db"}`, "exporter postgres: config.dsn is invalid"},
		{"postgres bad table", "postgres", `{"dsn":"postgres://localhost/db","table":"logs; drop table x"}`, `config.table "logs; drop table x" must be a table name`},

		{"clickhouse", "clickhouse", `{"dsn":"http://default:pw@localhost:8123/default"}`, ""},
		{"clickhouse missing dsn", "clickhouse", `{}`, "exporter clickhouse: config.dsn is required"},
		{"clickhouse native dsn", "clickhouse", `{"dsn":"clickhouse://localhost:9000"}`, `scheme "clickhouse" is not supported`},
		{"clickhouse bad table", "clickhouse", `{"dsn":"http://localhost:8123","table":"a-b"}`, `config.table "a-b" must be a table name`},

		{"batching", "stdout", `{"batching":{"maxItems":10,"flushInterval":"250ms"}}`, ""},
		{"batching not an object", "stdout", `{"batching":5}`, "config.batching must be an object"},
		{"batching negative", "http", `{"url":"http://x","batching":{"maxItems":-1}}`, "exporter http: config.batching.maxItems must be positive, got -1"},
		{"batching too large", "stdout", `{"batching":{"maxItems":1000000}}`, "config.batching.maxItems must be at most 10000"},
		{"batching fractional", "stdout", `{"batching":{"maxItems":1.5}}`, "config.batching.maxItems must be an integer"},
		{"batching bad interval", "stdout", `{"batching":{"flushInterval":"1 second"}}`, `config.batching.flushInterval: invalid duration "1 second"`},
		{"batching zero interval", "stdout", `{"batching":{"flushInterval":"0s"}}`, "config.batching.flushInterval must be positive"},
		{"batching numeric interval", "stdout", `{"batching":{"flushInterval":1000}}`, "config.batching.flushInterval must be a duration string"},
		{"batching unknown key", "stdout", `{"batching":{"flushBytes":10}}`, "config.batching.flushBytes is not a known setting"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Driver: tc.driver, Config: json.RawMessage(tc.config)}
			err := cfg.Validate()
			if tc.err == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var derr *domain.Error
			if !errors.As(err, &derr) || derr.Code != domain.CodeValidation {
				t.Fatalf("want a VALIDATION *domain.Error, got %#v", err)
			}
			if !strings.Contains(derr.Message, tc.err) {
				t.Fatalf("message %q does not contain %q", derr.Message, tc.err)
			}
			if strings.Contains(derr.Message, "secret") {
				t.Fatalf("message leaks the password: %q", derr.Message)
			}
			if _, err := New(cfg); err == nil {
				t.Fatal("New accepted an invalid config")
			}
		})
	}
}

func TestConfigBatchingDefaults(t *testing.T) {
	for _, tc := range []struct {
		config string
		want   Batching
	}{
		{`{}`, Batching{MaxItems: 100, FlushInterval: time.Second}},
		{`{"batching":{}}`, Batching{MaxItems: 100, FlushInterval: time.Second}},
		{`{"batching":{"maxItems":0,"flushInterval":""}}`, Batching{MaxItems: 100, FlushInterval: time.Second}},
		{`{"batching":{"maxItems":7}}`, Batching{MaxItems: 7, FlushInterval: time.Second}},
		{`{"batching":{"flushInterval":"250ms"}}`, Batching{MaxItems: 100, FlushInterval: 250 * time.Millisecond}},
	} {
		got, err := Config{Driver: "stdout", Config: json.RawMessage(tc.config)}.Batching()
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.config, got, tc.want)
		}
	}
	b, _ := json.Marshal(Batching{MaxItems: 5, FlushInterval: 1500 * time.Millisecond})
	if string(b) != `{"maxItems":5,"flushInterval":"1.5s"}` {
		t.Errorf("Batching JSON = %s", b)
	}
}

func TestConfigJSON(t *testing.T) {
	var cfg Config
	body := `{"driver":"http","config":{"url":"http://127.0.0.1:1/","batching":{"maxItems":3}}}`
	if err := json.Unmarshal([]byte(body), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Driver != "http" {
		t.Fatalf("driver = %q", cfg.Driver)
	}
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := d.(*HTTP); !ok {
		t.Fatalf("New returned %T", d)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(cfg)
	if string(out) != body {
		t.Fatalf("round trip: %s", out)
	}
}

func TestNewBuildsEachDriver(t *testing.T) {
	for driver, config := range map[string]string{
		"stdout":     `{}`,
		"noop":       `{}`,
		"http":       `{"url":"http://127.0.0.1:1/"}`,
		"kafka":      `{"brokers":["127.0.0.1:1"],"topic":"t"}`,
		"postgres":   `{"dsn":"postgres://127.0.0.1:1/db"}`,
		"clickhouse": `{"dsn":"http://127.0.0.1:1/"}`,
	} {
		d, err := New(Config{Driver: driver, Config: json.RawMessage(config)})
		if err != nil {
			t.Fatalf("%s: %v", driver, err)
		}
		if err := d.Close(); err != nil {
			t.Fatalf("%s: close: %v", driver, err)
		}
	}
}

// Package config holds Kontor's settings and reads them from command-line
// flags and KONTOR_* environment variables (flags win over the environment).
package config

import (
	"database/sql"
	"fmt"
	"os"
	"strings"
	"time"
	"unicode"

	"github.com/spf13/pflag"

	"github.com/kontorhq/kontor/eventstore/outbox"
	"github.com/kontorhq/kontor/platform/bus"
)

// Config is every setting of `kontor serve`.
type Config struct {
	PostgresURI     string
	Bind            string
	LogLevel        string
	AuthEnabled     bool
	Bus             string
	KafkaBrokers    []string
	KafkaTLS        bus.KafkaTLS
	KafkaSASL       bus.KafkaSASL
	AutoMigrate     bool
	MaxBodyBytes    int64
	ShutdownTimeout time.Duration
	Region          string
	Env             string
	// Topics maps event types to bus topics; Load reads it from
	// --publisher-topic-mapping.
	Topics       outbox.TopicMapping
	topicMapping []string
	// Worker is the settings of the background workers.
	Worker Worker
}

// DefaultPostgresURI is the local PostgreSQL of a developer machine.
const DefaultPostgresURI = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Bus drivers accepted by --bus.
var busDrivers = []string{"postgres", "kafka", "none"}

// Register declares the settings as flags of fs and returns the Config they
// fill. Call Load after fs has parsed the command line.
func Register(fs *pflag.FlagSet) *Config {
	c := &Config{}
	fs.StringVar(&c.PostgresURI, "postgres-uri", DefaultPostgresURI, "PostgreSQL connection URI")
	fs.StringVar(&c.Bind, "bind", "127.0.0.1:8080", "address the HTTP server listens on")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.BoolVar(&c.AuthEnabled, "auth-enabled", false, "require OAuth2 bearer tokens on every API")
	fs.StringVar(&c.Bus, "bus", "postgres", "event bus driver: "+strings.Join(busDrivers, ", "))
	fs.StringSliceVar(&c.KafkaBrokers, "kafka-brokers", nil, "Kafka brokers (host:port, comma-separated) for --bus kafka")
	fs.BoolVar(&c.KafkaTLS.Enabled, "kafka-tls", false, "connect to the Kafka brokers over TLS")
	fs.StringVar(&c.KafkaTLS.CAFile, "kafka-tls-ca-file", "", "PEM file of the CAs that sign the brokers' certificates (system roots when empty)")
	fs.StringVar(&c.KafkaTLS.CertFile, "kafka-tls-cert-file", "", "PEM client certificate presented to the brokers (with --kafka-tls-key-file)")
	fs.StringVar(&c.KafkaTLS.KeyFile, "kafka-tls-key-file", "", "PEM private key of --kafka-tls-cert-file")
	fs.BoolVar(&c.KafkaTLS.InsecureSkipVerify, "kafka-tls-insecure-skip-verify", false, "accept any broker certificate (never in production)")
	fs.StringVar(&c.KafkaSASL.Mechanism, "kafka-sasl-mechanism", "", "Kafka SASL mechanism: "+strings.Join(bus.SASLMechanisms, ", ")+" (none when empty)")
	fs.StringVar(&c.KafkaSASL.Username, "kafka-sasl-username", "", "Kafka SASL username")
	fs.StringVar(&c.KafkaSASL.Password, "kafka-sasl-password", "", "Kafka SASL password")
	fs.StringSliceVar(&c.topicMapping, "publisher-topic-mapping", nil, "publish events of TYPE on topic (TYPE:topic, repeatable, comma- or space-separated; * matches every other type; default topic "+outbox.DefaultTopic+")")
	fs.BoolVar(&c.AutoMigrate, "auto-migrate", true, "apply database migrations when the server starts")
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", 10<<20, "largest accepted request body, in bytes")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "how long to drain in-flight requests on shutdown")
	fs.StringVar(&c.Region, "region", "local", "region reported by GET /versions")
	fs.StringVar(&c.Env, "env", "local", "environment reported by GET /versions")
	registerWorker(fs, &c.Worker)
	fs.VisitAll(func(f *pflag.Flag) {
		f.Usage += fmt.Sprintf(" (env %s)", EnvName(f.Name))
	})
	return c
}

// EnvName is the environment variable that sets the flag called name.
func EnvName(flag string) string {
	return "KONTOR_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// Load applies the environment to fs (see ApplyEnv), then validates c.
func Load(fs *pflag.FlagSet, c *Config, lookup func(string) (string, bool)) error {
	if err := ApplyEnv(fs, lookup); err != nil {
		return err
	}
	return c.validate()
}

// ApplyEnv sets every flag of fs not given on the command line from its
// KONTOR_* environment variable, looked up with lookup (os.LookupEnv when
// nil).
func ApplyEnv(fs *pflag.FlagSet, lookup func(string) (string, bool)) error {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed {
			return
		}
		if v, ok := lookup(EnvName(f.Name)); ok {
			if setErr := fs.Set(f.Name, v); setErr != nil {
				err = fmt.Errorf("%s=%q: %w", EnvName(f.Name), v, setErr)
			}
		}
	})
	return err
}

func (c *Config) validate() error {
	if c.PostgresURI == "" {
		return fmt.Errorf("--postgres-uri must not be empty")
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("--log-level %q: want debug, info, warn or error", c.LogLevel)
	}
	known := false
	for _, d := range busDrivers {
		known = known || c.Bus == d
	}
	if !known {
		return fmt.Errorf("--bus %q: want one of %s", c.Bus, strings.Join(busDrivers, ", "))
	}
	if c.Bus == "kafka" && len(c.KafkaBrokers) == 0 {
		return fmt.Errorf("--bus kafka needs --kafka-brokers")
	}
	if _, err := bus.SaramaConfig(c.BusOptions(nil)); err != nil {
		return err
	}
	var entries []string
	for _, e := range c.topicMapping {
		entries = append(entries, strings.FieldsFunc(e, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })...)
	}
	topics, err := outbox.ParseTopicMapping(entries)
	if err != nil {
		return fmt.Errorf("--publisher-topic-mapping: %w", err)
	}
	c.Topics = topics
	if c.MaxBodyBytes <= 0 {
		return fmt.Errorf("--max-body-bytes must be positive")
	}
	if c.ShutdownTimeout <= 0 {
		return fmt.Errorf("--shutdown-timeout must be positive")
	}
	return c.Worker.validate()
}

// BusOptions are the options of the bus publisher and subscribers, on db
// for the postgres driver.
func (c *Config) BusOptions(db *sql.DB) bus.Options {
	return bus.Options{
		Driver:       c.Bus,
		KafkaBrokers: c.KafkaBrokers,
		KafkaTLS:     c.KafkaTLS,
		KafkaSASL:    c.KafkaSASL,
		DB:           db,
	}
}

// Package config holds Kontor's settings and reads them from command-line
// flags and KONTOR_* environment variables (flags win over the environment).
package config

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// Config is every setting of `kontor serve`.
type Config struct {
	PostgresURI     string
	Bind            string
	LogLevel        string
	AuthEnabled     bool
	Bus             string
	KafkaBrokers    []string
	AutoMigrate     bool
	MaxBodyBytes    int64
	ShutdownTimeout time.Duration
	Region          string
	Env             string
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
	fs.BoolVar(&c.AutoMigrate, "auto-migrate", true, "apply database migrations when the server starts")
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", 10<<20, "largest accepted request body, in bytes")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "how long to drain in-flight requests on shutdown")
	fs.StringVar(&c.Region, "region", "local", "region reported by GET /versions")
	fs.StringVar(&c.Env, "env", "local", "environment reported by GET /versions")
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
	if c.MaxBodyBytes <= 0 {
		return fmt.Errorf("--max-body-bytes must be positive")
	}
	if c.ShutdownTimeout <= 0 {
		return fmt.Errorf("--shutdown-timeout must be positive")
	}
	return nil
}

package config

import (
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func parse(t *testing.T, args []string, env map[string]string) (*Config, error) {
	t.Helper()
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	c := Register(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return c, Load(fs, c, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
}

func TestDefaults(t *testing.T) {
	c, err := parse(t, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Bind != "127.0.0.1:8080" || c.PostgresURI != DefaultPostgresURI || c.Bus != "postgres" ||
		c.AuthEnabled || !c.AutoMigrate || c.LogLevel != "info" || c.MaxBodyBytes != 10<<20 {
		t.Fatalf("unexpected defaults: %+v", c)
	}
}

func TestEnvironmentAndFlags(t *testing.T) {
	env := map[string]string{
		"KONTOR_POSTGRES_URI":     "postgres://env/db",
		"KONTOR_BIND":             "0.0.0.0:9000",
		"KONTOR_AUTH_ENABLED":     "true",
		"KONTOR_BUS":              "kafka",
		"KONTOR_KAFKA_BROKERS":    "k1:9092,k2:9092",
		"KONTOR_SHUTDOWN_TIMEOUT": "5s",
		"KONTOR_LOG_LEVEL":        "debug",
	}
	c, err := parse(t, []string{"--bind", "127.0.0.1:7000", "--bus=none"}, env)
	if err != nil {
		t.Fatal(err)
	}
	if c.Bind != "127.0.0.1:7000" || c.Bus != "none" {
		t.Fatalf("flags must win over environment: %+v", c)
	}
	if c.PostgresURI != "postgres://env/db" || !c.AuthEnabled || c.ShutdownTimeout != 5*time.Second || c.LogLevel != "debug" ||
		len(c.KafkaBrokers) != 2 || c.KafkaBrokers[1] != "k2:9092" {
		t.Fatalf("environment not applied: %+v", c)
	}
}

func TestInvalid(t *testing.T) {
	cases := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--bus", "rabbit"}, nil, "--bus"},
		{[]string{"--bus", "kafka"}, nil, "--kafka-brokers"},
		{[]string{"--log-level", "loud"}, nil, "--log-level"},
		{nil, map[string]string{"KONTOR_AUTH_ENABLED": "maybe"}, "KONTOR_AUTH_ENABLED"},
		{[]string{"--max-body-bytes", "0"}, nil, "--max-body-bytes"},
		{[]string{"--postgres-uri", ""}, nil, "--postgres-uri"},
	}
	for _, tc := range cases {
		_, err := parse(t, tc.args, tc.env)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v %v: got %v, want error mentioning %s", tc.args, tc.env, err, tc.want)
		}
	}
}

func TestHelpNamesEnvironment(t *testing.T) {
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	Register(fs)
	usage := fs.FlagUsages()
	for _, name := range []string{"KONTOR_POSTGRES_URI", "KONTOR_BIND", "KONTOR_LOG_LEVEL", "KONTOR_AUTH_ENABLED", "KONTOR_BUS"} {
		if !strings.Contains(usage, name) {
			t.Errorf("help does not mention %s:\n%s", name, usage)
		}
	}
}

package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/spf13/pflag"

	"github.com/kontorhq/kontor/eventstore/outbox"
	"github.com/kontorhq/kontor/platform/bus"
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
		{[]string{"--kafka-sasl-mechanism", "OAUTHBEARER", "--kafka-sasl-username", "u", "--kafka-sasl-password", "p"}, nil,
			`--kafka-sasl-mechanism "OAUTHBEARER": want one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512`},
		{[]string{"--kafka-sasl-mechanism", "PLAIN"}, map[string]string{"KONTOR_KAFKA_SASL_PASSWORD": "p"},
			"--kafka-sasl-mechanism PLAIN needs --kafka-sasl-username and --kafka-sasl-password"},
		{nil, map[string]string{"KONTOR_KAFKA_SASL_USERNAME": "u"}, "need --kafka-sasl-mechanism"},
		{[]string{"--kafka-tls", "--kafka-tls-ca-file", "/nonexistent/ca.pem"}, nil, "--kafka-tls-ca-file: open /nonexistent/ca.pem"},
		{[]string{"--kafka-tls-ca-file", "/nonexistent/ca.pem"}, nil, "--kafka-tls-ca-file needs --kafka-tls"},
		{[]string{"--kafka-tls", "--kafka-tls-key-file", "/k.pem"}, nil, "--kafka-tls-cert-file and --kafka-tls-key-file go together"},
		{nil, map[string]string{"KONTOR_KAFKA_TLS": "sometimes"}, "KONTOR_KAFKA_TLS"},
		{[]string{"--publisher-topic-mapping", "COMMITTED_TRANSACTIONS"}, nil, `--publisher-topic-mapping: topic mapping "COMMITTED_TRANSACTIONS": want TYPE:topic`},
		{nil, map[string]string{"KONTOR_PUBLISHER_TOPIC_MAPPING": "*:ledger :orphan"}, `topic mapping ":orphan"`},
	}
	for _, tc := range cases {
		_, err := parse(t, tc.args, tc.env)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v %v: got %v, want error mentioning %s", tc.args, tc.env, err, tc.want)
		}
	}
}

// writeCA writes a self-signed CA certificate as a PEM file and returns its
// path.
func writeCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "config test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestKafkaSecurity(t *testing.T) {
	ca := writeCA(t)
	env := map[string]string{
		"KONTOR_KAFKA_TLS":            "true",
		"KONTOR_KAFKA_TLS_CA_FILE":    ca,
		"KONTOR_KAFKA_SASL_MECHANISM": "PLAIN",
		"KONTOR_KAFKA_SASL_USERNAME":  "env-user",
		"KONTOR_KAFKA_SASL_PASSWORD":  "env-secret",
	}
	c, err := parse(t, []string{"--bus", "kafka", "--kafka-brokers", "k1:9093",
		"--kafka-sasl-mechanism", "SCRAM-SHA-512", "--kafka-sasl-username", "flag-user"}, env)
	if err != nil {
		t.Fatal(err)
	}
	want := bus.Options{
		Driver:       "kafka",
		KafkaBrokers: []string{"k1:9093"},
		KafkaTLS:     bus.KafkaTLS{Enabled: true, CAFile: ca},
		KafkaSASL:    bus.KafkaSASL{Mechanism: "SCRAM-SHA-512", Username: "flag-user", Password: "env-secret"},
	}
	got := c.BusOptions(nil)
	if got.Driver != want.Driver || strings.Join(got.KafkaBrokers, ",") != "k1:9093" || got.KafkaTLS != want.KafkaTLS || got.KafkaSASL != want.KafkaSASL {
		t.Fatalf("bus options %+v, want %+v", got, want)
	}
	cfg, err := bus.SaramaConfig(got)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Net.TLS.Enable || cfg.Net.TLS.Config.RootCAs == nil || cfg.Net.SASL.Mechanism != sarama.SASLTypeSCRAMSHA512 || cfg.Net.SASL.SCRAMClientGeneratorFunc == nil {
		t.Fatalf("sarama config: tls %v roots %v mechanism %s", cfg.Net.TLS.Enable, cfg.Net.TLS.Config.RootCAs, cfg.Net.SASL.Mechanism)
	}

	c, err = parse(t, []string{"--kafka-tls", "--kafka-tls-insecure-skip-verify"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.KafkaTLS != (bus.KafkaTLS{Enabled: true, InsecureSkipVerify: true}) || c.KafkaSASL != (bus.KafkaSASL{}) {
		t.Fatalf("tls %+v sasl %+v", c.KafkaTLS, c.KafkaSASL)
	}
}

func TestPublisherTopicMapping(t *testing.T) {
	c, err := parse(t, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Topics) != 0 || c.Topics.Topic("COMMITTED_TRANSACTIONS") != outbox.DefaultTopic {
		t.Fatalf("default mapping %v", c.Topics)
	}
	c, err = parse(t, []string{"--publisher-topic-mapping", "COMMITTED_TRANSACTIONS:tx",
		"--publisher-topic-mapping", "SAVED_METADATA:meta,*:other"}, map[string]string{"KONTOR_PUBLISHER_TOPIC_MAPPING": "*:ignored"})
	if err != nil {
		t.Fatal(err)
	}
	for typ, topic := range map[string]string{"COMMITTED_TRANSACTIONS": "tx", "SAVED_METADATA": "meta", "REVERTED_TRANSACTION": "other"} {
		if got := c.Topics.Topic(typ); got != topic {
			t.Errorf("flags: %s on %q, want %q", typ, got, topic)
		}
	}
	c, err = parse(t, nil, map[string]string{"KONTOR_PUBLISHER_TOPIC_MAPPING": "COMMITTED_TRANSACTIONS:tx *:all, DELETED_METADATA:meta"})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Topics) != 3 || c.Topics.Topic("COMMITTED_TRANSACTIONS") != "tx" || c.Topics.Topic("DELETED_METADATA") != "meta" || c.Topics.Topic("INSERTED_SCHEMA") != "all" {
		t.Fatalf("environment mapping %v", c.Topics)
	}
}

func TestHelpNamesEnvironment(t *testing.T) {
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	Register(fs)
	usage := fs.FlagUsages()
	for _, name := range []string{"KONTOR_POSTGRES_URI", "KONTOR_BIND", "KONTOR_LOG_LEVEL", "KONTOR_AUTH_ENABLED", "KONTOR_BUS",
		"KONTOR_KAFKA_TLS_CA_FILE", "KONTOR_KAFKA_SASL_MECHANISM", "KONTOR_KAFKA_SASL_PASSWORD", "KONTOR_PUBLISHER_TOPIC_MAPPING"} {
		if !strings.Contains(usage, name) {
			t.Errorf("help does not mention %s:\n%s", name, usage)
		}
	}
}

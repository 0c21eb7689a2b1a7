package bus

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kfake"
)

// testPKI is a certificate authority and the broker and client certificates
// it signed, written as PEM files in a temporary directory.
type testPKI struct {
	caFile, certFile, keyFile string
	ca                        *x509.Certificate
	server                    tls.Certificate
}

func newTestPKI(t *testing.T) testPKI {
	t.Helper()
	dir := t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "kontor test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	leaf := func(serial int64, usage x509.ExtKeyUsage) ([]byte, []byte) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: "kontor test"},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(time.Hour),
			IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		}, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		keyDER, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
			pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	}
	serverCert, serverKey := leaf(2, x509.ExtKeyUsageServerAuth)
	server, err := tls.X509KeyPair(serverCert, serverKey)
	if err != nil {
		t.Fatal(err)
	}
	clientCert, clientKey := leaf(3, x509.ExtKeyUsageClientAuth)
	p := testPKI{
		caFile:   filepath.Join(dir, "ca.pem"),
		certFile: filepath.Join(dir, "client.pem"),
		keyFile:  filepath.Join(dir, "client-key.pem"),
		ca:       ca,
		server:   server,
	}
	for file, data := range map[string][]byte{
		p.caFile:   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		p.certFile: clientCert,
		p.keyFile:  clientKey,
	} {
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func TestSaramaConfigTLS(t *testing.T) {
	pki := newTestPKI(t)
	cfg, err := SaramaConfig(Options{KafkaTLS: KafkaTLS{Enabled: true, CAFile: pki.caFile, CertFile: pki.certFile, KeyFile: pki.keyFile}})
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Net.TLS.Enable || cfg.Net.TLS.Config == nil || cfg.Net.TLS.Config.InsecureSkipVerify {
		t.Fatalf("TLS not enabled as asked: %+v", cfg.Net.TLS)
	}
	if cfg.Net.TLS.Config.MinVersion != tls.VersionTLS12 {
		t.Errorf("min version %x", cfg.Net.TLS.Config.MinVersion)
	}
	// The CA file is the only root: the broker certificate it signed verifies.
	leaf, err := x509.ParseCertificate(pki.server.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: cfg.Net.TLS.Config.RootCAs}); err != nil {
		t.Errorf("broker certificate does not verify against the CA file: %v", err)
	}
	if len(cfg.Net.TLS.Config.Certificates) != 1 {
		t.Fatalf("client certificates: %d", len(cfg.Net.TLS.Config.Certificates))
	}
	client, err := x509.ParseCertificate(cfg.Net.TLS.Config.Certificates[0].Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if client.SerialNumber.Int64() != 3 || client.Issuer.CommonName != "kontor test CA" {
		t.Errorf("client certificate %v from %v", client.SerialNumber, client.Issuer)
	}

	cfg, err = SaramaConfig(Options{KafkaTLS: KafkaTLS{Enabled: true, InsecureSkipVerify: true}})
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Net.TLS.Config.InsecureSkipVerify || cfg.Net.TLS.Config.RootCAs != nil {
		t.Errorf("skip-verify without CA: %+v", cfg.Net.TLS.Config)
	}
	cfg, err = SaramaConfig(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Net.TLS.Enable || cfg.Net.SASL.Enable || cfg.Version != sarama.V2_8_0_0 || cfg.Consumer.Offsets.Initial != sarama.OffsetOldest {
		t.Errorf("plain config: tls %v sasl %v version %v initial %v", cfg.Net.TLS.Enable, cfg.Net.SASL.Enable, cfg.Version, cfg.Consumer.Offsets.Initial)
	}
}

func TestSaramaConfigSASL(t *testing.T) {
	cases := []struct {
		mechanism string
		want      sarama.SASLMechanism
		scram     bool
	}{
		{"PLAIN", sarama.SASLTypePlaintext, false},
		{"plain", sarama.SASLTypePlaintext, false},
		{"SCRAM-SHA-256", sarama.SASLTypeSCRAMSHA256, true},
		{"scram-sha-512", sarama.SASLTypeSCRAMSHA512, true},
	}
	for _, tc := range cases {
		cfg, err := SaramaConfig(Options{KafkaSASL: KafkaSASL{Mechanism: tc.mechanism, Username: "kontor", Password: "s3cret"}})
		if err != nil {
			t.Fatalf("%s: %v", tc.mechanism, err)
		}
		s := cfg.Net.SASL
		if !s.Enable || !s.Handshake || s.Mechanism != tc.want || s.User != "kontor" || s.Password != "s3cret" {
			t.Errorf("%s: enable %v handshake %v mechanism %s user %q password %q", tc.mechanism, s.Enable, s.Handshake, s.Mechanism, s.User, s.Password)
		}
		if (s.SCRAMClientGeneratorFunc != nil) != tc.scram {
			t.Fatalf("%s: SCRAM client generator set: %v", tc.mechanism, s.SCRAMClientGeneratorFunc != nil)
		}
		if tc.scram {
			c := s.SCRAMClientGeneratorFunc()
			if err := c.Begin("kontor", "s3cret", ""); err != nil {
				t.Fatal(err)
			}
			first, err := c.Step("")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(first, "n,,n=kontor,r=") || c.Done() {
				t.Errorf("%s: client-first message %q, done %v", tc.mechanism, first, c.Done())
			}
		}
	}
}

func TestSaramaConfigInvalid(t *testing.T) {
	pki := newTestPKI(t)
	notPEM := filepath.Join(t.TempDir(), "ca.txt")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		opts Options
		want string
	}{
		{Options{KafkaSASL: KafkaSASL{Mechanism: "GSSAPI", Username: "u", Password: "p"}}, `--kafka-sasl-mechanism "GSSAPI": want one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512`},
		{Options{KafkaSASL: KafkaSASL{Mechanism: "PLAIN", Password: "p"}}, "--kafka-sasl-mechanism PLAIN needs --kafka-sasl-username and --kafka-sasl-password"},
		{Options{KafkaSASL: KafkaSASL{Mechanism: "SCRAM-SHA-256", Username: "u"}}, "needs --kafka-sasl-username and --kafka-sasl-password"},
		{Options{KafkaSASL: KafkaSASL{Username: "u", Password: "p"}}, "need --kafka-sasl-mechanism"},
		{Options{KafkaTLS: KafkaTLS{CAFile: pki.caFile}}, "--kafka-tls-ca-file needs --kafka-tls"},
		{Options{KafkaTLS: KafkaTLS{InsecureSkipVerify: true}}, "--kafka-tls-insecure-skip-verify needs --kafka-tls"},
		{Options{KafkaTLS: KafkaTLS{Enabled: true, CAFile: filepath.Join(t.TempDir(), "missing.pem")}}, "--kafka-tls-ca-file: open "},
		{Options{KafkaTLS: KafkaTLS{Enabled: true, CAFile: notPEM}}, "no PEM certificate"},
		{Options{KafkaTLS: KafkaTLS{Enabled: true, CertFile: pki.certFile}}, "--kafka-tls-cert-file and --kafka-tls-key-file go together"},
		{Options{KafkaTLS: KafkaTLS{Enabled: true, CertFile: pki.certFile, KeyFile: pki.caFile}}, "--kafka-tls-cert-file/--kafka-tls-key-file: "},
	}
	for _, tc := range cases {
		_, err := SaramaConfig(tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want error containing %q", tc.opts, err, tc.want)
		}
		// The publisher and the subscriber refuse them the same way.
		tc.opts.Driver, tc.opts.KafkaBrokers = "kafka", []string{"127.0.0.1:1"}
		if _, err := NewPublisher(tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("publisher %+v: got %v", tc.opts, err)
		}
		if _, err := NewSubscriber(SubscriberOptions{Options: tc.opts, Group: "g"}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("subscriber %+v: got %v", tc.opts, err)
		}
	}
}

// TestKafkaSecured publishes and consumes through brokers that require TLS
// (with client certificates) and SASL.
func TestKafkaSecured(t *testing.T) {
	pki := newTestPKI(t)
	roots := x509.NewCertPool()
	roots.AddCert(pki.ca)
	serverTLS := &tls.Config{
		Certificates: []tls.Certificate{pki.server},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    roots,
		MinVersion:   tls.VersionTLS12,
	}
	clientTLS := KafkaTLS{Enabled: true, CAFile: pki.caFile, CertFile: pki.certFile, KeyFile: pki.keyFile}
	cases := []struct {
		name      string
		mechanism string
		tls       bool
	}{
		{"tls", "", true},
		{"plain", "PLAIN", false},
		{"scram-sha-256", "SCRAM-SHA-256", false},
		{"tls+scram-sha-512", "SCRAM-SHA-512", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clusterOpts := []kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(2, "events")}
			opts := Options{Driver: "kafka"}
			if tc.tls {
				clusterOpts = append(clusterOpts, kfake.TLS(serverTLS))
				opts.KafkaTLS = clientTLS
			}
			if tc.mechanism != "" {
				clusterOpts = append(clusterOpts, kfake.EnableSASL(), kfake.Superuser(tc.mechanism, "kontor", "s3cret"))
				opts.KafkaSASL = KafkaSASL{Mechanism: tc.mechanism, Username: "kontor", Password: "s3cret"}
			}
			cluster, err := kfake.NewCluster(clusterOpts...)
			if err != nil {
				t.Fatal(err)
			}
			defer cluster.Close()
			opts.KafkaBrokers = cluster.ListenAddrs()

			pub, err := NewPublisher(opts)
			if err != nil {
				t.Fatal(err)
			}
			defer pub.Close()
			sub, err := NewSubscriber(SubscriberOptions{Options: opts, Group: "indexer"})
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Close()
			receive(t, pub, sub, "events", `{"n":1}`, `{"n":2}`)

			// Without the credentials (or the certificates), the brokers
			// are out of reach.
			bad := opts
			if tc.mechanism != "" {
				bad.KafkaSASL.Password = "wrong"
			} else {
				bad.KafkaTLS = KafkaTLS{}
			}
			if p, err := NewPublisher(bad); err == nil {
				p.Close()
				t.Fatal("publisher connected with bad credentials")
			}
		})
	}
}

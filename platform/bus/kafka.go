package bus

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/IBM/sarama"
	kafka "github.com/ThreeDotsLabs/watermill-kafka/v3/pkg/kafka"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// KafkaTLS encrypts the connections to the Kafka brokers.
type KafkaTLS struct {
	// Enabled turns TLS on; the other fields need it.
	Enabled bool
	// CAFile is a PEM file of the certificate authorities that sign the
	// brokers' certificates (the system's roots when empty).
	CAFile string
	// CertFile and KeyFile are the PEM client certificate and key, for
	// brokers that authenticate clients by certificate; both or neither.
	CertFile, KeyFile string
	// InsecureSkipVerify accepts any broker certificate (tests only).
	InsecureSkipVerify bool
}

// KafkaSASL authenticates Kontor to the Kafka brokers.
type KafkaSASL struct {
	// Mechanism is one of SASLMechanisms (any case), or empty for no SASL.
	Mechanism string
	// Username and Password are the credentials; both are required.
	Username, Password string
}

// SASLMechanisms are the SASL mechanisms Kontor speaks.
var SASLMechanisms = []string{sarama.SASLTypePlaintext, sarama.SASLTypeSCRAMSHA256, sarama.SASLTypeSCRAMSHA512}

// SaramaConfig is the Kafka client configuration Kontor uses for publishing
// and consuming (see DEPENDENCIES.md for the version and offset choices),
// secured by opts.KafkaTLS and opts.KafkaSASL. It fails on settings that
// cannot work: a TLS option without TLS, an unreadable certificate file, an
// unknown SASL mechanism, SASL without credentials.
func SaramaConfig(opts Options) (*sarama.Config, error) {
	cfg := kafka.DefaultSaramaSyncPublisherConfig()
	cfg.Version = sarama.V2_8_0_0
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Producer.Retry.Max = 10
	tlsCfg, err := opts.KafkaTLS.config()
	if err != nil {
		return nil, fmt.Errorf("bus kafka tls: %w", err)
	}
	if tlsCfg != nil {
		cfg.Net.TLS.Enable = true
		cfg.Net.TLS.Config = tlsCfg
	}
	if err := opts.KafkaSASL.apply(cfg); err != nil {
		return nil, fmt.Errorf("bus kafka sasl: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("bus kafka: %w", err)
	}
	return cfg, nil
}

// config returns the TLS configuration, nil when TLS is off.
func (t KafkaTLS) config() (*tls.Config, error) {
	if !t.Enabled {
		switch {
		case t.CAFile != "":
			return nil, errors.New("--kafka-tls-ca-file needs --kafka-tls")
		case t.CertFile != "" || t.KeyFile != "":
			return nil, errors.New("--kafka-tls-cert-file and --kafka-tls-key-file need --kafka-tls")
		case t.InsecureSkipVerify:
			return nil, errors.New("--kafka-tls-insecure-skip-verify needs --kafka-tls")
		}
		return nil, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: t.InsecureSkipVerify}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("--kafka-tls-ca-file: %w", err)
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--kafka-tls-ca-file %s: no PEM certificate in it", t.CAFile)
		}
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		return nil, errors.New("--kafka-tls-cert-file and --kafka-tls-key-file go together")
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("--kafka-tls-cert-file/--kafka-tls-key-file: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

// apply enables SASL on cfg, unless no mechanism is set.
func (s KafkaSASL) apply(cfg *sarama.Config) error {
	if s.Mechanism == "" {
		if s.Username != "" || s.Password != "" {
			return errors.New("--kafka-sasl-username and --kafka-sasl-password need --kafka-sasl-mechanism")
		}
		return nil
	}
	mechanism := sarama.SASLMechanism(strings.ToUpper(s.Mechanism))
	switch mechanism {
	case sarama.SASLTypePlaintext:
	case sarama.SASLTypeSCRAMSHA256:
		cfg.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient {
			return &scramClient{mechanism: scram.Auth.AsSha256Mechanism}
		}
	case sarama.SASLTypeSCRAMSHA512:
		cfg.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient {
			return &scramClient{mechanism: scram.Auth.AsSha512Mechanism}
		}
	default:
		return fmt.Errorf("--kafka-sasl-mechanism %q: want one of %s", s.Mechanism, strings.Join(SASLMechanisms, ", "))
	}
	if s.Username == "" || s.Password == "" {
		return fmt.Errorf("--kafka-sasl-mechanism %s needs --kafka-sasl-username and --kafka-sasl-password", mechanism)
	}
	cfg.Net.SASL.Enable = true
	cfg.Net.SASL.Mechanism = mechanism
	cfg.Net.SASL.User = s.Username
	cfg.Net.SASL.Password = s.Password
	return nil
}

// scramClient is sarama's side of a SCRAM exchange, computed by franz-go's
// SCRAM mechanism: the first Step returns the client-first message, the
// next ones answer the server's challenges until it is verified.
type scramClient struct {
	mechanism func(scram.Auth) sasl.Mechanism
	auth      scram.Auth
	session   sasl.Session
	done      bool
}

// Begin records the credentials of the exchange.
func (c *scramClient) Begin(user, password, authzID string) error {
	c.auth = scram.Auth{User: user, Pass: password, Zid: authzID}
	return nil
}

// Step returns the message that answers challenge.
func (c *scramClient) Step(challenge string) (string, error) {
	if c.session == nil {
		session, first, err := c.mechanism(c.auth).Authenticate(context.Background(), "")
		if err != nil {
			return "", err
		}
		c.session = session
		return string(first), nil
	}
	done, response, err := c.session.Challenge([]byte(challenge))
	if err != nil {
		return "", err
	}
	c.done = done
	return string(response), nil
}

// Done reports whether the server's final message was verified.
func (c *scramClient) Done() bool {
	return c.done
}

package exporters

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/IBM/sarama"
)

// KafkaConfig is the "kafka" driver's config:
// {"brokers":["host:9092"],"topic":"ledger-logs"}.
type KafkaConfig struct {
	// Brokers are the host:port addresses to bootstrap from.
	Brokers []string
	// Topic receives one message per log.
	Topic string
}

// Kafka is the "kafka" driver: it produces one message per log, keyed by
// the ledger name (so one ledger's logs share a partition and keep their
// order), the export JSON as value and the log date as timestamp.
type Kafka struct {
	cfg      KafkaConfig
	mu       sync.Mutex
	producer sarama.SyncProducer // opened by the first Accept
	closed   bool
}

// kafkaTopic is what Kafka accepts as a topic name.
var kafkaTopic = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,249}$`)

// NewKafka validates cfg and returns a kafka driver; it connects on the
// first Accept.
func NewKafka(cfg KafkaConfig) (*Kafka, error) {
	if len(cfg.Brokers) == 0 {
		return nil, invalid(`config.brokers is required (like ["localhost:9092"])`)
	}
	for _, b := range cfg.Brokers {
		if _, port, err := net.SplitHostPort(b); err != nil || port == "" {
			return nil, invalid("config.brokers: %q is not a host:port address", b)
		}
	}
	if cfg.Topic == "" {
		return nil, invalid("config.topic is required")
	}
	if !kafkaTopic.MatchString(cfg.Topic) {
		return nil, invalid("config.topic %q is not a valid Kafka topic name (letters, digits, '.', '_', '-'; at most 249)", cfg.Topic)
	}
	cfg.Brokers = append([]string(nil), cfg.Brokers...)
	return &Kafka{cfg: cfg}, nil
}

func parseKafka(settings json.RawMessage) (func() (Driver, error), error) {
	var aux struct {
		Brokers []string `json:"brokers"`
		Topic   string   `json:"topic"`
	}
	if err := decodeSettings("config", settings, &aux); err != nil {
		return nil, err
	}
	cfg := KafkaConfig{Brokers: aux.Brokers, Topic: aux.Topic}
	if _, err := NewKafka(cfg); err != nil {
		return nil, err
	}
	return func() (Driver, error) { return NewKafka(cfg) }, nil
}

// kafkaConfig is the producer configuration (see DEPENDENCIES.md for the
// protocol version).
func kafkaConfig() *sarama.Config {
	c := sarama.NewConfig()
	c.ClientID = "kontor-exporter"
	c.Version = sarama.V2_8_0_0
	c.Net.DialTimeout = 10 * time.Second
	c.Producer.Return.Successes = true
	c.Producer.Return.Errors = true
	c.Producer.RequiredAcks = sarama.WaitForAll
	c.Producer.Partitioner = sarama.NewHashPartitioner
	c.Producer.Retry.Max = 5
	return c
}

// open returns the producer, connecting on first use. k.mu is held.
func (k *Kafka) open() (sarama.SyncProducer, error) {
	if k.closed {
		return nil, ErrClosed
	}
	if k.producer == nil {
		p, err := sarama.NewSyncProducer(k.cfg.Brokers, kafkaConfig())
		if err != nil {
			return nil, fmt.Errorf("exporter kafka %s: %w", strings.Join(k.cfg.Brokers, ","), err)
		}
		k.producer = p
	}
	return k.producer, nil
}

// Accept produces the batch and returns once every message is acknowledged
// by all in-sync replicas. The producer does not watch ctx: Accept checks
// it only before sending.
func (k *Kafka) Accept(ctx context.Context, exports []Export) error {
	if len(exports) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	msgs := make([]*sarama.ProducerMessage, len(exports))
	for i, e := range exports {
		value, err := e.MarshalJSON()
		if err != nil {
			return err
		}
		msgs[i] = &sarama.ProducerMessage{
			Topic:     k.cfg.Topic,
			Key:       sarama.StringEncoder(e.Ledger),
			Value:     sarama.ByteEncoder(value),
			Timestamp: e.Log.Date.Time,
		}
	}
	// Batches are sent one at a time so that a ledger's logs stay in order.
	k.mu.Lock()
	defer k.mu.Unlock()
	producer, err := k.open()
	if err != nil {
		return err
	}
	if err := producer.SendMessages(msgs); err != nil {
		var perrs sarama.ProducerErrors
		if errors.As(err, &perrs) && len(perrs) > 0 {
			return fmt.Errorf("exporter kafka: %d of %d messages failed, first: %w", len(perrs), len(msgs), perrs[0].Err)
		}
		return fmt.Errorf("exporter kafka: %w", err)
	}
	return nil
}

// Close flushes and closes the producer.
func (k *Kafka) Close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.closed = true
	if k.producer == nil {
		return nil
	}
	p := k.producer
	k.producer = nil
	return p.Close()
}

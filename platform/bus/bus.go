// Package bus opens the publisher of Kontor's event bus, on the transport
// chosen by --bus: Kafka in production, PostgreSQL (the single-node
// default, needing nothing but the database), or none.
package bus

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/IBM/sarama"
	"github.com/ThreeDotsLabs/watermill"
	kafka "github.com/ThreeDotsLabs/watermill-kafka/v3/pkg/kafka"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v3/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
)

// PartitionKey is the message metadata key that picks the Kafka partition;
// the ledger sets it to the ledger name so that one ledger's events keep
// their order.
const PartitionKey = "partition_key"

// Options select and configure the transport.
type Options struct {
	// Driver is "kafka", "postgres" or "none".
	Driver string
	// KafkaBrokers are host:port addresses, for the kafka driver.
	KafkaBrokers []string
	// KafkaTLS and KafkaSASL secure the connections to the brokers.
	KafkaTLS  KafkaTLS
	KafkaSASL KafkaSASL
	// DB is the database the postgres driver writes its topics to.
	DB *sql.DB
}

// NewPublisher opens the publisher of the chosen transport. The none driver
// returns a nil publisher: nothing is published.
func NewPublisher(opts Options) (message.Publisher, error) {
	logger := watermill.NopLogger{}
	switch opts.Driver {
	case "none":
		return nil, nil
	case "postgres":
		if opts.DB == nil {
			return nil, fmt.Errorf("bus postgres: no database")
		}
		return wsql.NewPublisher(opts.DB, wsql.PublisherConfig{
			SchemaAdapter:        wsql.DefaultPostgreSQLSchema{},
			AutoInitializeSchema: true,
		}, logger)
	case "kafka":
		if len(opts.KafkaBrokers) == 0 {
			return nil, fmt.Errorf("bus kafka: no brokers (set --kafka-brokers)")
		}
		cfg, err := SaramaConfig(opts)
		if err != nil {
			return nil, err
		}
		// One request in flight per broker: a retried batch cannot
		// overtake the next one, so each partition keeps its order.
		cfg.Net.MaxOpenRequests = 1
		producer, err := sarama.NewSyncProducer(opts.KafkaBrokers, cfg)
		if err != nil {
			return nil, fmt.Errorf("bus kafka %s: %w", strings.Join(opts.KafkaBrokers, ","), err)
		}
		return &kafkaPublisher{producer: producer, marshaler: kafka.NewWithPartitioningMarshaler(partitionKey)}, nil
	default:
		return nil, fmt.Errorf("bus: unknown driver %q", opts.Driver)
	}
}

// kafkaPublisher produces the messages of one Publish call together: the
// producer sends them in as few requests as it can (watermill-kafka's
// publisher waits for each message's acknowledgement before the next), and
// Publish returns once every one is acknowledged.
type kafkaPublisher struct {
	producer  sarama.SyncProducer
	marshaler kafka.Marshaler
}

// Publish produces msgs on topic, in order per partition key.
func (p *kafkaPublisher) Publish(topic string, msgs ...*message.Message) error {
	batch := make([]*sarama.ProducerMessage, len(msgs))
	for i, msg := range msgs {
		m, err := p.marshaler.Marshal(topic, msg)
		if err != nil {
			return fmt.Errorf("bus kafka: message %s: %w", msg.UUID, err)
		}
		batch[i] = m
	}
	if err := p.producer.SendMessages(batch); err != nil {
		var perrs sarama.ProducerErrors
		if errors.As(err, &perrs) && len(perrs) > 0 {
			return fmt.Errorf("bus kafka: %d of %d messages to %s not produced: %w", len(perrs), len(msgs), topic, perrs[0].Err)
		}
		return fmt.Errorf("bus kafka: produce to %s: %w", topic, err)
	}
	return nil
}

// Close flushes and closes the producer.
func (p *kafkaPublisher) Close() error {
	return p.producer.Close()
}

func partitionKey(_ string, msg *message.Message) (string, error) {
	return msg.Metadata.Get(PartitionKey), nil
}

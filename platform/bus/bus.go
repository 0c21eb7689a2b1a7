// Package bus opens the publisher of Kontor's event bus, on the transport
// chosen by --bus: Kafka in production, PostgreSQL (the single-node
// default, needing nothing but the database), or none.
package bus

import (
	"database/sql"
	"fmt"
	"strings"

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
		p, err := kafka.NewPublisher(kafka.PublisherConfig{
			Brokers:               opts.KafkaBrokers,
			Marshaler:             kafka.NewWithPartitioningMarshaler(partitionKey),
			OverwriteSaramaConfig: cfg,
		}, logger)
		if err != nil {
			return nil, fmt.Errorf("bus kafka %s: %w", strings.Join(opts.KafkaBrokers, ","), err)
		}
		return p, nil
	default:
		return nil, fmt.Errorf("bus: unknown driver %q", opts.Driver)
	}
}

func partitionKey(_ string, msg *message.Message) (string, error) {
	return msg.Metadata.Get(PartitionKey), nil
}

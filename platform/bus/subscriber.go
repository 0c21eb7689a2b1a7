package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/IBM/sarama"
	"github.com/ThreeDotsLabs/watermill"
	kafka "github.com/ThreeDotsLabs/watermill-kafka/v3/pkg/kafka"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v3/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5/pgconn"
)

// DefaultResendInterval is how long a subscriber waits before delivering a
// nacked message again, unless SubscriberOptions.ResendInterval says
// otherwise.
const DefaultResendInterval = time.Second

// DefaultPollInterval is how often an idle postgres subscription looks for
// new messages, unless SubscriberOptions.PollInterval says otherwise.
const DefaultPollInterval = time.Second

// SubscriberOptions select the transport (the same Options as the
// publisher's) and the consumer group of a subscriber.
type SubscriberOptions struct {
	Options
	// Group is the consumer group: every subscriber of a group shares the
	// work and the checkpoint. Use one group per consumer name.
	Group string
	// KafkaSessionTimeout is how long the Kafka group coordinator waits for
	// a silent member before handing its partitions to another one (sarama's
	// default, 10 s, when zero). Lower it to move a crashed member's
	// partitions sooner (tests do).
	KafkaSessionTimeout time.Duration
	// PollInterval is how often an idle postgres subscription queries for new
	// messages (DefaultPollInterval when zero).
	PollInterval time.Duration
	// ResendInterval is the pause before a nacked message is delivered again
	// (DefaultResendInterval when zero).
	ResendInterval time.Duration
	// Logger receives the transport's logs, its info level as debug; nil
	// discards them.
	Logger *slog.Logger
}

// NewSubscriber opens a subscriber of the chosen transport in consumer group
// opts.Group. Both transports deliver one message of a Kafka partition (of a
// postgres topic) at a time: the next one comes only after the previous one
// is acked, so a consumer that acks in order keeps the per-key order. The
// none driver returns a nil subscriber.
//
// A postgres subscription holds one connection of opts.DB, inside a
// transaction, while the messages of its batch are handled: size opts.DB
// (and the pool behind it) for every subscription plus what the handlers
// need, or the handlers wait for connections until the ack deadline (30 s).
func NewSubscriber(opts SubscriberOptions) (message.Subscriber, error) {
	if opts.Driver == "none" {
		return nil, nil
	}
	if opts.Group == "" {
		return nil, errors.New("bus subscriber: no consumer group")
	}
	logger := watermill.LoggerAdapter(watermill.NopLogger{})
	if opts.Logger != nil {
		logger = watermill.NewSlogLoggerWithLevelMapping(opts.Logger,
			map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug})
	}
	resend := opts.ResendInterval
	if resend <= 0 {
		resend = DefaultResendInterval
	}
	switch opts.Driver {
	case "postgres":
		if opts.DB == nil {
			return nil, fmt.Errorf("bus postgres: no database")
		}
		poll := opts.PollInterval
		if poll <= 0 {
			poll = DefaultPollInterval
		}
		s, err := wsql.NewSubscriber(opts.DB, wsql.SubscriberConfig{
			ConsumerGroup:  opts.Group,
			SchemaAdapter:  wsql.DefaultPostgreSQLSchema{},
			OffsetsAdapter: wsql.DefaultPostgreSQLOffsetsAdapter{},
			PollInterval:   poll,
			ResendInterval: resend,
		}, logger)
		if err != nil {
			return nil, fmt.Errorf("bus postgres: %w", err)
		}
		return postgresSubscriber{s}, nil
	case "kafka":
		if len(opts.KafkaBrokers) == 0 {
			return nil, fmt.Errorf("bus kafka: no brokers (set --kafka-brokers)")
		}
		cfg, err := SaramaSubscriberConfig(opts)
		if err != nil {
			return nil, err
		}
		s, err := kafka.NewSubscriber(kafka.SubscriberConfig{
			Brokers:               opts.KafkaBrokers,
			Unmarshaler:           kafka.NewWithPartitioningMarshaler(partitionKey),
			OverwriteSaramaConfig: cfg,
			ConsumerGroup:         opts.Group,
			NackResendSleep:       resend,
		}, logger)
		if err != nil {
			return nil, fmt.Errorf("bus kafka %s: %w", strings.Join(opts.KafkaBrokers, ","), err)
		}
		return s, nil
	default:
		return nil, fmt.Errorf("bus: unknown driver %q", opts.Driver)
	}
}

// postgresSubscriber creates a topic's tables before subscribing to it.
type postgresSubscriber struct {
	*wsql.Subscriber
}

// Subscribe creates the topic's tables if needed, then subscribes.
func (s postgresSubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	if err := s.SubscribeInitialize(topic); err != nil {
		return nil, err
	}
	return s.Subscriber.Subscribe(ctx, topic)
}

// SubscribeInitialize creates the topic's tables if needed. A publisher or
// subscriber creating them at the same moment makes CREATE … IF NOT EXISTS
// fail with a duplicate error; trying again then finds them.
func (s postgresSubscriber) SubscribeInitialize(topic string) error {
	var err error
	for range 5 {
		if err = s.Subscriber.SubscribeInitialize(topic); err == nil || !isDuplicate(err) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("bus postgres: topic %s: %w", topic, err)
	}
	return nil
}

// isDuplicate reports a unique violation or an already existing object.
func isDuplicate(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "23505" || pgErr.Code == "42710" || pgErr.Code == "42P07")
}

// SaramaSubscriberConfig is SaramaConfig for a consumer group member: it
// starts at the oldest offset when the group has no checkpoint, reports
// group errors, and uses opts.KafkaSessionTimeout when positive (with
// heartbeats at a third of it).
func SaramaSubscriberConfig(opts SubscriberOptions) (*sarama.Config, error) {
	cfg, err := SaramaConfig(opts.Options)
	if err != nil {
		return nil, err
	}
	cfg.Consumer.Return.Errors = true
	if t := opts.KafkaSessionTimeout; t > 0 {
		cfg.Consumer.Group.Session.Timeout = t
		cfg.Consumer.Group.Heartbeat.Interval = t / 3
	}
	return cfg, nil
}

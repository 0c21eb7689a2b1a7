// Command busbench measures Kontor's event bus while the ledger is under
// load. It consumes the ledger topic like any consumer (platform/bus's
// subscriber, in a group of its own), watches the ledger's logs table for
// commits, and on SIGINT or SIGTERM drains what is left, then prints one
// JSON line: events per second received, events lost or duplicated, and the
// lag from commit to consumer.
//
// The lag of an event is its receipt time minus the time busbench first saw
// its log committed (it polls the ledger's last log id every -commit-poll),
// so it reads low by up to one poll; receipts before the commit was seen
// count as zero. The lag from the log's date (the start of the batch that
// wrote it, before the commit) is reported too, as an upper bound.
//
// With -kfake-port, busbench runs an in-process Kafka broker (kfake) on that
// port of 127.0.0.1 for Kontor to publish to (kontor serve --bus kafka
// --kafka-brokers 127.0.0.1:PORT), and consumes from it.
//
//	busbench -bus postgres -postgres-uri URI -ledger bench
//	busbench -bus kafka -kfake-port 18181 -postgres-uri URI -ledger bench
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/kontorhq/kontor/eventstore/outbox"
	"github.com/kontorhq/kontor/platform/bus"
	"github.com/kontorhq/kontor/platform/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "busbench:", err)
		os.Exit(1)
	}
}

// options are busbench's flags.
type options struct {
	driver     string
	uri        string
	ledger     string
	topic      string
	brokers    string
	kfakePort  int
	partitions int
	poll       time.Duration
	commitPoll time.Duration
	drainIdle  time.Duration
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("busbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.driver, "bus", "postgres", "transport: postgres or kafka")
	fs.StringVar(&o.uri, "postgres-uri", config.DefaultPostgresURI, "Kontor's database (the postgres transport, and the commits watched)")
	fs.StringVar(&o.ledger, "ledger", "", "ledger whose events are measured (required)")
	fs.StringVar(&o.topic, "topic", outbox.DefaultTopic, "topic consumed")
	fs.StringVar(&o.brokers, "kafka-brokers", "", "Kafka brokers (comma-separated), for -bus kafka without -kfake-port")
	fs.IntVar(&o.kfakePort, "kfake-port", 0, "for -bus kafka: run an in-process Kafka broker on 127.0.0.1:PORT and consume from it")
	fs.IntVar(&o.partitions, "partitions", 4, "partitions of the topic on the in-process broker")
	fs.DurationVar(&o.poll, "poll-interval", 0, "postgres transport: pause after an empty poll (0: the bus default, as Kontor's consumers)")
	fs.DurationVar(&o.commitPoll, "commit-poll", 2*time.Millisecond, "how often the ledger's last committed log is read")
	fs.DurationVar(&o.drainIdle, "drain-idle", 10*time.Second, "after the stop signal, give up waiting for missing events after this long without one")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	case o.ledger == "":
		return o, errors.New("-ledger is required")
	case o.driver != "postgres" && o.driver != "kafka":
		return o, fmt.Errorf("-bus %q: want postgres or kafka", o.driver)
	case o.driver == "kafka" && (o.brokers == "") == (o.kfakePort == 0):
		return o, errors.New("-bus kafka needs one of -kafka-brokers and -kfake-port")
	case o.commitPoll <= 0 || o.drainIdle <= 0 || o.partitions <= 0:
		return o, errors.New("-commit-poll, -drain-idle and -partitions must be positive")
	}
	return o, nil
}

// run consumes until ctx is done, drains, and writes the result to stdout.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	pool, err := pgxpool.New(context.Background(), o.uri)
	if err != nil {
		return err
	}
	defer pool.Close()
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()

	opts := bus.Options{Driver: o.driver, DB: db}
	if o.brokers != "" {
		opts.KafkaBrokers = strings.Split(o.brokers, ",")
	}
	if o.kfakePort != 0 {
		cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(o.kfakePort), kfake.SeedTopics(int32(o.partitions), o.topic))
		if err != nil {
			return fmt.Errorf("kfake on port %d: %w", o.kfakePort, err)
		}
		defer cluster.Close()
		opts.KafkaBrokers = cluster.ListenAddrs()
	}
	sub, err := bus.NewSubscriber(bus.SubscriberOptions{Options: opts, Group: "busbench", PollInterval: o.poll})
	if err != nil {
		return err
	}
	defer sub.Close()
	consumeCtx, stopConsuming := context.WithCancel(context.Background())
	defer stopConsuming()
	msgs, err := sub.Subscribe(consumeCtx, o.topic)
	if err != nil {
		return err
	}

	t := &tally{}
	watchDone := make(chan error, 1)
	go func() { watchDone <- watchCommits(consumeCtx, pool, o.ledger, o.commitPoll, t) }()
	fmt.Fprintf(stderr, "busbench: ready, consuming %s on %s %s\n", o.topic, o.driver, strings.Join(opts.KafkaBrokers, ","))

	prefix := o.ledger + "-"
	var (
		expected   int64 = -1 // known once ctx is done
		drainStart time.Time
	)
	check := time.NewTicker(100 * time.Millisecond)
	defer check.Stop()
	for {
		select {
		case msg := <-msgs:
			at := time.Now()
			msg.Ack()
			env, err := bus.Decode(msg)
			if err != nil {
				return err
			}
			if idText, ok := strings.CutPrefix(env.IdempotencyKey, prefix); ok {
				id, err := strconv.ParseInt(idText, 10, 64)
				if err != nil || id < 0 {
					return fmt.Errorf("event %q: bad log id", env.IdempotencyKey)
				}
				t.receive(id, env.Date, at)
			}
		case err := <-watchDone:
			return fmt.Errorf("watching commits: %w", err)
		case <-check.C:
			if ctx.Err() == nil {
				continue
			}
			if expected < 0 {
				if expected, err = countLogs(pool, o.ledger); err != nil {
					return err
				}
				drainStart = time.Now()
			}
			events, last := t.progress()
			if events >= expected || time.Since(latest(last, drainStart)) > o.drainIdle {
				stopConsuming()
				<-watchDone
				r := t.result(expected)
				r.Bus, r.Ledger = o.driver, o.ledger
				return json.NewEncoder(stdout).Encode(r)
			}
		}
	}
}

// latest is the later of a and b.
func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// watchCommits records in t, every interval, the last log id of the ledger
// visible in the database, until ctx is done.
func watchCommits(ctx context.Context, pool *pgxpool.Pool, ledger string, interval time.Duration, t *tally) error {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	logs := ""
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		if logs == "" {
			var bucket string
			err := pool.QueryRow(ctx, `SELECT bucket FROM _system.ledgers WHERE name = $1`, ledger).Scan(&bucket)
			if ctx.Err() != nil || errors.Is(err, pgx.ErrNoRows) || missingTable(err) {
				continue // not migrated or not created yet
			}
			if err != nil {
				return err
			}
			logs = pgx.Identifier{bucket, "logs"}.Sanitize()
		}
		var last int64
		err := pool.QueryRow(ctx, `SELECT coalesce(max(id), -1) FROM `+logs+` WHERE ledger = $1`, ledger).Scan(&last)
		if ctx.Err() != nil || missingTable(err) {
			continue // bucket not created yet
		}
		if err != nil {
			return err
		}
		t.commit(last, time.Now())
	}
}

// missingTable reports PostgreSQL's "relation does not exist".
func missingTable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "42P01"
}

// countLogs is the number of logs the ledger has: the events expected.
func countLogs(pool *pgxpool.Pool, ledger string) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var bucket string
	err := pool.QueryRow(ctx, `SELECT bucket FROM _system.ledgers WHERE name = $1`, ledger).Scan(&bucket)
	if errors.Is(err, pgx.ErrNoRows) || missingTable(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var n int64
	err = pool.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{bucket, "logs"}.Sanitize()+` WHERE ledger = $1`, ledger).Scan(&n)
	return n, err
}

package main

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/kontorhq/kontor/domain"
	"github.com/kontorhq/kontor/eventstore/outbox"
	"github.com/kontorhq/kontor/exporters"
	"github.com/kontorhq/kontor/platform/api"
	"github.com/kontorhq/kontor/platform/bus"
	"github.com/kontorhq/kontor/platform/config"
	"github.com/kontorhq/kontor/platform/logging"
	"github.com/kontorhq/kontor/platform/postgres"
	"github.com/kontorhq/kontor/platform/server"
	"github.com/kontorhq/kontor/projections"
)

// httpFlags are the settings of `kontor serve` that `kontor worker` has no
// use for: hidden from its help. (--bind stays: the worker serves its
// metrics and health there.)
var httpFlags = []string{"auth-enabled", "max-body-bytes", "region", "env", "worker"}

func newWorkerCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run the background workers without the HTTP API",
		Long: `Run Kontor's background workers alone: the outbox relay that publishes the
ledger's events (unless --bus none) and the pipelines runner that pushes
ledger logs to exporters. Run it next to API servers started with
--worker=false, or next to default ones: workers of several processes share
the work safely. It serves GET /metrics and GET /_healthcheck on --bind, and
stops gracefully on SIGINT or SIGTERM.`,
		Args: cobra.NoArgs,
	}
	cfg := config.Register(cmd.Flags())
	for _, name := range httpFlags {
		_ = cmd.Flags().MarkHidden(name)
	}
	cmd.RunE = listenAndRun(cfg, work)
	return cmd
}

// work runs the background workers until ctx is done, then stops them and
// returns nil. It serves their metrics and health on ln, when set, which
// it owns.
func work(ctx context.Context, cfg *config.Config, ln net.Listener, out io.Writer) error {
	slog.SetDefault(logging.New(out, cfg.LogLevel))
	if ln != nil {
		defer ln.Close()
	}
	pool, err := openDatabase(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	reg := newRegistry()
	w, err := startWorkers(ctx, cfg, pool, reg)
	if err != nil {
		return err
	}
	defer w.stop()
	slog.Info("kontor worker is running", "version", version, "bus", cfg.Bus)
	if ln == nil {
		<-ctx.Done()
	} else if err := server.Serve(ctx, ln, workerHandler(reg, pool), cfg.ShutdownTimeout); err != nil {
		return err
	}
	slog.Info("kontor worker is stopping")
	return nil
}

// workerHandler serves a worker's metrics and health.
func workerHandler(reg *prometheus.Registry, pool *pgxpool.Pool) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /_healthcheck", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if err := pool.Ping(ctx); err != nil {
			api.WriteError(w, r, &domain.Error{Code: domain.CodeUnavailable, Message: "the database does not answer: " + err.Error()})
			return
		}
		api.WriteJSON(w, http.StatusOK, map[string]any{})
	})
	return mux
}

// openDatabase connects to PostgreSQL and migrates it when cfg says so.
func openDatabase(ctx context.Context, cfg *config.Config) (*pgxpool.Pool, error) {
	pool, err := postgres.Open(ctx, cfg.PostgresURI)
	if err != nil {
		return nil, err
	}
	if cfg.AutoMigrate {
		applied, err := postgres.Migrate(ctx, pool)
		if err != nil {
			pool.Close()
			return nil, err
		}
		slog.Info("database migrated", "applied", len(applied))
	}
	return pool, nil
}

// workers are the background workers of one process: the outbox relay
// (when a bus is configured) and the pipelines runner.
type workers struct {
	notify    []func()
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	publisher message.Publisher
	db        *sql.DB
}

// startWorkers starts the workers on pool, their metrics registered on reg
// (none when nil).
func startWorkers(ctx context.Context, cfg *config.Config, pool *pgxpool.Pool, reg prometheus.Registerer) (*workers, error) {
	w := &workers{db: stdlib.OpenDBFromPool(pool)}
	runner, err := exporters.NewRunner(pool, projections.NewReader(pool), exporters.RunnerOptions{
		PageSize:     cfg.Worker.PipelinesLogsPageSize,
		PullInterval: cfg.Worker.PipelinesPullInterval,
		RetryPeriod:  cfg.Worker.PipelinesPushRetryPeriod,
		SyncInterval: cfg.Worker.PipelinesSyncPeriod,
		Registerer:   reg,
	})
	if err != nil {
		return nil, errors.Join(err, w.db.Close())
	}
	var relay *outbox.Relay
	if w.publisher, err = bus.NewPublisher(cfg.BusOptions(w.db)); err == nil && w.publisher != nil {
		relay, err = outbox.New(pool, outbox.Options{Publisher: w.publisher, Topics: cfg.Topics, Registerer: reg})
	}
	if err != nil {
		return nil, errors.Join(err, w.close())
	}

	ctx, w.cancel = context.WithCancel(ctx)
	w.run(ctx, "pipelines", runner.Run, runner.Notify)
	if relay != nil {
		w.run(ctx, "outbox relay", relay.Run, relay.Notify)
		slog.Info("publishing ledger events", "bus", cfg.Bus)
	}
	return w, nil
}

// run runs a worker until ctx is done; notify wakes it after a commit.
func (w *workers) run(ctx context.Context, name string, run func(context.Context) error, notify func()) {
	w.notify = append(w.notify, notify)
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		if err := run(ctx); err != nil {
			slog.Error("worker stopped", "worker", name, "error", err)
		}
	}()
}

// Notify wakes the workers after a commit; the event store calls it.
func (w *workers) Notify() {
	for _, notify := range w.notify {
		notify()
	}
}

// stop stops the workers, waits for them and releases what they used.
func (w *workers) stop() {
	w.cancel()
	w.wg.Wait()
	if err := w.close(); err != nil {
		slog.Warn("closing the workers", "error", err)
	}
}

func (w *workers) close() error {
	var err error
	if w.publisher != nil {
		err = w.publisher.Close()
	}
	return errors.Join(err, w.db.Close())
}

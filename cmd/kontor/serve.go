package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/kontorhq/kontor/eventstore"
	"github.com/kontorhq/kontor/exporters"
	"github.com/kontorhq/kontor/handlers/gateway"
	"github.com/kontorhq/kontor/handlers/ledgerv2"
	"github.com/kontorhq/kontor/platform/config"
	"github.com/kontorhq/kontor/platform/logging"
	"github.com/kontorhq/kontor/platform/server"
	"github.com/kontorhq/kontor/projections"
)

func newServeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the Kontor API server",
		Long: `Run the Kontor API server: every module under /api/<module>, GET /versions
and Prometheus /metrics. Every setting is a flag or a KONTOR_* environment
variable; a flag given on the command line wins.`,
		Args: cobra.NoArgs,
	}
	cfg := config.Register(cmd.Flags())
	cmd.RunE = listenAndRun(cfg, serve)
	return cmd
}

// listenAndRun is the RunE of a command that loads cfg, listens on --bind
// and runs until its context is done.
func listenAndRun(cfg *config.Config, run func(context.Context, *config.Config, net.Listener, io.Writer) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		if err := config.Load(cmd.Flags(), cfg, nil); err != nil {
			return err
		}
		ln, err := net.Listen("tcp", cfg.Bind)
		if err != nil {
			return fmt.Errorf("listen on %s: %w", cfg.Bind, err)
		}
		return run(cmd.Context(), cfg, ln, cmd.ErrOrStderr())
	}
}

// newRegistry returns the Prometheus registry of a process, with the Go
// runtime and process metrics.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// serve runs Kontor on ln until ctx is done. It owns ln.
func serve(ctx context.Context, cfg *config.Config, ln net.Listener, out io.Writer) error {
	defer ln.Close()
	slog.SetDefault(logging.New(out, cfg.LogLevel))
	if cfg.AuthEnabled {
		return fmt.Errorf("--auth-enabled: the auth module is not implemented yet; run without it")
	}

	pool, err := openDatabase(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	reg := newRegistry()
	var committed func()
	if cfg.Worker.Enabled {
		w, err := startWorkers(ctx, cfg, pool, reg)
		if err != nil {
			return err
		}
		defer w.stop()
		committed = w.Notify
	}
	store := eventstore.New(pool, eventstore.Options{Registerer: reg, Committed: committed})
	defer store.Close()
	v2 := ledgerv2.New(store, projections.NewReader(pool), version).WithPipelines(exporters.NewStore(pool))
	ledgerModule := ledgerv2.NewModule(v2, version, pool.Ping)
	handler := gateway.New(gateway.Options{
		Region:       cfg.Region,
		Env:          cfg.Env,
		MaxBodyBytes: cfg.MaxBodyBytes,
		Registry:     reg,
	}, ledgerModule)

	base := "http://" + ln.Addr().String()
	slog.Info("kontor is serving", "version", version, "address", base)
	fmt.Fprintf(out, "\nKontor %s is listening on %s\n  try: curl %s/versions\n\n", version, base, base)
	return server.Serve(ctx, ln, handler, cfg.ShutdownTimeout)
}

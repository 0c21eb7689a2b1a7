// Package gateway is Kontor's one HTTP entry point: it mounts every module
// under /api/<module> like the Formance gateway, and serves GET /versions,
// each module's /_info and /_healthcheck, and Prometheus /metrics.
package gateway

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kontorhq/kontor/domain"
	"github.com/kontorhq/kontor/handlers/middleware"
	"github.com/kontorhq/kontor/handlers/route"
	"github.com/kontorhq/kontor/platform/api"
)

// Modules lists the Formance modules, in the order /versions shows them.
var Modules = []string{"ledger", "payments", "wallets", "webhooks", "search", "orchestration", "reconciliation", "auth"}

// NotImplementedVersion is the version /versions reports for a module that
// Kontor does not serve yet.
const NotImplementedVersion = "not implemented"

// Module is one API served under /api/<Name>.
type Module interface {
	// Name is the module's path segment, one of Modules.
	Name() string
	// Version is what /_info and /versions report.
	Version() string
	// Mount adds the module's routes to r, whose paths are relative to
	// /api/<Name>.
	Mount(r *route.Router)
	// Health returns nil when the module can serve requests.
	Health(ctx context.Context) error
}

// Options configure the gateway.
type Options struct {
	Region, Env  string
	MaxBodyBytes int64
	Registry     *prometheus.Registry
}

// New returns the handler that serves every module.
func New(opts Options, modules ...Module) http.Handler {
	byName := map[string]Module{}
	for _, m := range modules {
		byName[m.Name()] = m
	}
	metrics := middleware.NewMetrics(opts.Registry)

	r := route.New(opts.MaxBodyBytes)
	r.Any("/", route.NotFound)
	r.Handle(http.MethodGet, "/metrics", promhttp.HandlerFor(opts.Registry, promhttp.HandlerOpts{}).ServeHTTP)
	r.Handle(http.MethodGet, "/versions", versions(opts, byName))

	for _, name := range Modules {
		sub := r.Prefix("/api/" + name)
		m, ok := byName[name]
		if !ok {
			sub.Any("", notImplemented(name))
			sub.Any("/", notImplemented(name))
			continue
		}
		sub.Handle(http.MethodGet, "/_info", info(m))
		sub.Handle(http.MethodGet, "/_healthcheck", healthcheck(m))
		m.Mount(sub)
	}
	return metrics.Handler(middleware.Recover(r.Mux()))
}

func notImplemented(module string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		api.WriteError(w, r, domain.Errorf(domain.CodeNotImplemented,
			"the %s module is not implemented in this version of Kontor", module))
	}
}

func info(m Module) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		api.WriteJSON(w, http.StatusOK, map[string]any{"version": m.Version()})
	}
}

func healthcheck(m Module) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if err := m.Health(ctx); err != nil {
			api.WriteError(w, r, &domain.Error{Code: domain.CodeUnavailable, Message: m.Name() + " is unhealthy: " + err.Error()})
			return
		}
		api.WriteJSON(w, http.StatusOK, map[string]any{})
	}
}

// Version is one entry of GET /versions.
type Version struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Health  bool   `json:"health"`
}

func versions(opts Options, byName map[string]Module) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		out := make([]Version, len(Modules))
		var wg sync.WaitGroup
		for i, name := range Modules {
			out[i] = Version{Name: name, Version: NotImplementedVersion}
			m, ok := byName[name]
			if !ok {
				continue
			}
			out[i].Version = m.Version()
			wg.Add(1)
			go func() {
				defer wg.Done()
				out[i].Health = m.Health(ctx) == nil
			}()
		}
		wg.Wait()
		api.WriteJSON(w, http.StatusOK, map[string]any{"region": opts.Region, "env": opts.Env, "versions": out})
	}
}

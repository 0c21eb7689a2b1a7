package ledgerv2

import (
	"context"
	"net/http"

	"github.com/kontorhq/kontor/domain"
	"github.com/kontorhq/kontor/handlers/route"
)

// Module is the ledger as the gateway mounts it under /api/ledger: the v2
// API under /v2; the v1 API answers 501 until it is built.
type Module struct {
	handler *Handler
	version string
	health  func(context.Context) error
}

// NewModule returns the ledger module; health reports whether its storage
// answers.
func NewModule(h *Handler, version string, health func(context.Context) error) *Module {
	return &Module{handler: h, version: version, health: health}
}

// Name implements gateway.Module.
func (m *Module) Name() string { return "ledger" }

// Version implements gateway.Module.
func (m *Module) Version() string { return m.version }

// Health implements gateway.Module.
func (m *Module) Health(ctx context.Context) error { return m.health(ctx) }

// Mount implements gateway.Module.
func (m *Module) Mount(r *route.Router) {
	m.handler.Mount(r.Prefix("/v2"))
	r.Any("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, domain.Errorf(domain.CodeNotImplemented,
			"%s %s is not implemented by this Kontor version (ledger v2 is served under /api/ledger/v2)", r.Method, r.URL.Path))
	})
}

// Package ledgerv2 serves the ledger v2 HTTP API (under /api/ledger/v2):
// it decodes and validates requests, calls the event store for writes and
// the projections for reads, and maps errors to the reference codes.
package ledgerv2

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/kontorhq/kontor/domain"
	"github.com/kontorhq/kontor/domain/ledger"
	"github.com/kontorhq/kontor/eventstore"
	"github.com/kontorhq/kontor/exporters"
	"github.com/kontorhq/kontor/handlers/route"
	"github.com/kontorhq/kontor/platform/api"
	"github.com/kontorhq/kontor/projections"
)

// statuses maps the ledger's error codes to HTTP statuses (spec §3.13).
var statuses = map[string]int{
	domain.CodeValidation:          http.StatusBadRequest,
	domain.CodeInsufficientFund:    http.StatusBadRequest,
	domain.CodeCompilationFailed:   http.StatusBadRequest,
	domain.CodeMetadataOverride:    http.StatusBadRequest,
	domain.CodeNoPostings:          http.StatusBadRequest,
	domain.CodeInterpreterParse:    http.StatusBadRequest,
	domain.CodeInterpreterRuntime:  http.StatusBadRequest,
	domain.CodeAlreadyRevert:       http.StatusBadRequest,
	domain.CodeLedgerAlreadyExists: http.StatusBadRequest,
	domain.CodeImport:              http.StatusBadRequest,
	domain.CodeConflict:            http.StatusConflict,
	domain.CodeNotFound:            http.StatusNotFound,
	domain.CodeLedgerNotFound:      http.StatusNotFound,
	domain.CodeBulkSizeExceeded:    http.StatusRequestEntityTooLarge,
	domain.CodeNotImplemented:      http.StatusNotImplemented,
	domain.CodeUnavailable:         http.StatusServiceUnavailable,
	domain.CodeInternal:            http.StatusInternalServerError,
}

// Handler serves the v2 API.
type Handler struct {
	store   *eventstore.Store
	reader  *projections.Reader
	version string
	scripts *scriptCache
	// pipelines, when set, serves the exporters and pipelines endpoints.
	pipelines *exporters.Store
}

// New returns the v2 handler on the given write and read sides; version is
// what GET /v2/_info reports.
func New(store *eventstore.Store, reader *projections.Reader, version string) *Handler {
	return &Handler{store: store, reader: reader, version: version, scripts: newScriptCache(maxCachedScripts)}
}

// Mount adds the v2 routes to r (paths relative to /v2); any other path
// under /v2 answers 404 NOT_FOUND.
func (h *Handler) Mount(r *route.Router) {
	h.mountWrites(r)
	h.mountReads(r)
	h.mountPipelines(r)
	for _, path := range []string{"/{ledger}/schemas", "/{ledger}/schemas/{version}", "/{ledger}/queries/{id}/run"} {
		r.Any(path, func(w http.ResponseWriter, r *http.Request) {
			writeError(w, r, domain.Errorf(domain.CodeNotImplemented,
				"%s %s: schemas and query templates are not implemented by this Kontor version", r.Method, r.URL.Path))
		})
	}
	r.Any("/", route.NotFound)
}

// writeError writes err with the ledger's status table.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	api.WriteErrorWith(w, r, err, statuses)
}

// ok writes {"data": v} with status. A transaction's own encoder output is
// wrapped as it is: encoding/json would only re-check it.
func ok(w http.ResponseWriter, r *http.Request, status int, v any) {
	if tx, isTx := v.(ledger.Transaction); isTx {
		body, _ := tx.MarshalJSON()
		write(w, r, status, dataEnvelope(body))
		return
	}
	respond(w, r, status, map[string]any{"data": v})
}

// respond writes the envelope as JSON with status, amounts as strings when
// the request carries Formance-Bigint-As-String.
func respond(w http.ResponseWriter, r *http.Request, status int, envelope any) {
	body, err := json.Marshal(envelope)
	if err != nil {
		writeError(w, r, err)
		return
	}
	write(w, r, status, body)
}

// dataEnvelope returns {"data":v} for the JSON v, with room for write's
// newline.
func dataEnvelope(v []byte) []byte {
	const open, end = `{"data":`, "}\n"
	b := make([]byte, 0, len(open)+len(v)+len(end))
	return append(append(append(b, open...), v...), '}')
}

// jsonContentType is the Content-Type header of every body write sends,
// shared: net/http only reads it.
var jsonContentType = []string{"application/json"}

// write sends a JSON body, amounts as strings when the request carries
// Formance-Bigint-As-String.
func write(w http.ResponseWriter, r *http.Request, status int, body []byte) {
	var err error
	if bigintAsString(r) {
		body, err = ledger.AmountsAsStrings(body)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

func bigintAsString(r *http.Request) bool {
	switch strings.ToLower(r.Header.Get("Formance-Bigint-As-String")) {
	case "true", "yes", "y", "1":
		return true
	}
	return false
}

// queryBool reads a boolean query parameter the reference's way: only "1"
// and "true" (any case) are true.
func queryBool(r *http.Request, name string) bool {
	if r.URL.RawQuery == "" {
		return false // most writes: nothing to parse
	}
	v := strings.ToLower(r.URL.Query().Get(name))
	return v == "1" || v == "true"
}

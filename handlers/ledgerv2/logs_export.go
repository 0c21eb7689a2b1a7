package ledgerv2

import (
	"log/slog"
	"net/http"
	"strconv"

	"github.com/kontorhq/kontor/domain"
	"github.com/kontorhq/kontor/handlers/route"
)

// mountLogs adds the log export, import and chain verification routes.
func (h *Handler) mountLogs(r *route.Router) {
	r.Handle(http.MethodPost, "/{ledger}/logs/export", h.exportLogs)
	r.Stream(http.MethodPost, "/{ledger}/logs/import", h.importLogs)
	r.Handle(http.MethodGet, "/{ledger}/logs/verify", h.verifyLogs)
}

// importLogs is POST /v2/{ledger}/logs/import: the body, an export (one
// log per line), is replayed into the ledger, which must have no logs; 204
// once every log is in, else nothing of it is (400 IMPORT names the log).
func (h *Handler) importLogs(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("ledger")
	n, err := h.store.Import(r.Context(), name, r.Body, func(done int) {
		if done%importProgressEvery == 0 {
			slog.InfoContext(r.Context(), "importing logs", "ledger", name, "imported", done)
		}
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	slog.InfoContext(r.Context(), "logs imported", "ledger", name, "logs", n)
	w.WriteHeader(http.StatusNoContent)
}

// importProgressEvery is about how many logs an import logs progress after.
const importProgressEvery = 100_000

// exportLogs is POST /v2/{ledger}/logs/export: every log, in id order, one
// JSON object per line (spec §3.10), streamed as application/octet-stream
// and flushed as it goes. An error before the first line is an error
// response; after it, the connection is aborted so that the client sees a
// truncated stream rather than a complete one.
func (h *Handler) exportLogs(w http.ResponseWriter, r *http.Request) {
	fw := &flushWriter{w: w, rc: http.NewResponseController(w)}
	n, err := h.reader.ExportLogs(r.Context(), r.PathValue("ledger"), fw)
	if err != nil {
		if !fw.started {
			writeError(w, r, err)
			return
		}
		slog.ErrorContext(r.Context(), "log export failed", "ledger", r.PathValue("ledger"), "exported", n, "error", err)
		panic(http.ErrAbortHandler)
	}
	fw.start()
}

// flushWriter writes the export to the response, sending the headers on
// the first write and flushing after every write (ExportLogs writes in
// buffered chunks, at least once per page).
type flushWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	started bool
}

func (f *flushWriter) start() {
	if !f.started {
		f.started = true
		f.w.Header().Set("Content-Type", "application/octet-stream")
		f.w.WriteHeader(http.StatusOK)
	}
}

func (f *flushWriter) Write(b []byte) (int, error) {
	f.start()
	n, err := f.w.Write(b)
	if err != nil {
		return n, err
	}
	_ = f.rc.Flush()
	return n, nil
}

// verifyLogs is GET /v2/{ledger}/logs/verify?from=&to=: re-computes the hash
// chain from the logs' data and reports the first break, if any.
func (h *Handler) verifyLogs(w http.ResponseWriter, r *http.Request) {
	from, err := logIDParam(r, "from")
	if err != nil {
		writeError(w, r, err)
		return
	}
	to, err := logIDParam(r, "to")
	if err != nil {
		writeError(w, r, err)
		return
	}
	if to != 0 && from > to {
		writeError(w, r, domain.Errorf(domain.CodeValidation, "to (%d) is before from (%d)", to, from))
		return
	}
	v, err := h.reader.VerifyLogs(r.Context(), r.PathValue("ledger"), from, to)
	if err != nil {
		writeError(w, r, err)
		return
	}
	ok(w, r, http.StatusOK, v)
}

// logIDParam reads an optional log id query parameter: absent is 0, else a
// positive integer.
func logIDParam(r *http.Request, name string) (uint64, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return 0, nil
	}
	id, err := strconv.ParseUint(s, 10, 63)
	if err != nil || id == 0 {
		return 0, domain.Errorf(domain.CodeValidation, "%s must be a positive log id, got %q", name, s)
	}
	return id, nil
}

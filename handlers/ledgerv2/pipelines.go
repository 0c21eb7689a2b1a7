package ledgerv2

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/kontorhq/kontor/domain"
	"github.com/kontorhq/kontor/exporters"
	"github.com/kontorhq/kontor/handlers/route"
	"github.com/kontorhq/kontor/platform/api"
)

// WithPipelines serves the exporters and pipelines endpoints from store
// (spec §3.12); without it they are not mounted. It returns h.
func (h *Handler) WithPipelines(store *exporters.Store) *Handler {
	h.pipelines = store
	return h
}

func (h *Handler) mountPipelines(r *route.Router) {
	if h.pipelines == nil {
		return
	}
	r.Handle(http.MethodGet, "/_/exporters", h.listExporters)
	r.Handle(http.MethodPost, "/_/exporters", h.createExporter)
	r.Handle(http.MethodGet, "/_/exporters/{exporterID}", h.getExporter)
	r.Handle(http.MethodPut, "/_/exporters/{exporterID}", h.updateExporter)
	r.Handle(http.MethodDelete, "/_/exporters/{exporterID}", h.deleteExporter)
	r.Handle(http.MethodGet, "/{ledger}/pipelines", h.listPipelines)
	r.Handle(http.MethodPost, "/{ledger}/pipelines", h.createPipeline)
	r.Handle(http.MethodGet, "/{ledger}/pipelines/{pipelineID}", h.getPipeline)
	r.Handle(http.MethodDelete, "/{ledger}/pipelines/{pipelineID}", h.pipelineAction(h.pipelines.DeletePipeline, http.StatusNoContent))
	r.Handle(http.MethodPost, "/{ledger}/pipelines/{pipelineID}/start", h.pipelineAction(h.pipelines.StartPipeline, http.StatusAccepted))
	r.Handle(http.MethodPost, "/{ledger}/pipelines/{pipelineID}/stop", h.pipelineAction(h.pipelines.StopPipeline, http.StatusAccepted))
	r.Handle(http.MethodPost, "/{ledger}/pipelines/{pipelineID}/reset", h.pipelineAction(h.pipelines.ResetPipeline, http.StatusAccepted))
}

// exporterRequest is the body of POST /_/exporters and PUT
// /_/exporters/{exporterID} (V2ExporterConfiguration).
func exporterRequest(r *http.Request) (exporters.Config, error) {
	var body struct {
		Driver string          `json:"driver"`
		Config json.RawMessage `json:"config"`
	}
	if err := api.DecodeJSON(r, &body, false); err != nil {
		return exporters.Config{}, err
	}
	return exporters.Config{Driver: body.Driver, Config: body.Config}, nil
}

func (h *Handler) createExporter(w http.ResponseWriter, r *http.Request) {
	cfg, err := exporterRequest(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	e, err := h.pipelines.CreateExporter(r.Context(), cfg)
	if err != nil {
		writeError(w, r, err)
		return
	}
	ok(w, r, http.StatusCreated, e)
}

func (h *Handler) listExporters(w http.ResponseWriter, r *http.Request) {
	page, err := offsetPage(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	list, err := h.pipelines.Exporters(r.Context(), page.Offset, page.PageSize)
	if err != nil {
		writeError(w, r, err)
		return
	}
	okCursor(w, r, pageCursor(page, list))
}

func (h *Handler) getExporter(w http.ResponseWriter, r *http.Request) {
	e, err := h.pipelines.Exporter(r.Context(), r.PathValue("exporterID"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	ok(w, r, http.StatusOK, e)
}

func (h *Handler) updateExporter(w http.ResponseWriter, r *http.Request) {
	cfg, err := exporterRequest(r)
	if err == nil {
		err = h.pipelines.UpdateExporter(r.Context(), r.PathValue("exporterID"), cfg)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	api.NoContent(w)
}

func (h *Handler) deleteExporter(w http.ResponseWriter, r *http.Request) {
	if err := h.pipelines.DeleteExporter(r.Context(), r.PathValue("exporterID")); err != nil {
		writeError(w, r, err)
		return
	}
	api.NoContent(w)
}

// pipelineLedger returns the request's ledger, LEDGER_NOT_FOUND when it
// does not exist.
func (h *Handler) pipelineLedger(r *http.Request) (string, error) {
	l, err := h.reader.Ledger(r.Context(), r.PathValue("ledger"))
	return l.Name, err
}

func (h *Handler) createPipeline(w http.ResponseWriter, r *http.Request) {
	var body struct {
		ExporterID string `json:"exporterID"`
	}
	name, err := h.pipelineLedger(r)
	if err == nil {
		err = api.DecodeJSON(r, &body, true)
	}
	if err == nil && body.ExporterID == "" {
		err = domain.Errorf(domain.CodeValidation, `exporterID is required: send {"exporterID":"<id of an exporter>"}`)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	p, err := h.pipelines.CreatePipeline(r.Context(), name, body.ExporterID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	ok(w, r, http.StatusCreated, p)
}

func (h *Handler) listPipelines(w http.ResponseWriter, r *http.Request) {
	page, err := offsetPage(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	name, err := h.pipelineLedger(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	list, err := h.pipelines.Pipelines(r.Context(), name, page.Offset, page.PageSize)
	if err != nil {
		writeError(w, r, err)
		return
	}
	okCursor(w, r, pageCursor(page, list))
}

func (h *Handler) getPipeline(w http.ResponseWriter, r *http.Request) {
	name, err := h.pipelineLedger(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	p, err := h.pipelines.Pipeline(r.Context(), name, r.PathValue("pipelineID"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	ok(w, r, http.StatusOK, p)
}

// pipelineAction serves a change of one pipeline (delete, start, stop,
// reset), answering status with no body.
func (h *Handler) pipelineAction(action func(ctx context.Context, ledger, id string) error, status int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name, err := h.pipelineLedger(r)
		if err == nil {
			err = action(r.Context(), name, r.PathValue("pipelineID"))
		}
		if err != nil {
			writeError(w, r, err)
			return
		}
		w.WriteHeader(status)
	}
}

// offsetCursor is the cursor of the exporters and pipelines lists: a page
// at an offset.
type offsetCursor struct {
	Offset   int `json:"offset"`
	PageSize int `json:"pageSize"`
}

// offsetPage reads the cursor and pageSize parameters of a list.
func offsetPage(r *http.Request) (offsetCursor, error) {
	size, err := api.PageSize(r)
	if err != nil {
		return offsetCursor{}, err
	}
	c := offsetCursor{PageSize: size}
	if token := r.URL.Query().Get("cursor"); token != "" {
		if err := api.DecodeCursor(token, &c); err != nil {
			return offsetCursor{}, err
		}
		if r.URL.Query().Get("pageSize") != "" {
			c.PageSize = size
		}
		if c.Offset < 0 || c.PageSize <= 0 || c.PageSize > api.MaxPageSize {
			return offsetCursor{}, domain.Errorf(domain.CodeValidation, "invalid cursor: offset %d, page size %d", c.Offset, c.PageSize)
		}
	}
	return c, nil
}

// pageCursor renders a page read at c, with the links to its neighbours.
func pageCursor[T any](c offsetCursor, page exporters.Page[T]) api.Cursor[T] {
	out := api.Cursor[T]{PageSize: c.PageSize, HasMore: page.HasMore, Data: page.Items}
	if page.HasMore {
		out.Next = api.EncodeCursor(offsetCursor{Offset: c.Offset + c.PageSize, PageSize: c.PageSize})
	}
	if c.Offset > 0 {
		out.Previous = api.EncodeCursor(offsetCursor{Offset: max(0, c.Offset-c.PageSize), PageSize: c.PageSize})
	}
	return out
}

package ledgerv2

import (
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/kontorhq/kontor/domain"
	"github.com/kontorhq/kontor/domain/ledger"
	"github.com/kontorhq/kontor/domain/query"
	"github.com/kontorhq/kontor/platform/api"
	"github.com/kontorhq/kontor/projections"
)

// listQuery reads the query of a list request (spec §3.2): from its cursor
// token, which only pageSize may override, or from its parameters, with
// the filter from the query parameter or the body; more reads the list's
// own parameters.
func listQuery(r *http.Request, schema query.Schema, more func(*projections.ListQuery) error) (projections.ListQuery, error) {
	size, err := api.PageSize(r)
	if err != nil {
		return projections.ListQuery{}, err
	}
	params := r.URL.Query()
	if token := params.Get("cursor"); token != "" {
		q, err := projections.DecodeCursor(token, schema)
		if params.Get("pageSize") != "" {
			q.PageSize = size
		}
		return q, err
	}
	q := projections.ListQuery{PageSize: size}
	if q.Filter, err = filter(r, schema); err != nil {
		return q, err
	}
	if q.PIT, err = dateParam(r, "pit"); err != nil {
		return q, err
	}
	if q.OOT, err = dateParam(r, "oot"); err != nil {
		return q, err
	}
	if q.Sort, err = projections.ParseSort(params.Get("sort")); err != nil {
		return q, err
	}
	for _, e := range params["expand"] {
		q.Expand = append(q.Expand, strings.Split(e, ",")...)
	}
	if more != nil {
		err = more(&q)
	}
	return q, err
}

// getQuery reads the parameters of a single transaction or account. Like
// the reference, expand is repeated, never split on commas.
func getQuery(r *http.Request) (projections.GetQuery, error) {
	pit, err := dateParam(r, "pit")
	return projections.GetQuery{PIT: pit, Expand: r.URL.Query()["expand"]}, err
}

// filter reads the request's filter: the JSON of the query parameter, or
// else the body.
func filter(r *http.Request, schema query.Schema) (query.Expr, error) {
	raw := []byte(r.URL.Query().Get("query"))
	if len(raw) == 0 && r.Body != nil {
		var err error
		if raw, err = io.ReadAll(r.Body); err != nil {
			return nil, err
		}
	}
	return query.Parse(raw, schema)
}

// dateParam reads an optional RFC3339 date parameter.
func dateParam(r *http.Request, name string) (*ledger.Time, error) {
	raw := r.URL.Query().Get(name)
	if raw == "" {
		return nil, nil
	}
	t, err := ledger.ParseTime(raw)
	if err != nil {
		return nil, domain.Errorf(domain.CodeValidation, "invalid %s: %s", name, domain.ErrorMessage(err))
	}
	return &t, nil
}

// okCursor writes {"cursor": c} with status 200.
func okCursor[T any](w http.ResponseWriter, r *http.Request, c api.Cursor[T]) {
	if c.Data == nil {
		c.Data = []T{}
	}
	respond(w, r, http.StatusOK, map[string]any{"cursor": c})
}

// writeCount answers a HEAD count: 204 with the Count header.
func writeCount(w http.ResponseWriter, n uint64) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Count", strconv.FormatUint(n, 10))
	w.WriteHeader(http.StatusNoContent)
}

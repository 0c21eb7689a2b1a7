// Package route registers Kontor's HTTP handlers on the standard library's
// ServeMux, under path prefixes. Every route reads its body through a size
// limit unless it streams, and a path that is served under other methods
// answers 405 in JSON, with an Allow header. Path parameters are read with
// Request.PathValue; Request.Pattern names the route that matched.
package route

import (
	"net/http"
	"slices"
	"strings"

	"github.com/kontorhq/kontor/domain"
	"github.com/kontorhq/kontor/platform/api"
)

// Router adds routes under a path prefix. Routers made by Prefix share
// their parent's mux.
type Router struct {
	t      *table
	prefix string
}

type table struct {
	mux   *http.ServeMux
	limit int64
	// methods holds, for each path registered for given methods, those
	// methods; anyMethod the paths registered for all methods.
	methods   map[string][]string
	anyMethod map[string]bool
	done      bool
}

// New returns a router on a new mux whose routes read at most limit bytes
// of body (Stream excepted).
func New(limit int64) *Router {
	return &Router{t: &table{mux: http.NewServeMux(), limit: limit, methods: map[string][]string{}, anyMethod: map[string]bool{}}}
}

// Prefix returns a router whose paths are relative to prefix.
func (r *Router) Prefix(prefix string) *Router { return &Router{t: r.t, prefix: r.prefix + prefix} }

// Handle serves method on path. A path's {name} segments match any one
// segment, read with Request.PathValue; a trailing {name...} matches the
// rest of the path. GET also serves HEAD unless HEAD has a route of its own.
func (r *Router) Handle(method, path string, h http.HandlerFunc) {
	r.add(method, path, limitBody(r.t.limit, h))
}

// Stream is Handle for a route that reads its body as a stream of any size
// (a log import): no limit applies.
func (r *Router) Stream(method, path string, h http.HandlerFunc) { r.add(method, path, h) }

// Any serves path for every method. A path ending in "/" serves every path
// below it that no other route serves.
func (r *Router) Any(path string, h http.HandlerFunc) {
	full := r.prefix + path
	r.t.anyMethod[full] = true
	r.t.mux.Handle(full, limitBody(r.t.limit, h))
}

// add registers h for method on path; a path ending in "/" serves only
// itself: only Any's serve a subtree.
func (r *Router) add(method, path string, h http.Handler) {
	full := r.prefix + path
	if strings.HasSuffix(full, "/") {
		full += "{$}"
	}
	r.t.methods[full] = append(r.t.methods[full], method)
	r.t.mux.Handle(method+" "+full, h)
}

// Mux returns the handler serving the routes; call it once every route is
// added, as it adds the 405 answers of the paths known then.
func (r *Router) Mux() http.Handler {
	if r.t.done {
		return r.t.mux
	}
	r.t.done = true
	// A path served for some methods answers 405 for the others. The mux
	// would, but in plain text, and only where no Any route serves the path;
	// a route without a method would conflict with the routes of more specific
	// paths ("/v2/_info" with "GET /v2/{ledger}"), so each method gets its own.
	for path, methods := range r.t.methods {
		if r.t.anyMethod[path] {
			continue
		}
		h := notAllowed(methods)
		for _, m := range standardMethods {
			if !slices.Contains(methods, m) && !(m == http.MethodHead && slices.Contains(methods, http.MethodGet)) {
				r.t.mux.Handle(m+" "+path, h)
			}
		}
	}
	return r.t.mux
}

var standardMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
	http.MethodPatch, http.MethodDelete, http.MethodOptions}

// NotFound answers a request no route serves: 404 NOT_FOUND.
func NotFound(w http.ResponseWriter, r *http.Request) {
	api.WriteError(w, r, domain.Errorf(domain.CodeNotFound, "no route for %s %s", r.Method, r.URL.Path))
}

// notAllowed answers a request whose path is served, but not for its method.
func notAllowed(methods []string) http.HandlerFunc {
	allow := slices.Clone(methods)
	if slices.Contains(allow, http.MethodGet) && !slices.Contains(allow, http.MethodHead) {
		allow = append(allow, http.MethodHead)
	}
	slices.Sort(allow)
	header := strings.Join(allow, ", ")
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", header)
		api.WriteJSON(w, http.StatusMethodNotAllowed, api.ErrorBody{
			ErrorCode:    domain.CodeValidation,
			ErrorMessage: "method " + r.Method + " is not allowed on " + r.URL.Path + ": use " + header,
		})
	}
}

// limitBody rejects bodies longer than limit bytes with 413: at once when
// the request declares its length, else when the handler reads past it.
func limitBody(limit int64, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > limit {
			api.WriteError(w, r, &http.MaxBytesError{Limit: limit})
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		next(w, r)
	}
}

package middleware

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/mux"
)

func TestLimitBodySparesStreamingRoutes(t *testing.T) {
	r := mux.NewRouter()
	r.Use(LimitBody(10))
	echo := func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
			return
		}
		_, _ = w.Write(b)
	}
	r.HandleFunc("/small", echo)
	Streaming(r.HandleFunc("/stream", echo), "stream")
	body := strings.Repeat("x", 100)
	for _, c := range []struct {
		path    string
		chunked bool
		status  int
	}{
		{"/small", false, http.StatusRequestEntityTooLarge},
		{"/small", true, http.StatusRequestEntityTooLarge},
		{"/stream", false, http.StatusOK},
		{"/stream", true, http.StatusOK},
	} {
		req := httptest.NewRequest(http.MethodPost, c.path, strings.NewReader(body))
		if c.chunked {
			req.ContentLength = -1
		}
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		if rec.Code != c.status || (c.status == http.StatusOK && rec.Body.String() != body) {
			t.Errorf("%s (chunked %v): %d %q", c.path, c.chunked, rec.Code, rec.Body.String())
		}
	}
}

// Package api holds what every Kontor HTTP API shares: the reference response
// envelopes, the error body, cursors and request decoding.
package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/kontorhq/kontor/domain"
)

// ErrorBody is the reference error response. The Formance SDKs read
// details as a string, so structured details travel JSON-encoded in it.
type ErrorBody struct {
	ErrorCode    string `json:"errorCode"`
	ErrorMessage string `json:"errorMessage"`
	Details      string `json:"details,omitempty"`
}

// detailsString renders error details for ErrorBody: a string as it is,
// anything else as its JSON.
func detailsString(details any) string {
	switch d := details.(type) {
	case nil:
		return ""
	case string:
		return d
	default:
		b, err := json.Marshal(d)
		if err != nil {
			return ""
		}
		return string(b)
	}
}

// Cursor is the reference list envelope's inner object.
type Cursor[T any] struct {
	PageSize int    `json:"pageSize"`
	HasMore  bool   `json:"hasMore"`
	Previous string `json:"previous,omitempty"`
	Next     string `json:"next,omitempty"`
	Data     []T    `json:"data"`
}

// Statuses maps error codes to HTTP statuses for codes every API shares.
// An API with other codes passes its own table to WriteErrorWith.
var Statuses = map[string]int{
	domain.CodeValidation:     http.StatusBadRequest,
	domain.CodeNotFound:       http.StatusNotFound,
	domain.CodeConflict:       http.StatusConflict,
	domain.CodeInternal:       http.StatusInternalServerError,
	domain.CodeNotImplemented: http.StatusNotImplemented,
	domain.CodeUnavailable:    http.StatusServiceUnavailable,
}

// WriteJSON writes v as JSON with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		slog.Debug("write response", "error", err)
	}
}

// Ok writes {"data": v} with status 200.
func Ok(w http.ResponseWriter, v any) { WriteJSON(w, http.StatusOK, map[string]any{"data": v}) }

// Created writes {"data": v} with status 201.
func Created(w http.ResponseWriter, v any) {
	WriteJSON(w, http.StatusCreated, map[string]any{"data": v})
}

// NoContent writes an empty 204.
func NoContent(w http.ResponseWriter) { w.WriteHeader(http.StatusNoContent) }

// WriteCursor writes {"cursor": c} with status 200.
func WriteCursor[T any](w http.ResponseWriter, c Cursor[T]) {
	if c.Data == nil {
		c.Data = []T{}
	}
	WriteJSON(w, http.StatusOK, map[string]any{"cursor": c})
}

// WriteError writes err with the shared status table.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	WriteErrorWith(w, r, err, Statuses)
}

// WriteErrorWith writes err as the reference error body, its status taken
// from statuses (unknown codes are 400 when the error is a domain error,
// 500 otherwise). Internal errors are logged and their text is never sent.
func WriteErrorWith(w http.ResponseWriter, r *http.Request, err error, statuses map[string]int) {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		WriteJSON(w, http.StatusRequestEntityTooLarge, ErrorBody{
			ErrorCode:    domain.CodeValidation,
			ErrorMessage: fmt.Sprintf("request body too large: the limit is %d bytes", tooLarge.Limit),
		})
		return
	}
	var de *domain.Error
	if !errors.As(err, &de) {
		slog.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "error", err)
		WriteJSON(w, http.StatusInternalServerError, ErrorBody{
			ErrorCode:    domain.CodeInternal,
			ErrorMessage: domain.ErrorMessage(err),
		})
		return
	}
	status, ok := statuses[de.Code]
	if !ok {
		status = http.StatusBadRequest
	}
	if status >= 500 && status != http.StatusNotImplemented {
		slog.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	WriteJSON(w, status, ErrorBody{ErrorCode: de.Code, ErrorMessage: de.Message, Details: detailsString(de.Details)})
}

// DecodeJSON reads the request body into v. An empty body leaves v as it is
// when allowEmpty; malformed JSON, trailing data or an empty body otherwise
// give a VALIDATION error, and a body over the server's limit gives the
// *http.MaxBytesError that WriteError turns into a 413.
func DecodeJSON(r *http.Request, v any, allowEmpty bool) error {
	dec := json.NewDecoder(r.Body)
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			return err
		case errors.Is(err, io.EOF):
			if allowEmpty {
				return nil
			}
			return domain.Errorf(domain.CodeValidation, "request body is empty: a JSON object is required")
		default:
			return domain.Errorf(domain.CodeValidation, "malformed JSON body: %s", describe(err))
		}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return err
		}
		return domain.Errorf(domain.CodeValidation, "malformed JSON body: unexpected data after the JSON value")
	}
	return nil
}

func describe(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("%s (at byte %d)", syntax.Error(), syntax.Offset)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return fmt.Sprintf("field %q must be %s, not %s", typ.Field, typ.Type, typ.Value)
		}
		return fmt.Sprintf("expected %s, not %s", typ.Type, typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected end of input"
	default:
		return err.Error()
	}
}

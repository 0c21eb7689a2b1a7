package api

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/kontorhq/kontor/domain"
)

// Page sizes of the reference lists.
const (
	DefaultPageSize = 15
	MaxPageSize     = 100
)

// EncodeCursor renders a list query as the reference cursor token:
// base64url (unpadded) of its JSON.
func EncodeCursor(query any) string {
	b, err := json.Marshal(query)
	if err != nil {
		panic("api: cursor query must marshal: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor reads a cursor token back into query.
func DecodeCursor(token string, query any) error {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err == nil {
		err = json.Unmarshal(b, query)
	}
	if err != nil {
		return domain.Errorf(domain.CodeValidation, "invalid cursor: %v", err)
	}
	return nil
}

// PageSize reads the pageSize query parameter: DefaultPageSize when absent,
// clamped to MaxPageSize, VALIDATION when not a positive integer.
func PageSize(r *http.Request) (int, error) {
	raw := r.URL.Query().Get("pageSize")
	if raw == "" {
		return DefaultPageSize, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 0 {
		return 0, domain.Errorf(domain.CodeValidation, "pageSize must be a non-negative integer, got %q", raw)
	}
	if n == 0 {
		return DefaultPageSize, nil
	}
	return min(n, MaxPageSize), nil
}

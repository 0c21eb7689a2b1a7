package ledger

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/kontorhq/kontor/domain"
)

// MaxIdempotencyKeyLength is the longest idempotency key, in characters
// (the reference column is varchar(255)).
const MaxIdempotencyKeyLength = 255

// IdempotencyHash returns the fingerprint of a request stored with its
// idempotency key: base64url (padded) of the SHA-256 of the request's
// canonical JSON (see CanonicalJSON). v is the request as the API received
// it, after decoding, e.g. a struct with JSON tags. It panics if v cannot be
// encoded as JSON, which is a programming error.
func IdempotencyHash(v any) string {
	canonical, err := CanonicalJSON(v)
	if err != nil {
		panic("ledger: idempotency hash of a value JSON cannot encode: " + err.Error())
	}
	sum := sha256.Sum256(canonical)
	return base64.URLEncoding.EncodeToString(sum[:])
}

// CanonicalJSON encodes v as JSON in a form that depends on its content
// only: object keys sorted, no insignificant whitespace, no HTML escaping,
// and members whose value is null, {} or [] left out (so that an absent
// field and an empty one hash alike). Numbers are kept as written.
func CanonicalJSON(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(prune(tree)); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(out.Bytes(), []byte("\n")), nil
}

// prune drops null, {} and [] members from objects, recursively.
func prune(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			child = prune(child)
			if isEmptyJSON(child) {
				delete(v, k)
				continue
			}
			v[k] = child
		}
	case []any:
		for i, child := range v {
			v[i] = prune(child)
		}
	}
	return v
}

func isEmptyJSON(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case map[string]any:
		return len(v) == 0
	case []any:
		return len(v) == 0
	}
	return false
}

// ValidateIdempotencyKey returns a VALIDATION error when ik cannot be
// stored and hashed like the reference does: longer than 255 characters,
// not UTF-8, holding a NUL, or holding a backslash that Postgres's bytea
// cast refuses (only `\\` and `\ooo` octal escapes are accepted). The empty
// key means "no key" and is valid.
func ValidateIdempotencyKey(ik string) error {
	switch {
	case utf8.RuneCountInString(ik) > MaxIdempotencyKeyLength:
		return domain.Errorf(domain.CodeValidation, "idempotency key is longer than %d characters", MaxIdempotencyKeyLength)
	case !utf8.ValidString(ik):
		return domain.Errorf(domain.CodeValidation, "idempotency key is not valid UTF-8")
	case strings.IndexByte(ik, 0) >= 0:
		return domain.Errorf(domain.CodeValidation, "idempotency key contains a NUL character")
	}
	if _, ok := appendByteaText(nil, ik); !ok {
		return domain.Errorf(domain.CodeValidation, "idempotency key has a backslash not followed by a backslash or three octal digits")
	}
	return nil
}

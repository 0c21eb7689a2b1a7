package ledgerv2

import (
	"bytes"
	"io"
	"math/big"
	"net/http"
	"unicode/utf8"

	"github.com/kontorhq/kontor/domain/ledger"
	"github.com/kontorhq/kontor/platform/api"
)

// decodeTransactionRequest decodes the body of POST /transactions. Most
// bodies are postings, maybe with metadata, a reference or force, written
// plainly: those are read by quickTransactionRequest, several times faster
// than encoding/json; any other body — other fields, escapes, nulls,
// numbers that are not plain integers, malformed JSON — goes through
// api.DecodeJSON, which gives the same result and the usual errors.
func decodeTransactionRequest(r *http.Request, body *transactionRequest) error {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return err // too large: api.WriteError answers 413
	}
	if quick, ok := quickTransactionRequest(raw); ok {
		*body = quick
		return nil
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
	return api.DecodeJSON(r, body, false)
}

// quickTransactionRequest reads b when it is an object of the fields
// postings, metadata, reference and force only, each at most once, with
// strings without escapes and amounts as plain integers; ok is false
// otherwise.
func quickTransactionRequest(b []byte) (req transactionRequest, ok bool) {
	s := scanner{b: b}
	var seen fields
	ok = s.object(func(key string) bool {
		if !seen.first(key, "postings", "metadata", "reference", "force") {
			return false
		}
		switch key {
		case "postings":
			req.Postings = ledger.Postings{}
			return s.array(func() bool {
				p, ok := s.posting()
				req.Postings = append(req.Postings, p)
				return ok
			})
		case "metadata":
			req.Metadata = ledger.Metadata{}
			return s.object(func(k string) bool {
				v, ok := s.string()
				req.Metadata[k] = v
				return ok
			})
		case "reference":
			var ok bool
			req.Reference, ok = s.string()
			return ok
		case "force":
			return s.boolean(&req.Force)
		}
		return false // unreachable: first accepts the four fields only
	})
	s.space()
	return req, ok && s.i == len(b)
}

// fields records which of an object's known fields were read.
type fields uint8

// first reports whether key is one of known, met for the first time.
func (f *fields) first(key string, known ...string) bool {
	for i, k := range known {
		if k == key {
			bit := fields(1) << i
			seen := *f&bit != 0
			*f |= bit
			return !seen
		}
	}
	return false
}

// scanner reads the plain JSON quickTransactionRequest accepts.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) space() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\n' || s.b[s.i] == '\r' || s.b[s.i] == '\t') {
		s.i++
	}
}

// next skips spaces and reports whether the next byte is c, taking it.
func (s *scanner) next(c byte) bool {
	s.space()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// string reads a string without escapes or control characters, in UTF-8.
func (s *scanner) string() (string, bool) {
	if !s.next('"') {
		return "", false
	}
	start := s.i
	ascii := true
	for ; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '"':
			str := s.b[start:s.i]
			s.i++
			if !ascii && !utf8.Valid(str) {
				return "", false
			}
			return string(str), true
		case c == '\\' || c < 0x20:
			return "", false
		case c >= 0x80:
			ascii = false
		}
	}
	return "", false
}

// object reads {"key": value, ...}, each value read by field.
func (s *scanner) object(field func(key string) bool) bool {
	if !s.next('{') {
		return false
	}
	if s.next('}') {
		return true
	}
	for {
		key, ok := s.string()
		if !ok || !s.next(':') || !field(key) {
			return false
		}
		if s.next('}') {
			return true
		}
		if !s.next(',') {
			return false
		}
	}
}

// array reads [value, ...], each value read by elem.
func (s *scanner) array(elem func() bool) bool {
	if !s.next('[') {
		return false
	}
	if s.next(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if s.next(']') {
			return true
		}
		if !s.next(',') {
			return false
		}
	}
}

func (s *scanner) boolean(v *bool) bool {
	s.space()
	for _, lit := range []string{"true", "false"} {
		if bytes.HasPrefix(s.b[s.i:], []byte(lit)) {
			s.i += len(lit)
			*v = lit == "true"
			return true
		}
	}
	return false
}

// integer reads -?(0|[1-9][0-9]*).
func (s *scanner) integer() (*big.Int, bool) {
	s.space()
	start := s.i
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	digits := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	if s.i == digits || (s.b[digits] == '0' && s.i > digits+1) {
		return nil, false
	}
	if s.i < len(s.b) && (s.b[s.i] == '.' || s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		return nil, false
	}
	return new(big.Int).SetString(string(s.b[start:s.i]), 10)
}

// posting reads {"source","destination","amount","asset"}, each once.
func (s *scanner) posting() (ledger.Posting, bool) {
	var p ledger.Posting
	var seen fields
	ok := s.object(func(key string) bool {
		if !seen.first(key, "source", "destination", "asset", "amount") {
			return false
		}
		var ok bool
		switch key {
		case "source":
			p.Source, ok = s.string()
		case "destination":
			p.Destination, ok = s.string()
		case "asset":
			p.Asset, ok = s.string()
		case "amount":
			p.Amount, ok = s.integer()
		}
		return ok
	})
	return p, ok
}

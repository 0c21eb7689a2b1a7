package ledger

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"

	"github.com/kontorhq/kontor/domain"
)

// HashMemento returns the hash the reference's Postgres trigger gives a log
// whose memento bytes, type, date and idempotency key are given, chained on
// previous (nil or empty for the first log of a ledger). It is
// sha256 of:
//
//	"<base64std(previous)>"\n         (only when previous is set)
//	{"type":"<type>","data":<memento>,"date":"<date>Z","idempotencyKey":"<ik>","id":0,"hash":null}\n
//
// with the trigger's quirks: the id is always 0 and the hash null, the
// schema version is not covered, and type and idempotency key are pasted
// without JSON escaping, the key going through Postgres's text-to-bytea
// cast (`\\` becomes `\`, `\ooo` an octal byte; see ValidateIdempotencyKey).
func HashMemento(previous []byte, typ LogType, memento []byte, date Time, idempotencyKey string) []byte {
	return hashMemento(previous, typ, date, idempotencyKey, len(memento),
		func(b []byte) []byte { return append(b, memento...) })
}

// hashMemento is HashMemento for a memento that appendMemento appends, of
// about size bytes: the hashed bytes are rendered into one buffer.
func hashMemento(previous []byte, typ LogType, date Time, idempotencyKey string, size int,
	appendMemento func([]byte) []byte) []byte {
	buf := make([]byte, 0, 128+size+len(idempotencyKey))
	if len(previous) > 0 {
		buf = append(buf, '"')
		buf = base64.StdEncoding.AppendEncode(buf, previous)
		buf = append(buf, "\"\n"...)
	}
	buf = append(buf, `{"type":"`...)
	buf = append(buf, typ...)
	buf = append(buf, `","data":`...)
	buf = appendMemento(buf)
	buf = append(buf, `,"date":"`...)
	buf = appendPostgresTimestamp(buf, date)
	buf = append(buf, `Z","idempotencyKey":"`...)
	buf, _ = appendByteaText(buf, idempotencyKey)
	buf = append(buf, `","id":0,"hash":null}`+"\n"...)
	sum := sha256.Sum256(buf)
	return sum[:]
}

// appendPostgresTimestamp appends t the way Postgres prints a timestamp in
// JSON: UTC, microseconds with trailing zeros trimmed, no zone.
func appendPostgresTimestamp(b []byte, t Time) []byte {
	return NewTime(t.Time).Time.AppendFormat(b, "2006-01-02T15:04:05.999999")
}

// appendByteaText appends the bytes Postgres's escape-format bytea input
// makes of s: `\\` is one backslash and `\ooo` (first digit 0-3) an octal
// byte. It reports false when s holds another backslash, which Postgres
// refuses; such a backslash is appended as it is.
func appendByteaText(b []byte, s string) ([]byte, bool) {
	ok := true
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b = append(b, s[i])
			continue
		}
		switch {
		case i+1 < len(s) && s[i+1] == '\\':
			b = append(b, '\\')
			i++
		case isByteaOctal(s[i+1:]):
			b = append(b, (s[i+1]-'0')<<6|(s[i+2]-'0')<<3|(s[i+3]-'0'))
			i += 3
		default:
			b = append(b, '\\')
			ok = false
		}
	}
	return b, ok
}

// isByteaOctal reports whether s starts with an octal byte escape body.
func isByteaOctal(s string) bool {
	return len(s) >= 3 && '0' <= s[0] && s[0] <= '3' && '0' <= s[1] && s[1] <= '7' && '0' <= s[2] && s[2] <= '7'
}

// ComputeHash returns the log's hash chained on previous (nil for the first
// log), byte-compatible with the reference. Neither the log's ID, Hash nor
// SchemaVersion are covered.
func (l Log) ComputeHash(previous []byte) ([]byte, error) {
	if created, ok := l.Data.(CreatedTransaction); ok {
		// The memento goes straight into the hashed bytes.
		return hashMemento(previous, l.Type(), l.Date, l.IdempotencyKey, 512, created.appendMemento), nil
	}
	memento, err := l.Memento()
	if err != nil {
		return nil, err
	}
	return HashMemento(previous, l.Type(), memento, l.Date, l.IdempotencyKey), nil
}

// Chain hash-chains a ledger's logs in id order. The zero Chain starts a
// new ledger; NewChain resumes after a stored log.
type Chain struct {
	last []byte
}

// NewChain returns a chain whose next log links to last, the hash of the
// ledger's latest log (nil when it has none).
func NewChain(last []byte) *Chain {
	return &Chain{last: last}
}

// Last returns the hash the next log will link to.
func (c *Chain) Last() []byte {
	return c.last
}

// Append computes l's hash, stores it in l.Hash and makes l the last link.
func (c *Chain) Append(l *Log) error {
	hash, err := l.ComputeHash(c.last)
	if err != nil {
		return err
	}
	l.Hash = hash
	c.last = hash
	return nil
}

// ChainBreak is the Details of the error Chain.Verify returns: the log
// whose stored hash (Got) differs from the recomputed one (Expected).
type ChainBreak struct {
	LogID    uint64 `json:"logId"`
	Expected []byte `json:"expected"`
	Got      []byte `json:"got"`
}

// Verify recomputes l's hash on the last link and compares it with l.Hash.
// On a mismatch it returns an IMPORT error, "invalid hash, expected X got Y
// for log N" like the reference, with a ChainBreak as details. Either way
// l's stored hash becomes the last link, so that one bad log does not make
// every later one fail.
func (c *Chain) Verify(l Log) error {
	expected, err := l.ComputeHash(c.last)
	if err != nil {
		return err
	}
	c.last = l.Hash
	if !bytes.Equal(expected, l.Hash) {
		return &domain.Error{
			Code: domain.CodeImport,
			Message: fmt.Sprintf("invalid hash, expected %s got %s for log %d",
				base64.StdEncoding.EncodeToString(expected), base64.StdEncoding.EncodeToString(l.Hash), l.ID),
			Details: ChainBreak{LogID: l.ID, Expected: expected, Got: l.Hash},
		}
	}
	return nil
}

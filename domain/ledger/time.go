package ledger

import (
	"encoding/json"
	"time"

	"github.com/kontorhq/kontor/domain"
)

// Time is an instant in UTC with microsecond precision, the resolution of a
// Postgres timestamp. Its JSON form is RFC3339Nano with trailing fractional
// zeros trimmed, like the reference: "2024-01-02T03:04:05.12Z".
type Time struct {
	time.Time
}

// NewTime converts t to UTC and rounds it to the microsecond.
func NewTime(t time.Time) Time {
	return Time{t.UTC().Round(time.Microsecond)}
}

// Now returns the current time as a Time.
func Now() Time {
	return NewTime(time.Now())
}

// ParseTime parses an RFC3339 date with any offset and an optional fraction,
// and returns it in UTC rounded to the microsecond. A malformed date is a
// VALIDATION error.
func ParseTime(s string) (Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return Time{}, domain.Errorf(domain.CodeValidation, "invalid date %q: expected RFC3339, like 2024-01-02T03:04:05Z", s)
	}
	return NewTime(t), nil
}

// String returns the RFC3339Nano form of t in UTC, trailing zeros trimmed.
func (t Time) String() string {
	return string(t.appendFormat(nil))
}

func (t Time) appendFormat(b []byte) []byte {
	return NewTime(t.Time).Time.AppendFormat(b, time.RFC3339Nano)
}

// MarshalJSON renders t as a JSON string; the zero Time is
// "0001-01-01T00:00:00Z".
func (t Time) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, len(time.RFC3339Nano)+2)
	b = append(b, '"')
	b = t.appendFormat(b)
	return append(b, '"'), nil
}

// UnmarshalJSON parses an RFC3339 JSON string; null leaves t unchanged.
func (t *Time) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return domain.Errorf(domain.CodeValidation, "invalid date %s: expected a JSON string", b)
	}
	return t.UnmarshalText([]byte(s))
}

// MarshalText renders t like String.
func (t Time) MarshalText() ([]byte, error) {
	return t.appendFormat(nil), nil
}

// UnmarshalText parses an RFC3339 date like ParseTime.
func (t *Time) UnmarshalText(b []byte) error {
	parsed, err := ParseTime(string(b))
	if err != nil {
		return err
	}
	*t = parsed
	return nil
}

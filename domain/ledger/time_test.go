package ledger

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/kontorhq/kontor/domain"
)

func TestTimeJSON(t *testing.T) {
	for _, tc := range []struct {
		in   time.Time
		want string
	}{
		{time.Time{}, `"0001-01-01T00:00:00Z"`},
		{time.Date(2024, 1, 2, 3, 4, 5, 120_000_000, time.UTC), `"2024-01-02T03:04:05.12Z"`},
		{time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), `"2024-01-02T03:04:05Z"`},
		{time.Date(2026, 11, 21, 13, 20, 49, 397_432_000, time.UTC), `"2026-11-21T13:20:49.397432Z"`},
		// Rounded to the microsecond, half up.
		{time.Date(2024, 1, 2, 3, 4, 5, 123_456_500, time.UTC), `"2024-01-02T03:04:05.123457Z"`},
		{time.Date(2024, 1, 2, 3, 4, 5, 999_999_600, time.UTC), `"2024-01-02T03:04:06Z"`},
		// Converted to UTC.
		{time.Date(2024, 1, 2, 4, 4, 5, 0, time.FixedZone("CET", 3600)), `"2024-01-02T03:04:05Z"`},
	} {
		// NewTime and a Time built by hand render alike.
		for _, v := range []Time{NewTime(tc.in), {tc.in}} {
			got, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("%v: got %s, want %s", tc.in, got, tc.want)
			}
		}
	}
}

func TestParseTime(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"2024-01-02T03:04:05Z", "2024-01-02T03:04:05Z"},
		{"2024-01-02T03:04:05.120000Z", "2024-01-02T03:04:05.12Z"},
		{"2024-01-02T05:04:05.5+02:00", "2024-01-02T03:04:05.5Z"},
		{"2024-01-01T23:30:00-04:30", "2024-01-02T04:00:00Z"},
		{"2024-01-02T03:04:05.1234567Z", "2024-01-02T03:04:05.123457Z"},
		{"2024-01-02T03:04:05.123456789Z", "2024-01-02T03:04:05.123457Z"},
	} {
		got, err := ParseTime(tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if got.String() != tc.want || got.Location() != time.UTC {
			t.Errorf("%s: got %s (%v), want %s", tc.in, got, got.Location(), tc.want)
		}
	}
	for _, bad := range []string{"", "2024-01-02", "2024-01-02 03:04:05Z", "2024-01-02T03:04:05", "yesterday", "1704164645"} {
		if _, err := ParseTime(bad); domain.ErrorCode(err) != domain.CodeValidation {
			t.Errorf("%q: err = %v, want VALIDATION", bad, err)
		}
	}
}

func TestTimeUnmarshal(t *testing.T) {
	var v struct {
		A Time  `json:"a"`
		B Time  `json:"b"`
		C *Time `json:"c"`
	}
	v.B = mustTime(t, "2024-01-02T03:04:05Z")
	if err := json.Unmarshal([]byte(`{"a":"2024-01-02T04:04:05.000001+01:00","b":null,"c":null}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.A.String() != "2024-01-02T03:04:05.000001Z" || v.B.String() != "2024-01-02T03:04:05Z" || v.C != nil {
		t.Fatalf("got %+v", v)
	}
	for _, bad := range []string{`{"a":12}`, `{"a":"12"}`, `{"a":true}`} {
		if err := json.Unmarshal([]byte(bad), &v); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	text, _ := mustTime(t, "2024-01-02T03:04:05.5Z").MarshalText()
	var back Time
	if err := back.UnmarshalText(text); err != nil || string(text) != "2024-01-02T03:04:05.5Z" || !back.Equal(mustTime(t, "2024-01-02T03:04:05.5Z").Time) {
		t.Fatalf("text round trip: %s %v %v", text, back, err)
	}
	if now := Now(); now.Location() != time.UTC || now.Nanosecond()%1000 != 0 {
		t.Fatalf("Now() = %v", now)
	}
}

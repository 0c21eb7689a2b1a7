package consumers

import "time"

// Retry bounds the attempts of a failing handler within one delivery: the
// pause before attempt n+1 is Initial·Multiplier^(n-1), capped at Max. After
// Attempts failures the message is nacked and the transport delivers it
// again (after its resend interval), so an event is never dropped; keep the
// total well under the transport's ack deadline (30 s for postgres).
type Retry struct {
	// Attempts is the number of handler calls per delivery (default 5).
	Attempts int
	// Initial is the first pause (default 100 ms).
	Initial time.Duration
	// Max caps the pause (default 5 s).
	Max time.Duration
	// Multiplier grows the pause (default 2).
	Multiplier float64
}

// Default retry settings, used for the zero fields of Retry.
const (
	DefaultRetryAttempts   = 5
	DefaultRetryInitial    = 100 * time.Millisecond
	DefaultRetryMax        = 5 * time.Second
	DefaultRetryMultiplier = 2.0
)

func (r Retry) withDefaults() Retry {
	if r.Attempts <= 0 {
		r.Attempts = DefaultRetryAttempts
	}
	if r.Initial <= 0 {
		r.Initial = DefaultRetryInitial
	}
	if r.Max <= 0 {
		r.Max = DefaultRetryMax
	}
	if r.Max < r.Initial {
		r.Max = r.Initial
	}
	if r.Multiplier < 1 {
		r.Multiplier = DefaultRetryMultiplier
	}
	return r
}

// delay is the pause after the attempt-th failure (attempt ≥ 1).
func (r Retry) delay(attempt int) time.Duration {
	d := float64(r.Initial)
	for i := 1; i < attempt && d < float64(r.Max); i++ {
		d *= r.Multiplier
	}
	return min(time.Duration(d), r.Max)
}

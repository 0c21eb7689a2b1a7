package main

import (
	"io"
	"math"
	"strings"
	"testing"
	"time"
)

func TestTally(t *testing.T) {
	t0 := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	var ty tally
	ty.commit(1, ms(0))  // logs 0 and 1 committed at 0 ms
	ty.commit(1, ms(5))  // seen again: keeps 0 ms
	ty.commit(3, ms(10)) // logs 2 and 3 at 10 ms
	// Log 4 is received before its commit is seen (lag 0), log 5 never.
	ty.receive(0, ms(-3), ms(4))
	ty.receive(4, ms(15), ms(19))
	ty.receive(1, ms(-3), ms(20))
	ty.receive(1, ms(-3), ms(30)) // redelivered
	ty.receive(2, ms(8), ms(50))
	ty.receive(3, ms(8), ms(1010))
	ty.commit(4, ms(25))

	if n, last := ty.progress(); n != 5 || !last.Equal(ms(1010)) {
		t.Fatalf("progress %d %v", n, last)
	}
	r := ty.result(6)
	if r.Expected != 6 || r.Events != 5 || r.Duplicates != 1 || r.Lost != 1 {
		t.Fatalf("counts: %+v", r)
	}
	// Lags: 4, 20, 40, 1000 and 0 ms; receipts span 4..1010 ms.
	if r.LagP50 != 20 || r.LagP99 != 1000 || r.LagMax != 1000 {
		t.Errorf("lag p50 %v p99 %v max %v", r.LagP50, r.LagP99, r.LagMax)
	}
	// Date lags: 7, 23, 42, 1002 and 4 ms.
	if r.DateLagP50 != 23 || r.DateLagP99 != 1002 {
		t.Errorf("date lag p50 %v p99 %v", r.DateLagP50, r.DateLagP99)
	}
	if want := 5 / 1.006; math.Abs(r.EventsPerSec-want) > 1e-9 {
		t.Errorf("events/s %v, want %v", r.EventsPerSec, want)
	}
	if r := ty.result(3); r.Lost != 0 {
		t.Errorf("more events than expected must not count as lost: %d", r.Lost)
	}
}

func TestEmptyTally(t *testing.T) {
	var ty tally
	r := ty.result(0)
	if r.Events != 0 || r.Lost != 0 || r.EventsPerSec != 0 || r.LagP99 != 0 {
		t.Fatalf("empty result %+v", r)
	}
}

func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "-ledger is required"},
		{[]string{"-ledger", "l", "-bus", "nats"}, `-bus "nats": want postgres or kafka`},
		{[]string{"-ledger", "l", "-bus", "kafka"}, "-bus kafka needs one of -kafka-brokers and -kfake-port"},
		{[]string{"-ledger", "l", "-bus", "kafka", "-kfake-port", "1", "-kafka-brokers", "k:9092"}, "needs one of"},
		{[]string{"-ledger", "l", "-commit-poll", "0s"}, "must be positive"},
		{[]string{"-ledger", "l", "extra"}, "unexpected arguments"},
	} {
		if _, err := parseFlags(tc.args, io.Discard); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want %q", tc.args, err, tc.want)
		}
	}
	o, err := parseFlags([]string{"-ledger", "l", "-bus", "kafka", "-kfake-port", "18181", "-poll-interval", "50ms"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.driver != "kafka" || o.kfakePort != 18181 || o.poll != 50*time.Millisecond || o.topic != "ledger" || o.partitions != 4 {
		t.Fatalf("options %+v", o)
	}
}

package numscript

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/kontorhq/kontor/domain"
	"github.com/kontorhq/kontor/domain/ledger"
)

// mustParse parses src or fails the test.
func mustParse(t *testing.T, src string) *Program {
	t.Helper()
	p, err := Parse(src)
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, src)
	}
	return p
}

// balancesOf builds StaticStore balances from "account asset amount" triples.
func balancesOf(rows ...string) map[string]map[string]*big.Int {
	out := map[string]map[string]*big.Int{}
	for _, row := range rows {
		f := strings.Fields(row)
		n, _ := new(big.Int).SetString(f[2], 10)
		if out[f[0]] == nil {
			out[f[0]] = map[string]*big.Int{}
		}
		out[f[0]][f[1]] = n
	}
	return out
}

// run parses and executes src against a static store.
func run(t *testing.T, src string, store Store, vars map[string]string, flags ...string) (*Result, error) {
	t.Helper()
	enabled := map[string]bool{}
	for _, f := range flags {
		enabled[f] = true
	}
	return mustParse(t, src).Execute(context.Background(), store, vars, enabled)
}

// postingsString renders postings as "src>dst:ASSET:amount" joined by spaces.
func postingsString(ps ledger.Postings) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.Source + ">" + p.Destination + ":" + p.Asset + ":" + p.Amount.String()
	}
	return strings.Join(parts, " ")
}

// wantKind checks that err is a Numscript error of the given kind and code.
func wantKind(t *testing.T, err error, kind ErrorKind, code string) *domain.Error {
	t.Helper()
	var de *domain.Error
	if !errors.As(err, &de) {
		t.Fatalf("want a *domain.Error of kind %s, got %v", kind, err)
	}
	if got := ErrorKindOf(err); got != kind || de.Code != code {
		t.Fatalf("want %s/%s, got %s/%s: %v", code, kind, de.Code, got, err)
	}
	return de
}

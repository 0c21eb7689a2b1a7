package query

import (
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/kontorhq/kontor/domain"
)

func bigInt(t testing.TB, s string) *big.Int {
	t.Helper()
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		t.Fatalf("bad big int %q", s)
	}
	return v
}

func utc(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v.UTC()
}

func mustParse(t testing.TB, schema Schema, in string) Expr {
	t.Helper()
	e, err := Parse([]byte(in), schema)
	if err != nil {
		t.Fatalf("Parse(%s) on %s: %v", in, schema.Resource(), err)
	}
	return e
}

// wantValidation checks err is a *domain.Error VALIDATION whose message
// contains every fragment.
func wantValidation(t testing.TB, err error, fragments ...string) {
	t.Helper()
	var derr *domain.Error
	if !errors.As(err, &derr) {
		t.Fatalf("want *domain.Error, got %T %v", err, err)
	}
	if derr.Code != domain.CodeValidation {
		t.Fatalf("want code %s, got %s (%s)", domain.CodeValidation, derr.Code, derr.Message)
	}
	for _, f := range fragments {
		if !strings.Contains(derr.Message, f) {
			t.Fatalf("message %q does not contain %q", derr.Message, f)
		}
	}
}

// equalExpr compares trees, big integers by value and dates by instant.
func equalExpr(a, b Expr) bool {
	switch a := a.(type) {
	case nil:
		return b == nil
	case And:
		b, ok := b.(And)
		return ok && equalExprs(a.Exprs, b.Exprs)
	case Or:
		b, ok := b.(Or)
		return ok && equalExprs(a.Exprs, b.Exprs)
	case Not:
		b, ok := b.(Not)
		return ok && equalExpr(a.Expr, b.Expr)
	case Leaf:
		b, ok := b.(Leaf)
		return ok && a.Op == b.Op && a.Field == b.Field && a.Key == b.Key && equalValue(a.Value, b.Value)
	}
	return false
}

func equalExprs(a, b []Expr) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !equalExpr(a[i], b[i]) {
			return false
		}
	}
	return true
}

func equalValue(a, b any) bool {
	switch a := a.(type) {
	case nil:
		return b == nil
	case *big.Int:
		b, ok := b.(*big.Int)
		return ok && a.Cmp(b) == 0
	case time.Time:
		b, ok := b.(time.Time)
		return ok && a.Equal(b) && b.Location() == time.UTC
	case []string:
		b, ok := b.([]string)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if a[i] != b[i] {
				return false
			}
		}
		return true
	case string:
		b, ok := b.(string)
		return ok && a == b
	case bool:
		b, ok := b.(bool)
		return ok && a == b
	}
	return false
}

func allSchemas() []Schema {
	return []Schema{Transactions, Accounts, Logs, Volumes, AggregatedBalances, Ledgers}
}

package query_test

import (
	"fmt"
	"strings"

	"github.com/kontorhq/kontor/domain/query"
)

// A filter from the spec, parsed for the accounts list and rendered as a
// pseudo-SQL condition the way a projection's query builder would walk it.
func ExampleParse() {
	body := []byte(`{"$and":[
		{"$match":{"address":"users:"}},
		{"$lt":{"balance[USD/2]":0}},
		{"$not":{"$exists":{"metadata":"frozen"}}}
	]}`)
	expr, err := query.Parse(body, query.Accounts)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(render(expr))
	// Output: (segment[0] = users AND segments = 2 AND balance[USD/2] < 0 AND NOT (metadata ? frozen))
}

func render(e query.Expr) string {
	switch e := e.(type) {
	case query.And:
		return join(e.Exprs, " AND ", "TRUE")
	case query.Or:
		return join(e.Exprs, " OR ", "FALSE")
	case query.Not:
		return "NOT (" + render(e.Expr) + ")"
	case query.Leaf:
		switch {
		case e.Op == query.OpExists:
			return e.Field + " ? " + e.Key
		case e.Field == "address" && e.Op == query.OpMatch:
			p := query.ParseAddressPattern(e.Value.(string))
			if p.IsFull() {
				return fmt.Sprintf("address = %s", e.Value)
			}
			var conds []string
			for i, seg := range p.Segments {
				if seg != "" {
					conds = append(conds, fmt.Sprintf("segment[%d] = %s", i, seg))
				}
			}
			if p.Open {
				return strings.Join(append(conds, fmt.Sprintf("segments >= %d", len(p.Segments))), " AND ")
			}
			return strings.Join(append(conds, fmt.Sprintf("segments = %d", len(p.Segments))), " AND ")
		case e.Op == query.OpLT:
			return fmt.Sprintf("%s < %v", e.Name(), e.Value)
		}
	}
	return "?"
}

func join(exprs []query.Expr, sep, empty string) string {
	if len(exprs) == 0 {
		return empty
	}
	parts := make([]string, len(exprs))
	for i, e := range exprs {
		parts[i] = render(e)
	}
	return "(" + strings.Join(parts, sep) + ")"
}

// Parse errors are VALIDATION errors naming the offending part.
func ExampleParse_error() {
	_, err := query.Parse([]byte(`{"$in":{"account":["users:"]}}`), query.Transactions)
	fmt.Println(err)
	// Output: VALIDATION: invalid filter at $in: $in on "account" accepts full addresses only, got the pattern "users:"
}

func ExampleAddressPattern_Match() {
	p := query.ParseAddressPattern("users:...")
	fmt.Println(p.Match("users"), p.Match("users:001:main"), p.Match("bank:001"))
	// Output: true true false
}

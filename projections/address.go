package projections

import (
	"strconv"
	"strings"

	"github.com/kontorhq/kontor/domain/query"
)

// addressColumn is how a query reaches an account address: as text, and
// as the array of its ":"-separated segments.
type addressColumn struct {
	text     string
	segments string
}

// addressOf returns the addressColumn of a text expression.
func addressOf(text string) addressColumn {
	return addressColumn{text: text, segments: "(string_to_array(" + text + ", ':'))"}
}

// address translates a leaf on one address (spec §3.3): $match takes a
// pattern whose empty segments are wildcards and whose trailing "..."
// allows further segments; $like is SQL LIKE on the address; $in lists
// full addresses.
func (b *sqlBuilder) address(col addressColumn, l query.Leaf) (string, error) {
	switch l.Op {
	case query.OpLike, query.OpIn:
		return b.text(col.text, l, false)
	case query.OpMatch:
		value, ok := l.Value.(string)
		if !ok {
			return "", unsupported(l)
		}
		pattern := query.ParseAddressPattern(value)
		if pattern.IsFull() {
			return col.text + " = " + b.bind(value), nil
		}
		return b.addressPattern(col.segments, pattern), nil
	}
	return "", unsupported(l)
}

// addressPattern matches an array of segments against a pattern: its
// length, then every fixed segment.
func (b *sqlBuilder) addressPattern(segments string, p query.AddressPattern) string {
	length := "cardinality(" + segments + ") = " + strconv.Itoa(len(p.Segments))
	if p.Open {
		length = "cardinality(" + segments + ") >= " + strconv.Itoa(len(p.Segments))
	}
	conds := []string{length}
	for i, segment := range p.Segments {
		if segment != "" {
			conds = append(conds, segments+"["+strconv.Itoa(i+1)+"] = "+b.bind(segment))
		}
	}
	return strings.Join(conds, " AND ")
}

// addressIn translates a leaf on a set of addresses held in text[] columns
// (a transaction's sources and destinations): it holds when one address of
// one of the columns satisfies the leaf. Full addresses and lists of them
// first go through indexed, the expression of the columns' GIN index (all
// of them concatenated), with partial, the index's predicate.
func (b *sqlBuilder) addressIn(columns []string, indexed, partial string, l query.Leaf) (string, error) {
	value, _ := l.Value.(string)
	if l.Op == query.OpMatch && query.ParseAddressPattern(value).IsFull() {
		p := b.bind([]string{value}) + "::text[]"
		return partial + " AND " + indexed + " @> " + p + " AND (" + anyOf(columns, func(col string) string { return col + " @> " + p }) + ")", nil
	}
	if l.Op == query.OpIn {
		p := b.bind(l.Value) + "::text[]"
		return partial + " AND " + indexed + " && " + p + " AND (" + anyOf(columns, func(col string) string { return col + " && " + p }) + ")", nil
	}
	cond, err := b.address(addressOf("x.address"), l)
	if err != nil {
		return "", err
	}
	unnest := "unnest(" + strings.Join(columns, " || ") + ")"
	return "EXISTS (SELECT FROM " + unnest + " AS x(address) WHERE " + cond + ")", nil
}

func anyOf(columns []string, cond func(string) string) string {
	parts := make([]string, len(columns))
	for i, col := range columns {
		parts[i] = cond(col)
	}
	return strings.Join(parts, " OR ")
}

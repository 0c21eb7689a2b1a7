package projections

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/kontorhq/kontor/domain"
	"github.com/kontorhq/kontor/domain/query"
)

// sqlBuilder collects the bind parameters of one statement. User input only
// ever reaches SQL through bind, which returns its placeholder.
type sqlBuilder struct {
	args []any
}

// bind adds v as a parameter and returns its placeholder, "$n".
func (b *sqlBuilder) bind(v any) string {
	b.args = append(b.args, v)
	return "$" + strconv.Itoa(len(b.args))
}

// leafSQL translates one predicate of a resource's filter.
type leafSQL func(b *sqlBuilder, l query.Leaf) (string, error)

// where translates a filter into a boolean SQL expression; a nil filter is
// TRUE. Leaves are translated by leaf.
func (b *sqlBuilder) where(e query.Expr, leaf leafSQL) (string, error) {
	switch e := e.(type) {
	case nil:
		return "TRUE", nil
	case query.And:
		return b.join(e.Exprs, " AND ", "TRUE", leaf)
	case query.Or:
		return b.join(e.Exprs, " OR ", "FALSE", leaf)
	case query.Not:
		inner, err := b.where(e.Expr, leaf)
		if err != nil {
			return "", err
		}
		return "NOT " + inner, nil
	case query.Leaf:
		sql, err := leaf(b, e)
		if err != nil {
			return "", err
		}
		return "(" + sql + ")", nil
	}
	return "", fmt.Errorf("projections: unknown filter node %T", e)
}

func (b *sqlBuilder) join(exprs []query.Expr, sep, empty string, leaf leafSQL) (string, error) {
	if len(exprs) == 0 {
		return empty, nil
	}
	parts := make([]string, len(exprs))
	for i, e := range exprs {
		sql, err := b.where(e, leaf)
		if err != nil {
			return "", err
		}
		parts[i] = sql
	}
	return "(" + strings.Join(parts, sep) + ")", nil
}

// comparisons maps the ordering operators to SQL.
var comparisons = map[query.Op]string{
	query.OpMatch: "=",
	query.OpLT:    "<",
	query.OpLTE:   "<=",
	query.OpGT:    ">",
	query.OpGTE:   ">=",
}

// unsupported is the error of an operator a field's SQL cannot express; the
// parser's schemas make it unreachable for well-formed trees.
func unsupported(l query.Leaf) error {
	return domain.Errorf(domain.CodeValidation, "operator %s is not supported on field %q", l.Op, l.Name())
}

// compare translates a comparison of col with the leaf's value (dates,
// numerics, booleans). A nullable column never matches when NULL, so that
// $not of the comparison does.
func (b *sqlBuilder) compare(col string, l query.Leaf, nullable bool) (string, error) {
	op, ok := comparisons[l.Op]
	if !ok {
		return "", unsupported(l)
	}
	sql := col + " " + op + " " + b.bind(l.Value)
	if nullable {
		sql = col + " IS NOT NULL AND " + sql
	}
	return sql, nil
}

// compareBigint compares a bigint column with an integer of any size:
// values beyond the bigint range are decided here, so the column's index
// stays usable.
func (b *sqlBuilder) compareBigint(col string, l query.Leaf) (string, error) {
	op, ok := comparisons[l.Op]
	if !ok {
		return "", unsupported(l)
	}
	v, _ := l.Value.(*big.Int)
	if v == nil {
		return "", unsupported(l)
	}
	if !v.IsInt64() {
		// Above the range, only "less than" holds; below it, only "greater than".
		above := v.Sign() > 0
		switch {
		case l.Op == query.OpMatch:
			return "FALSE", nil
		case (l.Op == query.OpLT || l.Op == query.OpLTE) == above:
			return "TRUE", nil
		default:
			return "FALSE", nil
		}
	}
	return col + " " + op + " " + b.bind(v.Int64()), nil
}

// compareNumeric compares a numeric expression with an integer of any size.
func (b *sqlBuilder) compareNumeric(expr string, l query.Leaf) (string, error) {
	op, ok := comparisons[l.Op]
	if !ok {
		return "", unsupported(l)
	}
	v, _ := l.Value.(*big.Int)
	if v == nil {
		return "", unsupported(l)
	}
	return expr + " " + op + " " + b.bind(pgtype.Numeric{Int: v, Valid: true}) + "::numeric", nil
}

// text translates $match, $like and $in on a text expression, NULL never
// matching.
func (b *sqlBuilder) text(expr string, l query.Leaf, nullable bool) (string, error) {
	var sql string
	switch l.Op {
	case query.OpMatch:
		sql = expr + " = " + b.bind(l.Value)
	case query.OpLike:
		sql = expr + " LIKE " + b.bind(l.Value)
	case query.OpIn:
		sql = expr + " = ANY(" + b.bind(l.Value) + "::text[])"
	default:
		return "", unsupported(l)
	}
	if nullable {
		sql = expr + " IS NOT NULL AND " + sql
	}
	return sql, nil
}

// jsonMap translates a leaf on a string map held in a jsonb column
// (metadata[k], features[F]): $match by containment (GIN-indexed), $exists
// by key, $like and $in on the key's text.
func (b *sqlBuilder) jsonMap(col string, l query.Leaf) (string, error) {
	switch l.Op {
	case query.OpExists:
		return col + " ? " + b.bind(l.Key), nil
	case query.OpMatch:
		value, ok := l.Value.(string)
		if !ok {
			return "", unsupported(l)
		}
		// The second term lets an index of the non-empty maps serve it.
		return "(" + col + " @> " + b.bind(map[string]string{l.Key: value}) + "::jsonb AND " + col + " <> '{}')", nil
	}
	return b.text(col+" ->> "+b.bind(l.Key), l, true)
}

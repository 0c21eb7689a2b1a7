package query

import (
	"bytes"
	"encoding/json"
	"iter"
	"math/big"
	"time"
)

// Op is a leaf operator, spelled as in the JSON filter language.
type Op string

// The leaf operators of the filter language.
const (
	OpMatch  Op = "$match"
	OpLike   Op = "$like"
	OpIn     Op = "$in"
	OpLT     Op = "$lt"
	OpLTE    Op = "$lte"
	OpGT     Op = "$gt"
	OpGTE    Op = "$gte"
	OpExists Op = "$exists"
)

// Ops lists every leaf operator, in a stable order.
func Ops() []Op {
	return []Op{OpMatch, OpLike, OpIn, OpLT, OpLTE, OpGT, OpGTE, OpExists}
}

// Expr is a node of a filter: And, Or, Not or Leaf. A nil Expr is "no filter"
// and matches everything. MarshalJSON renders the reference JSON form, which
// Parse reads back to an equal tree (this is what pagination cursors carry).
type Expr interface {
	json.Marshaler
	isExpr()
}

// And matches when every one of Exprs matches; with no Exprs it matches
// everything.
type And struct {
	Exprs []Expr
}

// Or matches when at least one of Exprs matches; with no Exprs it matches
// nothing.
type Or struct {
	Exprs []Expr
}

// Not matches when Expr does not.
type Not struct {
	Expr Expr
}

// Leaf is one predicate on one field.
//
// Field is the canonical field name of the schema (an alias such as the
// volumes' "account" is resolved to "address"). Key is the key of a map field
// (metadata[k], balance[ASSET], features[F]) and of $exists; it is empty for
// other fields and for the bare "balance" (any asset).
//
// Value is, by operator and field type: string (TypeString, TypeAddress),
// *big.Int (TypeInt), time.Time in UTC (TypeDate), bool (TypeBool), []string
// for $in, and nil for $exists.
type Leaf struct {
	Op    Op
	Field string
	Key   string
	Value any
}

func (And) isExpr()  {}
func (Or) isExpr()   {}
func (Not) isExpr()  {}
func (Leaf) isExpr() {}

// Name returns the field as written in the JSON form: "metadata[k]" for a
// keyed map field, the plain field name otherwise.
func (l Leaf) Name() string {
	if l.Key == "" || l.Op == OpExists {
		return l.Field
	}
	return l.Field + "[" + l.Key + "]"
}

// MarshalJSON renders {"$and":[...]}.
func (a And) MarshalJSON() ([]byte, error) { return marshalSet("$and", a.Exprs) }

// MarshalJSON renders {"$or":[...]}.
func (o Or) MarshalJSON() ([]byte, error) { return marshalSet("$or", o.Exprs) }

// MarshalJSON renders {"$not":{...}}.
func (n Not) MarshalJSON() ([]byte, error) {
	inner, err := marshalExpr(n.Expr)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.WriteString(`{"$not":`)
	buf.Write(inner)
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// MarshalJSON renders {"<op>":{"<name>":<value>}}, or
// {"$exists":{"<field>":"<key>"}} for $exists.
func (l Leaf) MarshalJSON() ([]byte, error) {
	name, err := json.Marshal(l.Name())
	if err != nil {
		return nil, err
	}
	op, err := json.Marshal(string(l.Op))
	if err != nil {
		return nil, err
	}
	var value []byte
	if l.Op == OpExists {
		value, err = json.Marshal(l.Key)
	} else {
		value, err = marshalValue(l.Value)
	}
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.WriteByte('{')
	buf.Write(op)
	buf.WriteString(":{")
	buf.Write(name)
	buf.WriteByte(':')
	buf.Write(value)
	buf.WriteString("}}")
	return buf.Bytes(), nil
}

func marshalSet(op string, exprs []Expr) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(`{"` + op + `":[`)
	for i, e := range exprs {
		if i > 0 {
			buf.WriteByte(',')
		}
		b, err := marshalExpr(e)
		if err != nil {
			return nil, err
		}
		buf.Write(b)
	}
	buf.WriteString("]}")
	return buf.Bytes(), nil
}

func marshalExpr(e Expr) ([]byte, error) {
	if e == nil {
		// Nested "no filter" matches everything, like an empty $and.
		return []byte(`{"$and":[]}`), nil
	}
	return e.MarshalJSON()
}

func marshalValue(v any) ([]byte, error) {
	switch v := v.(type) {
	case time.Time:
		return json.Marshal(v.UTC().Format(time.RFC3339Nano))
	case []string:
		if v == nil {
			return []byte("[]"), nil
		}
	case *big.Int:
		if v == nil {
			return []byte("null"), nil
		}
		return []byte(v.String()), nil
	}
	return json.Marshal(v)
}

// Walk visits e depth-first, parents before children. When fn returns false
// the children of that node are skipped. A nil e is not visited.
func Walk(e Expr, fn func(Expr) bool) {
	if e == nil || !fn(e) {
		return
	}
	switch e := e.(type) {
	case And:
		for _, sub := range e.Exprs {
			Walk(sub, fn)
		}
	case Or:
		for _, sub := range e.Exprs {
			Walk(sub, fn)
		}
	case Not:
		Walk(e.Expr, fn)
	}
}

// Leaves yields every Leaf of e, left to right.
func Leaves(e Expr) iter.Seq[Leaf] {
	return func(yield func(Leaf) bool) {
		leaves(e, yield)
	}
}

func leaves(e Expr, yield func(Leaf) bool) bool {
	switch e := e.(type) {
	case Leaf:
		return yield(e)
	case And:
		for _, sub := range e.Exprs {
			if !leaves(sub, yield) {
				return false
			}
		}
	case Or:
		for _, sub := range e.Exprs {
			if !leaves(sub, yield) {
				return false
			}
		}
	case Not:
		return leaves(e.Expr, yield)
	}
	return true
}

// UsesField reports whether some leaf of e is on the given canonical field
// (for example to decide whether a query needs to join account metadata).
func UsesField(e Expr, field string) bool {
	for l := range Leaves(e) {
		if l.Field == field {
			return true
		}
	}
	return false
}

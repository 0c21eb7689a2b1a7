package query

import (
	"fmt"
	"strings"
)

// Type is the type of a field's values; it decides which operators apply and
// what Go type a Leaf's Value holds.
type Type int

// The field types of the filter language.
const (
	// TypeString values are strings: $match, $like, $in.
	TypeString Type = iota + 1
	// TypeAddress values are account addresses or address patterns:
	// $match (pattern), $like, $in (full addresses only).
	TypeAddress
	// TypeInt values are JSON integers decoded as *big.Int:
	// $match, $lt, $lte, $gt, $gte.
	TypeInt
	// TypeDate values are RFC3339 strings decoded as UTC time.Time:
	// $match, $lt, $lte, $gt, $gte.
	TypeDate
	// TypeBool values are booleans: $match.
	TypeBool
)

// String names the type as error messages do.
func (t Type) String() string {
	switch t {
	case TypeString:
		return "string"
	case TypeAddress:
		return "address"
	case TypeInt:
		return "integer"
	case TypeDate:
		return "date"
	case TypeBool:
		return "boolean"
	}
	return fmt.Sprintf("Type(%d)", int(t))
}

// Ops lists the operators a value of this type accepts.
func (t Type) Ops() []Op {
	switch t {
	case TypeString, TypeAddress:
		return []Op{OpMatch, OpLike, OpIn}
	case TypeInt, TypeDate:
		return []Op{OpMatch, OpLT, OpLTE, OpGT, OpGTE}
	case TypeBool:
		return []Op{OpMatch}
	}
	return nil
}

func (t Type) accepts(op Op) bool {
	for _, o := range t.Ops() {
		if o == op {
			return true
		}
	}
	return false
}

// Field describes one property a resource can be filtered on.
type Field struct {
	// Name is the canonical name, the one Leaf.Field carries.
	Name string
	// Aliases are other accepted spellings of Name.
	Aliases []string
	// Type is the type of the field's values; for a map field, the type of
	// its entries.
	Type Type
	// Map marks a field addressed by key, as in metadata[k]; it also accepts
	// {"$exists":{"<name>":"<key>"}}.
	Map bool
	// Bare lets a map field be used without a key with its entries'
	// operators, meaning "some entry satisfies" (balance = any asset).
	Bare bool
}

// Ops lists every operator the field accepts in some form.
func (f Field) Ops() []Op {
	ops := f.Type.Ops()
	if f.Map {
		ops = append(ops, OpExists)
	}
	return ops
}

// Schema is the set of fields one resource can be filtered on. The zero
// Schema has no fields and rejects every leaf.
type Schema struct {
	resource string
	fields   []Field
	index    map[string]int
}

// NewSchema builds the schema of a resource. It panics when two fields share
// a name or alias, or a field has no valid type: schemas are program
// constants.
func NewSchema(resource string, fields ...Field) Schema {
	s := Schema{resource: resource, index: map[string]int{}}
	for _, f := range fields {
		if f.Type.Ops() == nil {
			panic(fmt.Sprintf("query: field %q of %s has no valid type", f.Name, resource))
		}
		if f.Bare && !f.Map {
			panic(fmt.Sprintf("query: field %q of %s is bare but not a map", f.Name, resource))
		}
		f.Aliases = append([]string(nil), f.Aliases...)
		for _, name := range append([]string{f.Name}, f.Aliases...) {
			if name == "" || strings.ContainsAny(name, "[]") {
				panic(fmt.Sprintf("query: invalid field name %q in %s", name, resource))
			}
			if _, dup := s.index[name]; dup {
				panic(fmt.Sprintf("query: field %q declared twice in %s", name, resource))
			}
			s.index[name] = len(s.fields)
		}
		s.fields = append(s.fields, f)
	}
	return s
}

// Resource names the resource the schema describes, e.g. "transactions".
func (s Schema) Resource() string { return s.resource }

// Fields returns a copy of the schema's fields, in declaration order.
func (s Schema) Fields() []Field {
	out := make([]Field, len(s.fields))
	for i, f := range s.fields {
		f.Aliases = append([]string(nil), f.Aliases...)
		out[i] = f
	}
	return out
}

// Lookup finds a field by its name or one of its aliases (without any
// "[key]" suffix).
func (s Schema) Lookup(name string) (Field, bool) {
	i, ok := s.index[name]
	if !ok {
		return Field{}, false
	}
	f := s.fields[i]
	f.Aliases = append([]string(nil), f.Aliases...)
	return f, true
}

func (s Schema) names() string {
	var names []string
	for _, f := range s.fields {
		name := f.Name
		if f.Map {
			name += "[key]"
			if f.Bare {
				name = f.Name + ", " + name
			}
		}
		names = append(names, name)
		names = append(names, f.Aliases...)
	}
	return strings.Join(names, ", ")
}

// Schemas of the ledger v2 list endpoints (spec/ledger.md §3.3).
var (
	// Transactions filters GET /v2/{ledger}/transactions.
	Transactions = NewSchema("transactions",
		Field{Name: "id", Type: TypeInt},
		Field{Name: "reference", Type: TypeString},
		Field{Name: "timestamp", Type: TypeDate},
		Field{Name: "inserted_at", Type: TypeDate},
		Field{Name: "updated_at", Type: TypeDate},
		Field{Name: "reverted_at", Type: TypeDate},
		Field{Name: "reverted", Type: TypeBool},
		Field{Name: "account", Type: TypeAddress},
		Field{Name: "source", Type: TypeAddress},
		Field{Name: "destination", Type: TypeAddress},
		Field{Name: "metadata", Type: TypeString, Map: true},
	)

	// Accounts filters GET /v2/{ledger}/accounts.
	Accounts = NewSchema("accounts",
		Field{Name: "address", Type: TypeAddress},
		Field{Name: "first_usage", Type: TypeDate},
		Field{Name: "insertion_date", Type: TypeDate},
		Field{Name: "updated_at", Type: TypeDate},
		Field{Name: "balance", Type: TypeInt, Map: true, Bare: true},
		Field{Name: "metadata", Type: TypeString, Map: true},
	)

	// Logs filters GET /v2/{ledger}/logs.
	Logs = NewSchema("logs",
		Field{Name: "id", Type: TypeInt},
		Field{Name: "date", Type: TypeDate},
		Field{Name: "type", Type: TypeString},
	)

	// Volumes filters GET /v2/{ledger}/volumes.
	Volumes = NewSchema("volumes",
		Field{Name: "address", Aliases: []string{"account"}, Type: TypeAddress},
		Field{Name: "balance", Type: TypeInt, Map: true, Bare: true},
		Field{Name: "first_usage", Type: TypeDate},
		Field{Name: "metadata", Type: TypeString, Map: true},
	)

	// AggregatedBalances filters GET /v2/{ledger}/aggregate/balances.
	AggregatedBalances = NewSchema("aggregated balances",
		Field{Name: "address", Type: TypeAddress},
		Field{Name: "metadata", Type: TypeString, Map: true},
	)

	// Ledgers filters GET /v2 (list ledgers).
	Ledgers = NewSchema("ledgers",
		Field{Name: "name", Type: TypeString},
		Field{Name: "bucket", Type: TypeString},
		Field{Name: "id", Type: TypeInt},
		Field{Name: "features", Type: TypeString, Map: true},
		Field{Name: "metadata", Type: TypeString, Map: true},
	)
)

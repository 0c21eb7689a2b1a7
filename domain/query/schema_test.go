package query

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// The field lists of spec/ledger.md §3.3, written out independently of
// schema.go: "name type", "name map type" (name[key] + $exists) or
// "name bare-map type" (also usable without a key), "|" separating aliases.
var specFields = map[string][]string{
	"transactions": {
		"id integer", "reference string", "timestamp date", "inserted_at date", "updated_at date",
		"reverted_at date", "reverted boolean", "account address", "source address",
		"destination address", "metadata map string",
	},
	"accounts": {
		"address address", "first_usage date", "insertion_date date", "updated_at date",
		"balance bare-map integer", "metadata map string",
	},
	"logs": {"id integer", "date date", "type string"},
	"volumes": {
		"address|account address", "balance bare-map integer", "first_usage date", "metadata map string",
	},
	"aggregated balances": {"address address", "metadata map string"},
	"ledgers": {
		"name string", "bucket string", "id integer", "features map string", "metadata map string",
	},
}

// The operator table of §3.3, also written out independently.
var specOps = map[string][]Op{
	"string":  {OpMatch, OpLike, OpIn},
	"address": {OpMatch, OpLike, OpIn},
	"integer": {OpMatch, OpLT, OpLTE, OpGT, OpGTE},
	"date":    {OpMatch, OpLT, OpLTE, OpGT, OpGTE},
	"boolean": {OpMatch},
}

func describeField(f Field) string {
	name := strings.Join(append([]string{f.Name}, f.Aliases...), "|")
	switch {
	case f.Bare:
		return name + " bare-map " + f.Type.String()
	case f.Map:
		return name + " map " + f.Type.String()
	}
	return name + " " + f.Type.String()
}

func TestSchemasMatchSpec(t *testing.T) {
	if len(allSchemas()) != len(specFields) {
		t.Fatalf("%d schemas, spec lists %d", len(allSchemas()), len(specFields))
	}
	for _, s := range allSchemas() {
		want, ok := specFields[s.Resource()]
		if !ok {
			t.Fatalf("schema %q not in the spec table", s.Resource())
		}
		var got []string
		for _, f := range s.Fields() {
			got = append(got, describeField(f))
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s:\n got  %q\n want %q", s.Resource(), got, want)
		}
	}
}

func TestTypeOpsMatchSpec(t *testing.T) {
	for _, typ := range []Type{TypeString, TypeAddress, TypeInt, TypeDate, TypeBool} {
		if got, want := typ.Ops(), specOps[typ.String()]; !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", typ, got, want)
		}
	}
}

// sampleValue is a JSON value of the right type for op on a field of type t.
func sampleValue(t string, op Op) string {
	if op == OpIn {
		return `["users:001","world"]`
	}
	switch t {
	case "integer":
		return "42"
	case "date":
		return `"2024-01-02T03:04:05Z"`
	case "boolean":
		return "true"
	}
	return `"users:001"`
}

// TestOperatorMatrix tries every operator on every field of every schema, in
// every form the field can take, and checks it against the spec tables.
func TestOperatorMatrix(t *testing.T) {
	for _, s := range allSchemas() {
		for _, spec := range specFields[s.Resource()] {
			parts := strings.Fields(spec)
			names, typ := strings.Split(parts[0], "|"), parts[len(parts)-1]
			kind := ""
			if len(parts) == 3 {
				kind = parts[1]
			}
			for _, name := range names {
				type form struct {
					written, key string
					ops          []Op
				}
				var forms []form
				switch kind {
				case "":
					forms = []form{{name, "", specOps[typ]}}
				case "map":
					forms = []form{{name + "[k.1]", "k.1", specOps[typ]}, {name, "", nil}}
				case "bare-map":
					forms = []form{{name + "[USD/2]", "USD/2", specOps[typ]}, {name, "", specOps[typ]}}
				}
				for _, fm := range forms {
					for _, op := range Ops() {
						if op == OpExists {
							continue
						}
						in := fmt.Sprintf(`{%q:{%q:%s}}`, op, fm.written, sampleValue(typ, op))
						t.Run(s.Resource()+"/"+in, func(t *testing.T) {
							e, err := Parse([]byte(in), s)
							if !slices.Contains(fm.ops, op) {
								if err == nil {
									t.Fatalf("accepted, want rejection")
								}
								if kind == "map" && fm.key == "" {
									wantValidation(t, err, "needs a key")
								} else {
									wantValidation(t, err, "not allowed", fm.written)
								}
								return
							}
							if err != nil {
								t.Fatalf("rejected: %v", err)
							}
							leaf, ok := e.(Leaf)
							if !ok {
								t.Fatalf("got %T, want Leaf", e)
							}
							if leaf.Op != op || leaf.Field != names[0] || leaf.Key != fm.key {
								t.Fatalf("got %+v", leaf)
							}
						})
					}
				}
				// $exists: only on maps, written {"$exists":{"<map>":"<key>"}}.
				in := fmt.Sprintf(`{"$exists":{%q:"k"}}`, name)
				t.Run(s.Resource()+"/"+in, func(t *testing.T) {
					e, err := Parse([]byte(in), s)
					if kind == "" {
						wantValidation(t, err, "$exists is not allowed", name)
						return
					}
					if err != nil {
						t.Fatal(err)
					}
					want := Leaf{Op: OpExists, Field: names[0], Key: "k"}
					if !equalExpr(e, want) {
						t.Fatalf("got %+v, want %+v", e, want)
					}
				})
			}
		}
	}
}

func TestSchemaLookup(t *testing.T) {
	f, ok := Volumes.Lookup("account")
	if !ok || f.Name != "address" {
		t.Fatalf("alias: got %+v %v", f, ok)
	}
	if _, ok := Volumes.Lookup("balance[USD]"); ok {
		t.Fatal("Lookup must not resolve keyed names")
	}
	if _, ok := (Schema{}).Lookup("id"); ok {
		t.Fatal("zero schema has no fields")
	}
	fields := Volumes.Fields()
	fields[0].Aliases[0] = "changed"
	if f, _ := Volumes.Lookup("account"); f.Name != "address" {
		t.Fatal("Fields must return a copy")
	}
	if got := (Field{Type: TypeInt, Map: true}).Ops(); !slices.Contains(got, OpExists) {
		t.Fatalf("map field ops %v lack $exists", got)
	}
}

func TestNewSchemaPanics(t *testing.T) {
	for name, fields := range map[string][]Field{
		"duplicate":   {{Name: "a", Type: TypeString}, {Name: "b", Aliases: []string{"a"}, Type: TypeString}},
		"no type":     {{Name: "a"}},
		"bare no map": {{Name: "a", Type: TypeInt, Bare: true}},
		"bracket":     {{Name: "a[b]", Type: TypeInt}},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			NewSchema("x", fields...)
		})
	}
}

func TestZeroSchemaRejects(t *testing.T) {
	_, err := Parse([]byte(`{"$match":{"id":1}}`), Schema{})
	wantValidation(t, err, "unknown field")
	if e, err := Parse([]byte(`{}`), Schema{}); e != nil || err != nil {
		t.Fatalf("got %v %v", e, err)
	}
	if _, err := json.Marshal(Leaf{}); err != nil {
		t.Fatal(err)
	}
}

package query

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestParseNoFilter(t *testing.T) {
	for _, in := range []string{"", "  \n\t", "{}", " { } \n", "null", " null "} {
		for _, s := range allSchemas() {
			e, err := Parse([]byte(in), s)
			if err != nil || e != nil {
				t.Fatalf("Parse(%q) on %s = %v, %v; want nil, nil", in, s.Resource(), e, err)
			}
		}
	}
	if e, err := Parse(nil, Transactions); e != nil || err != nil {
		t.Fatalf("nil body: %v %v", e, err)
	}
}

func TestParseValues(t *testing.T) {
	huge := "123456789012345678901234567890123456789012345678901234567890"
	tests := []struct {
		name   string
		schema Schema
		in     string
		want   Leaf
	}{
		{"tx id", Transactions, `{"$match":{"id":12}}`, Leaf{OpMatch, "id", "", bigInt(t, "12")}},
		{"tx id beyond int64", Transactions, `{"$gte":{"id":9223372036854775808}}`, Leaf{OpGTE, "id", "", bigInt(t, "9223372036854775808")}},
		{"tx id negative", Transactions, `{"$gt":{"id":-3}}`, Leaf{OpGT, "id", "", bigInt(t, "-3")}},
		{"tx id minus zero", Transactions, `{"$gt":{"id":-0}}`, Leaf{OpGT, "id", "", bigInt(t, "0")}},
		{"tx reference", Transactions, `{"$match":{"reference":"ref:1"}}`, Leaf{OpMatch, "reference", "", "ref:1"}},
		{"tx reference like", Transactions, `{"$like":{"reference":"inv-%\\_x"}}`, Leaf{OpLike, "reference", "", `inv-%\_x`}},
		{"tx reference in", Transactions, `{"$in":{"reference":["a","b:"]}}`, Leaf{OpIn, "reference", "", []string{"a", "b:"}}},
		{"tx reference in empty", Transactions, `{"$in":{"reference":[]}}`, Leaf{OpIn, "reference", "", []string{}}},
		{"tx timestamp UTC", Transactions, `{"$lt":{"timestamp":"2024-01-02T03:04:05Z"}}`, Leaf{OpLT, "timestamp", "", utc(t, "2024-01-02T03:04:05Z")}},
		{"tx timestamp offset", Transactions, `{"$lte":{"timestamp":"2024-01-02T03:04:05+02:00"}}`, Leaf{OpLTE, "timestamp", "", utc(t, "2024-01-02T01:04:05Z")}},
		{"tx timestamp rounded to µs", Transactions, `{"$gt":{"inserted_at":"2024-01-02T03:04:05.1234565-01:30"}}`, Leaf{OpGT, "inserted_at", "", utc(t, "2024-01-02T04:34:05.123457Z")}},
		{"tx timestamp truncating µs", Transactions, `{"$match":{"updated_at":"2024-01-02T03:04:05.1234561Z"}}`, Leaf{OpMatch, "updated_at", "", utc(t, "2024-01-02T03:04:05.123456Z")}},
		{"tx reverted_at", Transactions, `{"$gte":{"reverted_at":"2024-01-02T00:00:00.5Z"}}`, Leaf{OpGTE, "reverted_at", "", utc(t, "2024-01-02T00:00:00.5Z")}},
		{"tx reverted true", Transactions, `{"$match":{"reverted":true}}`, Leaf{OpMatch, "reverted", "", true}},
		{"tx reverted false", Transactions, `{"$match":{"reverted":false}}`, Leaf{OpMatch, "reverted", "", false}},
		{"tx account pattern", Transactions, `{"$match":{"account":"users:"}}`, Leaf{OpMatch, "account", "", "users:"}},
		{"tx source open pattern", Transactions, `{"$match":{"source":"users:..."}}`, Leaf{OpMatch, "source", "", "users:..."}},
		{"tx destination full", Transactions, `{"$match":{"destination":"world"}}`, Leaf{OpMatch, "destination", "", "world"}},
		{"tx account in", Transactions, `{"$in":{"account":["users:001","world"]}}`, Leaf{OpIn, "account", "", []string{"users:001", "world"}}},
		{"tx account like", Transactions, `{"$like":{"account":"users:%"}}`, Leaf{OpLike, "account", "", "users:%"}},
		{"tx metadata", Transactions, `{"$match":{"metadata[order]":"42"}}`, Leaf{OpMatch, "metadata", "order", "42"}},
		{"tx metadata like", Transactions, `{"$like":{"metadata[order]":"4%"}}`, Leaf{OpLike, "metadata", "order", "4%"}},
		{"tx metadata in", Transactions, `{"$in":{"metadata[order]":["1","2"]}}`, Leaf{OpIn, "metadata", "order", []string{"1", "2"}}},
		{"tx metadata exists", Transactions, `{"$exists":{"metadata":"order"}}`, Leaf{OpExists, "metadata", "order", nil}},
		{"tx unicode", Transactions, `{"$match":{"metadata[clé]":"été \u00e9"}}`, Leaf{OpMatch, "metadata", "clé", "été é"}},
		{"accounts address", Accounts, `{"$match":{"address":"::admin"}}`, Leaf{OpMatch, "address", "", "::admin"}},
		{"accounts first_usage", Accounts, `{"$gte":{"first_usage":"2020-02-29T23:59:59Z"}}`, Leaf{OpGTE, "first_usage", "", utc(t, "2020-02-29T23:59:59Z")}},
		{"accounts insertion_date", Accounts, `{"$lt":{"insertion_date":"2020-02-29T23:59:59Z"}}`, Leaf{OpLT, "insertion_date", "", utc(t, "2020-02-29T23:59:59Z")}},
		{"accounts bare balance", Accounts, `{"$lt":{"balance":0}}`, Leaf{OpLT, "balance", "", bigInt(t, "0")}},
		{"accounts balance huge", Accounts, `{"$gt":{"balance[USD/2]":` + huge + `}}`, Leaf{OpGT, "balance", "USD/2", bigInt(t, huge)}},
		{"accounts balance huge negative", Accounts, `{"$lte":{"balance[COIN]":-` + huge + `}}`, Leaf{OpLTE, "balance", "COIN", bigInt(t, "-"+huge)}},
		{"accounts balance exists", Accounts, `{"$exists":{"balance":"USD/2"}}`, Leaf{OpExists, "balance", "USD/2", nil}},
		{"logs id", Logs, `{"$lt":{"id":100}}`, Leaf{OpLT, "id", "", bigInt(t, "100")}},
		{"logs date", Logs, `{"$gte":{"date":"2024-05-01T10:00:00.123456Z"}}`, Leaf{OpGTE, "date", "", utc(t, "2024-05-01T10:00:00.123456Z")}},
		{"logs type", Logs, `{"$in":{"type":["NEW_TRANSACTION","SET_METADATA"]}}`, Leaf{OpIn, "type", "", []string{"NEW_TRANSACTION", "SET_METADATA"}}},
		{"volumes account alias", Volumes, `{"$match":{"account":"users:"}}`, Leaf{OpMatch, "address", "", "users:"}},
		{"volumes address", Volumes, `{"$in":{"address":["bank"]}}`, Leaf{OpIn, "address", "", []string{"bank"}}},
		{"volumes balance", Volumes, `{"$gte":{"balance[EUR/2]":750}}`, Leaf{OpGTE, "balance", "EUR/2", bigInt(t, "750")}},
		{"volumes metadata exists", Volumes, `{"$exists":{"metadata":"k"}}`, Leaf{OpExists, "metadata", "k", nil}},
		{"aggregated address", AggregatedBalances, `{"$match":{"address":"users:"}}`, Leaf{OpMatch, "address", "", "users:"}},
		{"aggregated metadata", AggregatedBalances, `{"$match":{"metadata[tier]":"gold"}}`, Leaf{OpMatch, "metadata", "tier", "gold"}},
		{"ledgers name", Ledgers, `{"$like":{"name":"prod-%"}}`, Leaf{OpLike, "name", "", "prod-%"}},
		{"ledgers bucket", Ledgers, `{"$match":{"bucket":"_default"}}`, Leaf{OpMatch, "bucket", "", "_default"}},
		{"ledgers id", Ledgers, `{"$gt":{"id":1}}`, Leaf{OpGT, "id", "", bigInt(t, "1")}},
		{"ledgers feature", Ledgers, `{"$match":{"features[HASH_LOGS]":"SYNC"}}`, Leaf{OpMatch, "features", "HASH_LOGS", "SYNC"}},
		{"ledgers feature exists", Ledgers, `{"$exists":{"features":"MOVES_HISTORY"}}`, Leaf{OpExists, "features", "MOVES_HISTORY", nil}},
		{"ledgers metadata", Ledgers, `{"$match":{"metadata[team]":"core"}}`, Leaf{OpMatch, "metadata", "team", "core"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustParse(t, tt.schema, tt.in)
			if !equalExpr(got, tt.want) {
				t.Fatalf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

// Keys follow the reference's regex metadata\[(.+)]: anything between the
// first "[" and the last "]".
func TestParseMetadataKeys(t *testing.T) {
	for written, key := range map[string]string{
		"metadata[a.b.c]":      "a.b.c",
		"metadata[a[b]]":       "a[b]",
		"metadata[[x]]":        "[x]",
		"metadata[a]b]":        "a]b",
		"metadata[a[b]":        "a[b",
		"metadata[]]":          "]",
		"metadata[ ]":          " ",
		"metadata[k:v/w\\\\z]": `k:v/w\z`,
		"metadata[line\\nbrk]": "line\nbrk",
		"metadata[\\\"q\\\"]":  `"q"`,
		"metadata[metadata[]]": "metadata[]",
	} {
		t.Run(written, func(t *testing.T) {
			e := mustParse(t, Transactions, `{"$match":{"`+written+`":"v"}}`)
			want := Leaf{OpMatch, "metadata", key, "v"}
			if !equalExpr(e, want) {
				t.Fatalf("got %#v, want %#v", e, want)
			}
			// And it round-trips.
			data, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			if again := mustParse(t, Transactions, string(data)); !equalExpr(again, e) {
				t.Fatalf("round trip %s gave %#v", data, again)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	deep := strings.Repeat(`{"$not":`, MaxDepth+1) + `{"$match":{"id":1}}` + strings.Repeat("}", MaxDepth+1)
	tests := []struct {
		name      string
		schema    Schema
		in        string
		fragments []string
	}{
		// JSON shape
		{"malformed", Transactions, `{"$match":`, []string{"unexpected end"}},
		{"malformed token", Transactions, `{"$match" 1}`, []string{"malformed JSON"}},
		{"not an object", Transactions, `[{"$match":{"id":1}}]`, []string{"must be a JSON object", "an array"}},
		{"string", Transactions, `"x"`, []string{"must be a JSON object"}},
		{"number", Transactions, `12`, []string{"must be a JSON object"}},
		{"trailing data", Transactions, `{"$match":{"id":1}} {}`, []string{"unexpected data after the filter"}},
		{"trailing after empty", Transactions, `{} x`, []string{"unexpected data after the filter"}},
		{"two operators", Transactions, `{"$match":{"id":1},"$lt":{"id":2}}`, []string{"exactly one key", `"$match"`, `"$lt"`}},
		{"duplicate operator", Transactions, `{"$match":{"id":1},"$match":{"id":2}}`, []string{"exactly one key"}},
		{"two fields", Transactions, `{"$match":{"id":1,"reference":"x"}}`, []string{"exactly one key", `"id"`, `"reference"`}},
		{"two keys nested", Transactions, `{"$and":[{"$match":{"id":1}},{"$not":{"$match":{"id":1}},"x":1}]}`, []string{"at $and[1]", "exactly one key"}},
		{"no field", Transactions, `{"$match":{}}`, []string{"$match names no field"}},
		{"empty nested", Transactions, `{"$not":{}}`, []string{"at $not", "empty filter object"}},
		{"empty in and", Transactions, `{"$and":[{}]}`, []string{"at $and[0]", "empty filter object"}},
		{"and not array", Transactions, `{"$and":{"$match":{"id":1}}}`, []string{"$and expects an array of filters", "an object"}},
		{"or not array", Transactions, `{"$or":"x"}`, []string{"$or expects an array of filters"}},
		{"and item not object", Transactions, `{"$and":[1]}`, []string{"at $and[0]", "expected a filter object"}},
		{"not not object", Transactions, `{"$not":[]}`, []string{"expected a filter object"}},
		{"leaf not object", Transactions, `{"$match":"id"}`, []string{`$match expects an object`}},
		// operators and fields
		{"unknown operator", Transactions, `{"$eq":{"id":1}}`, []string{`unknown operator "$eq"`}},
		{"unknown operator nested", Transactions, `{"$or":[{"$match":{"id":1}},{"$regex":{"id":1}}]}`, []string{"at $or[1]", `unknown operator "$regex"`}},
		{"operator case", Transactions, `{"$MATCH":{"id":1}}`, []string{`unknown operator "$MATCH"`}},
		{"unknown field", Transactions, `{"$match":{"foo":1}}`, []string{`unknown field "foo" for transactions`, "reference"}},
		{"camelCase not accepted", Transactions, `{"$gt":{"insertedAt":"2024-01-01T00:00:00Z"}}`, []string{`unknown field "insertedAt"`}},
		{"field of another resource", Logs, `{"$match":{"reference":"x"}}`, []string{`unknown field "reference" for logs`}},
		{"account alias only on volumes", Accounts, `{"$match":{"account":"x"}}`, []string{`unknown field "account" for accounts`}},
		{"bare balance on aggregated", AggregatedBalances, `{"$lt":{"balance":0}}`, []string{`unknown field "balance"`}},
		{"key on plain field", Transactions, `{"$match":{"reference[x]":"x"}}`, []string{`field "reference" takes no key`}},
		{"empty key", Transactions, `{"$match":{"metadata[]":"x"}}`, []string{`field "metadata[]" has an empty key`}},
		{"metadata without key", Transactions, `{"$match":{"metadata":"x"}}`, []string{`field "metadata" needs a key`}},
		{"features without key", Ledgers, `{"$match":{"features":"SYNC"}}`, []string{`field "features" needs a key`}},
		{"op not allowed string", Transactions, `{"$lt":{"reference":"x"}}`, []string{`operator $lt is not allowed on field "reference"`, "$match, $like, $in"}},
		{"op not allowed int", Transactions, `{"$like":{"id":"1%"}}`, []string{`operator $like is not allowed on field "id"`}},
		{"op not allowed bool", Transactions, `{"$in":{"reverted":[true]}}`, []string{`operator $in is not allowed on field "reverted"`}},
		{"op not allowed metadata", Transactions, `{"$gt":{"metadata[k]":"1"}}`, []string{`operator $gt is not allowed on field "metadata[k]"`}},
		{"op not allowed balance", Accounts, `{"$in":{"balance[USD]":[1]}}`, []string{`operator $in is not allowed on field "balance[USD]"`}},
		{"exists on plain field", Transactions, `{"$exists":{"reference":"x"}}`, []string{`$exists is not allowed on field "reference"`}},
		{"exists keyed", Transactions, `{"$exists":{"metadata[k]":true}}`, []string{`$exists takes the map and the key`, `{"$exists":{"metadata":"k"}}`}},
		{"exists non-string", Transactions, `{"$exists":{"metadata":true}}`, []string{`$exists on "metadata" expects the key as a string`, "a boolean"}},
		{"exists empty key", Transactions, `{"$exists":{"metadata":""}}`, []string{`$exists on "metadata" has an empty key`}},
		{"exists on balance number", Accounts, `{"$exists":{"balance":1}}`, []string{"expects the key as a string"}},
		// values
		{"string got number", Transactions, `{"$match":{"reference":1}}`, []string{`field "reference" expects a string value, got the number 1`}},
		{"string got null", Transactions, `{"$match":{"reference":null}}`, []string{"got null"}},
		{"string got object", Transactions, `{"$match":{"reference":{"a":"b"}}}`, []string{"got an object"}},
		{"address got number", Transactions, `{"$match":{"account":1}}`, []string{`field "account" expects an address value`}},
		{"metadata got number", Transactions, `{"$match":{"metadata[k]":1}}`, []string{`field "metadata[k]" expects a string value`}},
		{"int got string", Transactions, `{"$match":{"id":"1"}}`, []string{`field "id" expects an integer value, got the string "1"`}},
		{"int got bool", Logs, `{"$match":{"id":true}}`, []string{`expects an integer value, got a boolean`}},
		{"int got array", Logs, `{"$match":{"id":[1]}}`, []string{`got an array`}},
		{"non-integer", Accounts, `{"$lt":{"balance[USD/2]":1.5}}`, []string{`field "balance[USD/2]" expects an integer, got 1.5`}},
		{"non-integer zero fraction", Transactions, `{"$match":{"id":1.0}}`, []string{`expects an integer, got 1.0`}},
		{"exponent", Transactions, `{"$match":{"id":1e3}}`, []string{`expects an integer, got 1e3`}},
		{"too many digits", Accounts, `{"$lt":{"balance":1` + strings.Repeat("0", MaxIntegerDigits) + `}}`, []string{"more than 1000 digits"}},
		{"bool got string", Transactions, `{"$match":{"reverted":"true"}}`, []string{`field "reverted" expects a boolean value`}},
		{"bool got number", Transactions, `{"$match":{"reverted":1}}`, []string{`expects a boolean value`}},
		{"date not RFC3339", Transactions, `{"$lt":{"timestamp":"2024-01-02"}}`, []string{`field "timestamp" expects an RFC3339 date, got "2024-01-02"`}},
		{"date no zone", Transactions, `{"$lt":{"timestamp":"2024-01-02T03:04:05"}}`, []string{"RFC3339 date"}},
		{"date garbage", Logs, `{"$gt":{"date":"yesterday"}}`, []string{`expects an RFC3339 date, got "yesterday"`}},
		{"date bad month", Accounts, `{"$gt":{"first_usage":"2024-13-02T03:04:05Z"}}`, []string{"RFC3339 date"}},
		{"date number", Transactions, `{"$gt":{"timestamp":1700000000}}`, []string{`field "timestamp" expects a date value, got the number`}},
		{"in not array", Transactions, `{"$in":{"reference":"a"}}`, []string{`$in on "reference" expects an array of strings`}},
		{"in number item", Transactions, `{"$in":{"reference":["a",1]}}`, []string{`$in on "reference" expects strings, got the number 1`}},
		{"in nested array", Transactions, `{"$in":{"reference":[["a"]]}}`, []string{`expects strings, got an array`}},
		{"in with pattern", Accounts, `{"$in":{"address":["users:001","users:"]}}`, []string{`$in on "address" accepts full addresses only, got the pattern "users:"`}},
		{"in with open pattern", Transactions, `{"$in":{"source":["users:..."]}}`, []string{`accepts full addresses only`}},
		{"in with wildcard segment", Volumes, `{"$in":{"account":["::admin"]}}`, []string{`accepts full addresses only`}},
		{"in with empty address", AggregatedBalances, `{"$in":{"address":[""]}}`, []string{`accepts full addresses only`}},
		{"like trailing escape", Transactions, `{"$like":{"reference":"abc\\"}}`, []string{"ends with an escape character"}},
		{"NUL in value", Transactions, `{"$match":{"reference":"a\u0000b"}}`, []string{"NUL"}},
		{"NUL in key", Transactions, `{"$match":{"metadata[a\u0000]":"b"}}`, []string{"NUL"}},
		{"NUL in in", Transactions, `{"$in":{"reference":["\u0000"]}}`, []string{"NUL"}},
		{"NUL in exists", Transactions, `{"$exists":{"metadata":"\u0000"}}`, []string{"NUL"}},
		// bounds
		{"too deep", Transactions, deep, []string{"nested more than 32 levels"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Parse([]byte(tt.in), tt.schema)
			if err == nil {
				t.Fatalf("accepted as %#v", e)
			}
			if e != nil {
				t.Fatalf("error %v came with an expression", err)
			}
			wantValidation(t, err, tt.fragments...)
		})
	}
}

func TestParseBounds(t *testing.T) {
	nest := func(n int) string {
		return strings.Repeat(`{"$and":[`, n) + `{"$match":{"id":1}}` + strings.Repeat("]}", n)
	}
	mustParse(t, Transactions, nest(MaxDepth))
	_, err := Parse([]byte(nest(MaxDepth+1)), Transactions)
	wantValidation(t, err, "nested more than")

	// The $or itself counts as one expression.
	leaves := func(n int) string {
		items := make([]string, n)
		for i := range items {
			items[i] = fmt.Sprintf(`{"$match":{"id":%d}}`, i)
		}
		return `{"$or":[` + strings.Join(items, ",") + `]}`
	}
	mustParse(t, Transactions, leaves(MaxNodes-1))
	_, err = Parse([]byte(leaves(MaxNodes)), Transactions)
	wantValidation(t, err, "more than 1000 expressions")
	empties := `{"$and":[` + strings.Repeat(`{"$and":[]},`, MaxNodes) + `{"$and":[]}]}`
	_, err = Parse([]byte(empties), Transactions)
	wantValidation(t, err, "more than 1000 expressions")

	values := func(n int) string {
		items := make([]string, n)
		for i := range items {
			items[i] = fmt.Sprintf(`"r%d"`, i)
		}
		return `{"$in":{"reference":[` + strings.Join(items, ",") + `]}}`
	}
	mustParse(t, Transactions, values(MaxInValues))
	_, err = Parse([]byte(values(MaxInValues+1)), Transactions)
	wantValidation(t, err, "more than 10000 values")

	mustParse(t, Accounts, `{"$lt":{"balance":-`+strings.Repeat("9", MaxIntegerDigits)+`}}`)

	long := strings.Repeat("x", 10000)
	_, err = Parse([]byte(`{"$match":{"`+long+`":1}}`), Transactions)
	wantValidation(t, err, "unknown field")
	if len(err.Error()) > 1000 {
		t.Fatalf("error echoes too much input: %d bytes", len(err.Error()))
	}
}

func TestParseNested(t *testing.T) {
	in := `{"$or":[
		{"$and":[
			{"$match":{"source":"users:"}},
			{"$not":{"$match":{"reverted":true}}},
			{"$or":[]}
		]},
		{"$not":{"$not":{"$in":{"reference":["a"]}}}},
		{"$and":[]}
	]}`
	want := Or{Exprs: []Expr{
		And{Exprs: []Expr{
			Leaf{OpMatch, "source", "", "users:"},
			Not{Expr: Leaf{OpMatch, "reverted", "", true}},
			Or{Exprs: []Expr{}},
		}},
		Not{Expr: Not{Expr: Leaf{OpIn, "reference", "", []string{"a"}}}},
		And{Exprs: []Expr{}},
	}}
	got := mustParse(t, Transactions, in)
	if !equalExpr(got, want) {
		t.Fatalf("got  %#v\nwant %#v", got, want)
	}
	// Validation reaches into nested leaves too.
	_, err := Parse([]byte(`{"$or":[{"$and":[{"$not":{"$match":{"nope":1}}}]}]}`), Transactions)
	wantValidation(t, err, "at $or[0].$and[0].$not.$match", `unknown field "nope"`)
}

func TestParseSpecExample(t *testing.T) {
	in := `{"$and":[{"$match":{"address":"users:"}},{"$lt":{"balance[USD/2]":0}},{"$not":{"$exists":{"metadata":"frozen"}}}]}`
	want := And{Exprs: []Expr{
		Leaf{OpMatch, "address", "", "users:"},
		Leaf{OpLT, "balance", "USD/2", bigInt(t, "0")},
		Not{Expr: Leaf{OpExists, "metadata", "frozen", nil}},
	}}
	got := mustParse(t, Accounts, in)
	if !equalExpr(got, want) {
		t.Fatalf("got  %#v\nwant %#v", got, want)
	}
	data, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != in {
		t.Fatalf("marshal:\n got  %s\n want %s", data, in)
	}
	// The same filter means something on volumes, but not on transactions.
	mustParse(t, Volumes, in)
	_, err = Parse([]byte(in), Transactions)
	wantValidation(t, err, `unknown field "address"`)
}

func TestMarshalRoundTrip(t *testing.T) {
	tests := []struct {
		schema Schema
		in     string
		out    string // canonical form, when it differs from in
	}{
		{Transactions, `{"$match":{"id":18446744073709551616}}`, ""},
		{Transactions, `{"$gte":{"timestamp":"2024-01-02T03:04:05.120000+02:00"}}`, `{"$gte":{"timestamp":"2024-01-02T01:04:05.12Z"}}`},
		{Transactions, `{"$in":{"reference":[]}}`, ""},
		{Transactions, `{"$like":{"reference":"a\u003cb%"}}`, ""},
		{Transactions, `{"$or":[]}`, ""},
		{Transactions, `{"$and":[{"$match":{"reverted":false}},{"$not":{"$exists":{"metadata":"k"}}}]}`, ""},
		{Volumes, `{"$match":{"account":"users:"}}`, `{"$match":{"address":"users:"}}`},
		{Ledgers, `{"$match":{"features[HASH_LOGS]":"SYNC"}}`, ""},
		{Accounts, `{"$lt":{"balance":-5}}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			e := mustParse(t, tt.schema, tt.in)
			data, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.out
			if want == "" {
				want = tt.in
			}
			if string(data) != want {
				t.Fatalf("marshal:\n got  %s\n want %s", data, want)
			}
			if again := mustParse(t, tt.schema, string(data)); !equalExpr(again, e) {
				t.Fatalf("reparse gave %#v, want %#v", again, e)
			}
		})
	}
}

func TestMarshalEdgeCases(t *testing.T) {
	for _, tt := range []struct {
		e    Expr
		want string
	}{
		{And{}, `{"$and":[]}`},
		{Or{}, `{"$or":[]}`},
		{Not{}, `{"$not":{"$and":[]}}`},
		{Leaf{Op: OpIn, Field: "reference"}, `{"$in":{"reference":null}}`},
		{Leaf{Op: OpIn, Field: "reference", Value: []string(nil)}, `{"$in":{"reference":[]}}`},
		{Leaf{Op: OpExists, Field: "metadata", Key: "k", Value: "ignored"}, `{"$exists":{"metadata":"k"}}`},
	} {
		data, err := json.Marshal(tt.e)
		if err != nil {
			t.Fatal(err)
		}
		if string(data) != tt.want {
			t.Errorf("%#v: got %s, want %s", tt.e, data, tt.want)
		}
	}
}

func TestWalkAndLeaves(t *testing.T) {
	e := mustParse(t, Accounts, `{"$and":[{"$match":{"address":"users:"}},{"$or":[{"$lt":{"balance[USD/2]":0}},{"$not":{"$exists":{"metadata":"frozen"}}}]}]}`)

	var kinds []string
	Walk(e, func(n Expr) bool {
		kinds = append(kinds, fmt.Sprintf("%T", n))
		return true
	})
	if got := strings.Join(kinds, " "); got != "query.And query.Leaf query.Or query.Leaf query.Not query.Leaf" {
		t.Fatalf("walk order: %s", got)
	}

	kinds = nil
	Walk(e, func(n Expr) bool {
		kinds = append(kinds, fmt.Sprintf("%T", n))
		_, isOr := n.(Or)
		return !isOr
	})
	if got := strings.Join(kinds, " "); got != "query.And query.Leaf query.Or" {
		t.Fatalf("pruned walk: %s", got)
	}
	Walk(nil, func(Expr) bool { t.Fatal("visited nil"); return true })

	var names []string
	for l := range Leaves(e) {
		names = append(names, l.Name())
	}
	if got := strings.Join(names, " "); got != "address balance[USD/2] metadata" {
		t.Fatalf("leaves: %s", got)
	}
	for range Leaves(e) {
		break // stopping early must not panic
	}
	if !UsesField(e, "metadata") || !UsesField(e, "balance") || UsesField(e, "first_usage") || UsesField(nil, "address") {
		t.Fatal("UsesField")
	}
}

package query

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kontorhq/kontor/domain"
)

// Bounds on one filter. A filter beyond them is rejected with VALIDATION.
const (
	// MaxDepth is how deeply $and, $or and $not may nest.
	MaxDepth = 32
	// MaxNodes is how many expressions ($and, $or, $not and predicates) one
	// filter may hold.
	MaxNodes = 1000
	// MaxInValues is how many values one $in may list.
	MaxInValues = 10000
	// MaxIntegerDigits is how many digits an integer value may have.
	MaxIntegerDigits = 1000
)

// Parse decodes a JSON filter and validates every field, operator and value
// against schema. An empty (or all-blank) body, null and {} mean "no filter"
// and yield a nil Expr. Any other problem yields a *domain.Error with code
// VALIDATION whose message names the offending field or operator.
func Parse(data []byte, schema Schema) (Expr, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	p := &parser{dec: dec, schema: schema}

	tok, err := dec.Token()
	if err == io.EOF {
		return nil, nil
	}
	if err != nil {
		return nil, p.syntax("", err)
	}
	var expr Expr
	switch tok {
	case nil:
	case json.Delim('{'):
		if dec.More() {
			if expr, err = p.object("", 0); err != nil {
				return nil, err
			}
		} else if _, err := p.next(""); err != nil { // the closing '}' of {}
			return nil, err
		}
	default:
		return nil, p.fail("", "a filter must be a JSON object, got %s", describe(tok))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, p.fail("", "unexpected data after the filter")
	}
	return expr, nil
}

type parser struct {
	dec    *json.Decoder
	schema Schema
	nodes  int
}

// fail builds the VALIDATION error; path locates the node, e.g. "$and[1].$not".
func (p *parser) fail(path, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if path != "" {
		return domain.Errorf(domain.CodeValidation, "invalid filter at %s: %s", path, msg)
	}
	return domain.Errorf(domain.CodeValidation, "invalid filter: %s", msg)
}

func (p *parser) syntax(path string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return p.fail(path, "unexpected end of JSON")
	}
	return p.fail(path, "malformed JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
}

func (p *parser) next(path string) (json.Token, error) {
	tok, err := p.dec.Token()
	if err != nil {
		return nil, p.syntax(path, err)
	}
	return tok, nil
}

// expect reads a token that must be the delimiter d.
func (p *parser) expect(path string, d json.Delim, what string) error {
	tok, err := p.next(path)
	if err != nil {
		return err
	}
	if tok != d {
		return p.fail(path, "%s, got %s", what, describe(tok))
	}
	return nil
}

// closeObject reads the '}' ending an object that must hold one key.
func (p *parser) closeObject(path, first, what string) error {
	tok, err := p.next(path)
	if err != nil {
		return err
	}
	if tok == json.Delim('}') {
		return nil
	}
	if key, ok := tok.(string); ok {
		return p.fail(path, "%s must have exactly one key, found %q and %q", what, clip(first), clip(key))
	}
	return p.fail(path, "%s must have exactly one key", what)
}

// object parses an expression object whose '{' was read and which is known
// to hold at least one key. depth counts the enclosing $and/$or/$not.
func (p *parser) object(path string, depth int) (Expr, error) {
	p.nodes++
	if p.nodes > MaxNodes {
		return nil, p.fail(path, "filter has more than %d expressions", MaxNodes)
	}
	tok, err := p.next(path)
	if err != nil {
		return nil, err
	}
	key, _ := tok.(string)
	var expr Expr
	switch key {
	case "$and", "$or":
		expr, err = p.set(join(path, key), key, depth+1)
	case "$not":
		expr, err = p.not(join(path, key), depth+1)
	case string(OpMatch), string(OpLike), string(OpIn), string(OpLT), string(OpLTE),
		string(OpGT), string(OpGTE), string(OpExists):
		expr, err = p.leaf(join(path, key), Op(key))
	default:
		return nil, p.fail(path, "unknown operator %q (expected $and, $or, $not, $match, $like, $in, $lt, $lte, $gt, $gte or $exists)", clip(key))
	}
	if err != nil {
		return nil, err
	}
	if err := p.closeObject(path, key, "a filter object"); err != nil {
		return nil, err
	}
	return expr, nil
}

// child parses an expression object, '{' included, nested under path.
func (p *parser) child(path string, depth int) (Expr, error) {
	if depth > MaxDepth {
		return nil, p.fail(path, "filter nested more than %d levels deep", MaxDepth)
	}
	if err := p.expect(path, '{', "expected a filter object"); err != nil {
		return nil, err
	}
	if !p.dec.More() {
		return nil, p.fail(path, "empty filter object")
	}
	return p.object(path, depth)
}

func (p *parser) set(path, op string, depth int) (Expr, error) {
	if err := p.expect(path, '[', op+" expects an array of filters"); err != nil {
		return nil, err
	}
	exprs := []Expr{}
	for p.dec.More() {
		sub, err := p.child(fmt.Sprintf("%s[%d]", path, len(exprs)), depth)
		if err != nil {
			return nil, err
		}
		exprs = append(exprs, sub)
	}
	if _, err := p.next(path); err != nil { // ']'
		return nil, err
	}
	if op == "$and" {
		return And{Exprs: exprs}, nil
	}
	return Or{Exprs: exprs}, nil
}

func (p *parser) not(path string, depth int) (Expr, error) {
	sub, err := p.child(path, depth)
	if err != nil {
		return nil, err
	}
	return Not{Expr: sub}, nil
}

// leaf parses {"<field>": value} after the operator key.
func (p *parser) leaf(path string, op Op) (Expr, error) {
	if err := p.expect(path, '{', fmt.Sprintf(`%s expects an object {"<field>": value}`, op)); err != nil {
		return nil, err
	}
	tok, err := p.next(path)
	if err != nil {
		return nil, err
	}
	name, ok := tok.(string)
	if !ok { // '}' of an empty object
		return nil, p.fail(path, "%s names no field", op)
	}
	if err := checkText(name); err != nil {
		return nil, p.fail(path, "field name %q %s", clip(name), err)
	}
	f, key, keyed, err := p.resolve(path, name)
	if err != nil {
		return nil, err
	}
	name = clip(name) // from here on, name only appears in messages
	leaf := Leaf{Op: op, Field: f.Name, Key: key}
	if op == OpExists {
		if !f.Map {
			return nil, p.fail(path, "operator $exists is not allowed on field %q (allowed: %s)", name, opList(f.Type.Ops()))
		}
		if keyed {
			return nil, p.fail(path, `operator $exists takes the map and the key, as in {"$exists":{%q:%q}}`, f.Name, clip(key))
		}
		if leaf.Key, err = p.existsKey(path, name); err != nil {
			return nil, err
		}
	} else {
		if f.Map && !keyed && !f.Bare {
			return nil, p.fail(path, `field %q needs a key, as in "%s[key]" (or use $exists)`, name, name)
		}
		if !f.Type.accepts(op) {
			return nil, p.fail(path, "operator %s is not allowed on field %q (allowed: %s)", op, name, opList(allowed(f, keyed)))
		}
		if leaf.Value, err = p.value(path, name, f.Type, op); err != nil {
			return nil, err
		}
	}
	if err := p.closeObject(path, name, fmt.Sprintf("the object of %s", op)); err != nil {
		return nil, err
	}
	return leaf, nil
}

// resolve maps a field as written ("reference", "account", "metadata[k]")
// to its schema field and key.
func (p *parser) resolve(path, name string) (f Field, key string, keyed bool, err error) {
	if f, ok := p.schema.Lookup(name); ok {
		return f, "", false, nil
	}
	if open := strings.IndexByte(name, '['); open > 0 && strings.HasSuffix(name, "]") {
		base, key := name[:open], name[open+1:len(name)-1]
		if f, ok := p.schema.Lookup(base); ok {
			switch {
			case !f.Map:
				return Field{}, "", false, p.fail(path, "field %q takes no key", base)
			case key == "":
				return Field{}, "", false, p.fail(path, "field %q has an empty key", name)
			}
			return f, key, true, nil
		}
	}
	return Field{}, "", false, p.fail(path, "unknown field %q for %s (known: %s)", clip(name), p.schema.Resource(), p.schema.names())
}

func allowed(f Field, keyed bool) []Op {
	if f.Map && !keyed {
		return f.Ops()
	}
	return f.Type.Ops()
}

func (p *parser) existsKey(path, name string) (string, error) {
	tok, err := p.next(path)
	if err != nil {
		return "", err
	}
	key, ok := tok.(string)
	if !ok {
		return "", p.fail(path, "$exists on %q expects the key as a string, got %s", name, describe(tok))
	}
	if key == "" {
		return "", p.fail(path, "$exists on %q has an empty key", name)
	}
	if err := checkText(key); err != nil {
		return "", p.fail(path, "$exists key %q %s", clip(key), err)
	}
	return key, nil
}

// value reads the value of a leaf whose field and operator were checked.
func (p *parser) value(path, name string, t Type, op Op) (any, error) {
	if op == OpIn {
		return p.inValues(path, name, t)
	}
	tok, err := p.next(path)
	if err != nil {
		return nil, err
	}
	bad := func() error {
		return p.fail(path, "field %q expects %s value, got %s", name, article(t), describe(tok))
	}
	switch t {
	case TypeString, TypeAddress:
		s, ok := tok.(string)
		if !ok {
			return nil, bad()
		}
		if err := checkText(s); err != nil {
			return nil, p.fail(path, "value of %q %s", name, err)
		}
		if op == OpLike {
			if _, ok := compileLike(s); !ok {
				return nil, p.fail(path, "$like pattern %q of %q ends with an escape character", clip(s), name)
			}
		}
		return s, nil
	case TypeInt:
		n, ok := tok.(json.Number)
		if !ok {
			return nil, bad()
		}
		return p.integer(path, name, n)
	case TypeDate:
		s, ok := tok.(string)
		if !ok {
			return nil, bad()
		}
		d, err := parseDate(s)
		if err != nil {
			return nil, p.fail(path, "field %q expects an RFC3339 date, got %q", name, clip(s))
		}
		return d, nil
	case TypeBool:
		b, ok := tok.(bool)
		if !ok {
			return nil, bad()
		}
		return b, nil
	}
	return nil, bad()
}

func (p *parser) inValues(path, name string, t Type) (any, error) {
	if err := p.expect(path, '[', fmt.Sprintf("$in on %q expects an array of strings", name)); err != nil {
		return nil, err
	}
	values := []string{}
	for p.dec.More() {
		tok, err := p.next(path)
		if err != nil {
			return nil, err
		}
		s, ok := tok.(string)
		if !ok {
			return nil, p.fail(path, "$in on %q expects strings, got %s", name, describe(tok))
		}
		if err := checkText(s); err != nil {
			return nil, p.fail(path, "value of %q %s", name, err)
		}
		if t == TypeAddress && !ParseAddressPattern(s).IsFull() {
			return nil, p.fail(path, "$in on %q accepts full addresses only, got the pattern %q", name, clip(s))
		}
		if len(values) == MaxInValues {
			return nil, p.fail(path, "$in on %q lists more than %d values", name, MaxInValues)
		}
		values = append(values, s)
	}
	if _, err := p.next(path); err != nil { // ']'
		return nil, err
	}
	return values, nil
}

func (p *parser) integer(path, name string, n json.Number) (*big.Int, error) {
	s := n.String()
	if len(strings.TrimPrefix(s, "-")) > MaxIntegerDigits {
		return nil, p.fail(path, "value of %q has more than %d digits", name, MaxIntegerDigits)
	}
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return nil, p.fail(path, "field %q expects an integer, got %s", name, clip(s))
	}
	return v, nil
}

// parseDate reads an RFC3339 date (fractional seconds optional, any offset)
// and returns it in UTC, rounded to the microsecond.
func parseDate(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC().Round(time.Microsecond), nil
}

// checkText rejects strings PostgreSQL cannot store in text or jsonb.
func checkText(s string) error {
	if strings.IndexByte(s, 0) >= 0 {
		return errors.New("contains a NUL character")
	}
	return nil
}

func join(path, op string) string {
	if path == "" {
		return op
	}
	return path + "." + op
}

func describe(tok json.Token) string {
	switch tok := tok.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "the number " + clip(tok.String())
	case string:
		return "the string " + strconv.Quote(clip(tok))
	case json.Delim:
		switch tok {
		case '{':
			return "an object"
		case '[':
			return "an array"
		}
		return "the end of an object or array"
	}
	return fmt.Sprintf("%v", tok)
}

func article(t Type) string {
	if t == TypeInt || t == TypeAddress {
		return "an " + t.String()
	}
	return "a " + t.String()
}

func opList(ops []Op) string {
	names := make([]string, len(ops))
	for i, op := range ops {
		names[i] = string(op)
	}
	return strings.Join(names, ", ")
}

// clip shortens user input quoted in error messages.
func clip(s string) string {
	const limit = 64
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

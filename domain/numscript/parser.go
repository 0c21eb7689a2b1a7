package numscript

import (
	"math/big"
	"strings"
)

// Bounds on one script. A script beyond them is rejected with a parse error.
const (
	// MaxScriptBytes is the largest script Parse accepts.
	MaxScriptBytes = 1 << 20
	// MaxNesting is how deeply sources, destinations and expressions may nest.
	MaxNesting = 100
)

// Parse reads a Numscript program. A syntax error is a *domain.Error with
// code INTERPRETER_PARSE, a "line:column: ..." message and *ErrorDetails.
func Parse(src string) (*Program, error) {
	if len(src) > MaxScriptBytes {
		return nil, parseErrorf(Range{Start: Position{Line: 1, Column: 1}, End: Position{Line: 1, Column: 1}},
			"script is larger than %d bytes", MaxScriptBytes)
	}
	l, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: l.tokens}
	prog, err := p.program()
	if err != nil {
		return nil, err
	}
	prog.Source = src
	prog.Version = l.version
	return prog, nil
}

// parser is a recursive-descent parser over the lexer's tokens.
type parser struct {
	toks  []token
	i     int
	depth int
}

func (p *parser) peek() token { return p.toks[p.i] }

// peekAt returns the token n places ahead (the EOF token past the end).
func (p *parser) peekAt(n int) token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

// isKeyword reports whether the current token is the word kw.
func (p *parser) isKeyword(kw string) bool {
	t := p.peek()
	return t.kind == tokIdent && t.text == kw
}

// unexpected returns the error "unexpected X, expected what" at the current
// token.
func (p *parser) unexpected(what string) error {
	t := p.peek()
	return parseErrorf(t.rng, "unexpected %s, expected %s", t.describe(), what)
}

// expect consumes a token of the given kind.
func (p *parser) expect(kind tokenKind) (token, error) {
	if p.peek().kind != kind {
		return token{}, p.unexpected(kind.String())
	}
	return p.next(), nil
}

// expectKeyword consumes the word kw.
func (p *parser) expectKeyword(kw string) (token, error) {
	if !p.isKeyword(kw) {
		return token{}, p.unexpected("'" + kw + "'")
	}
	return p.next(), nil
}

// enter counts one nesting level and fails past MaxNesting; leave undoes it.
func (p *parser) enter() error {
	p.depth++
	if p.depth > MaxNesting {
		return parseErrorf(p.peek().rng, "script is nested more than %d levels deep", MaxNesting)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

// program := featureDecl? varsBlock? statement* EOF
func (p *parser) program() (*Program, error) {
	prog := &Program{}
	if p.peek().kind == tokHashBang {
		features, err := p.features()
		if err != nil {
			return nil, err
		}
		prog.Features = features
	}
	if p.isKeyword("vars") {
		vars, err := p.vars()
		if err != nil {
			return nil, err
		}
		prog.Vars = vars
	}
	for p.peek().kind != tokEOF {
		stmt, err := p.statement()
		if err != nil {
			return nil, err
		}
		prog.Statements = append(prog.Statements, stmt)
	}
	return prog, nil
}

// features := '#!' '[' 'feature' '(' (STRING (',' STRING)*)? ')' ']'
func (p *parser) features() ([]Feature, error) {
	p.next()
	if _, err := p.expect(tokLBracket); err != nil {
		return nil, err
	}
	if _, err := p.expectKeyword("feature"); err != nil {
		return nil, err
	}
	if _, err := p.expect(tokLParen); err != nil {
		return nil, err
	}
	var features []Feature
	for p.peek().kind != tokRParen {
		if len(features) > 0 {
			if _, err := p.expect(tokComma); err != nil {
				return nil, err
			}
		}
		t, err := p.expect(tokString)
		if err != nil {
			return nil, err
		}
		features = append(features, Feature{Name: t.text, Range: t.rng})
	}
	p.next()
	if _, err := p.expect(tokRBracket); err != nil {
		return nil, err
	}
	return features, nil
}

// vars := 'vars' '{' (type $name ('=' expr)?)* '}'
func (p *parser) vars() ([]VarDecl, error) {
	p.next()
	if _, err := p.expect(tokLBrace); err != nil {
		return nil, err
	}
	var decls []VarDecl
	for p.peek().kind != tokRBrace {
		if p.peek().kind != tokIdent {
			return nil, p.unexpected("a variable type (account, asset, number, monetary, portion, string) or '}'")
		}
		typ := p.next()
		name, err := p.expect(tokVariable)
		if err != nil {
			return nil, err
		}
		decl := VarDecl{
			Type: typ.text, TypeRange: typ.rng,
			Name: name.text[1:], NameRange: name.rng,
			Range: span(typ.rng, name.rng),
		}
		if p.peek().kind == tokEq {
			p.next()
			origin, err := p.expr()
			if err != nil {
				return nil, err
			}
			decl.Origin = origin
			decl.Range = span(typ.rng, origin.Span())
		}
		decls = append(decls, decl)
	}
	p.next()
	return decls, nil
}

// statement := send | save | call
func (p *parser) statement() (Statement, error) {
	t := p.peek()
	switch {
	case p.isKeyword("send"):
		return p.send()
	case p.isKeyword("save"):
		return p.save()
	case t.kind == tokIdent && p.peekAt(1).kind == tokLParen:
		return p.call()
	}
	return nil, p.unexpected("a statement (send, save or a function call)")
}

// send := 'send' sentValue '(' 'source' '=' source 'destination' '=' destination ')'
func (p *parser) send() (Statement, error) {
	start := p.next()
	amount, all, err := p.sentValue()
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tokLParen); err != nil {
		return nil, err
	}
	if _, err := p.expectKeyword("source"); err != nil {
		return nil, err
	}
	if _, err := p.expect(tokEq); err != nil {
		return nil, err
	}
	src, err := p.source()
	if err != nil {
		return nil, err
	}
	if _, err := p.expectKeyword("destination"); err != nil {
		return nil, err
	}
	if _, err := p.expect(tokEq); err != nil {
		return nil, err
	}
	dst, err := p.destination()
	if err != nil {
		return nil, err
	}
	end, err := p.expect(tokRParen)
	if err != nil {
		return nil, err
	}
	return &Send{Amount: amount, AllAsset: all, Source: src, Destination: dst, Range: span(start.rng, end.rng)}, nil
}

// save := 'save' sentValue 'from' expr
func (p *parser) save() (Statement, error) {
	start := p.next()
	amount, all, err := p.sentValue()
	if err != nil {
		return nil, err
	}
	if _, err := p.expectKeyword("from"); err != nil {
		return nil, err
	}
	account, err := p.expr()
	if err != nil {
		return nil, err
	}
	return &Save{Amount: amount, AllAsset: all, Account: account, Range: span(start.rng, account.Span())}, nil
}

// sentValue := '[' primary '*' ']' | expr. It returns the amount expression,
// or the asset of a send-all.
func (p *parser) sentValue() (amount, allAsset Expr, err error) {
	if p.peek().kind != tokLBracket {
		amount, err = p.expr()
		return amount, nil, err
	}
	lb := p.next()
	asset, err := p.unary()
	if err != nil {
		return nil, nil, err
	}
	if p.peek().kind == tokStar {
		p.next()
		if _, err := p.expect(tokRBracket); err != nil {
			return nil, nil, err
		}
		return nil, asset, nil
	}
	lit, err := p.monetaryRest(lb, asset)
	if err != nil {
		return nil, nil, err
	}
	amount, err = p.binaryRest(lit, 0)
	return amount, nil, err
}

// call := name '(' (expr (',' expr)*)? ')'
func (p *parser) call() (*Call, error) {
	name := p.next()
	p.next() // '('
	c := &Call{Name: name.text, NameRange: name.rng}
	for p.peek().kind != tokRParen {
		if len(c.Args) > 0 {
			if _, err := p.expect(tokComma); err != nil {
				return nil, err
			}
		}
		arg, err := p.expr()
		if err != nil {
			return nil, err
		}
		c.Args = append(c.Args, arg)
	}
	end := p.next()
	c.Range = span(name.rng, end.rng)
	return c, nil
}

// stripUnderscores removes the digit separators of a number literal.
func stripUnderscores(s string) string { return strings.ReplaceAll(s, "_", "") }

// parsePercent converts "12.5%" into 1/8.
func parsePercent(text string) *big.Rat {
	r, _ := new(big.Rat).SetString(strings.TrimSuffix(text, "%")) // the lexer guarantees the shape
	return r.Quo(r, big.NewRat(100, 1))
}

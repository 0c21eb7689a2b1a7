package numscript

import "math/big"

// expr := unary (('+' | '-' | '/') unary)*, '/' binding tighter.
func (p *parser) expr() (Expr, error) {
	left, err := p.unary()
	if err != nil {
		return nil, err
	}
	return p.binaryRest(left, 0)
}

// binaryOp returns the operator and precedence of the current token.
func (p *parser) binaryOp() (Operator, int, bool) {
	switch p.peek().kind {
	case tokPlus:
		return OpAdd, 1, true
	case tokMinus:
		return OpSub, 1, true
	case tokSlash:
		return OpDiv, 2, true
	}
	return 0, 0, false
}

// binaryRest continues an expression whose first operand is left, taking
// operators of precedence minPrec and above (precedence climbing).
func (p *parser) binaryRest(left Expr, minPrec int) (Expr, error) {
	for {
		op, prec, ok := p.binaryOp()
		if !ok || prec < minPrec {
			return left, nil
		}
		p.next()
		right, err := p.unary()
		if err != nil {
			return nil, err
		}
		for {
			_, next, ok := p.binaryOp()
			if !ok || next <= prec {
				break
			}
			if right, err = p.binaryRest(right, next); err != nil {
				return nil, err
			}
		}
		left = &Infix{Op: op, Left: left, Right: right, Range: span(left.Span(), right.Span())}
	}
}

// unary := '-' unary | primary
func (p *parser) unary() (Expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	if p.peek().kind == tokMinus {
		minus := p.next()
		operand, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &Negation{Operand: operand, Range: span(minus.rng, operand.Span())}, nil
	}
	return p.primary()
}

// primary := variable | account | asset | number | percent | string
//
//	| '[' primary expr ']' | '(' expr ')' | call
func (p *parser) primary() (Expr, error) {
	t := p.peek()
	switch t.kind {
	case tokVariable:
		p.next()
		return &Variable{Name: t.text[1:], Range: t.rng}, nil
	case tokAccount:
		p.next()
		return &AccountLit{Parts: t.parts, Range: t.rng}, nil
	case tokAsset:
		p.next()
		return &AssetLit{Asset: t.text, Range: t.rng}, nil
	case tokNumber:
		p.next()
		n, _ := new(big.Int).SetString(stripUnderscores(t.text), 10) // the lexer guarantees digits
		return &NumberLit{Value: n, Range: t.rng}, nil
	case tokPercent:
		p.next()
		return &PercentLit{Value: parsePercent(t.text), Range: t.rng}, nil
	case tokString:
		p.next()
		return &StringLit{Value: t.text, Range: t.rng}, nil
	case tokLBracket:
		lb := p.next()
		asset, err := p.unary()
		if err != nil {
			return nil, err
		}
		if p.peek().kind == tokStar {
			return nil, parseErrorf(p.peek().rng, "[ASSET *] is only allowed as the amount of a send or a save")
		}
		return p.monetaryRest(lb, asset)
	case tokLParen:
		p.next()
		inner, err := p.expr()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tokRParen); err != nil {
			return nil, err
		}
		return inner, nil
	case tokIdent:
		if p.peekAt(1).kind == tokLParen {
			return p.call()
		}
	}
	return nil, p.unexpected("an expression")
}

// monetaryRest parses the amount and ']' of a monetary literal whose '[' and
// asset were read.
func (p *parser) monetaryRest(lb token, asset Expr) (Expr, error) {
	amount, err := p.expr()
	if err != nil {
		return nil, err
	}
	rb, err := p.expect(tokRBracket)
	if err != nil {
		return nil, err
	}
	return &MonetaryLit{Asset: asset, Amount: amount, Range: span(lb.rng, rb.rng)}, nil
}

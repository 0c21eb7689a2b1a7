package numscript

// destination := '{' block '}' | 'oneof' '{' clause* 'remaining' target '}' | expr
func (p *parser) destination() (Destination, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	switch {
	case p.peek().kind == tokLBrace:
		return p.destinationBlock()
	case p.isKeyword("oneof") && p.peekAt(1).kind == tokLBrace:
		return p.destinationOneOf()
	}
	account, err := p.expr()
	if err != nil {
		return nil, err
	}
	return &DestAccount{Account: account, Range: account.Span()}, nil
}

// destinationBlock parses an allotment { portion to|kept ... } or an
// in-order block { max cap to|kept ... remaining to|kept }.
func (p *parser) destinationBlock() (Destination, error) {
	lb := p.next()
	var items []DestAllotmentItem
	var clauses []DestClause
	var remaining *Target
	for p.peek().kind != tokRBrace {
		first := p.peek()
		switch {
		case first.kind == tokEOF:
			return nil, p.unexpected("'}'")
		case p.isKeyword("max"):
			if len(items) > 0 || remaining != nil {
				return nil, parseErrorf(first.rng, "unexpected 'max': a 'max' clause must come before 'remaining' and cannot be mixed with portions")
			}
			clause, err := p.destinationClause()
			if err != nil {
				return nil, err
			}
			clauses = append(clauses, clause)
		case p.isKeyword("remaining"):
			p.next()
			target, err := p.target()
			if err != nil {
				return nil, err
			}
			if len(clauses) > 0 || (len(items) == 0 && p.peek().kind == tokRBrace) {
				if remaining != nil {
					return nil, parseErrorf(first.rng, "duplicate 'remaining' clause")
				}
				remaining = &target
				if p.peek().kind != tokRBrace {
					return nil, p.unexpected("'}' after the 'remaining' clause")
				}
				continue
			}
			items = append(items, DestAllotmentItem{To: target, Range: span(first.rng, target.Range)})
		default:
			if len(clauses) > 0 {
				return nil, p.unexpected("'max' or 'remaining'")
			}
			portion, err := p.expr()
			if err != nil {
				return nil, err
			}
			target, err := p.target()
			if err != nil {
				return nil, err
			}
			items = append(items, DestAllotmentItem{Portion: portion, To: target, Range: span(first.rng, target.Range)})
		}
	}
	rb := p.next()
	rng := span(lb.rng, rb.rng)
	switch {
	case len(items) > 0:
		return &DestAllotment{Items: items, Range: rng}, nil
	case remaining != nil:
		return &DestInOrder{Clauses: clauses, Remaining: *remaining, Range: rng}, nil
	case len(clauses) > 0:
		return nil, parseErrorf(rb.rng, "unexpected '}', expected a 'remaining' clause")
	}
	return nil, parseErrorf(rng, "empty destination block")
}

// destinationOneOf := 'oneof' '{' clause* 'remaining' target '}'
func (p *parser) destinationOneOf() (Destination, error) {
	kw := p.next()
	p.next() // '{'
	var clauses []DestClause
	for p.isKeyword("max") {
		clause, err := p.destinationClause()
		if err != nil {
			return nil, err
		}
		clauses = append(clauses, clause)
	}
	if _, err := p.expectKeyword("remaining"); err != nil {
		return nil, p.unexpected("'max' or 'remaining'")
	}
	remaining, err := p.target()
	if err != nil {
		return nil, err
	}
	rb, err := p.expect(tokRBrace)
	if err != nil {
		return nil, err
	}
	return &DestOneOf{Clauses: clauses, Remaining: remaining, Range: span(kw.rng, rb.rng)}, nil
}

// destinationClause := 'max' expr target
func (p *parser) destinationClause() (DestClause, error) {
	kw := p.next()
	limit, err := p.expr()
	if err != nil {
		return DestClause{}, err
	}
	target, err := p.target()
	if err != nil {
		return DestClause{}, err
	}
	return DestClause{Cap: limit, To: target, Range: span(kw.rng, target.Range)}, nil
}

// target := 'to' destination | 'kept'
func (p *parser) target() (Target, error) {
	t := p.peek()
	switch {
	case p.isKeyword("kept"):
		p.next()
		return Target{Kept: true, Range: t.rng}, nil
	case p.isKeyword("to"):
		p.next()
		dst, err := p.destination()
		if err != nil {
			return Target{}, err
		}
		return Target{Destination: dst, Range: span(t.rng, dst.Span())}, nil
	}
	return Target{}, p.unexpected("'to' or 'kept'")
}

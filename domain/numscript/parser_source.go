package numscript

// source := '{' block '}' | 'oneof' '{' source+ '}' | 'max' expr 'from' source
//
//	| expr ('\' expr)? ('allowing' ('unbounded' 'overdraft' | 'overdraft' 'up' 'to' expr))?
//	| expr 'with' 'scaling' 'through' expr
func (p *parser) source() (Source, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	switch {
	case p.peek().kind == tokLBrace:
		return p.sourceBlock()
	case p.isKeyword("oneof") && p.peekAt(1).kind == tokLBrace:
		return p.sourceOneOf()
	case p.isKeyword("max"):
		return p.sourceCapped()
	}
	account, err := p.expr()
	if err != nil {
		return nil, err
	}
	return p.sourceAccount(account)
}

// sourceAccount parses what may follow the account of a source: a scaling,
// a color restriction, an overdraft clause.
func (p *parser) sourceAccount(account Expr) (Source, error) {
	if p.isKeyword("with") {
		p.next()
		if _, err := p.expectKeyword("scaling"); err != nil {
			return nil, err
		}
		if _, err := p.expectKeyword("through"); err != nil {
			return nil, err
		}
		through, err := p.expr()
		if err != nil {
			return nil, err
		}
		return &SourceScaling{Account: account, Through: through, Range: span(account.Span(), through.Span())}, nil
	}
	src := &SourceAccount{Account: account, Range: account.Span()}
	if p.peek().kind == tokBackslash {
		p.next()
		color, err := p.expr()
		if err != nil {
			return nil, err
		}
		src.Color = color
		src.Range = span(src.Range, color.Span())
	}
	if !p.isKeyword("allowing") {
		return src, nil
	}
	p.next()
	if p.isKeyword("unbounded") {
		p.next()
		end, err := p.expectKeyword("overdraft")
		if err != nil {
			return nil, err
		}
		src.Unbounded = true
		src.Range = span(src.Range, end.rng)
		return src, nil
	}
	if _, err := p.expectKeyword("overdraft"); err != nil {
		return nil, p.unexpected("'unbounded' or 'overdraft'")
	}
	if _, err := p.expectKeyword("up"); err != nil {
		return nil, err
	}
	if _, err := p.expectKeyword("to"); err != nil {
		return nil, err
	}
	bound, err := p.expr()
	if err != nil {
		return nil, err
	}
	src.OverdraftBound = bound
	src.Range = span(src.Range, bound.Span())
	return src, nil
}

// sourceBlock parses { sources } (in order) or { portion from source ... }
// (an allotment); the two kinds of items cannot be mixed.
func (p *parser) sourceBlock() (Source, error) {
	lb := p.next()
	var sources []Source
	var items []SourceAllotmentItem
	for p.peek().kind != tokRBrace {
		if p.peek().kind == tokEOF {
			return nil, p.unexpected("'}'")
		}
		src, item, err := p.sourceBlockItem()
		if err != nil {
			return nil, err
		}
		if (src != nil && len(items) > 0) || (item != nil && len(sources) > 0) {
			return nil, parseErrorf(p.toks[p.i-1].rng, "cannot mix sources and allotment clauses ('portion from source') in one block")
		}
		if src != nil {
			sources = append(sources, src)
		} else {
			items = append(items, *item)
		}
	}
	rb := p.next()
	rng := span(lb.rng, rb.rng)
	if len(items) > 0 {
		return &SourceAllotment{Items: items, Range: rng}, nil
	}
	return &SourceInOrder{Sources: sources, Range: rng}, nil
}

// sourceBlockItem parses one item of a source block: a source, or an
// allotment clause "portion from source" / "remaining from source".
func (p *parser) sourceBlockItem() (Source, *SourceAllotmentItem, error) {
	first := p.peek()
	var portion Expr
	switch {
	case p.isKeyword("remaining"):
		p.next()
	case first.kind == tokLBrace || p.isKeyword("max") || (p.isKeyword("oneof") && p.peekAt(1).kind == tokLBrace):
		src, err := p.source()
		return src, nil, err
	default:
		e, err := p.expr()
		if err != nil {
			return nil, nil, err
		}
		if !p.isKeyword("from") {
			src, err := p.sourceAccount(e)
			return src, nil, err
		}
		portion = e
	}
	if _, err := p.expectKeyword("from"); err != nil {
		return nil, nil, err
	}
	from, err := p.source()
	if err != nil {
		return nil, nil, err
	}
	return nil, &SourceAllotmentItem{Portion: portion, From: from, Range: span(first.rng, from.Span())}, nil
}

// sourceOneOf := 'oneof' '{' source+ '}'
func (p *parser) sourceOneOf() (Source, error) {
	kw := p.next()
	p.next() // '{'
	var sources []Source
	for p.peek().kind != tokRBrace {
		src, err := p.source()
		if err != nil {
			return nil, err
		}
		sources = append(sources, src)
	}
	rb := p.next()
	if len(sources) == 0 {
		return nil, parseErrorf(span(kw.rng, rb.rng), "oneof needs at least one source")
	}
	return &SourceOneOf{Sources: sources, Range: span(kw.rng, rb.rng)}, nil
}

// sourceCapped := 'max' expr 'from' source
func (p *parser) sourceCapped() (Source, error) {
	kw := p.next()
	limit, err := p.expr()
	if err != nil {
		return nil, err
	}
	if _, err := p.expectKeyword("from"); err != nil {
		return nil, err
	}
	from, err := p.source()
	if err != nil {
		return nil, err
	}
	return &SourceCapped{Cap: limit, From: from, Range: span(kw.rng, from.Span())}, nil
}

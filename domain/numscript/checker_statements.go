package numscript

import (
	"math/big"

	"github.com/kontorhq/kontor/domain/ledger"
)

// statement checks one statement.
func (c *checker) statement(stmt Statement) {
	switch s := stmt.(type) {
	case *Send:
		c.asset = ""
		sendAll := s.AllAsset != nil
		if sendAll {
			c.expect(s.AllAsset, TypeAsset)
			if a, ok := s.AllAsset.(*AssetLit); ok {
				c.asset = a.Asset
			}
		} else {
			c.expect(s.Amount, TypeMonetary)
			c.asset = literalAsset(s.Amount)
			if m, ok := s.Amount.(*MonetaryLit); ok {
				if n, ok := m.Amount.(*Negation); ok {
					c.errorf(KindNegativeAmount, n.Range, "cannot send a negative amount")
				}
			}
		}
		c.source(s.Source, sendAll)
		c.destination(s.Destination)
	case *Save:
		if s.AllAsset != nil {
			c.expect(s.AllAsset, TypeAsset)
		} else {
			c.expect(s.Amount, TypeMonetary)
		}
		c.expect(s.Account, TypeAccount)
	case *Call:
		fn, ok := builtins[s.Name]
		switch {
		case !ok:
			c.errorf(KindUnboundFunction, s.NameRange, "the function '%s' does not exist", s.Name)
			c.args(s, nil)
			return
		case fn.result != "":
			c.errorf(KindUnboundFunction, s.NameRange, "%s returns a value: it cannot be used as a statement", s.Name)
		}
		c.args(s, fn.params)
	}
}

// isWorld reports whether e is the literal @world.
func isWorld(e Expr) bool {
	a, ok := e.(*AccountLit)
	return ok && len(a.Parts) == 1 && a.Parts[0].Var == nil && a.Parts[0].Text == ledger.World
}

// source checks a source; sendAll is set when it must give everything it
// has.
func (c *checker) source(src Source, sendAll bool) {
	switch s := src.(type) {
	case *SourceAccount:
		c.expect(s.Account, TypeAccount)
		if s.Color != nil {
			c.requireFlag(FlagAssetColors, s.Color.Span())
			c.expect(s.Color, TypeString)
			if lit, ok := s.Color.(*StringLit); ok && !isValidColor(lit.Value) {
				c.errorf(KindInvalidColor, lit.Range, "invalid color name: '%s' (only uppercase letters are allowed)", lit.Value)
			}
		}
		if s.OverdraftBound != nil {
			c.expectAmount(s.OverdraftBound)
		}
		if isWorld(s.Account) && (s.Unbounded || s.OverdraftBound != nil) {
			c.warnf(KindWorldOverdraft, s.Range, "@world is already allowed an unbounded overdraft")
		}
		if sendAll && (s.Unbounded || isWorld(s.Account)) {
			c.errorf(KindInvalidUnboundedInSendAll, s.Range, "cannot take all balance from an unbounded source")
		}
	case *SourceScaling:
		c.requireFlag(FlagAssetScaling, s.Range)
		c.expect(s.Account, TypeAccount)
		c.expect(s.Through, TypeAccount)
		if isWorld(s.Account) {
			c.errorf(KindInvalidUnboundedInScaling, s.Range, "cannot use an unbounded account as the source of a scaling")
		}
	case *SourceInOrder:
		for _, sub := range s.Sources {
			c.source(sub, sendAll)
		}
	case *SourceOneOf:
		c.requireFlag(FlagOneOf, s.Range)
		for _, sub := range s.Sources {
			c.source(sub, sendAll)
		}
	case *SourceCapped:
		c.expectAmount(s.Cap)
		c.source(s.From, false)
	case *SourceAllotment:
		if sendAll {
			c.errorf(KindInvalidAllotmentInSendAll, s.Range, "cannot take all balance of an allotment source")
		}
		portions := sourcePortions(s.Items)
		ranges := make([]Range, len(s.Items))
		for i, item := range s.Items {
			ranges[i] = item.Range
			c.source(item.From, false)
		}
		c.allotment(s.Range, portions, ranges)
	}
}

// destination checks a destination.
func (c *checker) destination(dst Destination) {
	switch d := dst.(type) {
	case *DestAccount:
		c.expect(d.Account, TypeAccount)
	case *DestAllotment:
		ranges := make([]Range, len(d.Items))
		for i, item := range d.Items {
			ranges[i] = item.Range
			c.target(item.To)
		}
		c.allotment(d.Range, destinationPortions(d.Items), ranges)
	case *DestInOrder:
		c.clauses(d.Clauses, d.Remaining)
	case *DestOneOf:
		c.requireFlag(FlagOneOf, d.Range)
		c.clauses(d.Clauses, d.Remaining)
	}
}

func (c *checker) clauses(clauses []DestClause, remaining Target) {
	for _, clause := range clauses {
		c.expectAmount(clause.Cap)
		c.target(clause.To)
	}
	c.target(remaining)
}

func (c *checker) target(t Target) {
	if !t.Kept {
		c.destination(t.Destination)
	}
}

// allotment checks the portions of an allotment (nil = remaining): one
// remaining at most, last; literal portions summing to 1 (or less than 1
// with a remaining).
func (c *checker) allotment(rng Range, portions []Expr, ranges []Range) {
	sum := new(big.Rat)
	literal := true
	remaining := -1
	for i, e := range portions {
		if e == nil {
			switch {
			case remaining >= 0:
				c.errorf(KindInvalidAllotmentSum, ranges[i], "only one 'remaining' clause is allowed")
			case i != len(portions)-1:
				c.errorf(KindRemainingIsNotLast, ranges[i], "a 'remaining' clause should be the last of an allotment")
			}
			remaining = i
			continue
		}
		c.expect(e, TypePortion)
		if r := literalPortion(e); r != nil {
			sum.Add(sum, r)
		} else {
			literal = false
		}
	}
	if !literal {
		return
	}
	one := big.NewRat(1, 1)
	switch cmp := sum.Cmp(one); {
	case cmp > 0:
		c.errorf(KindInvalidAllotmentSum, rng, "allotment portions sum to %s, more than 1", sum.RatString())
	case cmp < 0 && remaining < 0:
		c.errorf(KindInvalidAllotmentSum, rng, "allotment portions sum to %s, less than 1: add a 'remaining' clause?", sum.RatString())
	case cmp == 0 && remaining >= 0:
		c.warnf(KindRedundantRemaining, ranges[remaining], "redundant 'remaining' clause: the portions already sum to 1")
	}
}

// literalPortion returns the value of a literal portion (12.5%, 1/3), nil
// for any other expression.
func literalPortion(e Expr) *big.Rat {
	switch e := e.(type) {
	case *PercentLit:
		return e.Value
	case *Infix:
		num, ok1 := e.Left.(*NumberLit)
		den, ok2 := e.Right.(*NumberLit)
		if e.Op == OpDiv && ok1 && ok2 && den.Value.Sign() != 0 {
			return new(big.Rat).SetFrac(num.Value, den.Value)
		}
	}
	return nil
}

package numscript

import "math/big"

// sourcePortions returns the portion expressions of a source allotment,
// nil standing for "remaining".
func sourcePortions(items []SourceAllotmentItem) []Expr {
	out := make([]Expr, len(items))
	for i, item := range items {
		out[i] = item.Portion
	}
	return out
}

// destinationPortions returns the portion expressions of a destination
// allotment, nil standing for "remaining".
func destinationPortions(items []DestAllotmentItem) []Expr {
	out := make([]Expr, len(items))
	for i, item := range items {
		out[i] = item.Portion
	}
	return out
}

// allot evaluates the portions of an allotment (nil = remaining, what the
// others leave) and splits amount by them.
func (in *interp) allot(rng Range, amount *big.Int, portions []Expr) ([]*big.Int, error) {
	one := big.NewRat(1, 1)
	rats := make([]*big.Rat, len(portions))
	sum := new(big.Rat)
	remaining := -1
	for i, e := range portions {
		if e == nil {
			if remaining >= 0 {
				return nil, runtimeErrorf(KindInvalidAllotmentSum, rng, "invalid allotment: only one 'remaining' clause is allowed")
			}
			remaining = i
			continue
		}
		r, err := in.evalPortion(e)
		if err != nil {
			return nil, err
		}
		if r.Sign() < 0 || r.Cmp(one) > 0 {
			return nil, runtimeErrorf(KindBadPortion, e.Span(), "bad portion %s: a portion must be between 0%% and 100%% inclusive", r.RatString())
		}
		rats[i] = r
		sum.Add(sum, r)
	}
	if remaining >= 0 {
		rest := new(big.Rat).Sub(one, sum)
		if rest.Sign() < 0 {
			return nil, runtimeErrorf(KindInvalidAllotmentSum, rng, "invalid allotment: portions sum to %s, more than 1", sum.RatString())
		}
		rats[remaining] = rest
	} else if sum.Cmp(one) != 0 {
		return nil, runtimeErrorf(KindInvalidAllotmentSum, rng, "invalid allotment: portions should sum to 1 (got %s instead)", sum.RatString())
	}
	return allocate(amount, rats), nil
}

// allocate splits total by portions summing to 1: each part is
// floor(total × portion), then the leftover is handed out one unit at a
// time to the parts in declaration order, starting from the first.
func allocate(total *big.Int, portions []*big.Rat) []*big.Int {
	parts := make([]*big.Int, len(portions))
	allocated := new(big.Int)
	for i, p := range portions {
		product := new(big.Int).Mul(total, p.Num())
		parts[i] = product.Div(product, p.Denom()) // floor: total and p are >= 0
		allocated.Add(allocated, parts[i])
	}
	left := new(big.Int).Sub(total, allocated)
	for i := 0; left.Sign() > 0 && i < len(parts); i++ {
		parts[i].Add(parts[i], big.NewInt(1))
		left.Sub(left, big.NewInt(1))
	}
	return parts
}

package numscript

import (
	"math/big"

	"github.com/kontorhq/kontor/domain/ledger"
)

// takeExactly takes amount from src or fails with missing funds.
func (in *interp) takeExactly(src Source, amount *big.Int) error {
	in.short = ""
	taken, err := in.take(src, amount)
	if err != nil {
		return err
	}
	if taken.Cmp(amount) != 0 {
		account := in.short
		if account == "" {
			account = describeSource(src)
		}
		return missingFundsError(account, in.asset, amount, taken, src.Span())
	}
	return nil
}

// describeSource names the first account of a source, for error details.
func describeSource(src Source) string {
	switch s := src.(type) {
	case *SourceAccount:
		if a, ok := s.Account.(*AccountLit); ok && len(a.Parts) > 0 {
			return a.Parts[0].Text
		}
	case *SourceInOrder:
		if len(s.Sources) > 0 {
			return describeSource(s.Sources[0])
		}
	}
	return ""
}

// take takes up to amount from src and returns how much it took.
func (in *interp) take(src Source, amount *big.Int) (*big.Int, error) {
	switch s := src.(type) {
	case *SourceAccount:
		return in.takeFromAccount(s, amount, false)
	case *SourceScaling:
		return in.takeScaled(s, amount, false)
	case *SourceInOrder:
		left := new(big.Int).Set(amount)
		for _, sub := range s.Sources {
			taken, err := in.take(sub, left)
			if err != nil {
				return nil, err
			}
			left.Sub(left, taken)
		}
		return new(big.Int).Sub(amount, left), nil
	case *SourceOneOf:
		if err := in.requireFlag(FlagOneOf, s.Range); err != nil {
			return nil, err
		}
		last := len(s.Sources) - 1
		for _, sub := range s.Sources[:last] {
			c := in.checkpoint()
			taken, err := in.take(sub, amount)
			if err != nil {
				return nil, err
			}
			if taken.Cmp(amount) == 0 {
				return taken, nil
			}
			in.rollback(c)
		}
		return in.take(s.Sources[last], amount)
	case *SourceCapped:
		limit, err := in.evalAmountOf(s.Cap)
		if err != nil {
			return nil, err
		}
		return in.take(s.From, clampZero(minInt(limit, amount)))
	case *SourceAllotment:
		parts, err := in.allot(s.Range, amount, sourcePortions(s.Items))
		if err != nil {
			return nil, err
		}
		for i, item := range s.Items {
			if err := in.takeExactly(item.From, parts[i]); err != nil {
				return nil, err
			}
		}
		return new(big.Int).Set(amount), nil
	}
	return nil, runtimeErrorf(KindInternal, src.Span(), "unknown source %T", src)
}

// takeAll takes everything src can give (a send-all) and returns how much.
func (in *interp) takeAll(src Source) (*big.Int, error) {
	switch s := src.(type) {
	case *SourceAccount:
		return in.takeFromAccount(s, nil, true)
	case *SourceScaling:
		return in.takeScaled(s, nil, true)
	case *SourceInOrder:
		total := new(big.Int)
		for _, sub := range s.Sources {
			taken, err := in.takeAll(sub)
			if err != nil {
				return nil, err
			}
			total.Add(total, taken)
		}
		return total, nil
	case *SourceOneOf:
		if err := in.requireFlag(FlagOneOf, s.Range); err != nil {
			return nil, err
		}
		return in.takeAll(s.Sources[0])
	case *SourceCapped:
		limit, err := in.evalAmountOf(s.Cap)
		if err != nil {
			return nil, err
		}
		return in.take(s.From, clampZero(limit))
	case *SourceAllotment:
		return nil, runtimeErrorf(KindInvalidAllotmentInSendAll, s.Range, "cannot take all balance of an allotment source")
	}
	return nil, runtimeErrorf(KindInternal, src.Span(), "unknown source %T", src)
}

// takeFromAccount takes up to amount (everything it can when all is set)
// from one account. @world and unbounded overdrafts give whatever is asked;
// others give at most their balance plus the allowed overdraft.
func (in *interp) takeFromAccount(s *SourceAccount, amount *big.Int, all bool) (*big.Int, error) {
	color := ""
	if s.Color != nil {
		if err := in.requireFlag(FlagAssetColors, s.Color.Span()); err != nil {
			return nil, err
		}
	}
	account, err := in.evalAccount(s.Account)
	if err != nil {
		return nil, err
	}
	if s.Color != nil {
		if color, err = in.evalString(s.Color); err != nil {
			return nil, err
		}
		if !isValidColor(color) {
			return nil, runtimeErrorf(KindInvalidColor, s.Color.Span(), "invalid color name: '%s' (only uppercase letters are allowed)", color)
		}
	}
	// The bound is evaluated (and its currency checked) even for @world,
	// which ignores it, as the reference does.
	overdraft := new(big.Int)
	if s.OverdraftBound != nil {
		bound, err := in.evalAmountOf(s.OverdraftBound)
		if err != nil {
			return nil, err
		}
		overdraft = clampZero(bound)
	}
	unbounded := s.Unbounded || account == ledger.World
	if unbounded && all {
		return nil, runtimeErrorf(KindInvalidUnboundedInSendAll, s.Range, "cannot take all balance from an unbounded source (@%s)", account)
	}
	if unbounded {
		taken := new(big.Int).Set(amount)
		in.takeFrom(account, color, taken)
		return taken, nil
	}
	return in.takeBalance(account, color, overdraft, amount, all)
}

// takeBalance takes up to amount (everything when all is set) from a
// bounded account: at most its balance plus the allowed overdraft.
func (in *interp) takeBalance(account, color string, overdraft, amount *big.Int, all bool) (*big.Int, error) {
	bal, err := in.balanceOf(account, coloredAsset(in.asset, color))
	if err != nil {
		return nil, err
	}
	taken := clampZero(new(big.Int).Add(bal, overdraft))
	if !all {
		if amount.Cmp(taken) <= 0 {
			taken = new(big.Int).Set(amount)
		} else {
			in.short = account
		}
	}
	in.takeFrom(account, color, taken)
	return taken, nil
}

// clampZero returns x, or zero when x is negative.
func clampZero(x *big.Int) *big.Int {
	if x.Sign() < 0 {
		return new(big.Int)
	}
	return x
}

// minInt returns the smaller of a and b.
func minInt(a, b *big.Int) *big.Int {
	if a.Cmp(b) < 0 {
		return a
	}
	return b
}

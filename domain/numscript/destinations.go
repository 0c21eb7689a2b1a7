package numscript

import "math/big"

// give hands amount, taken by the sources, to a destination.
func (in *interp) give(dst Destination, amount *big.Int) error {
	switch d := dst.(type) {
	case *DestAccount:
		account, err := in.evalAccount(d.Account)
		if err != nil {
			return err
		}
		in.giveTo(account, amount)
		return nil
	case *DestAllotment:
		parts, err := in.allot(d.Range, amount, destinationPortions(d.Items))
		if err != nil {
			return err
		}
		for i, item := range d.Items {
			if err := in.giveTarget(item.To, parts[i]); err != nil {
				return err
			}
		}
		return nil
	case *DestInOrder:
		left := new(big.Int).Set(amount)
		for _, clause := range d.Clauses {
			limit, err := in.evalAmountOf(clause.Cap)
			if err != nil {
				return err
			}
			if left.Sign() == 0 {
				break
			}
			share := clampZero(minInt(limit, left))
			if err := in.giveTarget(clause.To, share); err != nil {
				return err
			}
			left = new(big.Int).Sub(left, share)
		}
		return in.giveTarget(d.Remaining, left)
	case *DestOneOf:
		if err := in.requireFlag(FlagOneOf, d.Range); err != nil {
			return err
		}
		for _, clause := range d.Clauses {
			limit, err := in.evalAmountOf(clause.Cap)
			if err != nil {
				return err
			}
			if limit.Cmp(amount) >= 0 {
				return in.giveTarget(clause.To, amount)
			}
		}
		return in.giveTarget(d.Remaining, amount)
	}
	return runtimeErrorf(KindInternal, dst.Span(), "unknown destination %T", dst)
}

// giveTarget hands amount to "to destination" or keeps it with its senders.
func (in *interp) giveTarget(t Target, amount *big.Int) error {
	if amount.Sign() == 0 {
		return nil
	}
	if t.Kept {
		in.keep(amount)
		return nil
	}
	return in.give(t.Destination, amount)
}

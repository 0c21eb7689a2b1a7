package numscript

import (
	"math/big"
	"sort"
	"strconv"
	"strings"

	"github.com/kontorhq/kontor/domain/ledger"
)

// maxScaleGap bounds the difference of scales asset scaling converts
// between (10^maxScaleGap is the largest factor it computes).
const maxScaleGap = 64

// assetScale returns the scale of an asset: EUR → 0, EUR/2 → 2.
func assetScale(asset string) (int, bool) {
	_, digits, found := strings.Cut(asset, "/")
	if !found {
		return 0, true
	}
	scale, err := strconv.Atoi(digits)
	return scale, err == nil && scale >= 0
}

// scaledAsset returns the asset of base at scale: (EUR, 0) → EUR,
// (EUR, 2) → EUR/2.
func scaledAsset(base string, scale int) string {
	if scale == 0 {
		return base
	}
	return base + "/" + strconv.Itoa(scale)
}

// takeScaled takes from an account with scaling: when its balance in the
// asset being sent is not enough, it first converts other scales of the
// same asset it holds, coarsest first, by sending them to the Through
// account and receiving the converted amount back. A coarser unit converts
// whole (the change stays with the account, in the asset being sent); a
// finer scale converts only whole units of the asset being sent.
func (in *interp) takeScaled(s *SourceScaling, amount *big.Int, all bool) (*big.Int, error) {
	if err := in.requireFlag(FlagAssetScaling, s.Range); err != nil {
		return nil, err
	}
	account, err := in.evalAccount(s.Account)
	if err != nil {
		return nil, err
	}
	through, err := in.evalAccount(s.Through)
	if err != nil {
		return nil, err
	}
	if account == ledger.World {
		return nil, runtimeErrorf(KindInvalidUnboundedInScaling, s.Range, "cannot use an unbounded account (@%s) as the source of a scaling", account)
	}
	base := assetBase(in.asset)
	target, ok := assetScale(in.asset)
	if !ok {
		return nil, runtimeErrorf(KindInvalidAsset, s.Range, "invalid asset name: %s", in.asset)
	}
	if err := in.fetch(balanceNeeds{{account, base + "/*"}: true}); err != nil {
		return nil, err
	}
	var need *big.Int // nil: convert everything
	if !all {
		need = new(big.Int).Sub(amount, clampZero(in.bal.get(balanceKey{account, in.asset})))
	}
	if need == nil || need.Sign() > 0 {
		in.convertScales(account, through, base, target, need)
	}
	return in.takeBalance(account, "", new(big.Int), amount, all)
}

// convertScales converts account's other scales of base into the target
// scale until need is covered (everything when need is nil).
func (in *interp) convertScales(account, through, base string, target int, need *big.Int) {
	held := in.bal.scalesOf(account, base)
	scales := make([]int, 0, len(held))
	for scale, amount := range held {
		gap := scale - target
		if scale != target && amount.Sign() > 0 && -maxScaleGap <= gap && gap <= maxScaleGap {
			scales = append(scales, scale)
		}
	}
	sort.Ints(scales)
	converted := new(big.Int)
	for _, scale := range scales {
		have := held[scale]
		var spent, got *big.Int
		if scale < target { // coarser: each unit is factor target units
			factor := pow10(target - scale)
			spent = have
			if need != nil {
				spent = minInt(have, ceilDiv(need, factor))
			}
			got = new(big.Int).Mul(spent, factor)
		} else { // finer: factor units make one target unit
			factor := pow10(scale - target)
			got = new(big.Int).Quo(have, factor)
			if need != nil {
				got = minInt(got, need)
			}
			spent = new(big.Int).Mul(got, factor)
		}
		if got.Sign() == 0 {
			continue
		}
		asset := scaledAsset(base, scale)
		in.emit(account, through, asset, spent)
		in.bal.add(balanceKey{account, asset}, new(big.Int).Neg(spent))
		in.bal.add(balanceKey{through, asset}, spent)
		converted.Add(converted, got)
		if need != nil {
			if need = new(big.Int).Sub(need, got); need.Sign() <= 0 {
				break
			}
		}
	}
	if converted.Sign() > 0 {
		in.emit(through, account, in.asset, converted)
		in.bal.add(balanceKey{through, in.asset}, new(big.Int).Neg(converted))
		in.bal.add(balanceKey{account, in.asset}, converted)
	}
}

// pow10 returns 10^n.
func pow10(n int) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil) }

// ceilDiv returns ⌈a/b⌉ for a >= 0, b > 0.
func ceilDiv(a, b *big.Int) *big.Int {
	q, r := new(big.Int).QuoRem(a, b, new(big.Int))
	if r.Sign() > 0 {
		q.Add(q, big.NewInt(1))
	}
	return q
}

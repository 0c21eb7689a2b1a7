package numscript

import (
	"math/big"
	"regexp"
	"strings"

	"github.com/kontorhq/kontor/domain/ledger"
)

var (
	percentPattern  = regexp.MustCompile(`^([0-9]+)(?:\.([0-9]+))?%$`)
	fractionPattern = regexp.MustCompile(`^([0-9]+) ?/ ?([0-9]+)$`)
)

// parseValue converts the string form of a variable (as passed to Run, or
// as stored in account metadata) into a value of type t:
//
//	account  "users:001" (no @)      asset    "USD/2"
//	number   "100"                   string   any text
//	monetary "USD/2 100"             portion  "1/3" or "12.5%"
func parseValue(t Type, raw string, rng Range) (value, error) {
	switch t {
	case TypeAccount:
		if !ledger.IsValidAddress(raw) {
			return nil, runtimeErrorf(KindInvalidAccountName, rng, "invalid account name: @%s", raw)
		}
		return accountValue(raw), nil
	case TypeAsset:
		if !ledger.IsValidAsset(raw) {
			return nil, runtimeErrorf(KindInvalidAsset, rng, "invalid asset name: %s", raw)
		}
		return assetValue(raw), nil
	case TypeNumber:
		n, ok := new(big.Int).SetString(raw, 10)
		if !ok {
			return nil, runtimeErrorf(KindInvalidNumberLiteral, rng, "invalid number literal: '%s'", raw)
		}
		return numberValue{n}, nil
	case TypeMonetary:
		return parseMonetary(raw, rng)
	case TypePortion:
		r, err := parsePortion(raw, rng)
		if err != nil {
			return nil, err
		}
		return portionValue{r}, nil
	case TypeString:
		return stringValue(raw), nil
	}
	return nil, runtimeErrorf(KindInvalidType, rng, "this type does not exist: %s", t)
}

// parseMonetary reads "ASSET AMOUNT", one space apart.
func parseMonetary(raw string, rng Range) (value, error) {
	parts := strings.Split(raw, " ")
	if len(parts) != 2 {
		return nil, runtimeErrorf(KindInvalidMonetaryLiteral, rng, "invalid monetary literal: '%s' (expected \"ASSET AMOUNT\")", raw)
	}
	if !ledger.IsValidAsset(parts[0]) {
		return nil, runtimeErrorf(KindInvalidAsset, rng, "invalid asset name: %s", parts[0])
	}
	n, ok := new(big.Int).SetString(parts[1], 10)
	if !ok {
		return nil, runtimeErrorf(KindInvalidNumberLiteral, rng, "invalid number literal: '%s'", parts[1])
	}
	return monetaryValue{asset: parts[0], amount: n}, nil
}

// parsePortion reads "1/3", "1 / 3" or "12.5%", between 0 and 1 inclusive.
func parsePortion(raw string, rng Range) (*big.Rat, error) {
	var r *big.Rat
	if m := percentPattern.FindStringSubmatch(raw); m != nil {
		r, _ = new(big.Rat).SetString(m[1] + "." + m[2] + "0")
		r.Quo(r, big.NewRat(100, 1))
	} else if m := fractionPattern.FindStringSubmatch(raw); m != nil {
		den, _ := new(big.Int).SetString(m[2], 10)
		if den.Sign() == 0 {
			return nil, runtimeErrorf(KindBadPortion, rng, "bad portion '%s': the denominator is zero", raw)
		}
		num, _ := new(big.Int).SetString(m[1], 10)
		r = new(big.Rat).SetFrac(num, den)
	} else {
		return nil, runtimeErrorf(KindBadPortion, rng, "bad portion '%s': expected a fraction (1/3) or a percentage (12.5%%)", raw)
	}
	if r.Sign() < 0 || r.Cmp(big.NewRat(1, 1)) > 0 {
		return nil, runtimeErrorf(KindBadPortion, rng, "bad portion '%s': a portion must be between 0%% and 100%% inclusive", raw)
	}
	return r, nil
}

package numscript

import (
	"errors"
	"math/big"
	"strings"

	"github.com/kontorhq/kontor/domain/ledger"
)

// errUnknown is what expressions evaluate to during a dry run (the
// prefetch walks) when their value cannot be known before execution.
var errUnknown = errors.New("numscript: value unknown before execution")

// eval computes the value of e.
func (in *interp) eval(e Expr) (value, error) {
	switch e := e.(type) {
	case *Variable:
		if v, ok := in.vars[e.Name]; ok {
			return v, nil
		}
		if in.dry != nil {
			return nil, errUnknown
		}
		return nil, runtimeErrorf(KindUnboundVariable, e.Range, "unbound variable: $%s", e.Name)
	case *AccountLit:
		return in.evalAccountLit(e)
	case *AssetLit:
		if !ledger.IsValidAsset(e.Asset) {
			return nil, runtimeErrorf(KindInvalidAsset, e.Range, "invalid asset name: %s", e.Asset)
		}
		return assetValue(e.Asset), nil
	case *NumberLit:
		return numberValue{e.Value}, nil
	case *PercentLit:
		return portionValue{e.Value}, nil
	case *StringLit:
		return stringValue(e.Value), nil
	case *MonetaryLit:
		asset, err := in.evalAsset(e.Asset)
		if err != nil {
			return nil, err
		}
		amount, err := in.evalNumber(e.Amount)
		if err != nil {
			return nil, err
		}
		return monetaryValue{asset: asset, amount: amount}, nil
	case *Negation:
		return in.evalNegation(e)
	case *Infix:
		return in.evalInfix(e)
	case *Call:
		if !in.inVars {
			if err := in.requireFlag(FlagMidScriptFunctionCall, e.Range); err != nil {
				return nil, err
			}
		}
		return in.call(e, "")
	}
	return nil, runtimeErrorf(KindInternal, e.Span(), "unknown expression %T", e)
}

// evalAccountLit builds an account address, interpolating variables.
func (in *interp) evalAccountLit(e *AccountLit) (value, error) {
	parts := make([]string, len(e.Parts))
	for i, part := range e.Parts {
		if part.Var == nil {
			parts[i] = part.Text
			continue
		}
		if err := in.requireFlag(FlagAccountInterpolation, part.Range); err != nil {
			return nil, err
		}
		v, err := in.eval(part.Var)
		if err != nil {
			return nil, err
		}
		switch v := v.(type) {
		case accountValue, stringValue, numberValue:
			parts[i] = v.String()
		default:
			return nil, runtimeErrorf(KindCannotCastToString, part.Range, "cannot cast this value to string: %s (a %s)", v, v.typ())
		}
	}
	name := strings.Join(parts, ":")
	if !ledger.IsValidAddress(name) {
		return nil, runtimeErrorf(KindInvalidAccountName, e.Range, "invalid account name: @%s", name)
	}
	return accountValue(name), nil
}

// evalNegation computes -operand for a number or a monetary.
func (in *interp) evalNegation(e *Negation) (value, error) {
	v, err := in.eval(e.Operand)
	if err != nil {
		return nil, err
	}
	switch v := v.(type) {
	case numberValue:
		return numberValue{new(big.Int).Neg(v.n)}, nil
	case monetaryValue:
		return monetaryValue{asset: v.asset, amount: new(big.Int).Neg(v.amount)}, nil
	}
	return nil, runtimeErrorf(KindInvalidOperator, e.Range, "cannot negate a %s", v.typ())
}

// evalInfix computes number+number, number-number, monetary±monetary (same
// asset) and number/number (a portion).
func (in *interp) evalInfix(e *Infix) (value, error) {
	left, err := in.eval(e.Left)
	if err != nil {
		return nil, err
	}
	right, err := in.eval(e.Right)
	if err != nil {
		return nil, err
	}
	if e.Op == OpDiv {
		num, ok := left.(numberValue)
		if !ok {
			return nil, typeError(TypeNumber, left, e.Left.Span())
		}
		den, ok := right.(numberValue)
		if !ok {
			return nil, typeError(TypeNumber, right, e.Right.Span())
		}
		if den.n.Sign() == 0 {
			return nil, runtimeErrorf(KindDivideByZero, e.Range, "cannot divide by zero (in %s/0)", num.n)
		}
		return portionValue{new(big.Rat).SetFrac(num.n, den.n)}, nil
	}
	combine := (*big.Int).Add
	if e.Op == OpSub {
		combine = (*big.Int).Sub
	}
	switch l := left.(type) {
	case numberValue:
		r, ok := right.(numberValue)
		if !ok {
			return nil, typeError(TypeNumber, right, e.Right.Span())
		}
		return numberValue{combine(new(big.Int), l.n, r.n)}, nil
	case monetaryValue:
		r, ok := right.(monetaryValue)
		if !ok {
			return nil, typeError(TypeMonetary, right, e.Right.Span())
		}
		if r.asset != l.asset {
			return nil, runtimeErrorf(KindMismatchedCurrency, e.Range, "mismatched currency (expected '%s', got '%s' instead)", l.asset, r.asset)
		}
		return monetaryValue{asset: l.asset, amount: combine(new(big.Int), l.amount, r.amount)}, nil
	}
	return nil, runtimeErrorf(KindInvalidOperator, e.Range, "operator '%c' cannot be applied to a %s", e.Op, left.typ())
}

// typeError reports that v is not of the expected type.
func typeError(expected Type, v value, rng Range) error {
	return runtimeErrorf(KindTypeError, rng, "invalid value received: expecting a value of type %s (got %s, a %s, instead)", expected, v, v.typ())
}

// evalAs computes e and checks its type.
func (in *interp) evalAs(e Expr, t Type) (value, error) {
	v, err := in.eval(e)
	if err != nil {
		return nil, err
	}
	if v.typ() != t {
		return nil, typeError(t, v, e.Span())
	}
	return v, nil
}

func (in *interp) evalAccount(e Expr) (string, error) {
	v, err := in.evalAs(e, TypeAccount)
	if err != nil {
		return "", err
	}
	return string(v.(accountValue)), nil
}

func (in *interp) evalAsset(e Expr) (string, error) {
	v, err := in.evalAs(e, TypeAsset)
	if err != nil {
		return "", err
	}
	return string(v.(assetValue)), nil
}

func (in *interp) evalString(e Expr) (string, error) {
	v, err := in.evalAs(e, TypeString)
	if err != nil {
		return "", err
	}
	return string(v.(stringValue)), nil
}

func (in *interp) evalNumber(e Expr) (*big.Int, error) {
	v, err := in.evalAs(e, TypeNumber)
	if err != nil {
		return nil, err
	}
	return v.(numberValue).n, nil
}

func (in *interp) evalPortion(e Expr) (*big.Rat, error) {
	v, err := in.evalAs(e, TypePortion)
	if err != nil {
		return nil, err
	}
	return v.(portionValue).r, nil
}

func (in *interp) evalMonetary(e Expr) (monetaryValue, error) {
	v, err := in.evalAs(e, TypeMonetary)
	if err != nil {
		return monetaryValue{}, err
	}
	return v.(monetaryValue), nil
}

// evalAmountOf computes a monetary of the asset being sent and returns its
// amount.
func (in *interp) evalAmountOf(e Expr) (*big.Int, error) {
	m, err := in.evalMonetary(e)
	if err != nil {
		return nil, err
	}
	if m.asset != in.asset {
		return nil, runtimeErrorf(KindMismatchedCurrency, e.Span(), "mismatched currency (expected '%s', got '%s' instead)", in.asset, m.asset)
	}
	return m.amount, nil
}

// requireFlag fails unless the feature flag is enabled.
func (in *interp) requireFlag(flag string, rng Range) error {
	if in.flags[flag] {
		return nil
	}
	if in.dry != nil {
		return errUnknown
	}
	return runtimeErrorf(KindExperimentalFeature, rng, "this feature is experimental: you need the '%s' feature flag to enable it", flag)
}

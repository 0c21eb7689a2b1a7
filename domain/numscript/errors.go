package numscript

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/kontorhq/kontor/domain"
)

// ErrorKind names a class of Numscript failure, after the reference
// interpreter's error types.
type ErrorKind string

// The kinds of errors Parse, Check and Run report.
const (
	KindParse                     ErrorKind = "Parse"
	KindMissingFunds              ErrorKind = "MissingFunds"
	KindInvalidMonetaryLiteral    ErrorKind = "InvalidMonetaryLiteral"
	KindInvalidNumberLiteral      ErrorKind = "InvalidNumberLiteral"
	KindMetadataNotFound          ErrorKind = "MetadataNotFound"
	KindTypeError                 ErrorKind = "TypeError"
	KindUnboundVariable           ErrorKind = "UnboundVariable"
	KindBadPortion                ErrorKind = "BadPortion"
	KindMissingVariable           ErrorKind = "MissingVariable"
	KindUnboundFunction           ErrorKind = "UnboundFunction"
	KindBadArity                  ErrorKind = "BadArity"
	KindInvalidType               ErrorKind = "InvalidType"
	KindNegativeBalance           ErrorKind = "NegativeBalance"
	KindNegativeAmount            ErrorKind = "NegativeAmount"
	KindInvalidAllotmentInSendAll ErrorKind = "InvalidAllotmentInSendAll"
	KindDivideByZero              ErrorKind = "DivideByZero"
	KindInvalidUnboundedInSendAll ErrorKind = "InvalidUnboundedInSendAll"
	KindMismatchedCurrency        ErrorKind = "MismatchedCurrency"
	KindInvalidAllotmentSum       ErrorKind = "InvalidAllotmentSum"
	KindExperimentalFeature       ErrorKind = "ExperimentalFeature"
	KindCannotCastToString        ErrorKind = "CannotCastToString"
	KindInvalidAccountName        ErrorKind = "InvalidAccountName"
	KindInvalidAsset              ErrorKind = "InvalidAsset"
	KindInvalidNestedMeta         ErrorKind = "InvalidNestedMeta"
	KindInvalidColor              ErrorKind = "InvalidColor"
	KindInvalidUnboundedInScaling ErrorKind = "InvalidUnboundedAddressInScalingAddress"
	KindInvalidFeature            ErrorKind = "InvalidFeature"
	KindInvalidOperator           ErrorKind = "InvalidOperator"
	KindInternal                  ErrorKind = "InternalError"
)

// ErrorDetails is the Details of the *domain.Error returned for a parse or
// runtime failure: what kind of failure, and where.
type ErrorDetails struct {
	Kind  ErrorKind `json:"kind"`
	Range Range     `json:"range"`
}

// MissingFundsDetails is the Details of an INSUFFICIENT_FUND error: the
// account that ran short last, the asset, and how much was needed and
// available from the failing source.
type MissingFundsDetails struct {
	Account   string   `json:"account"`
	Asset     string   `json:"asset"`
	Needed    *big.Int `json:"needed"`
	Available *big.Int `json:"available"`
	Range     Range    `json:"range"`
}

// ErrorKindOf returns the kind of a Numscript error, or "" when err is not
// one.
func ErrorKindOf(err error) ErrorKind {
	var e *domain.Error
	if !errors.As(err, &e) {
		return ""
	}
	switch d := e.Details.(type) {
	case *ErrorDetails:
		return d.Kind
	case *MissingFundsDetails:
		return KindMissingFunds
	}
	return ""
}

// parseErrorf returns an INTERPRETER_PARSE error whose message starts with
// the line:column of rng.
func parseErrorf(rng Range, format string, args ...any) *domain.Error {
	return &domain.Error{
		Code:    domain.CodeInterpreterParse,
		Message: rng.Start.String() + ": " + fmt.Sprintf(format, args...),
		Details: &ErrorDetails{Kind: KindParse, Range: rng},
	}
}

// runtimeErrorf returns an INTERPRETER_RUNTIME error of the given kind whose
// message starts with the line:column of rng.
func runtimeErrorf(kind ErrorKind, rng Range, format string, args ...any) *domain.Error {
	return &domain.Error{
		Code:    domain.CodeInterpreterRuntime,
		Message: rng.Start.String() + ": " + fmt.Sprintf(format, args...),
		Details: &ErrorDetails{Kind: kind, Range: rng},
	}
}

// missingFundsError returns the INSUFFICIENT_FUND error of a source that
// provided available instead of needed.
func missingFundsError(account, asset string, needed, available *big.Int, rng Range) *domain.Error {
	return &domain.Error{
		Code: domain.CodeInsufficientFund,
		Message: fmt.Sprintf("Not enough funds. Needed [%s %s] (only [%s %s] available)",
			asset, needed, asset, available),
		Details: &MissingFundsDetails{
			Account:   account,
			Asset:     asset,
			Needed:    new(big.Int).Set(needed),
			Available: new(big.Int).Set(available),
			Range:     rng,
		},
	}
}

package numscript

// The experimental feature flags. A construct that needs one fails unless
// the flag is passed to Run or named in the script's #![feature(...)] header.
const (
	// FlagOverdraftFunction enables overdraft(@account, ASSET).
	FlagOverdraftFunction = "experimental-overdraft-function"
	// FlagGetAssetFunction enables get_asset(monetary).
	FlagGetAssetFunction = "experimental-get-asset-function"
	// FlagGetAmountFunction enables get_amount(monetary).
	FlagGetAmountFunction = "experimental-get-amount-function"
	// FlagOneOf enables oneof { ... } sources and destinations.
	FlagOneOf = "experimental-oneof"
	// FlagAccountInterpolation enables variables in account literals,
	// @users:$id:pending.
	FlagAccountInterpolation = "experimental-account-interpolation"
	// FlagMidScriptFunctionCall enables function calls in statements and
	// variable origins that are not a single function call.
	FlagMidScriptFunctionCall = "experimental-mid-script-function-call"
	// FlagAssetColors enables color restrictions, @account \ "COLOR".
	FlagAssetColors = "experimental-asset-colors"
	// FlagAssetScaling enables @account with scaling through @swap.
	FlagAssetScaling = "experimental-asset-scaling"
)

// AllFlags lists every feature flag.
var AllFlags = []string{
	FlagOverdraftFunction,
	FlagGetAssetFunction,
	FlagGetAmountFunction,
	FlagOneOf,
	FlagAccountInterpolation,
	FlagMidScriptFunctionCall,
	FlagAssetColors,
	FlagAssetScaling,
}

// IsKnownFlag reports whether name is one of AllFlags.
func IsKnownFlag(name string) bool {
	for _, f := range AllFlags {
		if f == name {
			return true
		}
	}
	return false
}

// effectiveFlags returns the flags enabled for p: those set in flags plus
// those of its #![feature] header. An unknown header flag is an error.
func (p *Program) effectiveFlags(flags map[string]bool) (map[string]bool, error) {
	out := make(map[string]bool, len(flags)+len(p.Features))
	for name, on := range flags {
		if on {
			out[name] = true
		}
	}
	for _, f := range p.Features {
		if !IsKnownFlag(f.Name) {
			return nil, runtimeErrorf(KindInvalidFeature, f.Range, "unknown feature flag %q", f.Name)
		}
		out[f.Name] = true
	}
	return out, nil
}

package numscript

import (
	"math/big"
	"strings"
)

// value is a runtime value. Values are immutable: the big numbers they hold
// are never modified.
type value interface {
	typ() Type
	// String renders the value as metadata stores it.
	String() string
}

type (
	accountValue  string
	assetValue    string
	stringValue   string
	numberValue   struct{ n *big.Int }
	portionValue  struct{ r *big.Rat }
	monetaryValue struct {
		asset  string
		amount *big.Int
	}
)

func (accountValue) typ() Type  { return TypeAccount }
func (assetValue) typ() Type    { return TypeAsset }
func (stringValue) typ() Type   { return TypeString }
func (numberValue) typ() Type   { return TypeNumber }
func (portionValue) typ() Type  { return TypePortion }
func (monetaryValue) typ() Type { return TypeMonetary }

func (v accountValue) String() string  { return string(v) }
func (v assetValue) String() string    { return string(v) }
func (v stringValue) String() string   { return string(v) }
func (v numberValue) String() string   { return v.n.String() }
func (v portionValue) String() string  { return v.r.String() }
func (v monetaryValue) String() string { return v.asset + " " + v.amount.String() }

// coloredAsset returns the asset name under which colored funds are kept:
// USD/2 with color RED is USD_RED/2; no color leaves the asset as is.
func coloredAsset(asset, color string) string {
	if color == "" {
		return asset
	}
	base, scale, hasScale := strings.Cut(asset, "/")
	if hasScale {
		return base + "_" + color + "/" + scale
	}
	return base + "_" + color
}

// isValidColor reports whether s is made of uppercase letters only (the
// empty color means "uncolored").
func isValidColor(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

package numscript

// Type is the type of a Numscript value.
type Type string

// The value types a variable may be declared with.
const (
	TypeAccount  Type = "account"
	TypeAsset    Type = "asset"
	TypeNumber   Type = "number"
	TypeMonetary Type = "monetary"
	TypePortion  Type = "portion"
	TypeString   Type = "string"
)

// typeAny stands for a type the checker cannot know (an unknown variable,
// a failed expression) or accepts anything (the value of set_tx_meta).
const typeAny Type = "any"

// VarTypes are the types a variable may be declared with, in the order
// error messages list them.
var VarTypes = []Type{TypeAccount, TypeAsset, TypeNumber, TypeMonetary, TypePortion, TypeString}

// isVarType reports whether name is one of VarTypes.
func isVarType(name string) bool {
	for _, t := range VarTypes {
		if string(t) == name {
			return true
		}
	}
	return false
}

// builtin describes a built-in function: its parameter types, its result
// type ("" for statements, typeAny for meta whose result is the declared
// type) and the feature flag it needs, if any.
type builtin struct {
	params []Type
	result Type
	flag   string
}

// The built-in functions.
const (
	fnSetTxMeta      = "set_tx_meta"
	fnSetAccountMeta = "set_account_meta"
	fnMeta           = "meta"
	fnBalance        = "balance"
	fnOverdraft      = "overdraft"
	fnGetAsset       = "get_asset"
	fnGetAmount      = "get_amount"
)

// builtins is the table of built-in functions.
var builtins = map[string]builtin{
	fnSetTxMeta:      {params: []Type{TypeString, typeAny}},
	fnSetAccountMeta: {params: []Type{TypeAccount, TypeString, typeAny}},
	fnMeta:           {params: []Type{TypeAccount, TypeString}, result: typeAny},
	fnBalance:        {params: []Type{TypeAccount, TypeAsset}, result: TypeMonetary},
	fnOverdraft:      {params: []Type{TypeAccount, TypeAsset}, result: TypeMonetary, flag: FlagOverdraftFunction},
	fnGetAsset:       {params: []Type{TypeMonetary}, result: TypeAsset, flag: FlagGetAssetFunction},
	fnGetAmount:      {params: []Type{TypeMonetary}, result: TypeNumber, flag: FlagGetAmountFunction},
}

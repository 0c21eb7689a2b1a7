package numscript

import (
	"fmt"
	"math/big"

	"github.com/kontorhq/kontor/domain/ledger"
)

// Severity says whether a diagnostic makes the script fail (an error) or
// only points at something suspicious (a warning).
type Severity int

// The severities of diagnostics.
const (
	SeverityError Severity = iota + 1
	SeverityWarning
)

// String names the severity.
func (s Severity) String() string {
	if s == SeverityError {
		return "error"
	}
	return "warning"
}

// The kinds of diagnostics only the checker reports (it also reports the
// runtime kinds it can foresee, such as KindTypeError).
const (
	KindDuplicateVariable  ErrorKind = "DuplicateVariable"
	KindUnusedVariable     ErrorKind = "UnusedVariable"
	KindRemainingIsNotLast ErrorKind = "RemainingIsNotLast"
	KindRedundantRemaining ErrorKind = "RedundantRemaining"
	KindWorldOverdraft     ErrorKind = "InvalidWorldOverdraft"
)

// Diagnostic is one finding of the checker.
type Diagnostic struct {
	Range    Range     `json:"range"`
	Severity Severity  `json:"severity"`
	Kind     ErrorKind `json:"kind"`
	Message  string    `json:"message"`
}

// String renders the diagnostic as "line:column: severity: message".
func (d Diagnostic) String() string {
	return fmt.Sprintf("%s: %s: %s", d.Range.Start, d.Severity, d.Message)
}

// Check analyses the program without running it: declared types, unknown
// and unused variables, types of expressions, arity and argument types of
// built-ins, allotments whose literal portions do not sum to 1, send-all
// rules, and experimental constructs used without their feature flag
// (flags passed here or named in the #![feature] header). Diagnostics come
// in source order of discovery.
func (p *Program) Check(flags map[string]bool) []Diagnostic {
	c := &checker{flags: map[string]bool{}, vars: map[string]*checkedVar{}}
	for name, on := range flags {
		c.flags[name] = on
	}
	for _, f := range p.Features {
		if !IsKnownFlag(f.Name) {
			c.errorf(KindInvalidFeature, f.Range, "unknown feature flag %q", f.Name)
		}
		c.flags[f.Name] = true
	}
	c.declare(p.Vars)
	for _, stmt := range p.Statements {
		c.statement(stmt)
	}
	for _, decl := range p.Vars {
		if v := c.vars[decl.Name]; v != nil && !v.used && v.decl == decl.NameRange {
			c.warnf(KindUnusedVariable, decl.NameRange, "the variable $%s is never used", decl.Name)
		}
	}
	return c.diags
}

// HasErrors reports whether some diagnostic is an error.
func HasErrors(diags []Diagnostic) bool {
	for _, d := range diags {
		if d.Severity == SeverityError {
			return true
		}
	}
	return false
}

// checkedVar is what the checker knows of a declared variable.
type checkedVar struct {
	typ  Type
	decl Range
	used bool
}

// checker walks a program collecting diagnostics.
type checker struct {
	flags  map[string]bool
	vars   map[string]*checkedVar
	inVars bool
	asset  string // literal asset of the send being checked, "" if unknown
	diags  []Diagnostic
}

func (c *checker) errorf(kind ErrorKind, rng Range, format string, args ...any) {
	c.diags = append(c.diags, Diagnostic{Range: rng, Severity: SeverityError, Kind: kind, Message: fmt.Sprintf(format, args...)})
}

func (c *checker) warnf(kind ErrorKind, rng Range, format string, args ...any) {
	c.diags = append(c.diags, Diagnostic{Range: rng, Severity: SeverityWarning, Kind: kind, Message: fmt.Sprintf(format, args...)})
}

// requireFlag reports an experimental construct used without its flag.
func (c *checker) requireFlag(flag string, rng Range) {
	if !c.flags[flag] {
		c.errorf(KindExperimentalFeature, rng, "this feature is experimental: you need the '%s' feature flag to enable it", flag)
	}
}

// declare checks the vars block: types, duplicates and origins.
func (c *checker) declare(decls []VarDecl) {
	for _, decl := range decls {
		if !isVarType(decl.Type) {
			c.errorf(KindInvalidType, decl.TypeRange, "'%s' is not a valid type (allowed types: account, asset, number, monetary, portion, string)", decl.Type)
		}
		if _, dup := c.vars[decl.Name]; dup {
			c.errorf(KindDuplicateVariable, decl.NameRange, "the variable $%s is already declared", decl.Name)
			continue
		}
		c.vars[decl.Name] = &checkedVar{typ: Type(decl.Type), decl: decl.NameRange}
	}
	c.inVars = true
	for _, decl := range decls {
		if decl.Origin == nil {
			continue
		}
		declared := Type(decl.Type)
		if !isVarType(decl.Type) {
			declared = typeAny
		}
		var got Type
		if call, ok := decl.Origin.(*Call); ok {
			got = c.call(call, declared)
		} else {
			c.requireFlag(FlagMidScriptFunctionCall, decl.Origin.Span())
			got = c.expr(decl.Origin)
		}
		c.match(declared, got, decl.Origin.Span())
	}
	c.inVars = false
}

// match reports a type mismatch unless got is want (or unknown).
func (c *checker) match(want, got Type, rng Range) {
	if want != typeAny && got != typeAny && want != got {
		c.errorf(KindTypeError, rng, "type mismatch: expected %s, got %s", want, got)
	}
}

// expect checks that e is of type want.
func (c *checker) expect(e Expr, want Type) {
	c.match(want, c.expr(e), e.Span())
}

// expectAmount checks a cap or bound: a monetary in the asset being sent
// when both are literal.
func (c *checker) expectAmount(e Expr) {
	c.expect(e, TypeMonetary)
	if asset := literalAsset(e); asset != "" && c.asset != "" && asset != c.asset {
		c.errorf(KindMismatchedCurrency, e.Span(), "mismatched currency (expected '%s', got '%s' instead)", c.asset, asset)
	}
}

// literalAsset returns the asset of a monetary literal with a literal
// asset, "" otherwise.
func literalAsset(e Expr) string {
	if m, ok := e.(*MonetaryLit); ok {
		if a, ok := m.Asset.(*AssetLit); ok {
			return a.Asset
		}
	}
	return ""
}

// expr returns the type of e, reporting what is wrong inside it.
func (c *checker) expr(e Expr) Type {
	switch e := e.(type) {
	case *Variable:
		v, ok := c.vars[e.Name]
		if !ok {
			c.errorf(KindUnboundVariable, e.Range, "the variable $%s is not declared", e.Name)
			return typeAny
		}
		v.used = true
		return v.typ
	case *AccountLit:
		c.accountLit(e)
		return TypeAccount
	case *AssetLit:
		if !ledger.IsValidAsset(e.Asset) {
			c.errorf(KindInvalidAsset, e.Range, "invalid asset name: %s", e.Asset)
		}
		return TypeAsset
	case *NumberLit:
		return TypeNumber
	case *PercentLit:
		if e.Value.Cmp(big.NewRat(1, 1)) > 0 {
			c.errorf(KindBadPortion, e.Range, "a portion must be between 0%% and 100%% inclusive")
		}
		return TypePortion
	case *StringLit:
		return TypeString
	case *MonetaryLit:
		c.expect(e.Asset, TypeAsset)
		c.expect(e.Amount, TypeNumber)
		return TypeMonetary
	case *Negation:
		t := c.expr(e.Operand)
		if t != typeAny && t != TypeNumber && t != TypeMonetary {
			c.errorf(KindInvalidOperator, e.Range, "cannot negate a %s", t)
			return typeAny
		}
		return t
	case *Infix:
		return c.infix(e)
	case *Call:
		if !c.inVars {
			c.requireFlag(FlagMidScriptFunctionCall, e.Range)
		}
		return c.call(e, "")
	}
	return typeAny
}

// accountLit checks the interpolated parts of an account literal.
func (c *checker) accountLit(e *AccountLit) {
	for _, part := range e.Parts {
		if part.Var == nil {
			continue
		}
		c.requireFlag(FlagAccountInterpolation, part.Range)
		switch t := c.expr(part.Var); t {
		case typeAny, TypeAccount, TypeString, TypeNumber:
		default:
			c.errorf(KindCannotCastToString, part.Range, "a %s cannot be part of an account name", t)
		}
	}
}

// infix returns the type of an infix expression.
func (c *checker) infix(e *Infix) Type {
	left, right := c.expr(e.Left), c.expr(e.Right)
	if e.Op == OpDiv {
		c.match(TypeNumber, left, e.Left.Span())
		c.match(TypeNumber, right, e.Right.Span())
		if n, ok := e.Right.(*NumberLit); ok && n.Value.Sign() == 0 {
			c.errorf(KindDivideByZero, e.Range, "cannot divide by zero")
		}
		return TypePortion
	}
	switch left {
	case typeAny:
		return right
	case TypeNumber, TypeMonetary:
		c.match(left, right, e.Right.Span())
		if left == TypeMonetary {
			if l, r := literalAsset(e.Left), literalAsset(e.Right); l != "" && r != "" && l != r {
				c.errorf(KindMismatchedCurrency, e.Range, "mismatched currency (expected '%s', got '%s' instead)", l, r)
			}
		}
		return left
	}
	c.errorf(KindInvalidOperator, e.Range, "operator '%c' cannot be applied to a %s", e.Op, left)
	return typeAny
}

// call checks a function call used as a value and returns its type;
// declared is the variable's type when the call is a whole origin.
func (c *checker) call(e *Call, declared Type) Type {
	fn, ok := builtins[e.Name]
	switch {
	case !ok:
		c.errorf(KindUnboundFunction, e.NameRange, "the function '%s' does not exist", e.Name)
		c.args(e, nil)
		return typeAny
	case fn.result == "":
		c.errorf(KindUnboundFunction, e.NameRange, "%s is a statement: it cannot be used as a value", e.Name)
	case e.Name == fnMeta && declared == "":
		c.errorf(KindInvalidNestedMeta, e.Range, "meta() must be the whole origin of a variable, not part of an expression")
	}
	if fn.flag != "" {
		c.requireFlag(fn.flag, e.NameRange)
	}
	c.args(e, fn.params)
	if fn.result == typeAny && declared != "" {
		return declared
	}
	if fn.result == "" {
		return typeAny
	}
	return fn.result
}

// args checks the number and types of a call's arguments; nil params
// checks the arguments alone.
func (c *checker) args(e *Call, params []Type) {
	if params != nil && len(e.Args) != len(params) {
		c.errorf(KindBadArity, e.Range, "wrong number of arguments for %s (expected %d, got %d instead)", e.Name, len(params), len(e.Args))
		params = nil
	}
	for i, arg := range e.Args {
		if params == nil {
			c.expr(arg)
		} else {
			c.expect(arg, params[i])
		}
	}
}

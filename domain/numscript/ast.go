package numscript

import "math/big"

// Program is a parsed script: its feature header, its variable
// declarations and its statements, in source order.
type Program struct {
	// Source is the script text the program was parsed from.
	Source string
	// Features are the flags of a #![feature("...")] header.
	Features []Feature
	// Version is the text after "@version" in a "// @version ..." comment,
	// e.g. "interpreter 0.0.15"; empty when there is none.
	Version string
	// Vars are the declarations of the vars { } block.
	Vars []VarDecl
	// Statements are the send, save and function-call statements.
	Statements []Statement
}

// Feature is one flag named in a #![feature(...)] header.
type Feature struct {
	Name  string
	Range Range
}

// VarDecl declares a variable: "type $name" or "type $name = origin".
type VarDecl struct {
	Type      string
	TypeRange Range
	Name      string
	NameRange Range
	// Origin is the expression computing the value, nil when the value
	// comes from the variables passed to Run.
	Origin Expr
	Range  Range
}

// Node is anything of the AST: it knows its source range.
type Node interface {
	Span() Range
}

// Expr is a value expression.
type Expr interface {
	Node
	exprNode()
}

// Variable is a reference to a declared variable, $name.
type Variable struct {
	Name  string
	Range Range
}

// AccountLit is an account address, @a:b, whose parts may be variables
// (@users:$id:pending, experimental account interpolation).
type AccountLit struct {
	Parts []AccountPart
	Range Range
}

// AccountPart is one colon-separated segment of an account literal: fixed
// text, or a variable when Var is set.
type AccountPart struct {
	Text  string
	Var   *Variable
	Range Range
}

// accountPart is the lexer's name for AccountPart.
type accountPart = AccountPart

// AssetLit is an asset name such as USD/2.
type AssetLit struct {
	Asset string
	Range Range
}

// NumberLit is an integer literal; underscores are already removed.
type NumberLit struct {
	Value *big.Int
	Range Range
}

// PercentLit is a percentage literal such as 12.5%, held as a fraction of 1.
type PercentLit struct {
	Value *big.Rat
	Range Range
}

// StringLit is a string literal with its escapes decoded.
type StringLit struct {
	Value string
	Range Range
}

// MonetaryLit is [asset amount].
type MonetaryLit struct {
	Asset  Expr
	Amount Expr
	Range  Range
}

// Operator is a binary operator: '+', '-' or '/'.
type Operator byte

// The binary operators.
const (
	OpAdd Operator = '+'
	OpSub Operator = '-'
	OpDiv Operator = '/'
)

// Infix is left Op right.
type Infix struct {
	Op    Operator
	Left  Expr
	Right Expr
	Range Range
}

// Negation is unary minus, -operand.
type Negation struct {
	Operand Expr
	Range   Range
}

// Call is a function call, name(args...), used as an expression (origins
// such as meta() or balance()) or as a statement (set_tx_meta()).
type Call struct {
	Name      string
	NameRange Range
	Args      []Expr
	Range     Range
}

// Span returns the source range of the Variable.
func (e *Variable) Span() Range { return e.Range }

// Span returns the source range of the AccountLit.
func (e *AccountLit) Span() Range { return e.Range }

// Span returns the source range of the AssetLit.
func (e *AssetLit) Span() Range { return e.Range }

// Span returns the source range of the NumberLit.
func (e *NumberLit) Span() Range { return e.Range }

// Span returns the source range of the PercentLit.
func (e *PercentLit) Span() Range { return e.Range }

// Span returns the source range of the StringLit.
func (e *StringLit) Span() Range { return e.Range }

// Span returns the source range of the MonetaryLit.
func (e *MonetaryLit) Span() Range { return e.Range }

// Span returns the source range of the Infix.
func (e *Infix) Span() Range { return e.Range }

// Span returns the source range of the Negation.
func (e *Negation) Span() Range { return e.Range }

// Span returns the source range of the Call.
func (e *Call) Span() Range { return e.Range }

func (*Variable) exprNode()    {}
func (*AccountLit) exprNode()  {}
func (*AssetLit) exprNode()    {}
func (*NumberLit) exprNode()   {}
func (*PercentLit) exprNode()  {}
func (*StringLit) exprNode()   {}
func (*MonetaryLit) exprNode() {}
func (*Infix) exprNode()       {}
func (*Negation) exprNode()    {}
func (*Call) exprNode()        {}

// Statement is a send, a save or a function call.
type Statement interface {
	Node
	statementNode()
}

// Send moves money: send <amount> ( source = ... destination = ... ).
// Exactly one of Amount (a monetary expression) and AllAsset (the asset of
// a send-all, [ASSET *]) is set.
type Send struct {
	Amount      Expr
	AllAsset    Expr
	Source      Source
	Destination Destination
	Range       Range
}

// Save reserves funds of an account so that later sends cannot use them:
// save <amount> from <account>. Exactly one of Amount and AllAsset is set.
type Save struct {
	Amount   Expr
	AllAsset Expr
	Account  Expr
	Range    Range
}

// Span returns the source range of the Send.
func (s *Send) Span() Range { return s.Range }

// Span returns the source range of the Save.
func (s *Save) Span() Range { return s.Range }

func (*Send) statementNode() {}
func (*Save) statementNode() {}
func (*Call) statementNode() {}

// Source is where a send takes money from.
type Source interface {
	Node
	sourceNode()
}

// SourceAccount takes from one account, optionally restricted to a color
// (@a \ "RED") and allowed to overdraft: unbounded, or up to OverdraftBound.
type SourceAccount struct {
	Account        Expr
	Color          Expr
	Unbounded      bool
	OverdraftBound Expr
	Range          Range
}

// SourceScaling takes from an account, converting its other scales of the
// asset through the Through account first (@a with scaling through @swap).
type SourceScaling struct {
	Account Expr
	Through Expr
	Range   Range
}

// SourceInOrder takes as much as possible from each source in turn: { a b }.
type SourceInOrder struct {
	Sources []Source
	Range   Range
}

// SourceOneOf takes everything from the first source able to provide the
// whole amount, else from the last one: oneof { a b }.
type SourceOneOf struct {
	Sources []Source
	Range   Range
}

// SourceCapped takes at most Cap from a source: max [USD 10] from @a.
type SourceCapped struct {
	Cap   Expr
	From  Source
	Range Range
}

// SourceAllotment splits the amount among sources by portions:
// { 1/3 from @a  remaining from @b }.
type SourceAllotment struct {
	Items []SourceAllotmentItem
	Range Range
}

// SourceAllotmentItem is "portion from source"; Portion is nil for
// "remaining".
type SourceAllotmentItem struct {
	Portion Expr
	From    Source
	Range   Range
}

// Span returns the source range of the SourceAccount.
func (s *SourceAccount) Span() Range { return s.Range }

// Span returns the source range of the SourceScaling.
func (s *SourceScaling) Span() Range { return s.Range }

// Span returns the source range of the SourceInOrder.
func (s *SourceInOrder) Span() Range { return s.Range }

// Span returns the source range of the SourceOneOf.
func (s *SourceOneOf) Span() Range { return s.Range }

// Span returns the source range of the SourceCapped.
func (s *SourceCapped) Span() Range { return s.Range }

// Span returns the source range of the SourceAllotment.
func (s *SourceAllotment) Span() Range { return s.Range }

func (*SourceAccount) sourceNode()   {}
func (*SourceScaling) sourceNode()   {}
func (*SourceInOrder) sourceNode()   {}
func (*SourceOneOf) sourceNode()     {}
func (*SourceCapped) sourceNode()    {}
func (*SourceAllotment) sourceNode() {}

// Destination is where a send puts money.
type Destination interface {
	Node
	destinationNode()
}

// DestAccount gives everything to one account.
type DestAccount struct {
	Account Expr
	Range   Range
}

// DestAllotment splits the amount by portions: { 10% to @fees remaining kept }.
type DestAllotment struct {
	Items []DestAllotmentItem
	Range Range
}

// DestAllotmentItem is "portion to|kept"; Portion is nil for "remaining".
type DestAllotmentItem struct {
	Portion Expr
	To      Target
	Range   Range
}

// DestInOrder fills capped targets in turn, the rest going to Remaining:
// { max [USD 5] to @x  remaining to @y }.
type DestInOrder struct {
	Clauses   []DestClause
	Remaining Target
	Range     Range
}

// DestOneOf gives everything to the first clause whose cap covers the whole
// amount, else to Remaining: oneof { max [USD 5] to @x  remaining kept }.
type DestOneOf struct {
	Clauses   []DestClause
	Remaining Target
	Range     Range
}

// DestClause is "max cap to|kept".
type DestClause struct {
	Cap   Expr
	To    Target
	Range Range
}

// Target is "to destination", or "kept" (the money stays with its sender).
type Target struct {
	Kept        bool
	Destination Destination
	Range       Range
}

// Span returns the source range of the DestAccount.
func (d *DestAccount) Span() Range { return d.Range }

// Span returns the source range of the DestAllotment.
func (d *DestAllotment) Span() Range { return d.Range }

// Span returns the source range of the DestInOrder.
func (d *DestInOrder) Span() Range { return d.Range }

// Span returns the source range of the DestOneOf.
func (d *DestOneOf) Span() Range { return d.Range }

func (*DestAccount) destinationNode()   {}
func (*DestAllotment) destinationNode() {}
func (*DestInOrder) destinationNode()   {}
func (*DestOneOf) destinationNode()     {}

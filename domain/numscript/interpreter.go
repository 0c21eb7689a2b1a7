package numscript

import (
	"context"
	"math/big"

	"github.com/kontorhq/kontor/domain"
	"github.com/kontorhq/kontor/domain/ledger"
)

// interp is the state of one execution of a program.
type interp struct {
	ctx   context.Context
	store Store
	flags map[string]bool

	vars   map[string]value
	inVars bool    // evaluating the vars block: calls need no flag
	dry    *dryRun // non-nil during the prefetch walks

	bal         *balances
	meta        map[metaKey]string
	metaFetched map[metaKey]bool

	asset     string // asset of the send being run, uncolored
	queue     fundsQueue
	postings  ledger.Postings
	stmtStart int    // index of the first posting of the current statement
	short     string // last bounded account that could not give enough

	txMeta      ledger.Metadata
	accountMeta ledger.AccountMetadata
}

// Run executes the program with the given variables (string forms, see
// parseValue) and feature flags, reading balances and metadata from store.
// Besides Execute's errors, it fails with NO_POSTINGS when the script moves
// nothing: a transaction needs postings.
func (p *Program) Run(ctx context.Context, store Store, vars map[string]string, flags map[string]bool) (*Result, error) {
	res, err := p.Execute(ctx, store, vars, flags)
	if err != nil {
		return nil, err
	}
	if len(res.Postings) == 0 {
		return nil, domain.Errorf(domain.CodeNoPostings, "the script produced no postings")
	}
	return res, nil
}

// Execute runs the program like Run but accepts a script that moves
// nothing, which tools (spec tests, dry runs) need. Errors are *domain.Error
// values (INSUFFICIENT_FUND or INTERPRETER_RUNTIME) except the store's own
// failures, which are returned wrapped.
//
// Before running any statement it fetches, in one Store.Metadata call, the
// metadata the vars block reads, then in one Store.Balances call every
// balance it can foresee: the vars block's balance() calls and the bounded
// sources of every statement (@world and unbounded overdrafts excluded).
// Only what could not be foreseen (an account computed from a balance, a
// mid-script balance() of an account no source uses) costs further calls.
func (p *Program) Execute(ctx context.Context, store Store, vars map[string]string, flags map[string]bool) (*Result, error) {
	enabled, err := p.effectiveFlags(flags)
	if err != nil {
		return nil, err
	}
	in := &interp{
		ctx:         ctx,
		store:       store,
		flags:       enabled,
		vars:        map[string]value{},
		bal:         newBalances(),
		meta:        map[metaKey]string{},
		metaFetched: map[metaKey]bool{},
		txMeta:      ledger.Metadata{},
		accountMeta: ledger.AccountMetadata{},
	}
	if err := in.bindInputs(p.Vars, vars); err != nil {
		return nil, err
	}
	if err := in.prefetch(p); err != nil {
		return nil, err
	}
	// The vars block runs top to bottom, as the reference's does: an
	// origin sees only the variables declared before it.
	in.inVars = true
	all, visible := in.vars, map[string]value{}
	for _, decl := range p.Vars {
		if decl.Origin != nil {
			in.vars = visible
			v, err := in.origin(decl)
			in.vars = all
			if err != nil {
				return nil, err
			}
			all[decl.Name] = v
		}
		visible[decl.Name] = all[decl.Name]
	}
	in.inVars = false
	if err := in.prefetchStatements(p.Statements); err != nil {
		return nil, err
	}
	for _, stmt := range p.Statements {
		if err := in.statement(stmt); err != nil {
			return nil, err
		}
	}
	for _, posting := range in.postings {
		if posting.Validate() != nil {
			return nil, runtimeErrorf(KindInternal, Range{}, "the script produced an invalid posting: %s -> %s [%s %s]",
				posting.Source, posting.Destination, posting.Asset, posting.Amount)
		}
	}
	return &Result{Postings: in.postings, Metadata: in.txMeta, AccountMetadata: in.accountMeta}, nil
}

// bindInputs checks every declared type and parses the variables that have
// no origin from their string forms.
func (in *interp) bindInputs(decls []VarDecl, raw map[string]string) error {
	for _, decl := range decls {
		if !isVarType(decl.Type) {
			return runtimeErrorf(KindInvalidType, decl.TypeRange, "this type does not exist: %s", decl.Type)
		}
		if decl.Origin != nil {
			continue
		}
		s, ok := raw[decl.Name]
		if !ok {
			return runtimeErrorf(KindMissingVariable, decl.NameRange, "variable is missing: $%s", decl.Name)
		}
		v, err := parseValue(Type(decl.Type), s, decl.NameRange)
		if err != nil {
			return err
		}
		in.vars[decl.Name] = v
	}
	return nil
}

// origin computes the value of a declaration with an origin. A lone
// function call (meta, balance, ...) is always allowed; any other
// expression needs the mid-script function call flag.
func (in *interp) origin(decl VarDecl) (value, error) {
	var v value
	var err error
	if c, ok := decl.Origin.(*Call); ok {
		v, err = in.call(c, Type(decl.Type))
	} else {
		if err := in.requireFlag(FlagMidScriptFunctionCall, decl.Origin.Span()); err != nil {
			return nil, err
		}
		v, err = in.eval(decl.Origin)
	}
	if err != nil {
		return nil, err
	}
	if v.typ() != Type(decl.Type) {
		return nil, typeError(Type(decl.Type), v, decl.Origin.Span())
	}
	return v, nil
}

// statement runs one statement.
func (in *interp) statement(stmt Statement) error {
	in.stmtStart = len(in.postings)
	switch s := stmt.(type) {
	case *Send:
		return in.send(s)
	case *Save:
		return in.save(s)
	case *Call:
		return in.callStatement(s)
	}
	return runtimeErrorf(KindInternal, stmt.Span(), "unknown statement %T", stmt)
}

// send runs a send statement: take from the source, give to the
// destination.
func (in *interp) send(s *Send) error {
	if s.AllAsset != nil {
		asset, err := in.evalAsset(s.AllAsset)
		if err != nil {
			return err
		}
		in.asset = asset
		sent, err := in.takeAll(s.Source)
		if err != nil {
			return err
		}
		return in.give(s.Destination, sent)
	}
	m, err := in.evalMonetary(s.Amount)
	if err != nil {
		return err
	}
	if m.amount.Sign() < 0 {
		return runtimeErrorf(KindNegativeAmount, s.Amount.Span(), "cannot send a negative amount: [%s %s]", m.asset, m.amount)
	}
	in.asset = m.asset
	if err := in.takeExactly(s.Source, m.amount); err != nil {
		return err
	}
	return in.give(s.Destination, m.amount)
}

// save reserves funds: later sends see the account's balance lowered by
// the amount (all of it for [ASSET *]), never below zero.
func (in *interp) save(s *Save) error {
	var asset string
	var amount *big.Int
	if s.AllAsset != nil {
		a, err := in.evalAsset(s.AllAsset)
		if err != nil {
			return err
		}
		asset = a
	} else {
		m, err := in.evalMonetary(s.Amount)
		if err != nil {
			return err
		}
		if m.amount.Sign() < 0 {
			return runtimeErrorf(KindNegativeAmount, s.Amount.Span(), "cannot save a negative amount: [%s %s]", m.asset, m.amount)
		}
		asset, amount = m.asset, m.amount
	}
	account, err := in.evalAccount(s.Account)
	if err != nil {
		return err
	}
	bal, err := in.balanceOf(account, asset)
	if err != nil {
		return err
	}
	if bal.Sign() <= 0 {
		return nil
	}
	saved := bal
	if amount != nil && amount.Cmp(bal) < 0 {
		saved = amount
	}
	in.bal.add(balanceKey{account, asset}, new(big.Int).Neg(saved))
	return nil
}

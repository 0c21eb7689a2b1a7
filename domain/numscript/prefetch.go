package numscript

import "github.com/kontorhq/kontor/domain/ledger"

// dryRun collects, while walking the program without running it, the
// balances and metadata the run will need.
type dryRun struct {
	balances balanceNeeds
	meta     map[metaKey]bool
}

func newDryRun() *dryRun {
	return &dryRun{balances: balanceNeeds{}, meta: map[metaKey]bool{}}
}

// prefetch batches the store reads the program can foresee: first the
// metadata the vars block reads (one query), then the balances that the
// vars block and the statements need (one query). Values that cannot be
// known yet are skipped; the run fetches them when it gets there.
func (in *interp) prefetch(p *Program) error {
	inputs := in.vars
	defer func() { in.dry, in.vars, in.inVars = nil, inputs, false }()

	in.dry, in.vars = newDryRun(), cloneVars(inputs)
	in.dryOrigins(p.Vars)
	if err := in.fetchMetadata(in.dry.meta); err != nil {
		return err
	}

	in.dry, in.vars = newDryRun(), cloneVars(inputs)
	in.dryOrigins(p.Vars)
	in.dryStatements(p.Statements)
	return in.fetch(in.dry.balances)
}

// prefetchStatements fetches, in one query, the balances the statements
// need that the first prefetch could not foresee (accounts computed by the
// vars block).
func (in *interp) prefetchStatements(stmts []Statement) error {
	in.dry = newDryRun()
	in.dryStatements(stmts)
	needs := in.dry.balances
	in.dry = nil
	return in.fetch(needs)
}

// cloneVars copies a variables map.
func cloneVars(vars map[string]value) map[string]value {
	out := make(map[string]value, len(vars))
	for k, v := range vars {
		out[k] = v
	}
	return out
}

// dryOrigins evaluates what it can of the vars block's origins.
func (in *interp) dryOrigins(decls []VarDecl) {
	in.inVars = true
	for _, decl := range decls {
		if decl.Origin == nil || !isVarType(decl.Type) {
			continue
		}
		if v, err := in.origin(decl); err == nil {
			in.vars[decl.Name] = v
		}
	}
	in.inVars = false
}

// dryStatements records the balances the statements will read.
func (in *interp) dryStatements(stmts []Statement) {
	for _, stmt := range stmts {
		switch s := stmt.(type) {
		case *Send:
			asset, ok := in.dryAsset(s.Amount, s.AllAsset)
			if !ok {
				continue
			}
			in.asset = asset
			in.drySource(s.Source)
			in.dryDestination(s.Destination)
		case *Save:
			asset, ok := in.dryAsset(s.Amount, s.AllAsset)
			if account, err := in.evalAccount(s.Account); ok && err == nil {
				in.dry.balances[balanceKey{account, asset}] = true
			}
		case *Call:
			for _, arg := range s.Args {
				_, _ = in.eval(arg)
			}
		}
	}
}

// dryAsset returns the asset of a send or save, if it can be known.
func (in *interp) dryAsset(amount, allAsset Expr) (string, bool) {
	if allAsset != nil {
		asset, err := in.evalAsset(allAsset)
		return asset, err == nil
	}
	m, err := in.evalMonetary(amount)
	return m.asset, err == nil
}

// drySource records the balances a source will read: bounded accounts in
// the asset being sent (colored if restricted), every scale of the asset
// for a scaling source.
func (in *interp) drySource(src Source) {
	switch s := src.(type) {
	case *SourceAccount:
		if s.OverdraftBound != nil {
			_, _ = in.eval(s.OverdraftBound)
		}
		account, err := in.evalAccount(s.Account)
		if err != nil || s.Unbounded || account == ledger.World {
			return
		}
		color := ""
		if s.Color != nil {
			if color, err = in.evalString(s.Color); err != nil {
				return
			}
		}
		in.dry.balances[balanceKey{account, coloredAsset(in.asset, color)}] = true
	case *SourceScaling:
		if account, err := in.evalAccount(s.Account); err == nil && account != ledger.World {
			in.dry.balances[balanceKey{account, assetBase(in.asset) + "/*"}] = true
		}
	case *SourceInOrder:
		for _, sub := range s.Sources {
			in.drySource(sub)
		}
	case *SourceOneOf:
		for _, sub := range s.Sources {
			in.drySource(sub)
		}
	case *SourceCapped:
		_, _ = in.eval(s.Cap)
		in.drySource(s.From)
	case *SourceAllotment:
		for _, item := range s.Items {
			if item.Portion != nil {
				_, _ = in.eval(item.Portion)
			}
			in.drySource(item.From)
		}
	}
}

// dryDestination evaluates the expressions of a destination, so that the
// calls they make (mid-script balance()) are batched too.
func (in *interp) dryDestination(dst Destination) {
	switch d := dst.(type) {
	case *DestAccount:
		_, _ = in.eval(d.Account)
	case *DestAllotment:
		for _, item := range d.Items {
			if item.Portion != nil {
				_, _ = in.eval(item.Portion)
			}
			in.dryTarget(item.To)
		}
	case *DestInOrder:
		in.dryClauses(d.Clauses, d.Remaining)
	case *DestOneOf:
		in.dryClauses(d.Clauses, d.Remaining)
	}
}

func (in *interp) dryClauses(clauses []DestClause, remaining Target) {
	for _, c := range clauses {
		_, _ = in.eval(c.Cap)
		in.dryTarget(c.To)
	}
	in.dryTarget(remaining)
}

func (in *interp) dryTarget(t Target) {
	if !t.Kept {
		in.dryDestination(t.Destination)
	}
}

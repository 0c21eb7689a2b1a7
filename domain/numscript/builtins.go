package numscript

import "math/big"

// call evaluates a function call used as a value. declared is the type of
// the variable when the call is the whole origin of a declaration (which is
// where meta() may appear), "" otherwise.
func (in *interp) call(c *Call, declared Type) (value, error) {
	fn, ok := builtins[c.Name]
	if !ok {
		return nil, runtimeErrorf(KindUnboundFunction, c.NameRange, "unknown function: %s", c.Name)
	}
	if fn.result == "" {
		return nil, runtimeErrorf(KindUnboundFunction, c.NameRange, "%s is a statement: it cannot be used as a value", c.Name)
	}
	if fn.flag != "" {
		if err := in.requireFlag(fn.flag, c.NameRange); err != nil {
			return nil, err
		}
	}
	if c.Name == fnMeta && declared == "" {
		return nil, runtimeErrorf(KindInvalidNestedMeta, c.Range, "invalid use of meta(): meta() must be the whole origin of a variable, not part of an expression")
	}
	args, err := in.args(c, fn.params)
	if err != nil {
		return nil, err
	}
	switch c.Name {
	case fnMeta:
		return in.readMeta(c, declared, string(args[0].(accountValue)), string(args[1].(stringValue)))
	case fnBalance, fnOverdraft:
		account, asset := string(args[0].(accountValue)), string(args[1].(assetValue))
		if in.dry != nil {
			in.dry.balances[balanceKey{account, asset}] = true
			return nil, errUnknown
		}
		bal, err := in.balanceOf(account, asset)
		if err != nil {
			return nil, err
		}
		if c.Name == fnOverdraft {
			if bal.Sign() >= 0 {
				return monetaryValue{asset: asset, amount: new(big.Int)}, nil
			}
			return monetaryValue{asset: asset, amount: new(big.Int).Neg(bal)}, nil
		}
		if bal.Sign() < 0 {
			return nil, runtimeErrorf(KindNegativeBalance, c.Range, "cannot fetch a negative balance from account @%s (balance: [%s %s])", account, asset, bal)
		}
		return monetaryValue{asset: asset, amount: new(big.Int).Set(bal)}, nil
	case fnGetAsset:
		return assetValue(args[0].(monetaryValue).asset), nil
	}
	return numberValue{args[0].(monetaryValue).amount}, nil // get_amount
}

// args evaluates the arguments of c, checking their number and types.
func (in *interp) args(c *Call, params []Type) ([]value, error) {
	if len(c.Args) != len(params) {
		return nil, runtimeErrorf(KindBadArity, c.Range, "bad arity: %s expects %d arguments (got %d instead)", c.Name, len(params), len(c.Args))
	}
	out := make([]value, len(params))
	for i, arg := range c.Args {
		var err error
		if params[i] == typeAny {
			out[i], err = in.eval(arg)
		} else {
			out[i], err = in.evalAs(arg, params[i])
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// readMeta reads an account's metadata and parses it as the declared type.
func (in *interp) readMeta(c *Call, declared Type, account, key string) (value, error) {
	k := metaKey{account, key}
	if !in.metaFetched[k] {
		if in.dry != nil {
			in.dry.meta[k] = true
			return nil, errUnknown
		}
		if err := in.fetchMetadata(map[metaKey]bool{k: true}); err != nil {
			return nil, err
		}
	}
	raw, ok := in.meta[k]
	if !ok {
		return nil, runtimeErrorf(KindMetadataNotFound, c.Range, "account '@%s' doesn't have metadata associated to the '%s' key", account, key)
	}
	return parseValue(declared, raw, c.Range)
}

// callStatement runs set_tx_meta or set_account_meta.
func (in *interp) callStatement(c *Call) error {
	fn, ok := builtins[c.Name]
	if !ok {
		return runtimeErrorf(KindUnboundFunction, c.NameRange, "unknown function: %s", c.Name)
	}
	if fn.result != "" {
		return runtimeErrorf(KindUnboundFunction, c.NameRange, "%s returns a value: it cannot be used as a statement", c.Name)
	}
	args, err := in.args(c, fn.params)
	if err != nil {
		return err
	}
	if c.Name == fnSetTxMeta {
		in.txMeta[string(args[0].(stringValue))] = args[1].String()
		return nil
	}
	account := string(args[0].(accountValue))
	if in.accountMeta[account] == nil {
		in.accountMeta[account] = map[string]string{}
	}
	in.accountMeta[account][string(args[1].(stringValue))] = args[2].String()
	return nil
}

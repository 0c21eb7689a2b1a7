// Package numscript is Kontor's Numscript: a hand-written lexer and
// recursive-descent parser producing a typed AST with source ranges, a static
// checker, and a tree-walking interpreter compatible with the Formance
// interpreter (formancehq/numscript), experimental feature flags included.
//
// The package is pure: it does no I/O. Balances and account metadata come
// from a Store that the caller implements; the interpreter batches what it
// needs into as few Store calls as it can (one balances query and one
// metadata query for a typical script).
//
// Typical use:
//
//	prog, err := numscript.Parse(src)        // *domain.Error INTERPRETER_PARSE
//	if err != nil { ... }
//	res, err := prog.Run(ctx, store, vars, flags)
//	// res.Postings, res.Metadata, res.AccountMetadata
//
// Run fails with a *domain.Error: INSUFFICIENT_FUND when a source cannot
// provide the amount ("Not enough funds. Needed [A n] (only [A m]
// available)"), NO_POSTINGS when the script moves nothing, and
// INTERPRETER_RUNTIME for every other runtime failure, with the line:column
// of the failing construct in the message and in Details.
//
// Execute is Run for tools: it accepts a script that moves nothing (spec
// tests, dry runs). Check reports static diagnostics (types, arity, unknown
// variables, allotment sums, send-all rules, feature flags) without running
// anything. StaticStore is an in-memory Store. The sub-package spectest runs
// .num + .num.specs.json conformance files.
//
// Semantics follow the reference interpreter: sources push what they take
// into a queue that destinations drain in order; "kept" hands funds back to
// their senders; allotments floor each share and hand the leftover out one
// unit at a time from the first share; consecutive postings of one
// statement between the same accounts in the same asset are merged; zero
// postings are dropped. Colored funds (@a \ "RED") are kept under the
// asset USD_RED/2 for USD/2.
package numscript

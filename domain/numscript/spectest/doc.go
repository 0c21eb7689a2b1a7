// Package spectest runs Numscript spec files: a script.num beside a
// script.num.specs.json (the reference's format, see
// shared/spec/numscript-specs.schema.json) whose test cases give balances,
// variables and metadata, and expect postings, end balances, movements,
// metadata or a missing-funds error.
//
// Unlike its parent package, spectest reads files (RunFile, RunDir): it is
// the one place of domain/numscript allowed to, so that the CLI
// ("kontor numscript test DIR") and the conformance test share it. Run and
// RunSpecs do no I/O.
//
// Kontor extensions to the format: "expect.error.negativeAmount" (as the
// reference's newer runner) and "expect.error", the numscript.ErrorKind a
// case must fail with (e.g. "UnboundVariable").
package spectest

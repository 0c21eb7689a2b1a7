package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kontorhq/kontor/domain"
	"github.com/kontorhq/kontor/domain/ledger"
	"github.com/kontorhq/kontor/domain/numscript"
	"github.com/kontorhq/kontor/domain/numscript/spectest"
)

// maxJSONInputBytes bounds the @file given to --vars, --balances or
// --metadata.
const maxJSONInputBytes = 32 << 20

func newNumscriptCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "numscript",
		Short: "Check, run and test Numscript programs without a ledger",
	}
	cmd.AddCommand(newNumscriptCheckCmd(), newNumscriptRunCmd(), newNumscriptTestCmd())
	return cmd
}

func newNumscriptCheckCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "check FILE",
		Short: "Parse and statically check a Numscript file",
		Long: `Parse and statically check a Numscript file. Every diagnostic is printed as
FILE:line:column: severity: message; the command fails when one is an error
and prints "ok" otherwise (warnings alone do not fail it).`,
		Args: cobra.ExactArgs(1),
	}
	features := cmd.Flags().StringArray("feature", nil,
		"enable an experimental feature flag (repeatable): "+strings.Join(numscript.AllFlags, ", "))
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		path := args[0]
		flags, err := featureFlags(*features)
		if err != nil {
			return err
		}
		src, err := readBounded(path, numscript.MaxScriptBytes)
		if err != nil {
			return err
		}
		out := cmd.OutOrStdout()
		prog, err := numscript.Parse(string(src))
		if err != nil {
			d, ok := parseDiagnostic(err)
			if !ok {
				return fmt.Errorf("%s: %w", path, err)
			}
			fmt.Fprintf(out, "%s:%s\n", path, d)
			return fmt.Errorf("%s: 1 error", path)
		}
		errs := 0
		for _, d := range prog.Check(flags) {
			fmt.Fprintf(out, "%s:%s\n", path, d)
			if d.Severity == numscript.SeverityError {
				errs++
			}
		}
		if errs > 0 {
			return fmt.Errorf("%s: %d error(s)", path, errs)
		}
		fmt.Fprintln(out, "ok")
		return nil
	}
	return cmd
}

func newNumscriptRunCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run FILE",
		Short: "Run a Numscript file against given balances and print its result",
		Long: `Run a Numscript file against in-memory balances and account metadata, and print
the postings, the transaction metadata and the account metadata it produces as
JSON. Nothing is written anywhere. A script that moves nothing is accepted (a
ledger would reject it with NO_POSTINGS).

Every JSON flag takes either the JSON text or @path to a file holding it:
  --vars      '{"amount":"USD/2 100","user":"users:1"}'  (strings; numbers are taken as written)
  --balances  '{"users:1":{"USD/2":100}}'                 (integer amounts, as numbers or strings)
  --metadata  '{"users:1":{"tier":"gold"}}'`,
		Args: cobra.ExactArgs(1),
	}
	varsFlag := cmd.Flags().String("vars", "", "variables as a JSON object, or @file.json")
	balancesFlag := cmd.Flags().String("balances", "", "balances as JSON {account: {asset: amount}}, or @file.json")
	metadataFlag := cmd.Flags().String("metadata", "", "account metadata as JSON {account: {key: value}}, or @file.json")
	features := cmd.Flags().StringArray("feature", nil,
		"enable an experimental feature flag (repeatable): "+strings.Join(numscript.AllFlags, ", "))
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		path := args[0]
		flags, err := featureFlags(*features)
		if err != nil {
			return err
		}
		vars, err := parseVars(*varsFlag)
		if err != nil {
			return fmt.Errorf("--vars: %w", err)
		}
		balances, err := parseBalances(*balancesFlag)
		if err != nil {
			return fmt.Errorf("--balances: %w", err)
		}
		meta, err := parseAccountMetadata(*metadataFlag)
		if err != nil {
			return fmt.Errorf("--metadata: %w", err)
		}
		src, err := readBounded(path, numscript.MaxScriptBytes)
		if err != nil {
			return err
		}
		prog, err := numscript.Parse(string(src))
		if err != nil {
			return &scriptError{path: path, err: err}
		}
		store := numscript.StaticStore{Assets: balances, Meta: meta}
		res, err := prog.Execute(cmd.Context(), store, vars, flags)
		if err != nil {
			return &scriptError{path: path, err: err}
		}
		return writeRunResult(cmd.OutOrStdout(), res)
	}
	return cmd
}

func newNumscriptTestCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "test DIR",
		Short: "Run the .num.specs.json spec tests of every Numscript file under DIR",
		Long: `Run every .num file under DIR (recursively) against the spec file beside it,
script.num.specs.json. Each case is reported as PASS, FAIL (followed by the
diff of every unmet expectation: "-" expected and missing, "+" produced and
unexpected) or SKIP. A script without a spec file, a spec file without a
script, or one that cannot be read counts as one failure. The report ends with
the line "N passed, N failed"; the command fails when a case failed.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			paths, err := specPaths(args[0])
			if err != nil {
				return err
			}
			if len(paths) == 0 {
				return fmt.Errorf("no .num or %s file under %s", spectest.SpecsSuffix, args[0])
			}
			results := make([]spectest.FileResult, 0, len(paths))
			for _, path := range paths {
				if err := cmd.Context().Err(); err != nil {
					return err
				}
				results = append(results, spectest.RunFile(cmd.Context(), path))
			}
			if err := writeSpecReport(cmd.OutOrStdout(), results); err != nil {
				return err
			}
			if _, failed, _ := spectest.Summary(results); failed > 0 {
				return fmt.Errorf("%d spec case(s) failed", failed)
			}
			return nil
		},
	}
}

// scriptError is a parse or runtime failure of a script file. It reads
// "FILE:line:column: CODE: message" when the failure has a position, and
// unwraps to the *domain.Error of the interpreter.
type scriptError struct {
	path string
	err  error
}

func (e *scriptError) Error() string {
	var de *domain.Error
	if !errors.As(e.err, &de) {
		return e.path + ": " + e.err.Error()
	}
	r, ok := errorRange(de)
	if !ok {
		return fmt.Sprintf("%s: %s: %s", e.path, de.Code, de.Message)
	}
	return fmt.Sprintf("%s:%s: %s: %s", e.path, r.Start, de.Code, trimPosition(de.Message, r))
}

func (e *scriptError) Unwrap() error { return e.err }

// errorRange returns where in the script a Numscript error happened.
func errorRange(e *domain.Error) (numscript.Range, bool) {
	switch d := e.Details.(type) {
	case *numscript.ErrorDetails:
		return d.Range, true
	case *numscript.MissingFundsDetails:
		return d.Range, true
	}
	return numscript.Range{}, false
}

// trimPosition drops the "line:column: " prefix the interpreter puts in its
// messages, so that a position printed before the message is not repeated.
func trimPosition(msg string, r numscript.Range) string {
	return strings.TrimPrefix(msg, r.Start.String()+": ")
}

// parseDiagnostic turns a parse error into a diagnostic, so that check prints
// it like the checker's findings.
func parseDiagnostic(err error) (numscript.Diagnostic, bool) {
	var de *domain.Error
	if !errors.As(err, &de) {
		return numscript.Diagnostic{}, false
	}
	r, ok := errorRange(de)
	if !ok {
		return numscript.Diagnostic{}, false
	}
	return numscript.Diagnostic{
		Range:    r,
		Severity: numscript.SeverityError,
		Kind:     numscript.ErrorKindOf(err),
		Message:  trimPosition(de.Message, r),
	}, true
}

// featureFlags turns --feature values into the set Run and Check take,
// rejecting unknown names.
func featureFlags(names []string) (map[string]bool, error) {
	flags := make(map[string]bool, len(names))
	for _, name := range names {
		if !numscript.IsKnownFlag(name) {
			return nil, fmt.Errorf("--feature: unknown flag %q; known flags: %s",
				name, strings.Join(numscript.AllFlags, ", "))
		}
		flags[name] = true
	}
	return flags, nil
}

// readBounded reads a file of at most limit bytes.
func readBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, limit)
	}
	return data, nil
}

// decodeJSONFlag decodes a flag holding JSON text or "@path" of a JSON file
// into v. An empty flag leaves v alone.
func decodeJSONFlag(value string, v any) error {
	data := []byte(value)
	if path, ok := strings.CutPrefix(value, "@"); ok {
		var err error
		if data, err = readBounded(path, maxJSONInputBytes); err != nil {
			return err
		}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	if dec.More() {
		return errors.New("invalid JSON: more than one value")
	}
	return nil
}

// parseVars decodes the variables of a script: a JSON object whose values are
// the variables' string forms ("USD/2 100", "users:1", "1/3"); a number is
// taken as written.
func parseVars(value string) (map[string]string, error) {
	var raw map[string]any
	if err := decodeJSONFlag(value, &raw); err != nil {
		return nil, err
	}
	vars := make(map[string]string, len(raw))
	for name, v := range raw {
		switch v := v.(type) {
		case string:
			vars[name] = v
		case json.Number:
			vars[name] = v.String()
		default:
			return nil, fmt.Errorf("variable %q: want a string or a number, got %s", name, jsonKind(v))
		}
	}
	return vars, nil
}

// parseBalances decodes {account: {asset: amount}} with integer amounts of
// any size, as JSON numbers or strings.
func parseBalances(value string) (map[string]map[string]*big.Int, error) {
	var raw map[string]map[string]json.Number
	if err := decodeJSONFlag(value, &raw); err != nil {
		return nil, err
	}
	balances := make(map[string]map[string]*big.Int, len(raw))
	for account, assets := range raw {
		balances[account] = make(map[string]*big.Int, len(assets))
		for asset, n := range assets {
			amount, ok := new(big.Int).SetString(n.String(), 10)
			if !ok {
				return nil, fmt.Errorf("%s %s: %q is not an integer", account, asset, n)
			}
			balances[account][asset] = amount
		}
	}
	return balances, nil
}

// parseAccountMetadata decodes {account: {key: value}} with string values.
func parseAccountMetadata(value string) (map[string]ledger.Metadata, error) {
	var meta map[string]ledger.Metadata
	if err := decodeJSONFlag(value, &meta); err != nil {
		return nil, err
	}
	return meta, nil
}

// jsonKind names the JSON type of a decoded value for error messages.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	default:
		return "an object"
	}
}

// runOutput is what "numscript run" prints.
type runOutput struct {
	Postings        ledger.Postings        `json:"postings"`
	TxMetadata      ledger.Metadata        `json:"txMetadata"`
	AccountMetadata ledger.AccountMetadata `json:"accountMetadata"`
}

func writeRunResult(w io.Writer, res *numscript.Result) error {
	out := runOutput{Postings: res.Postings, TxMetadata: res.Metadata, AccountMetadata: res.AccountMetadata}
	if out.Postings == nil {
		out.Postings = ledger.Postings{}
	}
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(data, '\n'))
	return err
}

// specPaths lists, sorted, the spec file of every .num under root and every
// spec file under root, so that a script without specs and specs without a
// script both show up (as failures) rather than being skipped silently.
func specPaths(root string) ([]string, error) {
	seen := make(map[string]bool)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
		case strings.HasSuffix(path, spectest.SpecsSuffix):
			seen[path] = true
		case strings.HasSuffix(path, ".num"):
			seen[strings.TrimSuffix(path, ".num")+spectest.SpecsSuffix] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	paths := make([]string, 0, len(seen))
	for path := range seen {
		paths = append(paths, path)
	}
	sort.Strings(paths)
	return paths, nil
}

// writeSpecReport prints one line per case, PASS, FAIL or SKIP with the
// script's path and the case's name, the diffs of every failing case, and the
// closing line "N passed, N failed" (counted as spectest.Summary does).
func writeSpecReport(w io.Writer, results []spectest.FileResult) error {
	var b strings.Builder
	for _, file := range results {
		script := strings.TrimSuffix(file.Path, ".specs.json")
		switch {
		case file.Err != nil:
			fmt.Fprintf(&b, "FAIL %s: %v\n", script, file.Err)
			continue
		case len(file.Cases) == 0:
			fmt.Fprintf(&b, "FAIL %s: no test cases\n", script)
			continue
		}
		for _, c := range file.Cases {
			switch {
			case c.Skipped:
				fmt.Fprintf(&b, "SKIP %s: %s\n", script, c.It)
			case c.Passed():
				fmt.Fprintf(&b, "PASS %s: %s\n", script, c.It)
			default:
				fmt.Fprintf(&b, "FAIL %s: %s\n", script, c.It)
				for _, f := range c.Failures {
					fmt.Fprintf(&b, "    %s\n", f.Assertion)
					for _, line := range strings.Split(strings.TrimRight(f.Diff, "\n"), "\n") {
						fmt.Fprintf(&b, "      %s\n", line)
					}
				}
			}
		}
	}
	passed, failed, skipped := spectest.Summary(results)
	if skipped > 0 {
		fmt.Fprintf(&b, "%d skipped\n", skipped)
	}
	fmt.Fprintf(&b, "%d passed, %d failed\n", passed, failed)
	_, err := io.WriteString(w, b.String())
	return err
}

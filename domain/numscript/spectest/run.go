package spectest

import (
	"context"
	"fmt"
	"math/big"
	"sort"
	"strings"

	"github.com/kontorhq/kontor/domain"
	"github.com/kontorhq/kontor/domain/ledger"
	"github.com/kontorhq/kontor/domain/numscript"
)

// CaseResult is the outcome of one test case.
type CaseResult struct {
	It       string
	Skipped  bool
	Failures []Failure
	// Postings are what the script produced (nil when it failed).
	Postings ledger.Postings
}

// Passed reports whether the case ran and met every expectation.
func (r CaseResult) Passed() bool { return !r.Skipped && len(r.Failures) == 0 }

// Failure is one unmet expectation, with a readable diff: lines starting
// with "-" are expected and missing, lines starting with "+" are produced
// and unexpected.
type Failure struct {
	Assertion string
	Diff      string
}

// String renders the failure as its assertion name followed by the diff.
func (f Failure) String() string { return f.Assertion + "\n" + f.Diff }

// Run parses a script and its spec file and runs every case.
func Run(ctx context.Context, script string, specsJSON []byte) ([]CaseResult, error) {
	prog, err := numscript.Parse(script)
	if err != nil {
		return nil, err
	}
	specs, err := ParseSpecs(specsJSON)
	if err != nil {
		return nil, err
	}
	return RunSpecs(ctx, prog, specs), nil
}

// RunSpecs runs every case of specs against prog. When some case is
// focused, the others are skipped.
func RunSpecs(ctx context.Context, prog *numscript.Program, specs *Specs) []CaseResult {
	focused := false
	for _, tc := range specs.TestCases {
		focused = focused || tc.Focus
	}
	flags := map[string]bool{}
	for _, f := range specs.FeatureFlags {
		flags[f] = true
	}
	results := make([]CaseResult, 0, len(specs.TestCases))
	for _, tc := range specs.TestCases {
		if tc.Skip || (focused && !tc.Focus) {
			results = append(results, CaseResult{It: tc.It, Skipped: true})
			continue
		}
		results = append(results, runCase(ctx, prog, specs, tc, flags))
	}
	return results
}

// runCase runs one case and checks its expectations.
func runCase(ctx context.Context, prog *numscript.Program, specs *Specs, tc TestCase, flags map[string]bool) CaseResult {
	result := CaseResult{It: tc.It}
	fail := func(assertion, diff string) {
		result.Failures = append(result.Failures, Failure{Assertion: assertion, Diff: diff})
	}
	balances := mergeBalances(specs.Balances, tc.Balances)
	vars := map[string]string{}
	for k, v := range specs.Variables {
		vars[k] = v
	}
	for k, v := range tc.Variables {
		vars[k] = v
	}
	store := numscript.StaticStore{Assets: balances, Meta: mergeMetadata(specs.Metadata, tc.Metadata)}

	res, err := prog.Execute(ctx, store, vars, flags)
	kind := numscript.ErrorKindOf(err)
	expectedKind := numscript.ErrorKind(tc.ExpectError)
	switch {
	case tc.ExpectMissingFunds:
		expectedKind = numscript.KindMissingFunds
	case tc.ExpectNegativeAmount:
		expectedKind = numscript.KindNegativeAmount
	}
	if err != nil || expectedKind != "" {
		if kind != expectedKind {
			fail("expect.error", lineDiff(describeError(expectedKind, nil), describeError(kind, err)))
		}
		return result
	}
	result.Postings = res.Postings

	if tc.ExpectPostings != nil {
		want := make([]string, len(tc.ExpectPostings))
		for i, p := range tc.ExpectPostings {
			want[i] = postingLine(p.Source, p.Destination, colored(p.Asset, p.Color), p.Amount)
		}
		got := make([]string, len(res.Postings))
		for i, p := range res.Postings {
			got[i] = postingLine(p.Source, p.Destination, p.Asset, p.Amount)
		}
		if diff := lineDiff(want, got); diff != "" {
			fail("expect.postings", diff)
		}
	}
	end := endBalances(balances, res.Postings)
	if tc.ExpectEndBalances != nil {
		if diff := lineDiff(balanceLines(rowsToMap(tc.ExpectEndBalances)), balanceLines(end)); diff != "" {
			fail("expect.endBalances", diff)
		}
	}
	if tc.ExpectEndBalancesInclude != nil {
		want := rowsToMap(tc.ExpectEndBalancesInclude)
		got := map[string]map[string]*big.Int{}
		for account, assets := range want {
			got[account] = map[string]*big.Int{}
			for asset := range assets {
				got[account][asset] = end[account][asset]
			}
		}
		if diff := lineDiff(balanceLines(want), balanceLines(got)); diff != "" {
			fail("expect.endBalances.include", diff)
		}
	}
	if tc.ExpectMovements != nil {
		if diff := lineDiff(movementLines(tc.ExpectMovements), postingsMovementLines(res.Postings)); diff != "" {
			fail("expect.movements", diff)
		}
	}
	if tc.ExpectTxMetadata != nil {
		if diff := lineDiff(metadataLines("", tc.ExpectTxMetadata), metadataLines("", res.Metadata)); diff != "" {
			fail("expect.txMetadata", diff)
		}
	}
	if tc.ExpectMetadata != nil {
		var want, got []string
		for account, m := range tc.ExpectMetadata {
			want = append(want, metadataLines("@"+account+" ", m)...)
		}
		for account, m := range res.AccountMetadata {
			got = append(got, metadataLines("@"+account+" ", m)...)
		}
		sort.Strings(want)
		sort.Strings(got)
		if diff := lineDiff(want, got); diff != "" {
			fail("expect.metadata", diff)
		}
	}
	return result
}

// describeError renders an error expectation or outcome as diff lines.
func describeError(kind numscript.ErrorKind, err error) []string {
	switch {
	case err != nil && kind == "":
		return []string{"error: " + err.Error()}
	case err != nil:
		return []string{"error " + string(kind) + ": " + domain.ErrorMessage(err)}
	case kind != "":
		return []string{"error " + string(kind)}
	}
	return []string{"no error"}
}

// colored returns the asset under which colored funds are kept
// (USD/2 + RED = USD_RED/2).
func colored(asset, color string) string {
	if color == "" {
		return asset
	}
	base, scale, ok := strings.Cut(asset, "/")
	if ok {
		return base + "_" + color + "/" + scale
	}
	return base + "_" + color
}

func postingLine(source, destination, asset string, amount *big.Int) string {
	return fmt.Sprintf("@%s -> @%s [%s %s]", source, destination, asset, amount)
}

// mergeBalances returns the balances of outer overridden by inner, as
// account → colored asset → amount.
func mergeBalances(outer, inner []BalanceRow) map[string]map[string]*big.Int {
	out := map[string]map[string]*big.Int{}
	for _, row := range append(append([]BalanceRow(nil), outer...), inner...) {
		if out[row.Account] == nil {
			out[row.Account] = map[string]*big.Int{}
		}
		out[row.Account][colored(row.Asset, row.Color)] = new(big.Int).Set(row.Amount)
	}
	return out
}

// mergeMetadata returns the metadata of outer overridden key by key by inner.
func mergeMetadata(outer, inner AccountsMetadata) map[string]ledger.Metadata {
	out := map[string]ledger.Metadata{}
	for _, m := range []AccountsMetadata{outer, inner} {
		for account, kv := range m {
			if out[account] == nil {
				out[account] = ledger.Metadata{}
			}
			for k, v := range kv {
				out[account][k] = v
			}
		}
	}
	return out
}

// rowsToMap turns balance rows into account → colored asset → amount.
func rowsToMap(rows []BalanceRow) map[string]map[string]*big.Int {
	return mergeBalances(rows, nil)
}

// endBalances applies postings to the initial balances.
func endBalances(initial map[string]map[string]*big.Int, postings ledger.Postings) map[string]map[string]*big.Int {
	out := map[string]map[string]*big.Int{}
	add := func(account, asset string, amount *big.Int) {
		if out[account] == nil {
			out[account] = map[string]*big.Int{}
		}
		if out[account][asset] == nil {
			out[account][asset] = new(big.Int)
		}
		out[account][asset].Add(out[account][asset], amount)
	}
	for account, assets := range initial {
		for asset, amount := range assets {
			add(account, asset, amount)
		}
	}
	for _, p := range postings {
		add(p.Source, p.Asset, new(big.Int).Neg(p.Amount))
		add(p.Destination, p.Asset, p.Amount)
	}
	return out
}

// balanceLines renders balances as sorted lines, zero balances omitted (an
// absent balance is zero).
func balanceLines(balances map[string]map[string]*big.Int) []string {
	var lines []string
	for account, assets := range balances {
		for asset, amount := range assets {
			if amount != nil && amount.Sign() != 0 {
				lines = append(lines, fmt.Sprintf("@%s [%s %s]", account, asset, amount))
			}
		}
	}
	sort.Strings(lines)
	return lines
}

// movementLines renders expected movements as sorted lines.
func movementLines(movements []Movement) []string {
	sums := map[string]*big.Int{}
	for _, m := range movements {
		key := postingKey(m.Source, m.Destination, colored(m.Asset, m.Color))
		if sums[key] == nil {
			sums[key] = new(big.Int)
		}
		sums[key].Add(sums[key], m.Amount)
	}
	return sumLines(sums)
}

// postingsMovementLines sums postings by source, destination and asset.
func postingsMovementLines(postings ledger.Postings) []string {
	sums := map[string]*big.Int{}
	for _, p := range postings {
		key := postingKey(p.Source, p.Destination, p.Asset)
		if sums[key] == nil {
			sums[key] = new(big.Int)
		}
		sums[key].Add(sums[key], p.Amount)
	}
	return sumLines(sums)
}

func postingKey(source, destination, asset string) string {
	return fmt.Sprintf("@%s -> @%s [%s", source, destination, asset)
}

func sumLines(sums map[string]*big.Int) []string {
	lines := make([]string, 0, len(sums))
	for key, amount := range sums {
		if amount.Sign() != 0 {
			lines = append(lines, key+" "+amount.String()+"]")
		}
	}
	sort.Strings(lines)
	return lines
}

// metadataLines renders metadata as sorted "prefix key = value" lines.
func metadataLines(prefix string, m map[string]string) []string {
	lines := make([]string, 0, len(m))
	for k, v := range m {
		lines = append(lines, fmt.Sprintf("%s%q = %q", prefix, k, v))
	}
	sort.Strings(lines)
	return lines
}

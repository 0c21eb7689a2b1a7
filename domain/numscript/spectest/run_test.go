package spectest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const script = `send [USD 10] (
  source = @alice
  destination = { 1/2 to @bob remaining to @carol }
)
set_tx_meta("k", "v")
set_account_meta(@bob, "k", "v")`

func TestRunReportsEveryMismatch(t *testing.T) {
	specs := `{
  "balances": [{"account": "alice", "asset": "USD", "amount": 10}],
  "testCases": [
    {"it": "passes",
     "expect.postings": [
       {"source": "alice", "destination": "bob", "asset": "USD", "amount": 5},
       {"source": "alice", "destination": "carol", "asset": "USD", "amount": 5}],
     "expect.endBalances": [{"account": "bob", "asset": "USD", "amount": 5}, {"account": "carol", "asset": "USD", "amount": 5}],
     "expect.endBalances.include": [{"account": "alice", "asset": "USD", "amount": 0}],
     "expect.movements": [{"source": "alice", "destination": "carol", "asset": "USD", "amount": 5},
                          {"source": "alice", "destination": "bob", "asset": "USD", "amount": 5}],
     "expect.txMetadata": {"k": "v"},
     "expect.metadata": {"bob": {"k": "v"}}},
    {"it": "fails everything",
     "expect.postings": [{"source": "alice", "destination": "bob", "asset": "USD", "amount": 10}],
     "expect.endBalances": [{"account": "bob", "asset": "USD", "amount": 10}],
     "expect.endBalances.include": [{"account": "alice", "asset": "USD", "amount": 1}],
     "expect.movements": [{"source": "alice", "destination": "bob", "asset": "USD", "amount": 10}],
     "expect.txMetadata": {"k": "w"},
     "expect.metadata": {"bob": {"k": "w"}}},
    {"it": "expects missing funds", "expect.error.missingFunds": true},
    {"it": "gets missing funds", "balances": [{"account": "alice", "asset": "USD", "amount": 1}]},
    {"it": "is skipped", "skip": true}
  ]
}`
	results, err := Run(context.Background(), script, []byte(specs))
	if err != nil {
		t.Fatal(err)
	}
	if !results[0].Passed() {
		t.Fatalf("first case: %v", results[0].Failures)
	}
	var assertions []string
	for _, f := range results[1].Failures {
		assertions = append(assertions, f.Assertion)
	}
	if got := strings.Join(assertions, " "); got != "expect.postings expect.endBalances expect.endBalances.include expect.movements expect.txMetadata expect.metadata" {
		t.Fatalf("assertions %s", got)
	}
	wantDiff := "- @alice -> @bob [USD 10]\n+ @alice -> @bob [USD 5]\n+ @alice -> @carol [USD 5]\n"
	if got := results[1].Failures[0].Diff; got != wantDiff {
		t.Errorf("postings diff:\n%s", got)
	}
	if got := results[2].Failures[0].Diff; got != "- error MissingFunds\n+ no error\n" {
		t.Errorf("missing funds diff:\n%s", got)
	}
	if got := results[3].Failures[0].Diff; !strings.Contains(got, "+ error MissingFunds: Not enough funds. Needed [USD 10] (only [USD 1] available)") {
		t.Errorf("unexpected error diff:\n%s", got)
	}
	if !results[4].Skipped || results[4].Passed() {
		t.Errorf("skip: %+v", results[4])
	}
}

func TestRunFocusAndColors(t *testing.T) {
	specs := `{
  "featureFlags": ["experimental-asset-colors"],
  "testCases": [
    {"it": "other", "expect.postings": []},
    {"it": "focused", "focus": true,
     "balances": [{"account": "a", "asset": "USD/2", "amount": 3, "color": "RED"}],
     "expect.postings": [{"source": "a", "destination": "b", "asset": "USD/2", "amount": 3, "color": "RED"}],
     "expect.endBalances": [{"account": "b", "asset": "USD/2", "amount": 3, "color": "RED"}]}
  ]
}`
	results, err := Run(context.Background(), `send [USD/2 *] (source = @a \ "RED" destination = @b)`, []byte(specs))
	if err != nil {
		t.Fatal(err)
	}
	if !results[0].Skipped || !results[1].Passed() {
		t.Fatalf("results %+v", results)
	}
}

func TestParseSpecsRejectsMistakes(t *testing.T) {
	for _, bad := range []string{
		`{"testCases": [{"it": "x", "expect.posting": []}]}`,
		`{"testCases": [{"expect.postings": []}]}`,
		`{"balances": [{"account": "a", "asset": "USD"}], "testCases": []}`,
		`{"testCases": [{"it": "x", "balances": [{"account": "a", "asset": "USD", "amount": 1.5}]}]}`,
	} {
		if _, err := ParseSpecs([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

func TestRunDirAndReport(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("ok.num", `send [USD 1] (source = @world destination = @a)`)
	write("ok.num.specs.json", `{"testCases": [{"it": "works", "expect.postings": [{"source": "world", "destination": "a", "asset": "USD", "amount": 1}]}]}`)
	write("bad.num", `send [USD 1] (source = @world destination = @a)`)
	write("bad.num.specs.json", `{"testCases": [{"it": "breaks", "expect.postings": []}]}`)
	write("broken.num", `send`)
	write("broken.num.specs.json", `{"testCases": [{"it": "never runs"}]}`)
	write("orphan.num.specs.json", `{"testCases": []}`)
	results, err := RunDir(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := Report(&b, results); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"FAIL " + filepath.Join(dir, "bad.num.specs.json") + " (1 cases)\n  x breaks\n    expect.postings\n      + @world -> @a [USD 1]\n",
		"FAIL " + filepath.Join(dir, "broken.num.specs.json") + ": INTERPRETER_PARSE: 1:5: unexpected end of script",
		"ok   " + filepath.Join(dir, "ok.num.specs.json") + " (1 cases)\n",
		"FAIL " + filepath.Join(dir, "orphan.num.specs.json") + ": open ",
		"\n1 passed, 3 failed\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

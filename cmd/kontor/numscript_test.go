package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kontorhq/kontor/domain"
)

// runKontor runs the kontor command line with args and returns what it
// printed on stdout and stderr, and its error.
func runKontor(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errOut)
	err = root.Execute()
	return out.String(), errOut.String(), err
}

// writeFile writes content to name under dir, creating parent folders, and
// returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const paymentScript = `vars {
  monetary $amount
  account $merchant = meta(@platform, "merchant")
}
send $amount (
  source = @users:001
  destination = {
    10% to @platform:fees
    remaining to $merchant
  }
)
set_tx_meta("amount", $amount)
set_account_meta($merchant, "paid", "yes")
`

func TestNumscriptCheck(t *testing.T) {
	dir := t.TempDir()

	t.Run("good script", func(t *testing.T) {
		path := writeFile(t, dir, "good.num", paymentScript)
		out, _, err := runKontor(t, "numscript", "check", path)
		if err != nil {
			t.Fatalf("check: %v\n%s", err, out)
		}
		if out != "ok\n" {
			t.Errorf("output = %q, want %q", out, "ok\n")
		}
	})

	t.Run("warnings do not fail", func(t *testing.T) {
		path := writeFile(t, dir, "unused.num", "vars {\n  monetary $unused\n}\nsend [USD/2 1] (\n  source = @world\n  destination = @a\n)\n")
		out, _, err := runKontor(t, "numscript", "check", path)
		if err != nil {
			t.Fatalf("check: %v\n%s", err, out)
		}
		want := path + ":2:12: warning: the variable $unused is never used\nok\n"
		if out != want {
			t.Errorf("output = %q, want %q", out, want)
		}
	})

	t.Run("parse error", func(t *testing.T) {
		path := writeFile(t, dir, "syntax.num", "send [USD/2 100] (\n  source = @a\n  destination =\n)\n")
		out, _, err := runKontor(t, "numscript", "check", path)
		if err == nil {
			t.Fatalf("check succeeded:\n%s", out)
		}
		want := path + ":4:1: error: unexpected ')', expected an expression\n"
		if out != want {
			t.Errorf("output = %q, want %q", out, want)
		}
		if strings.Contains(out, "ok") {
			t.Errorf("output says ok: %q", out)
		}
	})

	t.Run("checker errors", func(t *testing.T) {
		path := writeFile(t, dir, "bad.num", "send [USD *] (\n  source = @world\n  destination = { 1/2 to @a 1/3 to @b }\n)\n")
		out, _, err := runKontor(t, "numscript", "check", path)
		if err == nil {
			t.Fatalf("check succeeded:\n%s", out)
		}
		want := path + ":2:12: error: cannot take all balance from an unbounded source\n" +
			path + ":3:17: error: allotment portions sum to 5/6, less than 1: add a 'remaining' clause?\n"
		if out != want {
			t.Errorf("output = %q, want %q", out, want)
		}
		if !strings.Contains(err.Error(), "2 error(s)") {
			t.Errorf("error = %v, want the count of errors", err)
		}
	})

	t.Run("feature flags", func(t *testing.T) {
		path := writeFile(t, dir, "overdraft.num", "vars {\n  monetary $debt = overdraft(@alice, USD)\n}\nsend $debt (\n  source = @world\n  destination = @alice\n)\n")
		out, _, err := runKontor(t, "numscript", "check", path)
		if err == nil || !strings.Contains(out, path+":2:") || !strings.Contains(out, "experimental-overdraft-function") {
			t.Errorf("check without the flag: err = %v, output = %q; want an error naming the flag", err, out)
		}
		out, _, err = runKontor(t, "numscript", "check", "--feature", "experimental-overdraft-function", path)
		if err != nil || out != "ok\n" {
			t.Errorf("check with the flag: err = %v, output = %q", err, out)
		}
		if _, _, err := runKontor(t, "numscript", "check", "--feature", "no-such-flag", path); err == nil ||
			!strings.Contains(err.Error(), "no-such-flag") {
			t.Errorf("unknown flag: err = %v", err)
		}
	})

	t.Run("missing file", func(t *testing.T) {
		if _, _, err := runKontor(t, "numscript", "check", filepath.Join(dir, "nope.num")); err == nil {
			t.Error("check of a missing file succeeded")
		}
	})
}

// runResult mirrors the JSON "numscript run" prints.
type runResult struct {
	Postings []struct {
		Source      string      `json:"source"`
		Destination string      `json:"destination"`
		Amount      json.Number `json:"amount"`
		Asset       string      `json:"asset"`
	} `json:"postings"`
	TxMetadata      map[string]string            `json:"txMetadata"`
	AccountMetadata map[string]map[string]string `json:"accountMetadata"`
}

func decodeRunResult(t *testing.T, out string) runResult {
	t.Helper()
	var res runResult
	dec := json.NewDecoder(strings.NewReader(out))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	if err := dec.Decode(&res); err != nil {
		t.Fatalf("decode %q: %v", out, err)
	}
	return res
}

func TestNumscriptRun(t *testing.T) {
	dir := t.TempDir()
	script := writeFile(t, dir, "payment.num", paymentScript)

	check := func(t *testing.T, out string) {
		t.Helper()
		res := decodeRunResult(t, out)
		var got []string
		for _, p := range res.Postings {
			got = append(got, p.Source+" -> "+p.Destination+" "+p.Amount.String()+" "+p.Asset)
		}
		want := []string{
			"users:001 -> platform:fees 20 USD/2",
			"users:001 -> merchants:42 179 USD/2",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("postings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if res.TxMetadata["amount"] != "USD/2 199" || len(res.TxMetadata) != 1 {
			t.Errorf("tx metadata = %v", res.TxMetadata)
		}
		if res.AccountMetadata["merchants:42"]["paid"] != "yes" || len(res.AccountMetadata) != 1 {
			t.Errorf("account metadata = %v", res.AccountMetadata)
		}
		if !strings.Contains(out, "\n  \"postings\": [\n") {
			t.Errorf("output is not indented JSON:\n%s", out)
		}
	}

	t.Run("inline flags", func(t *testing.T) {
		out, _, err := runKontor(t, "numscript", "run", script,
			"--vars", `{"amount":"USD/2 199"}`,
			"--balances", `{"users:001":{"USD/2":1000}}`,
			"--metadata", `{"platform":{"merchant":"merchants:42"}}`)
		if err != nil {
			t.Fatalf("run: %v", err)
		}
		check(t, out)
	})

	t.Run("flags from files", func(t *testing.T) {
		vars := writeFile(t, dir, "vars.json", `{"amount":"USD/2 199"}`)
		balances := writeFile(t, dir, "balances.json", `{"users:001":{"USD/2":"1000"}}`)
		meta := writeFile(t, dir, "meta.json", `{"platform":{"merchant":"merchants:42"}}`)
		out, _, err := runKontor(t, "numscript", "run", script,
			"--vars", "@"+vars, "--balances", "@"+balances, "--metadata", "@"+meta)
		if err != nil {
			t.Fatalf("run: %v", err)
		}
		check(t, out)
	})

	t.Run("missing funds", func(t *testing.T) {
		path := writeFile(t, dir, "short.num", "send [USD/2 100] (\n  source = @a\n  destination = @b\n)\n")
		out, _, err := runKontor(t, "numscript", "run", path, "--balances", `{"a":{"USD/2":5}}`)
		if err == nil {
			t.Fatalf("run succeeded:\n%s", out)
		}
		want := path + ":2:12: INSUFFICIENT_FUND: Not enough funds. Needed [USD/2 100] (only [USD/2 5] available)"
		if err.Error() != want {
			t.Errorf("error = %q, want %q", err, want)
		}
		if code := domain.ErrorCode(err); code != domain.CodeInsufficientFund {
			t.Errorf("code = %s, want %s", code, domain.CodeInsufficientFund)
		}
		if out != "" {
			t.Errorf("printed a result on failure: %q", out)
		}
	})

	t.Run("missing variable", func(t *testing.T) {
		_, _, err := runKontor(t, "numscript", "run", script,
			"--metadata", `{"platform":{"merchant":"merchants:42"}}`)
		if err == nil || !regexp.MustCompile(`^`+regexp.QuoteMeta(script)+`:2:\d+: INTERPRETER_RUNTIME: .*\$amount`).MatchString(err.Error()) {
			t.Errorf("error = %v, want FILE:2:col: INTERPRETER_RUNTIME naming $amount", err)
		}
	})

	t.Run("parse error", func(t *testing.T) {
		path := writeFile(t, dir, "syntax.num", "send [USD/2 100] (\n  source = @a\n  destination =\n)\n")
		_, _, err := runKontor(t, "numscript", "run", path)
		want := path + ":4:1: INTERPRETER_PARSE: unexpected ')', expected an expression"
		if err == nil || err.Error() != want {
			t.Errorf("error = %v, want %q", err, want)
		}
	})

	t.Run("feature flag", func(t *testing.T) {
		path := writeFile(t, dir, "overdraft.num", "vars {\n  monetary $debt = overdraft(@alice, USD)\n}\nsend $debt (\n  source = @world\n  destination = @alice\n)\n")
		if _, _, err := runKontor(t, "numscript", "run", path, "--balances", `{"alice":{"USD":-42}}`); err == nil {
			t.Error("run without the feature flag succeeded")
		}
		out, _, err := runKontor(t, "numscript", "run", path, "--balances", `{"alice":{"USD":-42}}`,
			"--feature", "experimental-overdraft-function")
		if err != nil {
			t.Fatalf("run: %v", err)
		}
		res := decodeRunResult(t, out)
		if len(res.Postings) != 1 || res.Postings[0].Amount.String() != "42" || res.Postings[0].Destination != "alice" {
			t.Errorf("postings = %+v, want world -> alice 42", res.Postings)
		}
	})

	t.Run("nothing moved", func(t *testing.T) {
		path := writeFile(t, dir, "meta-only.num", "set_tx_meta(\"k\", \"v\")\n")
		out, _, err := runKontor(t, "numscript", "run", path)
		if err != nil {
			t.Fatalf("run: %v", err)
		}
		res := decodeRunResult(t, out)
		if res.Postings == nil || len(res.Postings) != 0 || res.TxMetadata["k"] != "v" {
			t.Errorf("result = %+v, want no postings and k=v", res)
		}
		if !strings.Contains(out, `"postings": []`) || !strings.Contains(out, `"accountMetadata": {}`) {
			t.Errorf("empty parts not rendered as [] and {}:\n%s", out)
		}
	})

	t.Run("bad flags", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"--balances", `{"a":{"USD":1.5}}`}, "--balances"},
			{[]string{"--balances", `{"a":100}`}, "--balances"},
			{[]string{"--vars", `{"amount":true}`}, "--vars"},
			{[]string{"--vars", `{"amount":`}, "--vars"},
			{[]string{"--metadata", `{"a":{"k":1}}`}, "--metadata"},
			{[]string{"--vars", "@" + filepath.Join(dir, "nope.json")}, "--vars"},
			{[]string{"--feature", "no-such-flag"}, "no-such-flag"},
		} {
			args := append([]string{"numscript", "run", script}, tc.args...)
			if _, _, err := runKontor(t, args...); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v: error = %v, want one mentioning %s", tc.args, err, tc.want)
			}
		}
	})
}

func TestNumscriptTest(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "send.num", "send [USD/2 100] (\n  source = @alice\n  destination = @bob\n)\n")
	writeFile(t, dir, "send.num.specs.json", `{
  "testCases": [
    {
      "it": "sends from alice",
      "balances": [{"account": "alice", "asset": "USD/2", "amount": 100}],
      "expect.postings": [{"source": "alice", "destination": "bob", "asset": "USD/2", "amount": 100}]
    },
    {
      "it": "fails when short",
      "balances": [{"account": "alice", "asset": "USD/2", "amount": 10}],
      "expect.error.missingFunds": true
    }
  ]
}`)
	writeFile(t, dir, "nested/wrong.num", "send [EUR 5] (\n  source = @world\n  destination = @carol\n)\n")
	writeFile(t, dir, "nested/wrong.num.specs.json", `{
  "testCases": [
    {
      "it": "expects the wrong destination",
      "expect.postings": [{"source": "world", "destination": "dave", "asset": "EUR", "amount": 5}]
    }
  ]
}`)

	out, _, err := runKontor(t, "numscript", "test", dir)
	if err == nil {
		t.Fatalf("test succeeded with a failing case:\n%s", out)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if last := lines[len(lines)-1]; last != "2 passed, 1 failed" {
		t.Errorf("last line = %q, want %q\n%s", last, "2 passed, 1 failed", out)
	}
	for _, want := range []string{
		"PASS " + filepath.Join(dir, "send.num") + ": sends from alice\n",
		"PASS " + filepath.Join(dir, "send.num") + ": fails when short\n",
		"FAIL " + filepath.Join(dir, "nested", "wrong.num") + ": expects the wrong destination\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	diff := regexp.MustCompile(`(?m)^\s+- .*dave.*\n\s+\+ .*carol.*$`)
	if !diff.MatchString(out) {
		t.Errorf("output lacks the diff (- dave, + carol):\n%s", out)
	}

	t.Run("script without specs", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, dir, "orphan.num", "send [USD 1] (\n  source = @world\n  destination = @a\n)\n")
		out, _, err := runKontor(t, "numscript", "test", dir)
		if err == nil || !strings.HasPrefix(out, "FAIL "+filepath.Join(dir, "orphan.num")+": ") ||
			!strings.HasSuffix(out, "\n0 passed, 1 failed\n") {
			t.Errorf("err = %v, output:\n%s", err, out)
		}
	})

	t.Run("empty directory", func(t *testing.T) {
		if _, _, err := runKontor(t, "numscript", "test", t.TempDir()); err == nil {
			t.Error("test of an empty directory succeeded")
		}
	})
}

// TestNumscriptTestCorpus runs the conformance corpus of domain/numscript
// through the command line: every case passes.
func TestNumscriptTestCorpus(t *testing.T) {
	out, _, err := runKontor(t, "numscript", "test", "../../domain/numscript/testdata/specs")
	if err != nil {
		t.Fatalf("test: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`\n(\d+) passed, 0 failed\n$`).FindStringSubmatch(out)
	if m == nil || m[1] == "0" {
		t.Fatalf("output does not end with \"N passed, 0 failed\" (N > 0):\n%s", out)
	}
	if strings.Contains(out, "FAIL ") || strings.Contains(out, "SKIP ") {
		t.Errorf("output has failed or skipped cases:\n%s", out)
	}
	t.Logf("%s passed", m[1])
}

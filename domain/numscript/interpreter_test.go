package numscript

import (
	"context"
	"errors"
	"math/big"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/kontorhq/kontor/domain"
	"github.com/kontorhq/kontor/domain/ledger"
)

// recordingStore wraps a StaticStore and records every query.
type recordingStore struct {
	StaticStore
	balanceQueries  []map[string][]string
	metadataQueries []map[string][]string
	fail            error
}

func (s *recordingStore) Balances(ctx context.Context, q map[string][]string) (map[string]map[string]*big.Int, error) {
	s.balanceQueries = append(s.balanceQueries, q)
	if s.fail != nil {
		return nil, s.fail
	}
	return s.StaticStore.Balances(ctx, q)
}

func (s *recordingStore) Metadata(ctx context.Context, q map[string][]string) (map[string]ledger.Metadata, error) {
	s.metadataQueries = append(s.metadataQueries, q)
	if s.fail != nil {
		return nil, s.fail
	}
	return s.StaticStore.Metadata(ctx, q)
}

func TestMissingFundsError(t *testing.T) {
	store := StaticStore{Assets: balancesOf("a USD/2 30", "b USD/2 20")}
	_, err := run(t, "send [USD/2 100] (\n  source = {\n    @a\n    @b\n  }\n  destination = @c\n)", store, nil)
	de := wantKind(t, err, KindMissingFunds, domain.CodeInsufficientFund)
	if de.Message != "Not enough funds. Needed [USD/2 100] (only [USD/2 50] available)" {
		t.Errorf("message %q", de.Message)
	}
	d := de.Details.(*MissingFundsDetails)
	if d.Account != "b" || d.Asset != "USD/2" || d.Needed.Int64() != 100 || d.Available.Int64() != 50 || d.Range.Start.String() != "2:12" {
		t.Errorf("details %+v", d)
	}
}

func TestRuntimeErrors(t *testing.T) {
	cases := []struct {
		name, src string
		vars      map[string]string
		flags     []string
		kind      ErrorKind
		pos       string
	}{
		{"unbound variable", "send [USD 1] (source = @world destination = $x)", nil, nil, KindUnboundVariable, "1:45"},
		{"missing variable", "vars {\n  account $x\n}", nil, nil, KindMissingVariable, "2:11"},
		{"invalid type", "vars { money $x }", map[string]string{"x": "1"}, nil, KindInvalidType, "1:8"},
		{"bad portion", "vars { portion $p }", map[string]string{"p": "2/1"}, nil, KindBadPortion, "1:16"},
		{"invalid monetary", "vars { monetary $m }", map[string]string{"m": "USD1"}, nil, KindInvalidMonetaryLiteral, "1:17"},
		{"invalid number", "vars { number $n }", map[string]string{"n": "x"}, nil, KindInvalidNumberLiteral, "1:15"},
		{"invalid account", "vars { account $a }", map[string]string{"a": "a b"}, nil, KindInvalidAccountName, "1:16"},
		{"invalid asset", "vars { asset $a }", map[string]string{"a": "usd"}, nil, KindInvalidAsset, "1:14"},
		{"invalid asset literal", "send [ABCDEFGHIJKLMNOPQRSTU 1] (source = @world destination = @b)", nil, nil, KindInvalidAsset, "1:7"},
		{"type error", "send [USD 1] (source = \"a\" destination = @b)", nil, nil, KindTypeError, "1:24"},
		{"negative amount", "send [USD -1] (source = @world destination = @b)", nil, nil, KindNegativeAmount, "1:6"},
		{"unknown function", "vars { monetary $m = nope() }", nil, nil, KindUnboundFunction, "1:22"},
		{"statement as value", "vars { monetary $m = set_tx_meta(\"a\", 1) }", nil, nil, KindUnboundFunction, "1:22"},
		{"value as statement", "balance(@a, USD)", nil, nil, KindUnboundFunction, "1:1"},
		{"bad arity", "set_tx_meta(\"a\")", nil, nil, KindBadArity, "1:1"},
		{"negative balance", "vars { monetary $m = balance(@a, USD) }", nil, nil, KindNegativeBalance, "1:22"},
		{"metadata not found", "vars { string $s = meta(@a, \"k\") }", nil, nil, KindMetadataNotFound, "1:20"},
		{"nested meta", "vars { monetary $m = balance(meta(@a, \"k\"), USD) }", nil, nil, KindInvalidNestedMeta, "1:30"},
		{"divide by zero", "set_tx_meta(\"p\", 1/0)", nil, nil, KindDivideByZero, "1:18"},
		{"invalid operator", "set_tx_meta(\"p\", 1/2 + 1/2)", nil, nil, KindInvalidOperator, "1:18"},
		{"negate a string", "set_tx_meta(\"p\", -\"a\")", nil, nil, KindInvalidOperator, "1:18"},
		{"mismatched cap", "send [USD 1] (source = max [EUR 1] from @world destination = @b)", nil, nil, KindMismatchedCurrency, "1:28"},
		{"mismatched infix", "send [USD 1] + [EUR 1] (source = @world destination = @b)", nil, nil, KindMismatchedCurrency, "1:6"},
		{"allotment sum", "send [USD 1] (source = @world destination = { 1/2 to @a 1/3 to @b })", nil, nil, KindInvalidAllotmentSum, "1:45"},
		{"allotment over one", "send [USD 1] (source = @world destination = { 2/3 to @a 2/3 to @b remaining kept })", nil, nil, KindInvalidAllotmentSum, "1:45"},
		{"two remaining", "send [USD 1] (source = @world destination = { 1/2 to @a remaining to @b remaining kept })", nil, nil, KindInvalidAllotmentSum, "1:45"},
		{"portion above one", "send [USD 1] (source = @world destination = { 3/2 to @a remaining kept })", nil, nil, KindBadPortion, "1:47"},
		{"send all world", "send [USD *] (source = @world destination = @b)", nil, nil, KindInvalidUnboundedInSendAll, "1:24"},
		{"send all allotment", "send [USD *] (source = { 1/2 from @a remaining from @b } destination = @c)", nil, nil, KindInvalidAllotmentInSendAll, "1:24"},
		{"oneof flag", "send [USD 1] (source = oneof { @world } destination = @b)", nil, nil, KindExperimentalFeature, "1:24"},
		{"oneof destination flag", "send [USD 1] (source = @world destination = oneof { remaining kept })", nil, nil, KindExperimentalFeature, "1:45"},
		{"invalid feature", "#![feature(\"nope\")]", nil, nil, KindInvalidFeature, "1:12"},
		{"cannot cast", "vars { portion $p }\nsend [USD 1] (source = @world destination = @a:$p)", map[string]string{"p": "1/2"}, []string{FlagAccountInterpolation}, KindCannotCastToString, "2:48"},
		{"invalid color", "send [USD 1] (source = @world \\ \"red\" destination = @b)", nil, []string{FlagAssetColors}, KindInvalidColor, "1:33"},
		{"scaling world", "send [USD 1] (source = @world with scaling through @s destination = @b)", nil, []string{FlagAssetScaling}, KindInvalidUnboundedInScaling, "1:24"},
		{"interpolation", "vars { string $s }\nsend [USD 1] (source = @world destination = @a:$s)", map[string]string{"s": "x"}, nil, KindExperimentalFeature, "2:48"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := run(t, c.src, StaticStore{Assets: balancesOf("a USD -5")}, c.vars, c.flags...)
			de := wantKind(t, err, c.kind, domain.CodeInterpreterRuntime)
			if !strings.HasPrefix(de.Message, c.pos+": ") {
				t.Errorf("message %q, want position %s", de.Message, c.pos)
			}
		})
	}
}

func TestRunRejectsNoPostings(t *testing.T) {
	p := mustParse(t, `set_tx_meta("a", "b")`)
	_, err := p.Run(context.Background(), StaticStore{}, nil, nil)
	if domain.ErrorCode(err) != domain.CodeNoPostings {
		t.Fatalf("got %v", err)
	}
	res, err := p.Execute(context.Background(), StaticStore{}, nil, nil)
	if err != nil || len(res.Postings) != 0 || res.Metadata["a"] != "b" {
		t.Fatalf("execute: %+v %v", res, err)
	}
}

func TestStoreErrorsAreWrapped(t *testing.T) {
	boom := errors.New("connection refused")
	store := &recordingStore{fail: boom}
	_, err := run(t, "send [USD 1] (source = @a destination = @b)", store, nil)
	if !errors.Is(err, boom) || domain.ErrorCode(err) != domain.CodeInternal {
		t.Fatalf("got %v (%s)", err, domain.ErrorCode(err))
	}
	_, err = run(t, `vars { string $s = meta(@a, "k") }`, store, nil)
	if !errors.Is(err, boom) {
		t.Fatalf("metadata: got %v", err)
	}
}

func TestBatchedQueries(t *testing.T) {
	store := &recordingStore{StaticStore: StaticStore{
		Assets: balancesOf("users:1 USD/2 100", "wallets:9 USD/2 100", "promo USD/2 10", "users:2 USD/2 5"),
		Meta:   map[string]ledger.Metadata{"users:1": {"wallet": "wallets:9", "cap": "USD/2 7"}},
	}}
	src := `vars {
  account $user
  account $wallet = meta($user, "wallet")
  monetary $cap = meta(@users:1, "cap")
  monetary $bal = balance(@users:2, USD/2)
}
send [USD/2 20] (
  source = {
    max $cap from @promo
    $wallet
    @unbounded allowing unbounded overdraft
    @world
  }
  destination = @dest
)
send [USD/2 *] (source = $user destination = @dest)
save [USD/2 1] from @saver
send $bal (source = @users:2 destination = @dest)
`
	res, err := run(t, src, store, map[string]string{"user": "users:1"})
	if err != nil {
		t.Fatal(err)
	}
	if got := postingsString(res.Postings); got != "promo>dest:USD/2:7 wallets:9>dest:USD/2:13 users:1>dest:USD/2:100 users:2>dest:USD/2:5" {
		t.Errorf("postings %s", got)
	}
	if len(store.metadataQueries) != 1 || len(store.balanceQueries) != 1 {
		t.Fatalf("queries: metadata %v, balances %v", store.metadataQueries, store.balanceQueries)
	}
	wantMeta := map[string][]string{"users:1": {"cap", "wallet"}}
	if !reflect.DeepEqual(store.metadataQueries[0], wantMeta) {
		t.Errorf("metadata query %v", store.metadataQueries[0])
	}
	accounts := make([]string, 0)
	for account := range store.balanceQueries[0] {
		accounts = append(accounts, account)
	}
	sort.Strings(accounts)
	if strings.Join(accounts, " ") != "promo saver users:1 users:2 wallets:9" {
		t.Errorf("balance query %v", store.balanceQueries[0])
	}
}

func TestMidScriptBalanceQueriesOnlyWhatIsMissing(t *testing.T) {
	store := &recordingStore{StaticStore: StaticStore{Assets: balancesOf("a USD 10", "b USD 3")}}
	src := `send [USD 5] (source = @a destination = @b)
send balance(@b, USD) (source = @b destination = @c)
send balance(@x, USD) + [USD 1] (source = @world destination = @c)`
	res, err := run(t, src, store, nil, FlagMidScriptFunctionCall)
	if err != nil {
		t.Fatal(err)
	}
	if got := postingsString(res.Postings); got != "a>b:USD:5 b>c:USD:8 world>c:USD:1" {
		t.Errorf("postings %s", got)
	}
	if len(store.balanceQueries) != 1 {
		t.Errorf("queries %v", store.balanceQueries)
	}
}

func TestBalanceFetchedLateKeepsEarlierMoves(t *testing.T) {
	// @x receives before its balance is ever fetched; the later read must
	// add the stored balance to what the script moved.
	store := &recordingStore{StaticStore: StaticStore{Assets: balancesOf("x USD 100", "src USD 5")}}
	src := `vars {
  account $y = meta(@cfg, "target")
}
send [USD 5] (source = @src destination = @x)
send [USD *] (source = $y destination = @z)`
	store.Meta = map[string]ledger.Metadata{"cfg": {"target": "x"}}
	res, err := run(t, src, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := postingsString(res.Postings); got != "src>x:USD:5 x>z:USD:105" {
		t.Errorf("postings %s", got)
	}
}

func TestPostingsMergeWithinStatementOnly(t *testing.T) {
	store := StaticStore{Assets: balancesOf("a USD 10", "b USD 10")}
	res, err := run(t, `send [USD 20] (
  source = { max [USD 5] from @a @a @b }
  destination = { max [USD 3] to @x max [USD 3] to @x remaining to @y }
)
send [USD 1] (source = @world destination = @y)
send [USD 1] (source = @world destination = @y)`, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := postingsString(res.Postings); got != "a>x:USD:6 a>y:USD:4 b>y:USD:10 world>y:USD:1 world>y:USD:1" {
		t.Errorf("postings %s", got)
	}
}

func TestOneOfRollsBackScaling(t *testing.T) {
	store := StaticStore{Assets: balancesOf("a EUR 1", "a EUR/2 0")}
	res, err := run(t, `send [EUR/2 500] (
  source = oneof {
    @a with scaling through @swap
    @world
  }
  destination = @b
)`, store, nil, FlagOneOf, FlagAssetScaling)
	if err != nil {
		t.Fatal(err)
	}
	if got := postingsString(res.Postings); got != "world>b:EUR/2:500" {
		t.Errorf("postings %s", got)
	}
}

func TestKeptGivesBackToTheRightSenders(t *testing.T) {
	store := StaticStore{Assets: balancesOf("a USD 6", "b USD 6")}
	res, err := run(t, `send [USD 12] (
  source = { @a @b }
  destination = { max [USD 4] to @x max [USD 4] kept remaining to @y }
)
send [USD *] (source = { @a @b } destination = @z)`, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	// @a gives 4 to x, keeps 2; @b keeps 2, gives 4 to y; then both are emptied.
	if got := postingsString(res.Postings); got != "a>x:USD:4 b>y:USD:4 a>z:USD:2 b>z:USD:2" {
		t.Errorf("postings %s", got)
	}
}

func TestMetadataValueRendering(t *testing.T) {
	res, err := run(t, `vars { portion $p account $a }
set_tx_meta("portion", $p)
set_tx_meta("division", 6/4)
set_tx_meta("percent", 50%)
set_tx_meta("negative", -[USD 5])
set_tx_meta("account", $a)
set_tx_meta("number", 1_000)`, StaticStore{}, map[string]string{"p": "33%", "a": "users:1"})
	if err != nil {
		t.Fatal(err)
	}
	want := ledger.Metadata{"portion": "33/100", "division": "3/2", "percent": "1/2", "negative": "USD -5", "account": "users:1", "number": "1000"}
	if !reflect.DeepEqual(res.Metadata, want) {
		t.Errorf("metadata %v", res.Metadata)
	}
}

func TestScalingQueriesTheFamily(t *testing.T) {
	store := &recordingStore{StaticStore: StaticStore{Assets: balancesOf("a EUR 2", "a EUR/2 10", "a EURO 99")}}
	res, err := run(t, `send [EUR/2 150] (source = @a with scaling through @swap destination = @b)`, store, nil, FlagAssetScaling)
	if err != nil {
		t.Fatal(err)
	}
	if got := postingsString(res.Postings); got != "a>swap:EUR:2 swap>a:EUR/2:200 a>b:EUR/2:150" {
		t.Errorf("postings %s", got)
	}
	if len(store.balanceQueries) != 1 || !reflect.DeepEqual(store.balanceQueries[0], map[string][]string{"a": {"EUR/*"}}) {
		t.Errorf("queries %v", store.balanceQueries)
	}
}

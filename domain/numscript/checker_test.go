package numscript

import (
	"strings"
	"testing"
)

// diagnostics returns "line:col kind" for each diagnostic of src.
func diagnostics(t *testing.T, src string, flags ...string) []string {
	t.Helper()
	enabled := map[string]bool{}
	for _, f := range flags {
		enabled[f] = true
	}
	var out []string
	for _, d := range mustParse(t, src).Check(enabled) {
		out = append(out, d.Range.Start.String()+" "+string(d.Kind))
	}
	return out
}

func TestCheckCleanScript(t *testing.T) {
	src := `vars {
  monetary $m
  account $a = meta(@cfg, "dest")
  portion $p
}
send $m (
  source = { @x allowing overdraft up to [USD 1] max [USD 2] from @y @world }
  destination = { $p to $a 1/2 to @b remaining kept }
)
send [USD *] (source = { @x max [USD 5] from @world } destination = { max [USD 1] to @c remaining to @d })
save [USD 1] from @x
set_tx_meta("m", $m)
set_account_meta(@x, "k", 1/3)`
	if got := diagnostics(t, src); len(got) != 0 {
		t.Fatalf("unexpected diagnostics %v", got)
	}
}

func TestCheckDiagnostics(t *testing.T) {
	cases := []struct {
		name, src string
		flags     []string
		want      string
	}{
		{"invalid type", "vars { money $m }\nset_tx_meta(\"a\", $m)", nil, "1:8 InvalidType"},
		{"duplicate", "vars { number $n number $n }\nset_tx_meta(\"a\", $n)", nil, "1:25 DuplicateVariable"},
		{"unused", "vars { number $n }", nil, "1:15 UnusedVariable"},
		{"unbound", "set_tx_meta(\"a\", $x)", nil, "1:18 UnboundVariable"},
		{"send type", "vars { account $a }\nsend $a (source = @world destination = @b)", nil, "2:6 TypeError"},
		{"source type", "send [USD 1] (source = [USD 1] destination = @b)", nil, "1:24 TypeError"},
		{"destination type", "send [USD 1] (source = @world destination = \"b\")", nil, "1:45 TypeError"},
		{"save type", "save [USD 1] from USD", nil, "1:19 TypeError"},
		{"portion type", "send [USD 1] (source = @world destination = { @a to @b remaining kept })", nil, "1:47 TypeError"},
		{"cap type", "send [USD 1] (source = max 5 from @world destination = @b)", nil, "1:28 TypeError"},
		{"cap currency", "send [USD 1] (source = max [EUR 5] from @world destination = @b)", nil, "1:28 MismatchedCurrency"},
		{"bound currency", "send [USD 1] (source = @a allowing overdraft up to [EUR 5] destination = @b)", nil, "1:52 MismatchedCurrency"},
		{"origin type", "vars { account $a = balance(@a, USD) }\nsend [USD 1] (source = @world destination = $a)", nil, "1:21 TypeError"},
		{"arity", "vars { monetary $m = balance(@a) }\nsend $m (source = @world destination = @b)", nil, "1:22 BadArity"},
		{"argument type", "vars { monetary $m = balance(@a, \"USD\") }\nsend $m (source = @world destination = @b)", nil, "1:34 TypeError"},
		{"unknown function", "vars { monetary $m = credit(@a) }\nsend $m (source = @world destination = @b)", nil, "1:22 UnboundFunction"},
		{"unknown statement", "print(\"x\")", nil, "1:1 UnboundFunction"},
		{"value as statement", "balance(@a, USD)", nil, "1:1 UnboundFunction"},
		{"statement as value", "vars { string $s = set_tx_meta(\"a\", \"b\") }\nset_tx_meta(\"s\", $s)", nil, "1:20 UnboundFunction"},
		{"nested meta", "vars { monetary $m = balance(meta(@a, \"k\"), USD) }\nsend $m (source = @world destination = @b)", nil, "1:30 InvalidNestedMeta"},
		{"mid-script call", "send balance(@a, USD) (source = @a destination = @b)", nil, "1:6 ExperimentalFeature"},
		{"mid-script origin", "vars { monetary $m monetary $n = $m + $m }\nsend $n (source = @world destination = @b)", nil, "1:34 ExperimentalFeature"},
		{"oneof", "send [USD 1] (source = oneof { @world } destination = @b)", nil, "1:24 ExperimentalFeature"},
		{"oneof destination", "send [USD 1] (source = @world destination = oneof { remaining kept })", nil, "1:45 ExperimentalFeature"},
		{"overdraft fn", "vars { monetary $m = overdraft(@a, USD) }\nsend $m (source = @world destination = @b)", nil, "1:22 ExperimentalFeature"},
		{"get_asset", "vars { monetary $m asset $a = get_asset($m) }\nsend [$a 1] (source = @world destination = @b)", nil, "1:31 ExperimentalFeature"},
		{"get_amount", "vars { monetary $m number $n = get_amount($m) }\nsend [USD $n] (source = @world destination = @b)", nil, "1:32 ExperimentalFeature"},
		{"interpolation", "vars { string $id }\nsend [USD 1] (source = @world destination = @u:$id)", nil, "2:48 ExperimentalFeature"},
		{"interpolation cast", "vars { monetary $m }\nsend [USD 1] (source = @world destination = @u:$m)", []string{FlagAccountInterpolation}, "2:48 CannotCastToString"},
		{"colors", "send [USD 1] (source = @world \\ \"RED\" destination = @b)", nil, "1:33 ExperimentalFeature"},
		{"invalid color", "send [USD 1] (source = @world \\ \"red\" destination = @b)", []string{FlagAssetColors}, "1:33 InvalidColor"},
		{"scaling", "send [USD 1] (source = @a with scaling through @s destination = @b)", nil, "1:24 ExperimentalFeature"},
		{"scaling world", "send [USD 1] (source = @world with scaling through @s destination = @b)", []string{FlagAssetScaling}, "1:24 InvalidUnboundedAddressInScalingAddress"},
		{"unknown feature", "#![feature(\"nope\")]", nil, "1:12 InvalidFeature"},
		{"allotment over", "send [USD 1] (source = @world destination = { 2/3 to @a 1/2 to @b })", nil, "1:45 InvalidAllotmentSum"},
		{"allotment under", "send [USD 1] (source = @world destination = { 1/3 to @a 1/2 to @b })", nil, "1:45 InvalidAllotmentSum"},
		{"allotment over with remaining", "send [USD 1] (source = { 2/3 from @a 1/2 from @b remaining from @c } destination = @d)", nil, "1:24 InvalidAllotmentSum"},
		{"redundant remaining", "send [USD 1] (source = @world destination = { 50% to @a 50% to @b remaining kept })", nil, "1:67 RedundantRemaining"},
		{"remaining not last", "send [USD 1] (source = @world destination = { remaining to @a 1/2 to @b })", nil, "1:47 RemainingIsNotLast"},
		{"two remaining", "send [USD 1] (source = @world destination = { 1/2 to @a remaining to @b remaining kept })", nil, "1:73 InvalidAllotmentSum"},
		{"percent over 100", "send [USD 1] (source = @world destination = { 150% to @a remaining kept })", nil, "1:47 BadPortion"},
		{"send all world", "send [USD *] (source = @world destination = @b)", nil, "1:24 InvalidUnboundedInSendAll"},
		{"send all unbounded", "send [USD *] (source = { @a @b allowing unbounded overdraft } destination = @c)", nil, "1:29 InvalidUnboundedInSendAll"},
		{"send all allotment", "send [USD *] (source = { 1/2 from @a remaining from @b } destination = @c)", nil, "1:24 InvalidAllotmentInSendAll"},
		{"world overdraft", "send [USD 1] (source = @world allowing unbounded overdraft destination = @b)", nil, "1:24 InvalidWorldOverdraft"},
		{"divide by zero", "set_tx_meta(\"p\", 1/0)", nil, "1:18 DivideByZero"},
		{"division types", "set_tx_meta(\"p\", [USD 1]/2)", nil, "1:18 TypeError"},
		{"infix types", "set_tx_meta(\"p\", [USD 1] + 2)", nil, "1:28 TypeError"},
		{"infix currency", "set_tx_meta(\"p\", [USD 1] + [EUR 2])", nil, "1:18 MismatchedCurrency"},
		{"infix operator", "set_tx_meta(\"p\", \"a\" - \"b\")", nil, "1:18 InvalidOperator"},
		{"negation", "set_tx_meta(\"p\", -@a)", nil, "1:18 InvalidOperator"},
		{"negative send", "send [USD -1] (source = @world destination = @b)", nil, "1:11 NegativeAmount"},
		{"asset literal", "send [ABCDEFGHIJKLMNOPQRSTU 1] (source = @world destination = @b)", nil, "1:7 InvalidAsset"},
		{"monetary parts", "send [USD \"1\"] (source = @world destination = @b)", nil, "1:11 TypeError"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := diagnostics(t, c.src, c.flags...)
			for _, d := range got {
				if d == c.want {
					return
				}
			}
			t.Errorf("want %q among %v", c.want, got)
		})
	}
}

func TestCheckFlagsFromHeader(t *testing.T) {
	src := "#![feature(\"experimental-oneof\")]\nsend [USD 1] (source = oneof { @world } destination = @b)"
	if got := diagnostics(t, src); len(got) != 0 {
		t.Fatalf("header flag ignored: %v", got)
	}
	if got := diagnostics(t, "send [USD 1] (source = oneof { @world } destination = @b)", FlagOneOf); len(got) != 0 {
		t.Fatalf("flag ignored: %v", got)
	}
}

func TestDiagnosticRendering(t *testing.T) {
	diags := mustParse(t, "vars { number $n }\nset_tx_meta(\"a\", $x)").Check(nil)
	if !HasErrors(diags) {
		t.Fatal("want errors")
	}
	var lines []string
	for _, d := range diags {
		lines = append(lines, d.String())
	}
	got := strings.Join(lines, "\n")
	want := "2:18: error: the variable $x is not declared\n1:15: warning: the variable $n is never used"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if HasErrors(mustParse(t, "vars { number $n }").Check(nil)) {
		t.Fatal("a warning is not an error")
	}
}

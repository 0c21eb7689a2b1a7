package numscript

import (
	"math/big"
	"strings"
	"testing"

	"github.com/kontorhq/kontor/domain"
)

func TestLexerPositions(t *testing.T) {
	l, err := lex("send [USD/2 1_000]\n  (source = @a:$b:c\n// comment\n\"é\" 12.5% $x_1)")
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		kind tokenKind
		text string
		pos  string
		end  string
	}{
		{tokIdent, "send", "1:1", "1:5"},
		{tokLBracket, "[", "1:6", "1:7"},
		{tokAsset, "USD/2", "1:7", "1:12"},
		{tokNumber, "1_000", "1:13", "1:18"},
		{tokRBracket, "]", "1:18", "1:19"},
		{tokLParen, "(", "2:3", "2:4"},
		{tokIdent, "source", "2:4", "2:10"},
		{tokEq, "=", "2:11", "2:12"},
		{tokAccount, "@a:$b:c", "2:13", "2:20"},
		{tokString, "é", "4:1", "4:4"},
		{tokPercent, "12.5%", "4:5", "4:10"},
		{tokVariable, "$x_1", "4:11", "4:15"},
		{tokRParen, ")", "4:15", "4:16"},
		{tokEOF, "", "4:16", "4:16"},
	}
	if len(l.tokens) != len(want) {
		t.Fatalf("got %d tokens, want %d: %+v", len(l.tokens), len(want), l.tokens)
	}
	for i, w := range want {
		got := l.tokens[i]
		if got.kind != w.kind || got.text != w.text || got.rng.Start.String() != w.pos || got.rng.End.String() != w.end {
			t.Errorf("token %d: got %v %q %s-%s, want %v %q %s-%s", i, got.kind, got.text, got.rng.Start, got.rng.End, w.kind, w.text, w.pos, w.end)
		}
	}
	parts := l.tokens[8].parts
	if len(parts) != 3 || parts[0].Text != "a" || parts[1].Var == nil || parts[1].Var.Name != "b" || parts[2].Text != "c" {
		t.Errorf("account parts: %+v", parts)
	}
	if parts[1].Range.Start.String() != "2:16" {
		t.Errorf("variable part at %s", parts[1].Range.Start)
	}
}

func TestLexerStringEscapesAndVersion(t *testing.T) {
	l, err := lex("// @version interpreter 0.0.15\n\"say \\\"hi\\\" \\n\"")
	if err != nil {
		t.Fatal(err)
	}
	if l.version != "interpreter 0.0.15" {
		t.Errorf("version %q", l.version)
	}
	if got := l.tokens[0].text; got != `say "hi" \n` {
		t.Errorf("string %q", got)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		src, pos, msg string
	}{
		{"send [USD 1] (source = @a destination = @b", "1:43", "unexpected end of script, expected ')'"},
		{"send [USD 1] (destination = @b source = @a)", "1:15", "expected 'source'"},
		{"send [USD 1] (\n  source = @a\n  destination = \n)", "4:1", "expected an expression"},
		{"vars { account }", "1:16", "expected variable"},
		{"vars { $x }", "1:8", "expected a variable type"},
		{"@a", "1:1", "expected a statement"},
		{"send [USD *] (source = @a destination = @b", "1:43", "expected ')'"},
		{"set_tx_meta([USD *], 1)", "1:18", "only allowed as the amount of a send or a save"},
		{`"open`, "1:1", "unterminated string"},
		{"/* never closed", "1:1", "unterminated comment"},
		{"send [USD 1] (source = @ destination = @b)", "1:24", "invalid account name"},
		{"send [USD 1] (source = @a: destination = @b)", "1:24", "invalid account name"},
		{"$1", "1:1", "invalid variable name"},
		{"send [USD 1.5] (source = @a destination = @b)", "1:11", "decimals are only allowed in percentages"},
		{"send [USD 1] (source = @a destination = @b) ~", "1:45", "unexpected character '~'"},
		{"send [USD 1] (source = @a allowing debt destination = @b)", "1:36", "expected 'unbounded' or 'overdraft'"},
		{"send [USD 1] (source = @a allowing overdraft to [USD 1] destination = @b)", "1:46", "expected 'up'"},
		{"send [USD 1] (source = @a with scaling @s destination = @b)", "1:40", "expected 'through'"},
		{"send [USD 1] (source = { @a 1/2 from @b } destination = @c)", "1:38", "cannot mix sources and allotment clauses"},
		{"send [USD 1] (source = { 1/2 from @b @a } destination = @c)", "1:38", "cannot mix sources and allotment clauses"},
		{"send [USD 1] (source = oneof { } destination = @c)", "1:24", "oneof needs at least one source"},
		{"send [USD 1] (source = max [USD 1] @a destination = @c)", "1:36", "expected 'from'"},
		{"send [USD 1] (source = @a destination = { })", "1:41", "empty destination block"},
		{"send [USD 1] (source = @a destination = { max [USD 1] to @b })", "1:61", "expected a 'remaining' clause"},
		{"send [USD 1] (source = @a destination = { max [USD 1] to @b remaining kept 1/2 to @c })", "1:76", "'}' after the 'remaining' clause"},
		{"send [USD 1] (source = @a destination = { 1/2 to @b max [USD 1] kept })", "1:53", "a 'max' clause must come before"},
		{"send [USD 1] (source = @a destination = { max [USD 1] kept 1/2 to @b })", "1:60", "expected 'max' or 'remaining'"},
		{"send [USD 1] (source = @a destination = { 1/2 @b })", "1:47", "expected 'to' or 'kept'"},
		{"send [USD 1] (source = @a destination = oneof { 1/2 to @b })", "1:49", "expected 'max' or 'remaining'"},
		{"send [USD 1] (source = @a destination = oneof { remaining kept max [USD 1] to @b })", "1:64", "expected '}'"},
		{"#![feature(experimental)]", "1:12", "expected string"},
		{"#![feature(\"a\" \"b\")]", "1:16", "expected ','"},
		{"#![flags(\"a\")]", "1:4", "expected 'feature'"},
		{"save [USD 1] to @a", "1:14", "expected 'from'"},
		{"set_tx_meta(\"a\" 1)", "1:17", "expected ','"},
		{"send [USD 1] (source = { @a destination = @b)", "1:29", "unexpected 'destination', expected an expression"},
	}
	for _, c := range cases {
		_, err := Parse(c.src)
		if err == nil {
			t.Errorf("%q: no error", c.src)
			continue
		}
		de := wantKind(t, err, KindParse, domain.CodeInterpreterParse)
		if !strings.HasPrefix(de.Message, c.pos+": ") || !strings.Contains(de.Message, c.msg) {
			t.Errorf("%q: got %q, want %s: ...%s...", c.src, de.Message, c.pos, c.msg)
		}
		if got := de.Details.(*ErrorDetails).Range.Start.String(); got != c.pos {
			t.Errorf("%q: details at %s, want %s", c.src, got, c.pos)
		}
	}
}

func TestParseNestingLimit(t *testing.T) {
	src := "set_tx_meta(\"k\", " + strings.Repeat("(", MaxNesting+5) + "1" + strings.Repeat(")", MaxNesting+5) + ")"
	_, err := Parse(src)
	if err == nil || !strings.Contains(err.Error(), "nested more than") {
		t.Fatalf("want a nesting error, got %v", err)
	}
	if _, err := Parse(strings.Repeat(" ", MaxScriptBytes+1)); err == nil {
		t.Fatal("want a size error")
	}
}

func TestParseProgramShape(t *testing.T) {
	p := mustParse(t, `#![feature("experimental-oneof", "experimental-asset-colors")]
// @version machine
vars {
  monetary $m
  account $a = meta(@users:001, "linked")
}
send $m (
  source = {
    @users:001 allowing overdraft up to [USD/2 50]
    max [USD/2 10] from @promo
    @b \ "RED" allowing unbounded overdraft
    @c with scaling through @swap
    oneof { @d @world }
  }
  destination = {
    10% to @fees
    1/3 to { max [USD/2 1] kept remaining to $a }
    remaining kept
  }
)
send [USD/2 *] ( source = { 1/2 from @x remaining from @y } destination = oneof { max [USD/2 5] to @z remaining kept } )
save [USD/2 1] from @x
set_account_meta(@x, "k", -[USD/2 1] + [USD/2 2] - 3 / 4)
`)
	if len(p.Features) != 2 || p.Features[1].Name != FlagAssetColors || p.Version != "machine" {
		t.Fatalf("header: %+v %q", p.Features, p.Version)
	}
	if len(p.Vars) != 2 || p.Vars[1].Type != "account" || p.Vars[1].Name != "a" || p.Vars[1].Origin.(*Call).Name != "meta" {
		t.Fatalf("vars: %+v", p.Vars)
	}
	if got := p.Vars[1].Range.String(); got != "5:3" {
		t.Errorf("var range %s", got)
	}
	send := p.Statements[0].(*Send)
	src := send.Source.(*SourceInOrder)
	if len(src.Sources) != 5 {
		t.Fatalf("sources: %d", len(src.Sources))
	}
	if a := src.Sources[0].(*SourceAccount); a.OverdraftBound == nil || a.Unbounded {
		t.Errorf("bounded: %+v", a)
	}
	if c := src.Sources[1].(*SourceCapped); c.From.(*SourceAccount).Account.(*AccountLit).Parts[0].Text != "promo" {
		t.Errorf("capped: %+v", c)
	}
	if b := src.Sources[2].(*SourceAccount); !b.Unbounded || b.Color.(*StringLit).Value != "RED" {
		t.Errorf("colored: %+v", b)
	}
	if _, ok := src.Sources[3].(*SourceScaling); !ok {
		t.Errorf("scaling: %T", src.Sources[3])
	}
	if o := src.Sources[4].(*SourceOneOf); len(o.Sources) != 2 {
		t.Errorf("oneof: %+v", o)
	}
	dst := send.Destination.(*DestAllotment)
	if len(dst.Items) != 3 || dst.Items[2].Portion != nil || !dst.Items[2].To.Kept {
		t.Fatalf("destination: %+v", dst)
	}
	if pct := dst.Items[0].Portion.(*PercentLit); pct.Value.Cmp(big.NewRat(1, 10)) != 0 {
		t.Errorf("percent %s", pct.Value)
	}
	inner := dst.Items[1].To.Destination.(*DestInOrder)
	if len(inner.Clauses) != 1 || !inner.Clauses[0].To.Kept || inner.Remaining.Kept {
		t.Errorf("in-order: %+v", inner)
	}
	all := p.Statements[1].(*Send)
	if all.Amount != nil || all.AllAsset.(*AssetLit).Asset != "USD/2" {
		t.Errorf("send all: %+v", all)
	}
	if _, ok := all.Source.(*SourceAllotment); !ok {
		t.Errorf("allotment source: %T", all.Source)
	}
	if o := all.Destination.(*DestOneOf); len(o.Clauses) != 1 || !o.Remaining.Kept {
		t.Errorf("oneof destination: %+v", o)
	}
	if s := p.Statements[2].(*Save); s.Amount == nil || s.Range.String() != "22:1" {
		t.Errorf("save: %+v", s)
	}
	// -[USD/2 1] + [USD/2 2] - 3 / 4 parses as ((-[1] + [2]) - (3 / 4)).
	e := p.Statements[3].(*Call).Args[2].(*Infix)
	if e.Op != OpSub || e.Right.(*Infix).Op != OpDiv || e.Left.(*Infix).Op != OpAdd {
		t.Errorf("precedence: %+v", e)
	}
	if _, ok := e.Left.(*Infix).Left.(*Negation); !ok {
		t.Errorf("negation: %T", e.Left.(*Infix).Left)
	}
	if got := e.Range; got.Start.String() != "23:27" || got.End.String() != "23:57" {
		t.Errorf("infix range %s-%s", got.Start, got.End)
	}
}

func TestParseMonetaryAndSendAllForms(t *testing.T) {
	p := mustParse(t, `vars { asset $a number $n }
send [$a $n + 1] (source = @world destination = @b)
send [$a *] (source = @x destination = @b)
send [$a 2] + [$a 3] (source = @world destination = @b)
save [$a *] from @x`)
	m := p.Statements[0].(*Send).Amount.(*MonetaryLit)
	if _, ok := m.Amount.(*Infix); !ok {
		t.Errorf("amount: %T", m.Amount)
	}
	if p.Statements[1].(*Send).AllAsset.(*Variable).Name != "a" {
		t.Error("send-all asset")
	}
	if _, ok := p.Statements[2].(*Send).Amount.(*Infix); !ok {
		t.Error("monetary infix")
	}
	if p.Statements[3].(*Save).AllAsset == nil {
		t.Error("save all")
	}
}

func TestParseDestinationSingleRemaining(t *testing.T) {
	p := mustParse(t, `send [USD 1] (source = @world destination = { remaining to @a })
send [USD 1] (source = @world destination = { 1/2 to @a remaining to @b })
send [USD 1] (source = @world destination = { remaining to @b 1/2 to @a })`)
	if _, ok := p.Statements[0].(*Send).Destination.(*DestInOrder); !ok {
		t.Error("a lone remaining is an in-order block")
	}
	for _, i := range []int{1, 2} {
		if d, ok := p.Statements[i].(*Send).Destination.(*DestAllotment); !ok || len(d.Items) != 2 {
			t.Errorf("statement %d: %T", i, p.Statements[i].(*Send).Destination)
		}
	}
}

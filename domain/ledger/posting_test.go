package ledger

import (
	"encoding/json"
	"math/big"
	"testing"

	"github.com/kontorhq/kontor/domain"
)

func TestPostingValidate(t *testing.T) {
	ok := NewPosting("world", "users:001", "USD/2", big.NewInt(0))
	for _, tc := range []struct {
		name    string
		edit    func(p *Posting)
		message string // "" when valid
	}{
		{"valid, zero amount", func(p *Posting) {}, ""},
		{"huge amount", func(p *Posting) { p.Amount = bigInt(t, "1000000000000000000000000000000000000000") }, ""},
		{"missing amount", func(p *Posting) { p.Amount = nil }, "missing amount"},
		{"negative amount", func(p *Posting) { p.Amount = big.NewInt(-1) }, "negative amount"},
		{"bad source", func(p *Posting) { p.Source = "users 001" }, "invalid source address"},
		{"bad destination", func(p *Posting) { p.Destination = "users 001" }, "invalid destination address"},
		{"empty destination", func(p *Posting) { p.Destination = "" }, "invalid destination address"},
		{"bad asset", func(p *Posting) { p.Asset = "usd" }, "invalid asset"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := ok
			tc.edit(&p)
			err := Postings{ok, p}.Validate()
			if tc.message == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if domain.ErrorCode(err) != domain.CodeValidation || domain.ErrorMessage(err) != tc.message {
				t.Fatalf("err = %v, want VALIDATION %q", err, tc.message)
			}
		})
	}
}

func TestPostingJSONBigAmount(t *testing.T) {
	doc := `[{"source":"world","destination":"bank:main","amount":123456789012345678901234567890,"asset":"EUR/2"}]`
	var p Postings
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		t.Fatal(err)
	}
	if p[0].Amount.String() != "123456789012345678901234567890" {
		t.Fatalf("amount = %s", p[0].Amount)
	}
	if got, _ := json.Marshal(p); string(got) != doc {
		t.Fatalf("got %s", got)
	}
	for _, bad := range []string{`"100"`, `1.5`, `1e3`} {
		if err := json.Unmarshal([]byte(`{"amount":`+bad+`}`), new(Posting)); err == nil {
			t.Errorf("amount %s accepted", bad)
		}
	}
}

func TestPostingsReverse(t *testing.T) {
	// Log 8 of the reference export: reverting tx 2.
	original := Postings{
		NewPosting("world", "bank:main", "EUR/2", bigInt(t, "123456789012345678901234567890")),
		NewPosting("users:001", "merchants:42", "USD/2", big.NewInt(250)),
	}
	want := `[{"source":"merchants:42","destination":"users:001","amount":250,"asset":"USD/2"},{"source":"bank:main","destination":"world","amount":123456789012345678901234567890,"asset":"EUR/2"}]`
	reversed := original.Reverse()
	if got, _ := json.Marshal(reversed); string(got) != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
	reversed[0].Amount.SetInt64(1)
	if original[1].Amount.Int64() != 250 {
		t.Fatal("Reverse shares amounts with the original")
	}
	if len(Postings(nil).Reverse()) != 0 {
		t.Fatal("reverse of nothing")
	}
}

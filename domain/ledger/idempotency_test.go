package ledger

import (
	"encoding/base64"
	"math/big"
	"strings"
	"testing"

	"github.com/kontorhq/kontor/domain"
)

func TestCanonicalJSON(t *testing.T) {
	type request struct {
		Postings Postings          `json:"postings"`
		Metadata Metadata          `json:"metadata"`
		Script   map[string]any    `json:"script"`
		Vars     map[string]string `json:"vars"`
		Force    bool              `json:"force"`
	}
	got, err := CanonicalJSON(request{
		Postings: Postings{NewPosting("world", "a", "USD", big.NewInt(100))},
		Metadata: Metadata{"z": "<&>", "a": "1"},
		Script:   map[string]any{"plain": "", "vars": map[string]any{}, "none": nil},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"force":false,"metadata":{"a":"1","z":"<&>"},"postings":[{"amount":100,"asset":"USD","destination":"a","source":"world"}],"script":{"plain":""}}`
	if string(got) != want {
		t.Fatalf("\n got %s\nwant %s", got, want)
	}
}

func TestIdempotencyHash(t *testing.T) {
	type a struct {
		Reference string   `json:"reference"`
		Amount    *big.Int `json:"amount"`
		Metadata  Metadata `json:"metadata,omitempty"`
	}
	type b struct { // same fields, other order, other Go names
		Amt Metadata `json:"metadata"`
		N   *big.Int `json:"amount"`
		Ref string   `json:"reference"`
	}
	huge := new(big.Int).Lsh(big.NewInt(1), 200)
	h := IdempotencyHash(a{Reference: "r", Amount: huge})
	if h != IdempotencyHash(b{Ref: "r", N: huge, Amt: Metadata{}}) {
		t.Fatal("the hash must depend on the JSON content only")
	}
	if h != IdempotencyHash(map[string]any{"amount": huge, "reference": "r"}) {
		t.Fatal("a map and a struct with the same content must hash alike")
	}
	if h == IdempotencyHash(a{Reference: "r", Amount: new(big.Int).Add(huge, big.NewInt(1))}) {
		t.Fatal("different amounts must hash differently")
	}
	raw, err := base64.URLEncoding.DecodeString(h)
	if err != nil || len(raw) != 32 || !strings.HasSuffix(h, "=") {
		t.Fatalf("hash %q is not padded base64url of 32 bytes", h)
	}
	// A stable vector: base64url(sha256(`{"k":"v"}`)), checked with sha256sum.
	if got := IdempotencyHash(map[string]string{"k": "v"}); got != "ZmwaoC6AaMbVzB0ylQCUMsFnkL7CjsjOEZ0NGhjWExk=" {
		t.Fatalf("hash = %s", got)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("a value JSON cannot encode must panic")
		}
	}()
	IdempotencyHash(make(chan int))
}

func TestValidateIdempotencyKey(t *testing.T) {
	for _, ik := range []string{"", "ik-1", "a<b", `a\\b`, `a\101`, "é", strings.Repeat("é", 255), `"q"`} {
		if err := ValidateIdempotencyKey(ik); err != nil {
			t.Errorf("%q: %v", ik, err)
		}
	}
	for _, ik := range []string{`a\b`, `a\`, `\9`, `\400`, strings.Repeat("a", 256), "a\x00b", "\xff"} {
		if err := ValidateIdempotencyKey(ik); domain.ErrorCode(err) != domain.CodeValidation {
			t.Errorf("%q: err = %v, want VALIDATION", ik, err)
		}
	}
}

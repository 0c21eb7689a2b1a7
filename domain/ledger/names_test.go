package ledger

import (
	"math/rand"
	"regexp"
	"strings"
	"testing"

	"github.com/kontorhq/kontor/domain"
)

func TestIsValidAddress(t *testing.T) {
	for _, s := range []string{"world", "users:001", "a", "A-b_c:0:Z", "platform:fees", "a:b:c:d:e:f", "-", "_:_"} {
		if !IsValidAddress(s) {
			t.Errorf("%q rejected", s)
		}
	}
	for _, s := range []string{"", ":", "users:", ":users", "users::001", "users 001", "users.001", "é", "users:001\n", "@world", "a/b"} {
		if IsValidAddress(s) {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestIsValidAsset(t *testing.T) {
	for _, s := range []string{"USD", "USD/2", "COIN", "EUR_CENTS/2", "A", "A1", "B1234567890123456", "USD_ABCDEFGHIJKLMNOP/123456", "X/0"} {
		if !IsValidAsset(s) {
			t.Errorf("%q rejected", s)
		}
	}
	for _, s := range []string{"", "usd", "1USD", "USD/", "USD/1234567", "USD_", "USD_1", "USD_ABCDEFGHIJKLMNOPQ", "B12345678901234567", "USD/2/2", "USD-2", "_USD", "USD /2", "USD/²"} {
		if IsValidAsset(s) {
			t.Errorf("%q accepted", s)
		}
	}
}

// TestValidatorsMatchTheirRegexps checks the hand-written validators against
// the reference's regular expressions on random strings.
func TestValidatorsMatchTheirRegexps(t *testing.T) {
	for _, tc := range []struct {
		name     string
		re       *regexp.Regexp
		valid    func(string) bool
		alphabet string
		maxLen   int
	}{
		{"address", regexp.MustCompile(AddressFormat), IsValidAddress, "ab09_-:: .Zé", 8},
		{"asset", regexp.MustCompile(AssetFormat), IsValidAsset, "AZ09_/aé", 30},
		{"name", regexp.MustCompile(NameFormat), isValidName, "aZ09_-:", 66},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewSource(1))
			letters := []rune(tc.alphabet)
			accepted := 0
			for i := 0; i < 20000; i++ {
				n := rng.Intn(tc.maxLen + 1)
				var b strings.Builder
				for j := 0; j < n; j++ {
					b.WriteRune(letters[rng.Intn(len(letters))])
				}
				s := b.String()
				if want := tc.re.MatchString(s); tc.valid(s) != want {
					t.Fatalf("%q: validator says %v, regexp %v", s, !want, want)
				} else if want {
					accepted++
				}
			}
			if accepted < 100 {
				t.Fatalf("only %d random strings were valid: the test explores too little", accepted)
			}
		})
	}
}

func TestValidateNames(t *testing.T) {
	for _, tc := range []struct {
		name    string
		err     error
		message string // "" when valid
	}{
		{"ledger ok", ValidateLedgerName("demo-minimal_01"), ""},
		{"ledger 63 chars", ValidateLedgerName(strings.Repeat("a", 63)), ""},
		{"ledger 64 chars", ValidateLedgerName(strings.Repeat("a", 64)), "invalid ledger name '" + strings.Repeat("a", 64) + "': name must match format '^[0-9a-zA-Z_-]{1,63}$'"},
		{"ledger with a space", ValidateLedgerName("bad name"), "invalid ledger name 'bad name': name must match format '^[0-9a-zA-Z_-]{1,63}$'"},
		{"ledger empty", ValidateLedgerName(""), "invalid ledger name '': name must match format '^[0-9a-zA-Z_-]{1,63}$'"},
		{"ledger _info", ValidateLedgerName("_info"), "invalid ledger name '_info': name is reserved"},
		{"ledger _", ValidateLedgerName("_"), "invalid ledger name '_': name is reserved"},
		{"ledger _healthcheck", ValidateLedgerName("_healthcheck"), "invalid ledger name '_healthcheck': name is reserved"},
		{"bucket default", ValidateBucketName(DefaultBucket), ""},
		{"bucket with a dot", ValidateBucketName("a.b"), "invalid bucket name 'a.b': name must match format '^[0-9a-zA-Z_-]{1,63}$'"},
		{"bucket _system", ValidateBucketName("_system"), "invalid bucket name '_system': name is reserved"},
		{"bucket pg_catalog", ValidateBucketName("pg_catalog"), "invalid bucket name 'pg_catalog': names starting with 'pg_' are reserved"},
		{"address", ValidateAddress("a b"), "invalid address 'a b': must match format '^[a-zA-Z0-9_-]+(:[a-zA-Z0-9_-]+)*$'"},
		{"asset", ValidateAsset("usd"), `invalid asset 'usd': must match format '^[A-Z][A-Z0-9]{0,16}(_[A-Z]{1,16})?(\/\d{1,6})?$'`},
		{"asset ok", ValidateAsset("USD/2"), ""},
		{"address ok", ValidateAddress("users:001"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.message == "" {
				if tc.err != nil {
					t.Fatal(tc.err)
				}
				return
			}
			if domain.ErrorCode(tc.err) != domain.CodeValidation || domain.ErrorMessage(tc.err) != tc.message {
				t.Fatalf("err = %v, want VALIDATION %q", tc.err, tc.message)
			}
		})
	}
}

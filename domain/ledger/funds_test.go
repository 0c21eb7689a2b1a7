package ledger

import (
	"encoding/json"
	"errors"
	"math/big"
	"testing"

	"github.com/kontorhq/kontor/domain"
)

// balances builds a BalanceFunc from "account asset" → balance, failing the
// test if World is asked about.
func balances(t *testing.T, m map[[2]string]int64) BalanceFunc {
	return func(account, asset string) *big.Int {
		if account == World {
			t.Fatalf("asked the balance of world")
		}
		if b, ok := m[[2]string{account, asset}]; ok {
			return big.NewInt(b)
		}
		return nil
	}
}

func insufficient(t *testing.T, err error) (*domain.Error, InsufficientFunds) {
	t.Helper()
	var derr *domain.Error
	if !errors.As(err, &derr) || derr.Code != domain.CodeInsufficientFund {
		t.Fatalf("err = %v, want INSUFFICIENT_FUND", err)
	}
	return derr, derr.Details.(InsufficientFunds)
}

func TestCheckFunds(t *testing.T) {
	start := map[[2]string]int64{
		{"users:001", "USD/2"}: 100,
		{"users:neg", "USD/2"}: -5,
	}
	for _, tc := range []struct {
		name     string
		postings Postings
		force    bool
		message  string // "" when funds suffice
		details  InsufficientFunds
	}{
		{name: "world sends anything", postings: Postings{NewPosting("world", "a", "USD/2", bigInt(t, "999999999999999999999999"))}},
		{name: "exact balance", postings: Postings{NewPosting("users:001", "a", "USD/2", big.NewInt(100))}},
		{name: "zero from an overdrawn account", postings: Postings{NewPosting("users:neg", "a", "USD/2", big.NewInt(0))}},
		{name: "a credit funds a later posting", postings: Postings{
			NewPosting("world", "bank", "EUR/2", big.NewInt(1000)),
			NewPosting("bank", "users:002", "EUR/2", big.NewInt(250)),
		}},
		{name: "force allows overdraft", force: true, postings: Postings{NewPosting("users:005", "world", "USD/2", big.NewInt(5))}},
		{
			name:     "anchor: postings insufficient funds",
			postings: Postings{NewPosting("users:001", "world", "USD/2", big.NewInt(999999))},
			message:  "Not enough funds. Needed [USD/2 999999] (only [USD/2 100] available)",
			details:  InsufficientFunds{Account: "users:001", Asset: "USD/2", Needed: big.NewInt(999999), Available: big.NewInt(100)},
		},
		{
			name:     "earlier debits count",
			postings: Postings{NewPosting("users:001", "a", "USD/2", big.NewInt(60)), NewPosting("users:001", "b", "USD/2", big.NewInt(50))},
			message:  "Not enough funds. Needed [USD/2 50] (only [USD/2 40] available)",
			details:  InsufficientFunds{Account: "users:001", Asset: "USD/2", Needed: big.NewInt(50), Available: big.NewInt(40)},
		},
		{
			name:     "a later credit does not fund an earlier debit",
			postings: Postings{NewPosting("bank", "a", "EUR/2", big.NewInt(1)), NewPosting("world", "bank", "EUR/2", big.NewInt(1))},
			message:  "Not enough funds. Needed [EUR/2 1] (only [EUR/2 0] available)",
			details:  InsufficientFunds{Account: "bank", Asset: "EUR/2", Needed: big.NewInt(1), Available: big.NewInt(0)},
		},
		{
			name:     "balances are per asset",
			postings: Postings{NewPosting("users:001", "a", "EUR/2", big.NewInt(1))},
			message:  "Not enough funds. Needed [EUR/2 1] (only [EUR/2 0] available)",
			details:  InsufficientFunds{Account: "users:001", Asset: "EUR/2", Needed: big.NewInt(1), Available: big.NewInt(0)},
		},
		{
			name:     "overdrawn account shows zero available",
			postings: Postings{NewPosting("users:neg", "a", "USD/2", big.NewInt(1))},
			message:  "Not enough funds. Needed [USD/2 1] (only [USD/2 0] available)",
			details:  InsufficientFunds{Account: "users:neg", Asset: "USD/2", Needed: big.NewInt(1), Available: big.NewInt(0)},
		},
		{
			name:     "sending to oneself still needs the funds",
			postings: Postings{NewPosting("users:001", "users:001", "USD/2", big.NewInt(101))},
			message:  "Not enough funds. Needed [USD/2 101] (only [USD/2 100] available)",
			details:  InsufficientFunds{Account: "users:001", Asset: "USD/2", Needed: big.NewInt(101), Available: big.NewInt(100)},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckFunds(tc.postings, balances(t, start), tc.force)
			if tc.message == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			derr, details := insufficient(t, err)
			if derr.Message != tc.message {
				t.Fatalf("message = %q, want %q", derr.Message, tc.message)
			}
			gotJSON, _ := json.Marshal(details)
			wantJSON, _ := json.Marshal(tc.details)
			if string(gotJSON) != string(wantJSON) {
				t.Fatalf("details = %s, want %s", gotJSON, wantJSON)
			}
		})
	}
}

func TestInsufficientFundsDetailsJSON(t *testing.T) {
	err := CheckFunds(Postings{NewPosting("a", "b", "USD", bigInt(t, "100000000000000000000000000001"))},
		balances(t, map[[2]string]int64{{"a", "USD"}: 3}), false)
	_, details := insufficient(t, err)
	got, _ := json.Marshal(details)
	want := `{"account":"a","asset":"USD","needed":100000000000000000000000000001,"available":3}`
	if string(got) != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

func TestCheckRevertFunds(t *testing.T) {
	start := map[[2]string]int64{
		{"users:001", "USD/2"}: 50,
		{"users:003", "USD/2"}: 7,
		{"users:neg", "USD/2"}: -10,
	}
	for _, tc := range []struct {
		name     string
		postings Postings
		message  string
		details  InsufficientFunds
	}{
		{name: "anchor: revert tx 4", postings: Postings{NewPosting("users:003", "world", "USD/2", big.NewInt(7))}},
		{
			name:     "anchor: revert tx 1, users:001 no longer has 100",
			postings: Postings{NewPosting("users:001", "world", "USD/2", big.NewInt(100))},
			message:  "insufficient fund for users:001/USD/2",
			details:  InsufficientFunds{Account: "users:001", Asset: "USD/2", Needed: big.NewInt(100), Available: big.NewInt(50)},
		},
		{
			name: "final balances count, whatever the order",
			postings: Postings{
				NewPosting("users:001", "world", "USD/2", big.NewInt(60)),
				NewPosting("world", "users:001", "USD/2", big.NewInt(10)),
			},
		},
		{
			name:     "an overdrawn account may receive",
			postings: Postings{NewPosting("users:neg", "x", "USD/2", big.NewInt(1)), NewPosting("y", "users:neg", "USD/2", big.NewInt(1))},
			message:  "insufficient fund for y/USD/2",
			details:  InsufficientFunds{Account: "y", Asset: "USD/2", Needed: big.NewInt(1), Available: big.NewInt(0)},
		},
		{
			name:     "an overdrawn account may not send more",
			postings: Postings{NewPosting("users:neg", "x", "USD/2", big.NewInt(1))},
			message:  "insufficient fund for users:neg/USD/2",
			details:  InsufficientFunds{Account: "users:neg", Asset: "USD/2", Needed: big.NewInt(1), Available: big.NewInt(0)},
		},
		{name: "world may always send", postings: Postings{NewPosting("world", "a", "USD/2", big.NewInt(1))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckRevertFunds(tc.postings, balances(t, start))
			if tc.message == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			derr, details := insufficient(t, err)
			if derr.Message != tc.message {
				t.Fatalf("message = %q, want %q", derr.Message, tc.message)
			}
			got, _ := json.Marshal(details)
			want, _ := json.Marshal(tc.details)
			if string(got) != string(want) {
				t.Fatalf("details = %s, want %s", got, want)
			}
		})
	}
}

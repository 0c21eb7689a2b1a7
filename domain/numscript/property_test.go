package numscript

import (
	"context"
	"fmt"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestAllocateSumsToTotal checks that an allotment always hands out exactly
// the amount, each part above its exact share minus one and at most one
// unit over it (the leftover goes to the first parts, whatever their share).
func TestAllocateSumsToTotal(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		n := 1 + rng.IntN(6)
		weights := make([]int64, n)
		var total int64
		for j := range weights {
			weights[j] = rng.Int64N(100)
			total += weights[j]
		}
		if total == 0 {
			weights[0], total = 1, 1
		}
		portions := make([]*big.Rat, n)
		for j, w := range weights {
			portions[j] = big.NewRat(w, total)
		}
		amount := big.NewInt(rng.Int64N(1_000_000))
		parts := allocate(amount, portions)
		sum := new(big.Int)
		for j, part := range parts {
			sum.Add(sum, part)
			exact := new(big.Rat).Mul(new(big.Rat).SetInt(amount), portions[j])
			diff := new(big.Rat).Sub(new(big.Rat).SetInt(part), exact)
			if diff.Cmp(big.NewRat(-1, 1)) <= 0 || diff.Cmp(big.NewRat(1, 1)) > 0 || part.Sign() < 0 {
				t.Fatalf("part %d = %s, exact share %s", j, part, exact.FloatString(3))
			}
		}
		if sum.Cmp(amount) != 0 {
			t.Fatalf("amount %s allocated as %v (sum %s)", amount, parts, sum)
		}
	}
}

// TestBoundedSourcesNeverGoBelowTheirBound runs random in-order sends over
// random balances and checks that no bounded account ends below minus its
// allowed overdraft, and that a send either moves exactly its amount or
// fails with missing funds.
func TestBoundedSourcesNeverGoBelowTheirBound(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 500; i++ {
		accounts := []string{"a", "b", "c"}
		balances := map[string]map[string]*big.Int{}
		bounds := map[string]int64{}
		var lines []string
		for _, acc := range accounts {
			balances[acc] = map[string]*big.Int{"USD": big.NewInt(rng.Int64N(100) - 20)}
			if rng.IntN(2) == 0 {
				bounds[acc] = rng.Int64N(30)
				lines = append(lines, fmt.Sprintf("@%s allowing overdraft up to [USD %d]", acc, bounds[acc]))
			} else {
				lines = append(lines, "@"+acc)
			}
			if rng.IntN(3) == 0 {
				lines[len(lines)-1] = fmt.Sprintf("max [USD %d] from %s", rng.IntN(50), lines[len(lines)-1])
			}
		}
		amount := rng.Int64N(250)
		src := fmt.Sprintf("send [USD %d] (\n source = {\n %s\n }\n destination = @dest\n)", amount, strings.Join(lines, "\n "))
		res, err := mustParse(t, src).Execute(context.Background(), StaticStore{Assets: balances}, nil, nil)
		if err != nil {
			if ErrorKindOf(err) != KindMissingFunds {
				t.Fatalf("%s: %v", src, err)
			}
			continue
		}
		end := map[string]*big.Int{}
		moved := new(big.Int)
		for _, acc := range accounts {
			end[acc] = new(big.Int).Set(balances[acc]["USD"])
		}
		for _, p := range res.Postings {
			end[p.Source].Sub(end[p.Source], p.Amount)
			moved.Add(moved, p.Amount)
		}
		if moved.Int64() != amount {
			t.Fatalf("%s: moved %s", src, moved)
		}
		for _, acc := range accounts {
			start := balances[acc]["USD"].Int64()
			floor := -bounds[acc]
			if start < floor {
				floor = start // an account already past its bound gives nothing
			}
			if end[acc].Int64() < floor {
				t.Fatalf("%s: @%s ends at %s below %d", src, acc, end[acc], floor)
			}
		}
	}
}

// TestSendAllEmptiesExactlyTheBalance checks that [A *] moves exactly the
// positive part of the balance (plus overdraft) and leaves the account at
// zero (or at minus its overdraft).
func TestSendAllEmptiesExactlyTheBalance(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 500; i++ {
		bal := rng.Int64N(1000) - 300
		overdraft := rng.Int64N(3) * 50
		src := fmt.Sprintf("send [COIN *] (source = @a allowing overdraft up to [COIN %d] destination = @b)", overdraft)
		store := StaticStore{Assets: map[string]map[string]*big.Int{"a": {"COIN": big.NewInt(bal)}}}
		res, err := mustParse(t, src).Execute(context.Background(), store, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := bal + overdraft
		if want < 0 {
			want = 0
		}
		var moved int64
		for _, p := range res.Postings {
			moved += p.Amount.Int64()
		}
		if moved != want {
			t.Fatalf("balance %d overdraft %d: moved %d, want %d", bal, overdraft, moved, want)
		}
		if end := bal - moved; want > 0 && end != -overdraft {
			t.Fatalf("balance %d overdraft %d: ends at %d", bal, overdraft, end)
		}
	}
}

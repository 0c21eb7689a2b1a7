package ledger

import (
	"fmt"
	"math/big"

	"github.com/kontorhq/kontor/domain"
)

// BalanceFunc returns the balance of account in asset before the postings
// being checked; nil counts as zero. It is never asked about World.
type BalanceFunc func(account, asset string) *big.Int

// InsufficientFunds is the Details of an INSUFFICIENT_FUND error: the
// account and asset that lacked funds, what it had to send and what it had
// (never below zero).
type InsufficientFunds struct {
	Account   string   `json:"account"`
	Asset     string   `json:"asset"`
	Needed    *big.Int `json:"needed"`
	Available *big.Int `json:"available"`
}

// CheckFunds applies postings in order, as the reference's machine runs the
// script it generates from them, and returns an INSUFFICIENT_FUND error for
// the first posting whose source holds less than its amount at that point.
// Funds received earlier in the same list count, so a posting can fund a
// later one. World may always send; with force every account may overdraft
// and nothing is checked. The message is the reference's: "Not enough
// funds. Needed [USD/2 100] (only [USD/2 90] available)".
func CheckFunds(postings Postings, balance BalanceFunc, force bool) error {
	if force || !postings.sendsFromAccounts() {
		return nil
	}
	sheet := newBalanceSheet(balance)
	for _, p := range postings {
		amount := orZero(p.Amount)
		if p.Source != World {
			available := sheet.get(p.Source, p.Asset)
			if amount.Sign() > 0 && available.Cmp(amount) < 0 {
				return insufficientFunds(fmt.Sprintf("Not enough funds. Needed [%s %s] (only [%s %s] available)",
					p.Asset, amount, p.Asset, nonNegative(available)), p.Source, p.Asset, amount, available)
			}
			available.Sub(available, amount)
		}
		if p.Destination != World {
			received := sheet.get(p.Destination, p.Asset)
			received.Add(received, amount)
		}
	}
	return nil
}

// sendsFromAccounts reports whether a posting of p has another source than
// World: without one, CheckFunds has nothing to check.
func (p Postings) sendsFromAccounts() bool {
	for _, posting := range p {
		if posting.Source != World {
			return true
		}
	}
	return false
}

// CheckRevertFunds checks the postings of a revert the way the reference
// does: all of them applied at once, an INSUFFICIENT_FUND error ("insufficient
// fund for users:001/USD/2") names the first source, in posting order,
// whose balance would end below zero. World may always send. Unlike the
// reference, an account that was already below zero only fails if the
// revert takes more from it than it gives.
func CheckRevertFunds(postings Postings, balance BalanceFunc) error {
	outflow := make(map[accountAsset]*big.Int) // sent minus received
	var sources []accountAsset                 // non-world sources, in order
	isSource := make(map[accountAsset]bool)
	add := func(k accountAsset, amount *big.Int) {
		if _, ok := outflow[k]; !ok {
			outflow[k] = new(big.Int)
		}
		outflow[k].Add(outflow[k], amount)
	}
	for _, p := range postings {
		amount := orZero(p.Amount)
		if p.Source != World {
			k := accountAsset{p.Source, p.Asset}
			if !isSource[k] {
				isSource[k] = true
				sources = append(sources, k)
			}
			add(k, amount)
		}
		add(accountAsset{p.Destination, p.Asset}, new(big.Int).Neg(amount))
	}
	for _, k := range sources {
		net := outflow[k]
		if net.Sign() <= 0 {
			continue
		}
		available := orZero(balance(k.account, k.asset))
		if available.Cmp(net) < 0 {
			return insufficientFunds(fmt.Sprintf("insufficient fund for %s/%s", k.account, k.asset),
				k.account, k.asset, net, available)
		}
	}
	return nil
}

// accountAsset keys a balance.
type accountAsset struct {
	account, asset string
}

// balanceSheet tracks balances as postings apply, fetching each one once.
type balanceSheet struct {
	fetch    BalanceFunc
	balances map[accountAsset]*big.Int
}

func newBalanceSheet(fetch BalanceFunc) *balanceSheet {
	return &balanceSheet{fetch: fetch, balances: make(map[accountAsset]*big.Int)}
}

// get returns the current balance of account in asset; the caller may
// modify it in place.
func (s *balanceSheet) get(account, asset string) *big.Int {
	k := accountAsset{account, asset}
	b, ok := s.balances[k]
	if !ok {
		b = new(big.Int).Set(orZero(s.fetch(account, asset)))
		s.balances[k] = b
	}
	return b
}

func insufficientFunds(message, account, asset string, needed, available *big.Int) *domain.Error {
	return &domain.Error{
		Code:    domain.CodeInsufficientFund,
		Message: message,
		Details: InsufficientFunds{
			Account:   account,
			Asset:     asset,
			Needed:    new(big.Int).Set(needed),
			Available: nonNegative(available),
		},
	}
}

// nonNegative returns a copy of x, or zero when x is negative.
func nonNegative(x *big.Int) *big.Int {
	if x.Sign() < 0 {
		return new(big.Int)
	}
	return new(big.Int).Set(x)
}

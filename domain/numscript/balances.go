package numscript

import (
	"fmt"
	"math/big"
	"sort"
	"strings"
)

// balanceKey is an (account, asset) pair; a colored asset is its own asset
// (USD_RED/2).
type balanceKey struct{ account, asset string }

// balanceJournalEntry records one change of a working balance so that a
// oneof branch can be undone.
type balanceJournalEntry struct {
	key   balanceKey
	delta *big.Int
}

// balances is the interpreter's view of balances: what the store returned,
// plus what the script has moved so far. For a pair not fetched yet it holds
// only the moves; fetching adds the stored balance in.
type balances struct {
	amounts  map[balanceKey]*big.Int
	fetched  map[balanceKey]bool
	families map[balanceKey]bool // {account, BASE}: every scale of BASE fetched
	journal  []balanceJournalEntry
}

func newBalances() *balances {
	return &balances{
		amounts:  map[balanceKey]*big.Int{},
		fetched:  map[balanceKey]bool{},
		families: map[balanceKey]bool{},
	}
}

// assetBase returns the asset without its scale: EUR/2 → EUR.
func assetBase(asset string) string {
	base, _, _ := strings.Cut(asset, "/")
	return base
}

// isFetched reports whether the store's balance of k is known.
func (b *balances) isFetched(k balanceKey) bool {
	return b.fetched[k] || b.families[balanceKey{k.account, assetBase(k.asset)}]
}

// get returns the working balance of k; k must be fetched. The result must
// not be modified.
func (b *balances) get(k balanceKey) *big.Int {
	if v, ok := b.amounts[k]; ok {
		return v
	}
	return new(big.Int)
}

// add moves the working balance of k by delta and journals the change.
func (b *balances) add(k balanceKey, delta *big.Int) {
	if delta.Sign() == 0 {
		return
	}
	b.amounts[k] = new(big.Int).Add(b.get(k), delta)
	b.journal = append(b.journal, balanceJournalEntry{key: k, delta: delta})
}

// undo reverts the journaled changes made after the journal had n entries.
func (b *balances) undo(n int) {
	for i := len(b.journal) - 1; i >= n; i-- {
		e := b.journal[i]
		b.amounts[e.key] = new(big.Int).Sub(b.get(e.key), e.delta)
	}
	b.journal = b.journal[:n]
}

// scalesOf returns the working balances of every scale of base held by
// account (fetched as a family), by scale.
func (b *balances) scalesOf(account, base string) map[int]*big.Int {
	out := map[int]*big.Int{}
	for k, v := range b.amounts {
		if k.account != account || assetBase(k.asset) != base {
			continue
		}
		if scale, ok := assetScale(k.asset); ok {
			out[scale] = v
		}
	}
	return out
}

// balanceNeeds is a set of (account, asset) pairs to fetch; an asset
// "BASE/*" stands for the whole family of BASE.
type balanceNeeds map[balanceKey]bool

// fetch asks the store for the needed pairs not fetched yet, in one query.
func (in *interp) fetch(needs balanceNeeds) error {
	query := map[string][]string{}
	for k := range needs {
		if base, ok := strings.CutSuffix(k.asset, "/*"); ok {
			if in.bal.families[balanceKey{k.account, base}] {
				continue
			}
		} else if in.bal.isFetched(k) {
			continue
		}
		query[k.account] = append(query[k.account], k.asset)
	}
	if len(query) == 0 {
		return nil
	}
	for _, assets := range query {
		sort.Strings(assets)
	}
	got, err := in.store.Balances(in.ctx, query)
	if err != nil {
		return fmt.Errorf("numscript: querying balances: %w", err)
	}
	for account, assets := range query {
		for _, asset := range assets {
			if base, ok := strings.CutSuffix(asset, "/*"); ok {
				for name, amount := range got[account] {
					k := balanceKey{account, name}
					if assetBase(name) == base && !in.bal.isFetched(k) {
						in.bal.setFetched(k, amount)
					}
				}
				in.bal.families[balanceKey{account, base}] = true
				continue
			}
			in.bal.setFetched(balanceKey{account, asset}, got[account][asset])
		}
	}
	return nil
}

// setFetched adds the stored balance of k (nil meaning zero) to what the
// script moved so far, and marks k fetched. It is not journaled: a fetched
// balance is a fact that backtracking keeps.
func (b *balances) setFetched(k balanceKey, stored *big.Int) {
	if stored != nil {
		b.amounts[k] = new(big.Int).Add(b.get(k), stored)
	}
	b.fetched[k] = true
}

// balanceOf returns the working balance of account in asset, fetching it
// first if needed.
func (in *interp) balanceOf(account, asset string) (*big.Int, error) {
	k := balanceKey{account, asset}
	if !in.bal.isFetched(k) {
		if err := in.fetch(balanceNeeds{k: true}); err != nil {
			return nil, err
		}
	}
	return in.bal.get(k), nil
}

package numscript

import (
	"context"
	"math/big"
	"strings"

	"github.com/kontorhq/kontor/domain/ledger"
)

// Store gives the interpreter the ledger's state. Both methods take a batch:
// a map from account address to the assets (or metadata keys) wanted.
//
// Balances returns, for every queried account, the balance of every queried
// asset; a missing entry means zero. An asset of the form "BASE/*" asks for
// every scale of BASE the account holds (BASE and BASE/n), as asset scaling
// needs. Metadata returns the values of the queried keys the accounts have;
// a missing key means the account has no such metadata.
//
// An error from the store is returned by Run wrapped, unchanged in kind: a
// failing database is an internal error, not a script error.
type Store interface {
	Balances(ctx context.Context, query map[string][]string) (map[string]map[string]*big.Int, error)
	Metadata(ctx context.Context, query map[string][]string) (map[string]ledger.Metadata, error)
}

// Result is what a script produces: the postings of the transaction, its
// metadata, and the metadata to set on accounts. Metadata values are the
// string forms of the script's values (a monetary is "USD/2 100", a portion
// "1/3", an account its address without @).
type Result struct {
	Postings        ledger.Postings
	Metadata        ledger.Metadata
	AccountMetadata ledger.AccountMetadata
}

// StaticStore is an in-memory Store over fixed balances and metadata, for
// tests, spec files and dry runs. It never modifies its maps.
type StaticStore struct {
	// Assets maps account → asset → balance.
	Assets map[string]map[string]*big.Int
	// Meta maps account → metadata.
	Meta map[string]ledger.Metadata
}

// Balances implements Store.
func (s StaticStore) Balances(_ context.Context, query map[string][]string) (map[string]map[string]*big.Int, error) {
	out := make(map[string]map[string]*big.Int, len(query))
	for account, assets := range query {
		have := s.Assets[account]
		got := make(map[string]*big.Int, len(assets))
		for _, asset := range assets {
			if base, ok := strings.CutSuffix(asset, "/*"); ok {
				for name, amount := range have {
					if name == base || strings.HasPrefix(name, base+"/") {
						got[name] = new(big.Int).Set(amount)
					}
				}
				continue
			}
			if amount, ok := have[asset]; ok {
				got[asset] = new(big.Int).Set(amount)
			}
		}
		out[account] = got
	}
	return out, nil
}

// Metadata implements Store.
func (s StaticStore) Metadata(_ context.Context, query map[string][]string) (map[string]ledger.Metadata, error) {
	out := make(map[string]ledger.Metadata, len(query))
	for account, keys := range query {
		got := ledger.Metadata{}
		for _, key := range keys {
			if v, ok := s.Meta[account][key]; ok {
				got[key] = v
			}
		}
		out[account] = got
	}
	return out, nil
}

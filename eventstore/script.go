package eventstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sort"
	"strings"

	"github.com/kontorhq/kontor/domain"
	"github.com/kontorhq/kontor/domain/ledger"
	"github.com/kontorhq/kontor/domain/numscript"
)

// Script is a Numscript transaction. It runs inside the batch, on the
// ledger as of the commands before it, so scripts are group-committed like
// postings.
type Script struct {
	Program *numscript.Program
	Vars    map[string]string
	Flags   map[string]bool
	// Metadata is the request's transaction metadata: the script may not
	// set any of its keys (METADATA_OVERRIDE).
	Metadata  ledger.Metadata
	Timestamp ledger.Time // zero: the time of the write
	Reference string
	// AccountMetadata is the request's account metadata; what the script
	// sets on the same account and key wins.
	AccountMetadata ledger.AccountMetadata
}

// metaChange is a change a batch made to an account's metadata key.
type metaChange struct {
	value   string
	deleted bool
}

// accountKey names one metadata key of an account.
type accountKey struct{ address, key string }

// runScript runs s on the batch's state and returns the transaction it
// creates. The interpreter already enforced funds and overdraft rules, so
// the transaction is forced. A failing database fails the script alone,
// with an internal error.
func (b *batch) runScript(s *Script) (ledger.CreateTransaction, error) {
	res, err := s.Program.Run(b.ctx, scriptStore{b}, s.Vars, s.Flags)
	if err != nil {
		return ledger.CreateTransaction{}, b.scriptError(err)
	}
	keys := make([]string, 0, len(s.Metadata))
	for k := range s.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, ok := res.Metadata[k]; ok {
			return ledger.CreateTransaction{}, domain.Errorf(domain.CodeMetadataOverride, "cannot override metadata '%s'", k)
		}
	}
	var accountMetadata ledger.AccountMetadata
	if len(s.AccountMetadata)+len(res.AccountMetadata) > 0 {
		accountMetadata = ledger.AccountMetadata{}
		for address, md := range s.AccountMetadata {
			accountMetadata[address] = md.Clone()
		}
		for address, md := range res.AccountMetadata {
			accountMetadata[address] = accountMetadata[address].Merge(md)
		}
	}
	// The interpreter read only the balances it needed: load the others
	// the transaction changes (destinations, @world) and its accounts.
	touched, addresses := map[key]bool{}, map[string]bool{}
	for _, p := range res.Postings {
		touched[key{p.Source, p.Asset}], touched[key{p.Destination, p.Asset}] = true, true
		addresses[p.Source], addresses[p.Destination] = true, true
	}
	for address := range accountMetadata {
		addresses[address] = true
	}
	if _, err := b.loadBalances(b.ctx, b.db, touched, nil); err != nil {
		return ledger.CreateTransaction{}, b.scriptError(err)
	}
	if err := b.loadAccounts(b.ctx, b.db, addresses); err != nil {
		return ledger.CreateTransaction{}, b.scriptError(err)
	}
	return ledger.CreateTransaction{
		Postings:        res.Postings,
		Metadata:        s.Metadata.Merge(res.Metadata),
		Timestamp:       s.Timestamp,
		Reference:       s.Reference,
		AccountMetadata: accountMetadata,
		Force:           true,
	}, nil
}

// scriptError passes a script's own errors through and turns the others
// (the database's) into an internal error of this command.
func (b *batch) scriptError(err error) error {
	var de *domain.Error
	if errors.As(err, &de) {
		return err
	}
	slog.Error("numscript store failed", "ledger", b.db.ledger.Name, "error", err)
	return fmt.Errorf("run script: %w", err)
}

// setAccountMetadata records metadata set on an account for the scripts
// evaluated after it.
func (b *batch) setAccountMetadata(address string, md ledger.Metadata) {
	for k, v := range md {
		b.accountMeta[accountKey{address, k}] = metaChange{value: v}
	}
}

// metaChange returns the latest change of an account's metadata key made
// by this batch or one in flight under it.
func (b *batch) metaChange(k accountKey) (metaChange, bool) {
	return lookup(b, func(p *batch) (metaChange, bool) { c, ok := p.accountMeta[k]; return c, ok })
}

// scriptStore is the numscript.Store of a script run in a batch: balances
// and account metadata as of the commands evaluated before it. What no
// layer of the batch holds is read from the database, one query per call.
type scriptStore struct{ b *batch }

// Balances implements numscript.Store.
func (s scriptStore) Balances(ctx context.Context, query map[string][]string) (map[string]map[string]*big.Int, error) {
	b := s.b
	keys := map[key]bool{}
	var families []key // {account, base asset}: every scale of the asset
	for account, assets := range query {
		for _, asset := range assets {
			if base, ok := strings.CutSuffix(asset, "/*"); ok {
				families = append(families, key{account, base})
			} else {
				keys[key{account, asset}] = true
			}
		}
	}
	members, err := b.loadBalances(ctx, b.db, keys, families)
	if err != nil {
		return nil, err
	}
	// A family also has the members this batch or its parent created,
	// which the database does not hold yet.
	for _, f := range families {
		for _, layer := range b.layers() {
			for k := range layer {
				if k.account == f.account && assetBase(k.asset) == f.asset {
					members = append(members, k)
				}
			}
		}
	}
	out := make(map[string]map[string]*big.Int, len(query))
	for _, k := range append(members, keysOf(keys)...) {
		if out[k.account] == nil {
			out[k.account] = map[string]*big.Int{}
		}
		out[k.account][k.asset] = b.balance(k).volumes.Balance()
	}
	return out, nil
}

// Metadata implements numscript.Store.
func (s scriptStore) Metadata(ctx context.Context, query map[string][]string) (map[string]ledger.Metadata, error) {
	b := s.b
	var read []string
	for account, keys := range query {
		for _, k := range keys {
			if _, ok := b.metaChange(accountKey{account, k}); !ok {
				read = append(read, account)
				break
			}
		}
	}
	stored, err := b.db.accountMetadata(ctx, read)
	if err != nil {
		return nil, err
	}
	out := make(map[string]ledger.Metadata, len(query))
	for account, keys := range query {
		md := ledger.Metadata{}
		for _, k := range keys {
			if c, ok := b.metaChange(accountKey{account, k}); ok {
				if !c.deleted {
					md[k] = c.value
				}
			} else if v, ok := stored[account][k]; ok {
				md[k] = v
			}
		}
		out[account] = md
	}
	return out, nil
}

// layers returns the balances this batch and those in flight under it
// changed, newest first.
func (b *batch) layers() []map[key]balance {
	var out []map[key]balance
	for p := b; p != nil; p = p.parent {
		out = append(out, p.balances)
	}
	return out
}

func keysOf(set map[key]bool) []key {
	out := make([]key, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	return out
}

// assetBase returns an asset without its scale: EUR/2 → EUR.
func assetBase(asset string) string {
	base, _, _ := strings.Cut(asset, "/")
	return base
}

package ledger

import (
	"encoding/json"
	"math/big"
)

// Volumes are the totals an account received (Input) and sent (Output) in
// one asset. Nil fields count as zero. The JSON form adds the balance:
// {"input","output","balance"}, all bare JSON integers.
type Volumes struct {
	Input  *big.Int
	Output *big.Int
}

// Balance returns Input − Output as a new Int.
func (v Volumes) Balance() *big.Int {
	return new(big.Int).Sub(orZero(v.Input), orZero(v.Output))
}

// Copy returns v with its own copies of the amounts, never nil.
func (v Volumes) Copy() Volumes {
	return Volumes{Input: new(big.Int).Set(orZero(v.Input)), Output: new(big.Int).Set(orZero(v.Output))}
}

// MarshalJSON renders {"input":N,"output":N,"balance":N}.
func (v Volumes) MarshalJSON() ([]byte, error) {
	return appendVolumes(make([]byte, 0, 48), v), nil
}

// UnmarshalJSON reads input and output; balance is derived and ignored.
func (v *Volumes) UnmarshalJSON(b []byte) error {
	var aux struct {
		Input  *big.Int `json:"input"`
		Output *big.Int `json:"output"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*v = Volumes{Input: aux.Input, Output: aux.Output}
	return nil
}

// MarshalJSON renders {"<account>":{"<asset>":Volumes}}, keys sorted.
func (p PostCommitVolumes) MarshalJSON() ([]byte, error) {
	return appendPostCommitVolumes(make([]byte, 0, 256), p), nil
}

// AppendJSON appends what MarshalJSON renders to b.
func (p PostCommitVolumes) AppendJSON(b []byte) []byte {
	return appendPostCommitVolumes(b, p)
}

// VolumesByAssets maps an asset to an account's volumes in it.
type VolumesByAssets map[string]Volumes

// PostCommitVolumes maps an account address, then an asset, to volumes: the
// volumes of every account a transaction touched, right after it (or before
// it, for pre-commit volumes).
type PostCommitVolumes map[string]VolumesByAssets

// Get returns the volumes of account in asset, zero when absent.
func (p PostCommitVolumes) Get(account, asset string) Volumes {
	return p[account][asset]
}

// Copy returns a deep copy of p; nil stays nil.
func (p PostCommitVolumes) Copy() PostCommitVolumes {
	if p == nil {
		return nil
	}
	out := make(PostCommitVolumes, len(p))
	for account, byAsset := range p {
		assets := make(VolumesByAssets, len(byAsset))
		for asset, v := range byAsset {
			assets[asset] = v.Copy()
		}
		out[account] = assets
	}
	return out
}

// AddInput adds amount to the input of account in asset, creating the entry
// if needed. The stored Int is new; amounts are never shared.
func (p PostCommitVolumes) AddInput(account, asset string, amount *big.Int) {
	v := p.Get(account, asset)
	v.Input = new(big.Int).Add(orZero(v.Input), amount)
	p.set(account, asset, v)
}

// AddOutput adds amount to the output of account in asset, creating the
// entry if needed. The stored Int is new; amounts are never shared.
func (p PostCommitVolumes) AddOutput(account, asset string, amount *big.Int) {
	v := p.Get(account, asset)
	v.Output = new(big.Int).Add(orZero(v.Output), amount)
	p.set(account, asset, v)
}

func (p PostCommitVolumes) set(account, asset string, v Volumes) {
	byAsset, ok := p[account]
	if !ok {
		byAsset = VolumesByAssets{}
		p[account] = byAsset
	}
	byAsset[asset] = v
}

// VolumesFunc returns the volumes of account in asset before a transaction.
// PostCommitVolumes.Get is one.
type VolumesFunc func(account, asset string) Volumes

// ComputePostCommitVolumes returns, for every (account, asset) the postings
// touch (world included), its volumes after all of them: its pre volumes
// plus the amounts received and sent. pre is called once per pair.
func ComputePostCommitVolumes(postings Postings, pre VolumesFunc) PostCommitVolumes {
	out := PostCommitVolumes{}
	for _, posting := range postings {
		for _, account := range [2]string{posting.Source, posting.Destination} {
			if _, ok := out[account][posting.Asset]; !ok {
				out.set(account, posting.Asset, pre(account, posting.Asset).Copy())
			}
		}
		out.AddOutput(posting.Source, posting.Asset, orZero(posting.Amount))
		out.AddInput(posting.Destination, posting.Asset, orZero(posting.Amount))
	}
	return out
}

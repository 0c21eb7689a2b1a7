package ledger

import (
	"math/big"

	"github.com/kontorhq/kontor/domain"
)

// Posting moves Amount of Asset from Source to Destination. Its JSON is
// {"source","destination","amount","asset"} with the amount a bare JSON
// integer of any size.
type Posting struct {
	Source      string   `json:"source"`
	Destination string   `json:"destination"`
	Amount      *big.Int `json:"amount"`
	Asset       string   `json:"asset"`
}

// NewPosting returns a Posting; amount is used as is, not copied.
func NewPosting(source, destination, asset string, amount *big.Int) Posting {
	return Posting{Source: source, Destination: destination, Amount: amount, Asset: asset}
}

// Validate returns a VALIDATION error with the reference's message when the
// amount is missing or negative, an address or the asset is malformed.
func (p Posting) Validate() error {
	switch {
	case p.Amount == nil:
		return domain.Errorf(domain.CodeValidation, "missing amount")
	case p.Amount.Sign() < 0:
		return domain.Errorf(domain.CodeValidation, "negative amount")
	case !IsValidAddress(p.Source):
		return domain.Errorf(domain.CodeValidation, "invalid source address")
	case !IsValidAddress(p.Destination):
		return domain.Errorf(domain.CodeValidation, "invalid destination address")
	case !IsValidAsset(p.Asset):
		return domain.Errorf(domain.CodeValidation, "invalid asset")
	}
	return nil
}

// Postings is the ordered list of moves of one transaction.
type Postings []Posting

// Validate returns the error of the first invalid posting. An empty list is
// valid here; the write path rejects it with NO_POSTINGS.
func (p Postings) Validate() error {
	for _, posting := range p {
		if err := posting.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// Reverse returns the postings that undo p, as the reference builds them for
// a revert: in reverse order, each with source and destination swapped. The
// amounts are copied.
func (p Postings) Reverse() Postings {
	out := make(Postings, len(p))
	for i, posting := range p {
		out[len(p)-1-i] = Posting{
			Source:      posting.Destination,
			Destination: posting.Source,
			Amount:      copyInt(posting.Amount),
			Asset:       posting.Asset,
		}
	}
	return out
}

// copyInt returns a copy of x; nil stays nil.
func copyInt(x *big.Int) *big.Int {
	if x == nil {
		return nil
	}
	return new(big.Int).Set(x)
}

// orZero returns x, or a zero Int when x is nil. The result must not be
// modified.
func orZero(x *big.Int) *big.Int {
	if x == nil {
		return new(big.Int)
	}
	return x
}

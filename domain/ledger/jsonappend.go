package ledger

import (
	"bytes"
	"encoding/json"
	"math/big"
	"slices"
	"strconv"
)

// The write path renders every transaction at least twice (its log and the
// response), so the hot types append their JSON by hand rather than through
// nested MarshalJSON calls, which encoding/json re-validates at each level.
// The bytes are exactly those encoding/json would produce.

// appendString appends s as encoding/json encodes a string (HTML-safe).
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			enc, _ := json.Marshal(s)
			return append(b, enc...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendObject appends m as a JSON object, keys sorted, each value
// appended by value.
func appendObject[V any](b []byte, m map[string]V, value func([]byte, V) []byte) []byte {
	return appendObjectKeyed(b, m, func(b []byte, _ string, v V) []byte { return value(b, v) })
}

// appendObjectKeyed is appendObject for values rendered with their key.
func appendObjectKeyed[V any](b []byte, m map[string]V, value func([]byte, string, V) []byte) []byte {
	b = append(b, '{')
	var small [4]string // the keys of most objects, without allocating
	keys := small[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		b = value(b, k, m[k])
	}
	return append(b, '}')
}

func appendMetadata(b []byte, m Metadata) []byte { return appendObject(b, m, appendString) }

func appendAccountMetadata(b []byte, a AccountMetadata) []byte {
	return appendObject(b, a, appendMetadata)
}

func appendPostings(b []byte, postings Postings) []byte {
	b = append(b, '[')
	for i, p := range postings {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"source":`...)
		b = appendString(b, p.Source)
		b = append(b, `,"destination":`...)
		b = appendString(b, p.Destination)
		b = append(b, `,"amount":`...)
		if p.Amount == nil {
			b = append(b, "null"...)
		} else {
			b = appendInt(b, p.Amount)
		}
		b = append(b, `,"asset":`...)
		b = appendString(b, p.Asset)
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendVolumes(b []byte, v Volumes) []byte {
	in, out := orZero(v.Input), orZero(v.Output)
	if in.IsInt64() && out.IsInt64() {
		if b, ok := appendSmallVolumes(b, in.Int64(), out.Int64()); ok {
			return b
		}
	}
	b = append(b, `{"input":`...)
	b = appendInt(b, in)
	b = append(b, `,"output":`...)
	b = appendInt(b, out)
	b = append(b, `,"balance":`...)
	b = v.Balance().Append(b, 10)
	return append(b, '}')
}

// appendSmallVolumes is appendVolumes for amounts that fit in an int64,
// nearly all of them. It reports false, and appends nothing, when the
// balance does not fit.
func appendSmallVolumes(b []byte, in, out int64) ([]byte, bool) {
	balance, ok := subInt64(in, out)
	if !ok {
		return b, false
	}
	b = append(b, `{"input":`...)
	b = strconv.AppendInt(b, in, 10)
	b = append(b, `,"output":`...)
	b = strconv.AppendInt(b, out, 10)
	b = append(b, `,"balance":`...)
	b = strconv.AppendInt(b, balance, 10)
	return append(b, '}'), true
}

// subInt64 returns x − y, and false when it overflows.
func subInt64(x, y int64) (int64, bool) {
	d := x - y
	return d, (y >= 0) == (d <= x)
}

// appendInt appends x in decimal; amounts that fit in an int64, nearly all
// of them, are rendered without allocating.
func appendInt(b []byte, x *big.Int) []byte {
	if x.IsInt64() {
		return strconv.AppendInt(b, x.Int64(), 10)
	}
	return x.Append(b, 10)
}

func appendPostCommitVolumes(b []byte, p PostCommitVolumes) []byte {
	if p == nil {
		return append(b, "null"...)
	}
	return appendObject(b, p, func(b []byte, byAsset VolumesByAssets) []byte {
		return appendObject(b, byAsset, appendVolumes)
	})
}

// appendPreCommitVolumes appends post less what postings moved: the
// volumes before them (Transaction.PreCommitVolumes), without copying post.
func appendPreCommitVolumes(b []byte, post PostCommitVolumes, postings Postings) []byte {
	var in, out big.Int // reused for every account and asset
	return appendObjectKeyed(b, post, func(b []byte, account string, byAsset VolumesByAssets) []byte {
		return appendObjectKeyed(b, byAsset, func(b []byte, asset string, v Volumes) []byte {
			if in, out, ok := smallPreCommit(v, account, asset, postings); ok {
				if b, ok := appendSmallVolumes(b, in, out); ok {
					return b
				}
			}
			in.Set(orZero(v.Input))
			out.Set(orZero(v.Output))
			for _, p := range postings {
				if p.Asset != asset {
					continue
				}
				if p.Source == account {
					out.Sub(&out, orZero(p.Amount))
				}
				if p.Destination == account {
					in.Sub(&in, orZero(p.Amount))
				}
			}
			return appendVolumes(b, Volumes{Input: &in, Output: &out})
		})
	})
}

// smallPreCommit returns v less what postings moved for account in asset,
// computed in int64; ok is false when an amount or a result does not fit.
func smallPreCommit(v Volumes, account, asset string, postings Postings) (in, out int64, ok bool) {
	vIn, vOut := orZero(v.Input), orZero(v.Output)
	if !vIn.IsInt64() || !vOut.IsInt64() {
		return 0, 0, false
	}
	in, out = vIn.Int64(), vOut.Int64()
	for _, p := range postings {
		if p.Asset != asset || (p.Source != account && p.Destination != account) {
			continue
		}
		amount := orZero(p.Amount)
		if !amount.IsInt64() {
			return 0, 0, false
		}
		if p.Source == account {
			if out, ok = subInt64(out, amount.Int64()); !ok {
				return 0, 0, false
			}
		}
		if p.Destination == account {
			if in, ok = subInt64(in, amount.Int64()); !ok {
				return 0, 0, false
			}
		}
	}
	return in, out, true
}

func appendTime(b []byte, t Time) []byte {
	b = append(b, '"')
	b = t.appendFormat(b)
	return append(b, '"')
}

// appendHead appends what the transaction JSON and its memento share:
// {"postings","metadata","timestamp","reference"?,"id" — left open.
func (tx Transaction) appendHead(b []byte) []byte {
	b = append(b, `{"postings":`...)
	b = appendPostings(b, tx.postings())
	b = append(b, `,"metadata":`...)
	b = appendMetadata(b, tx.Metadata)
	b = append(b, `,"timestamp":`...)
	b = appendTime(b, tx.Timestamp)
	if tx.Reference != "" {
		b = append(b, `,"reference":`...)
		b = appendString(b, tx.Reference)
	}
	b = append(b, `,"id":`...)
	b = appendUint(b, tx.ID)
	return b
}

// appendJSON appends the reference's transaction JSON (see Transaction).
func (tx Transaction) appendJSON(b []byte) []byte {
	b, _ = tx.appendJSONCut(b)
	return b
}

// jsonCuts are offsets in a transaction's JSON: where its post-commit
// volumes (pcv) and post-commit effective volumes (pcev) values start and
// end, where the pcev key starts, and where the pre-commit volumes start.
type jsonCuts struct {
	pcv, pcev [2]int
	pcevKey   int
	pre       int
}

// appendJSONCut is appendJSON, also returning where its parts are in b.
func (tx Transaction) appendJSONCut(b []byte) ([]byte, jsonCuts) {
	var c jsonCuts
	b = tx.appendHead(b)
	b = append(b, `,"insertedAt":`...)
	b = appendTime(b, tx.InsertedAt)
	b = append(b, `,"updatedAt":`...)
	b = appendTime(b, tx.UpdatedAt)
	if tx.RevertedAt != nil {
		b = append(b, `,"revertedAt":`...)
		b = appendTime(b, *tx.RevertedAt)
	}
	if len(tx.PostCommitVolumes) > 0 {
		b = append(b, `,"postCommitVolumes":`...)
		c.pcv[0] = len(b)
		b = appendPostCommitVolumes(b, tx.PostCommitVolumes)
		c.pcv[1] = len(b)
	}
	if len(tx.PostCommitEffectiveVolumes) > 0 {
		c.pcevKey = len(b)
		b = append(b, `,"postCommitEffectiveVolumes":`...)
		c.pcev[0] = len(b)
		b = appendPostCommitVolumes(b, tx.PostCommitEffectiveVolumes)
		c.pcev[1] = len(b)
	}
	if tx.Template != "" {
		b = append(b, `,"template":`...)
		b = appendString(b, tx.Template)
	}
	if tx.Reverted() {
		b = append(b, `,"reverted":true`...)
	} else {
		b = append(b, `,"reverted":false`...)
	}
	c.pre = len(b)
	if len(tx.PostCommitVolumes) > 0 {
		b = append(b, `,"preCommitVolumes":`...)
		b = appendPreCommitVolumes(b, tx.PostCommitVolumes, tx.Postings)
	}
	if len(tx.PostCommitEffectiveVolumes) > 0 {
		b = append(b, `,"preCommitEffectiveVolumes":`...)
		b = appendPreCommitVolumes(b, tx.PostCommitEffectiveVolumes, tx.Postings)
	}
	return append(b, '}'), c
}

func appendUint(b []byte, n uint64) []byte {
	var digits [20]byte
	i := len(digits)
	for {
		i--
		digits[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return append(b, digits[i:]...)
}

// AppendStoredJSON appends p to b as its log stores it, and returns its
// transaction's JSON as MarshalJSON renders it, in a buffer of its own. The
// stored form leaves out the transaction's pre-commit volumes, which follow
// from its post-commit volumes and postings, and writes post-commit
// effective volumes equal to the post-commit ones as the string
// "postCommitVolumes" (samePCV): decoded and rendered again, it gives both
// back.
func (p CreatedTransaction) AppendStoredJSON(b []byte) (stored, tx []byte) {
	tx, c := p.Transaction.appendJSONCut(make([]byte, 0, 1024))
	b = slices.Grow(b, c.pre+64)
	b = append(b, `{"transaction":`...)
	if c.pcev[0] > 0 && bytes.Equal(tx[c.pcv[0]:c.pcv[1]], tx[c.pcev[0]:c.pcev[1]]) {
		b = append(append(append(b, tx[:c.pcevKey]...), `,"postCommitEffectiveVolumes":`+samePCV...), tx[c.pcev[1]:c.pre]...)
	} else {
		b = append(b, tx[:c.pre]...)
	}
	b = append(b, `},"accountMetadata":`...)
	return append(appendAccountMetadata(b, p.AccountMetadata), '}'), tx
}

// samePCV stands, in a stored log, for post-commit effective volumes equal
// to the post-commit volumes.
const samePCV = `"postCommitVolumes"`

// MarshalJSON renders {"transaction":…,"accountMetadata":…}.
func (p CreatedTransaction) MarshalJSON() ([]byte, error) {
	b := append(make([]byte, 0, 1024), `{"transaction":`...)
	b = p.Transaction.appendJSON(b)
	b = append(b, `,"accountMetadata":`...)
	b = appendAccountMetadata(b, p.AccountMetadata)
	return append(b, '}'), nil
}

// appendMemento appends the memento of a NEW_TRANSACTION log, the bytes the
// hash chain covers: {"transaction":{"postings","metadata","timestamp",
// "reference"?,"id","reverted":false},"accountMetadata"}.
func (p CreatedTransaction) appendMemento(b []byte) []byte {
	b = append(b, `{"transaction":`...)
	b = p.Transaction.appendHead(b)
	b = append(b, `,"reverted":false},"accountMetadata":`...)
	b = appendAccountMetadata(b, p.AccountMetadata)
	return append(b, '}')
}

// MarshalJSON renders the postings as a JSON array ([] when empty).
func (p Postings) MarshalJSON() ([]byte, error) {
	return appendPostings(make([]byte, 0, 128*len(p)+2), p), nil
}

// AppendJSON appends what MarshalJSON renders to b.
func (p Postings) AppendJSON(b []byte) []byte {
	return appendPostings(b, p)
}

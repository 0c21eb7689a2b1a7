package ledger

import (
	"bytes"
	"encoding/json"
	"math"
	"math/big"
	"testing"
	"time"
)

// stdTransaction mirrors the transaction JSON with plain types only, so
// that encoding/json's output is the reference the appenders must match.
type stdVolumes struct {
	Input   *big.Int `json:"input"`
	Output  *big.Int `json:"output"`
	Balance *big.Int `json:"balance"`
}

type stdPosting struct {
	Source      string   `json:"source"`
	Destination string   `json:"destination"`
	Amount      *big.Int `json:"amount"`
	Asset       string   `json:"asset"`
}

type stdTransaction struct {
	Postings                   []stdPosting                     `json:"postings"`
	Metadata                   map[string]string                `json:"metadata"`
	Timestamp                  string                           `json:"timestamp"`
	Reference                  string                           `json:"reference,omitempty"`
	ID                         uint64                           `json:"id"`
	InsertedAt                 string                           `json:"insertedAt"`
	UpdatedAt                  string                           `json:"updatedAt"`
	RevertedAt                 string                           `json:"revertedAt,omitempty"`
	PostCommitVolumes          map[string]map[string]stdVolumes `json:"postCommitVolumes,omitempty"`
	PostCommitEffectiveVolumes map[string]map[string]stdVolumes `json:"postCommitEffectiveVolumes,omitempty"`
	Reverted                   bool                             `json:"reverted"`
	PreCommitVolumes           map[string]map[string]stdVolumes `json:"preCommitVolumes,omitempty"`
	PreCommitEffectiveVolumes  map[string]map[string]stdVolumes `json:"preCommitEffectiveVolumes,omitempty"`
}

func stdVolumesMap(p PostCommitVolumes) map[string]map[string]stdVolumes {
	if len(p) == 0 {
		return nil
	}
	out := map[string]map[string]stdVolumes{}
	for account, byAsset := range p {
		out[account] = map[string]stdVolumes{}
		for asset, v := range byAsset {
			out[account][asset] = stdVolumes{v.Input, v.Output, v.Balance()}
		}
	}
	return out
}

// subtractPostings is the plain definition of the pre-commit volumes: p
// less the amounts of postings.
func subtractPostings(p PostCommitVolumes, postings Postings) PostCommitVolumes {
	if len(p) == 0 {
		return nil
	}
	out := p.Copy()
	for _, posting := range postings {
		minus := new(big.Int).Neg(posting.Amount)
		out.AddOutput(posting.Source, posting.Asset, minus)
		out.AddInput(posting.Destination, posting.Asset, minus)
	}
	return out
}

func TestTransactionJSONMatchesEncodingJSON(t *testing.T) {
	huge, _ := new(big.Int).SetString("123456789012345678901234567890", 10)
	at := NewTime(time.Date(2024, 1, 2, 3, 4, 5, 120000000, time.UTC))
	strange := []string{"plain", "a<b&c>\"q\"", "½ é", "tab\there", "line\u2028sep", "bad\xffutf8", "back\\slash", "ctl\x01"}
	for _, s := range strange {
		postings := Postings{NewPosting("world", "users:1", "USD/2", huge), NewPosting("users:1", "bank", "EUR", big.NewInt(7))}
		tx := Transaction{ID: 42, Postings: postings, Metadata: Metadata{s: s, "z": "last"}, Timestamp: at,
			InsertedAt: at, UpdatedAt: at, Reference: s}
		tx.PostCommitVolumes = ComputePostCommitVolumes(postings, func(string, string) Volumes {
			return Volumes{Input: big.NewInt(3), Output: big.NewInt(1)}
		})
		tx.PostCommitEffectiveVolumes = tx.PostCommitVolumes.Copy()
		reverted := tx.WithRevertedAt(at)
		for _, tx := range []Transaction{tx, reverted, {Timestamp: at}} {
			want := stdTransaction{Metadata: map[string]string(tx.Metadata), Timestamp: tx.Timestamp.String(),
				Reference: tx.Reference, ID: tx.ID, InsertedAt: tx.InsertedAt.String(), UpdatedAt: tx.UpdatedAt.String(),
				PostCommitVolumes: stdVolumesMap(tx.PostCommitVolumes), PostCommitEffectiveVolumes: stdVolumesMap(tx.PostCommitEffectiveVolumes),
				Reverted: tx.Reverted(), PreCommitVolumes: stdVolumesMap(subtractPostings(tx.PostCommitVolumes, tx.Postings)),
				PreCommitEffectiveVolumes: stdVolumesMap(subtractPostings(tx.PostCommitEffectiveVolumes, tx.Postings)), Postings: []stdPosting{}}
			if want.Metadata == nil {
				want.Metadata = map[string]string{}
			}
			if tx.RevertedAt != nil {
				want.RevertedAt = tx.RevertedAt.String()
			}
			for _, p := range tx.Postings {
				want.Postings = append(want.Postings, stdPosting(p))
			}
			wantJSON, _ := json.Marshal(want)
			got, err := json.Marshal(tx)
			if err != nil || !bytes.Equal(got, wantJSON) {
				t.Fatalf("%q:\n got %s\nwant %s", s, got, wantJSON)
			}
		}
	}
}

func TestCreatedTransactionJSONMatchesEncodingJSON(t *testing.T) {
	at := NewTime(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC))
	tx := Transaction{ID: 1, Postings: Postings{NewPosting("world", "a", "USD", big.NewInt(5))}, Timestamp: at, InsertedAt: at, UpdatedAt: at}
	for _, md := range []AccountMetadata{nil, {}, {"b": {"k": "v<&>"}, "a": {"x": "½"}}} {
		p := CreatedTransaction{Transaction: tx, AccountMetadata: md}
		got, _ := p.MarshalJSON()
		txJSON, _ := tx.MarshalJSON()
		plain := map[string]map[string]string{}
		for k, v := range md {
			plain[k] = v
		}
		mdJSON, _ := json.Marshal(plain)
		want := `{"transaction":` + string(txJSON) + `,"accountMetadata":` + string(mdJSON) + `}`
		if string(got) != want {
			t.Fatalf("got  %s\nwant %s", got, want)
		}
	}
}

func TestCreatedTransactionMementoMatchesEncodingJSON(t *testing.T) {
	at := NewTime(time.Date(2024, 1, 2, 3, 4, 5, 120000000, time.UTC))
	huge, _ := new(big.Int).SetString("123456789012345678901234567890", 10)
	for _, ref := range []string{"", "ref<&>\u2028"} {
		for _, md := range []AccountMetadata{nil, {"users:1": {"k": "v", "é": "½<b>"}}} {
			p := CreatedTransaction{Transaction: Transaction{ID: 9, Reference: ref, Timestamp: at,
				Postings: Postings{NewPosting("world", "users:1", "USD/2", huge)}, Metadata: Metadata{"z": "a\\"}},
				AccountMetadata: md}
			want, _ := json.Marshal(p.memento())
			if got := p.appendMemento(nil); !bytes.Equal(got, want) {
				t.Fatalf("got  %s\nwant %s", got, want)
			}
		}
	}
}

// TestStoredJSONDecodesToTheSamePayload: the stored form of a
// NEW_TRANSACTION log leaves the pre-commit volumes out, writes effective
// volumes equal to the post-commit ones as "postCommitVolumes", and
// decoding it renders the full JSON again.
func TestStoredJSONDecodesToTheSamePayload(t *testing.T) {
	at := NewTime(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC))
	postings := Postings{NewPosting("world", "users:1", "USD/2", big.NewInt(5)), NewPosting("users:1", "bank", "USD/2", big.NewInt(2))}
	volumes := func(in, out int64) PostCommitVolumes {
		return ComputePostCommitVolumes(postings, func(string, string) Volumes {
			return Volumes{Input: big.NewInt(in), Output: big.NewInt(out)}
		})
	}
	for _, c := range []struct {
		name string
		pcev PostCommitVolumes
		same bool // pcev stored as the marker
	}{
		{name: "effective volumes equal", pcev: volumes(10, 4), same: true},
		{name: "effective volumes differ (back-dated)", pcev: volumes(7, 4)},
		{name: "no effective volumes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tx := Transaction{ID: 3, Postings: postings, Metadata: Metadata{"k": "v"}, Timestamp: at, InsertedAt: at, UpdatedAt: at,
				PostCommitVolumes: volumes(10, 4), PostCommitEffectiveVolumes: c.pcev}
			p := CreatedTransaction{Transaction: tx, AccountMetadata: AccountMetadata{"bank": {"a": "b"}}}
			stored, txJSON := p.AppendStoredJSON(nil)
			full, _ := p.MarshalJSON()
			want, _ := tx.MarshalJSON()
			if !bytes.Equal(txJSON, want) {
				t.Fatalf("transaction JSON\n got %s\nwant %s", txJSON, want)
			}
			if bytes.Contains(stored, []byte("preCommit")) {
				t.Fatalf("stored form keeps the pre-commit volumes: %s", stored)
			}
			if marked := bytes.Contains(stored, []byte(`"postCommitEffectiveVolumes":"postCommitVolumes"`)); marked != c.same {
				t.Fatalf("effective volumes stored as the marker: %v, want %v: %s", marked, c.same, stored)
			}
			decoded, err := DecodePayload(LogTypeNewTransaction, stored)
			if err != nil {
				t.Fatal(err)
			}
			again, _ := json.Marshal(decoded)
			if !bytes.Equal(again, full) {
				t.Fatalf("decoded stored form renders\n%s\nwant\n%s", again, full)
			}
		})
	}
}

// TestPreCommitVolumesAtInt64Limits: the pre-commit volumes, computed in
// int64 when they fit, match the plain definition when an amount, a
// difference or a balance leaves the int64 range.
func TestPreCommitVolumesAtInt64Limits(t *testing.T) {
	limit := func(n int64, plus int64) *big.Int { return new(big.Int).Add(big.NewInt(n), big.NewInt(plus)) }
	cases := []struct {
		in, out *big.Int
		amount  *big.Int
	}{
		{big.NewInt(10), big.NewInt(3), big.NewInt(2)},
		{limit(math.MinInt64, 1), big.NewInt(0), big.NewInt(5)},    // input − amount overflows
		{big.NewInt(0), limit(math.MinInt64, 1), big.NewInt(5)},    // output − amount overflows
		{big.NewInt(math.MaxInt64), big.NewInt(-1), big.NewInt(0)}, // the balance overflows
		{big.NewInt(math.MaxInt64), big.NewInt(math.MinInt64), big.NewInt(1)},
		{limit(math.MaxInt64, 1), big.NewInt(0), big.NewInt(1)}, // beyond int64
		{big.NewInt(7), big.NewInt(7), limit(math.MaxInt64, 9)}, // the amount beyond int64
	}
	for _, c := range cases {
		postings := Postings{NewPosting("a", "b", "USD", c.amount), NewPosting("a", "a", "USD", c.amount), NewPosting("b", "a", "EUR", c.amount)}
		post := PostCommitVolumes{}
		for _, account := range []string{"a", "b"} {
			for _, asset := range []string{"USD", "EUR"} {
				post.set(account, asset, Volumes{Input: c.in, Output: c.out})
			}
		}
		want, _ := json.Marshal(stdVolumesMap(subtractPostings(post, postings)))
		if got := appendPreCommitVolumes(nil, post, postings); !bytes.Equal(got, want) {
			t.Errorf("in %s out %s amount %s:\n got %s\nwant %s", c.in, c.out, c.amount, got, want)
		}
	}
}

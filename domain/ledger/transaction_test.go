package ledger

import (
	"encoding/json"
	"math/big"
	"testing"
)

// Bodies from spec/anchor-examples.md ("data" of the responses).
const (
	// Create tx, two postings, explicit timestamp.
	anchorTwoPostings = `{"postings":[{"source":"world","destination":"bank","amount":1000,"asset":"EUR/2"},{"source":"bank","destination":"users:002","amount":250,"asset":"EUR/2"}],"metadata":{},"timestamp":"2024-01-01T00:00:00Z","id":3,"insertedAt":"2026-11-21T13:20:49.448634Z","updatedAt":"2026-11-21T13:20:49.448634Z","postCommitVolumes":{"bank":{"EUR/2":{"input":1000,"output":250,"balance":750}},"users:002":{"EUR/2":{"input":250,"output":0,"balance":250}},"world":{"EUR/2":{"input":0,"output":1000,"balance":-1000}}},"postCommitEffectiveVolumes":{"bank":{"EUR/2":{"input":1000,"output":250,"balance":750}},"users:002":{"EUR/2":{"input":250,"output":0,"balance":250}},"world":{"EUR/2":{"input":0,"output":1000,"balance":-1000}}},"reverted":false,"preCommitVolumes":{"bank":{"EUR/2":{"input":0,"output":0,"balance":0}},"users:002":{"EUR/2":{"input":0,"output":0,"balance":0}},"world":{"EUR/2":{"input":0,"output":0,"balance":0}}},"preCommitEffectiveVolumes":{"bank":{"EUR/2":{"input":0,"output":0,"balance":0}},"users:002":{"EUR/2":{"input":0,"output":0,"balance":0}},"world":{"EUR/2":{"input":0,"output":0,"balance":0}}}}`
	// Read tx 1 (no expand).
	anchorNoVolumes = `{"postings":[{"source":"world","destination":"users:001","amount":100,"asset":"USD/2"}],"metadata":{"order":"o-1"},"timestamp":"2026-11-21T13:20:49.397432Z","reference":"ref-1","id":1,"insertedAt":"2026-11-21T13:20:49.397432Z","updatedAt":"2026-11-21T13:20:49.397432Z","reverted":false}`
)

func TestTransactionJSONMatchesAnchor(t *testing.T) {
	inserted := mustTime(t, "2026-11-21T13:20:49.448634Z")
	postings := Postings{
		NewPosting("world", "bank", "EUR/2", big.NewInt(1000)),
		NewPosting("bank", "users:002", "EUR/2", big.NewInt(250)),
	}
	pcv := ComputePostCommitVolumes(postings, PostCommitVolumes{}.Get)
	tx := Transaction{
		ID:                         3,
		Postings:                   postings,
		Timestamp:                  mustTime(t, "2024-01-01T00:00:00Z"),
		InsertedAt:                 inserted,
		UpdatedAt:                  inserted,
		PostCommitVolumes:          pcv,
		PostCommitEffectiveVolumes: pcv,
	}
	got, err := json.Marshal(tx)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != anchorTwoPostings {
		t.Fatalf("\n got %s\nwant %s", got, anchorTwoPostings)
	}

	ts := mustTime(t, "2026-11-21T13:20:49.397432Z")
	tx = Transaction{
		ID:         1,
		Postings:   Postings{NewPosting("world", "users:001", "USD/2", big.NewInt(100))},
		Metadata:   Metadata{"order": "o-1"},
		Timestamp:  ts,
		Reference:  "ref-1",
		InsertedAt: ts,
		UpdatedAt:  ts,
	}
	if got, _ := json.Marshal(tx); string(got) != anchorNoVolumes {
		t.Fatalf("\n got %s\nwant %s", got, anchorNoVolumes)
	}
}

func TestTransactionJSONRoundTrip(t *testing.T) {
	for _, doc := range []string{anchorTwoPostings, anchorNoVolumes} {
		var tx Transaction
		if err := json.Unmarshal([]byte(doc), &tx); err != nil {
			t.Fatal(err)
		}
		got, _ := json.Marshal(tx)
		if string(got) != doc {
			t.Fatalf("\n got %s\nwant %s", got, doc)
		}
	}
}

func TestTransactionJSONOptionalKeys(t *testing.T) {
	at := mustTime(t, "2024-01-02T00:00:00Z")
	tx := Transaction{
		ID:       2,
		Postings: Postings{NewPosting("a", "b", "USD", big.NewInt(5))},
		// Only post-commit volumes: no effective ones, pre computed.
		PostCommitVolumes: PostCommitVolumes{
			"a": {"USD": {Input: big.NewInt(10), Output: big.NewInt(5)}},
			"b": {"USD": {Input: big.NewInt(5), Output: big.NewInt(0)}},
		},
		Template: "DEPOSIT",
	}.WithRevertedAt(at)
	want := `{"postings":[{"source":"a","destination":"b","amount":5,"asset":"USD"}],"metadata":{},"timestamp":"0001-01-01T00:00:00Z","id":2,"insertedAt":"0001-01-01T00:00:00Z","updatedAt":"2024-01-02T00:00:00Z","revertedAt":"2024-01-02T00:00:00Z","postCommitVolumes":{"a":{"USD":{"input":10,"output":5,"balance":5}},"b":{"USD":{"input":5,"output":0,"balance":5}}},"template":"DEPOSIT","reverted":true,"preCommitVolumes":{"a":{"USD":{"input":10,"output":0,"balance":10}},"b":{"USD":{"input":0,"output":0,"balance":0}}}}`
	got, err := json.Marshal(tx)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("\n got %s\nwant %s", got, want)
	}
	var back Transaction
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	if !back.Reverted() || back.Template != "DEPOSIT" || back.RevertedAt.String() != "2024-01-02T00:00:00Z" {
		t.Fatalf("back = %+v", back)
	}
	if again, _ := json.Marshal(back); string(again) != want {
		t.Fatalf("round trip\n got %s\nwant %s", again, want)
	}
}

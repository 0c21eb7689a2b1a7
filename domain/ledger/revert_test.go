package ledger

import (
	"encoding/json"
	"testing"

	"github.com/kontorhq/kontor/domain"
)

// TestRevertRebuildsReferenceLogs rebuilds the REVERTED_TRANSACTION logs of
// the reference export (a plain revert with metadata, and one at the
// effective date) from the original transactions.
func TestRevertRebuildsReferenceLogs(t *testing.T) {
	var logs []Log
	for _, line := range readLines(t, "reference-export-v2.jsonl") {
		var log Log
		if err := json.Unmarshal(line, &log); err != nil {
			t.Fatal(err)
		}
		logs = append(logs, log)
	}
	for _, tc := range []struct {
		logIndex        int
		atEffectiveDate bool
		metadata        Metadata
	}{
		{logIndex: 7, metadata: Metadata{"why": "test"}},
		{logIndex: 8, atEffectiveDate: true},
	} {
		want := logs[tc.logIndex].Data.(RevertedTransaction)
		original := want.RevertedTransaction
		original.RevertedAt = nil
		original.UpdatedAt = original.InsertedAt
		at := *want.RevertedTransaction.RevertedAt

		got, err := original.Revert(at, tc.atEffectiveDate, tc.metadata)
		if err != nil {
			t.Fatal(err)
		}
		// The sequencer's part: id and volumes.
		got.RevertTransaction.ID = want.RevertTransaction.ID
		got.RevertTransaction.PostCommitVolumes = want.RevertTransaction.PostCommitVolumes
		got.RevertTransaction.PostCommitEffectiveVolumes = want.RevertTransaction.PostCommitEffectiveVolumes

		gotJSON, _ := json.Marshal(got)
		wantJSON, _ := json.Marshal(want)
		if string(gotJSON) != string(wantJSON) {
			t.Fatalf("log %d\n got %s\nwant %s", tc.logIndex+1, gotJSON, wantJSON)
		}
		gotMemento, _ := NewLog(got).Memento()
		wantMemento, _ := NewLog(want).Memento()
		if string(gotMemento) != string(wantMemento) {
			t.Fatalf("memento\n got %s\nwant %s", gotMemento, wantMemento)
		}
	}
}

func TestRevertRules(t *testing.T) {
	at := mustTime(t, "2026-11-21T13:20:50.003109Z")
	tx := Transaction{ID: 4, Postings: Postings{NewPosting("world", "users:003", "USD/2", bigInt(t, "7"))},
		Metadata: Metadata{"original": "kept on the original only"}, Timestamp: mustTime(t, "2026-11-21T13:20:49.479633Z")}

	got, err := tx.Revert(at, false, Metadata{MetadataKeyReverts: "forged", "k": "v"})
	if err != nil {
		t.Fatal(err)
	}
	reverse := got.RevertTransaction
	want := `{"postings":[{"source":"users:003","destination":"world","amount":7,"asset":"USD/2"}],"metadata":{"com.formance.spec/state/reverts":"4","k":"v"},"timestamp":"2026-11-21T13:20:50.003109Z","id":0,"insertedAt":"2026-11-21T13:20:50.003109Z","updatedAt":"2026-11-21T13:20:50.003109Z","reverted":false}`
	if b, _ := json.Marshal(reverse); string(b) != want {
		t.Fatalf("reverse\n got %s\nwant %s", b, want)
	}
	if !got.RevertedTransaction.Reverted() || got.RevertedTransaction.UpdatedAt != at {
		t.Fatalf("original = %+v", got.RevertedTransaction)
	}
	if tx.Reverted() {
		t.Fatal("Revert modified its receiver")
	}

	_, err = got.RevertedTransaction.Revert(at, false, nil)
	if domain.ErrorCode(err) != domain.CodeAlreadyRevert || domain.ErrorMessage(err) != "already reverted, id: 4" {
		t.Fatalf("err = %v, want ALREADY_REVERT", err)
	}
}

package ledger

import (
	"encoding/json"
	"testing"

	"github.com/kontorhq/kontor/domain"
)

func TestFeatures(t *testing.T) {
	if got := DefaultFeatures().String(); got != "AMH=SYNC,HL=SYNC,MH=ON,MHPCEV=SYNC,TMH=SYNC" {
		t.Fatalf("defaults = %s", got)
	}
	if got := MinimalFeatures().String(); got != "AMH=DISABLED,HL=DISABLED,MH=OFF,MHPCEV=DISABLED,TMH=DISABLED" {
		t.Fatalf("minimal = %s", got)
	}
	if got := (Features{FeatureHashLogs: "ASYNC"}).WithDefaults().String(); got != "AMH=SYNC,HL=ASYNC,MH=ON,MHPCEV=SYNC,TMH=SYNC" {
		t.Fatalf("with defaults = %s", got)
	}
	for _, tc := range []struct {
		features Features
		message  string
	}{
		{DefaultFeatures(), ""},
		{MinimalFeatures(), ""},
		{nil, ""},
		{Features{"FOO": "ON", "BAR": "ON"}, "unknown feature 'BAR'"},
		{Features{FeatureHashLogs: "ON"}, "invalid value 'ON' for feature 'HASH_LOGS': expected one of SYNC, ASYNC, DISABLED"},
		{Features{FeatureMovesHistory: "on"}, "invalid value 'on' for feature 'MOVES_HISTORY': expected one of ON, OFF"},
	} {
		err := tc.features.Validate()
		if tc.message == "" {
			if err != nil {
				t.Errorf("%v: %v", tc.features, err)
			}
			continue
		}
		if domain.ErrorCode(err) != domain.CodeValidation || domain.ErrorMessage(err) != tc.message {
			t.Errorf("%v: err = %v, want %q", tc.features, err, tc.message)
		}
	}
}

func TestNewLedger(t *testing.T) {
	l, err := NewLedger("demo", LedgerConfiguration{})
	if err != nil {
		t.Fatal(err)
	}
	if l.Bucket != DefaultBucket || l.State != LedgerStateInitializing || l.Features.String() != DefaultFeatures().String() || l.Metadata == nil {
		t.Fatalf("ledger = %+v", l)
	}

	// The anchor's "Create ledger with body", then "Read ledger"/"List ledgers".
	l, err = NewLedger("demo-minimal", LedgerConfiguration{Bucket: "bench", Metadata: Metadata{"owner": "research"}, Features: MinimalFeatures()})
	if err != nil {
		t.Fatal(err)
	}
	l.ID = 3
	l.AddedAt = mustTime(t, "2026-11-21T13:20:49.179593Z")
	l.State = LedgerStateInUse
	want := `{"bucket":"bench","metadata":{"owner":"research"},"features":{"ACCOUNT_METADATA_HISTORY":"DISABLED","HASH_LOGS":"DISABLED","MOVES_HISTORY":"OFF","MOVES_HISTORY_POST_COMMIT_EFFECTIVE_VOLUMES":"DISABLED","TRANSACTION_METADATA_HISTORY":"DISABLED"},"id":3,"name":"demo-minimal","addedAt":"2026-11-21T13:20:49.179593Z"}`
	if got, _ := json.Marshal(l); string(got) != want {
		t.Fatalf("\n got %s\nwant %s", got, want)
	}
	deleted := mustTime(t, "2026-11-22T00:00:00Z")
	l.DeletedAt = &deleted
	if got, _ := json.Marshal(l); string(got) != want[:len(want)-1]+`,"deletedAt":"2026-11-22T00:00:00Z"}` {
		t.Fatalf("with deletedAt: %s", got)
	}

	for _, tc := range []struct {
		name    string
		cfg     LedgerConfiguration
		message string
	}{
		// The anchor's "Create ledger with invalid name".
		{"bad name", LedgerConfiguration{}, "invalid ledger configuration: invalid ledger name 'bad name': name must match format '^[0-9a-zA-Z_-]{1,63}$'"},
		{"ok", LedgerConfiguration{Bucket: "b!"}, "invalid ledger configuration: invalid bucket name 'b!': name must match format '^[0-9a-zA-Z_-]{1,63}$'"},
		{"ok", LedgerConfiguration{Features: Features{"X": "Y"}}, "invalid ledger configuration: unknown feature 'X'"},
	} {
		_, err := NewLedger(tc.name, tc.cfg)
		if domain.ErrorCode(err) != domain.CodeValidation || domain.ErrorMessage(err) != tc.message {
			t.Errorf("err = %v, want %q", err, tc.message)
		}
	}
}

func TestMetadataJSON(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want string
	}{
		{Metadata(nil), `{}`},
		{Metadata{"b": "1", "a": "<é>"}, `{"a":"\u003cé\u003e","b":"1"}`},
		{AccountMetadata(nil), `{}`},
		{AccountMetadata{"users:001": nil}, `{"users:001":{}}`},
	} {
		if got, _ := json.Marshal(tc.v); string(got) != tc.want {
			t.Errorf("got %s, want %s", got, tc.want)
		}
	}
	m := Metadata{"a": "1"}
	merged := m.Merge(Metadata{"a": "2", "b": "3"})
	if m["a"] != "1" || merged["a"] != "2" || merged["b"] != "3" {
		t.Fatalf("merge: %v %v", m, merged)
	}
}

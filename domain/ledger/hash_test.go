package ledger

import (
	"encoding/base64"
	"errors"
	"math/big"
	"testing"

	"github.com/kontorhq/kontor/domain"
)

// Appendix A of spec/ledger.md: vectors computed by the reference's live
// Postgres trigger.
const (
	appendixLog1Memento = `{"transaction":{"postings":[{"source":"world","destination":"users:001","amount":123456789012345678901234567890,"asset":"USD/2"}],"metadata":{"a":"½ é","z":"a\u003cb\u0026c\u003e\"q\""},"timestamp":"2024-01-02T03:04:05.12Z","reference":"ref-1","id":1,"reverted":false},"accountMetadata":{"users:001":{"k":"v"}}}`
	appendixLog1Hash    = "7sofTn7iD0iRdEeW/+nX0Xyr324yGTSD1qNSD73qgoA="
	// The appendix hashes log 2 with a synthetic key order.
	appendixLog2Memento = `{"metadata":{"x":"y"},"targetId":"users:001","targetType":"ACCOUNT"}`
	appendixLog2Hash    = "0zOUszsX1lhD1spAZiqmBFgR8rU0g/S7qcEmghL8jcg="
	appendixLog3Hash    = "9qqDCODvll8mKuIDdDWOYDFBgTPiuip3TV+vEE7ZvVI="
)

func mustTime(t *testing.T, s string) Time {
	t.Helper()
	tm, err := ParseTime(s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func mustBase64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func bigInt(t *testing.T, s string) *big.Int {
	t.Helper()
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		t.Fatalf("bad int %q", s)
	}
	return n
}

// appendixLog1 is log 1 of Appendix A as a Log.
func appendixLog1(t *testing.T) Log {
	return Log{
		ID: 1,
		Data: CreatedTransaction{
			Transaction: Transaction{
				ID:        1,
				Postings:  Postings{NewPosting("world", "users:001", "USD/2", bigInt(t, "123456789012345678901234567890"))},
				Metadata:  Metadata{"a": "½ é", "z": `a<b&c>"q"`},
				Timestamp: mustTime(t, "2024-01-02T03:04:05.12Z"),
				Reference: "ref-1",
				// Not covered by the memento:
				InsertedAt:        mustTime(t, "2024-01-02T03:04:06.123456Z"),
				UpdatedAt:         mustTime(t, "2024-01-02T03:04:06.123456Z"),
				PostCommitVolumes: PostCommitVolumes{"users:001": {"USD/2": {Input: big.NewInt(1), Output: big.NewInt(0)}}},
			},
			AccountMetadata: AccountMetadata{"users:001": {"k": "v"}},
		},
		Date:            mustTime(t, "2024-01-02T03:04:06.123456Z"),
		IdempotencyKey:  "ik-1",
		IdempotencyHash: "not hashed",
		SchemaVersion:   "not hashed either",
	}
}

func TestAppendixAVectors(t *testing.T) {
	date2 := mustTime(t, "2024-01-02T03:04:07Z")
	log1 := HashMemento(nil, LogTypeNewTransaction, []byte(appendixLog1Memento), mustTime(t, "2024-01-02T03:04:06.123456Z"), "ik-1")
	log2 := HashMemento(log1, LogTypeSetMetadata, []byte(appendixLog2Memento), date2, "")
	log3 := HashMemento(log2, LogTypeSetMetadata, []byte(appendixLog2Memento), date2, "")

	for _, tc := range []struct {
		name string
		got  []byte
		want string
	}{
		{"log 1", log1, appendixLog1Hash},
		{"log 2 chained on log 1", log2, appendixLog2Hash},
		{"log 3 (schemaVersion not hashed)", log3, appendixLog3Hash},
		{"IK a<b, unescaped", HashMemento(nil, LogTypeSetMetadata, []byte(`{"x":"y"}`), date2, "a<b"), "KJ2Ug1/idM6zHC/4G+r6QthfWo4OzLdhLEQQv0fUn68="},
		{"IK plain-ik", HashMemento(nil, LogTypeSetMetadata, []byte(`{"x":"y"}`), date2, "plain-ik"), "4M4BHGO+u1bXdweMnxH/fRQbBzgptipb7RCiUZFvBkA="},
		// The appendix's Go-escaped variant, which the trigger never gives
		// a<b: only the literal text a\u003cb hashes so.
		{"IK a\\u003cb is another key", HashMemento(nil, LogTypeSetMetadata, []byte(`{"x":"y"}`), date2, `a\u003cb`), "4PgVSncYo55txeH8doj23WIivf/ioJ722xNC5xG5Pg8="},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := b64(tc.got); got != tc.want {
				t.Fatalf("hash = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestAppendixALog1FromPayload(t *testing.T) {
	log := appendixLog1(t)
	memento, err := log.Memento()
	if err != nil {
		t.Fatal(err)
	}
	if string(memento) != appendixLog1Memento {
		t.Fatalf("memento\n got %s\nwant %s", memento, appendixLog1Memento)
	}
	hash, err := log.ComputeHash(nil)
	if err != nil {
		t.Fatal(err)
	}
	if b64(hash) != appendixLog1Hash {
		t.Fatalf("hash = %s, want %s", b64(hash), appendixLog1Hash)
	}
}

func TestAppendixALog2FromPayload(t *testing.T) {
	log := Log{
		Data:          SavedMetadata{Target: AccountTarget("users:001"), Metadata: Metadata{"x": "y"}},
		Date:          mustTime(t, "2024-01-02T03:04:07Z"),
		SchemaVersion: "v1.0.0",
	}
	memento, err := log.Memento()
	if err != nil {
		t.Fatal(err)
	}
	// The reference's real key order (struct order), not the appendix's.
	const want = `{"targetType":"ACCOUNT","targetId":"users:001","metadata":{"x":"y"}}`
	if string(memento) != want {
		t.Fatalf("memento = %s, want %s", memento, want)
	}
	hash, err := log.ComputeHash(mustBase64(t, appendixLog1Hash))
	if err != nil {
		t.Fatal(err)
	}
	if want := HashMemento(mustBase64(t, appendixLog1Hash), LogTypeSetMetadata, []byte(want), log.Date, ""); b64(hash) != b64(want) {
		t.Fatalf("ComputeHash = %s, HashMemento = %s", b64(hash), b64(want))
	}
}

func TestHashIdempotencyKeyGoesThroughByteaCast(t *testing.T) {
	date := mustTime(t, "2024-01-02T03:04:07Z")
	hash := func(ik string) string {
		return b64(HashMemento(nil, LogTypeSetMetadata, []byte(`{"x":"y"}`), date, ik))
	}
	for _, tc := range []struct{ ik, same string }{
		{`a\\b`, `a\b`},   // an escaped backslash is one backslash
		{`a\101b`, `aAb`}, // an octal escape is a byte
		{`\303\251`, `é`}, // bytes make UTF-8 back
		{`a\9b`, `a\9b`},  // refused by Postgres; kept as is
		{`"q"`, `"q"`},    // quotes are pasted unescaped
		{`é€`, "\u00e9€"}, // UTF-8 passes through
	} {
		if hash(tc.ik) != hash(tc.same) {
			t.Errorf("IK %q should hash like %q", tc.ik, tc.same)
		}
	}
	if hash(`a\\b`) == hash(`a\\\\b`) {
		t.Error(`IK a\\b and a\\\\b must differ`)
	}
}

func TestHashDateFormat(t *testing.T) {
	// The trigger prints timestamps without trailing zeros, like Time.
	memento := []byte(`{}`)
	a := HashMemento(nil, LogTypeSetMetadata, memento, mustTime(t, "2024-01-02T03:04:07.100Z"), "")
	b := HashMemento(nil, LogTypeSetMetadata, memento, mustTime(t, "2024-01-02T04:04:07.1+01:00"), "")
	if b64(a) != b64(b) {
		t.Fatal("equal instants must hash alike")
	}
	zero := HashMemento(nil, LogTypeSetMetadata, memento, Time{}, "")
	want := HashMemento(nil, LogTypeSetMetadata, memento, mustTime(t, "0001-01-01T00:00:00Z"), "")
	if b64(zero) != b64(want) {
		t.Fatal("zero date must hash as 0001-01-01T00:00:00Z")
	}
}

func TestChainAppendAndVerify(t *testing.T) {
	log1 := appendixLog1(t)
	log2 := Log{ID: 2, Data: SavedMetadata{Target: AccountTarget("users:001"), Metadata: Metadata{"x": "y"}}, Date: mustTime(t, "2024-01-02T03:04:07Z")}

	var chain Chain
	if err := chain.Append(&log1); err != nil {
		t.Fatal(err)
	}
	if b64(log1.Hash) != appendixLog1Hash {
		t.Fatalf("log 1 hash = %s", b64(log1.Hash))
	}
	if err := chain.Append(&log2); err != nil {
		t.Fatal(err)
	}
	if b64(chain.Last()) != b64(log2.Hash) {
		t.Fatal("Last must be the hash of the last appended log")
	}

	verify := NewChain(nil)
	for _, l := range []Log{log1, log2} {
		if err := verify.Verify(l); err != nil {
			t.Fatal(err)
		}
	}

	// Tampering with log 1's data breaks log 1 only: the chain goes on from
	// the stored hash.
	tampered := log1
	tx := tampered.Data.(CreatedTransaction)
	tx.Transaction.Metadata = Metadata{"a": "changed"}
	tampered.Data = tx
	verify = NewChain(nil)
	err := verify.Verify(tampered)
	var derr *domain.Error
	if !errors.As(err, &derr) || derr.Code != domain.CodeImport {
		t.Fatalf("err = %v, want an IMPORT error", err)
	}
	brk := derr.Details.(ChainBreak)
	if brk.LogID != 1 || b64(brk.Got) != appendixLog1Hash || b64(brk.Expected) == appendixLog1Hash {
		t.Fatalf("break = %+v", brk)
	}
	wantMsg := "invalid hash, expected " + b64(brk.Expected) + " got " + appendixLog1Hash + " for log 1"
	if derr.Message != wantMsg {
		t.Fatalf("message = %q, want %q", derr.Message, wantMsg)
	}
	if err := verify.Verify(log2); err != nil {
		t.Fatalf("log 2 after a broken log 1: %v", err)
	}
}

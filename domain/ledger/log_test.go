package ledger

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/kontorhq/kontor/domain"
)

// readLines returns the lines of a testdata file. reference-export-v2.jsonl
// is ../shared/fixtures' export of the reference ledger (every log type,
// hashes SYNC); anchor-export-demo.jsonl is the export of
// spec/anchor-examples.md, whose log ids skip 7.
func readLines(t *testing.T, name string) [][]byte {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, bytes.Clone(sc.Bytes()))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(lines) == 0 {
		t.Fatalf("%s is empty", name)
	}
	return lines
}

var referenceExports = []string{"reference-export-v2.jsonl", "anchor-export-demo.jsonl"}

func TestReferenceExportRoundTripsByteForByte(t *testing.T) {
	for _, name := range referenceExports {
		for _, line := range readLines(t, name) {
			var log Log
			if err := json.Unmarshal(line, &log); err != nil {
				t.Fatalf("%s: %v\n%s", name, err, line)
			}
			got, err := json.Marshal(log)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, line) {
				t.Fatalf("%s log %d\n got %s\nwant %s", name, log.ID, got, line)
			}
		}
	}
}

func TestReferenceExportHashChainVerifies(t *testing.T) {
	for _, name := range referenceExports {
		chain := NewChain(nil)
		types := map[LogType]bool{}
		for _, line := range readLines(t, name) {
			var log Log
			if err := json.Unmarshal(line, &log); err != nil {
				t.Fatal(err)
			}
			types[log.Type()] = true
			previous := chain.Last()
			if err := chain.Verify(log); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			recomputed := log
			recomputed.Hash = nil
			if err := NewChain(previous).Append(&recomputed); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(recomputed.Hash, log.Hash) {
				t.Fatalf("%s log %d: Append gives %s, stored %s", name, log.ID, b64(recomputed.Hash), b64(log.Hash))
			}
		}
		t.Logf("%s: verified log types %v", name, types)
	}
}

func TestLogPayloadsDecodeToTheirTypes(t *testing.T) {
	lines := readLines(t, "reference-export-v2.jsonl")
	decode := func(i int) Log {
		var log Log
		if err := json.Unmarshal(lines[i], &log); err != nil {
			t.Fatal(err)
		}
		return log
	}
	if tx := decode(1).Data.(CreatedTransaction).Transaction; tx.ID != 2 || tx.Postings[0].Amount.String() != "123456789012345678901234567890" {
		t.Fatalf("log 2 transaction = %+v", tx)
	}
	if md := decode(2).Data.(CreatedTransaction).AccountMetadata; md["users:001"]["tier"] != "gold" {
		t.Fatalf("log 3 account metadata = %v", md)
	}
	if p := decode(3).Data.(SavedMetadata); p.Target != AccountTarget("users:001") || p.Metadata["email"] != "a@example.com" {
		t.Fatalf("log 4 = %+v", p)
	}
	if l := decode(4); l.IdempotencyKey != "ik-meta" || l.Data.(SavedMetadata).Target != TransactionTarget(1) {
		t.Fatalf("log 5 = %+v", l)
	}
	if p := decode(5).Data.(DeletedMetadata); p.Target != TransactionTarget(1) || p.Key != "z" {
		t.Fatalf("log 6 = %+v", p)
	}
	if p := decode(6).Data.(DeletedMetadata); p.Target != AccountTarget("users:001") || p.Key != "n" {
		t.Fatalf("log 7 = %+v", p)
	}
	p := decode(7).Data.(RevertedTransaction)
	if !p.RevertedTransaction.Reverted() || p.RevertedTransaction.ID != 2 || p.RevertTransaction.ID != 4 || p.RevertTransaction.Reverted() {
		t.Fatalf("log 8 = %+v", p)
	}
}

func TestLogJSONShape(t *testing.T) {
	date := mustTime(t, "2024-05-01T10:00:00.123456Z")
	for _, tc := range []struct {
		name string
		log  Log
		want string
	}{
		{
			name: "set metadata on a transaction, no hash, schema version",
			log: Log{ID: 3, Data: SavedMetadata{Target: TransactionTarget(7), Metadata: Metadata{"b": "2", "a": "<&>"}},
				Date: date, SchemaVersion: "v1"},
			want: `{"type":"SET_METADATA","data":{"targetType":"TRANSACTION","targetId":7,"metadata":{"a":"\u003c\u0026\u003e","b":"2"}},"date":"2024-05-01T10:00:00.123456Z","idempotencyKey":"","idempotencyHash":"","id":3,"hash":null,"schemaVersion":"v1"}`,
		},
		{
			name: "delete metadata on an account",
			log: Log{ID: 4, Data: DeletedMetadata{Target: AccountTarget("users:001"), Key: "k"}, Date: date,
				IdempotencyKey: "ik", IdempotencyHash: "h=", Hash: []byte{0xfb, 0xff}},
			want: `{"type":"DELETE_METADATA","data":{"targetType":"ACCOUNT","targetId":"users:001","key":"k"},"date":"2024-05-01T10:00:00.123456Z","idempotencyKey":"ik","idempotencyHash":"h=","id":4,"hash":"+/8="}`,
		},
		{
			name: "inserted schema",
			log:  Log{ID: 5, Data: InsertedSchema{Schema: json.RawMessage(`{"chart":{"world":{}},"version":"v1","createdAt":"2024-05-01T10:00:00Z"}`)}, Date: date},
			want: `{"type":"INSERTED_SCHEMA","data":{"schema":{"chart":{"world":{}},"version":"v1","createdAt":"2024-05-01T10:00:00Z"}},"date":"2024-05-01T10:00:00.123456Z","idempotencyKey":"","idempotencyHash":"","id":5,"hash":null}`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := json.Marshal(tc.log)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Fatalf("\n got %s\nwant %s", got, tc.want)
			}
			var back Log
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatal(err)
			}
			again, _ := json.Marshal(back)
			if string(again) != tc.want {
				t.Fatalf("round trip\n got %s\nwant %s", again, tc.want)
			}
		})
	}
}

func TestMementos(t *testing.T) {
	ts := mustTime(t, "2024-01-02T03:04:05Z")
	tx := Transaction{
		ID:        9,
		Postings:  Postings{NewPosting("users:003", "world", "USD/2", bigInt(t, "7"))},
		Metadata:  Metadata{MetadataKeyReverts: "4", "note": "ü & <b>\u2028"},
		Timestamp: ts, InsertedAt: ts, UpdatedAt: ts,
		PostCommitVolumes: PostCommitVolumes{"world": {"USD/2": {Input: bigInt(t, "7")}}},
	}
	for _, tc := range []struct {
		name    string
		payload LogPayload
		want    string
	}{
		{
			name:    "reverted transaction keeps only the reverted id and the new transaction",
			payload: RevertedTransaction{RevertedTransaction: Transaction{ID: 4, Metadata: Metadata{"x": "y"}}, RevertTransaction: tx},
			want:    `{"revertedTransactionID":4,"transaction":{"postings":[{"source":"users:003","destination":"world","amount":7,"asset":"USD/2"}],"metadata":{"com.formance.spec/state/reverts":"4","note":"ü \u0026 \u003cb\u003e\u2028"},"timestamp":"2024-01-02T03:04:05Z","id":9,"reverted":false}}`,
		},
		{
			name:    "created transaction without reference nor account metadata",
			payload: CreatedTransaction{Transaction: Transaction{ID: 1, Timestamp: ts, Postings: Postings{NewPosting("world", "a", "COIN", bigInt(t, "99999999999999999999999"))}}},
			want:    `{"transaction":{"postings":[{"source":"world","destination":"a","amount":99999999999999999999999,"asset":"COIN"}],"metadata":{},"timestamp":"2024-01-02T03:04:05Z","id":1,"reverted":false},"accountMetadata":{}}`,
		},
		{
			name:    "a reverted transaction's memento still says reverted false",
			payload: CreatedTransaction{Transaction: tx.WithRevertedAt(ts)},
			want:    `{"transaction":{"postings":[{"source":"users:003","destination":"world","amount":7,"asset":"USD/2"}],"metadata":{"com.formance.spec/state/reverts":"4","note":"ü \u0026 \u003cb\u003e\u2028"},"timestamp":"2024-01-02T03:04:05Z","id":9,"reverted":false},"accountMetadata":{}}`,
		},
		{
			name:    "saved metadata is its data",
			payload: SavedMetadata{Target: TransactionTarget(12), Metadata: Metadata{"é": "\"quoted\""}},
			want:    `{"targetType":"TRANSACTION","targetId":12,"metadata":{"é":"\"quoted\""}}`,
		},
		{
			name:    "deleted metadata is its data",
			payload: DeletedMetadata{Target: AccountTarget("a:b"), Key: "<k>"},
			want:    `{"targetType":"ACCOUNT","targetId":"a:b","key":"\u003ck\u003e"}`,
		},
		{
			name:    "inserted schema is its data, compacted and HTML-escaped",
			payload: InsertedSchema{Schema: json.RawMessage(`{ "chart": {"a<b": {}} }`)},
			want:    `{"schema":{"chart":{"a\u003cb":{}}}}`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NewLog(tc.payload).Memento()
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Fatalf("\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestLogDecodeErrors(t *testing.T) {
	for _, tc := range []struct{ name, doc string }{
		{"unknown type", `{"type":"DELETED_METADATA","data":{}}`},
		{"unknown target type", `{"type":"SET_METADATA","data":{"targetType":"LEDGER","targetId":"x","metadata":{}}}`},
		{"account id not a string", `{"type":"SET_METADATA","data":{"targetType":"ACCOUNT","targetId":1,"metadata":{}}}`},
		{"transaction id not a number", `{"type":"DELETE_METADATA","data":{"targetType":"TRANSACTION","targetId":"x","key":"k"}}`},
		{"negative transaction id", `{"type":"DELETE_METADATA","data":{"targetType":"TRANSACTION","targetId":-1,"key":"k"}}`},
		{"bad date", `{"type":"DELETE_METADATA","data":{"targetType":"TRANSACTION","targetId":1,"key":"k"},"date":"yesterday"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log Log
			err := json.Unmarshal([]byte(tc.doc), &log)
			if err == nil {
				t.Fatalf("decoded %+v", log)
			}
			if code := domain.ErrorCode(err); code != domain.CodeValidation {
				t.Fatalf("code = %s (%v)", code, err)
			}
		})
	}
	// A transaction id given as a string holding a number is accepted.
	var log Log
	if err := json.Unmarshal([]byte(`{"type":"SET_METADATA","data":{"targetType":"TRANSACTION","targetId":"42","metadata":{}}}`), &log); err != nil {
		t.Fatal(err)
	}
	if log.Data.(SavedMetadata).Target != TransactionTarget(42) {
		t.Fatalf("target = %+v", log.Data)
	}
	if _, err := json.Marshal(Log{}); err == nil {
		t.Fatal("a log without data must not marshal")
	}
}

package ledgerv2

import (
	"encoding/json"
	"testing"
)

var transactionBodies = []string{
	`{"postings":[{"source":"world","destination":"users:1","amount":100,"asset":"USD/2"}]}`,
	` { "postings" : [ { "amount" : -0 , "asset":"EUR", "source":"a:b", "destination":"c" } , {"source":"x","destination":"y","amount":123456789012345678901234567890,"asset":"COIN"} ] ,
	  "metadata": {"k":"v","é":"½","k":"again"}, "reference":"ref-1", "force": true }`,
	`{"postings":[],"metadata":{},"force":false}`,
	`{}`,
	// Left to encoding/json:
	`{"postings":[{"source":"w\u00f6rld","destination":"a","amount":1,"asset":"USD"}]}`,
	`{"postings":[{"source":"world","destination":"a","amount":1e3,"asset":"USD"}]}`,
	`{"postings":[{"source":"world","destination":"a","amount":01,"asset":"USD"}]}`,
	`{"postings":[{"source":"world","destination":"a","amount":1.5,"asset":"USD"}]}`,
	`{"postings":[{"source":"world","destination":"a","amount":"1","asset":"USD"}]}`,
	`{"postings":[{"source":"world","Destination":"a","amount":1,"asset":"USD"}]}`,
	`{"postings":[{"source":"world","source":"a","amount":1,"asset":"USD"}]}`,
	`{"postings":null}`,
	`{"metadata":{"a":1}}`,
	`{"script":{"plain":"send [USD 1] (source = @world destination = @a)"}}`,
	`{"timestamp":"2024-01-01T00:00:00Z","postings":[]}`,
	`{"postings":[]} {}`,
	`{"postings":[],}`,
	`{"reference":"a` + "\x01" + `"}`,
	`{"reference":"` + "\xff" + `"}`,
	``,
	`[]`,
}

func TestQuickTransactionRequest(t *testing.T) {
	accepted := 0
	for _, body := range transactionBodies {
		if sameAsEncodingJSON(t, []byte(body)) {
			accepted++
		}
	}
	if accepted != 4 {
		t.Fatalf("%d of the bodies read quickly, want the 4 plain ones", accepted)
	}
}

func FuzzQuickTransactionRequest(f *testing.F) {
	for _, body := range transactionBodies {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) { sameAsEncodingJSON(t, body) })
}

// sameAsEncodingJSON reports whether quickTransactionRequest reads body,
// failing t unless encoding/json reads the same request from it.
func sameAsEncodingJSON(t *testing.T, body []byte) bool {
	t.Helper()
	quick, ok := quickTransactionRequest(body)
	if !ok {
		return false
	}
	var want transactionRequest
	if err := json.Unmarshal(body, &want); err != nil {
		t.Fatalf("%q read quickly, but encoding/json says %v", body, err)
	}
	got, _ := json.Marshal(quick)
	wantJSON, _ := json.Marshal(want)
	if string(got) != string(wantJSON) {
		t.Fatalf("%q:\nquick         %s\nencoding/json %s", body, got, wantJSON)
	}
	return true
}

package query

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/kontorhq/kontor/domain"
)

// FuzzParse checks that Parse never panics, that every failure is a
// VALIDATION error, and that every accepted filter survives a JSON round
// trip unchanged (what pagination cursors rely on).
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		``, `{}`, `null`, `[]`, `{"$match":{"id":1}}`,
		`{"$and":[{"$match":{"address":"users:"}},{"$lt":{"balance[USD/2]":0}},{"$not":{"$exists":{"metadata":"frozen"}}}]}`,
		`{"$or":[{"$in":{"reference":["a","b"]}},{"$like":{"reference":"x%"}}]}`,
		`{"$gte":{"timestamp":"2024-01-02T03:04:05.123456789+02:00"}}`,
		`{"$match":{"metadata[a[b]]":"c"}}`,
		`{"$match":{"account":"users:..."}}`,
		`{"$in":{"account":["users:"]}}`,
		`{"$match":{"reverted":true},"x":1}`,
		`{"$match":{"features[HASH_LOGS]":"SYNC"}}`,
		`{"$lt":{"balance":-123456789012345678901234567890}}`,
		`{"$not":{"$not":{"$not":{}}}}`,
		`{"$match":{"id":1.5}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, s := range allSchemas() {
			e, err := Parse(data, s)
			if err != nil {
				var derr *domain.Error
				if !errors.As(err, &derr) || derr.Code != domain.CodeValidation {
					t.Fatalf("non-validation error %T %v", err, err)
				}
				if e != nil {
					t.Fatalf("error with an expression")
				}
				continue
			}
			if e == nil {
				continue
			}
			out, err := json.Marshal(e)
			if err != nil {
				t.Fatalf("marshal %#v: %v", e, err)
			}
			again, err := Parse(out, s)
			if err != nil {
				t.Fatalf("reparse of %s: %v", out, err)
			}
			if !equalExpr(e, again) {
				t.Fatalf("round trip of %s changed %#v into %#v", out, e, again)
			}
		}
	})
}

package ledger

import (
	"encoding/json"

	"github.com/kontorhq/kontor/domain"
)

// AmountsAsStrings rewrites a JSON document so that its amounts become JSON
// strings, which is what the reference serves when a request carries the
// header Formance-Bigint-As-String (true, yes, y or 1): JavaScript clients
// cannot hold big integers. An amount is a number held by an "amount",
// "input", "output" or "balance" key (postings and volumes), or by a key
// that is an asset name (balances by asset, e.g. {"USD/2":100}). Other
// numbers (ids, counts, page sizes) and every other byte stay as they are.
func AmountsAsStrings(doc []byte) ([]byte, error) {
	if !json.Valid(doc) {
		return nil, domain.Errorf(domain.CodeInternal, "amounts as strings: invalid JSON document")
	}
	out := make([]byte, 0, len(doc)+len(doc)/8)
	// objects[i] tells whether the i-th open container is an object.
	var objects []bool
	expectKey := false // inside an object, before a key
	var key []byte     // the last key read in the innermost object
	for i := 0; i < len(doc); {
		c := doc[i]
		switch {
		case c == '{' || c == '[':
			objects = append(objects, c == '{')
			expectKey = c == '{'
			out = append(out, c)
			i++
		case c == '}' || c == ']':
			objects = objects[:len(objects)-1]
			out = append(out, c)
			i++
		case c == ',':
			expectKey = len(objects) > 0 && objects[len(objects)-1]
			out = append(out, c)
			i++
		case c == ':':
			expectKey = false
			out = append(out, c)
			i++
		case c == '"':
			end := stringEnd(doc, i)
			if expectKey {
				key = doc[i+1 : end-1]
			}
			out = append(out, doc[i:end]...)
			i = end
		case c == '-' || isDigit(c):
			end := i + 1
			for end < len(doc) && isNumberByte(doc[end]) {
				end++
			}
			inObject := len(objects) > 0 && objects[len(objects)-1]
			if inObject && isAmountKey(key) {
				out = append(out, '"')
				out = append(out, doc[i:end]...)
				out = append(out, '"')
			} else {
				out = append(out, doc[i:end]...)
			}
			i = end
		default: // whitespace, true, false, null
			out = append(out, c)
			i++
		}
	}
	return out, nil
}

// stringEnd returns the index just past the JSON string starting at
// doc[start], which is a quote.
func stringEnd(doc []byte, start int) int {
	for i := start + 1; i < len(doc); i++ {
		switch doc[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(doc)
}

func isNumberByte(c byte) bool {
	return isDigit(c) || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'
}

func isAmountKey(key []byte) bool {
	switch string(key) {
	case "amount", "input", "output", "balance":
		return true
	}
	return IsValidAsset(string(key))
}

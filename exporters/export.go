package exporters

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/kontorhq/kontor/domain/ledger"
)

// Export is one log on its way to an exporter: the log and the name of its
// ledger. Its JSON is the reference's: the log JSON with a "ledger" key
// added last.
type Export struct {
	Ledger string
	Log    ledger.Log
}

// MarshalJSON renders the log JSON followed by "ledger".
func (e Export) MarshalJSON() ([]byte, error) {
	log, err := json.Marshal(e.Log)
	if err != nil {
		return nil, err
	}
	name, err := json.Marshal(e.Ledger)
	if err != nil {
		return nil, err
	}
	end := bytes.LastIndexByte(log, '}')
	if end < 1 {
		return nil, fmt.Errorf("exporters: log %d is not a JSON object", e.Log.ID)
	}
	out := make([]byte, 0, len(log)+len(name)+11)
	out = append(out, log[:end]...)
	if end > 1 { // the object has keys: separate ours from them
		out = append(out, ',')
	}
	out = append(out, `"ledger":`...)
	out = append(out, name...)
	return append(out, '}'), nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (e *Export) UnmarshalJSON(b []byte) error {
	var aux struct {
		Ledger string `json:"ledger"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	var log ledger.Log
	if err := json.Unmarshal(b, &log); err != nil {
		return err
	}
	*e = Export{Ledger: aux.Ledger, Log: log}
	return nil
}

// encodeLines appends the JSON of each export followed by a newline.
func encodeLines(buf *bytes.Buffer, exports []Export) error {
	for _, e := range exports {
		b, err := e.MarshalJSON()
		if err != nil {
			return err
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	return nil
}

// encodeArray renders exports as one JSON array.
func encodeArray(exports []Export) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('[')
	for i, e := range exports {
		if i > 0 {
			buf.WriteByte(',')
		}
		b, err := e.MarshalJSON()
		if err != nil {
			return nil, err
		}
		buf.Write(b)
	}
	buf.WriteByte(']')
	return buf.Bytes(), nil
}

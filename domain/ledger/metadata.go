package ledger

// Metadata is a string-to-string map attached to transactions, accounts and
// ledgers. It marshals with sorted keys, and a nil Metadata marshals as {}
// like the reference's always-initialized maps.
type Metadata map[string]string

// MarshalJSON renders m as a JSON object, {} when m is nil.
func (m Metadata) MarshalJSON() ([]byte, error) {
	return appendMetadata(make([]byte, 0, 64), m), nil
}

// AppendJSON appends what MarshalJSON renders to b.
func (m Metadata) AppendJSON(b []byte) []byte {
	return appendMetadata(b, m)
}

// Clone returns a copy of m, never nil.
func (m Metadata) Clone() Metadata {
	out := make(Metadata, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Merge returns a copy of m updated with other; other wins on shared keys.
func (m Metadata) Merge(other Metadata) Metadata {
	out := m.Clone()
	for k, v := range other {
		out[k] = v
	}
	return out
}

// AccountMetadata maps an account address to metadata to set on it. A nil
// AccountMetadata marshals as {}.
type AccountMetadata map[string]Metadata

// MarshalJSON renders a as a JSON object, {} when a is nil.
func (a AccountMetadata) MarshalJSON() ([]byte, error) {
	return appendAccountMetadata(make([]byte, 0, 64), a), nil
}

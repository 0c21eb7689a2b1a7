package ledger

import "encoding/json"

// Transaction is a set of postings committed atomically, with its metadata,
// effective Timestamp (which may be back-dated), optional unique Reference,
// and the volumes it left behind. Its JSON shape is the reference's, keys in
// this order: postings, metadata, timestamp, reference (omitted when empty),
// id, insertedAt, updatedAt, revertedAt, postCommitVolumes,
// postCommitEffectiveVolumes, template (each omitted when empty), then the
// derived reverted, preCommitVolumes and preCommitEffectiveVolumes (the
// post-commit volumes minus the postings, omitted when those are absent).
type Transaction struct {
	ID                         uint64
	Postings                   Postings
	Metadata                   Metadata
	Timestamp                  Time
	Reference                  string
	InsertedAt                 Time
	UpdatedAt                  Time
	RevertedAt                 *Time
	PostCommitVolumes          PostCommitVolumes
	PostCommitEffectiveVolumes PostCommitVolumes
	// Template names the schema transaction template that produced it.
	Template string
}

// Reverted reports whether the transaction has been reverted.
func (tx Transaction) Reverted() bool {
	return tx.RevertedAt != nil && !tx.RevertedAt.IsZero()
}

// WithRevertedAt returns tx marked as reverted at the given time, which also
// becomes its UpdatedAt.
func (tx Transaction) WithRevertedAt(at Time) Transaction {
	tx.RevertedAt = &at
	tx.UpdatedAt = at
	return tx
}

// transactionJSON is the wire shape of a Transaction; field order is the
// reference's key order.
type transactionJSON struct {
	Postings                   Postings          `json:"postings"`
	Metadata                   Metadata          `json:"metadata"`
	Timestamp                  Time              `json:"timestamp"`
	Reference                  string            `json:"reference,omitempty"`
	ID                         uint64            `json:"id"`
	InsertedAt                 Time              `json:"insertedAt"`
	UpdatedAt                  Time              `json:"updatedAt"`
	RevertedAt                 *Time             `json:"revertedAt,omitempty"`
	PostCommitVolumes          PostCommitVolumes `json:"postCommitVolumes,omitempty"`
	PostCommitEffectiveVolumes json.RawMessage   `json:"postCommitEffectiveVolumes,omitempty"`
	Template                   string            `json:"template,omitempty"`
	Reverted                   bool              `json:"reverted"`
	PreCommitVolumes           PostCommitVolumes `json:"preCommitVolumes,omitempty"`
	PreCommitEffectiveVolumes  PostCommitVolumes `json:"preCommitEffectiveVolumes,omitempty"`
}

// MarshalJSON renders the reference's transaction JSON.
func (tx Transaction) MarshalJSON() ([]byte, error) {
	return tx.appendJSON(make([]byte, 0, 1024)), nil
}

// UnmarshalJSON reads the reference's transaction JSON, as found in
// exported logs; the derived keys are ignored.
func (tx *Transaction) UnmarshalJSON(b []byte) error {
	var aux transactionJSON
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	pcev, err := aux.effectiveVolumes()
	if err != nil {
		return err
	}
	*tx = Transaction{
		ID:                         aux.ID,
		Postings:                   aux.Postings,
		Metadata:                   aux.Metadata,
		Timestamp:                  aux.Timestamp,
		Reference:                  aux.Reference,
		InsertedAt:                 aux.InsertedAt,
		UpdatedAt:                  aux.UpdatedAt,
		RevertedAt:                 aux.RevertedAt,
		PostCommitVolumes:          aux.PostCommitVolumes,
		PostCommitEffectiveVolumes: pcev,
		Template:                   aux.Template,
	}
	return nil
}

// effectiveVolumes decodes the post-commit effective volumes, which a
// stored log writes as samePCV when they equal the post-commit ones.
func (aux transactionJSON) effectiveVolumes() (PostCommitVolumes, error) {
	if string(aux.PostCommitEffectiveVolumes) == samePCV {
		return aux.PostCommitVolumes.Copy(), nil
	}
	var pcev PostCommitVolumes
	if len(aux.PostCommitEffectiveVolumes) == 0 {
		return pcev, nil
	}
	err := json.Unmarshal(aux.PostCommitEffectiveVolumes, &pcev)
	return pcev, err
}

// postings returns tx.Postings, an empty list rather than nil so that it
// marshals as [] like the reference.
func (tx Transaction) postings() Postings {
	if tx.Postings == nil {
		return Postings{}
	}
	return tx.Postings
}

// transactionMemento is the part of a transaction that a log's hash covers.
type transactionMemento struct {
	Postings  Postings `json:"postings"`
	Metadata  Metadata `json:"metadata"`
	Timestamp Time     `json:"timestamp"`
	Reference string   `json:"reference,omitempty"`
	ID        uint64   `json:"id"`
	Reverted  bool     `json:"reverted"` // always false, as in the reference
}

func (tx Transaction) memento() transactionMemento {
	return transactionMemento{
		Postings:  tx.postings(),
		Metadata:  tx.Metadata,
		Timestamp: tx.Timestamp,
		Reference: tx.Reference,
		ID:        tx.ID,
	}
}

package ledger

import "github.com/kontorhq/kontor/domain"

// LedgerState is where a ledger is in its life: a ledger accepts imports
// only while initializing, and becomes in use at its first write.
type LedgerState string

// Ledger states.
const (
	LedgerStateInitializing LedgerState = "initializing"
	LedgerStateInUse        LedgerState = "in-use"
)

// Ledger is a named book of accounts living in a bucket. Its JSON shape is
// the reference's: {"bucket","metadata","features","id","name","addedAt",
// "deletedAt"?}; the state is not part of it.
type Ledger struct {
	Bucket    string      `json:"bucket"`
	Metadata  Metadata    `json:"metadata"`
	Features  Features    `json:"features"`
	ID        int64       `json:"id"`
	Name      string      `json:"name"`
	AddedAt   Time        `json:"addedAt"`
	DeletedAt *Time       `json:"deletedAt,omitempty"`
	State     LedgerState `json:"-"`
}

// LedgerConfiguration is what a caller may choose when creating a ledger,
// the body of POST /v2/{ledger}.
type LedgerConfiguration struct {
	Bucket   string   `json:"bucket,omitempty"`
	Metadata Metadata `json:"metadata,omitempty"`
	Features Features `json:"features,omitempty"`
}

// NewLedger validates a creation request and returns the ledger to store,
// in state initializing, with the default bucket and feature defaults
// filled in. The store assigns ID and AddedAt. Errors are VALIDATION, with
// the reference's "invalid ledger configuration: ..." messages.
func NewLedger(name string, cfg LedgerConfiguration) (Ledger, error) {
	if cfg.Bucket == "" {
		cfg.Bucket = DefaultBucket
	}
	err := ValidateLedgerName(name)
	if err == nil {
		err = ValidateBucketName(cfg.Bucket)
	}
	if err == nil {
		err = cfg.Features.Validate()
	}
	if err != nil {
		return Ledger{}, domain.Errorf(domain.CodeValidation, "invalid ledger configuration: %s", domain.ErrorMessage(err))
	}
	return Ledger{
		Bucket:   cfg.Bucket,
		Metadata: cfg.Metadata.Clone(),
		Features: cfg.Features.WithDefaults(),
		Name:     name,
		State:    LedgerStateInitializing,
	}, nil
}

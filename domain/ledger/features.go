package ledger

import (
	"slices"
	"sort"
	"strings"

	"github.com/kontorhq/kontor/domain"
)

// Feature names (reference pkg/features). A ledger's features are chosen at
// creation and never change.
const (
	// FeatureMovesHistory (ON|OFF) records moves, needed for point-in-time
	// volumes and balance filters.
	FeatureMovesHistory = "MOVES_HISTORY"
	// FeatureMovesHistoryPostCommitEffectiveVolumes (SYNC|DISABLED) keeps
	// post-commit effective volumes on moves.
	FeatureMovesHistoryPostCommitEffectiveVolumes = "MOVES_HISTORY_POST_COMMIT_EFFECTIVE_VOLUMES"
	// FeatureHashLogs (SYNC|ASYNC|DISABLED) hash-chains the logs.
	FeatureHashLogs = "HASH_LOGS"
	// FeatureAccountMetadataHistory (SYNC|DISABLED) keeps account metadata
	// revisions.
	FeatureAccountMetadataHistory = "ACCOUNT_METADATA_HISTORY"
	// FeatureTransactionMetadataHistory (SYNC|DISABLED) keeps transaction
	// metadata revisions.
	FeatureTransactionMetadataHistory = "TRANSACTION_METADATA_HISTORY"
)

// featureValues lists, per feature, its accepted values, default first.
var featureValues = map[string][]string{
	FeatureMovesHistory:                           {"ON", "OFF"},
	FeatureMovesHistoryPostCommitEffectiveVolumes: {"SYNC", "DISABLED"},
	FeatureHashLogs:                               {"SYNC", "ASYNC", "DISABLED"},
	FeatureAccountMetadataHistory:                 {"SYNC", "DISABLED"},
	FeatureTransactionMetadataHistory:             {"SYNC", "DISABLED"},
}

// featureShortNames are the abbreviations of Features.String.
var featureShortNames = map[string]string{
	FeatureMovesHistory:                           "MH",
	FeatureMovesHistoryPostCommitEffectiveVolumes: "MHPCEV",
	FeatureHashLogs:                               "HL",
	FeatureAccountMetadataHistory:                 "AMH",
	FeatureTransactionMetadataHistory:             "TMH",
}

// Features maps a feature name to its value, e.g. HASH_LOGS → SYNC.
type Features map[string]string

// DefaultFeatures returns the reference defaults: every feature on
// (MOVES_HISTORY=ON, the others SYNC).
func DefaultFeatures() Features {
	f := make(Features, len(featureValues))
	for name, values := range featureValues {
		f[name] = values[0]
	}
	return f
}

// MinimalFeatures returns every feature off (OFF or DISABLED), the
// reference's MinimalFeatureSet.
func MinimalFeatures() Features {
	f := make(Features, len(featureValues))
	for name, values := range featureValues {
		f[name] = values[len(values)-1]
	}
	return f
}

// WithDefaults returns a copy of f in which every feature f leaves out has
// its default value.
func (f Features) WithDefaults() Features {
	out := DefaultFeatures()
	for name, value := range f {
		out[name] = value
	}
	return out
}

// Validate returns a VALIDATION error naming the first (in name order)
// unknown feature or unaccepted value.
func (f Features) Validate() error {
	names := make([]string, 0, len(f))
	for name := range f {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		values, ok := featureValues[name]
		if !ok {
			return domain.Errorf(domain.CodeValidation, "unknown feature '%s'", name)
		}
		if !slices.Contains(values, f[name]) {
			return domain.Errorf(domain.CodeValidation, "invalid value '%s' for feature '%s': expected one of %s",
				f[name], name, strings.Join(values, ", "))
		}
	}
	return nil
}

// String returns the reference's short form, sorted by abbreviation, e.g.
// "AMH=SYNC,HL=SYNC,MH=ON,MHPCEV=SYNC,TMH=SYNC". Unknown features keep their
// full name.
func (f Features) String() string {
	parts := make([]string, 0, len(f))
	for name, value := range f {
		short, ok := featureShortNames[name]
		if !ok {
			short = name
		}
		parts = append(parts, short+"="+value)
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

package ledger

import (
	"strings"

	"github.com/kontorhq/kontor/domain"
)

// World is the account that may always send funds: money enters and leaves
// the ledger through it, so its balance is unbounded below.
const World = "world"

// DefaultBucket is the bucket of a ledger created without one.
const DefaultBucket = "_default"

// Name formats, as the reference publishes them in its error messages.
const (
	// NameFormat is the format of ledger and bucket names.
	NameFormat = "^[0-9a-zA-Z_-]{1,63}$"
	// AddressFormat is the format of account addresses.
	AddressFormat = "^[a-zA-Z0-9_-]+(:[a-zA-Z0-9_-]+)*$"
	// AssetFormat is the format of asset names: a code, an optional
	// "_SUFFIX" and an optional "/precision".
	AssetFormat = `^[A-Z][A-Z0-9]{0,16}(_[A-Z]{1,16})?(\/\d{1,6})?$`
)

// reservedLedgerNames would collide with the reference's routes.
var reservedLedgerNames = []string{"_", "_info", "_healthcheck"}

// reservedBucketNames are Postgres schemas a bucket must not take over.
var reservedBucketNames = []string{"_system", "information_schema", "public"}

// IsValidAddress reports whether s matches AddressFormat: one or more
// segments of [a-zA-Z0-9_-], separated by single colons.
func IsValidAddress(s string) bool {
	segment := 0 // length of the current segment
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ':':
			if segment == 0 {
				return false
			}
			segment = 0
		case isWordByte(c):
			segment++
		default:
			return false
		}
	}
	return segment > 0
}

// IsValidAsset reports whether s matches AssetFormat, e.g. "USD", "USD/2",
// "EUR_CENTS/2".
func IsValidAsset(s string) bool {
	i := 0
	if i >= len(s) || !isUpper(s[i]) {
		return false
	}
	i++
	i += countWhile(s[i:], 16, func(c byte) bool { return isUpper(c) || isDigit(c) })
	if i < len(s) && s[i] == '_' {
		n := countWhile(s[i+1:], 16, isUpper)
		if n == 0 {
			return false
		}
		i += 1 + n
	}
	if i < len(s) && s[i] == '/' {
		n := countWhile(s[i+1:], 6, isDigit)
		if n == 0 {
			return false
		}
		i += 1 + n
	}
	return i == len(s)
}

// ValidateAddress returns a VALIDATION error unless s is a valid address.
func ValidateAddress(s string) error {
	if !IsValidAddress(s) {
		return domain.Errorf(domain.CodeValidation, "invalid address '%s': must match format '%s'", s, AddressFormat)
	}
	return nil
}

// ValidateAsset returns a VALIDATION error unless s is a valid asset.
func ValidateAsset(s string) error {
	if !IsValidAsset(s) {
		return domain.Errorf(domain.CodeValidation, "invalid asset '%s': must match format '%s'", s, AssetFormat)
	}
	return nil
}

// ValidateLedgerName returns a VALIDATION error unless name matches
// NameFormat and is not reserved ("_", "_info", "_healthcheck").
func ValidateLedgerName(name string) error {
	if !isValidName(name) {
		return domain.Errorf(domain.CodeValidation, "invalid ledger name '%s': name must match format '%s'", name, NameFormat)
	}
	for _, reserved := range reservedLedgerNames {
		if name == reserved {
			return domain.Errorf(domain.CodeValidation, "invalid ledger name '%s': name is reserved", name)
		}
	}
	return nil
}

// ValidateBucketName returns a VALIDATION error unless name matches
// NameFormat and can name a Postgres schema of its own: "_system",
// "information_schema", "public" and names starting with "pg_" are refused.
func ValidateBucketName(name string) error {
	if !isValidName(name) {
		return domain.Errorf(domain.CodeValidation, "invalid bucket name '%s': name must match format '%s'", name, NameFormat)
	}
	for _, reserved := range reservedBucketNames {
		if name == reserved {
			return domain.Errorf(domain.CodeValidation, "invalid bucket name '%s': name is reserved", name)
		}
	}
	if strings.HasPrefix(name, "pg_") {
		return domain.Errorf(domain.CodeValidation, "invalid bucket name '%s': names starting with 'pg_' are reserved", name)
	}
	return nil
}

// isValidName reports whether s matches NameFormat.
func isValidName(s string) bool {
	if len(s) == 0 || len(s) > 63 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isWordByte(s[i]) {
			return false
		}
	}
	return true
}

// isWordByte reports whether c is in [a-zA-Z0-9_-].
func isWordByte(c byte) bool {
	return isUpper(c) || isDigit(c) || ('a' <= c && c <= 'z') || c == '_' || c == '-'
}

func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// countWhile returns how many leading bytes of s, at most limit, satisfy ok.
func countWhile(s string, limit int, ok func(byte) bool) int {
	n := 0
	for n < len(s) && n < limit && ok(s[n]) {
		n++
	}
	return n
}

// Package domain holds what every Kontor module shares: the error type that
// carries a reference error code. Module rules live in its sub-packages.
package domain

import (
	"errors"
	"fmt"
)

// Reference error codes (the Formance errorCode values).
const (
	CodeValidation          = "VALIDATION"
	CodeNotFound            = "NOT_FOUND"
	CodeConflict            = "CONFLICT"
	CodeInternal            = "INTERNAL"
	CodeNotImplemented      = "NOT_IMPLEMENTED"
	CodeInsufficientFund    = "INSUFFICIENT_FUND"
	CodeCompilationFailed   = "COMPILATION_FAILED"
	CodeMetadataOverride    = "METADATA_OVERRIDE"
	CodeNoPostings          = "NO_POSTINGS"
	CodeInterpreterParse    = "INTERPRETER_PARSE"
	CodeInterpreterRuntime  = "INTERPRETER_RUNTIME"
	CodeAlreadyRevert       = "ALREADY_REVERT"
	CodeLedgerNotFound      = "LEDGER_NOT_FOUND"
	CodeLedgerAlreadyExists = "LEDGER_ALREADY_EXISTS"
	CodeBulkSizeExceeded    = "BULK_SIZE_EXCEEDED"
	CodeImport              = "IMPORT"
	CodeTooLarge            = "REQUEST_TOO_LARGE"
	CodeUnavailable         = "SERVICE_UNAVAILABLE"
)

// Error is a failure the caller can act on: a reference code, a message meant
// for the API user, and optional structured details.
type Error struct {
	Code    string
	Message string
	Details any
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf builds an *Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, or
// CodeInternal when err carries none (and "" for a nil err).
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ErrorMessage returns the user-facing message of err's *Error, or a generic
// text for internal errors so that internals never leak.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error. Consult logs/traces to have more details."
}

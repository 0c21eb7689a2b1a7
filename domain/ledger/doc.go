// Package ledger holds the pure rules of the Kontor ledger, compatible with
// the Formance ledger v2: names and their validation, postings, volumes,
// transactions, the five log payloads, their JSON shapes and mementos, the
// reference's hash chain, idempotency hashes, balance checks and reverts.
//
// It does no I/O. The event store sequences commands, calls these rules in
// memory, and persists what they return.
package ledger

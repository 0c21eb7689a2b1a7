package ledger

// ReplayCommand returns the command a log's payload records, so that an
// import checks each log as a live write is checked: postings and
// addresses are valid, references unique, metadata targets exist, a
// transaction is reverted once. Funds are not checked — the log records
// what happened — and an INSERTED_SCHEMA log is taken as it is.
func ReplayCommand(p LogPayload) Command {
	switch p := p.(type) {
	case CreatedTransaction:
		tx := p.Transaction
		return CreateTransaction{Postings: tx.Postings, Metadata: tx.Metadata, Timestamp: tx.Timestamp,
			Reference: tx.Reference, AccountMetadata: p.AccountMetadata, Force: true}
	case RevertedTransaction:
		return RevertTransaction{ID: p.RevertedTransaction.ID, Force: true, Metadata: p.RevertTransaction.Metadata}
	case SavedMetadata:
		return SaveMetadata{Target: p.Target, Metadata: p.Metadata}
	case DeletedMetadata:
		return DeleteMetadata{Target: p.Target, Key: p.Key}
	}
	return recorded{p}
}

// recorded is a command whose payload needs no check.
type recorded struct{ payload LogPayload }

// Evaluate implements Command.
func (r recorded) Evaluate(State, Time) (LogPayload, error) { return r.payload, nil }

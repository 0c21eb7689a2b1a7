package projections

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/kontorhq/kontor/domain"
	"github.com/kontorhq/kontor/domain/ledger"
)

// exportPageSize is how many logs ExportLogs and VerifyLogs read per
// query: they page by id (keyset), so their memory does not grow with the
// ledger.
const exportPageSize = 1000

// ExportLogs writes every log of the ledger called name to w, in id order,
// one reference log JSON object (ledger.Log) per line: the export of
// POST /v2/{ledger}/logs/export (spec §3.10). The logs are those that exist
// when the export starts; it reads them in keyset pages of 1,000 and writes
// through a buffer flushed after every page, so memory stays constant. It
// returns how many logs it wrote. An unknown ledger is LEDGER_NOT_FOUND,
// reported before anything is written.
func (r *Reader) ExportLogs(ctx context.Context, name string, w io.Writer) (n int, err error) {
	l, err := r.resolve(ctx, name)
	if err != nil {
		return 0, err
	}
	t := tablesOf(l)
	// The snapshot's end: logs appended during the export are left out.
	var last int64
	if err := r.pool.QueryRow(ctx, t.expand(`SELECT coalesce(max(id), 0) FROM {logs} WHERE ledger = $1`),
		l.Name).Scan(&last); err != nil {
		return 0, err
	}
	sel := t.expand(`SELECT ` + logColumns + ` FROM {logs} g
		WHERE g.ledger = $1 AND g.id > $2 AND g.id <= $3 ORDER BY g.id LIMIT $4`)
	out := bufio.NewWriterSize(w, 64<<10)
	var line []byte
	for after := int64(0); after < last; {
		rows, err := r.pool.Query(ctx, sel, l.Name, after, last, exportPageSize)
		if err != nil {
			return n, err
		}
		read := 0
		for rows.Next() {
			log, err := scanLog(rows)
			if err != nil {
				rows.Close()
				return n, err
			}
			if line, err = log.MarshalJSON(); err != nil {
				rows.Close()
				return n, fmt.Errorf("log %d: %w", log.ID, err)
			}
			if _, err := out.Write(append(line, '\n')); err != nil {
				rows.Close()
				return n, err
			}
			n++
			read++
			after = int64(log.ID)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return n, err
		}
		if err := out.Flush(); err != nil {
			return n, err
		}
		if read < exportPageSize {
			break
		}
	}
	return n, out.Flush()
}

// Verification is the outcome of VerifyLogs.
type Verification struct {
	// Checked is how many logs were re-hashed, the broken one included.
	Checked uint64 `json:"checked"`
	// LastID and LastHash are the last log whose stored hash matched the
	// recomputed one (0 and nil when none did).
	LastID   uint64 `json:"lastId"`
	LastHash []byte `json:"lastHash"`
	// Break, when set, is the first log whose stored hash differs from the
	// one recomputed from its data; verification stops there.
	Break *ledger.ChainBreak `json:"break,omitempty"`
}

// VerifyLogs re-computes the hash chain of the ledger called name over the
// logs with ids from..to (from 0 is 1, to 0 is the last log), each log's
// hash recomputed from its stored data, type, date and idempotency key as
// the writer computed it (ledger.Log.ComputeHash), and compares each
// result with the stored hash. The
// chain starts from the stored hash of the log before from (the first log
// starts from none). It reads in keyset pages of 1,000, so memory stays
// constant, and stops at the first mismatch, reported as the Break. A
// ledger whose HASH_LOGS feature is not SYNC is a VALIDATION error, an
// unknown one LEDGER_NOT_FOUND.
func (r *Reader) VerifyLogs(ctx context.Context, name string, from, to uint64) (Verification, error) {
	var v Verification
	if from == 0 {
		from = 1
	}
	if to != 0 && to < from {
		return v, domain.Errorf(domain.CodeValidation, "to (%d) is before from (%d)", to, from)
	}
	if from > 1<<63-1 || to > 1<<63-1 {
		return v, domain.Errorf(domain.CodeValidation, "log ids are at most %d", int64(1<<63-1))
	}
	l, err := r.resolve(ctx, name)
	if err != nil {
		return v, err
	}
	if !feature(l, ledger.FeatureHashLogs, "SYNC") {
		return v, domain.Errorf(domain.CodeValidation, "ledger %s does not hash its logs", l.Name)
	}
	t := tablesOf(l)
	upper := int64(to)
	if to == 0 {
		upper = 1<<63 - 1
	}
	// The link the first verified log was chained on: the log before it
	// in id order.
	var previous []byte
	if from > 1 {
		rows, err := r.pool.Query(ctx, t.expand(`SELECT hash FROM {logs} WHERE ledger = $1 AND id < $2
			ORDER BY id DESC LIMIT 1`), l.Name, int64(from))
		if err != nil {
			return v, err
		}
		for rows.Next() {
			if err := rows.Scan(&previous); err != nil {
				rows.Close()
				return v, err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return v, err
		}
	}
	sel := t.expand(`SELECT ` + logColumns + ` FROM {logs} g
		WHERE g.ledger = $1 AND g.id > $2 AND g.id <= $3 ORDER BY g.id LIMIT $4`)
	for after := int64(from) - 1; ; {
		rows, err := r.pool.Query(ctx, sel, l.Name, after, upper, exportPageSize)
		if err != nil {
			return v, err
		}
		read := 0
		for rows.Next() {
			log, err := scanLog(rows)
			if err != nil {
				rows.Close()
				return v, err
			}
			read++
			after = int64(log.ID)
			v.Checked++
			expected, err := log.ComputeHash(previous)
			if err != nil {
				rows.Close()
				return v, fmt.Errorf("log %d: %w", log.ID, err)
			}
			if !bytes.Equal(expected, log.Hash) {
				rows.Close()
				v.Break = &ledger.ChainBreak{LogID: log.ID, Expected: expected, Got: log.Hash}
				return v, nil
			}
			v.LastID, v.LastHash, previous = log.ID, log.Hash, log.Hash
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return v, err
		}
		if read < exportPageSize {
			return v, nil
		}
	}
}

package eventstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// wireQuery is a statement with its parameters in their wire form.
type wireQuery struct {
	name, sql string
	oids      []uint32
	params    [][]byte
	formats   []int16
}

// statementName names the prepared statement of sql on every connection.
func statementName(sql string) string {
	h := sha256.Sum256([]byte(sql))
	return "kontor_" + hex.EncodeToString(h[:8])
}

// encode turns queries into their wire form while the batch before them is
// being written, so that writing them is only sending bytes. The first
// time it meets a statement it prepares it to learn its parameter types.
// Parameters go in binary, by appendBinary or, for other types, by pgx.
func (s *sequencer) encode(ctx context.Context, queries []*pgx.QueuedQuery) ([]wireQuery, error) {
	out := make([]wireQuery, len(queries))
	for i, q := range queries {
		sd, err := s.describe(ctx, q.SQL)
		if err != nil {
			return nil, err
		}
		if len(q.Arguments) != len(sd.ParamOIDs) {
			return nil, fmt.Errorf("statement %s takes %d parameters, not %d", sd.Name, len(sd.ParamOIDs), len(q.Arguments))
		}
		w := wireQuery{name: sd.Name, sql: q.SQL, oids: sd.ParamOIDs,
			params: make([][]byte, len(q.Arguments)), formats: make([]int16, len(q.Arguments))}
		for j, arg := range q.Arguments {
			oid := sd.ParamOIDs[j]
			value, known := appendBinary(nil, oid, arg)
			if !known {
				if value, err = s.types.Encode(oid, pgtype.BinaryFormatCode, arg, nil); err != nil {
					return nil, fmt.Errorf("statement %s, parameter %d: %w", sd.Name, j+1, err)
				}
			}
			w.params[j], w.formats[j] = value, pgtype.BinaryFormatCode
		}
		out[i] = w
	}
	return out, nil
}

// describe returns the description of sql, preparing it once.
func (s *sequencer) describe(ctx context.Context, sql string) (*pgconn.StatementDescription, error) {
	if sd, ok := s.descriptions[sql]; ok {
		return sd, nil
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Release()
	sd, err := conn.Conn().Prepare(ctx, statementName(sql), sql)
	if err != nil {
		return nil, err
	}
	s.descriptions[sql] = sd
	return sd, nil
}

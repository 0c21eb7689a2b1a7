package eventstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// wireQuery is a statement with its parameters in their wire form.
type wireQuery struct {
	name, sql       string
	oids            []uint32
	params          [][]byte
	formats, result []int16
}

// statementName names the prepared statement of sql on every connection.
func statementName(sql string) string {
	h := sha256.Sum256([]byte(sql))
	return "kontor_" + hex.EncodeToString(h[:8])
}

// encode turns queries into their wire form while the batch before them is
// being written, so that writing them is only sending bytes. The first
// time it meets a statement it prepares it to learn its parameter types.
func (s *sequencer) encode(ctx context.Context, queries []*pgx.QueuedQuery) ([]wireQuery, error) {
	out := make([]wireQuery, len(queries))
	for i, q := range queries {
		sd, err := s.describe(ctx, q.SQL)
		if err != nil {
			return nil, err
		}
		var eqb pgx.ExtendedQueryBuilder
		if err := eqb.Build(s.types, sd, q.Arguments); err != nil {
			return nil, err
		}
		out[i] = wireQuery{name: sd.Name, sql: q.SQL, oids: sd.ParamOIDs, params: eqb.ParamValues, formats: eqb.ParamFormats, result: eqb.ResultFormats}
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

package eventstore

import (
	"context"
	"math"
	"math/big"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/kontorhq/kontor/platform/pgtest"
)

// TestAppendBinaryAsPgx sends each value twice — rendered by appendBinary
// and encoded by pgx — and expects PostgreSQL to read the same thing.
func TestAppendBinaryAsPgx(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()

	huge, _ := new(big.Int).SetString("123456789012345678901234567890000000001", 10)
	numerics := []pgtype.Numeric{{}}
	for _, x := range []*big.Int{big.NewInt(0), big.NewInt(1), big.NewInt(-1), big.NewInt(9999), big.NewInt(10000),
		big.NewInt(100000000), big.NewInt(-123456789), big.NewInt(math.MaxInt64), big.NewInt(math.MinInt64),
		huge, new(big.Int).Neg(huge), new(big.Int).Lsh(big.NewInt(1), 64)} {
		numerics = append(numerics, pgtype.Numeric{Int: x, Valid: true})
	}
	at := time.Date(2024, 1, 2, 3, 4, 5, 123456000, time.UTC)
	cases := []struct {
		name string
		oid  uint32
		cast string
		arg  any
	}{
		{"text", pgtype.TextOID, "text", "users:1 é ½"},
		{"int8", pgtype.Int8OID, "int8", int64(math.MinInt64)},
		{"bool", pgtype.BoolOID, "bool", true},
		{"timestamptz", pgtype.TimestamptzOID, "timestamptz", at},
		{"int8[]", pgtype.Int8ArrayOID, "int8[]", []int64{0, -1, math.MaxInt64}},
		{"empty int8[]", pgtype.Int8ArrayOID, "int8[]", []int64{}},
		{"text[]", pgtype.TextArrayOID, "text[]", []string{"a", "", "é,\"{x}"}},
		{"nullable text[]", pgtype.TextArrayOID, "text[]", []pgtype.Text{{String: "k", Valid: true}, {}}},
		{"bool[]", pgtype.BoolArrayOID, "bool[]", []bool{true, false}},
		{"timestamptz[]", pgtype.TimestamptzArrayOID, "timestamptz[]", []time.Time{at, time.Date(1999, 12, 31, 23, 59, 59, 1000, time.UTC)}},
		{"bytea[]", pgtype.ByteaArrayOID, "bytea[]", [][]byte{{0, 1, 255}, nil, {}}},
		{"numeric[]", pgtype.NumericArrayOID, "numeric[]", numerics},
	}
	for _, c := range cases {
		mine, known := appendBinary(nil, c.oid, c.arg)
		if !known {
			t.Fatalf("%s: not handled", c.name)
		}
		var want string
		if err := conn.QueryRow(ctx, `SELECT $1::`+c.cast+`::text`, c.arg).Scan(&want); err != nil {
			t.Fatalf("%s through pgx: %v", c.name, err)
		}
		res := conn.Conn().PgConn().ExecParams(ctx, `SELECT $1::`+c.cast+`::text`, [][]byte{mine}, []uint32{c.oid},
			[]int16{pgtype.BinaryFormatCode}, nil).Read()
		if res.Err != nil {
			t.Fatalf("%s: %v", c.name, res.Err)
		}
		if got := string(res.Rows[0][0]); got != want {
			t.Errorf("%s: PostgreSQL read %s, want %s", c.name, got, want)
		}
	}

	// Other types and mismatched oids are left to pgx.
	for _, c := range []struct {
		oid uint32
		arg any
	}{{pgtype.Int8OID, "1"}, {pgtype.JSONBOID, []byte(`{}`)}, {pgtype.NumericArrayOID, []pgtype.Numeric{{Int: big.NewInt(1), Exp: -2, Valid: true}}}} {
		if _, known := appendBinary(nil, c.oid, c.arg); known {
			t.Errorf("%T as oid %d: handled, want left to pgx", c.arg, c.oid)
		}
	}
}

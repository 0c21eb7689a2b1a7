package eventstore

import (
	"encoding/binary"
	"math/big"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// The write path sends a few thousand array elements per batch. pgx
// encodes them through reflection; appendBinary renders the handful of
// types the batch statements use straight into PostgreSQL's binary format.

// appendBinary appends arg, a parameter of type oid, in PostgreSQL's binary
// format; known is false, and b unchanged, for a type and oid it does not
// handle, which pgx then encodes.
func appendBinary(b []byte, oid uint32, arg any) (out []byte, known bool) {
	switch v := arg.(type) {
	case string:
		if oid == pgtype.TextOID {
			return append(b, v...), true
		}
	case int64:
		if oid == pgtype.Int8OID {
			return binary.BigEndian.AppendUint64(b, uint64(v)), true
		}
	case bool:
		if oid == pgtype.BoolOID {
			return appendBool(b, v), true
		}
	case time.Time:
		if oid == pgtype.TimestamptzOID {
			return appendTimestamptz(b, v), true
		}
	case []int64:
		if oid == pgtype.Int8ArrayOID {
			return appendArray(b, pgtype.Int8OID, v, 8*len(v), func(b []byte, x int64) ([]byte, bool) {
				return binary.BigEndian.AppendUint64(b, uint64(x)), true
			}), true
		}
	case []string:
		if oid == pgtype.TextArrayOID {
			return appendArray(b, pgtype.TextOID, v, size(v, func(s string) int { return len(s) }),
				func(b []byte, s string) ([]byte, bool) { return append(b, s...), true }), true
		}
	case []pgtype.Text:
		if oid == pgtype.TextArrayOID {
			return appendArray(b, pgtype.TextOID, v, size(v, func(t pgtype.Text) int { return len(t.String) }),
				func(b []byte, t pgtype.Text) ([]byte, bool) { return append(b, t.String...), t.Valid }), true
		}
	case []bool:
		if oid == pgtype.BoolArrayOID {
			return appendArray(b, pgtype.BoolOID, v, len(v), func(b []byte, x bool) ([]byte, bool) { return appendBool(b, x), true }), true
		}
	case []time.Time:
		if oid == pgtype.TimestamptzArrayOID {
			return appendArray(b, pgtype.TimestamptzOID, v, 8*len(v), func(b []byte, t time.Time) ([]byte, bool) {
				return appendTimestamptz(b, t), true
			}), true
		}
	case [][]byte:
		if oid == pgtype.ByteaArrayOID {
			return appendArray(b, pgtype.ByteaOID, v, size(v, func(x []byte) int { return len(x) }),
				func(b []byte, x []byte) ([]byte, bool) { return append(b, x...), x != nil }), true
		}
	case []pgtype.Numeric:
		if oid == pgtype.NumericArrayOID && integers(v) {
			// An int64 takes at most 8 bytes of header and 5 digits.
			return appendArray(b, pgtype.NumericOID, v, 18*len(v), func(b []byte, n pgtype.Numeric) ([]byte, bool) {
				if !n.Valid {
					return b, false
				}
				return appendNumeric(b, n.Int), true
			}), true
		}
	}
	return b, false
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// postgresEpoch is the origin of PostgreSQL's timestamps, in Unix
// microseconds.
const postgresEpoch = 946684800000000

func appendTimestamptz(b []byte, t time.Time) []byte {
	return binary.BigEndian.AppendUint64(b, uint64(t.UnixMicro()-postgresEpoch))
}

// appendArray appends a one-dimension array of elements of type elem; each
// element is appended by value, which reports false for NULL. size is what
// the values take, or a close guess, so that b grows once.
func appendArray[T any](b []byte, elem uint32, values []T, size int, value func([]byte, T) ([]byte, bool)) []byte {
	b = slices.Grow(b, 20+4*len(values)+size)
	start := len(b)
	b = binary.BigEndian.AppendUint32(b, 1) // dimensions
	b = binary.BigEndian.AppendUint32(b, 0) // has NULLs, set below
	b = binary.BigEndian.AppendUint32(b, elem)
	b = binary.BigEndian.AppendUint32(b, uint32(len(values)))
	b = binary.BigEndian.AppendUint32(b, 1) // lower bound
	for _, v := range values {
		at := len(b)
		b = append(b, 0, 0, 0, 0)
		var ok bool
		if b, ok = value(b, v); !ok {
			b = b[:at]
			b = binary.BigEndian.AppendUint32(b, 0xFFFFFFFF) // -1: NULL
			binary.BigEndian.PutUint32(b[start+4:], 1)
			continue
		}
		binary.BigEndian.PutUint32(b[at:], uint32(len(b)-at-4))
	}
	return b
}

// size is the sum of the sizes of values.
func size[T any](values []T, of func(T) int) int {
	n := 0
	for _, v := range values {
		n += of(v)
	}
	return n
}

// integers reports whether every valid numeric is an integer (Exp 0), the
// only kind appendNumeric renders.
func integers(ns []pgtype.Numeric) bool {
	for _, n := range ns {
		if n.Valid && (n.Exp != 0 || n.NaN || n.InfinityModifier != pgtype.Finite || n.Int == nil) {
			return false
		}
	}
	return true
}

// appendNumeric appends the integer x as a numeric: its base-10000 digits,
// most significant first, with the weight of the first.
func appendNumeric(b []byte, x *big.Int) []byte {
	var digits []uint16
	if x.IsInt64() {
		var small [5]uint16 // an int64 has at most 5 base-10000 digits
		n := x.Int64()
		u := uint64(n)
		if n < 0 {
			u = uint64(-n) // the most negative int64 comes out right as uint64
		}
		i := len(small)
		for u > 0 {
			i--
			small[i] = uint16(u % 10000)
			u /= 10000
		}
		digits = small[i:]
	} else {
		s := new(big.Int).Abs(x).String()
		for pad := (4 - len(s)%4) % 4; pad > 0; pad-- {
			s = "0" + s
		}
		for i := 0; i < len(s); i += 4 {
			d := uint16(0)
			for _, c := range s[i : i+4] {
				d = d*10 + uint16(c-'0')
			}
			digits = append(digits, d)
		}
	}
	sign := uint16(0)
	if x.Sign() < 0 {
		sign = 0x4000
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(digits)))
	weight := len(digits) - 1
	if len(digits) == 0 {
		weight = 0
	}
	b = binary.BigEndian.AppendUint16(b, uint16(int16(weight)))
	b = binary.BigEndian.AppendUint16(b, sign)
	b = binary.BigEndian.AppendUint16(b, 0) // display scale
	for _, d := range digits {
		b = binary.BigEndian.AppendUint16(b, d)
	}
	return b
}

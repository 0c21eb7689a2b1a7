package numscript

import "fmt"

// Position is a place in a script: a byte offset, a 1-based line and a
// 1-based column counted in characters.
type Position struct {
	Offset int `json:"offset"`
	Line   int `json:"line"`
	Column int `json:"column"`
}

// String renders p as "line:column".
func (p Position) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Column) }

// Range is the span of a construct in a script: Start is its first
// character, End the position just after its last one.
type Range struct {
	Start Position `json:"start"`
	End   Position `json:"end"`
}

// String renders r by its start, "line:column".
func (r Range) String() string { return r.Start.String() }

// span returns the range from the start of a to the end of b.
func span(a, b Range) Range { return Range{Start: a.Start, End: b.End} }

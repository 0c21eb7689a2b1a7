package query

import "strings"

// AddressPattern is an account address filter (spec/ledger.md §3.3): the
// address's ":"-separated segments, where an empty segment matches any one
// segment, and a trailing "..." matches any number (zero or more) of further
// segments.
//
//	"users:"     2 segments, the first is "users"
//	"::admin"    3 segments, the third is "admin"
//	"users:..."  "users" followed by zero or more segments
//	"users:001"  exactly the address users:001
type AddressPattern struct {
	// Segments are the fixed positions; "" is a wildcard.
	Segments []string
	// Open is set by a trailing "...": further segments are allowed.
	Open bool
}

// ParseAddressPattern splits s into an AddressPattern. Every string is a
// valid pattern; "..." is special only as the last segment.
func ParseAddressPattern(s string) AddressPattern {
	segments := strings.Split(s, ":")
	p := AddressPattern{}
	if segments[len(segments)-1] == "..." {
		p.Open = true
		segments = segments[:len(segments)-1]
	}
	p.Segments = segments
	return p
}

// IsFull reports whether the pattern is one plain address (no wildcard
// segment, no trailing "..."), which compares by equality.
func (p AddressPattern) IsFull() bool {
	if p.Open {
		return false
	}
	for _, s := range p.Segments {
		if s == "" {
			return false
		}
	}
	return true
}

// Match reports whether address satisfies the pattern.
func (p AddressPattern) Match(address string) bool {
	segments := strings.Split(address, ":")
	if len(segments) < len(p.Segments) || (!p.Open && len(segments) != len(p.Segments)) {
		return false
	}
	for i, want := range p.Segments {
		if want != "" && segments[i] != want {
			return false
		}
	}
	return true
}

// String renders the pattern back to its filter form.
func (p AddressPattern) String() string {
	s := strings.Join(p.Segments, ":")
	if p.Open {
		if len(p.Segments) == 0 {
			return "..."
		}
		return s + ":..."
	}
	return s
}

// likeToken is one element of a compiled LIKE pattern.
type likeToken struct {
	kind byte // 'l' literal, '_' any one character, '%' any run
	r    rune
}

// compileLike splits a SQL LIKE pattern into tokens; the escape character is
// a backslash, as in PostgreSQL. It fails on a pattern ending in a lone
// escape, which PostgreSQL rejects.
func compileLike(pattern string) ([]likeToken, bool) {
	var toks []likeToken
	escaped := false
	for _, r := range pattern {
		switch {
		case escaped:
			toks = append(toks, likeToken{kind: 'l', r: r})
			escaped = false
		case r == '\\':
			escaped = true
		case r == '%':
			if len(toks) == 0 || toks[len(toks)-1].kind != '%' {
				toks = append(toks, likeToken{kind: '%'})
			}
		case r == '_':
			toks = append(toks, likeToken{kind: '_'})
		default:
			toks = append(toks, likeToken{kind: 'l', r: r})
		}
	}
	return toks, !escaped
}

// MatchLike reports whether s matches the SQL LIKE pattern: "%" matches any
// run of characters, "_" exactly one, and a backslash makes the next
// character literal. Matching is case-sensitive, like PostgreSQL's LIKE. A
// pattern ending in a lone backslash is invalid and matches nothing.
func MatchLike(pattern, s string) bool {
	toks, ok := compileLike(pattern)
	if !ok {
		return false
	}
	text := []rune(s)
	// Greedy matching with one backtrack point: the last "%" seen.
	i, j := 0, 0
	star, mark := -1, 0
	for i < len(text) {
		switch {
		case j < len(toks) && (toks[j].kind == '_' || (toks[j].kind == 'l' && toks[j].r == text[i])):
			i++
			j++
		case j < len(toks) && toks[j].kind == '%':
			star, mark = j, i
			j++
		case star >= 0:
			mark++
			i, j = mark, star+1
		default:
			return false
		}
	}
	for j < len(toks) && toks[j].kind == '%' {
		j++
	}
	return j == len(toks)
}

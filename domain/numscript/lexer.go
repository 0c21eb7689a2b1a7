package numscript

import (
	"strings"
	"unicode/utf8"
)

// lexer turns a script into tokens. It tracks lines and columns, skips
// whitespace and comments, and remembers a "// @version ..." comment.
type lexer struct {
	src     string
	pos     Position
	version string
	tokens  []token
}

// lex splits src into tokens ending with tokEOF, or fails with a parse error.
func lex(src string) (*lexer, error) {
	l := &lexer{src: src, pos: Position{Line: 1, Column: 1}}
	for {
		tok, err := l.next()
		if err != nil {
			return nil, err
		}
		l.tokens = append(l.tokens, tok)
		if tok.kind == tokEOF {
			return l, nil
		}
	}
}

// peekByte returns the byte at offset i from the cursor, or 0 past the end.
func (l *lexer) peekByte(i int) byte {
	if l.pos.Offset+i < len(l.src) {
		return l.src[l.pos.Offset+i]
	}
	return 0
}

// advance moves the cursor n bytes forward, keeping line and column right.
func (l *lexer) advance(n int) {
	for ; n > 0 && l.pos.Offset < len(l.src); n-- {
		c := l.src[l.pos.Offset]
		l.pos.Offset++
		switch {
		case c == '\n':
			l.pos.Line++
			l.pos.Column = 1
		case c&0xC0 != 0x80: // not a UTF-8 continuation byte
			l.pos.Column++
		}
	}
}

// advanceWhile moves forward over the bytes that satisfy ok.
func (l *lexer) advanceWhile(ok func(byte) bool) {
	for l.pos.Offset < len(l.src) && ok(l.src[l.pos.Offset]) {
		l.advance(1)
	}
}

// skipSpaceAndComments moves past blanks, line comments and nested block
// comments.
func (l *lexer) skipSpaceAndComments() error {
	for l.pos.Offset < len(l.src) {
		switch c := l.peekByte(0); {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			l.advance(1)
		case c == '/' && l.peekByte(1) == '/':
			start := l.pos.Offset + 2
			l.advanceWhile(func(b byte) bool { return b != '\n' })
			l.comment(l.src[start:l.pos.Offset])
		case c == '/' && l.peekByte(1) == '*':
			if err := l.blockComment(); err != nil {
				return err
			}
		default:
			return nil
		}
	}
	return nil
}

// comment records the version annotation of a "// @version ..." comment.
func (l *lexer) comment(text string) {
	text = strings.TrimSpace(text)
	if rest, ok := strings.CutPrefix(text, "@version"); ok && l.version == "" {
		l.version = strings.TrimSpace(rest)
	}
}

// blockComment skips a /* ... */ comment; such comments nest.
func (l *lexer) blockComment() error {
	start := l.pos
	depth := 0
	for l.pos.Offset < len(l.src) {
		switch {
		case l.peekByte(0) == '/' && l.peekByte(1) == '*':
			depth++
			l.advance(2)
		case l.peekByte(0) == '*' && l.peekByte(1) == '/':
			depth--
			l.advance(2)
			if depth == 0 {
				return nil
			}
		default:
			l.advance(1)
		}
	}
	return parseErrorf(Range{Start: start, End: l.pos}, "unterminated comment")
}

// next reads one token.
func (l *lexer) next() (token, error) {
	if err := l.skipSpaceAndComments(); err != nil {
		return token{}, err
	}
	start := l.pos
	if start.Offset >= len(l.src) {
		return token{kind: tokEOF, rng: Range{Start: start, End: start}}, nil
	}
	c := l.peekByte(0)
	switch {
	case c == '"':
		return l.stringLit()
	case c == '$':
		if !isVarStart(l.peekByte(1)) {
			l.advance(1)
			return token{}, parseErrorf(Range{Start: start, End: l.pos}, "invalid variable name: '$' must be followed by a lowercase letter or '_'")
		}
		l.advance(1)
		l.advanceWhile(isVarByte)
		return l.emit(tokVariable, start), nil
	case c == '@':
		return l.account()
	case isDigit(c):
		return l.numberOrPercent()
	case 'A' <= c && c <= 'Z':
		return l.asset(), nil
	case 'a' <= c && c <= 'z':
		l.advanceWhile(func(b byte) bool { return ('a' <= b && b <= 'z') || b == '_' })
		return l.emit(tokIdent, start), nil
	case c == '#' && l.peekByte(1) == '!':
		l.advance(2)
		return l.emit(tokHashBang, start), nil
	}
	if kind, ok := punctuationByByte[c]; ok {
		l.advance(1)
		return l.emit(kind, start), nil
	}
	r, size := utf8.DecodeRuneInString(l.src[l.pos.Offset:])
	l.advance(size)
	return token{}, parseErrorf(Range{Start: start, End: l.pos}, "unexpected character %q", r)
}

// emit returns the token of the given kind spanning start..cursor.
func (l *lexer) emit(kind tokenKind, start Position) token {
	return token{kind: kind, text: l.src[start.Offset:l.pos.Offset], rng: Range{Start: start, End: l.pos}}
}

// stringLit reads "..." where \" is an escaped quote; strings stay on one line.
func (l *lexer) stringLit() (token, error) {
	start := l.pos
	l.advance(1)
	var b strings.Builder
	for {
		c := l.peekByte(0)
		switch {
		case l.pos.Offset >= len(l.src) || c == '\n' || c == '\r':
			return token{}, parseErrorf(Range{Start: start, End: l.pos}, "unterminated string")
		case c == '\\' && l.peekByte(1) == '"':
			b.WriteByte('"')
			l.advance(2)
		case c == '"':
			l.advance(1)
			return token{kind: tokString, text: b.String(), rng: Range{Start: start, End: l.pos}}, nil
		default:
			b.WriteByte(c)
			l.advance(1)
		}
	}
}

// account reads @part(:part)* where a part is [a-zA-Z0-9_-]+ or $variable.
func (l *lexer) account() (token, error) {
	start := l.pos
	l.advance(1)
	var parts []accountPart
	for {
		partStart := l.pos
		switch c := l.peekByte(0); {
		case c == '$' && isVarStart(l.peekByte(1)):
			l.advance(1)
			l.advanceWhile(isVarByte)
			rng := Range{Start: partStart, End: l.pos}
			parts = append(parts, accountPart{Var: &Variable{Name: l.src[partStart.Offset+1 : l.pos.Offset], Range: rng}, Range: rng})
		case isAccountByte(c):
			l.advanceWhile(isAccountByte)
			parts = append(parts, accountPart{Text: l.src[partStart.Offset:l.pos.Offset], Range: Range{Start: partStart, End: l.pos}})
		default:
			l.advance(1)
			return token{}, parseErrorf(Range{Start: start, End: l.pos}, "invalid account name: expected [a-zA-Z0-9_-] or a $variable after '%s'", l.src[start.Offset:partStart.Offset])
		}
		if l.peekByte(0) != ':' {
			tok := l.emit(tokAccount, start)
			tok.parts = parts
			return tok, nil
		}
		l.advance(1)
	}
}

// numberOrPercent reads 1_000 (a number) or 12.5% (a percentage).
func (l *lexer) numberOrPercent() (token, error) {
	start := l.pos
	l.advanceWhile(isDigit)
	switch {
	case l.peekByte(0) == '%':
		l.advance(1)
		return l.emit(tokPercent, start), nil
	case l.peekByte(0) == '.' && isDigit(l.peekByte(1)):
		l.advance(1)
		l.advanceWhile(isDigit)
		if l.peekByte(0) != '%' {
			return token{}, parseErrorf(Range{Start: start, End: l.pos}, "invalid number '%s': decimals are only allowed in percentages", l.src[start.Offset:l.pos.Offset])
		}
		l.advance(1)
		return l.emit(tokPercent, start), nil
	}
	for l.peekByte(0) == '_' && isDigit(l.peekByte(1)) {
		l.advance(1)
		l.advanceWhile(isDigit)
	}
	return l.emit(tokNumber, start), nil
}

// asset reads [A-Z][A-Z0-9]*(_[A-Z]+)?(/[0-9]+)?.
func (l *lexer) asset() token {
	start := l.pos
	l.advanceWhile(func(b byte) bool { return ('A' <= b && b <= 'Z') || isDigit(b) })
	if l.peekByte(0) == '_' && 'A' <= l.peekByte(1) && l.peekByte(1) <= 'Z' {
		l.advance(1)
		l.advanceWhile(func(b byte) bool { return 'A' <= b && b <= 'Z' })
	}
	if l.peekByte(0) == '/' && isDigit(l.peekByte(1)) {
		l.advance(1)
		l.advanceWhile(isDigit)
	}
	return l.emit(tokAsset, start)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isVarStart(c byte) bool { return ('a' <= c && c <= 'z') || c == '_' }

func isVarByte(c byte) bool { return isVarStart(c) || isDigit(c) }

func isAccountByte(c byte) bool {
	return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || isDigit(c) || c == '_' || c == '-'
}

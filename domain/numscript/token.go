package numscript

// tokenKind is the lexical class of a token.
type tokenKind int

const (
	tokEOF       tokenKind = iota
	tokIdent               // lowercase word: keywords, types, function names
	tokVariable            // $name
	tokAccount             // @a:b:$c
	tokAsset               // USD/2
	tokNumber              // 1_000
	tokPercent             // 12.5%
	tokString              // "text"
	tokLParen              // (
	tokRParen              // )
	tokLBracket            // [
	tokRBracket            // ]
	tokLBrace              // {
	tokRBrace              // }
	tokComma               // ,
	tokEq                  // =
	tokStar                // *
	tokPlus                // +
	tokMinus               // -
	tokSlash               // /
	tokBackslash           // \
	tokHashBang            // #!
)

// String names a token kind the way error messages show it.
func (k tokenKind) String() string {
	switch k {
	case tokEOF:
		return "end of script"
	case tokIdent:
		return "identifier"
	case tokVariable:
		return "variable"
	case tokAccount:
		return "account"
	case tokAsset:
		return "asset"
	case tokNumber:
		return "number"
	case tokPercent:
		return "percentage"
	case tokString:
		return "string"
	}
	return "'" + punctuation[k] + "'"
}

// punctuation maps the single-symbol token kinds to their text.
var punctuation = map[tokenKind]string{
	tokLParen: "(", tokRParen: ")", tokLBracket: "[", tokRBracket: "]",
	tokLBrace: "{", tokRBrace: "}", tokComma: ",", tokEq: "=", tokStar: "*",
	tokPlus: "+", tokMinus: "-", tokSlash: "/", tokBackslash: `\`, tokHashBang: "#!",
}

// punctuationByByte maps the one-character symbols to their token kind.
var punctuationByByte = func() map[byte]tokenKind {
	m := make(map[byte]tokenKind)
	for kind, text := range punctuation {
		if len(text) == 1 {
			m[text[0]] = kind
		}
	}
	return m
}()

// token is one lexeme: its kind, its source text and its range. For strings,
// text is the decoded content without quotes.
type token struct {
	kind  tokenKind
	text  string
	rng   Range
	parts []accountPart // tokAccount only
}

// describe renders t for an error message.
func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "end of script"
	case tokString:
		return `"` + t.text + `"`
	}
	return "'" + t.text + "'"
}

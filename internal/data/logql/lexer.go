package logql

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// ParseError is a syntax or semantic error in a query, located at a
// 1-based line and column (columns count characters, not bytes).
type ParseError struct {
	Line, Col int
	Msg       string
}

// Error formats the error as "line L, col C: msg".
func (e *ParseError) Error() string {
	return fmt.Sprintf("line %d, col %d: %s", e.Line, e.Col, e.Msg)
}

// newParseError locates byte offset pos of src.
func newParseError(src string, pos int, format string, args ...any) *ParseError {
	if pos > len(src) {
		pos = len(src)
	}
	if pos < 0 {
		pos = 0
	}
	line, col := 1, 1
	for i := 0; i < pos; {
		r, size := utf8.DecodeRuneInString(src[i:])
		if r == '\n' {
			line++
			col = 1
		} else {
			col++
		}
		i += size
	}
	return &ParseError{Line: line, Col: col, Msg: fmt.Sprintf(format, args...)}
}

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tString
	tNumber
	tDuration
	tBytes
	tLBrace
	tRBrace
	tLParen
	tRParen
	tLBrack
	tRBrack
	tComma
	tPipe      // |
	tPipeExact // |=
	tPipeMatch // |~
	tNeq       // !=
	tNre       // !~
	tEq        // =
	tEqEq      // ==
	tRe        // =~
	tGt
	tGte
	tLt
	tLte
	tAdd
	tSub
	tMul
	tDiv
	tMod
	tPow
	tColon
)

var tokNames = map[tokKind]string{
	tEOF: "end of query", tIdent: "identifier", tString: "string", tNumber: "number",
	tDuration: "duration", tBytes: "bytes", tLBrace: "{", tRBrace: "}", tLParen: "(",
	tRParen: ")", tLBrack: "[", tRBrack: "]", tComma: ",", tPipe: "|", tPipeExact: "|=",
	tPipeMatch: "|~", tNeq: "!=", tNre: "!~", tEq: "=", tEqEq: "==", tRe: "=~", tGt: ">",
	tGte: ">=", tLt: "<", tLte: "<=", tAdd: "+", tSub: "-", tMul: "*", tDiv: "/", tMod: "%",
	tPow: "^", tColon: ":",
}

func (k tokKind) String() string { return tokNames[k] }

type token struct {
	kind tokKind
	pos  int    // byte offset in the source
	text string // source text of the token
	str  string // unquoted value of a string token
}

// describe names a token for error messages.
func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of query"
	case tString:
		return "string " + strconv.Quote(t.str)
	case tIdent, tNumber, tDuration, tBytes:
		return strconv.Quote(t.text)
	}
	return strconv.Quote(t.kind.String())
}

// lex splits src into tokens. Comments run from # to the end of the line.
func lex(src string) ([]token, error) {
	var toks []token
	i := 0
	for {
		// Skip blanks and comments.
		for i < len(src) {
			c := src[i]
			if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
				i++
				continue
			}
			if c == '#' {
				for i < len(src) && src[i] != '\n' {
					i++
				}
				continue
			}
			break
		}
		if i >= len(src) {
			toks = append(toks, token{kind: tEOF, pos: len(src)})
			return toks, nil
		}
		start := i
		c := src[i]
		two := ""
		if i+1 < len(src) {
			two = src[i : i+2]
		}
		emit := func(k tokKind, n int) {
			toks = append(toks, token{kind: k, pos: start, text: src[start : start+n]})
			i = start + n
		}
		switch {
		case two == "|=":
			emit(tPipeExact, 2)
		case two == "|~":
			emit(tPipeMatch, 2)
		case two == "!=":
			emit(tNeq, 2)
		case two == "!~":
			emit(tNre, 2)
		case two == "==":
			emit(tEqEq, 2)
		case two == "=~":
			emit(tRe, 2)
		case two == ">=":
			emit(tGte, 2)
		case two == "<=":
			emit(tLte, 2)
		case c == '|':
			emit(tPipe, 1)
		case c == '=':
			emit(tEq, 1)
		case c == '>':
			emit(tGt, 1)
		case c == '<':
			emit(tLt, 1)
		case c == '{':
			emit(tLBrace, 1)
		case c == '}':
			emit(tRBrace, 1)
		case c == '(':
			emit(tLParen, 1)
		case c == ')':
			emit(tRParen, 1)
		case c == '[':
			emit(tLBrack, 1)
		case c == ']':
			emit(tRBrack, 1)
		case c == ',':
			emit(tComma, 1)
		case c == '+':
			emit(tAdd, 1)
		case c == '-':
			emit(tSub, 1)
		case c == '*':
			emit(tMul, 1)
		case c == '/':
			emit(tDiv, 1)
		case c == '%':
			emit(tMod, 1)
		case c == '^':
			emit(tPow, 1)
		case c == ':':
			emit(tColon, 1)
		case c == '"':
			j := i + 1
			for j < len(src) && src[j] != '"' {
				if src[j] == '\\' {
					j++
				}
				if j < len(src) && src[j] == '\n' {
					return nil, newParseError(src, start, "string literal not terminated before end of line")
				}
				j++
			}
			if j >= len(src) {
				return nil, newParseError(src, start, "string literal not terminated")
			}
			text := src[start : j+1]
			s, err := strconv.Unquote(text)
			if err != nil {
				return nil, newParseError(src, start, "invalid string literal %s: bad escape sequence", text)
			}
			toks = append(toks, token{kind: tString, pos: start, text: text, str: s})
			i = j + 1
		case c == '`':
			j := i + 1
			for j < len(src) && src[j] != '`' {
				j++
			}
			if j >= len(src) {
				return nil, newParseError(src, start, "raw string literal not terminated")
			}
			toks = append(toks, token{kind: tString, pos: start, text: src[start : j+1], str: src[i+1 : j]})
			i = j + 1
		case isDigit(c) || (c == '.' && i+1 < len(src) && isDigit(src[i+1])):
			tok, n, err := lexNumber(src, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, tok)
			i = n
		case isIdentStart(c):
			j := i + 1
			for j < len(src) && isIdentChar(src[j]) {
				j++
			}
			emit(tIdent, j-i)
		default:
			r, _ := utf8.DecodeRuneInString(src[i:])
			return nil, newParseError(src, start, "unexpected character %q", r)
		}
	}
}

// lexNumber scans a number, a duration (5m, 1h30m, 250ms) or a byte size
// (20MB, 1KiB) starting at i.
func lexNumber(src string, i int) (token, int, error) {
	start := i
	j := i
	for j < len(src) && isDigit(src[j]) {
		j++
	}
	if j < len(src) && src[j] == '.' {
		j++
		for j < len(src) && isDigit(src[j]) {
			j++
		}
	}
	// Exponent, only when followed by digits (so 1e3 but not "1d").
	if j+1 < len(src) && (src[j] == 'e' || src[j] == 'E') {
		k := j + 1
		if k < len(src) && (src[k] == '+' || src[k] == '-') {
			k++
		}
		if k < len(src) && isDigit(src[k]) {
			for k < len(src) && isDigit(src[k]) {
				k++
			}
			j = k
		}
	}
	if j < len(src) && (isIdentStart(src[j]) || src[j] == 0xc2) { // 0xc2: first byte of µ
		// A unit follows: scan the whole word (digits and letters).
		k := j
		for k < len(src) && (isIdentChar(src[k]) || src[k] == '.' || src[k] == 0xc2 || src[k] == 0xb5) {
			k++
		}
		text := src[start:k]
		if _, err := parseDuration(text); err == nil {
			return token{kind: tDuration, pos: start, text: text}, k, nil
		}
		if _, err := parseBytes(text); err == nil {
			return token{kind: tBytes, pos: start, text: text}, k, nil
		}
		return token{}, 0, newParseError(src, start, "invalid number, duration or byte size %q", text)
	}
	text := src[start:j]
	if _, err := strconv.ParseFloat(text, 64); err != nil {
		return token{}, 0, newParseError(src, start, "invalid number %q", text)
	}
	return token{kind: tNumber, pos: start, text: text}, j, nil
}

func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
func isIdentStart(c byte) bool { return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
func isIdentChar(c byte) bool  { return isIdentStart(c) || isDigit(c) }

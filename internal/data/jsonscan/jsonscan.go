// Package jsonscan is the JSON lexer shared by audittui's decoder
// (internal/data) and LogQL's `| json` flattener and path extractor
// (internal/data/logql): a small validating scanner over one in-memory
// document that reads strings, numbers and literals, skips whole values,
// and iterates objects and arrays without building a tree.
//
// Strings are scanned eight bytes at a time (SWAR) while they hold no
// quote, backslash or control character; escapes are validated as they
// are met and decoded only on demand (Unescape). Callers pull members and
// elements one at a time (NextKey, NextElem), so no closure runs per key.
//
// The scanner accepts exactly the JSON text that encoding/json accepts,
// except that it does not check UTF-8 (callers that need valid UTF-8 check
// it once for the whole document) and that nesting is bounded by MaxDepth.
package jsonscan

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// DefaultMaxDepth is the nesting bound when Scanner.MaxDepth is 0.
const DefaultMaxDepth = 512

// Scanner reads JSON from B starting at I. The zero value plus B is ready.
type Scanner struct {
	B []byte
	I int
	// MaxDepth bounds the nesting SkipValue accepts (0: DefaultMaxDepth),
	// so hostile input cannot exhaust the stack.
	MaxDepth int
	// Newline is set when whitespace skipped so far held a line break (the
	// document is pretty-printed).
	Newline bool
}

// SyntaxError is a JSON syntax error at byte Off of the scanned buffer.
type SyntaxError struct {
	Off int
	Msg string
	// EOF is true when the input ended inside a value: more input could
	// complete it (a truncated line, or a document still being read).
	EOF bool
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("%s at byte %d", e.Msg, e.Off) }

// IsEOF reports whether err is a SyntaxError caused by the end of input.
func IsEOF(err error) bool {
	var se *SyntaxError
	return errors.As(err, &se) && se.EOF
}

// ErrAt returns a SyntaxError at the current position.
func (s *Scanner) ErrAt(msg string) error { return &SyntaxError{Off: s.I, Msg: msg} }

// EOFErr returns the error for input that ends inside a value.
func (s *Scanner) EOFErr() error {
	return &SyntaxError{Off: s.I, Msg: "unexpected end of input (truncated line?)", EOF: true}
}

// SkipWS skips JSON whitespace.
func (s *Scanner) SkipWS() {
	if s.I < len(s.B) && s.B[s.I] > ' ' {
		return // the common case: compact JSON
	}
	for s.I < len(s.B) {
		switch s.B[s.I] {
		case ' ', '\t', '\r':
			s.I++
		case '\n':
			s.Newline = true
			s.I++
		default:
			return
		}
	}
}

// Peek returns the next byte after whitespace (0 at the end).
func (s *Scanner) Peek() byte {
	s.SkipWS()
	if s.I < len(s.B) {
		return s.B[s.I]
	}
	return 0
}

// Expect consumes byte c after optional whitespace.
func (s *Scanner) Expect(c byte) error {
	s.SkipWS()
	if s.I >= len(s.B) {
		return s.EOFErr()
	}
	if s.B[s.I] != c {
		return s.ErrAt(fmt.Sprintf("expected %q, found %q", c, s.B[s.I]))
	}
	s.I++
	return nil
}

const (
	swarLo = 0x0101010101010101
	swarHi = 0x8080808080808080
)

// swarStops returns a mask whose lowest set bit is the high bit of the
// first byte of x (little-endian) that is '"', '\\' or below 0x20, and 0
// when there is none. (Bits above the first stop byte may be set
// spuriously by borrows; the lowest is exact.)
//
// Each test is (t-lo)&^t on a byte's high bit, t being x, x^'"' or
// x^'\\': as neither '"' nor '\\' has the high bit, ^t has the high bits
// of ^x, so one &^x serves the three.
func swarStops(x uint64) uint64 {
	q := x ^ (swarLo * '"')
	bs := x ^ (swarLo * '\\')
	return ((x - swarLo*0x20) | (q - swarLo) | (bs - swarLo)) &^ x & swarHi
}

// IsHex reports whether c is a hexadecimal digit.
func IsHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// stopByte marks the bytes that end a run of plain string content: '"',
// '\\' and the control characters.
var stopByte = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// nextStop returns the index of the first stop byte in b at or after i
// (len(b) if none), eight bytes at a time (SWAR), with the position of the
// stop byte read from the mask.
func nextStop(b []byte, i int) int {
	if i >= 0 {
		// Words are read at b's base plus i, without slicing b for each
		// (whose bounds and pointer checks cost more than the test):
		// the loop's condition keeps every word inside b.
		p := unsafe.Pointer(unsafe.SliceData(b))
		for ; i <= len(b)-8; i += 8 {
			x := binary.LittleEndian.Uint64((*[8]byte)(unsafe.Add(p, i))[:])
			if m := swarStops(x); m != 0 {
				return i + bits.TrailingZeros64(m)>>3
			}
		}
	}
	for i < len(b) && !stopByte[b[i]] {
		i++
	}
	return i
}

// String scans the string that starts at the current position (which must
// be '"') and returns the span of its content (without the quotes) and
// whether it holds escapes. Escapes are validated, not decoded.
func (s *Scanner) String() (start, end int, escaped bool, err error) {
	return s.StringFrom(s.I + 1)
}

// NextStop returns the index of the first '"', '\\' or control byte in b
// at or after i (len(b) if none): where a string's plain content ends.
// A caller that finds '"' there has the whole string (without escapes)
// in one call; else StringFrom goes on from there.
func NextStop(b []byte, i int) int { return nextStop(b, i) }

// StringFrom is String for a string whose content (from the byte after
// the current position's '"') holds no stop byte before b[i] (NextStop):
// the scan goes on from i.
func (s *Scanner) StringFrom(i int) (start, end int, escaped bool, err error) {
	s.I++
	start = s.I
	b := s.B
	for ; ; i++ {
		i = nextStop(b, i)
		if i >= len(b) {
			break
		}
		c := b[i]
		if c == '"' {
			s.I = i + 1
			return start, i, escaped, nil
		}
		if c == '\\' {
			escaped = true
			i++
			if i >= len(b) {
				break
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				for k := 1; k <= 4; k++ {
					if i+k >= len(b) {
						s.I = len(b)
						return 0, 0, false, s.EOFErr()
					}
					if !IsHex(b[i+k]) {
						s.I = i + k
						return 0, 0, false, s.ErrAt("invalid \\u escape")
					}
				}
				i += 4
			default:
				s.I = i
				return 0, 0, false, s.ErrAt("invalid escape")
			}
			continue
		}
		s.I = i
		return 0, 0, false, s.ErrAt("control character in string")
	}
	s.I = len(b)
	return 0, 0, false, s.EOFErr()
}

// Number scans a JSON number at the current position and returns its text.
func (s *Scanner) Number() ([]byte, error) {
	b := s.B
	start := s.I
	i := s.I
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i >= len(b) {
		s.I = i
		return nil, s.EOFErr()
	}
	switch {
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		s.I = i
		return nil, s.ErrAt("invalid number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			s.I = i
			if i == len(b) {
				return nil, s.EOFErr()
			}
			return nil, s.ErrAt("invalid number")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			s.I = i
			if i == len(b) {
				return nil, s.EOFErr()
			}
			return nil, s.ErrAt("invalid number")
		}
	}
	s.I = i
	return b[start:i], nil
}

// Literal consumes lit (true, false or null) at the current position.
func (s *Scanner) Literal(lit string) error {
	if len(s.B)-s.I < len(lit) || string(s.B[s.I:s.I+len(lit)]) != lit {
		if len(s.B)-s.I < len(lit) && string(s.B[s.I:]) == lit[:len(s.B)-s.I] {
			s.I = len(s.B)
			return s.EOFErr()
		}
		return s.ErrAt("invalid literal")
	}
	s.I += len(lit)
	return nil
}

// IsNull consumes a null if one is at the current position.
func (s *Scanner) IsNull() bool {
	if s.I+4 <= len(s.B) && string(s.B[s.I:s.I+4]) == "null" {
		s.I += 4
		return true
	}
	return false
}

func (s *Scanner) maxDepth() int {
	if s.MaxDepth > 0 {
		return s.MaxDepth
	}
	return DefaultMaxDepth
}

// SkipValue validates and skips any JSON value (after optional
// whitespace). depth is the nesting of the value's container (0 at the top
// level).
func (s *Scanner) SkipValue(depth int) error {
	s.SkipWS()
	if s.I >= len(s.B) {
		return s.EOFErr()
	}
	switch c := s.B[s.I]; c {
	case '"':
		_, _, _, err := s.String()
		return err
	case '{':
		if depth >= s.maxDepth() {
			return s.ErrAt("nesting too deep")
		}
		s.I++
		for first := true; ; first = false {
			_, _, done, err := s.nextKey(first, false)
			if err != nil || done {
				return err
			}
			if err := s.SkipValue(depth + 1); err != nil {
				return err
			}
		}
	case '[':
		if depth >= s.maxDepth() {
			return s.ErrAt("nesting too deep")
		}
		s.I++
		for first := true; ; first = false {
			done, err := s.NextElem(first)
			if err != nil || done {
				return err
			}
			if err := s.SkipValue(depth + 1); err != nil {
				return err
			}
		}
	case 't':
		return s.Literal("true")
	case 'f':
		return s.Literal("false")
	case 'n':
		return s.Literal("null")
	default:
		if c == '-' || c >= '0' && c <= '9' {
			_, err := s.Number()
			return err
		}
		return s.ErrAt(fmt.Sprintf("unexpected character %q", c))
	}
}

// BeginObject consumes '{' after optional whitespace.
func (s *Scanner) BeginObject() error { return s.Expect('{') }

// NextKey moves to the next member of the object whose '{' has been
// consumed: it consumes the ',' before the member (unless first) or the
// closing '}' (done), then the key and the ':', and skips whitespace up to
// the value, which the caller must consume. key is the raw content of the
// key (escapes not decoded when esc is true).
func (s *Scanner) NextKey(first bool) (key []byte, esc, done bool, err error) {
	return s.nextKey(first, true)
}

func (s *Scanner) nextKey(first, wantKey bool) (key []byte, esc, done bool, err error) {
	s.SkipWS()
	if s.I >= len(s.B) {
		return nil, false, false, s.EOFErr()
	}
	c := s.B[s.I]
	if c == '}' && first {
		s.I++
		return nil, false, true, nil
	}
	if !first {
		switch c {
		case ',':
			s.I++
			s.SkipWS()
			if s.I >= len(s.B) {
				return nil, false, false, s.EOFErr()
			}
			c = s.B[s.I]
		case '}':
			s.I++
			return nil, false, true, nil
		default:
			return nil, false, false, s.ErrAt("expected ',' or '}' in object")
		}
	}
	if c != '"' {
		return nil, false, false, s.ErrAt("expected object key")
	}
	ks, ke, esc, err := s.String()
	if err != nil {
		return nil, false, false, err
	}
	// ':' (usually right after the key).
	if s.I < len(s.B) && s.B[s.I] == ':' {
		s.I++
	} else if err := s.Expect(':'); err != nil {
		return nil, false, false, err
	}
	s.SkipWS()
	if s.I >= len(s.B) {
		return nil, false, false, s.EOFErr()
	}
	if wantKey {
		key = s.B[ks:ke]
	}
	return key, esc, false, nil
}

// BeginArray consumes '[' after optional whitespace.
func (s *Scanner) BeginArray() error { return s.Expect('[') }

// NextElem moves to the next element of the array whose '[' has been
// consumed: it consumes the ',' before the element (unless first) or the
// closing ']' (done), and skips whitespace up to the element, which the
// caller must consume.
func (s *Scanner) NextElem(first bool) (done bool, err error) {
	s.SkipWS()
	if s.I >= len(s.B) {
		return false, s.EOFErr()
	}
	c := s.B[s.I]
	if c == ']' && first {
		s.I++
		return true, nil
	}
	if !first {
		switch c {
		case ',':
			s.I++
			s.SkipWS()
			if s.I >= len(s.B) {
				return false, s.EOFErr()
			}
		case ']':
			s.I++
			return true, nil
		default:
			return false, s.ErrAt("expected ',' or ']' in array")
		}
	}
	return false, nil
}

// Unescape decodes the escapes of a JSON string's content (the bytes
// between the quotes) into dst[:0] (nil: a new slice). Unpaired surrogates
// become U+FFFD, as encoding/json decodes them.
func Unescape(raw []byte, dst []byte) ([]byte, error) {
	if dst == nil {
		dst = make([]byte, 0, len(raw))
	}
	dst = dst[:0]
	for i := 0; i < len(raw); i++ {
		// Copy the run up to the next escape at once.
		j := bytes.IndexByte(raw[i:], '\\')
		if j < 0 {
			return append(dst, raw[i:]...), nil
		}
		dst = append(dst, raw[i:i+j]...)
		i += j + 1
		if i >= len(raw) {
			return nil, errors.New("bad escape at end of string")
		}
		switch raw[i] {
		case '"', '\\', '/':
			dst = append(dst, raw[i])
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, ok := hex4(raw, i+1)
			if !ok {
				return nil, errors.New("bad \\u escape in string")
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2, ok2 := rune(-1), false
				if i+6 < len(raw) && raw[i+1] == '\\' && raw[i+2] == 'u' {
					r2, ok2 = hex4(raw, i+3)
				}
				if dec := utf16.DecodeRune(r, r2); ok2 && dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			dst = utf8.AppendRune(dst, r)
		default:
			return nil, fmt.Errorf("bad escape \\%c in string", raw[i])
		}
	}
	return dst, nil
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

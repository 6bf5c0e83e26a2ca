// Package termsafe makes untrusted text safe to write to a terminal.
//
// Audit events, policy and rule files and server answers carry
// attacker-controlled strings (user agents, object names, request bodies,
// error messages). Whatever of them reaches a terminal, through the TUI, a
// CLI table or an error message, goes through String first (or Segments,
// for a caller that styles the escapes). It renders everything a terminal
// could interpret, and everything that would hide or reorder text, as
// visible printable ASCII:
//
//	\t \n \r    tab, newline and carriage return
//	\xNN        the other C0 controls (NUL, BEL, ESC, ...) and DEL; and each
//	            byte that is not part of valid UTF-8 (a raw 0x9b, the 8-bit
//	            CSI, included)
//	<U+XXXX>    C1 controls (U+0080..U+009F); format characters (Unicode
//	            category Cf: the bidi embeddings, overrides, isolates and
//	            marks U+202A..U+202E, U+2066..U+2069, U+200E, U+200F,
//	            U+061C, zero-width spaces and joiners, the BOM, tag
//	            characters, the soft hyphen); the line and paragraph
//	            separators U+2028 and U+2029
//
// So an escape sequence prints as the bytes it is made of, none of them
// interpreted: OSC 52 (a clipboard write) "\x1b]52;c;aGk=\x07" reads
// `\x1b]52;c;aGk=\x07`, and a right-to-left override shows as <U+202E>
// instead of reversing what follows it. Everything else (printable ASCII,
// the letters and marks of every script, emoji) is kept as it is.
//
// The output is valid UTF-8 and holds no C0 or C1 control, no DEL, no
// format character and no line or paragraph separator, whatever the input.
// Replacements are printable ASCII, so the output can be measured,
// styled and truncated safely. termsafetest checks that property
// independently of this code.
package termsafe

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// String returns s with every control character, format character and
// invalid byte replaced by a visible escape (see the package doc). The
// result is safe to write to a terminal.
func String(s string) string {
	n := firstEscape(s)
	if n == len(s) {
		return s // the common case: nothing to escape, nothing allocated
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:n])
	walk(s[n:], func(text string, _ bool) { b.WriteString(text) })
	return b.String()
}

// Segment is a run of String's output: kept text, or one escape token.
type Segment struct {
	Text   string
	Escape bool
}

// Segments splits String(s) into runs of kept text and escape tokens, in
// order, so a caller can style the tokens apart and never cut one in two.
// Concatenating the Texts gives String(s).
func Segments(s string) []Segment {
	if firstEscape(s) == len(s) {
		return []Segment{{Text: s}}
	}
	var out []Segment
	walk(s, func(text string, esc bool) { out = append(out, Segment{Text: text, Escape: esc}) })
	return out
}

// firstEscape returns the index of the first byte of s that starts an
// escape (len(s) when there is none).
func firstEscape(s string) int {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			return i
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || escaped(r) {
			return i
		}
		i += size
	}
	return len(s)
}

// walk calls emit with each run of kept text (esc false) and each escape
// token (esc true) of s, in order.
func walk(s string, emit func(text string, esc bool)) {
	start := 0 // start of the pending run of kept text
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		r, size := rune(c), 1
		if c >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		var tok string
		switch {
		case r == utf8.RuneError && size == 1:
			tok = hexByte(c) // not valid UTF-8: show the byte
		case escaped(r):
			tok = token(r)
		default:
			i += size
			continue
		}
		if start < i {
			emit(s[start:i], false)
		}
		emit(tok, true)
		i += size
		start = i
	}
	if start < len(s) {
		emit(s[start:], false)
	}
}

// escaped reports whether the valid rune r must be shown as a token.
func escaped(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f:
		return true // C0, DEL
	case r < 0x80:
		return false
	case r <= 0x9f:
		return true // C1
	case r == 0x2028, r == 0x2029:
		return true // line and paragraph separators
	}
	return unicode.Is(unicode.Cf, r)
}

// token is the visible form of an escaped rune.
func token(r rune) string {
	switch r {
	case '\t':
		return `\t`
	case '\n':
		return `\n`
	case '\r':
		return `\r`
	}
	if r < 0x80 {
		return hexByte(byte(r))
	}
	const upper = "0123456789ABCDEF"
	var buf [12]byte
	n := len(buf)
	buf[n-1] = '>'
	n--
	for digits := 0; digits < 4 || r > 0; digits++ {
		n--
		buf[n] = upper[r&0xf]
		r >>= 4
	}
	n -= 3
	copy(buf[n:], "<U+")
	return string(buf[n:])
}

func hexByte(c byte) string {
	return string([]byte{'\\', 'x', hexDigits[c>>4], hexDigits[c&0xf]})
}

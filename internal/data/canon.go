package data

import (
	"bytes"
	"unicode/utf16"
	"unicode/utf8"
)

// Canonical JSON string escapes, for the identity of an event (DupLine).
//
// Writers of JSON spell one string several ways. The apiserver (Go's
// encoding/json) writes `&`, `<`, `>`, U+2028 and U+2029 as `\u0026`,
// `\u003c`, `\u003e`, `\u2028`, `\u2029` and invalid UTF-8 as `\ufffd`;
// jq writes them all raw (UTF-8), and writes DEL, which Go leaves raw, as
// `\u007f`; Python's json.dumps writes every non-ASCII character as
// `\uXXXX` (surrogate pairs beyond the BMP); PHP writes `/` as `\/`; Go
// before 1.22 wrote `\u0008` and `\u000c` where it now writes `\b` and
// `\f`. canonEscapes rewrites each escape to the one spelling of its
// character:
//
//   - `"` and `\` as `\"` and `\\`; U+0008, U+0009, U+000A, U+000C and
//     U+000D as `\b`, `\t`, `\n`, `\f`, `\r`; the other characters below
//     U+0020 as `\u00xx` (lower-case hex): the escapes JSON requires, as
//     both Go and jq write them;
//   - every other character raw, in UTF-8 (`\/` as `/`, `\u0026` as `&`,
//     a surrogate pair as its character); a lone surrogate as U+FFFD, the
//     character Go's and jq's decoders read it as.
//
// Bytes outside escapes are kept, so the JSON value is unchanged, and a
// line and its `jq .` re-export (compacted) have one canonical form.

// canonEscapes returns b (compact JSON) with its string escapes in the
// canonical spelling: b itself when they already are (no `\u` or `\/`
// escape: the common case, found by a scan of its backslashes), else a
// copy, made in *buf when buf is not nil (grown as needed, and kept for
// the next call), else new. A canonical spelling is never longer than the
// escape it replaces, so the copy is made once, whole (not zeroed first),
// and rewritten in place.
func canonEscapes(b []byte, buf *[]byte) []byte {
	var out []byte  // a copy of b once an escape changes; out[:w] is done
	w, done := 0, 0 // b[done:] (out[done:]) is not yet at out[w:]
	var rb [utf8.UTFMax]byte
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '\\')
		if j < 0 {
			break
		}
		i += j
		if i+1 >= len(b) {
			break
		}
		var rep []byte // the canonical spelling of b[i:i+n]
		var n int
		switch b[i+1] {
		case 'u':
			r, m := unescapeU(b[i:])
			if m == 0 {
				i += 2 // not an escape a decoder reads: kept
				continue
			}
			n = m
			rep = canonRune(rb[:0], r)
			if bytes.Equal(rep, b[i:i+n]) {
				i += n
				continue
			}
		case '/':
			n, rep = 2, rb[:1]
			rb[0] = '/'
		default:
			i += 2 // \" \\ \b \f \n \r \t: canonical already
			continue
		}
		if out == nil {
			if buf != nil && cap(*buf) >= len(b) {
				out = (*buf)[:len(b)]
				copy(out, b)
			} else {
				out = make([]byte, len(b))
				copy(out, b)
				if buf != nil {
					*buf = out
				}
			}
			w = i
		} else {
			w += copy(out[w:], out[done:i])
		}
		w += copy(out[w:], rep)
		i += n
		done = i
	}
	if out == nil {
		return b
	}
	w += copy(out[w:], out[done:])
	return out[:w]
}

// hasLooseEscape reports whether b holds an escape canonEscapes may
// rewrite (a `\u` or `\/` escape): false means canonEscapes(b) is b. One
// scan of b for backslashes; the others (`\"`, `\\`, `\n`, ...) are
// passed over two bytes at a time.
func hasLooseEscape(b []byte) bool {
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '\\')
		if j < 0 {
			return false
		}
		i += j + 1
		if i >= len(b) {
			return false
		}
		if c := b[i]; c == 'u' || c == '/' {
			return true
		}
		i++
	}
}

// unescapeU reads the `\uXXXX` escape at the start of b, with the low
// half that follows a high surrogate (`\uXXXX\uXXXX`): the character and
// the bytes it spans; 0 bytes when b does not start with one (bad hex).
// A lone surrogate reads as U+FFFD.
func unescapeU(b []byte) (rune, int) {
	r, ok := hex4(b)
	if !ok {
		return 0, 0
	}
	if !utf16.IsSurrogate(r) {
		return r, 6
	}
	if r < 0xdc00 && len(b) >= 12 && b[6] == '\\' && b[7] == 'u' {
		if lo, ok := hex4(b[6:]); ok {
			if c := utf16.DecodeRune(r, lo); c != utf8.RuneError {
				return c, 12
			}
		}
	}
	return utf8.RuneError, 6
}

// hex4 decodes the four hex digits of the `\u` escape at the start of b.
func hex4(b []byte) (rune, bool) {
	if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
		return 0, false
	}
	var r rune
	for _, c := range b[2:6] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// canonRune appends the canonical spelling of r inside a JSON string.
func canonRune(dst []byte, r rune) []byte {
	switch r {
	case '"', '\\':
		return append(dst, '\\', byte(r))
	case '\b':
		return append(dst, '\\', 'b')
	case '\t':
		return append(dst, '\\', 't')
	case '\n':
		return append(dst, '\\', 'n')
	case '\f':
		return append(dst, '\\', 'f')
	case '\r':
		return append(dst, '\\', 'r')
	}
	if r < 0x20 {
		const hex = "0123456789abcdef"
		return append(dst, '\\', 'u', '0', '0', hex[r>>4], hex[r&0xf])
	}
	return utf8.AppendRune(dst, r)
}

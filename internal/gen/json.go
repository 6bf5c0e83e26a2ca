package gen

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// The helpers below append JSON text exactly as Go's encoding/json writes it
// (the encoder kube-apiserver's log backend uses): HTML-safe escaping of
// '<', '>' and '&', \b \f \n \r \t short escapes, \u00XX for other control
// characters, U+2028/U+2029 escaped, invalid UTF-8 replaced by \ufffd.

const hexDigits = "0123456789abcdef"

// safe[b] is true for ASCII bytes that encoding/json writes unescaped
// (with HTML escaping on).
var safe = func() (t [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = true
	}
	t['"'], t['\\'], t['<'], t['>'], t['&'] = false, false, false, false, false
	return t
}()

// appendString appends s as a JSON string literal.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if safe[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendKey appends `"key":` for a key known to need no escaping.
func appendKey(dst []byte, key string) []byte {
	dst = append(dst, '"')
	dst = append(dst, key...)
	return append(dst, '"', ':')
}

// appendStrings appends a JSON array of strings.
func appendStrings(dst []byte, ss []string) []byte {
	dst = append(dst, '[')
	for i, s := range ss {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, s)
	}
	return append(dst, ']')
}

// appendMicroTime appends t (Unix nanoseconds) in metav1.MicroTime's JSON
// form: RFC 3339 in UTC with exactly six fractional digits, quoted.
func appendMicroTime(dst []byte, ns int64) []byte {
	t := time.Unix(0, ns).UTC()
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	micro := t.Nanosecond() / 1000
	dst = append(dst, '"')
	dst = appendPad(dst, year, 4)
	dst = append(dst, '-')
	dst = appendPad(dst, int(month), 2)
	dst = append(dst, '-')
	dst = appendPad(dst, day, 2)
	dst = append(dst, 'T')
	dst = appendPad(dst, hour, 2)
	dst = append(dst, ':')
	dst = appendPad(dst, minute, 2)
	dst = append(dst, ':')
	dst = appendPad(dst, sec, 2)
	dst = append(dst, '.')
	dst = appendPad(dst, micro, 6)
	return append(dst, 'Z', '"')
}

func appendPad(dst []byte, v, width int) []byte {
	var buf [8]byte
	i := len(buf)
	for ; width > 0 || v > 0; width-- {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	return append(dst, buf[i:]...)
}

func appendInt(dst []byte, v int64) []byte { return strconv.AppendInt(dst, v, 10) }

// appendUUID appends a random (version 4) UUID drawn from two 64-bit words.
func appendUUID(dst []byte, hi, lo uint64) []byte {
	hi = hi&^(0xF<<12) | 4<<12   // version 4
	lo = lo&^(0x3<<62) | 0x2<<62 // RFC 4122 variant
	var b [36]byte
	put := func(pos int, v uint64, nibbles int) {
		for k := nibbles - 1; k >= 0; k-- {
			b[pos+k] = hexDigits[v&0xF]
			v >>= 4
		}
	}
	put(0, hi>>32, 8)
	b[8] = '-'
	put(9, hi>>16, 4)
	b[13] = '-'
	put(14, hi, 4)
	b[18] = '-'
	put(19, lo>>48, 4)
	b[23] = '-'
	put(24, lo, 12)
	return append(dst, b[:]...)
}

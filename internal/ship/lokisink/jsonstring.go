package lokisink

import (
	"bufio"
	"io"
	"unicode/utf8"

	"github.com/audittui/audittui/internal/ship/process"
)

const hexDigits = "0123456789abcdef"

// writeJSONString writes the record's line as a JSON string, reading a
// spooled line piece by piece. Invalid UTF-8 becomes U+FFFD, as
// encoding/json writes it.
func writeJSONString(w *bufio.Writer, r *process.Record) error {
	w.WriteByte('"')
	if r.Spool == nil {
		escape(w, r.Line, true)
	} else {
		sr := io.NewSectionReader(r.Spool, 0, r.SpoolSize)
		buf := make([]byte, 32<<10)
		var carry [utf8.UTFMax]byte
		nc := 0
		for {
			copy(buf, carry[:nc])
			n, err := sr.Read(buf[nc:])
			eof := err == io.EOF
			if err != nil && !eof {
				return err
			}
			nc = copy(carry[:], escape(w, buf[:nc+n], eof))
			if eof {
				break
			}
		}
	}
	w.WriteByte('"')
	return nil
}

// escape writes b JSON-escaped. Unless final, a rune cut at the end of b is
// returned to be continued.
func escape(w *bufio.Writer, b []byte, final bool) []byte {
	start := 0
	for i := 0; i < len(b); {
		c := b[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			w.Write(b[start:i])
			switch c {
			case '"', '\\':
				w.WriteByte('\\')
				w.WriteByte(c)
			case '\n':
				w.WriteString(`\n`)
			case '\r':
				w.WriteString(`\r`)
			case '\t':
				w.WriteString(`\t`)
			default:
				w.WriteString(`\u00`)
				w.WriteByte(hexDigits[c>>4])
				w.WriteByte(hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			if !final && !utf8.FullRune(b[i:]) {
				w.Write(b[start:i])
				return b[i:]
			}
			w.Write(b[start:i])
			w.WriteString(`\ufffd`)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			w.Write(b[start:i])
			w.WriteString(`\u202`)
			w.WriteByte(hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	w.Write(b[start:])
	return nil
}

package data

import (
	"bytes"
	"io"
	"unicode/utf16"
	"unicode/utf8"
)

// Byte order marks. A UTF-8 one (Windows tools write it) is not part of
// the text; at the start of a stream or of a line (`cat a.log b.log` where
// b starts with one) the readers and the decoder skip it. A UTF-16 one
// says the stream is UTF-16 (Windows PowerShell's `>` and Out-File write
// UTF-16LE with one): the reader decodes it to UTF-8.
var (
	bomUTF8    = []byte("\xef\xbb\xbf")
	bomUTF16LE = []byte("\xff\xfe")
	bomUTF16BE = []byte("\xfe\xff")
)

// utf16Head tells whether a stream that starts with head is UTF-16, and
// its byte order: a UTF-16 byte order mark, or (without one) a JSON
// document's or array's first character followed or preceded by a NUL,
// which no UTF-8 JSON input starts with. bom is the length of the mark.
func utf16Head(head []byte) (isUTF16, bigEndian bool, bom int) {
	switch {
	case bytes.HasPrefix(head, bomUTF16LE):
		return true, false, 2
	case bytes.HasPrefix(head, bomUTF16BE):
		return true, true, 2
	case len(head) >= 4 && (head[0] == '{' || head[0] == '[') && head[1] == 0 && head[3] == 0:
		return true, false, 0
	case len(head) >= 4 && head[0] == 0 && (head[1] == '{' || head[1] == '[') && head[2] == 0:
		return true, true, 0
	}
	return false, false, 0
}

// utf16Text reports whether a rejected document looks like UTF-16 text:
// after a UTF-16 byte order mark, if any, ASCII interleaved with NULs (a
// line of a UTF-16 file read as UTF-8 starts with the NUL half of its
// first character or of the previous line's newline).
func utf16Text(doc []byte) bool {
	if bytes.HasPrefix(doc, bomUTF16LE) || bytes.HasPrefix(doc, bomUTF16BE) {
		doc = doc[2:]
	}
	b := doc[:min(len(doc), 64)]
	if len(b) > 0 && b[0] == 0 {
		b = b[1:]
	}
	if len(b) < 8 {
		return false
	}
	for i := 0; i+1 < len(b); i += 2 {
		if c := b[i]; b[i+1] != 0 || (c < 0x20 || c > 0x7e) && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

// utf16Reason is the reject reason for a document that looks like UTF-16.
const utf16Reason = "UTF-16 encoded text, not UTF-8 (a file written by Windows PowerShell's > or Out-File?); convert it with iconv -f UTF-16 -t UTF-8"

// utf16Reader decodes a UTF-16 stream to UTF-8. An unpaired surrogate or
// an odd byte at the end becomes an invalid UTF-8 byte (0xff), so that the
// line holding it is rejected as invalid, as on UTF-8 input, and not
// quietly changed.
type utf16Reader struct {
	r   io.Reader
	be  bool
	in  []byte // input read and not yet decoded
	out []byte // decoded, not yet returned
	err error  // the error that ended r
}

func newUTF16Reader(r io.Reader, bigEndian bool) *utf16Reader {
	return &utf16Reader{r: r, be: bigEndian, in: make([]byte, 0, 64<<10)}
}

func (u *utf16Reader) Read(p []byte) (int, error) {
	for len(u.out) == 0 {
		if u.err != nil {
			return 0, u.err
		}
		n, err := u.r.Read(u.in[len(u.in):cap(u.in)])
		u.in = u.in[:len(u.in)+n]
		if err != nil {
			u.err = err
		}
		u.decode(err != nil)
	}
	n := copy(p, u.out)
	u.out = u.out[n:]
	return n, nil
}

// decode decodes what u.in holds (all of it at the end of the input) to
// u.out, keeping an incomplete unit or surrogate pair for the next read.
func (u *utf16Reader) decode(atEnd bool) {
	in := u.in
	out := u.out[:0]
	unit := func(i int) rune {
		if u.be {
			return rune(in[i])<<8 | rune(in[i+1])
		}
		return rune(in[i+1])<<8 | rune(in[i])
	}
	i := 0
	for i+1 < len(in) {
		c := unit(i)
		switch {
		case c < 0xd800 || c > 0xdfff:
			out = utf8.AppendRune(out, c)
			i += 2
		case c <= 0xdbff && i+3 < len(in):
			if c2 := unit(i + 2); c2 >= 0xdc00 && c2 <= 0xdfff {
				out = utf8.AppendRune(out, utf16.DecodeRune(c, c2))
				i += 4
			} else {
				out = append(out, 0xff)
				i += 2
			}
		case c <= 0xdbff && !atEnd:
			// The low half of the pair is not read yet.
			goto keep
		default:
			out = append(out, 0xff)
			i += 2
		}
	}
	if atEnd && i < len(in) {
		out = append(out, 0xff) // an odd byte: the input is cut
		i = len(in)
	}
keep:
	u.out = out
	u.in = u.in[:copy(u.in, in[i:])]
}

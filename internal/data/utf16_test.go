package data

import (
	"bytes"
	"io"
	"testing"
	"testing/iotest"
)

// TestUTF16Reader: pairs decode across reads; an unpaired surrogate or a
// cut last unit becomes an invalid UTF-8 byte (the line is rejected, not
// quietly changed).
func TestUTF16Reader(t *testing.T) {
	for _, tc := range []struct {
		name string
		le   []byte
		want string
	}{
		{"ascii", []byte("a\x00b\x00"), "ab"},
		{"pair", []byte("a\x00\x3d\xd8\x00\xdeb\x00"), "a\U0001F600b"},
		{"lone high", []byte("\x3d\xd8x\x00"), "\xffx"},
		{"lone low", []byte("\x00\xdex\x00"), "\xffx"},
		{"high at the end", []byte("x\x00\x3d\xd8"), "x\xff"},
		{"odd byte", []byte("x\x00y"), "x\xff"},
		{"BMP", []byte("\xe9\x00\xac\x20"), "é€"},
	} {
		for _, be := range []bool{false, true} {
			in := tc.le
			if be {
				in = bytes.Clone(tc.le)
				for i := 0; i+1 < len(in); i += 2 {
					in[i], in[i+1] = in[i+1], in[i]
				}
			}
			for _, r := range []io.Reader{bytes.NewReader(in), iotest.OneByteReader(bytes.NewReader(in))} {
				got, err := io.ReadAll(newUTF16Reader(r, be))
				if err != nil || string(got) != tc.want {
					t.Errorf("%s (big endian %v): %q, %v; want %q", tc.name, be, got, err, tc.want)
				}
			}
		}
	}
	// A read error is passed on after what was read before it.
	got, err := io.ReadAll(newUTF16Reader(io.MultiReader(bytes.NewReader([]byte("a\x00")), iotest.ErrReader(io.ErrUnexpectedEOF)), false))
	if string(got) != "a" || err != io.ErrUnexpectedEOF {
		t.Errorf("read error: %q, %v", got, err)
	}
}

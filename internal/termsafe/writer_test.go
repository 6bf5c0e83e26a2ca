package termsafe

import (
	"bytes"
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/termsafe/termsafetest"
)

func TestWriter(t *testing.T) {
	in := "ok line\n" + `{"user":"mallory` + "\u202e\u009b2J\x1b]52;c;eA==\x07" + `"}` + "\n日本\nlast\x1b"
	want := "ok line\n" + `{"user":"mallory<U+202E><U+009B>2J\x1b]52;c;eA==\x07"}` + "\n日本\n" + `last\x1b`
	// Whatever the chunking (a rune split between writes included), the
	// output is the same.
	for _, size := range []int{1, 2, 3, 5, 7, len(in)} {
		var b bytes.Buffer
		w := NewWriter(&b)
		for rest := in; rest != ""; {
			k := min(size, len(rest))
			if n, err := w.Write([]byte(rest[:k])); err != nil || n != k {
				t.Fatalf("Write: %d, %v", n, err)
			}
			rest = rest[k:]
		}
		if !strings.HasSuffix(b.String(), "日本\n") {
			t.Fatalf("chunks of %d: a complete line was held back: %q", size, b.String())
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if b.String() != want {
			t.Fatalf("chunks of %d:\n got %q\nwant %q", size, b.String(), want)
		}
		if err := termsafetest.CheckLines(b.String()); err != nil {
			t.Fatal(err)
		}
	}
}

// FuzzWriter: the writer's output is String of each line, whatever the
// input and the split into writes.
func FuzzWriter(f *testing.F) {
	f.Add("a\x1b[2J\nb\u202e\n\xe2\x80", 3)
	f.Add("日本語\n", 1)
	f.Fuzz(func(t *testing.T, in string, size int) {
		size = 1 + (size&0xff)%17
		var b bytes.Buffer
		w := NewWriter(&b)
		for rest := in; rest != ""; {
			k := min(size, len(rest))
			w.Write([]byte(rest[:k]))
			rest = rest[k:]
		}
		w.Flush()
		lines := strings.Split(in, "\n")
		for i := range lines {
			lines[i] = String(lines[i])
		}
		if want := strings.Join(lines, "\n"); b.String() != want {
			t.Fatalf("got %q, want %q", b.String(), want)
		}
		if err := termsafetest.CheckLines(b.String()); err != nil {
			t.Fatal(err)
		}
	})
}

package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEmptyTailWithAPartialLineSaysHowToReadIt: a followed file written
// less than a minute ago whose only line has no newline (a copy just made
// of concatenated JSON) shows no event while the line waits; the Tail
// says how to read a finished file whole, within the screen's width.
func TestEmptyTailWithAPartialLineSaysHowToReadIt(t *testing.T) {
	p := filepath.Join(t.TempDir(), "empty.log")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, w := range []int{80, 120} {
		a := newTestAppFile(t, p, w, 24)
		a.c.Snap.Partial = 5459 // as a followed read reports it
		s := screen(a)
		if !strings.Contains(s, "a line is waiting for its newline") || !strings.Contains(s, "--follow=false") {
			t.Fatalf("%d columns: the empty Tail does not say how to read the file whole:\n%s", w, s)
		}
		for _, l := range strings.Split(s, "\n") {
			if len([]rune(l)) > w {
				t.Fatalf("%d columns: a line of %d cells: %q", w, len([]rune(l)), l)
			}
		}
	}
}

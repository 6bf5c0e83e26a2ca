package ui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/audittui/audittui/internal/termsafe"
)

// TestLookalikeMarkerSurvivesTheCut: a user name with a zero-width space
// (ali<U+200B>ce, under the real alice) keeps its marker wherever the
// name is cut at 80 columns: the Tail's user column and the Timeline's
// users list (review I 2). At 120 columns it is shown whole.
func TestLookalikeMarkerSurvivesTheCut(t *testing.T) {
	marked := func(s string) bool { return strings.Contains(s, "<U+200B>") || strings.Contains(s, escapeGlyph) }
	a := newTestAppFile(t, "testdata/lookalike.jsonl", 80, 24)
	s := screen(a)
	if !marked(s) || strings.Contains(s, "ali…ce") {
		t.Fatalf("Tail at 80x24 hides the look-alike's marker:\n%s", s)
	}
	send(t, a, "2")
	if s := screen(a); !marked(s) {
		t.Fatalf("Timeline at 80x24 hides the look-alike's marker:\n%s", s)
	}
	a = newTestAppFile(t, "testdata/lookalike.jsonl", 120, 40)
	if s := screen(a); !strings.Contains(s, "ali<U+200B>ce@corp.example") {
		t.Fatalf("Tail at 120x40: the name is not whole:\n%s", s)
	}
}

// TestCutNeverDropsAnEscape: at every width, every escape token of the
// text is in the cut, whole or as the glyph, and the cut is never wider
// than asked.
func TestCutNeverDropsAnEscape(t *testing.T) {
	for _, text := range []string{"ali\u200bce@corp.example", "admin\u202eelpmaxe.proc@ecila", "evil\x1b[2J\x1b[31mred", "system:serviceaccount:ns\x1b[2J:na\u202eme\x07-x"} {
		segs := termsafe.Segments(text)
		nEsc := 0
		for _, sg := range segs {
			if sg.Escape {
				nEsc++
			}
		}
		for w := 1; w < 60; w++ {
			for name, cut := range map[string][]termsafe.Segment{"middle": cutMiddle(segs, w), "end": truncateSegments(segs, w)} {
				got, n := 0, 0
				for _, sg := range cut {
					if sg.Escape {
						n += max(1, strings.Count(sg.Text, escapeGlyph))
					}
					got += ansi.StringWidth(sg.Text)
				}
				if got > w {
					t.Errorf("%s cut of %q to %d is %d cells", name, text, w, got)
				}
				if n < min(nEsc, w) {
					t.Errorf("%s cut of %q to %d keeps %d of %d escape tokens: %v", name, text, w, n, nEsc, cut)
				}
			}
		}
	}
	// The Alerts pane's label values cut by the same function.
	got := ""
	for _, sg := range fitValues([]string{"ali\u200bce@corp.example", "delete", "rolebindings"}, 30) {
		got += sg.Text
	}
	if !strings.Contains(got, "<U+200B>") && !strings.Contains(got, escapeGlyph) || ansi.StringWidth(got) > 30 {
		t.Errorf("fitValues = %q", got)
	}
}

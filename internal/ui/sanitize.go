package ui

import (
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/audittui/audittui/internal/termsafe"
)

// Every string that comes from an audit event is attacker-controlled (user
// agents, object names, request bodies). Before it is drawn it goes through
// termsafe, which turns anything a terminal could interpret, and anything
// that would hide or reorder text, into visible escapes (\x1b, <U+202E>,
// ...): termsafe.String for plain text, SafeText below where the escapes
// are styled apart and the text is cut to a width.

// SafeText renders untrusted s for the terminal: the text in base, escape
// tokens in esc, cut to at most width cells (width <= 0: no limit) with an
// ellipsis when cut.
func SafeText(s string, width int, base, esc lipgloss.Style) string {
	segs := termsafe.Segments(s)
	if width > 0 {
		segs = truncateSegments(segs, width)
	}
	return renderSegments(segs, base, esc)
}

// SafeWidth is the display width of termsafe.String(s).
func SafeWidth(s string) int {
	w := 0
	for _, sg := range termsafe.Segments(s) {
		w += ansi.StringWidth(sg.Text)
	}
	return w
}

// truncateSegments cuts segs to width cells, ending in "…" when cut. Escape
// tokens are never split nor dropped (cutSegments).
func truncateSegments(segs []termsafe.Segment, width int) []termsafe.Segment {
	return cutSegments(segs, width, nil)
}

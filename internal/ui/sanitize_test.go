package ui

import (
	"strings"
	"testing"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/audittui/audittui/internal/termsafe/termsafetest"
)

func TestSafeTextStylesEscapesAndTruncates(t *testing.T) {
	esc := lipgloss.NewStyle().Reverse(true)
	got := SafeText("ab\x1bcd", 0, lipgloss.NewStyle(), esc)
	if !strings.Contains(got, esc.Render(`\x1b`)) {
		t.Fatalf("escape token not styled distinctly: %q", got)
	}
	// Truncation never splits nor drops an escape token (one that does
	// not fit whole becomes the one-cell glyph) and ends with an ellipsis.
	got = SafeText("abc\x1b[2Jdefgh", 5, lipgloss.NewStyle(), lipgloss.NewStyle())
	if got != "abc¤…" {
		t.Fatalf("truncated = %q, want %q", got, "abc¤…")
	}
	got = SafeText("abc\x1b[2Jdefgh", 9, lipgloss.NewStyle(), lipgloss.NewStyle())
	if got != "abc\\x1b[…" {
		t.Fatalf("truncated = %q, want %q", got, "abc\\x1b[…")
	}
	if w := SafeWidth("日本\x1b"); w != 4+4 {
		t.Fatalf("SafeWidth = %d, want 8", w)
	}
	if w := SafeWidth("a\u202eb"); w != 2+len("<U+202E>") {
		t.Fatalf("SafeWidth of a bidi override = %d", w)
	}
}

// FuzzSafeText: whatever the input and width, the unstyled rendering is
// terminal-safe (checked by termsafetest, which shares no code with the
// sanitiser) and no wider than asked.
func FuzzSafeText(f *testing.F) {
	for _, s := range []string{"\x1b]0;pwned\x07", "\x1b[2J\x1b[H", "\u202eexe.txt", "a\u2066b\u2069c", "x\u009b31mred", "ok\xff\xfeend", "日本語テキスト", "plain"} {
		f.Add(s, 5)
	}
	f.Fuzz(func(t *testing.T, s string, width int) {
		width = width % 200
		plain := lipgloss.NewStyle()
		out := SafeText(s, width, plain, plain)
		if err := termsafetest.Check(out); err != nil {
			t.Fatal(err)
		}
		if width > 0 && ansi.StringWidth(out) > width {
			t.Fatalf("SafeText(%q, %d) is %d cells wide", s, width, ansi.StringWidth(out))
		}
	})
}

package ui

import (
	"strings"
	"testing"
	"unicode/utf8"

	"charm.land/lipgloss/v2"
)

// hostile strings seen in attacks on log viewers.
const (
	oscTitle    = "\x1b]0;pwned\x07"
	csiClear    = "\x1b[2J\x1b[H"
	bidiRLO     = "\u202eexe.txt"
	isolate     = "a\u2066b\u2069c"
	c1CSI       = "x\u009b31mred"
	invalidUTF8 = "ok\xff\xfeend"
)

func TestSanitize(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "kubectl/v1.30.0", "kubectl/v1.30.0"},
		{"osc title", "ua" + oscTitle, `ua\x1b]0;pwned\x07`},
		{"csi clear", csiClear + "x", `\x1b[2J\x1b[Hx`},
		{"bidi override", bidiRLO, "<U+202E>exe.txt"},
		{"bidi isolate", isolate, "a<U+2066>b<U+2069>c"},
		{"c1 csi", c1CSI, "x<U+009B>31mred"},
		{"invalid utf8", invalidUTF8, `ok\xff\xfeend`},
		{"tab newline cr", "a\tb\nc\rd", `a\tb\nc\rd`},
		{"del", "a\x7fb", `a\x7fb`},
		{"unicode kept", "pod-ü-日本", "pod-ü-日本"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Sanitize(tt.in)
			if got != tt.want {
				t.Fatalf("Sanitize(%q) = %q, want %q", tt.in, got, tt.want)
			}
			assertTerminalSafe(t, got)
		})
	}
}

func TestSafeTextStylesEscapesAndTruncates(t *testing.T) {
	esc := lipgloss.NewStyle().Reverse(true)
	got := SafeText("ab\x1bcd", 0, lipgloss.NewStyle(), esc)
	if !strings.Contains(got, esc.Render(`\x1b`)) {
		t.Fatalf("escape token not styled distinctly: %q", got)
	}
	// Truncation never splits an escape token and ends with an ellipsis.
	got = SafeText("abc\x1b[2Jdefgh", 5, lipgloss.NewStyle(), lipgloss.NewStyle())
	if got != "abc…" {
		t.Fatalf("truncated = %q, want %q", got, "abc…")
	}
	if w := SafeWidth("日本\x1b"); w != 4+4 {
		t.Fatalf("SafeWidth = %d, want 8", w)
	}
}

func FuzzSanitize(f *testing.F) {
	for _, s := range []string{oscTitle, csiClear, bidiRLO, isolate, c1CSI, invalidUTF8, "plain"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		assertTerminalSafe(t, Sanitize(s))
	})
}

// assertTerminalSafe fails when out contains anything a terminal would
// interpret: C0/C1 controls, DEL, bidi controls or invalid UTF-8.
func assertTerminalSafe(t *testing.T, out string) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Fatalf("output is not valid UTF-8: %q", out)
	}
	for _, r := range out {
		if needsEscape(r) {
			t.Fatalf("output contains control %U: %q", r, out)
		}
	}
}

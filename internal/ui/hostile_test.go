package ui

import (
	"context"
	"regexp"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
)

// sgr matches the styling sequences lipgloss emits (the only escapes the
// UI itself may write into its frame).
var sgr = regexp.MustCompile("\x1b\\[[0-9;:]*m")

// TestHostileTextNeverReachesTerminal renders every pane, in colour, with
// the fixture's hostile event (an OSC title sequence and BEL in its user
// agent, a CSI clear-screen in its object name, a bidi override in its user
// name) on screen, and proves that once the UI's own SGR styling is
// removed no control character, escape or bidi control is left.
func TestHostileTextNeverReachesTerminal(t *testing.T) {
	ix := loadIndex(t, "testdata/events.jsonl")
	for _, sz := range sizes {
		a := New(context.Background(), ix, nil, Options{Title: "events\x1b]0;x\x07.jsonl", Compile: CompileLogQL})
		a.Update(tea.WindowSizeMsg{Width: sz.w, Height: sz.h})
		check := func(where string) {
			t.Helper()
			frame := a.View().Content
			rest := sgr.ReplaceAllString(frame, "")
			for _, r := range rest {
				if r == '\n' {
					continue
				}
				if needsEscape(r) {
					t.Fatalf("%s at %dx%d: control %U reached the frame", where, sz.w, sz.h, r)
				}
			}
			if !strings.Contains(rest, `\x1b`) && !strings.Contains(rest, "<U+202E>") {
				t.Fatalf("%s: hostile text not shown visibly:\n%s", where, rest)
			}
		}
		check("tail")
		// Open the hostile event's detail (user agent with OSC + BEL).
		send(t, a, "/")
		typeText(t, a, `objectRef_namespace="default"`)
		send(t, a, "enter")
		check("tail filtered")
		send(t, a, "enter")
		if a.focus != paneDetail {
			t.Fatal("detail not opened")
		}
		check("detail")
		frame := sgr.ReplaceAllString(a.View().Content, "")
		for _, want := range []string{`evil\x1b]0;pwned\x07agent<U+2066>x<U+2069>`, `evil\x1b[2J\x1b[Hname`, "mallory<U+202E>gnp.exe"} {
			if !strings.Contains(frame, want) {
				t.Errorf("detail does not show %q visibly", want)
			}
		}
		send(t, a, "esc", ":")
		typeText(t, a, "clear")
		send(t, a, "enter", "2")
		for range 5 {
			send(t, a, "j")
		}
		check("timeline")
		send(t, a, "4")
		check("stats")
		send(t, a, "?")
		rest := sgr.ReplaceAllString(a.View().Content, "")
		for _, r := range rest {
			if r != '\n' && needsEscape(r) {
				t.Fatalf("help: control %U reached the frame", r)
			}
		}
	}
}

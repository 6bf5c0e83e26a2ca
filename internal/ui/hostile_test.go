package ui

import (
	"context"
	"regexp"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/audittui/audittui/internal/termsafe/termsafetest"
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
			if err := termsafetest.CheckLines(rest); err != nil {
				t.Fatalf("%s at %dx%d: %v", where, sz.w, sz.h, err)
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
		if err := termsafetest.CheckLines(sgr.ReplaceAllString(a.View().Content, "")); err != nil {
			t.Fatalf("help: %v", err)
		}
	}
}

// TestNoColor: with NO_COLOR the frame carries no colour at all (only
// bold, faint, underline and reverse), on every pane.
func TestNoColor(t *testing.T) {
	colour := regexp.MustCompile("\x1b\\[[0-9;:]*(3[0-9]|4[0-9]|9[0-7]|10[0-7])[;m]")
	a := newTestApp(t, 120, 40) // NoColor: true
	for _, k := range []string{"1", "2", "3", "4", "1", "enter", "?"} {
		send(t, a, k)
		if m := colour.FindString(a.View().Content); m != "" {
			t.Fatalf("after %q: colour sequence %q in a NO_COLOR frame", k, m)
		}
	}
	// The same screens in colour do use colour (the check is not vacuous).
	c := New(context.Background(), a.ix, nil, Options{Compile: CompileLogQL})
	c.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	if !colour.MatchString(c.View().Content) {
		t.Fatal("colour frame has no colour: the NO_COLOR check proves nothing")
	}
}

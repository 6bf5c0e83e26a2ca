package ui

import (
	"strings"
	"testing"
)

// TestGotoAndBookmarkJumpCountNoNewEvents: :goto and [/] move the Tail's
// cursor up into the list, which stops following; the status then said
// "30 new ↓ (G)" (every matching event counted as arrived since) where
// nothing had arrived. It says the Tail is scrolled, and counts only
// events that arrive after the jump.
func TestGotoAndBookmarkJumpCountNoNewEvents(t *testing.T) {
	a := newTestApp(t, 120, 40)
	send(t, a, ":")
	typeText(t, a, "goto 09:01")
	send(t, a, "enter")
	s := screen(a)
	if !strings.Contains(s, "at 2026-11-20 09:01") {
		t.Fatalf(":goto did not jump:\n%s", s)
	}
	if got := a.tail.NewCount(); got != 0 || strings.Contains(s, " new") {
		t.Fatalf("after :goto, %d new events counted with none arrived:\n%s", got, s)
	}
	if !strings.Contains(s, "scrolled") {
		t.Errorf("after :goto the status does not say the Tail is scrolled:\n%s", s)
	}
	// A bookmark at the top, then [ from the bottom goes back to it.
	send(t, a, "g", "m", "G")
	send(t, a, "[")
	s = screen(a)
	if a.tail.cursor != 0 {
		t.Fatalf("[ did not reach the bookmark (cursor %d):\n%s", a.tail.cursor, s)
	}
	if got := a.tail.NewCount(); got != 0 || strings.Contains(s, " new") {
		t.Fatalf("after [, %d new events counted with none arrived:\n%s", got, s)
	}
}

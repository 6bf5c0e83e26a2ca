package ui

import (
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
)

// TestMouseToggle: F2 (and :mouse) turns mouse capture off, so the
// terminal's own selection copies a name, and on again; the status bar
// says it is off for as long as it is; the help lists the key.
func TestMouseToggle(t *testing.T) {
	f2 := tea.KeyPressMsg{Code: tea.KeyF2}
	for _, sz := range sizes {
		a := newTestApp(t, sz.w, sz.h)
		if m := a.View().MouseMode; m != tea.MouseModeCellMotion {
			t.Fatalf("mouse mode at start %v, want cell motion (the wheel scrolls)", m)
		}
		press(t, a, f2)
		if m := a.View().MouseMode; m != tea.MouseModeNone {
			t.Fatalf("F2: mouse mode %v, want none", m)
		}
		s := screen(a)
		checkScreen(t, s, sz.w, sz.h)
		golden(t, fmt.Sprintf("mouse_off_%dx%d.txt", sz.w, sz.h), s)
		if !strings.Contains(s, "mouse off: drag selects text to copy") {
			t.Errorf("%dx%d: F2 does not say what it did:\n%s", sz.w, sz.h, s)
		}
		// The message goes with the next key; the state stays shown.
		send(t, a, "k", "3")
		s = screen(a)
		checkScreen(t, s, sz.w, sz.h)
		if !strings.Contains(s, "mouse off (F2)") || a.View().MouseMode != tea.MouseModeNone {
			t.Errorf("%dx%d: mouse off is not in the status bar after other keys:\n%s", sz.w, sz.h, s)
		}
		press(t, a, f2)
		if m := a.View().MouseMode; m != tea.MouseModeCellMotion {
			t.Fatalf("F2 again: mouse mode %v", m)
		}
		send(t, a, "k")
		if s := screen(a); strings.Contains(s, "mouse off") {
			t.Errorf("%dx%d: mouse back on, the status bar still says off:\n%s", sz.w, sz.h, s)
		}
		// :mouse off, :mouse on, :mouse (toggle).
		for _, c := range []struct {
			cmd string
			off bool
		}{{"mouse off", true}, {"mouse off", true}, {"mouse on", false}, {"mouse", true}, {"mouse", false}} {
			send(t, a, ":")
			typeText(t, a, c.cmd)
			send(t, a, "enter")
			if off := a.View().MouseMode == tea.MouseModeNone; off != c.off {
				t.Errorf(":%s: mouse off %v, want %v", c.cmd, off, c.off)
			}
		}
		send(t, a, ":")
		typeText(t, a, "mouse maybe")
		send(t, a, "enter")
		if !strings.Contains(a.bar.err, ":mouse takes on or off") {
			t.Errorf(":mouse maybe: %q", a.bar.err)
		}
		send(t, a, "esc")
	}
	a := newTestApp(t, 120, 40)
	send(t, a, "?", "/")
	typeText(t, a, "mouse")
	send(t, a, "enter")
	if s := screen(a); !strings.Contains(s, "F2") || !strings.Contains(s, ":mouse off") {
		t.Errorf("the help does not list F2 and :mouse:\n%s", s)
	}
}

package ui

import (
	"fmt"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// setFilter types a filter after / (replacing the one in use).
func setFilter(t *testing.T, a *App, text string) {
	t.Helper()
	send(t, a, "/")
	a.bar.text, a.bar.pos = nil, 0
	typeText(t, a, text)
	send(t, a, "enter")
	if a.bar.Active() {
		t.Fatalf("filter %q: %s", text, a.bar.err)
	}
}

// listedSelection is the user drawn selected in the Timeline's list ("":
// none) and the title's line.
func listedSelection(t *testing.T, a *App) (string, string) {
	t.Helper()
	a.tl.compute()
	title := ansi.Strip(strings.Split(a.tl.View(), "\n")[0])
	if a.tl.pinned || a.tl.missing || a.tl.onEvents || len(a.tl.users) == 0 {
		return "", title
	}
	return a.tl.users[a.tl.ucursor].value, title
}

// TestTimelineSelectionIsAUser: the user chosen in the Timeline's list is
// a person, not a row: a filter change re-ranks the list and the cursor
// follows the user (esc, :undo, a new filter); a user the filter leaves
// out is said to be missing, never replaced by whoever is now on that row.
func TestTimelineSelectionIsAUser(t *testing.T) {
	for _, sz := range sizes {
		a := newTestApp(t, sz.w, sz.h)
		// bob lists 6 times, carol patches 4 times: carol is second.
		setFilter(t, a, `verb=~"list|patch"`)
		send(t, a, "tab", "j") // the list as left (2: the Tail event's user)
		if u, title := listedSelection(t, a); u != "carol" || !strings.Contains(title, "user carol  4 events") {
			t.Fatalf("%dx%d: selected %q, title %q", sz.w, sz.h, u, title)
		}
		// Unfiltered, the second row is bob: the cursor stays on carol
		// (fourth), whose title counts what admin did as her apart.
		send(t, a, "esc")
		if a.filter.Active() {
			t.Fatalf("esc left the filter %q", a.filter.Text)
		}
		u, title := listedSelection(t, a)
		if u != "carol" || !strings.Contains(title, "user carol  6 events (2 as impersonated)") {
			t.Fatalf("%dx%d after esc: selected %q, title %q", sz.w, sz.h, u, title)
		}
		if a.tl.ucursor != 3 {
			t.Fatalf("%dx%d after esc: cursor on row %d, carol is the fourth", sz.w, sz.h, a.tl.ucursor)
		}
		send(t, a, ":")
		typeText(t, a, "undo")
		send(t, a, "enter")
		if u, title := listedSelection(t, a); u != "carol" || !strings.Contains(title, "user carol  4 events") {
			t.Fatalf("%dx%d after :undo: selected %q, title %q", sz.w, sz.h, u, title)
		}
		// A filter without carol's own events: she is not listed; the
		// event admin made as her is still hers, and the title says she
		// is missing from the list.
		setFilter(t, a, `verb="get"`)
		send(t, a, "2")
		s := screen(a)
		checkScreen(t, s, sz.w, sz.h)
		golden(t, fmt.Sprintf("timeline_missing_%dx%d.txt", sz.w, sz.h), s)
		if u, _ := listedSelection(t, a); u != "" || !a.tl.missing {
			t.Fatalf("%dx%d: %q selected though carol is not listed", sz.w, sz.h, u)
		}
		for _, want := range []string{"user carol  1 event (1 as impersonated)", "not listed under this filter · g: top of the list"} {
			if !strings.Contains(s, want) {
				t.Fatalf("%dx%d: screen lacks %q:\n%s", sz.w, sz.h, want, s)
			}
		}
		// Nothing of carol's: the title, the note, no other person.
		setFilter(t, a, `verb="update"`)
		send(t, a, "2")
		s = screen(a)
		checkScreen(t, s, sz.w, sz.h)
		if !strings.Contains(s, "user carol  0 events") || !strings.Contains(s, "not listed under this filter") || strings.Contains(s, "user system:serviceaccount") {
			t.Fatalf("%dx%d: carol gone:\n%s", sz.w, sz.h, s)
		}
		// g picks the first listed user.
		send(t, a, "g")
		if u, _ := listedSelection(t, a); u != "system:serviceaccount:kube-system:deployment-controller" {
			t.Fatalf("%dx%d: g picked %q", sz.w, sz.h, u)
		}
	}
}

// TestTimelineEventCursorStays: the event under the Timeline's cursor stays
// under it when the filter changes and it is still listed; on the newest
// event, the cursor stays on the newest.
func TestTimelineEventCursorStays(t *testing.T) {
	a := newTestApp(t, 120, 40)
	send(t, a, "2")
	screen(a)           // alice's timeline is on screen: she stays
	send(t, a, "enter") // alice's events, the newest selected
	if r, ok := a.tl.Selected(); !ok || r != a.tl.events[len(a.tl.events)-1] {
		t.Fatalf("enter: selected %d %v", r, ok)
	}
	send(t, a, "k", "k", "k")
	row, _ := a.tl.Selected()
	setFilter(t, a, `verb!="get"`) // the six gets before it go
	send(t, a, "2")
	if r, ok := a.tl.Selected(); !ok || r != row {
		t.Fatalf("after a filter change the cursor is on row %d, was %d", r, row)
	}
	send(t, a, "G")
	send(t, a, "esc")
	if r, ok := a.tl.Selected(); !ok || r != a.tl.events[len(a.tl.events)-1] {
		t.Fatalf("esc: cursor left the newest event")
	}
}

// TestUndoHintIsPaneAware: esc on a list clears the filter and the status
// names what brings it back there: u where u undoes, :undo in the
// Timeline (whose u pivots to the event's user); the hint is true.
func TestUndoHintIsPaneAware(t *testing.T) {
	for _, tc := range []struct {
		pane, hint string
	}{
		{"1", "filter cleared · u (or :undo) brings it back"},
		{"2", "filter cleared · :undo brings it back"},
		{"3", "filter cleared · u (or :undo) brings it back"},
		{"4", "filter cleared · u (or :undo) brings it back"},
	} {
		a := newTestApp(t, 80, 24)
		setFilter(t, a, `verb="get"`)
		send(t, a, tc.pane, "esc")
		s := screen(a)
		if a.filter.Active() || !strings.Contains(s, tc.hint) {
			t.Fatalf("pane %s: esc: filter %q, status:\n%s", tc.pane, a.filter.Text, s)
		}
		// What the hint names undoes.
		if strings.HasPrefix(strings.TrimPrefix(tc.hint, "filter cleared · "), "u ") {
			send(t, a, "u")
		} else {
			send(t, a, "u") // the Timeline's pivot: not an undo
			if a.filter.Active() {
				t.Fatalf("pane %s: u undid, though the hint says :undo", tc.pane)
			}
			send(t, a, ":")
			typeText(t, a, "undo")
			send(t, a, "enter")
		}
		if a.filter.Text != `verb="get"` {
			t.Fatalf("pane %s: the hint's key restored %q", tc.pane, a.filter.Text)
		}
	}
	// Every pane's hint agrees with the key table.
	a := newTestApp(t, 80, 24)
	for p := range numPanes {
		a.setFocus(p)
		hint := a.undoHint()
		scope := a.panes[p].Scope()
		act, _ := a.c.Keys.Lookup(scope, "u")
		if strings.HasPrefix(hint, "u ") != (act == ActUndo) {
			t.Errorf("%s: hint %q, u is %v", scope, hint, act)
		}
	}
}

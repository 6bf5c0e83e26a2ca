package ui

import (
	"fmt"
	"strings"
	"testing"
)

// TestTwoOpensTheSelectedEventsUser: 2 from the Tail opens the user of the
// event under the cursor, as U does, not the last user the Timeline showed
// (on-call report: k9s/lnav habits expect the view to follow the selection);
// the Timeline's cursor is on that event, the status names the user, and
// esc goes back to the Tail with the event still selected.
func TestTwoOpensTheSelectedEventsUser(t *testing.T) {
	for _, sz := range sizes {
		for _, key := range []string{"2", "U"} {
			a := newTestApp(t, sz.w, sz.h)
			// Look at one user first (the Timeline keeps them)...
			first, _ := a.tail.Selected()
			send(t, a, "U", "1")
			// ... then select an event of another user in the Tail.
			var row int
			for range a.c.Rows.Len() {
				send(t, a, "k")
				row, _ = a.tail.Selected()
				if a.c.Snap.Str(ColUser, row) != a.c.Snap.Str(ColUser, first) {
					break
				}
			}
			want := a.c.Snap.Str(ColUser, row)
			if want == a.c.Snap.Str(ColUser, first) {
				t.Fatal("the fixture has one user only: the test needs two")
			}
			send(t, a, key)
			if c, v := a.tl.Subject(); a.focus != paneTimeline || c != ColUser || v != want {
				t.Fatalf("%s: focus %d, timeline of %q, want %q (the selected event's user)", key, a.focus, v, want)
			}
			if got, ok := a.tl.Selected(); !ok || got != row {
				t.Errorf("%s: the Timeline's cursor is on row %d (%v), want the selected event %d", key, got, ok, row)
			}
			s := screen(a)
			checkScreen(t, s, sz.w, sz.h)
			if !strings.Contains(s, "user "+ShortIdentity(want)) || !strings.Contains(s, ": back to the Tail") {
				t.Errorf("%s: the status does not name the user opened and the way back:\n%s", key, s)
			}
			if key == "2" {
				golden(t, fmt.Sprintf("timeline_from_tail_%dx%d.txt", sz.w, sz.h), s)
			}
			// Esc: back to the Tail, the event still selected.
			send(t, a, "esc")
			if got, _ := a.tail.Selected(); a.focus != paneTail || got != row {
				t.Fatalf("%s then esc: focus %d, Tail on row %d, want the Tail on %d", key, a.focus, got, row)
			}
		}
	}
}

// TestTwoKeepsTheTimelineWithoutATailEvent: from another pane, or from an
// empty Tail, 2 shows the Timeline as it was (the user picked in its list).
func TestTwoKeepsTheTimelineWithoutATailEvent(t *testing.T) {
	a := newTestApp(t, 120, 40)
	send(t, a, "2", "g", "space", "j")
	_, picked := a.tl.Subject()
	send(t, a, "3", "2")
	if _, v := a.tl.Subject(); v != picked {
		t.Fatalf("3 then 2: timeline of %q, want %q as left", v, picked)
	}
	setFilter(t, a, `verb="nosuchverb"`)
	send(t, a, "1", "2")
	if a.focus != paneTimeline {
		t.Fatalf("2 from an empty Tail: focus %d", a.focus)
	}
	if strings.Contains(screen(a), "the selected event's") {
		t.Errorf("2 from an empty Tail claims a selected event:\n%s", screen(a))
	}
}

package ui

import (
	"strings"
	"testing"
)

// TestBookmarkListLeadsToTheEvent: enter on a bookmark in the ' list
// opens it, and esc comes back to a Tail on it (as ] does), so that a
// :note there is on the bookmarked event, not on the row the Tail was on
// before; `:` in the list opens the event with the command line, and the
// note is on it too.
func TestBookmarkListLeadsToTheEvent(t *testing.T) {
	a := newWorkbenchApp(t, 120, 40, Options{})
	a.tail.Select(3)
	send(t, a, "m")
	a.tail.Select(20)
	send(t, a, "m")
	a.tail.Select(10)
	send(t, a, "'", "j", "enter", "esc")
	if a.focus != paneTail {
		t.Fatalf("esc from the Detail: focus %d", a.focus)
	}
	if r, _ := a.tail.Selected(); r != 20 {
		t.Fatalf("back from the bookmarked event 20, the Tail is on %d", r)
	}
	command_(t, a, "note seen from the list")
	a.tail.Select(10)
	send(t, a, "'", "k", ":")
	if !a.bar.Active() || a.focus != paneDetail || a.detail.Row() != 3 {
		t.Fatalf(": in the list: bar %v, focus %d, detail row %d", a.bar.Active(), a.focus, a.detail.Row())
	}
	typeText(t, a, "note typed in the list")
	send(t, a, "enter")
	notes := map[string]int{}
	for _, b := range a.c.Marks.st.Bookmarks {
		row := a.c.Marks.bySHA[b.Event.SHA256]
		for _, n := range b.Notes {
			notes[n.Text] = row
		}
	}
	if notes["seen from the list"] != 20 || notes["typed in the list"] != 3 {
		t.Errorf("notes on rows %v, want the first on 20, the second on 3 (status %q)", notes, a.status)
	}
	if sc := screen(a); !strings.Contains(sc, "typed in the list") {
		t.Errorf("the Detail does not show the note:\n%s", sc)
	}
}

package ui

import (
	"strings"
	"testing"
)

// TestUserCommandTakesAPartOfTheName: :user takes the exact name, a
// unique start or part of one, and otherwise says which names have it or
// which one was meant (it said "0 events") (review I 6).
func TestUserCommandTakesAPartOfTheName(t *testing.T) {
	a := newTestApp(t, 120, 40)
	for _, tc := range []struct{ typed, user, status string }{
		{"user carol", "carol", ""},
		{"user car", "carol", "user carol (the one name with car)"},
		{"user CAR", "carol", "user carol"},
		{"user arol", "carol", "user carol"},
		{"user carl", "carl", "did you mean carol?"},
		{"user zzzzzz", "zzzzzz", "no user zzzzzz among the events"},
	} {
		send(t, a, ":")
		typeText(t, a, tc.typed)
		send(t, a, "enter")
		if c, v := a.tl.Subject(); c != ColUser || v != tc.user {
			t.Errorf(":%s: timeline of %q, want %q", tc.typed, v, tc.user)
		}
		if s := screen(a); tc.status != "" && !strings.Contains(s, tc.status) {
			t.Errorf(":%s: status lacks %q:\n%s", tc.typed, tc.status, s)
		}
	}
	if _, note := resolveUser([]string{"alice@corp.example", "alan@corp.example"}, "al"); !strings.Contains(note, "several names: alan@corp.example, alice@corp.example") {
		t.Errorf("ambiguous: %q", note)
	}
}

// TestUOpensTheEventsUser: U on a Tail row or in Detail opens that
// event's user in the Timeline (review I 6).
func TestUOpensTheEventsUser(t *testing.T) {
	a := newTestApp(t, 120, 40)
	row, ok := a.tail.Selected()
	if !ok {
		t.Fatal("no selected row")
	}
	want := a.c.Snap.Str(ColUser, row)
	send(t, a, "U")
	if c, v := a.tl.Subject(); a.focus != paneTimeline || c != ColUser || v != want {
		t.Fatalf("U from the Tail: focus %d, timeline of %q, want %q", a.focus, v, want)
	}
	send(t, a, "1", "k", "k", "enter")
	want = a.c.Snap.Str(ColUser, a.detail.Row())
	send(t, a, "U")
	if c, v := a.tl.Subject(); a.focus != paneTimeline || c != ColUser || v != want {
		t.Fatalf("U from Detail: focus %d, timeline of %q, want %q", a.focus, v, want)
	}
}

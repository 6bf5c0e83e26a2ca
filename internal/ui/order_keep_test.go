package ui

import (
	"strings"
	"testing"
)

// TestSortKeepsTheTailWhereTheUserIs: an input not in time order (a real
// audit.log, concatenated node logs) is sorted once it is read; the Tail
// went back to following the bottom then, whoever had scrolled up, paused
// or moved to an event while it loaded. It stays on the event selected,
// scrolled or paused as it was; following, it follows.
func TestSortKeepsTheTailWhereTheUserIs(t *testing.T) {
	cases := []struct {
		name, filter string
		keys         []string
		state        string
	}{
		{"following", "", nil, "following"},
		{"scrolled", "", []string{"k", "k", "k"}, "scrolled"},
		{"top", "", []string{"g", "j"}, "scrolled"},
		{"paused", "", []string{"k", "k", "space"}, "PAUSED · 0 new"},
		{"filtered and scrolled", `user_username="alice"`, []string{"k", "k"}, "scrolled"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, p := mixedFile(t, "mixed.jsonl")
			a := newTestAppFile(t, p, 120, 40)
			if tc.filter != "" {
				send(t, a, "/")
				typeText(t, a, tc.filter)
				send(t, a, "enter")
			}
			send(t, a, tc.keys...)
			before, _ := a.tail.Selected()
			// The input is read: the rows are sorted (a command).
			_, cmd := a.Update(feedDoneMsg{})
			runCmd(t, a, cmd)
			if !a.c.Snap.Ordered() {
				t.Fatal("not sorted")
			}
			s := screen(a)
			after, _ := a.tail.Selected()
			if tc.state == "following" {
				if want := a.c.Rows.At(a.c.Rows.Len() - 1); after != want {
					t.Errorf("following: on row %d after the sort, want the newest, %d", after, want)
				}
			} else if after != before {
				t.Errorf("on row %d before the sort, %d after:\n%s", before, after, s)
			}
			if got := a.tail.State(); got != tc.state {
				t.Errorf("the Tail is %q after the sort, want %q:\n%s", got, tc.state, s)
			}
			if !strings.Contains(s, "rows sorted by time") {
				t.Errorf("the sort is not said:\n%s", s)
			}
		})
	}
}

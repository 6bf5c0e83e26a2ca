package ui

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// statusLine is the screen's last line.
func statusLine(a *App) string {
	lines := strings.Split(screen(a), "\n")
	return lines[len(lines)-1]
}

// TestStatusKeepsTheCounts: a message in the status bar never covers the
// loaded and matching counts, at 80x24 and 60x20 as at 120x40: what
// matters least goes first (the progress, "rejected 0", then the other
// counts until the next key), then the message's explanation, and only
// then is the message cut.
func TestStatusKeepsTheCounts(t *testing.T) {
	for _, sz := range []struct{ w, h int }{{80, 24}, {60, 20}, {120, 40}} {
		_, p := mixedFile(t, "mixed.jsonl")
		a := newTestAppFile(t, p, sz.w, sz.h)
		setFilter(t, a, `verb="get"`)
		// The input was out of time order: the rows are sorted once it
		// is read, and the status says so.
		// (How long the read took, fixed: the screen is golden.)
		a.ix.mu.Lock()
		a.ix.took = 1500 * time.Millisecond
		a.ix.mu.Unlock()
		a.c.Now = func() time.Time { return a.started }
		_, cmd := a.Update(feedDoneMsg{})
		runCmd(t, a, cmd)
		s := screen(a)
		checkScreen(t, s, sz.w, sz.h)
		golden(t, fmt.Sprintf("status_sorted_%dx%d.txt", sz.w, sz.h), s)
		line := statusLine(a)
		if !strings.Contains(line, "loaded 30 · matching 8") || !strings.Contains(line, "rows sorted by time") {
			t.Fatalf("%dx%d: status %q", sz.w, sz.h, line)
		}
		// esc: the counts and the hint (whole at 80 columns and more;
		// the first part at 60).
		send(t, a, "esc")
		line = statusLine(a)
		want := "filter cleared · u (or :undo) brings it back"
		if sz.w < 80 {
			want = "filter cleared"
		}
		if !strings.Contains(line, "loaded 30 · matching 30") || !strings.Contains(line, want) {
			t.Fatalf("%dx%d: status %q, want the counts and %q", sz.w, sz.h, line, want)
		}
		// A message too long for any width is cut, the counts stay.
		setFilter(t, a, `verb="get" | user_username="alice" | objectRef_namespace="payments" | objectRef_resource="pods"`)
		send(t, a, "esc", "u")
		line = statusLine(a)
		if !strings.Contains(line, "loaded 30 · matching 6") || !strings.Contains(line, "undone: back to") {
			t.Fatalf("%dx%d: status %q", sz.w, sz.h, line)
		}
		checkScreen(t, screen(a), sz.w, sz.h)
	}
}

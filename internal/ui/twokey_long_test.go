package ui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTwoKeepsTheBackHintWithALongUser: after 2 on an event of a service
// account with a long name, the status abbreviates it as the Tail does
// (sa:NS:NAME) and cuts it in the middle when still too long, so the
// "esc: back to the Tail" hint stays on screen (review M 14: at 120
// columns the name pushed it off).
func TestTwoKeepsTheBackHintWithALongUser(t *testing.T) {
	const long = "system:serviceaccount:argocd:argocd-application-controller"
	src, err := os.ReadFile("testdata/events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "events.jsonl")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(string(src), "system:serviceaccount:kube-system:deployment-controller", long)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, sz := range sizes {
		a := newTestAppFile(t, path, sz.w, sz.h)
		found := false
		for range a.c.Rows.Len() {
			if row, _ := a.tail.Selected(); a.c.Snap.Str(ColUser, row) == long {
				found = true
				break
			}
			send(t, a, "k")
		}
		if !found {
			t.Fatal("no event of the long service account in the Tail")
		}
		send(t, a, "2")
		s := screen(a)
		checkScreen(t, s, sz.w, sz.h)
		golden(t, fmt.Sprintf("timeline_from_tail_long_%dx%d.txt", sz.w, sz.h), s)
		lines := strings.Split(s, "\n")
		status := lines[len(lines)-1]
		if !strings.Contains(status, "esc: back to the Tail") || !strings.Contains(status, "sa:") {
			t.Errorf("%dx%d: the status lost the way back or the user: %q", sz.w, sz.h, status)
		}
		if sz.w >= 120 && !strings.Contains(status, "user sa:argocd:argocd-application-controller") {
			t.Errorf("%dx%d: the user is cut though the abbreviation fits: %q", sz.w, sz.h, status)
		}
		send(t, a, "esc")
		if a.focus != paneTail {
			t.Errorf("%dx%d: esc did not go back to the Tail", sz.w, sz.h)
		}
	}
}

package ui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRejectsOverlayGroupsAndScrolls: 30 lines cut at 30 different
// lengths are one reason group (the byte offset left out), the FILE:LINE
// list comes first and shows at 80x24, the overlay scrolls to the last
// reject and a search keeps only the matching lines (review K 11).
func TestRejectsOverlayGroupsAndScrolls(t *testing.T) {
	src, err := os.ReadFile("testdata/events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	first := strings.SplitN(string(src), "\n", 2)[0]
	var b strings.Builder
	for i := range 30 {
		fmt.Fprintln(&b, first)
		fmt.Fprintln(&b, first[:100+7*i])
	}
	path := filepath.Join(t.TempDir(), "cut.log")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	a := newTestAppFile(t, path, 80, 24)
	send(t, a, "R")
	s := screen(a)
	if !strings.Contains(s, "cut.log:2 ") {
		t.Fatalf("the first reject's FILE:LINE is not on the first screen:\n%s", s)
	}
	if strings.Contains(s, "cut.log:60 ") {
		t.Fatalf("all 30 rejects on one 24-line screen?\n%s", s)
	}
	// Every cut line is one group: the reasons without their offsets.
	var groups []string
	for _, l := range a.rejectsLines(80) {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "30  ") {
			groups = append(groups, l)
		}
	}
	if len(groups) != 1 || strings.Contains(groups[0], "byte") {
		t.Fatalf("want one group of 30 without the offset, got %q", groups)
	}
	send(t, a, "G")
	if s := screen(a); !strings.Contains(s, "cut.log:60 ") || !strings.Contains(s, "(end)") {
		t.Fatalf("G does not reach the last reject:\n%s", s)
	}
	send(t, a, "g", "/")
	typeText(t, a, "cut.log:42 ")
	send(t, a, "enter")
	s = screen(a)
	if !strings.Contains(s, "cut.log:42 ") || strings.Contains(s, "cut.log:2 ") {
		t.Fatalf("search keeps other lines:\n%s", s)
	}
	send(t, a, "esc")
	if !a.rejects || a.rej.query != "" {
		t.Fatalf("esc should clear the search first (open %v, query %q)", a.rejects, a.rej.query)
	}
	send(t, a, "esc")
	if a.rejects {
		t.Fatal("esc does not close the overlay")
	}
}

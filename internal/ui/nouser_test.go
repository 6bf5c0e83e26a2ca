package ui

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestUnauthenticatedUserOneLabel: the empty user (401s) is
// "(unauthenticated)" in the Tail, the Timeline's list and title and
// Stats, and f on it in the Timeline filters user_username="" (it said
// "no events to filter to here") (review I 9).
func TestUnauthenticatedUserOneLabel(t *testing.T) {
	src, err := os.ReadFile("testdata/lookalike.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(src)), "\n")
	anon := strings.Replace(lines[0], `"username":"alice@corp.example"`, `"username":""`, 1)
	anon = strings.Replace(anon, `"code":200`, `"code":401`, 1)
	var b strings.Builder
	for k := range 3 {
		b.WriteString(strings.Replace(anon, `"auditID":"`, `"auditID":"`+strconv.Itoa(k), 1) + "\n")
	}
	b.WriteString(lines[0] + "\n")
	path := filepath.Join(t.TempDir(), "anon.log")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	a := newTestAppFile(t, path, 120, 40)
	if s := screen(a); strings.Count(s, noUserLabel) < 3 {
		t.Fatalf("Tail: the empty user is not %s:\n%s", noUserLabel, s)
	}
	send(t, a, "4")
	if s := screen(a); !strings.Contains(s, noUserLabel) || strings.Contains(s, "(none)") {
		t.Fatalf("Stats: the empty user is not %s:\n%s", noUserLabel, s)
	}
	send(t, a, "2")
	// The ranking puts the empty user (3 events) first.
	if s := screen(a); !strings.Contains(s, "user "+noUserLabel+"  3 events") {
		t.Fatalf("Timeline title:\n%s", s)
	}
	send(t, a, "f")
	if a.filter.Text != `user_username=""` && !strings.HasSuffix(a.filter.Text, `| user_username=""`) {
		t.Fatalf(`f on the empty user: filter %q, want user_username=""`, a.filter.Text)
	}
	if a.c.Rows.Len() != 3 {
		t.Fatalf("f on the empty user: %d events, want 3", a.c.Rows.Len())
	}
}

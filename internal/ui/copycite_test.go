package ui

import (
	"regexp"
	"strings"
	"testing"
)

// TestCopyCitation: Y in Detail copies the citation line (who verb what
// code time · FILE:LINE sha256 auditID) and y the raw line; the status
// says the text was sent to the terminal's clipboard, not that it was
// copied (tmux may drop it) (review I 10).
func TestCopyCitation(t *testing.T) {
	a := newTestApp(t, 120, 40)
	send(t, a, "enter")
	cite, ok := a.detail.Citation()
	if !ok {
		t.Fatal("no citation for the open event")
	}
	want := regexp.MustCompile(`^\S+ \S+ .+ \d{3} \d{4}-\d\d-\d\dT[0-9:.]+Z · \S*events\.jsonl:\d+ sha256:[0-9a-f]{64} \(auditID [^)]+\)$`)
	if !want.MatchString(cite) {
		t.Fatalf("citation %q does not read who verb what code time · FILE:LINE sha256 (auditID)", cite)
	}
	if s := screen(a); !strings.Contains(cite, strings.Fields(s[strings.Index(s, "sha256"):])[1]) {
		t.Fatalf("citation's sha256 is not the one Detail shows:\n%s", cite)
	}
	send(t, a, "Y")
	if s := screen(a); !strings.Contains(s, "citation sent to the terminal clipboard (OSC 52") {
		t.Fatalf("Y status:\n%s", s)
	}
	send(t, a, "y")
	if s := screen(a); !strings.Contains(s, "sent to the terminal clipboard (OSC 52") || strings.Contains(s, "copied") {
		t.Fatalf("y status:\n%s", s)
	}
}

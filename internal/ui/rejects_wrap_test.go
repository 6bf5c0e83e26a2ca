package ui

import (
	"strings"
	"testing"
)

// TestRejectsReasonsWrapWhole: the reasons grouped under "by reason" are
// the explanation a reviewer reads to learn why evidence was not read; at
// 80 columns they wrap under their count instead of being cut ("not an
// audit log (AKS writes audit …" lost where to look), and a search in the
// overlay keeps a wrapped reason whole.
func TestRejectsReasonsWrapWhole(t *testing.T) {
	a := newTestAppFile(t, "../../testdata/shapes/aks-pt1h.json", 80, 24)
	send(t, a, "R")
	s := screen(a)
	by := strings.Index(s, "by reason")
	if by < 0 {
		t.Fatalf("no reasons grouped:\n%s", s)
	}
	grouped := s[by:]
	for _, want := range []string{
		`category "guard": not an audit log (AKS writes audit events under kube-audit and kube-audit-admin)`,
		`category "kube-apiserver": not an audit log (AKS writes audit events under kube-audit and kube-audit-admin)`,
	} {
		if !strings.Contains(joinWrapped(grouped), want) {
			t.Errorf("the reason %q is not whole under \"by reason\" at 80 columns:\n%s", want, s)
		}
	}
	for _, l := range strings.Split(s, "\n") {
		if len([]rune(l)) > 80 {
			t.Fatalf("a line wider than the screen: %q", l)
		}
	}
	// A search for a word of a reason's second line keeps the reason whole.
	send(t, a, "/")
	typeText(t, a, "kube-apiserver")
	send(t, a, "enter")
	s = screen(a)
	if by = strings.Index(s, "by reason"); by < 0 || !strings.Contains(joinWrapped(s[by:]), `category "kube-apiserver": not an audit log (AKS writes audit events under kube-audit and kube-audit-admin)`) {
		t.Fatalf("a search cuts the wrapped reason:\n%s", s)
	}
	if strings.Contains(s[by:], `"guard"`) {
		t.Fatalf("a search keeps the other reason:\n%s", s)
	}
}

// joinWrapped joins a screen's lines as one text, each line trimmed, so a
// wrapped phrase reads whole.
func joinWrapped(s string) string {
	var parts []string
	for _, l := range strings.Split(s, "\n") {
		parts = append(parts, strings.TrimSpace(l))
	}
	return strings.Join(parts, " ")
}

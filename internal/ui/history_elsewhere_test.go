package ui

import (
	"strings"
	"testing"
)

// TestHistoryNamesTheObjectInAnotherNamespace: `:history
// rolebinding/payments-deployers` without -n is the default namespace's,
// as kubectl's; over the sample it said only "no request touched this
// object", though the RoleBinding the on-call engineer asked about was
// deleted in payments. The empty history names the namespaces where
// events name the object, with the command that opens each.
func TestHistoryNamesTheObjectInAnotherNamespace(t *testing.T) {
	a := newTestAppFile(t, "../../testdata/sample/audit.log", 120, 30)
	send(t, a, ":")
	typeText(t, a, "history rolebinding/payments-deployers")
	send(t, a, "enter")
	s := screen(a)
	if !strings.Contains(s, "no request touched this object") {
		t.Fatalf("the default namespace's RoleBinding has a history?\n%s", s)
	}
	if !strings.Contains(s, "payments") || !strings.Contains(s, ":history -n payments rolebindings/payments-deployers") {
		t.Fatalf("the empty history does not name the namespace where the object is:\n%s", s)
	}
	// The command it names opens that history: carol's delete.
	send(t, a, "esc", ":")
	typeText(t, a, "history -n payments rolebindings/payments-deployers")
	send(t, a, "enter")
	if s = screen(a); !strings.Contains(s, "carol@corp.example") || !strings.Contains(s, "deleted") {
		t.Fatalf("the command named does not open the object's history:\n%s", s)
	}
	// An object no event names anywhere: nothing more is said.
	send(t, a, "esc", ":")
	typeText(t, a, "history rolebinding/no-such-binding")
	send(t, a, "enter")
	if s = screen(a); !strings.Contains(s, "no request touched this object") || strings.Contains(s, "-n ") {
		t.Fatalf("an object named nowhere:\n%s", s)
	}
}

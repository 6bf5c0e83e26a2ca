package auditpolicy

import (
	"testing"

	"github.com/audittui/audittui/internal/policy/rules"
)

// TestBuiltinLevelsFromOnePlace: the level lint reports for each built-in
// rule is the one rules/levels.go declares (the README's audit level
// column), not a second guess from the expression.
func TestBuiltinLevelsFromOnePlace(t *testing.T) {
	set, err := rules.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	dets := DetectionsFromRules(set)
	if len(dets) != len(set.Rules()) {
		t.Fatalf("%d detections for %d rules", len(dets), len(set.Rules()))
	}
	request := 0
	for i, r := range set.Rules() {
		want := r.AuditLevel()
		if want == "" {
			t.Errorf("%s has no declared level", r.Alert)
			continue
		}
		if dets[i].NeedsLevel != want {
			t.Errorf("%s: lint uses %s, levels.go says %s", r.Alert, dets[i].NeedsLevel, want)
		}
		if want == LevelRequest {
			request++
		}
	}
	if request == 0 {
		t.Error("no built-in rule needs Request: the check is vacuous")
	}
}

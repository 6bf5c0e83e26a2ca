package auditpolicy

import (
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/policy/rules"
)

// A rule with a binary operation between two vectors needs the events of
// either side, each at the level its own side needs: not every event of
// the streams the sides share (their combined log query, which has no
// filter), nor only at the level that combined query needs.
func TestCheckTwoSidedRule(t *testing.T) {
	set, err := rules.Parse("ratio.yaml", []byte(`groups:
  - name: ratio
    rules:
      - alert: ErrorRatio
        expr: sum by (user_username) (count_over_time({job="audit"} | json | responseStatus_code >= 400 [5m])) / sum by (user_username) (count_over_time({job="audit"} | json [5m])) > 0.5
      - alert: SecretErrorRatio
        expr: sum by (user_username) (count_over_time({job="audit"} | json | objectRef_resource="secrets" | responseStatus_code >= 400 [5m])) / sum by (user_username) (count_over_time({job="audit"} | json | objectRef_resource="secrets" [5m])) > 0.5
      - alert: SecretBodyRatio
        expr: sum (count_over_time({job="audit"} | json | requestObject_kind="Secret" [5m])) / sum (count_over_time({job="audit"} | json | objectRef_resource="secrets" [5m])) > 0.5
`))
	if err != nil {
		t.Fatal(err)
	}
	dets := DetectionsFromRules(set)
	if len(dets) != 3 {
		t.Fatalf("%d detections for 3 rules", len(dets))
	}
	denied := func(l string) string { return strings.Replace(l, `"code":200`, `"code":403`, 1) }
	lines := []string{
		// Both sides of SecretBodyRatio, the "all" side of the others.
		secretEvent("RequestResponse", "get", "ResponseComplete", reqBody+respBody),
		// Both sides of ErrorRatio and SecretErrorRatio, the "all" side of SecretBodyRatio.
		denied(secretEvent("Metadata", "list", "ResponseComplete", "")),
		// Only ErrorRatio's "all" side.
		strings.ReplaceAll(secretEvent("Metadata", "list", "ResponseComplete", ""), "secrets", "configmaps"),
	}
	cases := []struct {
		name, policy string
		// matched and lost per rule, in the rules' order
		matched, lost [3]int64
		needs         [3]string
	}{
		{"drops secrets", `- level: None
  resources: [{group: "", resources: [secrets]}]
- level: RequestResponse
`, [3]int64{3, 2, 2}, [3]int64{2, 2, 2}, [3]string{LevelMetadata, LevelMetadata, LevelRequest}},
		// Neither side of the secret rules selects a configmap.
		{"drops configmaps", `- level: None
  resources: [{group: "", resources: [configmaps]}]
- level: RequestResponse
`, [3]int64{3, 2, 2}, [3]int64{1, 0, 0}, [3]string{LevelMetadata, LevelMetadata, LevelRequest}},
		// SecretBodyRatio's first side reads the request body.
		{"logs secrets at Metadata", `- level: Metadata
  resources: [{group: "", resources: [secrets]}]
- level: RequestResponse
`, [3]int64{3, 2, 2}, [3]int64{0, 0, 1}, [3]string{LevelMetadata, LevelMetadata, LevelRequest}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pol, err := Parse("p.yaml", []byte(head+"rules:\n"+c.policy))
			if err != nil {
				t.Fatal(err)
			}
			chk := NewChecker(pol, CheckOptions{Detections: dets})
			for _, l := range lines {
				e := decodeLine(t, l)
				r := chk.Add(&e)
				for i, a := range r.LostAlerts {
					if i > 0 && r.LostAlerts[i-1] == a {
						t.Fatalf("%s listed twice for one event: %v", a, r.LostAlerts)
					}
				}
			}
			// lint judges each side on its own too: a side it blinds is
			// named, a policy blinding no side says nothing.
			blinded := blindsOf(Lint(pol, LintOptions{Detections: dets}), "SecretErrorRatio")
			if c.lost[1] == 0 && len(blinded) > 0 || c.lost[1] > 0 && len(blinded) == 0 {
				t.Errorf("lint's blinds findings for SecretErrorRatio:\n%s", dump(blinded))
			}
			for _, f := range blinded {
				if !strings.HasPrefix(f.Message, "alert SecretErrorRatio (side ") {
					t.Errorf("finding does not name the side: %s", f.Message)
				}
			}
			rep := chk.Report()
			for i, d := range rep.Detections {
				if d.Matched != c.matched[i] || d.Lost != c.lost[i] || d.NeedsLevel != c.needs[i] {
					t.Errorf("%s: matched %d lost %d needs %s, want %d %d %s", d.Name, d.Matched, d.Lost, d.NeedsLevel,
						c.matched[i], c.lost[i], c.needs[i])
				}
			}
		})
	}
}

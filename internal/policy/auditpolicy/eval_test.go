package auditpolicy

import (
	"testing"

	kpolicy "k8s.io/apiserver/pkg/audit/policy"
)

// TestGroupFromAPIVersion: an objectRef that says apiVersion "apps/v1"
// without apiGroup (some tools write it so) is a request in group apps,
// as one with apiGroup "apps" and apiVersion "v1"; a bare "v1" is the
// core group. The rule that decides agrees with the apiserver's evaluator
// on attributes read independently from the JSON.
func TestGroupFromAPIVersion(t *testing.T) {
	p, err := Parse("groups.yaml", []byte(head+`rules:
- level: RequestResponse
  resources: [{group: "apps", resources: ["deployments"]}]
- level: Request
  resources: [{group: "", resources: ["deployments", "pods"]}]
- level: Metadata
`))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		objectRef string
		level     string
		rule      int
	}{
		{`{"resource":"deployments","namespace":"web","name":"api","apiVersion":"apps/v1"}`, "RequestResponse", 0},
		{`{"resource":"deployments","namespace":"web","name":"api","apiGroup":"apps","apiVersion":"v1"}`, "RequestResponse", 0},
		{`{"resource":"deployments","namespace":"web","name":"api","apiVersion":"v1"}`, "Request", 1},
		{`{"resource":"pods","namespace":"web","name":"api-0","apiVersion":"v1"}`, "Request", 1},
		{`{"resource":"deployments","namespace":"web","name":"api","apiVersion":"extensions/v1beta1"}`, "Metadata", 2},
	}
	ev := kpolicy.NewPolicyRuleEvaluator(p.API.DeepCopy())
	for _, c := range cases {
		l := realLine{where: c.objectRef, raw: []byte(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a","stage":"ResponseComplete","requestURI":"/apis/apps/v1/namespaces/web/deployments/api","verb":"get","user":{"username":"alice"},"objectRef":` + c.objectRef + `,"stageTimestamp":"2026-11-20T02:00:00Z"}`)}
		e := decodeEvent(t, l)
		level, rule := p.LevelFor(&e)
		if level != c.level || rule != c.rule {
			t.Errorf("%s: level %s rule %d, want %s rule %d", c.objectRef, level, rule, c.level, c.rule)
		}
		if want := ev.EvaluatePolicyRule(jsonAttrs(t, l)).Level; string(want) != level {
			t.Errorf("%s: level %s, the apiserver's evaluator says %s", c.objectRef, level, want)
		}
	}
}

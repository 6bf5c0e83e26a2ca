package auditpolicy

import (
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	kpolicy "k8s.io/apiserver/pkg/audit/policy"

	"github.com/audittui/audittui/internal/testutil"
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

// namesPolicy drops two objects by name: the policy of review C's
// finding 3, as the Kubernetes docs write such rules.
const namesPolicy = head + `omitStages: ["RequestReceived"]
rules:
- level: None
  resources:
  - group: ""
    resources: ["configmaps", "serviceaccounts"]
    resourceNames: ["my-config", "myacct"]
- level: Metadata
`

// TestCreateNameNotSeenByPolicy: the apiserver evaluates the policy with
// the RequestInfo of the URL; a create (POST to the collection) has no
// name there. objectRef.name is filled in later from the request body, so
// a resourceNames rule never matches a create. In falco's real traces, 11
// creates of my-config and myacct are logged (at Metadata or above); the
// rule drops only the 2 deletes, which name the object in the URL.
func TestCreateNameNotSeenByPolicy(t *testing.T) {
	p, err := Parse("names.yaml", []byte(namesPolicy))
	if err != nil {
		t.Fatal(err)
	}
	lines := linesOf(t, []string{filepath.Join(testutil.RealData(t), "audit", "falco-legacy-k8s-audit-traces.jsonl")})
	var dropped, creates []string
	for _, l := range lines {
		e := decodeEvent(t, l)
		level, rule := p.LevelFor(&e)
		if rule == 0 {
			dropped = append(dropped, e.Verb+" "+e.RequestURI)
		}
		if e.Verb == "create" && (e.Name == "my-config" || e.Name == "myacct") {
			creates = append(creates, l.where)
			if level != LevelMetadata || rule != 1 {
				t.Errorf("%s: create of %s: level %s rule %d, want Metadata rule 1 (the apiserver saw no name)", l.where, e.Name, level, rule)
			}
		}
	}
	want := []string{"delete /api/v1/namespaces/default/configmaps/my-config", "delete /api/v1/namespaces/default/serviceaccounts/myacct"}
	sort.Strings(dropped)
	if !reflect.DeepEqual(dropped, want) {
		t.Errorf("rule 0 (None) takes %d events %q, want the 2 deletes", len(dropped), dropped)
	}
	if len(creates) != 11 {
		t.Errorf("%d creates of the named objects in the falco traces, want 11: %v", len(creates), creates)
	}
	// The checker reports the same.
	chk := NewChecker(p, CheckOptions{})
	for _, l := range lines {
		e := decodeEvent(t, l)
		chk.Add(&e)
	}
	if got := chk.Report().Rules[0].Events; got != 2 {
		t.Errorf("check: rule 0 decides %d events, want 2", got)
	}
}

// attrsPolicy selects on names, namespaces, subresources and paths.
const attrsPolicy = head + `rules:
- level: None
  resources: [{group: "", resources: ["configmaps"], resourceNames: ["my-config"]}]
- level: RequestResponse
  resources: [{group: "", resources: ["pods/exec", "serviceaccounts/token"], resourceNames: ["web-0", "builder"]}]
- level: Request
  namespaces: ["foo"]
- level: None
  nonResourceURLs: ["/healthz*", "/metrics"]
- level: Metadata
`

// TestAttributesAsTheApiserverHadThem: each request gets the level of the
// attributes the apiserver evaluated (RequestInfo from the URL, the
// logged verb and user), not of objectRef as logged.
func TestAttributesAsTheApiserverHadThem(t *testing.T) {
	p, err := Parse("attrs.yaml", []byte(attrsPolicy))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, verb, uri, objectRef string
		level                      string
		rule                       int
	}{
		{"create on the collection: the name comes from the body, later",
			"create", "/api/v1/namespaces/default/configmaps?fieldManager=kubectl-create", `{"resource":"configmaps","namespace":"default","name":"my-config","apiVersion":"v1"}`, "Metadata", 4},
		{"get names the object in the URL",
			"get", "/api/v1/namespaces/default/configmaps/my-config", `{"resource":"configmaps","namespace":"default","name":"my-config","apiVersion":"v1"}`, "None", 0},
		{"update names the object in the URL",
			"update", "/api/v1/namespaces/default/configmaps/my-config", `{"resource":"configmaps","namespace":"default","name":"my-config","apiVersion":"v1"}`, "None", 0},
		{"list of one object by fieldSelector=metadata.name has its name",
			"list", "/api/v1/namespaces/default/configmaps?fieldSelector=metadata.name%3Dmy-config&limit=500", `{"resource":"configmaps","namespace":"default","apiVersion":"v1"}`, "None", 0},
		{"watch of one object by fieldSelector, also spelled ==",
			"watch", "/api/v1/namespaces/default/configmaps?fieldSelector=metadata.name%3D%3Dmy-config&watch=true", `{"resource":"configmaps","namespace":"default","apiVersion":"v1"}`, "None", 0},
		{"a list by another field has no name",
			"list", "/api/v1/namespaces/default/configmaps?fieldSelector=metadata.namespace%3Ddefault", `{"resource":"configmaps","namespace":"default","apiVersion":"v1"}`, "Metadata", 4},
		{"deletecollection has no name",
			"deletecollection", "/api/v1/namespaces/default/configmaps", `{"resource":"configmaps","namespace":"default","apiVersion":"v1"}`, "Metadata", 4},
		{"create of a subresource names its object in the URL",
			"create", "/api/v1/namespaces/default/pods/web-0/exec?command=sh&stdin=true", `{"resource":"pods","subresource":"exec","namespace":"default","name":"web-0","apiVersion":"v1"}`, "RequestResponse", 1},
		{"create of serviceaccounts/token too",
			"create", "/api/v1/namespaces/ci/serviceaccounts/builder/token", `{"resource":"serviceaccounts","subresource":"token","namespace":"ci","name":"builder","apiVersion":"v1"}`, "RequestResponse", 1},
		{"get of a Namespace is in that namespace",
			"get", "/api/v1/namespaces/foo", `{"resource":"namespaces","name":"foo","apiVersion":"v1"}`, "Request", 2},
		{"finalize of a Namespace too",
			"update", "/api/v1/namespaces/foo/finalize", `{"resource":"namespaces","subresource":"finalize","name":"foo","apiVersion":"v1"}`, "Request", 2},
		{"create of a Namespace is not",
			"create", "/api/v1/namespaces", `{"resource":"namespaces","name":"foo","apiVersion":"v1"}`, "Metadata", 4},
		{"a pod in the namespace",
			"get", "/api/v1/namespaces/foo/pods/web-0", `{"resource":"pods","namespace":"foo","name":"web-0","apiVersion":"v1"}`, "Request", 2},
		{"watch through the deprecated /watch/ path",
			"watch", "/api/v1/watch/namespaces/foo/pods", `{"resource":"pods","namespace":"foo","apiVersion":"v1"}`, "Request", 2},
		{"non-resource URL",
			"get", "/healthz?verbose=1", ``, "None", 3},
		{"non-resource URL, escaped",
			"get", "/metric%73", ``, "None", 3},
		{"API discovery is non-resource",
			"get", "/apis/apps/v1", ``, "Metadata", 4},
		{"no requestURI: objectRef, but a create has no name",
			"create", "", `{"resource":"configmaps","namespace":"default","name":"my-config","apiVersion":"v1"}`, "Metadata", 4},
		{"no requestURI: objectRef names a get",
			"get", "", `{"resource":"configmaps","namespace":"default","name":"my-config","apiVersion":"v1"}`, "None", 0},
		{"a URI rebuilt with the created object's name (GKE's resourceName): still no name",
			"create", "/api/v1/namespaces/default/configmaps/my-config", `{"resource":"configmaps","namespace":"default","name":"my-config","apiVersion":"v1"}`, "Metadata", 4},
		{"a URI for another resource than objectRef's: objectRef",
			"get", "/api/v1/namespaces/foo/secrets/x", `{"resource":"configmaps","namespace":"default","name":"my-config","apiVersion":"v1"}`, "None", 0},
		{"a URI under an unknown API prefix (/oapi): objectRef",
			"get", "/oapi/v1/namespaces/foo/configmaps/other", `{"resource":"configmaps","namespace":"default","name":"my-config","apiVersion":"v1"}`, "None", 0},
	}
	ev := kpolicy.NewPolicyRuleEvaluator(p.API.DeepCopy())
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			line := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a","stage":"ResponseComplete","verb":"` + c.verb + `","user":{"username":"alice","groups":["system:authenticated"]}`
			if c.uri != "" {
				line += `,"requestURI":"` + c.uri + `"`
			}
			if c.objectRef != "" {
				line += `,"objectRef":` + c.objectRef
			}
			l := realLine{where: c.name, raw: []byte(line + `,"stageTimestamp":"2026-11-20T02:00:00Z"}`)}
			e := decodeEvent(t, l)
			level, rule := p.LevelFor(&e)
			if level != c.level || rule != c.rule {
				t.Errorf("%s %s: level %s rule %d, want %s rule %d", c.verb, c.uri, level, rule, c.level, c.rule)
			}
			if want := ev.EvaluatePolicyRule(jsonAttrs(t, l)).Level; string(want) != c.level {
				t.Errorf("%s %s: the apiserver's RequestInfo and evaluator say %s, the case says %s", c.verb, c.uri, want, c.level)
			}
		})
	}
}

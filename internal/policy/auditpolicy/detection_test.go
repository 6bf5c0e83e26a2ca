package auditpolicy

import (
	"fmt"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/audittui/audittui/internal/policy/rules"
	"github.com/audittui/audittui/internal/testutil"
)

// seedDetectionsForTest returns the seed's five Loki ruler rules as
// detections.
func seedDetectionsForTest(t *testing.T) []Detection {
	t.Helper()
	set, err := rules.LoadFile(filepath.Join(testutil.SeedDir(t), "loki-audit-rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return DetectionsFromRules(set)
}

func TestSeedDetections(t *testing.T) {
	got := seedDetectionsForTest(t)
	type want struct {
		name      string
		resources []GroupResource
		verbs     []string
		level     string
	}
	wants := []want{
		{"UnauthorizedAPIAccess", nil, nil, LevelMetadata},
		{"SecretAccessed", []GroupResource{{"*", "secrets"}}, []string{"get", "list"}, LevelMetadata},
		{"RBACModification", []GroupResource{{"*", "clusterrolebindings"}, {"*", "clusterroles"}, {"*", "rolebindings"}, {"*", "roles"}},
			[]string{"create", "delete", "patch", "update"}, LevelMetadata},
		{"PodExecDetected", []GroupResource{{"*", "pods/exec"}}, nil, LevelMetadata},
		{"ServiceAccountTokenCreated", []GroupResource{{"*", "serviceaccounts/token"}}, []string{"create"}, LevelMetadata},
	}
	if len(got) != len(wants) {
		t.Fatalf("%d detections, want %d", len(got), len(wants))
	}
	for i, w := range wants {
		g := got[i]
		if g.Name != w.name || !reflect.DeepEqual(g.Resources, w.resources) || !reflect.DeepEqual(g.Verbs, w.verbs) || g.NeedsLevel != w.level || g.Match == nil {
			t.Errorf("detection %d = %+v, want %+v", i, g, w)
		}
	}
}

func TestBuiltinPackDetections(t *testing.T) {
	set, err := rules.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	dets := DetectionsFromRules(set)
	if len(dets) != len(set.Rules()) {
		t.Fatalf("%d detections for %d rules", len(dets), len(set.Rules()))
	}
	byName := map[string]Detection{}
	for _, d := range dets {
		byName[d.Name] = d
	}
	cases := []struct {
		name, want string
	}{
		{"PrivilegedPodCreated", "Request [{* pods}] [create] [] []"},
		{"HostNetworkPodCreated", "Request [{* pods}] [create] [] []"},
		{"CredentialsInConfigMap", "Request [{* configmaps}] [create patch update] [] []"},
		{"AnonymousRequestAllowed", "Metadata [] [] [] [system:anonymous]"},
		{"PrivilegedIdentityImpersonated", "Metadata [] [] [] []"},
		{"APIDiscoveryBurst", "Metadata [{* }] [get] [] []"},
		{"ExecIntoKubeSystem", "Metadata [{* pods/attach} {* pods/exec}] [] [kube-node-lease kube-public kube-system] []"},
		{"BootstrapTokenCreated", "Metadata [{* secrets}] [create] [kube-system] []"},
		{"ServiceAccountTokenSecretCreated", "Request [{* secrets}] [create] [] []"},
		{"PodSecurityViolationPrivileged", "Metadata [] [] [] []"},
	}
	for _, c := range cases {
		d, ok := byName[c.name]
		if !ok {
			t.Errorf("the built-in pack has no rule %s: a renamed or removed rule needs this case updated, not skipped", c.name)
			continue
		}
		got := fmt.Sprintf("%s %v %v %v %v", d.NeedsLevel, fmtGR(d.Resources), fmtS(d.Verbs), fmtS(d.Namespaces), fmtS(d.Users))
		if got != c.want {
			t.Errorf("%s = %s, want %s", c.name, got, c.want)
		}
	}
}

func fmtGR(g []GroupResource) string {
	if g == nil {
		return "[]"
	}
	return fmt.Sprint(g)
}

func fmtS(s []string) string {
	if s == nil {
		return "[]"
	}
	return fmt.Sprint(s)
}

// The structure read from a rule's filters never excludes an event that
// the rule's query selects: over every event, Match implies the
// structural match.
func TestDetectionStructureCoversQuery(t *testing.T) {
	set, err := rules.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	dets := append(DetectionsFromRules(set), seedDetectionsForTest(t)...)
	forEachDataSet(t, func(t *testing.T, ds dataSet) { detectionStructureCoversQuery(t, dets, ds.lines(t)) })
}

func detectionStructureCoversQuery(t *testing.T, dets []Detection, lines []realLine) {
	matched := 0
	for _, l := range lines {
		e := decodeEvent(t, l)
		for _, d := range dets {
			if !d.Match(&e) {
				continue
			}
			matched++
			if !d.matchesStructure(&e) {
				t.Errorf("%s: %s selects the event but its structure %+v does not", l.where, d.Name, d)
			}
		}
	}
	if matched == 0 {
		t.Fatal("no event matched any rule: the check is vacuous")
	}
	t.Logf("%d (event, rule) matches checked", matched)
}

func TestPipelineFilters(t *testing.T) {
	cases := []struct {
		in    string
		want  string
		lines []string
	}{
		{`{job="audit"} | json | verb=~"get|list" | responseStatus_code>=401`, `[{verb =~ get|list} {responseStatus_code >= 401}]`, nil},
		{`{job="audit"} |= "a | b" != "x" | json | (verb="get" or verb="list")`, `[{verb or get} {verb or list}]`, []string{"a | b"}},
		{`{job="audit"} |~ "x" or "y" | json p="requestObject.spec.type" | p="NodePort"`, `[{requestObject_spec_type = NodePort}]`, []string{"x", "y"}},
	}
	for _, c := range cases {
		f, l := pipelineFilters(c.in)
		if fmt.Sprint(f) != c.want || !reflect.DeepEqual(l, c.lines) {
			t.Errorf("%s:\n got %v %q\nwant %s %q", c.in, f, l, c.want, c.lines)
		}
	}
}

package auditpolicy

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	audit "k8s.io/apiserver/pkg/apis/audit"
	kpolicy "k8s.io/apiserver/pkg/audit/policy"

	"github.com/audittui/audittui/internal/testutil"
)

func TestLintSeedShadowing(t *testing.T) {
	p := mustLoad(t, seedPolicy(t))
	fs := Lint(p, LintOptions{Detections: seedDetectionsForTest(t)})

	ca := findingsWith(fs, CodeCatchAllNotLast)
	if len(ca) != 1 || ca[0].Rule != 0 || ca[0].Line != 7 || ca[0].Severity != SevError {
		t.Fatalf("catch-all-not-last = %+v, want rule 0 at line 7", ca)
	}
	sh := findingsWith(fs, CodeShadowed)
	if len(sh) != 8 {
		t.Fatalf("shadowed = %d findings, want rules 1-8:\n%v", len(sh), sh)
	}
	for i, f := range sh {
		if f.Rule != i+1 || f.Line != p.RuleLine(i+1) || !strings.Contains(f.Message, "rule 0 (line 7, Metadata)") {
			t.Errorf("shadowed[%d] = %+v", i, f)
		}
	}
	// Levels that differ from rule 0's are warnings, equal ones info.
	for _, f := range sh {
		want := SevWarning
		if p.API.Rules[f.Rule].Level == audit.LevelMetadata {
			want = SevInfo
		}
		if f.Severity != want {
			t.Errorf("rule %d: severity %s, want %s", f.Rule, f.Severity, want)
		}
	}
	// Rules 2 and 5 would log secret values if they were reached.
	sec := findingsWith(fs, CodeSecretBodies)
	var rules []int
	for _, f := range sec {
		rules = append(rules, f.Rule)
		if f.Severity != SevWarning || !strings.Contains(f.Message, "if it were reached") {
			t.Errorf("secret finding %+v", f)
		}
	}
	if fmt.Sprint(rules) != "[2 5]" {
		t.Fatalf("secret-bodies on rules %v, want [2 5]: %+v", rules, sec)
	}
	// Every level is Metadata: no alert is blinded.
	if b := findingsWith(fs, CodeBlindsDetection); len(b) != 0 {
		t.Fatalf("blinds = %+v", b)
	}
}

// With the catch-all moved away, the seed's later rules take effect: lint
// then reports the secret values logged at RequestResponse and Request.
func TestLintSeedWithoutFirstRule(t *testing.T) {
	b, err := os.ReadFile(seedPolicy(t))
	if err != nil {
		t.Fatal(err)
	}
	first := []byte("  - level: Metadata\n    omitStages:\n      - \"RequestReceived\"\n")
	if bytes.Count(b, first) != 1 {
		t.Fatalf("seed policy changed: first rule not found")
	}
	fixed := bytes.Replace(b, first, nil, 1)
	p, err := Parse("seed-fixed.yaml", fixed)
	if err != nil {
		t.Fatal(err)
	}
	fs := Lint(p, LintOptions{Detections: seedDetectionsForTest(t)})
	if len(findingsWith(fs, CodeCatchAllNotLast)) != 0 || len(findingsWith(fs, CodeNoCatchAll)) != 0 {
		t.Fatalf("catch-all findings on a policy whose catch-all is last: %+v", fs)
	}
	var got []string
	for _, f := range findingsWith(fs, CodeSecretBodies) {
		got = append(got, fmt.Sprintf("%d:%s", f.Rule, f.Severity))
	}
	// Rule 1 (was 2): Request on secret writes; rule 4 (was 5):
	// RequestResponse on secret reads. Rules 5 and 6 (system:masters and
	// system:anonymous at Request) only get secret watches and deletes,
	// whose bodies hold no secret.
	if strings.Join(got, " ") != "1:error 4:error" {
		t.Fatalf("secret-bodies = %v\n%+v", got, findingsWith(fs, CodeSecretBodies))
	}
	lw := findingsWith(fs, CodeListWatchBodies)
	if len(lw) != 1 || lw[0].Rule != 4 || !strings.Contains(lw[0].Message, "list secrets") {
		t.Fatalf("list-watch = %+v", lw)
	}
	// rule 2 (authentication.k8s.io at Metadata) takes tokenreviews; rule 3
	// lists pods/exec explicitly: no subresource trap for pods.
	for _, f := range findingsWith(fs, CodeSubresourceTrap) {
		if strings.Contains(f.Message, `"pods"`) {
			t.Errorf("unexpected trap: %+v", f)
		}
	}
}

// unknownFieldCases: a policy with `resource:` for `resources:` in a
// group entry (the apiserver ignores the key): the project's fixture and
// the real OpenShift policy that has the mistake.
var unknownFieldCases = []struct {
	name  string
	file  func(t *testing.T) string
	line  int
	rule  int
	entry int
	group string
}{
	{"fixture", func(*testing.T) string { return filepath.Join("testdata", "unknown-field.yaml") }, 21, 2, 1, "example.com"},
	{"realdata", func(t *testing.T) string {
		return filepath.Join(testutil.RealData(t), "policy", "openshift-writerequestbodies.yaml")
	}, 38, 2, 4, "machineconfiguration.openshift.io"},
}

func TestLintUnknownFieldLine(t *testing.T) {
	for _, c := range unknownFieldCases {
		t.Run(c.name, func(t *testing.T) {
			fs := Lint(mustLoad(t, c.file(t)), LintOptions{})
			uf := findingsWith(fs, CodeUnknownField)
			if len(uf) != 1 {
				t.Fatalf("unknown-field findings = %+v", uf)
			}
			u := uf[0]
			if u.Line != c.line || u.Rule != c.rule || !strings.Contains(u.Fix, `"resources"`) ||
				!strings.Contains(u.Message, "matches every resource of group "+c.group) {
				t.Fatalf("finding = %+v", u)
			}
		})
	}
}

const head = "apiVersion: audit.k8s.io/v1\nkind: Policy\n"

func TestLintChecks(t *testing.T) {
	cases := []struct {
		name   string
		policy string
		code   string
		rule   int
		line   int
		sev    string
		msg    string
	}{
		{"no catch-all", head + "omitStages: [RequestReceived]\nrules:\n- level: Metadata\n  verbs: [get]\n",
			CodeNoCatchAll, 0, 5, SevWarning, "not logged at all"},
		{"request received everywhere", head + "rules:\n- level: None\n  users: [a]\n- level: Metadata\n",
			CodeRequestReceived, -1, 3, SevWarning, "RequestReceived is not omitted"},
		{"request received one rule", head + "rules:\n- level: Request\n  verbs: [create]\n  omitStages: [RequestReceived]\n- level: Metadata\n",
			CodeRequestReceived, 1, 7, SevWarning, "rule 1 (Metadata) does not omit"},
		{"tokenreviews at Request", head + "omitStages: [RequestReceived]\nrules:\n- level: Request\n  resources: [{group: authentication.k8s.io}]\n- level: Metadata\n",
			CodeSecretBodies, 0, 5, SevError, "bearer tokens"},
		{"token at RequestResponse", head + "omitStages: [RequestReceived]\nrules:\n- level: RequestResponse\n  verbs: [create]\n- level: Metadata\n",
			CodeSecretBodies, 0, 5, SevError, "service account tokens"},
		{"secrets by group only", head + "omitStages: [RequestReceived]\nrules:\n- level: Request\n  userGroups: [system:masters]\n- level: Metadata\n",
			CodeSecretBodies, 0, 5, SevError, "for group system:masters"},
		{"pods trap", head + "omitStages: [RequestReceived]\nrules:\n- level: Request\n  resources: [{group: '', resources: [pods]}]\n  verbs: [create]\n- level: None\n  resources: [{group: ''}]\n- level: Metadata\n",
			CodeSubresourceTrap, 0, 5, SevWarning, "pods/exec gets None from rule 1"},
		{"list at RequestResponse", head + "omitStages: [RequestReceived]\nrules:\n- level: RequestResponse\n  resources: [{group: apps, resources: [deployments]}]\n- level: Metadata\n",
			CodeListWatchBodies, 0, 5, SevWarning, "list deployments.apps"},
		{"partly shadowed", head + "omitStages: [RequestReceived]\nrules:\n- level: None\n  verbs: [get]\n  resources: [{group: '', resources: [configmaps]}]\n- level: Request\n  verbs: [get, update]\n  resources: [{group: '', resources: [configmaps]}]\n- level: Metadata\n",
			CodePartlyShadowed, 1, 8, SevWarning, "get configmaps (gets None from rule 0)"},
		{"shadowed by two rules", head + "omitStages: [RequestReceived]\nrules:\n- level: None\n  verbs: [get]\n- level: None\n  verbs: [list]\n- level: Request\n  verbs: [get, list]\n- level: Metadata\n",
			CodeShadowed, 2, 9, SevWarning, "rule 0 (line 5, None), rule 1 (line 7, None)"},
		{"wrong group", head + "omitStages: [RequestReceived]\nrules:\n- level: Metadata\n  resources:\n  - group: ''\n    resources: [deployments]\n",
			CodeWrongGroup, 0, 7, SevWarning, "deployments are in group apps"},
		{"secret alert blinded", head + "omitStages: [RequestReceived]\nrules:\n- level: None\n  resources: [{group: '', resources: [secrets]}]\n  verbs: [get]\n- level: Metadata\n",
			CodeBlindsDetection, 0, 5, SevWarning, "alert SecretAccessed needs its events at Metadata or above, but rule 0 logs get secrets at None"},
		{"exec alert never fires", head + "omitStages: [RequestReceived]\nrules:\n- level: None\n  resources: [{group: '', resources: ['pods/exec']}]\n- level: Metadata\n",
			CodeBlindsDetection, 0, 5, SevError, "alert PodExecDetected can never fire"},
		{"invalid", head + "rules:\n- level: Sometimes\n",
			CodeInvalid, 0, 4, SevError, `Unsupported value: "Sometimes"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var fs []Finding
			p, err := Parse("p.yaml", []byte(c.policy))
			if le, ok := err.(*LoadError); ok {
				fs = LintLoadError(le)
			} else if err != nil {
				t.Fatal(err)
			} else {
				fs = Lint(p, LintOptions{Detections: seedDetectionsForTest(t)})
			}
			for _, f := range findingsWith(fs, c.code) {
				if f.Rule == c.rule && f.Line == c.line && f.Severity == c.sev && strings.Contains(f.Message, c.msg) && f.Fix != "" {
					return
				}
			}
			t.Fatalf("want %s on rule %d line %d (%s) containing %q; got:\n%s", c.code, c.rule, c.line, c.sev, c.msg, dump(fs))
		})
	}
}

func dump(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "  %d rule %d [%s] %s: %s\n", f.Line, f.Rule, f.Severity, f.Code, f.Message)
	}
	return b.String()
}

// A policy that does everything right has no findings.
func TestLintCleanPolicy(t *testing.T) {
	clean := head + `omitStages: ["RequestReceived"]
rules:
- level: Metadata
  resources:
  - group: ""
    resources: ["secrets", "serviceaccounts/token"]
  - group: authentication.k8s.io
    resources: ["tokenreviews"]
- level: Request
  verbs: ["create", "update", "patch", "delete"]
  resources:
  - group: rbac.authorization.k8s.io
- level: Metadata
`
	p, err := Parse("clean.yaml", []byte(clean))
	if err != nil {
		t.Fatal(err)
	}
	if fs := Lint(p, LintOptions{Detections: seedDetectionsForTest(t)}); len(fs) != 0 {
		t.Fatalf("findings on a clean policy:\n%s", dump(fs))
	}
}

// Every policy lints without panics, and every finding points at a line
// and carries a fix.
func TestLintFindingsHaveLineAndFix(t *testing.T) {
	forEachDataSet(t, func(t *testing.T, ds dataSet) {
		n := 0
		for _, f := range ds.policies(t) {
			p := mustLoad(t, f)
			for _, x := range Lint(p, LintOptions{Detections: seedDetectionsForTest(t)}) {
				n++
				if x.Line <= 0 || x.Fix == "" || x.Message == "" {
					t.Errorf("%s: finding without line or fix: %+v", f, x)
				}
			}
		}
		if n == 0 {
			t.Fatal("no findings at all: the check is vacuous")
		}
	})
}

// covers and overlaps, which lint uses to reason about rules, agree with
// the apiserver's evaluator on every probe: if covers(a, b), every probe
// that b matches is matched by a; if !overlaps(a, b), no probe matches
// both.
func TestCoverAgreesWithEvaluator(t *testing.T) {
	forEachDataSet(t, func(t *testing.T, ds dataSet) { coverAgreesWithEvaluator(t, ds.policies(t)) })
}

func coverAgreesWithEvaluator(t *testing.T, policies []string) {
	for _, f := range policies {
		t.Run(filepath.Base(f), func(t *testing.T) {
			p := mustLoad(t, f)
			space := p.probeSpace()
			var probes []probe
			for _, gr := range commonResources {
				probes = append(probes, space.resourceProbes(knownGroups[strings.Split(gr.Resource, "/")[0]], gr.Resource, commonVerbs)...)
			}
			for _, r := range p.API.Rules {
				for _, g := range r.Resources {
					for _, res := range g.Resources {
						if !strings.Contains(res, "*") {
							probes = append(probes, space.resourceProbes(g.Group, res, commonVerbs)...)
						}
					}
				}
			}
			probes = append(probes, space.pathProbes(append(commonPaths, "/apis/apps/v1", "/swagger.json", "/healthz/ready"), []string{"get", "post"})...)

			var rules []audit.PolicyRule
			for _, r := range p.API.Rules {
				rules = append(rules, r)
				rules = append(rules, atoms(&r)...)
			}
			match := make([][]bool, len(rules))
			for i := range rules {
				rc := rules[i].DeepCopy()
				rc.Level = audit.LevelMetadata
				ev := kpolicy.NewPolicyRuleEvaluator(&audit.Policy{Rules: []audit.PolicyRule{*rc}})
				match[i] = make([]bool, len(probes))
				for k, pr := range probes {
					match[i][k] = ev.EvaluatePolicyRule(pr.attrs).Level != audit.LevelNone
				}
			}
			checked := 0
			for a := range rules {
				for b := range rules {
					cv, ov := covers(&rules[a], &rules[b]), overlaps(&rules[a], &rules[b])
					if !cv && ov {
						continue // nothing claimed
					}
					for k := range probes {
						if cv && match[b][k] && !match[a][k] {
							t.Fatalf("covers(%d,%d) but %s matches only the second", a, b, describeProbe(probes[k].attrs, true))
						}
						if !ov && match[a][k] && match[b][k] {
							t.Fatalf("!overlaps(%d,%d) but %s matches both", a, b, describeProbe(probes[k].attrs, true))
						}
					}
					checked++
				}
			}
			t.Logf("%d rule pairs x %d probes", checked, len(probes))
		})
	}
}

// The seed policy after following lint's fixes (testdata/seed-fixed.yaml)
// has no warnings or errors against the seed's alert rules; what remains
// is the blind spot its None rule leaves to the catch-all 401/403 alert.
func TestLintSeedFixed(t *testing.T) {
	p := mustLoad(t, filepath.Join("testdata", "seed-fixed.yaml"))
	fs := Lint(p, LintOptions{Detections: seedDetectionsForTest(t)})
	if len(fs) != 1 || fs[0].Code != CodeBlindsDetection || fs[0].Severity != SevInfo || fs[0].Rule != 0 ||
		!strings.Contains(fs[0].Message, "alert UnauthorizedAPIAccess") {
		t.Fatalf("findings:\n%s", dump(fs))
	}
}

// A misspelt key gets the field it was meant to be: a swap of two
// neighbouring letters is one edit, as people make it (Levenshtein
// distance counted it two, and "usreGruops", two swaps, four: no hint).
func TestLintUnknownFieldSuggestsSwappedLetters(t *testing.T) {
	src := "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n" +
		"- level: Metadata\n  usreGruops: [system:masters]\n" +
		"- level: Metadata\n  resources:\n  - gorup: \"\"\n    resources: [pods]\n" +
		"- level: Metadata\n  bogus: 1\n"
	p, err := Parse("p.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	fs := findingsWith(Lint(p, LintOptions{}), CodeUnknownField)
	want := []string{`rename "usreGruops" to "userGroups"`, `rename "gorup" to "group"`, `remove "bogus"`}
	if len(fs) != len(want) {
		t.Fatalf("unknown-field findings = %+v, want %d", fs, len(want))
	}
	for i, f := range fs {
		if !strings.Contains(f.Fix, want[i]) && !strings.Contains(f.Message, want[i]) {
			t.Errorf("finding %d = %+v, want %q", i, f, want[i])
		}
	}
}

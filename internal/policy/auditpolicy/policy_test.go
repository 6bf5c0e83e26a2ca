package auditpolicy

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	audit "k8s.io/apiserver/pkg/apis/audit"
	kpolicy "k8s.io/apiserver/pkg/audit/policy"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/audittui/audittui/internal/testutil"
)

// The loaded policy is exactly what the apiserver's loader returns.
func TestLoadMatchesApiserver(t *testing.T) {
	forEachDataSet(t, func(t *testing.T, ds dataSet) { loadMatchesApiserver(t, ds.policies(t)) })
}

func loadMatchesApiserver(t *testing.T, policies []string) {
	for _, f := range policies {
		t.Run(filepath.Base(f), func(t *testing.T) {
			p := mustLoad(t, f)
			want, err := kpolicy.LoadPolicyFromFile(f)
			if err != nil {
				t.Fatalf("apiserver refuses %s but we loaded it: %v", f, err)
			}
			if !reflect.DeepEqual(p.API, want) {
				t.Fatalf("loaded policy differs from the apiserver's:\n got %+v\nwant %+v", p.API, want)
			}
			if len(p.RuleLines) != len(want.Rules) {
				t.Fatalf("%d rule lines for %d rules", len(p.RuleLines), len(want.Rules))
			}
			for i, l := range p.RuleLines {
				if l <= 0 {
					t.Errorf("rule %d has no line", i)
				}
			}
		})
	}
}

func TestLenientFallbackReportsUnknownFieldLine(t *testing.T) {
	for _, c := range unknownFieldCases {
		t.Run(c.name, func(t *testing.T) {
			p := mustLoad(t, c.file(t))
			if len(p.Warnings) != 1 {
				t.Fatalf("warnings = %+v, want the one unknown field", p.Warnings)
			}
			w := p.Warnings[0]
			field := fmt.Sprintf("rules[%d].resources[%d].resource", c.rule, c.entry)
			if w.Line != c.line || w.Field != field {
				t.Fatalf("warning = %+v, want %s at line %d", w, field, c.line)
			}
			// The apiserver ignored the field: the entry has no resources.
			if got := p.API.Rules[c.rule].Resources[c.entry]; got.Group != c.group || len(got.Resources) != 0 {
				t.Fatalf("entry = %+v", got)
			}
		})
	}
}

func TestIndentedPolicyLines(t *testing.T) {
	cases := []struct {
		name string
		file func(t *testing.T) string
		want []int
	}{
		{"fixture", func(*testing.T) string { return filepath.Join("testdata", "indented.yaml") }, []int{10, 15, 19, 23}},
		{"realdata", func(t *testing.T) string {
			return filepath.Join(testutil.RealData(t), "policy", "openshift-default.yaml")
		}, []int{12, 21, 29, 37}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := mustLoad(t, c.file(t))
			if !reflect.DeepEqual(p.RuleLines, c.want) {
				t.Fatalf("rule lines = %v, want %v", p.RuleLines, c.want)
			}
		})
	}
}

func TestSeedRuleLines(t *testing.T) {
	p := mustLoad(t, seedPolicy(t))
	want := []int{7, 12, 19, 28, 34, 40, 47, 51, 57}
	if !reflect.DeepEqual(p.RuleLines, want) {
		t.Fatalf("rule lines = %v, want %v", p.RuleLines, want)
	}
}

func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name, doc string
		wantLine  int
		wantMsg   string
	}{
		{"bad level", "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n- level: Everything\n", 5, "Unsupported value"},
		{"bad stage", "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: None\n  omitStages: [Sometimes]\n", 5, "allowed stages"},
		{"both kinds", "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: None\n  resources: [{group: ''}]\n  nonResourceURLs: ['/x']\n", 6, "both regular resources and non-resource URLs"},
		{"no rules", "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: []\n", 0, "0 rules"},
		// Review H finding 13: the decoder's own message named its scheme's
		// source line, not the policy's, and did not say what to use.
		{"v1beta1", "kind: Policy\napiVersion: audit.k8s.io/v1beta1\nrules: [{level: None}]\n", 2, "apiVersion audit.k8s.io/v1beta1 is not served: current apiservers load audit policies of audit.k8s.io/v1 only"},
		{"no apiVersion", "kind: Policy\nrules: [{level: None}]\n", 0, "apiVersion must be audit.k8s.io/v1"},
		{"not yaml", "rules: [\n", 0, "failed decoding"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("p.yaml", []byte(c.doc))
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("err = %v, want *LoadError", err)
			}
			_, apiErr := kpolicy.LoadPolicyFromBytes([]byte(c.doc))
			if apiErr == nil {
				t.Fatalf("the apiserver accepts what we refuse")
			}
			var found bool
			for _, is := range le.Issues {
				if strings.Contains(is.Msg, c.wantMsg) && (c.wantLine == 0 || is.Line == c.wantLine) {
					found = true
				}
			}
			if !found {
				t.Fatalf("issues = %+v, want %q at line %d", le.Issues, c.wantMsg, c.wantLine)
			}
		})
	}
}

// Levels for every (policy x event) pair agree with the apiserver's
// evaluator called directly on attributes built independently from the raw
// JSON, and the rule index is the first rule that matches.
func TestLevelsAgreeWithApiserver(t *testing.T) {
	forEachDataSet(t, func(t *testing.T, ds dataSet) { levelsAgreeWithApiserver(t, ds.policies(t), ds.lines(t)) })
}

func levelsAgreeWithApiserver(t *testing.T, policies []string, lines []realLine) {
	for _, f := range policies {
		t.Run(filepath.Base(f), func(t *testing.T) {
			p := mustLoad(t, f)
			api, err := kpolicy.LoadPolicyFromFile(f)
			if err != nil {
				t.Fatal(err)
			}
			ev := kpolicy.NewPolicyRuleEvaluator(api.DeepCopy())
			perRule := map[int]int{}
			for _, l := range lines {
				e := decodeEvent(t, l)
				attrs := jsonAttrs(t, l)
				want := ev.EvaluatePolicyRule(attrs)
				level, rule := p.LevelFor(&e)
				if level != string(want.Level) {
					t.Fatalf("%s: level %s, apiserver says %s", l.where, level, want.Level)
				}
				perRule[rule]++
				// The index: the prefix up to the rule matches, the prefix
				// before it does not (levels forced non-None to tell).
				if got := prefixMatches(api, rule+1, attrs); rule >= 0 && !got {
					t.Fatalf("%s: rule %d reported but rules[0..%d] do not match", l.where, rule, rule)
				}
				if n := rule; n < 0 {
					n = len(api.Rules)
					if prefixMatches(api, n, attrs) {
						t.Fatalf("%s: rule -1 reported but a rule matches", l.where)
					}
				} else if prefixMatches(api, n, attrs) {
					t.Fatalf("%s: rule %d reported but an earlier rule matches", l.where, rule)
				}
				if rule >= 0 && string(api.Rules[rule].Level) != level {
					t.Fatalf("%s: rule %d has level %s, evaluator said %s", l.where, rule, api.Rules[rule].Level, level)
				}
			}
			t.Logf("%d events; events per rule: %v", len(lines), perRule)
		})
	}
}

// prefixMatches reports whether any of the first n rules matches, using the
// apiserver's evaluator over those rules with levels forced to Metadata.
func prefixMatches(api *audit.Policy, n int, attrs authorizer.Attributes) bool {
	pol := &audit.Policy{}
	for _, r := range api.Rules[:n] {
		rc := r.DeepCopy()
		rc.Level = audit.LevelMetadata
		pol.Rules = append(pol.Rules, *rc)
	}
	return kpolicy.NewPolicyRuleEvaluator(pol).EvaluatePolicyRule(attrs).Level != audit.LevelNone
}

package logql

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestLiteralAlternatives(t *testing.T) {
	for _, c := range []struct {
		expr string
		want []string // nil: not literal
	}{
		{"get", []string{"get"}},
		{"get|list", []string{"get", "list"}},
		{"create|update|patch", []string{"create", "patch", "update"}},
		{"roles|rolebindings|clusterroles|clusterrolebindings", []string{"clusterrolebindings", "clusterroles", "rolebindings", "roles"}},
		{"(?:kube-system|kube-public|kube-node-lease)", []string{"kube-node-lease", "kube-public", "kube-system"}},
		{"pods?", []string{"pod", "pods"}},
		{"exec|", []string{"", "exec"}},
		{"", []string{""}},
		{"v[12]", []string{"v1", "v2"}},
		{`a\.b`, []string{"a.b"}},
		{"(exec|attach)(-x)?", []string{"attach", "attach-x", "exec", "exec-x"}},
		{"system:.*", nil},
		{"(?i)get", nil},
		{"get|list.*", nil},
		{"^get$", nil},
		{"[a-z0-9]{2}", nil},
		{"a{2,3}", []string{"aa", "aaa"}},
		{"a+", nil},
		{"(", nil},
	} {
		got, _ := simpleForms(c.expr)
		if !slices.Equal(got, c.want) || (got == nil) != (c.want == nil) {
			t.Errorf("simpleForms(%q) = %q, want %q", c.expr, got, c.want)
		}
	}
}

// The literal form of a matcher answers as its regular expression does.
func FuzzMatcherLiterals(f *testing.F) {
	for _, s := range []string{"system:serviceaccount:.*", ".*x", ".*é.*", "a.*b", ".*", ".*(a|bc).*", "(x|y).*", "get|list", "pods?", "(exec|attach)(-x)?", "v[12]", "a{2,3}", "é|e\u0301", "x|", "\\x00|a", "\uFFFD|a", "x\uFFFD.*",
		"system:(node:.*|kube-scheduler|apiserver)", "/(healthz|livez)([/?].*)?", "(?:[Ww]get/|curl/).*", "(?i)ks.*|x", "(a|.*b)(c|.*)", "(?-s:.*)x|y", "(.*a|b.*)"} {
		f.Add(s, "get")
		f.Add(s, "")
		f.Add(s, "pods")
		f.Add(s, "x\xff")
		f.Add(s, "\xffa")
	}
	f.Fuzz(func(t *testing.T, expr, v string) {
		m, err := newMatcher("l", MatchRegexp, expr)
		if err != nil {
			return
		}
		re := regexp.MustCompile("^(?s:" + expr + ")$")
		if got, want := m.Matches(v), re.MatchString(v); got != want {
			t.Fatalf("%q =~ %q: %v, regexp says %v (lits %q)", v, expr, got, want, m.lits)
		}
		if m.aff != nil && m.lits != nil {
			t.Fatalf("%q: both literal forms", expr)
		}
		for _, l := range m.lits {
			if !re.MatchString(l) {
				t.Fatalf("%q: literal %q does not match", expr, l)
			}
		}
	})
}

func TestGates(t *testing.T) {
	for _, c := range []struct {
		q    string
		want string
	}{
		{`{job="audit"} | json | verb="get"`, `verb="get"`},
		{`{job="audit"} |= "exec" | json | objectRef_resource = "pods" | objectRef_subresource =~ "exec|attach" | responseStatus_code < 400 | user_username="x"`,
			`objectRef_resource="pods" objectRef_subresource=~"exec|attach" responseStatus_code<400`},
		{`{job="audit"} | json | verb="get" and objectRef_resource=~"secrets|configmaps"`, `verb="get" objectRef_resource=~"secrets|configmaps"`},
		// or of string filters: one gate with an alternative each.
		{`{job="audit"} | json | (verb="get" or verb="list") | user_username!="a" | user_username=~"system:.*"`, `(verb="get" or verb="list") user_username!="a" user_username=~"system:.*"`},
		{`{job="audit"} | json | (objectRef_subresource=~"exec|attach" or objectRef_resource="x" or verb="y") | verb="get"`, `(objectRef_subresource=~"exec|attach" or objectRef_resource="x" or verb="y") verb="get"`},
		// An or holding an and, or a label no json stage sets: no gate,
		// but the search goes on.
		{`{job="audit"} | json | (verb="get" or (verb="list" and user_username="a")) | verb="get"`, `verb="get"`},
		{`{job="audit"} | (verb="get" or job="x") | json | (verb="get" or job="x") | verb="get"`, `(verb="get" or job="x") verb="get"`},
		{`{job="audit"} | json | (verb="get" or ip="x") | json ip="sourceIPs[0]" | (verb="get" or ip="x")`, `(verb="get" or ip="x") (verb="get" or ip="x" (sourceIPs[0]))`},
		// Filters before `| json` see stream labels only.
		{`{job="audit"} | verb="get" | json | verb="list"`, `verb="list"`},
		// A numeric filter can set __error__: nothing after it.
		{`{job="audit"} | json | responseStatus_code >= 400 | verb="get"`, `responseStatus_code>=400`},
		{`{job="audit"} | json | verb="get" | (responseStatus_code >= 400 or user_username="x") | verb="list"`, `verb="get"`},
		{`{job="audit"} | json ip="sourceIPs[0]" | ip="1.2.3.4" | verb="get"`, `ip="1.2.3.4" (sourceIPs[0])`}, // verb: a stream label here
		{`{job="audit"} | json ip="sourceIPs[0]" | ip!="" | json | ip="1.2.3.4" | verb="get"`, `ip!="" (sourceIPs[0]) verb="get"`},
		{`{job="audit"} | json | json ip="sourceIPs[0]" | ip=~"10[.].*" | ip_extracted="x"`, `ip=~"10[.].*" (sourceIPs[0])`},
		{`{job="audit"} | json | drop verb | verb="get"`, ``},
		{`{job="audit"} | json | line_format "{{.verb}}" | verb="get"`, ``},
		{`{job="audit"} | json | __error__="" | verb="get"`, `verb="get"`},
		{`{job="audit"} |= "x"`, ``},
	} {
		q, err := ParseLog(c.q)
		if err != nil {
			t.Fatalf("%s: %v", c.q, err)
		}
		var parts []string
		for _, g := range q.Gates() {
			parts = append(parts, g.String())
		}
		if got := strings.Join(parts, " "); got != c.want {
			t.Errorf("%s\ngates %q, want %q", c.q, got, c.want)
		}
	}
}

// A gate is a necessary condition: an entry that fails one never passes
// the pipeline.
func TestGatesAreNecessary(t *testing.T) {
	lines := []string{
		`{"verb":"get","objectRef":{"resource":"pods","subresource":"exec"},"user":{"username":"x"},"responseStatus":{"code":200}}`,
		`{"verb":"list","objectRef":{"resource":"secrets"},"user":{"username":"system:anonymous"},"responseStatus":{"code":403}}`,
		`{"verb":"create","objectRef":{"resource":"pods","subresource":"attach"},"responseStatus":{"code":"oops"}}`,
		`{"verb":"get","job":"not-the-stream-label","sourceIPs":["1.2.3.4"]}`,
		`{"verb":`,
		`not json`,
	}
	queries := []string{
		`{job="audit"} | json | verb="get"`,
		`{job="audit"} | json | verb=~"get|list" | objectRef_resource="pods"`,
		`{job="audit"} | json | objectRef_resource="pods" | objectRef_subresource=~"exec|attach" | responseStatus_code < 400`,
		`{job="audit"} | json | responseStatus_code >= 400 | verb="create"`,
		`{job="audit"} | json | job="not-the-stream-label"`,
		`{job="audit"} | json | job_extracted="not-the-stream-label"`,
		`{job="audit"} | json | verb="get" | __error__=""`,
		`{job="audit"} | json | verb=""`,
		`{job="audit"} | json | user_username!~"system:.*"`,
		`{job="audit"} | json ip="sourceIPs[0]" | ip!="" | json | verb="get"`,
		`{job="audit"} | json ip="sourceIPs[0]" | ip="1.2.3.4"`,
		`{job="audit"} | json ip="sourceIPs[0]" | ip=""`,
		`{job="audit"} | json job="verb" | job="get"`,
		`{job="audit"} | json job="verb" | job_extracted="get"`,
		`{job="audit"} | json | (verb="create" or objectRef_subresource=~"exec|attach")`,
		`{job="audit"} | json | (user_username="x" or verb="") | objectRef_resource="pods"`,
		`{job="audit"} | json | json ip="sourceIPs[0]" | (ip="1.2.3.4" or verb="list")`,
		`{job="audit"} | json | (job="audit" or verb="list")`,
	}
	for _, qs := range queries {
		q, err := ParseLog(qs)
		if err != nil {
			t.Fatal(err)
		}
		gates := q.Gates()
		if len(gates) == 0 && !strings.Contains(qs, "_extracted") {
			t.Fatalf("%s: no gate", qs)
		}
		for _, l := range lines {
			e := &JSONEntry{Line: []byte(l), Labels: [][2]string{{"job", "audit"}}}
			pass := q.Matches(e)
			for _, g := range gates {
				if !g.Admits(e) && pass {
					t.Errorf("%s on %s: gate %s rejects it, the pipeline passes", qs, l, g)
				}
			}
		}
	}
}

// TestFormSet: expressions of mixed literal forms (the built-in pack's)
// are answered by comparisons and prefix, suffix and substring tests;
// a wildcard between literals is left to the regexp.
func TestFormSet(t *testing.T) {
	for _, c := range []struct {
		expr, v string
		want    bool
		fast    bool
	}{
		{"system:(node:.*|kube-controller-manager|kube-scheduler|apiserver)", "system:node:ip-10-0-0-13.eu-west-1.compute.internal", true, true},
		{"system:(node:.*|kube-controller-manager|kube-scheduler|apiserver)", "system:kube-scheduler", true, true},
		{"system:(node:.*|kube-controller-manager|kube-scheduler|apiserver)", "system:kube-scheduler-x", false, true},
		{"system:(node:.*|kube-controller-manager|kube-scheduler|apiserver)", "system:serviceaccount:kube-system:x", false, true},
		{"/(healthz|livez|readyz|version)([/?].*)?", "/healthz", true, true},
		{"/(healthz|livez|readyz|version)([/?].*)?", "/readyz?verbose", true, true},
		{"/(healthz|livez|readyz|version)([/?].*)?", "/healthzz", false, true},
		{"(?:kubectl/|curl/|[Ww]get/|python-requests/).*", "Wget/1.21", true, true},
		{"(?:kubectl/|curl/|[Ww]get/|python-requests/).*", "wGet/1.21", false, true},
		{"(?i)k8s", "\u212a8S", true, true}, // the Kelvin sign folds to k
		{"(a|.*b)(c|.*)", "xbzz", true, true},
		{"(a|.*b)(c|.*)", "ac", true, true},
		{"a.*b|c", "axb", true, false},
		{"(?-s:.*)x|y", "y", true, false},
	} {
		m, err := newMatcher("l", MatchRegexp, c.expr)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Matches(c.v); got != c.want {
			t.Errorf("%q =~ %q: %v, want %v", c.v, c.expr, got, c.want)
		}
		if fast := m.lits != nil || m.aff != nil || m.forms != nil; fast != c.fast {
			t.Errorf("%q: forms %+v, want fast path %v", c.expr, m.forms, c.fast)
		}
	}
}

func TestAffix(t *testing.T) {
	for _, c := range []struct {
		expr, v string
		want    bool
		fast    bool // answered without the regexp
	}{
		{"system:serviceaccount:.*", "system:serviceaccount:kube-system:x", true, true},
		{"system:serviceaccount:.*", "user system:serviceaccount:x", false, true},
		{"system:serviceaccount:.*", "system:serviceaccount:", true, true},
		{".*-controller", "system:serviceaccount:kube-system:job-controller", true, true},
		{".*-controller", "job-controller-x", false, true},
		{".*(privileged).*", "a privileged pod", true, true},
		{".*privileged.*", "a privilege", false, true},
		{"system:(node|serviceaccount):.*", "system:node:n1", true, true},
		{"a.*b", "axxb", true, false},
		{".*(privileged|host namespaces|hostPath).*", "violations: hostPath volumes", true, true},
		{".*(privileged|hostPath).*", "hostPort", false, true},
		{"(kubectl/|curl/).*", "curl/8.1", true, true},
	} {
		m, err := newMatcher("l", MatchRegexp, c.expr)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Matches(c.v); got != c.want {
			t.Errorf("%q =~ %q: %v, want %v", c.v, c.expr, got, c.want)
		}
		if (m.aff != nil) != c.fast {
			t.Errorf("%q: affix %v, want fast path %v", c.expr, m.aff, c.fast)
		}
	}
}

// TestWithoutGates: a query run without the string filters of its gates
// answers as the whole query on every entry that meets them (the
// evaluator runs it only there), and does not test them again: an entry
// that fails one of them passes. Numeric gates stay (their filter sets
// __error__ on a value that is not a number), as do `or` gates.
func TestWithoutGates(t *testing.T) {
	lines := []string{
		`{"verb":"get","objectRef":{"resource":"pods","subresource":"exec"},"user":{"username":"x"},"responseStatus":{"code":200}}`,
		`{"verb":"list","objectRef":{"resource":"secrets"},"user":{"username":"system:anonymous"},"responseStatus":{"code":403}}`,
		`{"verb":"create","objectRef":{"resource":"pods","subresource":"attach"},"user":{"username":"system:node:n"},"responseStatus":{"code":"oops"}}`,
		`{"verb":"get","job":"not-the-stream-label","sourceIPs":["1.2.3.4"],"user":{"username":"y"}}`,
		`{"verb":"get","objectRef":{"resource":"pods"},"responseStatus":{"code":500},"sourceIPs":["10.0.0.1","1.2.3.4"]}`,
		`{"verb":"create","objectRef":{"resource":"deployments"},"responseStatus":{"code":201}}`,
		`{"verb":`,
		`not json`,
	}
	for _, c := range []struct {
		q    string
		want string // the pipeline run
	}{
		{`sum by (verb) (count_over_time({job="audit"} | json | verb="get" [5m]))`, `{job="audit"} | json`},
		{`sum by (user_username) (count_over_time({job="audit"} | json | __error__="" | verb=~"get|list" | objectRef_resource="pods" | user_username!~"system:.*" [5m]))`,
			`{job="audit"} | json | __error__=""`},
		{`sum by (verb) (count_over_time({job="audit"} |= "pods" | json | objectRef_resource="pods" and verb="get" | responseStatus_code >= 400 | user_username="x" [5m]))`,
			`{job="audit"} |= "pods" | json | responseStatus_code>=400 | user_username="x"`},
		{`sum by (verb) (count_over_time({job="audit"} | json | verb="get" | (responseStatus_code >= 400 or user_username="x") | verb="list" [5m]))`,
			`{job="audit"} | json | (responseStatus_code>=400 or user_username="x") | verb="list"`},
		{`sum by (ip) (count_over_time({job="audit"} | json ip="sourceIPs[0]" | ip!="" | json | verb="get" [5m]))`,
			`{job="audit"} | json ip="sourceIPs[0]" | json`},
		{`count_over_time({job="audit"} | json | (verb="create" or objectRef_subresource=~"exec|attach") | objectRef_resource="pods" [5m])`,
			`{job="audit"} | json | (verb="create" or objectRef_subresource=~"exec|attach")`},
		{`sum by (verb) (count_over_time({job="audit"} | json | responseStatus_code >= 400 | verb="get" [5m]))`, ``},
	} {
		q, err := ParseMetric(c.q)
		if err != nil {
			t.Fatalf("%s: %v", c.q, err)
		}
		gates := q.LogQuery().Gates()
		g := q.WithoutGates(gates)
		if got := ""; g != nil || c.want != "" {
			if g != nil {
				got = g.String()
			}
			if got != c.want {
				t.Errorf("%s\nruns %q without its gates, want %q", c.q, got, c.want)
				continue
			}
		}
		if g == nil {
			continue
		}
		skipped := false
		for _, l := range lines {
			e := &JSONEntry{Line: []byte(l), Labels: [][2]string{{"job", "audit"}}}
			meets := true
			for _, gt := range gates {
				meets = meets && gt.Admits(e)
			}
			var whole, part Contribution
			wok := q.Contribute(e, &whole)
			pok := g.Contribute(e, &part)
			if !meets {
				skipped = skipped || pok && !wok
				continue
			}
			if wok != pok || whole.Labels.String() != part.Labels.String() {
				t.Errorf("%s on %s: without its gates (%v, %s), whole (%v, %s)", c.q, l, pok, part.Labels, wok, whole.Labels)
			}
		}
		if !skipped {
			t.Errorf("%s: no entry that fails a gate passes without it: were its filters removed?", c.q)
		}
	}
}

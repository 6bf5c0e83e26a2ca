package logql

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/audittui/audittui/internal/testutil"
)

// seedQueries returns every query of the seed .logql files (queries are
// separated by blank lines; # lines are comments) and every rule expr.
func seedQueries(t testing.TB) map[string]string {
	t.Helper()
	dir := testutil.SeedDir(t)
	out := map[string]string{}
	files, _ := filepath.Glob(filepath.Join(dir, "*.logql"))
	if len(files) == 0 {
		t.Fatalf("no .logql files in %s", dir)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, block := range strings.Split(string(b), "\n\n") {
			var lines []string
			for _, l := range strings.Split(block, "\n") {
				if strings.HasPrefix(strings.TrimSpace(l), "#") {
					continue
				}
				lines = append(lines, l)
			}
			q := strings.TrimSpace(strings.Join(lines, "\n"))
			if q == "" {
				continue
			}
			n++
			out[filepath.Base(f)+"#"+string(rune('0'+n))] = q
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "loki-audit-rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert string `json:"alert"`
				Expr  string `json:"expr"`
			} `json:"rules"`
		} `json:"groups"`
	}
	if err := yaml.Unmarshal(b, &rules); err != nil {
		t.Fatalf("loki-audit-rules.yaml: %v", err)
	}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			out["rule "+r.Alert] = r.Expr
		}
	}
	if len(out) < 12 {
		t.Fatalf("expected at least 12 seed queries, found %d", len(out))
	}
	return out
}

func TestSeedQueriesParse(t *testing.T) {
	for name, q := range seedQueries(t) {
		t.Run(name, func(t *testing.T) {
			e, err := Parse(q)
			if err != nil {
				t.Fatalf("parse %q: %v", q, err)
			}
			// The canonical form parses to the same canonical form.
			e2, err := Parse(e.String())
			if err != nil {
				t.Fatalf("reparse %q: %v", e.String(), err)
			}
			if e.String() != e2.String() {
				t.Errorf("round trip changed:\n%s\n%s", e.String(), e2.String())
			}
			if strings.HasPrefix(name, "rule ") {
				if _, ok := e.(*MetricQuery); !ok {
					t.Errorf("rule expr should be a metric query, got %T", e)
				}
			}
		})
	}
}

func TestParseValid(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{`{job="audit"}`, `{job="audit"}`},
		{`{job="audit", cluster=~"prod-.*"}`, `{job="audit", cluster=~"prod-.*"}`},
		{`{job!="x", a!~"b", c="d"}`, `{job!="x", a!~"b", c="d"}`},
		{"{job=`audit`} |= `a\\b` != \"c\\\"d\" |~ \"x.+\" !~ `y`", `{job="audit"} |= "a\\b" != "c\"d" |~ "x.+" !~ "y"`},
		{`{job="audit"} |= "a" or "b"`, `{job="audit"} |= "a" or "b"`},
		{`{job="audit"} | json`, `{job="audit"} | json`},
		{`{job="audit"} | json a="x.y", b="requestObject.spec.containers[0].securityContext.privileged"`,
			`{job="audit"} | json a="x.y", b="requestObject.spec.containers[0].securityContext.privileged"`},
		{`{job="audit"} | json verb, d="annotations[\"authorization.k8s.io/decision\"]"`,
			`{job="audit"} | json verb="verb", d="annotations[\"authorization.k8s.io/decision\"]"`},
		{`{job="audit"} | json | a="1" and b="2" or c="3"`, `{job="audit"} | json | ((a="1" and b="2") or c="3")`},
		{`{job="audit"} | json | a="1" or b="2" and c="3"`, `{job="audit"} | json | (a="1" or (b="2" and c="3"))`},
		{`{job="audit"} | json | (a="1" or b="2") and c="3"`, `{job="audit"} | json | ((a="1" or b="2") and c="3")`},
		{`{job="audit"} | json | a="1", b="2" c="3"`, `{job="audit"} | json | ((a="1" and b="2") and c="3")`},
		{`{job="audit"} | json | code >= 401 | code < 500 | code == 403 | code != 404 | code = 1 | code > -1.5`,
			`{job="audit"} | json | code>=401 | code<500 | code==403 | code!=404 | code==1 | code>-1.5`},
		{`{job="audit"} | json | latency > 250ms | size <= 20MB`, `{job="audit"} | json | latency>250ms | size<=20MB`},
		{`{job="audit"} | json | verb=="get"`, `{job="audit"} | json | verb="get"`},
		{`{job="audit"} | json a="sourceIPs[0]" | a = ip("10.0.0.0/8") or a != ip( "::1" )`, `{job="audit"} | json a="sourceIPs[0]" | (a=ip("10.0.0.0/8") or a!=ip("::1"))`},
		{`{job="audit"} | json | drop a, b | keep c`, `{job="audit"} | json | drop a, b | keep c`},
		{"{job=\"audit\"} # comment\n | json", `{job="audit"} | json`},
		{`{job="audit"} | json | line_format "{{.verb}} {{.user_username}}"`, `{job="audit"} | json | line_format "{{.verb}} {{.user_username}}"`},
		{"{job=\"audit\"} | json | label_format who=user_username, x=`{{.verb}}-{{ __line__ | len }}`", `{job="audit"} | json | label_format who=user_username, x="{{.verb}}-{{ __line__ | len }}"`},
		{`count_over_time({job="audit"}[5m])`, `count_over_time({job="audit"} [5m])`},
		{`rate({job="audit"} | json [5m] offset 1h)`, `rate({job="audit"} | json [5m] offset 1h)`},
		{`rate({job="audit"}[5m] | json | verb="get")`, `rate({job="audit"} | json | verb="get" [5m])`},
		{`bytes_rate(({job="audit"} |= "x")[1h30m])`, `bytes_rate({job="audit"} |= "x" [1h30m])`},
		{`sum by (a, b) (bytes_over_time({job="audit"}[1m]))`, `sum by (a, b) (bytes_over_time({job="audit"} [1m]))`},
		{`sum(rate({job="audit"}[5m])) without (a)`, `sum without (a) (rate({job="audit"} [5m]))`},
		{`topk(10, sum by (user_username) (rate({job="audit"} | json [5m])))`, `topk (10, sum by (user_username) (rate({job="audit"} | json [5m])))`},
		{`bottomk by (x) (3, count_over_time({job="audit"}[5m]))`, `bottomk by (x) (3, count_over_time({job="audit"} [5m]))`},
		{`sum(count_over_time({job="audit"}[5m])) > 0`, `sum (count_over_time({job="audit"} [5m])) > 0`},
		{`sum(count_over_time({job="audit"}[5m])) >= bool 5`, `sum (count_over_time({job="audit"} [5m])) >= bool 5`},
		{`5 < count(count_over_time({job="audit"}[5m]))`, `5 < count (count_over_time({job="audit"} [5m]))`},
		{`sum(rate({job="audit"}[5m])) * 60 > 2 * 3`, `sum (rate({job="audit"} [5m])) * 60 > 6`},
		{`avg(min(max(count_over_time({job="audit"}[5m]))))`, `avg (min (max (count_over_time({job="audit"} [5m]))))`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			e, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if got := e.String(); got != tt.want {
				t.Errorf("Parse(%q) =\n  %s\nwant\n  %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in        string
		line, col int
		msg       string
	}{
		{``, 1, 1, "empty query"},
		{`{job="audit"`, 1, 13, `expected "," or "}"`},
		{`{job="audit"} | json | verb=~"get|(list"`, 1, 30, "invalid regular expression"},
		{`{job="audit"} |~ "a("`, 1, 18, "invalid regular expression"},
		{`{job=~".*"}`, 1, 1, "at least one stream matcher"},
		{`{}`, 1, 1, "at least one stream matcher"},
		{`{job="audit"} | logfmt`, 1, 17, "logfmt parser is not supported"},
		{`{job="audit"} | json | code > "x"`, 1, 29, "compares numbers"},
		{"{job=\"audit\"}\n  | json\n  | verb=", 3, 10, "expected a quoted string or a number"},
		{`{job="audit"} | json [5m]`, 1, 22, "range aggregation"},
		{`rate({job="audit"})`, 1, 19, "expected a range"},
		{`rate({job="audit"}[5x])`, 1, 20, "invalid number, duration"},
		{`sum by (a) (rate({job="audit"}[5m])) by (b)`, 1, 38, "grouping both before and after"},
		{`topk(x, rate({job="audit"}[5m]))`, 1, 6, "needs a number"},
		{`topk(0, rate({job="audit"}[5m]))`, 1, 6, "positive integer"},
		{`sum(rate({job="audit"}[5m])) and 1`, 1, 30, "set operator and takes two vectors, not a number"},
		{`sum(rate({job="audit"}[5m])) / on(verb) 2`, 1, 32, "vector matching (on) needs a vector on both sides"},
		{`sum(rate({job="audit"}[5m])) / on verb sum(rate({job="audit"}[5m]))`, 1, 35, `expected "("`},
		{`sum(rate({job="audit"}[5m])) + bool sum(rate({job="audit"}[5m]))`, 1, 32, "bool modifier can only be used on comparison"},
		{`foo({job="audit"}[5m])`, 1, 1, "unknown function"},
		{`sum(rate({job="audit"}[5m])) / ignoring(verb) group_left sum(rate({job="audit"}[5m]))`, 1, 47, "group_left (many-to-one matching) is not supported"},
		{`sum by (verb) (rate({job="audit"}[5m])) / on(verb) group_right(user) sum(rate({job="audit"}[5m]))`, 1, 52, "group_right (many-to-one matching) is not supported"},
		{`{job="audit"} | json | a = ip("300.1.1.1")`, 1, 31, "invalid IP address"},
		{`{job="audit"} | json | a = ip("10.0.0.9-10.0.0.1")`, 1, 31, "invalid IP range"},
		{`{job="audit"} | json | a = ip("10.0.0.1-::1")`, 1, 31, "one family"},
		{`{job="audit"} | json | a = ip("10.0.0.0/33")`, 1, 31, "invalid CIDR prefix"},
		{`{job="audit"} | json | a =~ ip("10.0.0.1")`, 1, 26, "ip() takes = or !="},
		{`{job="audit"} | json | a = ip(10)`, 1, 31, "expected a quoted IP address"},
		{`{job="audit"} | pattern "<a>"`, 1, 17, "supported stages: json, label filters, line filters, line_format, label_format, drop, keep"},
		{`sum_over_time({job="audit"}[5m])`, 1, 1, "needs an unwrap stage"},
		{`{job="audit"} | json | unwrap responseStatus_code`, 1, 1, "unwrap needs a range aggregation"},
		{`count_over_time({job="audit"} | json | unwrap responseStatus_code [5m])`, 1, 1, "count_over_time counts entries and takes no unwrap stage"},
		{`sum_over_time({job="audit"} | json | unwrap responseStatus_code | json [5m])`, 1, 67, "only label filters may follow | unwrap"},
		{`sum_over_time({job="audit"} | json | unwrap seconds(latency) [5m])`, 1, 45, "unknown unwrap conversion seconds"},
		{`rate_counter({job="audit"} | json | unwrap x [5m])`, 1, 1, "rate_counter (counter semantics over unwrapped values) is not supported"},
		{`quantile_over_time({job="audit"} | json | unwrap x [5m])`, 1, 20, "needs the quantile first"},
		// Loki's grammar takes a bare NUMBER there (no sign; its literal
		// expressions take one elsewhere): say so, not `found "-"`.
		{`quantile_over_time(-1, {job="audit"} | json | unwrap x [5m])`, 1, 20, "quantile_over_time's quantile takes no sign, as in Loki (which rejects -1; a quantile below 0 would be -Inf)"},
		{`quantile_over_time(+0.5, {job="audit"} | json | unwrap x [5m])`, 1, 20, "quantile_over_time's quantile takes no sign, as in Loki (which rejects +0.5"},
		{`count_over_time({job="audit"} [5m]) by (verb)`, 1, 37, "only allowed over unwrapped values"},
		{`{job="audit"} |= "abc`, 1, 18, "not terminated"},
		{`{job="audit"} |= "\q"`, 1, 18, "bad escape"},
		{`{job="audit"} | json a="x[", b`, 1, 22, "invalid JSON path"},
		{`1 + 2`, 1, 1, "not only numbers"},
		{`{job="audit"} | line_format "{{.a"`, 1, 29, "invalid line_format template"},
		{`{job="audit"} | line_format "{{nofunc .a}}"`, 1, 29, `function "nofunc" not defined`},
		{`{job="audit"} | label_format a=b, a="x"`, 1, 35, "more than once"},
		{`{job="audit"} | label_format a=1`, 1, 32, "expected a label name or a quoted template"},
		{`{job="é"} | verb ! "x"`, 1, 18, "unexpected character"},
		{`{jöb="audit"}`, 1, 3, "unexpected character"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) succeeded, want error", tt.in)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is %T, want *ParseError", err, err)
			}
			if pe.Line != tt.line || pe.Col != tt.col || !strings.Contains(pe.Msg, tt.msg) {
				t.Errorf("Parse(%q) = %v, want line %d, col %d containing %q", tt.in, err, tt.line, tt.col, tt.msg)
			}
			if !strings.HasPrefix(err.Error(), "line ") {
				t.Errorf("Error() = %q, want line L, col C: msg", err.Error())
			}
		})
	}
}

func TestParseLogAndMetric(t *testing.T) {
	if _, err := ParseLog(`count_over_time({job="audit"}[5m])`); err == nil {
		t.Error("ParseLog accepted a metric query")
	}
	if _, err := ParseMetric(`{job="audit"}`); err == nil {
		t.Error("ParseMetric accepted a log query")
	}
	mq, err := ParseMetric(`sum by (a) (rate({job="audit"} | json | verb="get" [5m] offset 1m))`)
	if err != nil {
		t.Fatal(err)
	}
	if mq.Range().String() != "5m0s" || mq.Offset().String() != "1m0s" {
		t.Errorf("Range/Offset = %v/%v", mq.Range(), mq.Offset())
	}
	if got := mq.LogQuery().String(); got != `{job="audit"} | json | verb="get"` {
		t.Errorf("LogQuery() = %s", got)
	}
	sel := mq.LogQuery().Selector()
	if len(sel) != 1 || sel[0].Name != "job" || sel[0].Op != MatchEqual || sel[0].Value != "audit" {
		t.Errorf("Selector() = %v", sel)
	}
}

package logql

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// TestOperators: every comparison operator of stream matchers, label
// filters (string, number, duration, bytes) and line filters, on a value
// below, equal to and above the operand, against Go's own comparison. An
// operator that behaves like another (!= like =, >= like >) fails here.
func TestOperators(t *testing.T) {
	num := map[string]func(a, b float64) bool{
		"==": func(a, b float64) bool { return a == b },
		"!=": func(a, b float64) bool { return a != b },
		">":  func(a, b float64) bool { return a > b },
		">=": func(a, b float64) bool { return a >= b },
		"<":  func(a, b float64) bool { return a < b },
		"<=": func(a, b float64) bool { return a <= b },
	}
	for op, cmp := range num {
		for _, v := range []float64{402, 403, 404} {
			line := fmt.Sprintf(`{"verb":"get","responseStatus":{"code":%v},"latency":"%vms","size":"%vKB"}`, v, v, v)
			for _, f := range []string{"responseStatus_code " + op + " 403", "latency " + op + " 403ms", "size " + op + " 403KB"} {
				q := mustParseLog(t, `{job="audit"} | json | `+f)
				if got, want := q.Matches(entry(line, auditLabels...)), cmp(v, 403); got != want {
					t.Errorf("%s on %v: %v, want %v", f, v, got, want)
				}
			}
		}
	}
	str := map[string]func(v string) bool{
		`="get"`:         func(v string) bool { return v == "get" },
		`!="get"`:        func(v string) bool { return v != "get" },
		`=~"get|list"`:   func(v string) bool { return v == "get" || v == "list" },
		`!~"get|list"`:   func(v string) bool { return v != "get" && v != "list" },
		`=~"g.*"`:        func(v string) bool { return strings.HasPrefix(v, "g") },
		`!~"g.*"`:        func(v string) bool { return !strings.HasPrefix(v, "g") },
		`=""`:            func(v string) bool { return v == "" },
		`!=""`:           func(v string) bool { return v != "" },
		`=~"(?i)GET"`:    func(v string) bool { return strings.EqualFold(v, "get") },
		`!~"(?i)GET|.*"`: func(v string) bool { return false },
	}
	for op, want := range str {
		for _, v := range []string{"get", "list", "watch", "gets", ""} {
			line := fmt.Sprintf(`{"verb":%q}`, v)
			// As a label filter after | json, and as a stream matcher on
			// a stream label with the same value.
			q := mustParseLog(t, `{job="audit"} | json | verb`+op)
			if got := q.Matches(entry(line, auditLabels...)); got != want(v) {
				t.Errorf("verb%s on %q: %v, want %v", op, v, got, want(v))
			}
			s := mustParseLog(t, `{job="audit", verb`+op+`}`)
			if got := s.Matches(entry(line, append(auditLabels, "verb", v)...)); got != want(v) {
				t.Errorf("{verb%s} on stream label %q: %v, want %v", op, v, got, want(v))
			}
		}
	}
	lines := map[string]func(l string) bool{
		`|= "secrets"`:       func(l string) bool { return strings.Contains(l, "secrets") },
		`!= "secrets"`:       func(l string) bool { return !strings.Contains(l, "secrets") },
		`|~ "sec.ets|pods"`:  func(l string) bool { return regexp.MustCompile("sec.ets|pods").MatchString(l) },
		`!~ "sec.ets|pods"`:  func(l string) bool { return !regexp.MustCompile("sec.ets|pods").MatchString(l) },
		`|= "x" or "pods"`:   func(l string) bool { return strings.Contains(l, "x") || strings.Contains(l, "pods") },
		`!= "nope" or "get"`: func(l string) bool { return !strings.Contains(l, "nope") && !strings.Contains(l, "get") },
	}
	for f, want := range lines {
		for _, l := range []string{evGetSecret, evListPods, evExec, evNoCode} {
			q := mustParseLog(t, `{job="audit"} `+f)
			if got := q.Matches(entry(l, auditLabels...)); got != want(l) {
				t.Errorf("%s on %.40s: %v, want %v", f, l, got, want(l))
			}
		}
	}
}

func mustParseLog(t *testing.T, s string) *LogQuery {
	t.Helper()
	q, err := ParseLog(s)
	if err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return q
}

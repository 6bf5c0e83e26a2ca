package logql

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzParse checks that Parse never panics, that every error is a
// *ParseError, and that accepted queries print to something that parses
// to the same canonical form.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{job="audit"}`,
		`{job="audit", cluster=~"prod-.*"} |= "x" != "y" |~ "a+" !~ ` + "`b`",
		`{job="audit"} | json | objectRef_resource="secrets" | verb=~"get|list"`,
		`{job="audit"} | json | responseStatus_code >= 401 | responseStatus_code < 500`,
		`{job="audit"} | json a="x.y[0]", b | (a="1" or b!="2") and c>3, d<=4ms e>=5MB`,
		`{job="audit"} | json | drop a | keep b`,
		`topk(10, sum by (user_username) (rate({job="audit"} | json [5m])))`,
		`sum(count_over_time({job="audit"} | json | objectRef_resource="secrets" [5m])) by (user_username) > 0`,
		`bottomk by (a) (2, bytes_rate({job="audit"}[1h] offset 5m)) >= bool 3 * -2 ^ 2`,
		"{job=\"audit\"} # c\n|= \"\\u00e9\"",
		`sum by (cluster) (absent_over_time({job="audit", cluster="a", x=~"y"} |= "z" [10m] offset 1m)) > 0`,
		`quantile_over_time(0.9, {job="audit"} | json | unwrap duration(lat) | __error__="" [5m]) by (verb)`,
		`rate({job="audit"} | json | unwrap bytes(size) [1m] offset 1m) without (a) / on (b) stddev_over_time({job="b"} | unwrap x [2m])`,
		`-sum(rate({job="a"}[1m])) ^ 2 / ignoring (x) sum by (x) (rate({job="b"}[5m])) and on () count_over_time({job="c"}[1m]) or sum(rate({job="a"}[1m])) > bool 1`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) error %T is not *ParseError: %v", s, err, err)
			}
			if pe.Line < 1 || pe.Col < 1 {
				t.Fatalf("Parse(%q): bad position %d:%d", s, pe.Line, pe.Col)
			}
			return
		}
		out := e.String()
		e2, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(%q) ok, but its String %q does not parse: %v", s, out, err)
		}
		if e2.String() != out {
			t.Fatalf("round trip of %q: %q then %q", s, out, e2.String())
		}
	})
}

// FuzzFlattenJSON checks that FlattenJSON never panics, accepts exactly
// the JSON objects encoding/json accepts, and agrees with the independent
// reference flattening on them.
func FuzzFlattenJSON(f *testing.F) {
	for _, s := range []string{
		`{"a":{"b":"c"},"d":[1,{"e":2}],"f":null,"g":true,"h":-1.5e3}`,
		`{"k.e-y":"\u00e9\ud83d\ude00","1x":{"":"y"}}`,
		`{"a":"x","a":"y"}`,
		`{}`, `[]`, `{"a":}`, ` {"a" : "b" } `,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		got := map[string]string{}
		err := FlattenJSON(line, func(n, v string) {
			if _, dup := got[n]; !dup {
				got[n] = v
			}
		})
		trimmed := bytes.TrimSpace(line)
		isObject := json.Valid(line) && len(trimmed) > 0 && trimmed[0] == '{'
		if (err == nil) != isObject {
			t.Fatalf("FlattenJSON(%q) error = %v, but encoding/json object = %v", line, err, isObject)
		}
		if err != nil || !utf8.Valid(line) {
			return // encoding/json replaces invalid UTF-8; Loki keeps bytes
		}
		want, rerr := refFlatten(line)
		if rerr != nil {
			t.Fatalf("reference flattening failed on a valid object %q: %v", line, rerr)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("FlattenJSON(%q)\n got  %v\n want %v", line, got, want)
		}
		for name, v := range want {
			if lv, ok := LookupJSONField(line, name); !ok || lv != v {
				t.Fatalf("LookupJSONField(%q, %q) = %q, %v; want %q", line, name, lv, ok, v)
			}
		}
	})
}

// FuzzEval parses arbitrary queries and evaluates the ones that parse on
// a few fixed entries: evaluation must never panic, and every matching
// entry must contain the query's RequiredLiterals.
func FuzzEval(f *testing.F) {
	for _, s := range []string{
		`{job="audit"} | json | objectRef_resource="secrets" | verb=~"get|list"`,
		`{job="audit"} | json u="user.username" | u="bob" or responseStatus_code > 400 | drop __error__`,
		`topk(1, sum by (user_username) (rate({job="audit"} | json [2m])))`,
		`count without (verb) (count_over_time({job="audit"} | json [1m] offset 30s)) > bool 1`,
		`bottomk by (verb) (2, avg by (verb, user_username) (bytes_rate({job="audit"} |= "a" [90s]))) * 2`,
		`{job="audit"} | json | line_format "{\"u\":{{printf \"%q\" .user_username}}}" | json | label_format v=u, w="{{.verb | upper}}" | v="bob"`,
		`sum by (w) (count_over_time({job="audit"} | json | label_format w="{{trunc 2 .verb}}{{__line__ | len}}" [1m]))`,
		`absent_over_time({job="audit", cluster="prod"} | json | verb="get" [1m] offset 30s) * 2`,
		`sum by (verb) (quantile_over_time(0.5, {job="audit"} | json | unwrap responseStatus_code [2m]) by (verb, user_username)) + avg_over_time({job="audit"} | json | unwrap duration(lat) | __error__="" [1m]) without (user_username)`,
		`stdvar_over_time({job="audit"} | json | unwrap responseStatus_code [1m]) > bool first_over_time({job="audit"} | json | unwrap responseStatus_code [90s] offset 30s)`,
		`sum by (user_username) (count_over_time({job="audit"} | json | responseStatus_code >= 400 [1m])) / on (user_username) sum by (user_username, verb) (rate({job="audit"} | json [2m] offset 30s)) > bool 0.5 or count_over_time({cluster="prod"} [1m]) unless sum(bytes_rate({job="audit"} [1m]))`,
	} {
		f.Add(s)
	}
	lines := []string{evGetSecret, evListPods, evExec, evNoStatus, evNoCode, `not json`, `{"a":[1,{"b":2}],"c":null}`}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err != nil {
			return
		}
		entries := func() []Entry {
			var es []Entry
			for i, l := range lines {
				es = append(es, &JSONEntry{Time: at(i * 40), Line: []byte(l), Labels: [][2]string{{"job", "audit"}, {"cluster", "prod"}}})
			}
			return es
		}
		switch q := e.(type) {
		case *LogQuery:
			lits := q.RequiredLiterals()
			for _, en := range entries() {
				ok := q.Matches(en)
				if _, lok := q.Labels(en); lok != ok {
					t.Fatalf("Labels ok=%v but Matches=%v", lok, ok)
				}
				if !ok {
					continue
				}
				line := en.EntryLine()
				if !json.Valid(line) {
					continue // literals assume valid JSON lines
				}
				for _, l := range lits {
					if !bytes.Contains(line, l) {
						t.Fatalf("%s matches %s without literal %s", s, line, l)
					}
				}
			}
		case *MetricQuery:
			ev, err := q.NewRangeEvaluator(at(0), at(300), 30*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			inst := q.NewInstantEvaluator(at(300))
			for _, en := range entries() {
				ev.Add(en)
				inst.Add(en)
				q.Contributes(en)
			}
			m := ev.Result()
			v := inst.Vector()
			if len(v) > len(m) {
				t.Fatalf("instant has %d samples, range has %d series", len(v), len(m))
			}
		}
	})
}

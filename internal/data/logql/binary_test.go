package logql

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// Binary operations between two vectors. Per step (see events), by user:
//
//	all:    alice 60..240 = 1; bob 120=1 180=1 240=2 300=2; mallory 240=1 300=1
//	errors: bob 120=1 180=1 240=2 300=2 (lineB, code 403)
//	get:    alice 60..240 = 1
func TestEvalVectorBinary(t *testing.T) {
	const (
		all    = `sum by (user_username) (count_over_time({job="audit"} | json [2m]))`
		errs   = `sum by (user_username) (count_over_time({job="audit"} | json | responseStatus_code >= 400 [2m]))`
		get    = `sum by (user_username) (count_over_time({job="audit"} | json | verb="get" [2m]))`
		byVerb = `sum by (user_username, verb) (count_over_time({job="audit"} | json [2m]))`
	)
	tests := []struct {
		name, query, want string
	}{
		// The brief's ratio rule: bob's every request failed.
		{"error ratio", errs + ` / ` + all + ` > 0.5`,
			`{user_username="bob"} 120=1 180=1 240=1 300=1`},
		{"ratio", errs + ` / ` + all, `{user_username="bob"} 120=1 180=1 240=1 300=1`},
		{"add, only matched", all + ` + ` + get, `{user_username="alice"} 60=2 120=2 180=2 240=2`},
		{"sub", all + ` - ` + errs, `{user_username="bob"} 120=0 180=0 240=0 300=0`},
		{"pow", all + ` ^ ` + all,
			`{user_username="alice"} 60=1 120=1 180=1 240=1; {user_username="bob"} 120=1 180=1 240=4 300=4; {user_username="mallory"} 240=1 300=1`},
		{"mod", all + ` % ` + all + ` * 3`, // left-associative: (all % all) * 3
			`{user_username="alice"} 60=0 120=0 180=0 240=0; {user_username="bob"} 120=0 180=0 240=0 300=0; {user_username="mallory"} 240=0 300=0`},
		{"filter", all + ` >= ` + errs, `{user_username="bob"} 120=1 180=1 240=2 300=2`},
		{"filter false", all + ` > ` + errs, ``},
		{"bool", all + ` == bool ` + errs, `{user_username="bob"} 120=1 180=1 240=1 300=1`},
		{"bool false", all + ` > bool ` + errs, `{user_username="bob"} 120=0 180=0 240=0 300=0`},
		{"on", byVerb + ` / on (user_username) ` + all,
			`{user_username="alice"} 60=1 120=1 180=1 240=1; {user_username="bob"} 120=1 180=1 240=1 300=1; {user_username="mallory"} 240=1 300=1`},
		{"ignoring", byVerb + ` / ignoring (verb) ` + all,
			`{user_username="alice"} 60=1 120=1 180=1 240=1; {user_username="bob"} 120=1 180=1 240=1 300=1; {user_username="mallory"} 240=1 300=1`},
		{"and", all + ` and ` + errs, `{user_username="bob"} 120=1 180=1 240=2 300=2`},
		{"unless", all + ` unless ` + errs,
			`{user_username="alice"} 60=1 120=1 180=1 240=1; {user_username="mallory"} 240=1 300=1`},
		{"or", errs + ` or ` + get,
			`{user_username="alice"} 60=1 120=1 180=1 240=1; {user_username="bob"} 120=1 180=1 240=2 300=2`},
		{"and on nothing", all + ` and on () ` + errs, // any error at the step keeps every user
			`{user_username="alice"} 120=1 180=1 240=1; {user_username="bob"} 120=1 180=1 240=2 300=2; {user_username="mallory"} 240=1 300=1`},
		// Each side its own selector, pipeline, range and offset: bob's
		// lines against every line a minute earlier, windows
		// (s-180, s-60]: 120: e1; 180: e1 e2; 240: e2 e3; 300: e3 e4 e5 e8.
		{"own legs", `sum(count_over_time({job="audit"} |= "bob" [2m])) / sum(count_over_time({job="audit"} [2m] offset 1m))`,
			`{} 120=1 180=0.5 240=1 300=0.5`},
		{"aggregation above", `sum(` + all + ` * ` + all + `)`, `{} 60=1 120=2 180=2 240=6 300=5`},
		{"scalar above", `(` + errs + ` / ` + all + `) * 100`, `{user_username="bob"} 120=100 180=100 240=100 300=100`},
		{"absent leg", `absent_over_time({job="audit"} |= "mallory" [2m]) or sum by (job) (count_over_time({job="audit"} |= "mallory" [2m]))`,
			`{job="audit"} 60=1 120=1 180=1 240=1 300=1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fmtMatrix(evalRange(t, tt.query, events()))
			if got != tt.want {
				t.Errorf("%s\n got  %s\n want %s", tt.query, got, tt.want)
			}
		})
	}
}

// TestLokiDocsSetExample: Loki's docs, "rate({app=~"foo|bar"}[1m]) and
// rate({app="bar"}[1m])" returns only the series of app bar.
func TestLokiDocsSetExample(t *testing.T) {
	var es []Entry
	for i, app := range []string{"foo", "bar", "foo", "bar", "baz"} {
		es = append(es, &JSONEntry{Time: at(100 + i), Line: []byte(lineA), Labels: [][2]string{{"app", app}}})
	}
	got := fmtMatrix(evalRange(t, `count_over_time({app=~"foo|bar"}[1m]) and count_over_time({app="bar"}[1m])`, es))
	if got != `{app="bar"} 120=2` {
		t.Errorf("got %s", got)
	}
	// The docs' error ratio: errors of app foo over all its lines.
	es = es[:0]
	for i, lvl := range []string{"error", "info", "info", "error"} {
		es = append(es, &JSONEntry{Time: at(130 + i), Line: []byte(lineA), Labels: [][2]string{{"app", "foo"}, {"level", lvl}}})
	}
	got = fmtMatrix(evalRange(t, `sum(rate({app="foo", level="error"}[1m])) / sum(rate({app="foo"}[1m]))`, es))
	if got != `{} 180=0.5` {
		t.Errorf("ratio: got %s", got)
	}
}

func TestVectorMatchingErrors(t *testing.T) {
	const byVerb = `sum by (user_username, verb) (count_over_time({job="audit"} | json [2m]))`
	for q, want := range map[string]string{
		byVerb + ` / on () sum(count_over_time({job="audit"} [2m]))`: "many-to-one matching (group_left) is not supported",
		`sum(count_over_time({job="audit"} [2m])) / on () ` + byVerb: "one-to-many matching (group_right) is not supported",
		// At 240, bob and mallory both have pods.
		`sum by (objectRef_resource, user_username) (count_over_time({job="audit"} | json [2m])) / on (objectRef_resource) sum by (objectRef_resource) (count_over_time({job="audit"} | json [2m]))`: "many-to-one",
	} {
		mq, err := ParseMetric(q)
		if err != nil {
			t.Fatal(err)
		}
		ev, _ := mq.NewRangeEvaluator(at(60), at(300), time.Minute)
		for _, e := range events() {
			ev.Add(e)
		}
		ev.Result()
		if err := ev.Err(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: Err() = %v, want %q", q, err, want)
		}
	}
}

func TestParseVectorBinary(t *testing.T) {
	const a, b, c = `sum (rate({job="audit"} [5m]))`, `sum (rate({job="x"} [5m]))`, `sum (rate({job="y"} [5m]))`
	for in, want := range map[string]string{
		a + ` / ` + b:                              a + ` / ` + b,
		a + ` > bool on(verb, user) ` + b:          a + ` > bool on (verb, user) ` + b,
		a + ` - ignoring() ` + b:                   a + ` - ignoring () ` + b,
		a + ` or ` + b + ` and ` + c:               a + ` or (` + b + ` and ` + c + `)`,
		a + ` and ` + b + ` or ` + c:               `(` + a + ` and ` + b + `) or ` + c,
		a + ` unless ` + b + ` > 1`:                a + ` unless (` + b + ` > 1)`,
		a + ` + ` + b + ` * ` + c:                  a + ` + (` + b + ` * ` + c + `)`,
		a + ` / ` + b + ` / ` + c:                  `(` + a + ` / ` + b + `) / ` + c,
		a + ` ^ ` + b + ` ^ ` + c:                  a + ` ^ (` + b + ` ^ ` + c + `)`,
		`-` + a + ` ^ 2 + ` + b:                    `(` + a + ` ^ 2 * -1) + ` + b,
		`(` + a + ` + ` + b + `) * 2`:              `(` + a + ` + ` + b + `) * 2`,
		`2 - (` + a + ` or ` + b + `)`:             `2 - (` + a + ` or ` + b + `)`,
		`sum by (u) (` + a + ` / ` + b + `) > 0.5`: `sum by (u) (` + a + ` / ` + b + `) > 0.5`,
	} {
		mq, err := ParseMetric(in)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if got := mq.String(); got != want {
			t.Errorf("String(%s)\n got  %s\n want %s", in, got, want)
		}
		again, err := ParseMetric(mq.String())
		if err != nil || again.String() != mq.String() {
			t.Errorf("%s does not parse to itself: %v", mq.String(), err)
		}
	}
	mq, _ := ParseMetric(`sum(count_over_time({job="audit", cluster="a"} |= "x" [5m])) / sum(count_over_time({cluster="a", job="audit"} | json [10m] offset 5m))`)
	if got := mq.LogQuery().String(); got != `{job="audit", cluster="a"}` {
		t.Errorf("union LogQuery = %s", got)
	}
	if mq.Range() != 15*time.Minute || mq.Offset() != 0 {
		t.Errorf("Range %v Offset %v, want a 15m look-back (10m offset 5m), offset 0", mq.Range(), mq.Offset())
	}
	if n := len(mq.LogQueries()); n != 2 {
		t.Errorf("%d log queries", n)
	}
	// Legs that both start with | json: the union parses too, so a
	// drill-down's label filters read the fields.
	mq, _ = ParseMetric(`sum by (u) (count_over_time({job="audit"} | json | code >= 400 [5m])) / sum by (u) (count_over_time({job="audit"} | json [5m]))`)
	if got := mq.LogQuery().String(); got != `{job="audit"} | json` {
		t.Errorf("union LogQuery = %s", got)
	}
}

// TestBinaryContributes: an entry contributes to a two-leg query when
// either leg keeps it, under that leg's output labels.
func TestBinaryContributes(t *testing.T) {
	mq, err := ParseMetric(`sum by (user_username) (count_over_time({job="audit"} | json | responseStatus_code >= 400 [2m])) / on (user_username) sum by (user_username, verb) (count_over_time({job="audit"} | json | verb=~"get|list" [2m]))`)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		line, labels string
		ok           bool
	}{
		{lineB, `{user_username="bob"}`, true},   // the first leg
		{lineA, `{user_username="alice"}`, true}, // the second, on (user_username)
		{lineC, ``, false},                       // neither
	} {
		ls, ok := mq.Contributes(&JSONEntry{Time: at(1), Line: []byte(tt.line), Labels: [][2]string{{"job", "audit"}}})
		if ok != tt.ok || ok && ls.String() != tt.labels {
			t.Errorf("%.40s: %s %v, want %s %v", tt.line, ls, ok, tt.labels, tt.ok)
		}
	}
	// AddContribution counts as Add does.
	ev1, _ := mq.NewRangeEvaluator(at(60), at(300), time.Minute)
	ev2, _ := mq.NewRangeEvaluator(at(60), at(300), time.Minute)
	var c Contribution
	for _, e := range events() {
		ev1.Add(e)
		if mq.Contribute(e, &c) {
			ev2.AddContribution(&c)
		}
	}
	if a, b := fmtMatrix(ev1.Result()), fmtMatrix(ev2.Result()); a != b || a == "" {
		t.Errorf("Add %s, AddContribution %s", a, b)
	}
}

// TestBinaryOracle: over random entries, a binary operation between two
// legs equals the operation applied by hand to each leg's own result
// (step by step, matching on the labels).
func TestBinaryOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 9))
	lines := []string{lineA, lineB, lineC, lineD}
	legs := []string{
		`sum by (user_username) (count_over_time({job="audit"} | json [2m]))`,
		`sum by (user_username) (count_over_time({job="audit"} | json | responseStatus_code >= 400 [1m] offset 30s))`,
		`sum by (user_username) (bytes_over_time({job="audit"} |= "pods" | json [90s]))`,
	}
	ops := []string{"+", "-", "*", "/", ">", "< bool", "and", "or", "unless"}
	for round := 0; round < 40; round++ {
		var es []Entry
		for range rng.IntN(15) {
			es = append(es, &JSONEntry{Time: at(rng.IntN(400) - 50), Line: []byte(lines[rng.IntN(len(lines))]), Labels: [][2]string{{"job", "audit"}}})
		}
		l, r := legs[rng.IntN(len(legs))], legs[rng.IntN(len(legs))]
		op := ops[rng.IntN(len(ops))]
		got := evalRange(t, l+" "+op+" "+r, es)
		lm, rm := evalRange(t, l, es), evalRange(t, r, es)
		val := func(m Matrix, ls string, ts int64) (float64, bool) {
			for _, s := range m {
				if s.Labels.String() == ls {
					for _, p := range s.Points {
						if p.T == ts {
							return p.V, true
						}
					}
				}
			}
			return 0, false
		}
		want := map[string]float64{}
		keys := map[string]bool{}
		for _, m := range []Matrix{lm, rm} {
			for _, s := range m {
				keys[s.Labels.String()] = true
			}
		}
		for k := range keys {
			for st := 60; st <= 300; st += 60 {
				a, aok := val(lm, k, at(st))
				b, bok := val(rm, k, at(st))
				id := fmt.Sprintf("%s@%d", k, st)
				switch op {
				case "and":
					if aok && bok {
						want[id] = a
					}
				case "or":
					if aok {
						want[id] = a
					} else if bok {
						want[id] = b
					}
				case "unless":
					if aok && !bok {
						want[id] = a
					}
				case ">":
					if aok && bok && a > b {
						want[id] = a
					}
				case "< bool":
					if aok && bok {
						want[id] = map[bool]float64{true: 1, false: 0}[a < b]
					}
				default:
					if aok && bok {
						want[id] = applyBinOp(map[string]binOp{"+": binAdd, "-": binSub, "*": binMul, "/": binDiv}[op], a, b)
					}
				}
			}
		}
		have := map[string]float64{}
		for _, s := range got {
			for _, p := range s.Points {
				have[fmt.Sprintf("%s@%d", s.Labels, (p.T-t0)/int64(time.Second))] = p.V
			}
		}
		if fmt.Sprint(have) != fmt.Sprint(want) {
			t.Fatalf("%s %s %s\n got  %v\n want %v", l, op, r, have, want)
		}
	}
}

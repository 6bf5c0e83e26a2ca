package logql

import (
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"testing"
	"time"
)

const t0 = int64(1_700_000_000) * int64(time.Second)

func at(sec int) int64 { return t0 + int64(sec)*int64(time.Second) }

const (
	lineA = `{"verb":"get","user":{"username":"alice"},"objectRef":{"resource":"secrets","namespace":"production","name":"db"},"responseStatus":{"code":200}}`
	lineB = `{"verb":"list","user":{"username":"bob"},"objectRef":{"resource":"pods","namespace":"dev"},"responseStatus":{"code":403}}`
	lineC = `{"verb":"create","user":{"username":"mallory"},"objectRef":{"resource":"pods","subresource":"exec","namespace":"dev","name":"web-0"},"responseStatus":{"code":101}}`
	lineD = `{"verb":"get","user":{"username":"alice"},"objectRef":{"resource":"secrets","namespace":"kube-system"},"responseStatus":{"code":200}}`
)

// events: membership of the 2m windows at steps 60..300 (every 60 s):
//
//	t60: e1   t120: e1 e2   t180: e2 e3   t240: e3 e4 e5 e8   t300: e4 e5 e8
func events() []Entry {
	mk := func(sec int, line string) Entry {
		return &JSONEntry{Time: at(sec), Line: []byte(line), Labels: [][2]string{{"job", "audit"}}}
	}
	return []Entry{
		mk(10, lineA),  // e1
		mk(70, lineB),  // e2
		mk(130, lineA), // e3
		mk(200, lineB), // e4
		mk(200, lineC), // e5
		mk(230, lineB), // e8
		mk(400, lineD), // e6: after the last step
	}
}

// fmtMatrix renders a matrix compactly: {labels} t=v t=v; ...
func fmtMatrix(m Matrix) string {
	var parts []string
	for _, s := range m {
		var b strings.Builder
		b.WriteString(s.Labels.String())
		for _, p := range s.Points {
			fmt.Fprintf(&b, " %d=%g", (p.T-t0)/int64(time.Second), p.V)
		}
		parts = append(parts, b.String())
	}
	return strings.Join(parts, "; ")
}

func evalRange(t *testing.T, query string, entries []Entry) Matrix {
	t.Helper()
	mq, err := ParseMetric(query)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := mq.NewRangeEvaluator(at(60), at(300), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		ev.Add(e)
	}
	return ev.Result()
}

func TestEvalRange(t *testing.T) {
	lenA, lenB, lenC := len(lineA), len(lineB), len(lineC)
	tests := []struct {
		name, query, want string
	}{
		{"count", `count_over_time({job="audit"}[2m])`,
			`{job="audit"} 60=1 120=2 180=2 240=4 300=3`},
		{"rate", `rate({job="audit"}[2m])`,
			fmt.Sprintf(`{job="audit"} 60=%g 120=%g 180=%g 240=%g 300=%g`, 1/120.0, 2/120.0, 2/120.0, 4/120.0, 3/120.0)},
		{"bytes", `bytes_over_time({job="audit"}[2m])`,
			fmt.Sprintf(`{job="audit"} 60=%d 120=%d 180=%d 240=%d 300=%d`, lenA, lenA+lenB, lenB+lenA, lenA+2*lenB+lenC, 2*lenB+lenC)},
		{"bytes_rate", `bytes_rate({job="audit"}[2m])`,
			fmt.Sprintf(`{job="audit"} 60=%g 120=%g 180=%g 240=%g 300=%g`, float64(lenA)/120, float64(lenA+lenB)/120, float64(lenB+lenA)/120, float64(lenA+2*lenB+lenC)/120, float64(2*lenB+lenC)/120)},
		{"bytes after line_format", `sum(bytes_over_time({job="audit"} | json | line_format "{{.verb}}" [2m]))`,
			`{} 60=3 120=7 180=7 240=17 300=14`},
		{"line filter", `count_over_time({job="audit"} |= "pods" [2m])`,
			`{job="audit"} 120=1 180=1 240=3 300=3`},
		{"sum by", `sum by (user_username) (count_over_time({job="audit"} | json [2m]))`,
			`{user_username="alice"} 60=1 120=1 180=1 240=1; {user_username="bob"} 120=1 180=1 240=2 300=2; {user_username="mallory"} 240=1 300=1`},
		{"sum by after", `sum(count_over_time({job="audit"} | json [2m])) by (user_username)`,
			`{user_username="alice"} 60=1 120=1 180=1 240=1; {user_username="bob"} 120=1 180=1 240=2 300=2; {user_username="mallory"} 240=1 300=1`},
		{"sum by missing label", `sum by (objectRef_subresource) (count_over_time({job="audit"} | json [2m]))`,
			`{} 60=1 120=2 180=2 240=3 300=2; {objectRef_subresource="exec"} 240=1 300=1`},
		{"sum", `sum(count_over_time({job="audit"} | json [2m]))`,
			`{} 60=1 120=2 180=2 240=4 300=3`},
		{"sum without", `sum without (verb, responseStatus_code, objectRef_name, objectRef_subresource, user_username, objectRef_resource) (count_over_time({job="audit"} | json [2m]))`,
			`{job="audit", objectRef_namespace="dev"} 120=1 180=1 240=3 300=3; {job="audit", objectRef_namespace="production"} 60=1 120=1 180=1 240=1`},
		{"count by", `count by (objectRef_resource) (count_over_time({job="audit"} | json [2m]))`,
			`{objectRef_resource="pods"} 120=1 180=1 240=2 300=2; {objectRef_resource="secrets"} 60=1 120=1 180=1 240=1`},
		{"count by unfused", `count by (objectRef_resource) (sum without () (count_over_time({job="audit"} | json [2m])))`,
			`{objectRef_resource="pods"} 120=1 180=1 240=2 300=2; {objectRef_resource="secrets"} 60=1 120=1 180=1 240=1`},
		{"max by", `max by (objectRef_namespace) (count_over_time({job="audit"} | json [2m]))`,
			`{objectRef_namespace="dev"} 120=1 180=1 240=2 300=2; {objectRef_namespace="production"} 60=1 120=1 180=1 240=1`},
		{"min by", `min by (objectRef_namespace) (count_over_time({job="audit"} | json [2m]))`,
			`{objectRef_namespace="dev"} 120=1 180=1 240=1 300=1; {objectRef_namespace="production"} 60=1 120=1 180=1 240=1`},
		{"avg by", `avg by (objectRef_namespace) (count_over_time({job="audit"} | json [2m]))`,
			`{objectRef_namespace="dev"} 120=1 180=1 240=1.5 300=1.5; {objectRef_namespace="production"} 60=1 120=1 180=1 240=1`},
		{"topk", `topk(1, sum by (user_username) (count_over_time({job="audit"} | json [2m])))`,
			`{user_username="alice"} 60=1 120=1 180=1; {user_username="bob"} 240=2 300=2`},
		{"bottomk", `bottomk(1, sum by (user_username) (count_over_time({job="audit"} | json [2m])))`,
			`{user_username="alice"} 60=1 120=1 180=1 240=1; {user_username="mallory"} 300=1`},
		{"topk by", `topk by (objectRef_namespace) (1, count_over_time({job="audit"} | json | drop responseStatus_code, verb, objectRef_name [2m]))`,
			`{job="audit", objectRef_namespace="dev", objectRef_resource="pods", user_username="bob"} 120=1 180=1 240=2 300=2; {job="audit", objectRef_namespace="production", objectRef_resource="secrets", user_username="alice"} 60=1 120=1 180=1 240=1`},
		{"comparison", `sum by (user_username) (count_over_time({job="audit"} | json [2m])) > 1`,
			`{user_username="bob"} 240=2 300=2`},
		{"comparison scalar left", `1 < sum by (user_username) (count_over_time({job="audit"} | json [2m]))`,
			`{user_username="bob"} 240=2 300=2`},
		{"comparison bool", `sum by (user_username) (count_over_time({job="audit"} | json [2m])) >= bool 2`,
			`{user_username="alice"} 60=0 120=0 180=0 240=0; {user_username="bob"} 120=0 180=0 240=1 300=1; {user_username="mallory"} 240=0 300=0`},
		{"arithmetic", `sum(rate({job="audit"}[2m])) * 120`,
			`{} 60=1 120=2 180=2 240=4 300=3`},
		{"nested", `topk(1, sum by (user_username) (rate({job="audit"} | json [2m])))`,
			fmt.Sprintf(`{user_username="alice"} 60=%g 120=%g 180=%g; {user_username="bob"} 240=%g 300=%g`, 1/120.0, 1/120.0, 1/120.0, 2/120.0, 2/120.0)},
		{"offset", `count_over_time({job="audit"}[2m] offset 1m)`,
			`{job="audit"} 120=1 180=2 240=2 300=4`}, // windows (0,60] (60,120] (120,180] (180,240]
		{"label filter", `sum by (user_username) (count_over_time({job="audit"} | json | responseStatus_code >= 401 | responseStatus_code < 500 [2m]))`,
			`{user_username="bob"} 120=1 180=1 240=2 300=2`},
		{"seed rule shape", `sum(count_over_time({job="audit"} | json | objectRef_resource="pods" | objectRef_subresource="exec" [5m])) by (user_username, objectRef_namespace, objectRef_name) > 0`,
			`{objectRef_name="web-0", objectRef_namespace="dev", user_username="mallory"} 240=1 300=1`},
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

func TestEvalInstant(t *testing.T) {
	q := `sum by (user_username) (count_over_time({job="audit"} | json [2m]))`
	mq, err := ParseMetric(q)
	if err != nil {
		t.Fatal(err)
	}
	// Instant at 240 equals the range query's point at 240.
	ev := mq.NewInstantEvaluator(at(240))
	for _, e := range events() {
		ev.Add(e)
	}
	var got []string
	for _, s := range ev.Vector() {
		got = append(got, fmt.Sprintf("%s@%d=%g", s.Labels, (s.T-t0)/int64(time.Second), s.V))
	}
	want := `{user_username="alice"}@240=1 {user_username="bob"}@240=2 {user_username="mallory"}@240=1`
	if strings.Join(got, " ") != want {
		t.Errorf("instant = %s\nwant %s", strings.Join(got, " "), want)
	}
	// Left-open window: at 130 with [2m], e1 (10) is out, e3 (130) is in.
	mq2, _ := ParseMetric(`count_over_time({job="audit"}[2m])`)
	ev2 := mq2.NewInstantEvaluator(at(130))
	for _, e := range events() {
		ev2.Add(e)
	}
	if v := ev2.Vector(); len(v) != 1 || v[0].V != 2 {
		t.Errorf("instant at 130 = %v, want one sample of 2 (e2, e3)", v)
	}
	from, to := ev2.Window()
	if from != at(10) || to != at(130) {
		t.Errorf("Window = %d, %d", from-t0, to-t0)
	}
	// topk instant vectors are sorted by value.
	mq3, _ := ParseMetric(`topk(2, sum by (user_username) (count_over_time({job="audit"} | json [2m])))`)
	ev3 := mq3.NewInstantEvaluator(at(300))
	for _, e := range events() {
		ev3.Add(e)
	}
	v := ev3.Vector()
	if len(v) != 2 || v[0].Labels.String() != `{user_username="bob"}` || v[1].Labels.String() != `{user_username="mallory"}` {
		t.Errorf("topk instant = %v", v)
	}
}

func TestEvaluatorPipelineErr(t *testing.T) {
	bad := &JSONEntry{Time: at(100), Line: []byte(`{"responseStatus":{"code":"oops"}}`), Labels: [][2]string{{"job", "audit"}}}
	for _, tt := range []struct {
		query   string
		wantErr bool
	}{
		{`sum(count_over_time({job="audit"} | json | responseStatus_code >= 400 [2m]))`, true},
		{`sum(count_over_time({job="audit"} | json | responseStatus_code >= 400 | __error__="" [2m]))`, false},
		{`sum(count_over_time({job="audit"} | json | responseStatus_code >= 400 | drop __error__, __error_details__ [2m]))`, false},
	} {
		mq, err := ParseMetric(tt.query)
		if err != nil {
			t.Fatal(err)
		}
		ev := mq.NewInstantEvaluator(at(120))
		for _, e := range append(events(), bad) {
			ev.Add(e)
		}
		if got := ev.Err() != nil; got != tt.wantErr {
			t.Errorf("%s: Err() = %v", tt.query, ev.Err())
		}
	}
}

func TestRangeEvaluatorErrors(t *testing.T) {
	mq, _ := ParseMetric(`count_over_time({job="audit"}[2m])`)
	if _, err := mq.NewRangeEvaluator(at(10), at(0), time.Second); err == nil {
		t.Error("end before start accepted")
	}
	if _, err := mq.NewRangeEvaluator(at(0), at(10), 0); err == nil {
		t.Error("zero step accepted")
	}
	if _, err := mq.NewRangeEvaluator(at(0), at(20000), time.Second); err == nil {
		t.Error("20001 steps accepted")
	}
}

func TestContributes(t *testing.T) {
	e1 := events()[0]
	e5 := events()[4]
	tests := []struct {
		query string
		e     Entry
		want  string // "" = does not contribute
	}{
		{`sum(count_over_time({job="audit"} | json | objectRef_resource="secrets" [5m])) by (user_username, objectRef_namespace) > 0`, e1,
			`{objectRef_namespace="production", user_username="alice"}`},
		{`sum(count_over_time({job="audit"} | json | objectRef_resource="secrets" [5m])) by (user_username, objectRef_namespace) > 0`, e5, ""},
		{`topk(1, sum by (user_username) (rate({job="audit"} | json [5m])))`, e5, `{user_username="mallory"}`},
		{`sum(rate({job="audit"} | json [5m]))`, e5, `{}`},
		{`count_over_time({job="other"}[5m])`, e5, ""},
		{`sum by (objectRef_namespace) (max by (objectRef_namespace, verb) (count_over_time({job="audit"} | json [5m])))`, e5, `{objectRef_namespace="dev"}`},
		{`sum without (verb) (count_over_time({job="audit"} | json | keep verb, user_username [5m]))`, e5, `{user_username="mallory"}`},
		{`count_over_time({job="audit"} | json | keep verb [5m])`, e5, `{verb="create"}`},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			mq, err := ParseMetric(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			ls, ok := mq.Contributes(tt.e)
			got := ""
			if ok {
				got = ls.String()
			}
			if got != tt.want {
				t.Errorf("Contributes = %q, want %q", got, tt.want)
			}
		})
	}
}

// bruteForce evaluates simple shapes directly from the definition: for
// every step, the entries in (t-offset-range, t-offset], grouped.
func bruteForce(lq *LogQuery, entries []Entry, start int64, n int, step, rng, off int64, group func(Labels) string, distinct bool) map[string][]float64 {
	out := map[string][]float64{}
	for i := 0; i < n; i++ {
		t := start + int64(i)*step - off
		seen := map[string]map[string]bool{}
		for _, e := range entries {
			ts := e.EntryTime()
			if ts <= t-rng || ts > t {
				continue
			}
			ls, ok := lq.Labels(e)
			if !ok {
				continue
			}
			g := group(ls)
			if out[g] == nil {
				out[g] = make([]float64, n)
			}
			if distinct {
				if seen[g] == nil {
					seen[g] = map[string]bool{}
				}
				if seen[g][ls.String()] {
					continue
				}
				seen[g][ls.String()] = true
			}
			out[g][i]++
		}
	}
	return out
}

func matrixToMap(m Matrix, start, step int64, n int) map[string][]float64 {
	out := map[string][]float64{}
	for _, s := range m {
		vals := make([]float64, n)
		for _, p := range s.Points {
			vals[(p.T-start)/step] = p.V
		}
		out[s.Labels.String()] = vals
	}
	return out
}

// TestEvalRandomAgainstBruteForce checks the streaming evaluator (fused
// sum and count, unfused series, out-of-order entries, offsets) against
// the definition on random data.
func TestEvalRandomAgainstBruteForce(t *testing.T) {
	rnd := rand.New(rand.NewSource(1))
	users := []string{"alice", "bob", "carol", "dave"}
	res := []string{"pods", "secrets", "configmaps"}
	var entries []Entry
	ts := at(0)
	for i := 0; i < 600; i++ {
		ts += int64(rnd.Intn(20)) * int64(time.Second)
		jitter := int64(rnd.Intn(5)-2) * int64(time.Second) // small disorder
		line := fmt.Sprintf(`{"verb":"get","user":{"username":%q},"objectRef":{"resource":%q,"name":"n%d"},"responseStatus":{"code":%d}}`,
			users[rnd.Intn(len(users))], res[rnd.Intn(len(res))], rnd.Intn(3), 200+rnd.Intn(3)*100)
		entries = append(entries, &JSONEntry{Time: ts + jitter, Line: []byte(line), Labels: [][2]string{{"job", "audit"}}})
	}
	start, step, n := at(300), int64(45*time.Second), 80
	byUser := func(ls Labels) string {
		v, _ := ls.Get("user_username")
		return fmt.Sprintf(`{user_username=%q}`, v)
	}
	byRes := func(ls Labels) string {
		v, _ := ls.Get("objectRef_resource")
		return fmt.Sprintf(`{objectRef_resource=%q}`, v)
	}
	full := func(ls Labels) string { return ls.String() }
	tests := []struct {
		query    string
		group    func(Labels) string
		distinct bool
		rng, off time.Duration
	}{
		{`sum by (user_username) (count_over_time({job="audit"} | json [3m]))`, byUser, false, 3 * time.Minute, 0},
		{`sum by (user_username) (count_over_time({job="audit"} | json | responseStatus_code >= 300 [3m] offset 2m))`, byUser, false, 3 * time.Minute, 2 * time.Minute},
		{`count by (objectRef_resource) (count_over_time({job="audit"} | json [7m]))`, byRes, true, 7 * time.Minute, 0},
		{`count_over_time({job="audit"} | json | objectRef_resource="pods" [100s])`, full, false, 100 * time.Second, 0},
		{`sum by (objectRef_resource) (max without () (count_over_time({job="audit"} | json [2m])))`, byRes, false, 2 * time.Minute, 0},
	}
	// min/max/avg directly over the range aggregation (grouped leaf) must
	// equal the same aggregation over an unfused copy of the series.
	for _, pair := range [][2]string{
		{`max by (objectRef_resource) (count_over_time({job="audit"} | json [4m]))`, `max by (objectRef_resource) (sum without () (count_over_time({job="audit"} | json [4m])))`},
		{`min without (verb, objectRef_name, user_username) (rate({job="audit"} | json [4m]))`, `min without (verb, objectRef_name, user_username) (sum without () (rate({job="audit"} | json [4m])))`},
		{`avg (bytes_over_time({job="audit"} | json [3m] offset 1m))`, `avg (sum without () (bytes_over_time({job="audit"} | json [3m] offset 1m)))`},
		{`topk(2, max by (user_username) (count_over_time({job="audit"} | json [4m]))) > 1`, `topk(2, max by (user_username) (sum without () (count_over_time({job="audit"} | json [4m])))) > 1`},
	} {
		var res [2]string
		for i, qs := range pair {
			mq, err := ParseMetric(qs)
			if err != nil {
				t.Fatal(err)
			}
			ev, err := mq.NewRangeEvaluator(start, start+int64(n-1)*step, time.Duration(step))
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				ev.Add(e)
			}
			res[i] = fmtMatrix(ev.Result())
		}
		if res[0] != res[1] || res[0] == "" {
			t.Errorf("%s\n got  %.300s\n want %.300s", pair[0], res[0], res[1])
		}
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			mq, err := ParseMetric(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			ev, err := mq.NewRangeEvaluator(start, start+int64(n-1)*step, time.Duration(step))
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				ev.Add(e)
			}
			got := matrixToMap(ev.Result(), start, step, n)
			want := bruteForce(mq.LogQuery(), entries, start, n, step, int64(tt.rng), int64(tt.off), tt.group, tt.distinct)
			for k, w := range want {
				allZero := true
				for _, x := range w {
					if x != 0 {
						allZero = false
					}
				}
				if allZero {
					delete(want, k)
				}
			}
			keys := func(m map[string][]float64) []string {
				var ks []string
				for k := range m {
					ks = append(ks, k)
				}
				sort.Strings(ks)
				return ks
			}
			if fmt.Sprint(keys(got)) != fmt.Sprint(keys(want)) {
				t.Fatalf("series differ:\n got  %v\n want %v", keys(got), keys(want))
			}
			for k := range want {
				if fmt.Sprint(got[k]) != fmt.Sprint(want[k]) {
					t.Errorf("%s:\n got  %v\n want %v", k, got[k], want[k])
				}
			}
		})
	}
}

// TestAddContributionEqualsAdd: counting an entry from its Contribution
// (the alerts engine runs the pipeline once per event and rule) gives the
// result Add gives, for every shape of metric query; Contribute's labels
// are Contributes'.
func TestAddContributionEqualsAdd(t *testing.T) {
	rnd := rand.New(rand.NewSource(2))
	users := []string{"alice", "bob", "carol"}
	var entries []Entry
	ts := at(0)
	for i := 0; i < 400; i++ {
		ts += int64(rnd.Intn(20)) * int64(time.Second)
		line := fmt.Sprintf(`{"verb":"get","user":{"username":%q},"objectRef":{"resource":"pods","name":"n%d"},"responseStatus":{"code":%d}}`,
			users[rnd.Intn(len(users))], rnd.Intn(4), 200+rnd.Intn(3)*100)
		entries = append(entries, &JSONEntry{Time: ts + int64(rnd.Intn(5)-2)*int64(time.Second), Line: []byte(line), Labels: [][2]string{{"job", "audit"}}})
	}
	start, step, n := at(300), int64(45*time.Second), 80
	for _, qs := range []string{
		`sum by (user_username) (count_over_time({job="audit"} | json | responseStatus_code >= 300 [3m]))`,
		`count by (user_username) (count_over_time({job="audit"} | json [7m]))`,
		`count_over_time({job="audit"} | json | objectRef_name="n1" [100s])`,
		`max by (user_username) (bytes_over_time({job="audit"} | json | line_format "{{.verb}}" [4m] offset 1m))`,
		`sum(rate({job="audit"} |= "alice" | json [2m])) > 0`,
		`sum without (objectRef_name) (count_over_time({job="audit"} | json [2m]))`,
	} {
		mq, err := ParseMetric(qs)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := mq.NewRangeEvaluator(start, start+int64(n-1)*step, time.Duration(step))
		b, _ := mq.NewRangeEvaluator(start, start+int64(n-1)*step, time.Duration(step))
		var c Contribution
		for _, e := range entries {
			a.Add(e)
			want, ok := mq.Contributes(e)
			if mq.Contribute(e, &c) != ok || ok && !c.Labels.Equal(want) {
				t.Fatalf("%s: Contribute and Contributes disagree on %s", qs, e.EntryLine())
			}
			if ok {
				b.AddContribution(&c)
			}
		}
		if got, want := fmtMatrix(b.Result()), fmtMatrix(a.Result()); got != want || want == "" {
			t.Errorf("%s\n got  %.300s\n want %.300s", qs, got, want)
		}
	}
}

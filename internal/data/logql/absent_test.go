package logql

import (
	"math/rand/v2"
	"testing"
)

// absent_over_time: 1 at each step whose window holds no entry, labelled
// with the selector's equality matchers (Loki's docs:
// absent_over_time({job="myjob"}[1h]) => {job="myjob"}; the =~ matcher of
// {job="myjob", instance=~".*"} adds nothing).
func TestEvalAbsentOverTime(t *testing.T) {
	tests := []struct {
		name, query, want string
	}{
		// mallory's one entry (e5 at 200) is in the windows of 240, 300.
		{"gap", `absent_over_time({job="audit"} |= "mallory" [2m])`,
			`{job="audit"} 60=1 120=1 180=1`},
		{"after json filter", `absent_over_time({job="audit"} | json | user_username="mallory" [2m])`,
			`{job="audit"} 60=1 120=1 180=1`},
		{"never", `absent_over_time({job="audit", cluster=~"prod-.*"} [2m])`,
			`{job="audit"} 60=1 120=1 180=1 240=1 300=1`},
		{"equality labels only", `absent_over_time({job="audit", cluster="prod", ns!="x"} [2m])`,
			`{cluster="prod", job="audit"} 60=1 120=1 180=1 240=1 300=1`},
		{"name twice", `absent_over_time({job="audit", cluster="a", cluster="b"} [2m])`,
			`{job="audit"} 60=1 120=1 180=1 240=1 300=1`},
		{"always present", `absent_over_time({job="audit"} [2m])`, ``},
		// Windows (s-120, s-60]: alice's entries at 10 and 130 are in
		// those of 120 and 240.
		{"offset", `absent_over_time({job="audit"} |= "alice" [1m] offset 1m)`,
			`{job="audit"} 60=1 180=1 300=1`},
		{"sum", `sum(absent_over_time({job="audit"} |= "mallory" [2m]))`,
			`{} 60=1 120=1 180=1`},
		{"times scalar", `absent_over_time({job="audit"} |= "mallory" [2m]) * 10`,
			`{job="audit"} 60=10 120=10 180=10`},
		{"filtered out", `absent_over_time({job="audit"} |= "mallory" [2m]) > 1`, ``},
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

func TestAbsentInstantAndEmptyInput(t *testing.T) {
	mq, err := ParseMetric(`absent_over_time({job="audit"} |= "mallory" [2m])`)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		at   int
		want int // samples
	}{{180, 1}, {240, 0}, {319, 0}, {320, 1}} { // (200, 320] misses e5 at 200
		ev := mq.NewInstantEvaluator(at(tt.at))
		for _, e := range events() {
			ev.Add(e)
		}
		v := ev.Vector()
		if len(v) != tt.want {
			t.Errorf("instant at %d: %v, want %d samples", tt.at, v, tt.want)
			continue
		}
		if tt.want == 1 && (v[0].V != 1 || v[0].Labels.String() != `{job="audit"}`) {
			t.Errorf("instant at %d: %v, want {job=\"audit\"} 1", tt.at, v)
		}
	}
	// No input at all: every step.
	if got := fmtMatrix(evalRange(t, `absent_over_time({job="audit"}[2m])`, nil)); got != `{job="audit"} 60=1 120=1 180=1 240=1 300=1` {
		t.Errorf("no entries: %s", got)
	}
}

func TestReturnsWithoutEntries(t *testing.T) {
	for q, want := range map[string]bool{
		`absent_over_time({job="audit"}[5m])`:                 true,
		`sum by (job) (absent_over_time({job="audit"}[5m]))`:  true,
		`absent_over_time({job="audit"}[5m]) > 0`:             true,
		`absent_over_time({job="audit"}[5m]) > 1`:             false,
		`count_over_time({job="audit"}[5m])`:                  false,
		`sum(count_over_time({job="audit"}[5m])) < 1`:         false,
		`sum by (user) (rate({job="audit"} | json [5m])) > 0`: false,
	} {
		mq, err := ParseMetric(q)
		if err != nil {
			t.Fatal(err)
		}
		if got := mq.ReturnsWithoutEntries(); got != want {
			t.Errorf("%s: ReturnsWithoutEntries = %v, want %v", q, got, want)
		}
	}
}

func TestParseAbsentOverTime(t *testing.T) {
	for in, want := range map[string]string{
		`absent_over_time({job="audit"}[10m])`:                                            `absent_over_time({job="audit"} [10m])`,
		`absent_over_time({job="audit", cluster="a"} | json | verb="get" [5m] offset 1m)`: `absent_over_time({job="audit", cluster="a"} | json | verb="get" [5m] offset 1m)`,
		`sum by (cluster) (absent_over_time({job="audit"} [5m])) > 0`:                     `sum by (cluster) (absent_over_time({job="audit"} [5m])) > 0`,
	} {
		mq, err := ParseMetric(in)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if got := mq.String(); got != want {
			t.Errorf("String(%s) = %s, want %s", in, got, want)
		}
		if _, err := ParseMetric(mq.String()); err != nil {
			t.Errorf("%s does not parse again: %v", mq.String(), err)
		}
	}
}

// TestAbsentOracle: over random entries and steps, absent_over_time has a
// sample exactly at the steps where sum(count_over_time(...)) of the same
// log range has none.
func TestAbsentOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 3))
	lines := []string{lineA, lineB, lineC, lineD}
	for _, rs := range []string{
		`{job="audit"} |= "mallory" [2m]`,
		`{job="audit"} | json | user_username="bob" [90s] offset 30s`,
		`{job="audit"} | json | responseStatus_code >= 400 [1m]`,
	} {
		for round := 0; round < 20; round++ {
			var es []Entry
			for range rng.IntN(12) {
				es = append(es, &JSONEntry{Time: at(rng.IntN(400) - 50), Line: []byte(lines[rng.IntN(len(lines))]), Labels: [][2]string{{"job", "audit"}}})
			}
			absent := evalRange(t, `absent_over_time(`+rs+`)`, es)
			count := evalRange(t, `sum(count_over_time(`+rs+`))`, es)
			has := map[int64]bool{}
			for _, s := range count {
				for _, p := range s.Points {
					has[p.T] = true
				}
			}
			want := 0
			for s := 60; s <= 300; s += 60 {
				if !has[at(s)] {
					want++
				}
			}
			got := 0
			for _, s := range absent {
				for _, p := range s.Points {
					if has[p.T] || p.V != 1 {
						t.Fatalf("%s: absent at %d with value %g where count has a value", rs, (p.T-t0)/1e9, p.V)
					}
					got++
				}
			}
			if got != want {
				t.Fatalf("%s: absent has %d points, want %d:\n%s\ncount: %s", rs, got, want, fmtMatrix(absent), fmtMatrix(count))
			}
		}
	}
}

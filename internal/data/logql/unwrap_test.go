package logql

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

// Unwrapped values: responseStatus_code per step (see events), in time
// order: 60: 200 | 120: 200 403 | 180: 403 200 | 240: 200 403 101 403 |
// 300: 403 101 403.
func TestEvalUnwrap(t *testing.T) {
	const code = `{job="audit"} | json | unwrap responseStatus_code [2m]`
	tests := []struct {
		name, query, want string
	}{
		{"sum", `sum_over_time(` + code + `) by (job)`, `{job="audit"} 60=200 120=603 180=603 240=1107 300=907`},
		{"rate", `rate(` + code + `) by (job)`,
			fmt.Sprintf(`{job="audit"} 60=%g 120=%g 180=%g 240=%g 300=%g`, 200/120.0, 603/120.0, 603/120.0, 1107/120.0, 907/120.0)},
		{"avg", `avg_over_time(` + code + `) by (job)`, fmt.Sprintf(`{job="audit"} 60=200 120=301.5 180=301.5 240=276.75 300=%g`, 907/3.0)},
		{"min", `min_over_time(` + code + `) by (job)`, `{job="audit"} 60=200 120=200 180=200 240=101 300=101`},
		{"max", `max_over_time(` + code + `) by (job)`, `{job="audit"} 60=200 120=403 180=403 240=403 300=403`},
		{"first", `first_over_time(` + code + `) by (job)`, `{job="audit"} 60=200 120=200 180=403 240=200 300=403`},
		{"last", `last_over_time(` + code + `) by (job)`, `{job="audit"} 60=200 120=403 180=200 240=403 300=403`},
		// 120: mean 301.5, deviations ±101.5; 240: mean 276.75.
		{"stdvar", `stdvar_over_time(` + code + `) by (job)`,
			fmt.Sprintf(`{job="audit"} 60=0 120=10302.25 180=10302.25 240=%g 300=%g`, variance(200, 403, 101, 403), variance(403, 101, 403))},
		{"stddev", `stddev_over_time(` + code + `) by (job)`,
			fmt.Sprintf(`{job="audit"} 60=0 120=101.5 180=101.5 240=%g 300=%g`, math.Sqrt(variance(200, 403, 101, 403)), math.Sqrt(variance(403, 101, 403)))},
		// 240: 101 200 403 403, rank 1.5: halfway between 200 and 403.
		{"median", `quantile_over_time(0.5, ` + code + `) by (job)`, `{job="audit"} 60=200 120=301.5 180=301.5 240=301.5 300=403`},
		{"p99", `quantile_over_time(0.99, ` + code + `) by (job)`,
			fmt.Sprintf(`{job="audit"} 60=200 120=%g 180=%g 240=403 300=403`, lerp(200, 403, 0.99), lerp(200, 403, 0.99))},
		{"quantile above 1", `quantile_over_time(2, ` + code + `) by (job)`, `{job="audit"} 60=+Inf 120=+Inf 180=+Inf 240=+Inf 300=+Inf`},
		// The unwrapped label leaves the series' labels.
		{"labels", `max_over_time({job="audit"} | json | keep user_username, responseStatus_code | unwrap responseStatus_code [2m])`,
			`{user_username="alice"} 60=200 120=200 180=200 240=200; {user_username="bob"} 120=403 180=403 240=403 300=403; {user_username="mallory"} 240=101 300=101`},
		{"without", `max_over_time({job="audit"} | json | keep user_username, verb, responseStatus_code | unwrap responseStatus_code [2m]) without (verb)`,
			`{user_username="alice"} 60=200 120=200 180=200 240=200; {user_username="bob"} 120=403 180=403 240=403 300=403; {user_username="mallory"} 240=101 300=101`},
		// Loki's docs' shape: sum by (org_id) (sum_over_time(... | unwrap bytes_processed [1m])).
		{"sum by outside", `sum by (user_username) (sum_over_time(` + code + `))`,
			`{user_username="alice"} 60=200 120=200 180=200 240=200; {user_username="bob"} 120=403 180=403 240=806 300=806; {user_username="mallory"} 240=101 300=101`},
		{"filter after unwrap", `sum_over_time({job="audit"} | json | unwrap responseStatus_code | responseStatus_code >= 400 [2m]) by (job)`,
			`{job="audit"} 120=403 180=403 240=806 300=806`},
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

// lerp is a + (b-a) at w, computed as quantile computes it.
func lerp(a, b, w float64) float64 { return a*(1-w) + b*w }

func variance(xs ...float64) float64 {
	var m, v float64
	for _, x := range xs {
		m += x
	}
	m /= float64(len(xs))
	for _, x := range xs {
		v += (x - m) * (x - m)
	}
	return v / float64(len(xs))
}

// TestUnwrapConversions: duration() reads Go durations as seconds,
// bytes() byte sizes; a value that does not convert (or a missing label)
// is a sample of 0 under __error__="SampleExtractionErr", reported by
// Err, and | __error__="" after the unwrap drops it, as in Loki.
func TestUnwrapConversions(t *testing.T) {
	var es []Entry
	for i, l := range []string{`{"lat":"1.5s","size":"2KiB"}`, `{"lat":"250ms","size":"512"}`, `{"lat":"soon","size":"lots"}`, `{}`} {
		es = append(es, &JSONEntry{Time: at(100 + i), Line: []byte(l), Labels: [][2]string{{"job", "x"}}})
	}
	for _, tt := range []struct {
		query, want string
		err         bool
	}{
		{`sum_over_time({job="x"} | json | unwrap duration(lat) | __error__="" [1m])`, `{job="x", size="2KiB"} 120=1.5; {job="x", size="512"} 120=0.25`, false},
		{`sum_over_time({job="x"} | json | unwrap duration_seconds(lat) | __error__="" [1m]) by (job)`, `{job="x"} 120=1.75`, false},
		{`sum_over_time({job="x"} | json | unwrap bytes(size) | __error__="" [1m]) by (job)`, `{job="x"} 120=2560`, false},
		{`max_over_time({job="x"} | json | unwrap duration(lat) [1m]) by (__error__)`, `{} 120=1.5; {__error__="SampleExtractionErr"} 120=0`, true},
	} {
		mq, err := ParseMetric(tt.query)
		if err != nil {
			t.Fatal(err)
		}
		ev, _ := mq.NewRangeEvaluator(at(60), at(120), time.Minute)
		for _, e := range es {
			ev.Add(e)
		}
		if got := fmtMatrix(ev.Result()); got != tt.want {
			t.Errorf("%s\n got  %s\n want %s", tt.query, got, tt.want)
		}
		if err := ev.Err(); (err != nil) != tt.err || err != nil && !strings.Contains(err.Error(), "SampleExtractionErr") {
			t.Errorf("%s: Err() = %v", tt.query, err)
		}
	}
}

func TestParseUnwrap(t *testing.T) {
	for in, want := range map[string]string{
		`sum_over_time({job="audit"} | json | unwrap responseStatus_code [5m])`:                                            `sum_over_time({job="audit"} | json | unwrap responseStatus_code [5m])`,
		`quantile_over_time(0.99, {job="audit"} | json | unwrap duration(lat) | __error__="" [1m]) by (verb)`:              `quantile_over_time(0.99, {job="audit"} | json | unwrap duration(lat) | __error__="" [1m]) by (verb)`,
		`rate({job="audit"} | json | unwrap bytes(size) [1m] offset 5m) without (a, b)`:                                    `rate({job="audit"} | json | unwrap bytes(size) [1m] offset 5m) without (a, b)`,
		`sum by (v) (avg_over_time({job="audit"} | json [5m] | unwrap duration_seconds(lat))) > 1`:                         `sum by (v) (avg_over_time({job="audit"} | json | unwrap duration_seconds(lat) [5m])) > 1`,
		`max_over_time({job="audit"} | json | unwrap x [5m]) / on (v) min_over_time({job="audit"} | json | unwrap y [5m])`: `max_over_time({job="audit"} | json | unwrap x [5m]) / on (v) min_over_time({job="audit"} | json | unwrap y [5m])`,
	} {
		mq, err := ParseMetric(in)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if got := mq.String(); got != want {
			t.Errorf("String(%s)\n got  %s\n want %s", in, got, want)
		}
		if again, err := ParseMetric(mq.String()); err != nil || again.String() != mq.String() {
			t.Errorf("%s does not parse to itself: %v", mq.String(), err)
		}
	}
}

// TestUnwrapOracle: over random entries, sum_over_time by (job) of the
// status codes is the sum, step by step, over the entries in the window
// (time in (s-range, s]).
func TestUnwrapOracle(t *testing.T) {
	codes := map[string]float64{lineA: 200, lineB: 403, lineC: 101, lineD: 200}
	lines := []string{lineA, lineB, lineC, lineD}
	seed := uint64(3)
	next := func(n int) int { seed = seed*6364136223846793005 + 1442695040888963407; return int(seed>>33) % n }
	for round := 0; round < 30; round++ {
		var es []Entry
		var ts []int
		var vs []float64
		for range next(20) {
			l := lines[next(len(lines))]
			sec := next(420) - 60
			es = append(es, &JSONEntry{Time: at(sec), Line: []byte(l), Labels: [][2]string{{"job", "audit"}}})
			ts, vs = append(ts, sec), append(vs, codes[l])
		}
		got := evalRange(t, `sum_over_time({job="audit"} | json | unwrap responseStatus_code [90s]) by (job)`, es)
		var want []string
		for s := 60; s <= 300; s += 60 {
			sum, n := 0.0, 0
			for i, sec := range ts {
				if sec > s-90 && sec <= s {
					sum += vs[i]
					n++
				}
			}
			if n > 0 {
				want = append(want, fmt.Sprintf("%d=%g", s, sum))
			}
		}
		w := ""
		if len(want) > 0 {
			w = `{job="audit"} ` + strings.Join(want, " ")
		}
		if g := fmtMatrix(got); g != w {
			t.Fatalf("round %d:\n got  %s\n want %s", round, g, w)
		}
	}
}

package logql

import (
	"fmt"
	"math"
	"math/rand"
	"slices"
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
		// 300: e4 (403) and e5 (101) share the window's first time: the least.
		{"first", `first_over_time(` + code + `) by (job)`, `{job="audit"} 60=200 120=200 180=403 240=200 300=101`},
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

// TestUnwrapBytesHumanize: | unwrap bytes(x) and a bytes label filter read
// a value as Loki does, with go-humanize's ParseBytes: every unit of its
// table (b; k, kb, ki, kib; m, mb, mi, mib; ... e, eb, ei, eib; none),
// in any case, with or without a space, with decimals or thousands
// commas; the result is a whole number of bytes (rounded down). The
// multipliers are written out here, not taken from the package.
func TestUnwrapBytesHumanize(t *testing.T) {
	si, iec := 1.0, 1.0
	units := map[string]float64{"": 1, "b": 1}
	for _, p := range []string{"k", "m", "g", "t", "p", "e"} {
		si *= 1000
		iec *= 1024
		units[p], units[p+"b"] = si, si
		units[p+"i"], units[p+"ib"] = iec, iec
	}
	if len(units) != 26 {
		t.Fatalf("table has %d units, want 26", len(units))
	}
	type sample struct {
		text string
		want float64
	}
	var samples []sample
	for u, m := range units {
		title := ""
		if u != "" {
			title = strings.ToUpper(u[:1]) + u[1:]
		}
		for _, spelled := range []string{u, strings.ToUpper(u), title} {
			samples = append(samples,
				sample{"3" + spelled, 3 * m},
				sample{"2 " + spelled, 2 * m},
				sample{"1.5" + spelled, math.Floor(1.5 * m)},
			)
		}
	}
	samples = append(samples, sample{"1,024 kb", 1024e3}, sample{"1.5b", 1}, sample{".5k", 500}, sample{"7.", 7})
	for _, s := range samples {
		line := fmt.Sprintf(`{"size":%q}`, s.text)
		es := []Entry{&JSONEntry{Time: at(100), Line: []byte(line), Labels: [][2]string{{"job", "x"}}}}
		q := `sum_over_time({job="x"} | json | unwrap bytes(size) [1m]) by (job)`
		if got, want := fmtMatrix(evalRangeAt(t, q, es)), fmt.Sprintf(`{job="x"} 120=%g`, s.want); got != want {
			t.Errorf("unwrap bytes(%q): got %s, want %s", s.text, got, want)
		}
		// The same value compared with a literal of the same spelling.
		lit := strings.ReplaceAll(s.text, " ", "")
		if strings.ContainsAny(lit, ",") || !strings.ContainsAny(lit, "bBkKmMgGtTpPeEiI") {
			continue
		}
		f := fmt.Sprintf(`sum by (job) (count_over_time({job="x"} | json | size >= %s | size <= %s | __error__="" [1m]))`, lit, lit)
		if strings.HasSuffix(lit, "m") || strings.HasSuffix(lit, "ms") {
			continue // 3m is a duration, as in Loki
		}
		if got, want := fmtMatrix(evalRangeAt(t, f, es)), `{job="x"} 120=1`; got != want {
			t.Errorf("%s: got %s, want %s", f, got, want)
		}
	}
	for _, bad := range []string{"lots", "1 x", "1kk", "-1k", "k", "1 k b", "1.5.5k", "1e3", "1zb", "1yib"} {
		line := fmt.Sprintf(`{"size":%q}`, bad)
		es := []Entry{&JSONEntry{Time: at(100), Line: []byte(line), Labels: [][2]string{{"job", "x"}}}}
		q := `sum_over_time({job="x"} | json | unwrap bytes(size) [1m]) by (job, __error__)`
		if got, want := fmtMatrix(evalRangeAt(t, q, es)), `{__error__="SampleExtractionErr", job="x"} 120=0`; got != want {
			t.Errorf("unwrap bytes(%q): got %s, want %s", bad, got, want)
		}
	}
}

// evalRangeAt evaluates query over entries at the one step 120 s, range
// whatever the query says.
func evalRangeAt(t *testing.T, query string, es []Entry) Matrix {
	t.Helper()
	mq, err := ParseMetric(query)
	if err != nil {
		t.Errorf("%s: %v", query, err)
		return nil
	}
	ev, err := mq.NewRangeEvaluator(at(120), at(120), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		ev.Add(e)
	}
	return ev.Result()
}

// TestUnwrapTiesIgnoreOrder: samples of one time are ordered by value
// (the least first, -0 before 0), so first_over_time, last_over_time and
// the sums over them are the same whatever order the entries come in
// (first and last: duplicated too): two events at one time, codes 200
// and 500, in either order, give first 200 and last 500; 1e16, 1 and
// -1e16 at one time sum the same way in any order.
func TestUnwrapTiesIgnoreOrder(t *testing.T) {
	mk := func(sec int, line string) Entry {
		return &JSONEntry{Time: at(sec), Line: []byte(line), Labels: [][2]string{{"job", "x"}}}
	}
	tied := []string{`{"code":500}`, `{"code":200}`, `{"code":1e16}`, `{"code":1}`, `{"code":-1e16}`, `{"code":"-0"}`, `{"code":0}`}
	const u = `{job="x"} | json | unwrap code [1m]`
	for _, tt := range []struct {
		query, want string
	}{
		{`first_over_time({job="x"} | json | code < 1000 and code > 100 | unwrap code [1m]) by (job)`, `{job="x"} 120=200`},
		{`last_over_time({job="x"} | json | code < 1000 and code > 100 | unwrap code [1m]) by (job)`, `{job="x"} 120=500`},
		{`first_over_time({job="x"} | json | code < 1 and code > -1 | unwrap code [1m]) by (job)`, `{job="x"} 120=-0`},
		{`last_over_time({job="x"} | json | code < 1 and code > -1 | unwrap code [1m]) by (job)`, `{job="x"} 120=0`},
		{`sum_over_time(` + u + `) by (job)`, ""},
		{`avg_over_time(` + u + `) by (job)`, ""},
		{`stddev_over_time(` + u + `) by (job)`, ""},
		{`rate(` + u + `) by (job)`, ""},
	} {
		first := ""
		for round := range 40 {
			es := make([]Entry, 0, 2*len(tied))
			for _, l := range tied {
				es = append(es, mk(100, l))
			}
			if round%2 == 1 && tt.want != "" {
				es = append(es, es...) // duplicated (the sums' callers drop copies: Unique)
			}
			r := rand.New(rand.NewSource(int64(round)))
			r.Shuffle(len(es), func(i, j int) { es[i], es[j] = es[j], es[i] })
			got := fmtMatrix(evalRangeAt(t, tt.query, es))
			if round == 0 {
				first = got
			}
			if got != first || tt.want != "" && got != tt.want {
				t.Errorf("%s, order %d: got %s, want %s (order 0: %s)", tt.query, round, got, tt.want, first)
				break
			}
		}
	}
}

// TestAggregateIgnoresSeriesOrder: a vector aggregation over series the
// evaluator keeps in a map sums them in label order, so 1e16, 1 and
// -1e16 in three series sum the same way every run; topk and bottomk
// never prefer a NaN to a number (as Prometheus) and break ties by
// labels, whatever order the series come in.
func TestAggregateIgnoresSeriesOrder(t *testing.T) {
	mk := func(k, code string) Entry {
		return &JSONEntry{Time: at(100), Line: []byte(fmt.Sprintf(`{"k":%q,"code":%q}`, k, code)), Labels: [][2]string{{"job", "x"}}}
	}
	const u = `sum_over_time({job="x"} | json | unwrap code [1m]) by (k)`
	big := []Entry{mk("a", "1e16"), mk("b", "1"), mk("c", "-1e16"), mk("d", "3"), mk("e", "-3")}
	nan := []Entry{mk("a", "NaN"), mk("b", "1"), mk("c", "NaN"), mk("d", "1"), mk("e", "NaN")}
	for _, tt := range []struct {
		query string
		es    []Entry
		want  string
	}{
		{`sum(` + u + `)`, big, ""},
		{`avg(` + u + `)`, big, ""},
		{`topk(1, ` + u + `)`, nan, `{k="b"} 120=1`},
		{`bottomk(1, ` + u + `)`, nan, `{k="b"} 120=1`},
		{`topk(3, ` + u + `)`, nan, `{k="a"} 120=NaN; {k="b"} 120=1; {k="d"} 120=1`},
	} {
		first := ""
		for round := range 40 {
			es := slices.Clone(tt.es)
			r := rand.New(rand.NewSource(int64(round)))
			r.Shuffle(len(es), func(i, j int) { es[i], es[j] = es[j], es[i] })
			got := fmtMatrix(evalRangeAt(t, tt.query, es))
			if round == 0 {
				first = got
			}
			if got != first || tt.want != "" && got != tt.want {
				t.Errorf("%s, order %d: got %s, want %s (order 0: %s)", tt.query, round, got, tt.want, first)
				break
			}
		}
	}
}

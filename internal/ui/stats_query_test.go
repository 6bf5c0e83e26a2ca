package ui

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
)

// fixtureEvents decodes a fixture as `audittui query` reads it.
func fixtureEvents(t *testing.T, path string) []data.Event {
	t.Helper()
	content, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	info := &data.SourceInfo{Name: path, Labels: data.Labels{{Name: "job", Value: "audit"}}}
	var evs []data.Event
	var dec data.Decoder
	sc := bufio.NewScanner(bytes.NewReader(content))
	for sc.Scan() {
		n := len(evs)
		evs, _ = dec.Decode(evs, sc.Bytes(), data.Origin{Source: info})
		for k := n; k < len(evs); k++ {
			evs[k] = evs[k].Clone()
		}
	}
	return evs
}

// TestStatsShowTheQueriesEvaluated: each Stats panel shows the query whose
// answer it draws, and the LogQL engine answers it with the pane's numbers:
// the rankings (an instant query at the last event, over a range longer
// than the events' span: every matching event; the rate column is rate()
// over that range) and the series (a range query, one column per step),
// with no filter and over filters (fields, words, a query without a json
// stage). The board's rate(...[5m]) is not what the pane counts; the
// queries shown must not say it is.
func TestStatsShowTheQueriesEvaluated(t *testing.T) {
	type run struct{ fixture, filter string }
	var runs []run
	for _, f := range []string{"", `verb!="update"`, "payments", `{job="audit"} |= "payments"`} {
		runs = append(runs, run{"testdata/events.jsonl", f})
	}
	// The sample: times at no regular phase (step boundaries matter).
	for _, f := range []string{"", `verb="delete"`, "kube-system exec"} {
		runs = append(runs, run{"../../testdata/sample/audit.log", f})
	}
	decoded := map[string][]data.Event{}
	for _, r := range runs {
		filter := r.filter
		if decoded[r.fixture] == nil {
			decoded[r.fixture] = fixtureEvents(t, r.fixture)
		}
		evs := decoded[r.fixture]
		a := newTestAppFile(t, r.fixture, 120, 40)
		if filter != "" {
			setFilter(t, a, filter)
		}
		send(t, a, "4")
		a.stats.ensure()
		d := a.stats.data
		for k, q := range d.queries {
			rng := d.rng
			if k >= 2 {
				rng = d.step
			}
			if strings.Contains(q, "rate(") || !strings.Contains(q, "["+logqlDuration(rng)+"]") {
				t.Errorf("%q: panel %d shows %s, not count_over_time over [%s]", filter, k, q, logqlDuration(rng))
			}
		}
		mq := func(q string) *logql.MetricQuery {
			t.Helper()
			m, err := logql.ParseMetric(q)
			if err != nil {
				t.Fatalf("%q: the pane shows a query the CLI rejects: %s: %v", filter, q, err)
			}
			return m
		}
		// The rankings: an instant query at the last matching event.
		instant := func(q string) map[string]int {
			ev := mq(q).NewInstantEvaluator(d.hi)
			for k := range evs {
				ev.Add(&evs[k])
			}
			out := map[string]int{}
			for _, s := range ev.Vector() {
				key := ""
				if len(s.Labels) > 0 {
					key = s.Labels[0].Value
				}
				out[key] = int(s.V)
			}
			return out
		}
		same := func(name string, got, want map[string]int) {
			t.Helper()
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%q %s: the pane draws %v, its query answers %v", filter, name, got, want)
			}
		}
		calls := map[string]int{}
		for _, kv := range sortedCounts(d.c.calls) {
			if len(calls) < 10 {
				calls[kv.key] = kv.n
			}
		}
		same("top users", calls, instant(d.queries[0]))
		same("failed", d.c.failed, instant(d.queries[1]))
		// rate() over the same range is the rate column.
		rq := strings.Replace(d.queries[0], "count_over_time(", "rate(", 1)
		rev := mq(rq).NewInstantEvaluator(d.hi)
		for k := range evs {
			rev.Add(&evs[k])
		}
		for _, s := range rev.Vector() {
			user := ""
			if len(s.Labels) > 0 {
				user = s.Labels[0].Value
			}
			if got, want := fmt.Sprintf("%.2f", d.rate(d.c.calls[user])), fmt.Sprintf("%.2f", s.V); got != want {
				t.Errorf("%q: %s rate %s, rate() says %s", filter, user, got, want)
			}
		}
		// The series: a range query, each column a step.
		series := func(q string) map[string][]int {
			ev, err := mq(q).NewRangeEvaluator(d.first, d.first+int64(d.buckets-1)*int64(d.step), d.step)
			if err != nil {
				t.Fatal(err)
			}
			for k := range evs {
				ev.Add(&evs[k])
			}
			out := map[string][]int{}
			for _, s := range ev.Result() {
				var key []string
				for _, l := range s.Labels {
					key = append(key, l.Value)
				}
				// verb, objectRef_resource come sorted by name as
				// objectRef_resource, verb.
				if len(key) == 2 {
					key[0], key[1] = key[1], key[0]
				}
				k := strings.Join(key, " ")
				if k == "" {
					k = clusterScope
				}
				row := make([]int, d.buckets)
				for _, p := range s.Points {
					row[(p.T-d.first)/int64(d.step)] = int(p.V)
				}
				out[k] = row
			}
			return out
		}
		if got, want := fmt.Sprint(d.trend), fmt.Sprint(series(d.queries[2])); got != want {
			t.Errorf("%q trends: the pane draws %s, its query answers %s", filter, got, want)
		}
		if got, want := fmt.Sprint(d.ns), fmt.Sprint(series(d.queries[3])); got != want {
			t.Errorf("%q heatmap: the pane draws %s, its query answers %s", filter, got, want)
		}
	}
	// The range is longer than the span, in whole units.
	for _, tc := range []struct {
		span time.Duration
		want string
	}{{0, "1s"}, {59 * time.Second, "1m"}, {time.Minute, "2m"}, {119*time.Minute + 58*time.Second, "2h"}, {2 * time.Hour, "3h"}, {50 * time.Hour, "3d"}} {
		if got := logqlDuration(coverRange(tc.span)); got != tc.want {
			t.Errorf("coverRange(%s) = %s, want %s", tc.span, got, tc.want)
		}
	}
}

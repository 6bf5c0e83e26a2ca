package ui

import (
	"bufio"
	"bytes"
	"os"
	"testing"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
)

// TestDashboardsMatchLogQL: the Stats pane counts from the index columns
// exactly what the seed's dashboard queries count, grouped the same way.
// Each dashboard's query (with count_over_time over a window covering the
// whole fixture) is evaluated by the LogQL engine on the decoded events
// and compared with countDashboards.
func TestDashboardsMatchLogQL(t *testing.T) {
	ix := loadIndex(t, "testdata/events.jsonl")
	snap := ix.Snapshot()
	got := countDashboards(snap, &RowSet{All: true, N: snap.Len()})

	content, err := os.ReadFile("testdata/events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	info := &data.SourceInfo{Name: "events.jsonl", Labels: data.Labels{{Name: "job", Value: "audit"}}}
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
	at := snap.MaxTime + 1e9
	eval := func(q string) map[string]int {
		t.Helper()
		mq, err := logql.ParseMetric(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		ev := mq.NewInstantEvaluator(at)
		for k := range evs {
			ev.Add(&evs[k])
		}
		if err := ev.Err(); err != nil {
			t.Fatal(err)
		}
		out := map[string]int{}
		for _, s := range ev.Vector() {
			key := ""
			switch len(s.Labels) {
			case 1:
				key = s.Labels[0].Value
			case 2: // verb, objectRef_resource (labels sorted by name)
				v, _ := s.Labels.Get("verb")
				r, _ := s.Labels.Get("objectRef_resource")
				key = v + " " + r
			}
			out[key] = int(s.V)
		}
		return out
	}
	check := func(name string, got, want map[string]int) {
		t.Helper()
		if len(got) != len(want) {
			t.Errorf("%s: %d groups, LogQL has %d: %v vs %v", name, len(got), len(want), got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s[%q] = %d, LogQL says %d", name, k, got[k], v)
			}
		}
	}
	check("top users", got.calls, eval(`sum by (user_username) (count_over_time({job="audit"} | json [1d]))`))
	check("failed auth", got.failed, eval(`sum by (user_username) (count_over_time({job="audit"} | json | responseStatus_code >= 401 | responseStatus_code < 500 [1d]))`))
	check("create/delete", got.createDelete, eval(`sum by (verb, objectRef_resource) (count_over_time({job="audit"} | json | verb=~"create|delete" [1d]))`))
	check("namespaces", got.namespaces, eval(`sum by (objectRef_namespace) (count_over_time({job="audit"} | json [1d]))`))
}

// TestStatsDrillIn: enter on a Stats row filters every pane to the events
// that row counts, with LogQL (checked against the dashboard's own count),
// narrowing the filter in use; u undoes it.
func TestStatsDrillIn(t *testing.T) {
	a := newTestApp(t, 80, 24)
	send(t, a, "4")
	c := countDashboards(a.c.Snap, a.c.Rows)
	want := map[string]int{}
	for u, n := range c.calls {
		want[userPred(u)] = n
	}
	for u, n := range c.failed {
		want[failedPred(u)] = n
	}
	for k, n := range c.createDelete {
		want[trendPred(k)] = n
	}
	for ns, n := range c.namespaces {
		if ns == "" {
			ns = clusterScope
		}
		want[nsPred(ns)] = n
	}
	a.stats.ensure()
	items := append([]statsItem(nil), a.stats.items...)
	if len(items) < 10 {
		t.Fatalf("%d selectable rows", len(items))
	}
	panels := map[int]bool{}
	for k, it := range items {
		send(t, a, "4", "g")
		for range k {
			send(t, a, "j")
		}
		pred, _ := a.stats.Selected()
		if pred != it.pred {
			t.Fatalf("row %d: cursor on %q, want %q", k, pred, it.pred)
		}
		send(t, a, "enter")
		if a.focus != paneTail {
			t.Fatalf("%s: enter did not go to the tail", pred)
		}
		if a.filter.Text != pred || a.filter.NeedsRaw() {
			t.Fatalf("drill-in filter %q (raw %v), want %q from the columns", a.filter.Text, a.filter.NeedsRaw(), pred)
		}
		if got := a.c.Rows.Len(); got != want[pred] {
			t.Errorf("%s: %d events, the dashboard counts %d", pred, got, want[pred])
		}
		panels[it.panel] = true
		send(t, a, "u")
		if a.filter.Active() {
			t.Fatalf("u after the drill-in left %q", a.filter.Text)
		}
	}
	if len(panels) != 4 {
		t.Errorf("rows of %d panels selectable, want 4", len(panels))
	}
	// Drilling narrows the filter in use.
	send(t, a, "/")
	typeText(t, a, `verb="update"`)
	send(t, a, "enter", "4", "g", "enter")
	if a.filter.Text != `verb="update" | user_username="system:serviceaccount:kube-system:deployment-controller"` {
		t.Fatalf("narrowed filter %q", a.filter.Text)
	}
	if a.c.Rows.Len() != 6 {
		t.Fatalf("narrowed: %d events", a.c.Rows.Len())
	}
	if q := DrillQuery(&Filter{query: true, Text: `{job="audit"} |= "x"`, lq: mustLog(t, `{job="audit"} |= "x"`)}, `verb="get"`); q != `{job="audit"} |= "x" | json | verb="get"` {
		t.Errorf("DrillQuery without json: %s", q)
	}
}

func mustLog(t *testing.T, q string) *logql.LogQuery {
	t.Helper()
	lq, err := logql.ParseLog(q)
	if err != nil {
		t.Fatal(err)
	}
	return lq
}

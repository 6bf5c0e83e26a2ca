package rules

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/data/logql"
)

var t10 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// auditLine is a pods/<sub> request by user at t.
func auditLine(id, stage, user, sub string, at time.Time) string {
	return fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":%q,"stage":%q,"requestURI":"/api/v1/namespaces/kube-system/pods/p/%s","verb":"create","user":{"username":%q},"objectRef":{"resource":"pods","namespace":"kube-system","name":"p","subresource":%q,"apiVersion":"v1"},"responseStatus":{"code":101},"stageTimestamp":%q}`,
		id, stage, sub, user, sub, at.Format(time.RFC3339Nano))
}

func parseSet(t *testing.T, yaml string) *Set {
	t.Helper()
	set, err := Parse("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func byName(as []*Alert) map[string][]*Alert {
	m := map[string][]*Alert{}
	for _, a := range as {
		m[a.Name] = append(m[a.Name], a)
	}
	return m
}

const attachRules = `groups:
  - name: g
    rules:
      - alert: AttachStages
        expr: sum by (user_username) (count_over_time({job="audit"} | json | objectRef_subresource="attach" [5m])) > 0
      - alert: AttachRequests
        expr: sum by (user_username) (count_over_time({job="audit"} | json | objectRef_subresource="attach" [5m])) > 0
        annotations:
          audittui_count: requests
`

// TestCountRequests: with audittui_count: requests, the ResponseStarted
// and ResponseComplete of one attach session are one request, counted at
// the earliest stage, whatever order the stages come in; by default each
// stage is a line, as Loki counts it.
func TestCountRequests(t *testing.T) {
	set := parseSet(t, attachRules)
	if r := set.Rules(); r[0].CountRequests || !r[1].CountRequests {
		t.Fatal("audittui_count: requests not loaded")
	}
	lines := []string{
		auditLine("a-1", "ResponseStarted", "eve", "attach", t10.Add(5*time.Second)),
		auditLine("a-2", "ResponseComplete", "eve", "attach", t10.Add(20*time.Second)),
		auditLine("a-1", "ResponseComplete", "eve", "attach", t10.Add(3*time.Minute+5*time.Second)),
	}
	evs := decodeInOrder(t, "attach", []byte(strings.Join(lines, "\n")))
	check := func(what string, as []*Alert) {
		t.Helper()
		got := byName(as)
		st, rq := got["AttachStages"], got["AttachRequests"]
		if len(st) != 1 || st[0].Events != 3 || st[0].MaxValue != 3 || !st[0].ResolvedAt.Equal(t10.Add(9*time.Minute)) {
			t.Errorf("%s: stages: %s", what, alertsDigest(st))
		}
		if len(rq) != 1 || rq[0].Events != 2 || rq[0].MaxValue != 2 || !rq[0].ResolvedAt.Equal(t10.Add(6*time.Minute)) ||
			strings.Join(rq[0].AuditIDs, ",") != "a-1,a-2" || !rq[0].EventTimes[0].Equal(t10.Add(5*time.Second)) {
			t.Errorf("%s: requests: %s", what, alertsDigest(rq))
		}
	}
	check("in order", replayWith(t, set, evs, Options{}).Alerts)
	rev := slices.Clone(evs)
	slices.Reverse(rev)
	check("reversed", replayWith(t, set, rev, Options{}).Alerts)
	check("live", liveAlerts(t, set, evs))

	// A session that ends two hours later is still one request.
	long := decodeInOrder(t, "long", []byte(auditLine("s-1", "ResponseComplete", "eve", "attach", t10.Add(2*time.Hour))+"\n"+
		auditLine("s-1", "ResponseStarted", "eve", "attach", t10)))
	got := byName(replayWith(t, set, long, Options{}).Alerts)
	if len(got["AttachStages"]) != 2 || len(got["AttachRequests"]) != 1 || !got["AttachRequests"][0].ActiveAt.Equal(t10) {
		t.Errorf("long session: %s", alertsDigest(append(got["AttachStages"], got["AttachRequests"]...)))
	}
}

func TestCountAnnotationErrors(t *testing.T) {
	_, err := Parse("bad.yaml", []byte(`groups:
  - name: g
    rules:
      - alert: A
        expr: sum(count_over_time({job="audit"} [5m])) > 0
        annotations:
          summary: x
          audittui_count: sessions
`))
	var es Errors
	if !errors.As(err, &es) || len(es) != 1 || es[0].Line != 8 || !strings.Contains(es[0].Msg, `"sessions" is not requests or stages`) {
		t.Fatalf("err = %v", err)
	}
}

// TestAdvanceEvaluatesAQuietStream: one exec, then silence. Loki's ruler
// evaluates every interval whether or not lines arrive; Advance (called
// from a ticker) does the same, so the alert fires and resolves without
// another event.
func TestAdvanceEvaluatesAQuietStream(t *testing.T) {
	set := parseSet(t, `groups:
  - name: g
    rules:
      - alert: Exec
        expr: sum by (user_username) (count_over_time({job="audit"} | json | objectRef_subresource="exec" [5m])) > 0
`)
	var changes []string
	ev, err := NewEvaluator(set, Options{OnChange: func(a *Alert) {
		changes = append(changes, a.State.String()+"@"+a.LastActive.Format("15:04:05"))
	}})
	if err != nil {
		t.Fatal(err)
	}
	evs := decodeInOrder(t, "exec", []byte(auditLine("x-1", "ResponseStarted", "mallory", "exec", t10.Add(5*time.Second))))
	ev.Push(&evs[0])
	wall := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) // the clock, unrelated to event time
	ev.Advance(wall)                                    // notes the time
	ev.Advance(wall.Add(30 * time.Second))
	if len(ev.Snapshot()) != 0 {
		t.Fatal("fired before the step at 10:01:00 was due")
	}
	// 10:00:05 + 65 s of quiet - DefaultReorder = 10:01:00: the step is due.
	ev.Advance(wall.Add(65 * time.Second))
	as := ev.Snapshot()
	if len(as) != 1 || as[0].State != StateFiring || as[0].Events != 1 || as[0].AuditIDs[0] != "x-1" {
		t.Fatalf("after 65 s of quiet: %s", alertsDigest(as))
	}
	ev.Advance(wall.Add(10 * time.Minute))
	if strings.Join(changes, " ") != "firing@10:01:00 resolved@10:05:00" {
		t.Errorf("changes = %v", changes)
	}
	// An event arriving moves the clock's origin: Advance first notes it.
	evs = decodeInOrder(t, "exec2", []byte(auditLine("x-2", "ResponseStarted", "mallory", "exec", t10.Add(20*time.Minute))))
	ev.Push(&evs[0])
	ev.Advance(wall.Add(11 * time.Minute))
	ev.Advance(wall.Add(11*time.Minute + 50*time.Second))
	if n := len(ev.Snapshot()); n != 2 {
		t.Errorf("second exec: %d alerts", n)
	}
}

// TestCatchUpRunsAnOldInputsSteps: a followed input read to its end whose
// newest event is more than StaleAfter behind the clock is history: CatchUp
// runs its steps up to the clock at once (the exec fires and resolves, as
// a replay would say), where Advance would have run them at the clock's
// pace. A stream whose newest event is recent is left to Advance. The
// alert's LastEvent is the exec's time, not the end of its window.
func TestCatchUpRunsAnOldInputsSteps(t *testing.T) {
	set := parseSet(t, `groups:
  - name: g
    rules:
      - alert: Exec
        expr: sum by (user_username) (count_over_time({job="audit"} | json | objectRef_subresource="exec" [5m])) > 0
`)
	at := t10.Add(5 * time.Second)
	for _, tc := range []struct {
		name string
		wall time.Time
		want string
	}{
		{"old", at.Add(24 * time.Hour), "firing@10:01:00 resolved@10:05:00"},
		{"recent", at.Add(20 * time.Second), ""},
	} {
		var changes []string
		ev, err := NewEvaluator(set, Options{OnChange: func(a *Alert) {
			changes = append(changes, a.State.String()+"@"+a.LastActive.Format("15:04:05"))
		}})
		if err != nil {
			t.Fatal(err)
		}
		evs := decodeInOrder(t, "exec", []byte(auditLine("x-1", "ResponseStarted", "mallory", "exec", at)))
		ev.Push(&evs[0])
		ev.CatchUp(tc.wall)
		ev.CatchUp(tc.wall.Add(time.Second))
		if got := strings.Join(changes, " "); got != tc.want {
			t.Errorf("%s: changes %q, want %q", tc.name, got, tc.want)
		}
		if tc.name == "old" {
			as := ev.Snapshot()
			if len(as) != 1 || !as[0].LastEvent.Equal(at) || !as[0].LastActive.After(at) {
				t.Errorf("old: %s, LastEvent %v (want %v)", alertsDigest(as), as[0].LastEvent, at)
			}
		}
	}
}

// TestCitationsAreCappedAndOrdered: an instance counts every event of its
// windows but keeps only the first MaxSampleIDs, in time order, whatever
// order they came in; with an offset the windows (and DrillDown) move back.
func TestCitationsAreCappedAndOrdered(t *testing.T) {
	for _, off := range []string{"", " offset 2m"} {
		set := parseSet(t, `groups:
  - name: g
    interval: 30s
    rules:
      - alert: Exec
        expr: sum by (user_username) (count_over_time({job="audit"} | json | objectRef_subresource="exec" [90s]`+off+`)) > 0
`)
		var lines []string
		for i := range 25 {
			lines = append(lines, auditLine(fmt.Sprintf("id-%02d", i), "ResponseComplete", "eve", "exec", t10.Add(time.Duration(i)*7*time.Second)))
		}
		evs := decodeInOrder(t, "exec", []byte(strings.Join(lines, "\n")))
		want := ""
		for seed := range uint64(4) {
			in := evs
			if seed > 0 {
				in = shuffled(evs, seed)
			}
			as := replayWith(t, set, in, Options{}).Alerts
			if seed == 0 {
				want = alertsDigest(as)
				if len(as) != 1 || as[0].Events != 25 || len(as[0].AuditIDs) != MaxSampleIDs || as[0].AuditIDs[0] != "id-00" || as[0].AuditIDs[9] != "id-09" {
					t.Fatalf("%q: %s", off, want)
				}
				q, from, to := as[0].DrillDown()
				lq, err := logql.ParseLog(q)
				if err != nil {
					t.Fatal(err)
				}
				n := 0
				for i := range evs {
					if evs[i].Time >= from.UnixNano() && evs[i].Time < to.UnixNano() && lq.Matches(&evs[i]) {
						n++
					}
				}
				if n != as[0].Events {
					t.Errorf("%q: drill-down selects %d events, the alert counted %d", off, n, as[0].Events)
				}
			} else if got := alertsDigest(as); got != want {
				t.Errorf("%q shuffled %d:\n%s", off, seed, diffLines(want, got))
			}
		}
	}
}

// TestMemoryIsBoundedByTheWindows: a live evaluator (and a replay over
// its budget) holds state for the recent windows only, however long the
// input: chunks, citation buckets and the duplicate filter are dropped as
// the seal point passes them.
func TestMemoryIsBoundedByTheWindows(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	// The hour and day companions (groups evaluated every 5 and 30
	// minutes) hold their windows by design; the bound below is about the
	// 5-minute rules, evaluated every minute.
	var short []*Group
	for _, g := range set.Groups {
		if g.Interval <= time.Minute {
			short = append(short, g)
		}
	}
	if len(short) == 0 || len(short) == len(set.Groups) {
		t.Fatalf("%d of %d groups evaluated every minute: the pack changed, revisit this test", len(short), len(set.Groups))
	}
	set.Groups = short
	evs, _ := genEvents(t, 100, 3*time.Second, 1)
	for name, opts := range map[string]Options{"live": {}, "replay over budget": {Reorder: Unbounded, MaxRetained: 16 << 10},
		"replay, 48 KiB budget": {Reorder: Unbounded, MaxRetained: 48 << 10}} {
		ev, err := newEvaluator(set, withDefaults(opts), 0)
		if err != nil {
			t.Fatal(err)
		}
		var maxChunks, maxBuckets, maxMinutes int
		var maxRetained int64
		for i := range evs {
			ev.Push(&evs[i])
			maxRetained = max(maxRetained, ev.dedup.retained)
			if i%20 != 0 {
				continue
			}
			chunks, buckets := 0, 0
			for _, rs := range ev.rules {
				chunks += len(rs.chunks)
				for _, sc := range rs.cites {
					buckets += len(sc.b)
				}
			}
			maxChunks = max(maxChunks, chunks)
			maxBuckets = max(maxBuckets, buckets)
			maxMinutes = max(maxMinutes, len(ev.dedup.keys))
		}
		// The pack's windows are 5 minutes: a few chunks per rule, a
		// few minutes of duplicate filter (live: 10 s + 5 minutes; over
		// a budget this small: BudgetReorder + 5 minutes), whatever the
		// input's length.
		if opts.MaxRetained != 48<<10 && (maxChunks > 3*len(ev.rules) || maxMinutes > 10 || maxBuckets > 1000) {
			t.Errorf("%s: up to %d chunks, %d citation buckets, %d minutes of duplicate filter over 100 minutes", name, maxChunks, maxBuckets, maxMinutes)
		}
		// A budget above what those minutes hold is kept: the oldest
		// minutes go as soon as it is reached.
		if b := opts.MaxRetained; b == 48<<10 && maxRetained > b+b/8 {
			t.Errorf("%s: held up to %d bytes (estimated)", name, maxRetained)
		}
		t.Logf("%s: at most %d chunks, %d citation buckets, %d minutes of duplicate filter, %d bytes (estimated)", name, maxChunks, maxBuckets, maxMinutes, maxRetained)
	}
}

// withDefaults fills Options as NewEvaluator does.
func withDefaults(o Options) Options {
	if o.Reorder == 0 {
		o.Reorder = DefaultReorder
	}
	return o
}

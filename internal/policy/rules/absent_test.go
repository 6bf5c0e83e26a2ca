package rules

import (
	"bufio"
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/data"
)

const absentRules = `groups:
  - name: pipeline
    interval: 1m
    rules:
      - alert: ClusterSilent
        expr: absent_over_time({job="audit", cluster="b"}[10m])
        for: 5m
        labels:
          severity: critical
        annotations:
          summary: "no audit events from {{ $labels.cluster }} for 10m"
      - alert: NeverSeen
        expr: absent_over_time({job="audit", cluster="c"}[10m])
`

// clusterEvents decodes one event per minute (at :30) from first to last
// (minutes after 10:00) of a file labelled cluster=name.
func clusterEvents(t *testing.T, name string, spans ...[2]int) []data.Event {
	t.Helper()
	info := &data.SourceInfo{Name: name + ".log", Labels: data.Labels{{Name: "cluster", Value: name}, {Name: "filename", Value: name + ".log"}, {Name: "job", Value: "audit"}}}
	var lines []string
	for _, sp := range spans {
		for m := sp[0]; m <= sp[1]; m++ {
			lines = append(lines, auditLine(name+"-"+time.Duration(m).String(), "ResponseComplete", "alice", "log", t10.Add(time.Duration(m)*time.Minute+30*time.Second)))
		}
	}
	var dec data.Decoder
	var out []data.Event
	sc := bufio.NewScanner(bytes.NewReader([]byte(strings.Join(lines, "\n"))))
	line := 0
	for sc.Scan() {
		line++
		evs, rej := dec.Decode(nil, append([]byte(nil), sc.Bytes()...), data.Origin{Source: info, Line: int64(line)})
		if rej != nil {
			t.Fatal(rej.Error())
		}
		for i := range evs {
			out = append(out, evs[i].Clone())
		}
	}
	return out
}

// TestAbsentOverTimeRule: cluster b sends nothing from 10:20:30 to
// 10:40:30. Steps 10:31 to 10:40 see an empty (s-10m, s] window (10:30's
// holds 10:20:30, 10:41's holds 10:40:30): active from 10:31, firing
// after `for` at 10:36, resolved at 10:41. cluster c never sends: active
// from the first step (10:01), still firing at the last step before the
// input's end (11:00; the steps after 11:00:30, the newest event, are not
// evaluated: nothing after the input is evidence of absence).
func TestAbsentOverTimeRule(t *testing.T) {
	set := parseSet(t, absentRules)
	evs := append(clusterEvents(t, "a", [2]int{0, 60}), clusterEvents(t, "b", [2]int{0, 20}, [2]int{40, 60})...)
	at := func(m int) time.Time { return t10.Add(time.Duration(m) * time.Minute) }
	check := func(what string, as []*Alert) {
		t.Helper()
		got := byName(as)
		cs, ns := got["ClusterSilent"], got["NeverSeen"]
		if len(cs) != 1 || len(as) != 2 {
			t.Fatalf("%s: want one ClusterSilent and one NeverSeen:\n%s", what, alertsDigest(as))
		}
		a := cs[0]
		if a.State != StateResolved || !a.ActiveAt.Equal(at(31)) || !a.FiredAt.Equal(at(36)) || !a.LastActive.Equal(at(40)) ||
			!a.ResolvedAt.Equal(at(41)) || a.Value != 1 || a.Events != 0 {
			t.Errorf("%s: ClusterSilent: %s", what, alertsDigest(cs))
		}
		if a.Labels["cluster"] != "b" || a.Labels["job"] != "audit" || a.Labels["severity"] != "critical" || len(a.Labels) != 3 ||
			a.Annotations["summary"] != "no audit events from b for 10m" {
			t.Errorf("%s: labels %v annotations %v", what, a.Labels, a.Annotations)
		}
		n := ns[0]
		if n.State != StateFiring || !n.ActiveAt.Equal(at(1)) || !n.LastActive.Equal(at(60)) || n.Labels["cluster"] != "c" {
			t.Errorf("%s: NeverSeen: %s", what, alertsDigest(ns))
		}
	}
	check("in order", replayWith(t, set, sortedByTime(evs), Options{}).Alerts)
	rev := slices.Clone(sortedByTime(evs))
	slices.Reverse(rev)
	check("reversed", replayWith(t, set, rev, Options{}).Alerts)
	check("shuffled", replayWith(t, set, shuffled(evs, 3), Options{}).Alerts)

	// Live, in time order: the same alerts once the input is read.
	e, err := NewEvaluator(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range sortedByTime(evs) {
		e.Push(&ev)
	}
	check("live", e.Finish())

	// With To past the input, the steps up to To count: the window after
	// cluster b's last event (11:00:30) empties at 11:11, fires at 11:16.
	res := replayWith(t, set, evs, Options{To: at(20 + 60).UnixNano()})
	var late []*Alert
	for _, a := range res.Alerts {
		if a.Name == "ClusterSilent" && a.ActiveAt.Equal(at(71)) && a.FiredAt.Equal(at(76)) && a.State == StateFiring {
			late = append(late, a)
		}
	}
	if len(late) != 1 {
		t.Errorf("To 11:20: want ClusterSilent firing since 11:16:\n%s", alertsDigest(res.Alerts))
	}
}

// TestAbsentNoInput: without any event there is no step to evaluate (no
// evidence of time passing), so nothing fires.
func TestAbsentNoInput(t *testing.T) {
	set := parseSet(t, absentRules)
	if as := replayWith(t, set, nil, Options{}).Alerts; len(as) != 0 {
		t.Errorf("no input: %s", alertsDigest(as))
	}
}

// TestAbsentAfterLastEventAnyAlignment: cluster b stops at 10:00:30 + m
// minutes for each m over two hours (so the gap starts at every position
// in the evaluation's chunks, the end of one included: no event reaches
// the chunk after it) while cluster a goes on until 13:00:30. The first
// empty window is the step m+11 minutes after 10:00.
func TestAbsentAfterLastEventAnyAlignment(t *testing.T) {
	set := parseSet(t, absentRules)
	a := clusterEvents(t, "a", [2]int{0, 180})
	for m := 60; m <= 160; m++ { // fired (for: 5m) before 13:00:30
		// b's events first: the steps they reach are known before a's
		// show that time goes on.
		evs := append(clusterEvents(t, "b", [2]int{0, m}), a...)
		got := byName(replayWith(t, set, evs, Options{}).Alerts)["ClusterSilent"]
		if len(got) != 1 || !got[0].ActiveAt.Equal(t10.Add(time.Duration(m+11)*time.Minute)) {
			t.Fatalf("b's last event at +%dm30s: want one ClusterSilent active from +%dm:\n%s", m, m+11, alertsDigest(got))
		}
	}
}

// TestAbsentWindowFirstActive: with From, an instance of a dense rule
// active at the rule's first step began no one knows when before what
// was read: it is reported active (and firing) from From, the window
// asked for, not from where the read began (review M 12). An instance
// whose start the read shows keeps it. Cluster b stops at 10:16:30 (its
// window empties at 10:27), then sends again from 10:40:30; cluster c
// never sends.
func TestAbsentWindowFirstActive(t *testing.T) {
	set := parseSet(t, absentRules) // look-back 10m + 5m + 1m
	evs := append(clusterEvents(t, "a", [2]int{0, 60}), clusterEvents(t, "b", [2]int{0, 16}, [2]int{40, 60})...)
	at := func(m int) time.Time { return t10.Add(time.Duration(m) * time.Minute) }
	for _, c := range []struct {
		from                    int
		csActive, csFired       int // 0: no ClusterSilent instance reported
		neverActive, neverFired int
	}{
		// Read from 10:17: b's last events are not, ClusterSilent is
		// active from the first step (10:18; fired 10:23).
		{33, 33, 33, 33, 33},
		// Read from 10:14: 10:14:30 to 10:16:30 are, the start shows.
		{30, 27, 32, 30, 30},
		// Before the look-back reaches the data's start: the same.
		{45, 0, 0, 45, 45},
	} {
		for _, order := range []string{"in order", "shuffled"} {
			in := sortedByTime(evs)
			if order == "shuffled" {
				in = shuffled(evs, 5)
			}
			res := replayWith(t, set, in, Options{From: at(c.from).UnixNano()})
			got := byName(res.Alerts)
			cs, ns := got["ClusterSilent"], got["NeverSeen"]
			if c.csActive == 0 && len(cs) != 0 || c.csActive != 0 && (len(cs) != 1 || !cs[0].ActiveAt.Equal(at(c.csActive)) || !cs[0].FiredAt.Equal(at(c.csFired))) {
				t.Errorf("From 10:%02d, %s: want ClusterSilent active from %d, firing from %d:\n%s", c.from, order, c.csActive, c.csFired, alertsDigest(res.Alerts))
			}
			if len(ns) != 1 || !ns[0].ActiveAt.Equal(at(c.neverActive)) || !ns[0].FiredAt.Equal(at(c.neverFired)) {
				t.Errorf("From 10:%02d, %s: want NeverSeen active from %d, firing from %d:\n%s", c.from, order, c.neverActive, c.neverFired, alertsDigest(res.Alerts))
			}
		}
	}
}

// TestAbsentSilenceSpansFrom: a silence that starts before the read (From
// less the look-back) and runs on past From is judged as Loki's range
// query from From judges it, each step's (s-10m, s] window on its own,
// not from the first event read: every cluster sends from 10:00:30 to
// 10:10:30 and again from 10:50:30; with From 10:40 (read from 10:24)
// the first event read is 10:50:30. ClusterSilent is active (and firing)
// from From, as the rule's first step already judged it, until 10:50
// (resolved 10:51); NeverSeen likewise, still firing at the end.
func TestAbsentSilenceSpansFrom(t *testing.T) {
	set := parseSet(t, absentRules)
	evs := append(clusterEvents(t, "a", [2]int{0, 10}, [2]int{50, 60}), clusterEvents(t, "b", [2]int{0, 10}, [2]int{50, 60})...)
	at := func(m int) time.Time { return t10.Add(time.Duration(m) * time.Minute) }
	from := at(40).UnixNano()
	for _, order := range []string{"in order", "shuffled", "parallel"} {
		var as []*Alert
		switch order {
		case "parallel":
			p, err := NewParallel(set, Options{From: from, Reorder: Unbounded}, 2)
			if err != nil {
				t.Fatal(err)
			}
			p.Push(&data.Batch{Events: sortedByTime(evs)})
			p.Finish()
			as = p.Snapshot()
			p.Close()
		case "shuffled":
			as = replayWith(t, set, shuffled(evs, 7), Options{From: from}).Alerts
		default:
			as = replayWith(t, set, sortedByTime(evs), Options{From: from}).Alerts
		}
		got := byName(as)
		cs, ns := got["ClusterSilent"], got["NeverSeen"]
		if len(cs) != 1 || !cs[0].ActiveAt.Equal(at(40)) || !cs[0].FiredAt.Equal(at(40)) || !cs[0].LastActive.Equal(at(50)) ||
			!cs[0].ResolvedAt.Equal(at(51)) || cs[0].Labels["cluster"] != "b" {
			t.Errorf("%s: want ClusterSilent active and firing from 10:40 to 10:50:\n%s", order, alertsDigest(as))
		}
		if len(ns) != 1 || !ns[0].ActiveAt.Equal(at(40)) || ns[0].State != StateFiring {
			t.Errorf("%s: want NeverSeen firing from 10:40:\n%s", order, alertsDigest(as))
		}
	}
}

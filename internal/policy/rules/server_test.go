package rules

import (
	"testing"
	"time"

	"github.com/audittui/audittui/internal/data/logql"
)

// serverMatrix evaluates r's expression as a server answers query_range
// over [first, last] with step: over every event, whatever the rules.
func serverMatrix(t *testing.T, r *Rule, evs []dataEvents, first, last time.Time, step time.Duration) []Series {
	t.Helper()
	ev, err := r.Query().NewRangeEvaluator(first.UnixNano(), last.UnixNano(), step)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		ev.Add(e)
	}
	var out []Series
	for _, s := range ev.Result() {
		ls := map[string]string{}
		for _, l := range s.Labels {
			ls[l.Name] = l.Value
		}
		var ps []Point
		for _, p := range s.Points {
			ps = append(ps, Point{T: time.Unix(0, p.T).UTC(), V: p.V})
		}
		out = append(out, Series{Labels: ls, Points: ps})
	}
	return out
}

type dataEvents = logql.Entry

// TestEvalSeriesEqualsLocal: a rule evaluated from the values a server
// computes (query_range over the step grid) raises the instances the
// local evaluator raises, to the second and the value (not the event
// counts, which a server does not return).
func TestEvalSeriesEqualsLocal(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	evs, _ := genEvents(t, 100, 0, 1)
	res := replayWith(t, set, sortedByTime(evs), Options{})
	entries := make([]dataEvents, len(evs))
	for i := range evs {
		entries[i] = &evs[i]
	}
	from, to := time.Unix(0, evs[0].Time).UTC(), time.Unix(0, evs[len(evs)-1].Time).UTC()
	checked := 0
	for _, r := range set.Rules() {
		var want []*Alert
		for _, a := range res.Alerts {
			if a.Rule == r {
				want = append(want, a)
			}
		}
		// The replay drains the windows after the last event: so does
		// the server's grid here.
		first, last, step := r.StepGrid(from.Add(-time.Hour), to.Add(r.Query().Range()+r.For+2*step(r)))
		got := EvalSeries(r, serverMatrix(t, r, entries, first, last, step), first, last, step, nil)
		if len(got) != len(want) {
			t.Errorf("%s: %d instances from the server's values, %d local", r.Alert, len(got), len(want))
			continue
		}
		for i := range got {
			g, w := got[i], want[i]
			if g.State != w.State || !g.ActiveAt.Equal(w.ActiveAt) || !g.FiredAt.Equal(w.FiredAt) ||
				!g.LastActive.Equal(w.LastActive) || !g.ResolvedAt.Equal(w.ResolvedAt) || g.Value != w.Value ||
				LabelsString(g.Labels) != LabelsString(w.Labels) || g.Annotations["description"] != w.Annotations["description"] {
				t.Errorf("%s: server %s, local %s", r.Alert, alertsDigest([]*Alert{g}), alertsDigest([]*Alert{w}))
			}
		}
		checked += len(got)
	}
	if checked < 20 {
		t.Fatalf("only %d instances compared", checked)
	}
}

func step(r *Rule) time.Duration {
	if r.Group != nil && r.Group.Interval > 0 {
		return r.Group.Interval
	}
	return DefaultInterval
}

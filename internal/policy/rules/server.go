package rules

import (
	"sort"
	"strconv"
	"time"
)

// Evaluating a rule from values a server computed: Loki answers a rule's
// expression as a range query (query_range, one point per step of the
// rule's group interval), and EvalSeries runs the ruler's state machine
// over those points, so a rule can be evaluated where the events are
// without pulling them. The instances carry no event counts or auditIDs
// (the server returns values, not events); DrillDown still gives the
// query and window of their events.

// Series is one series of a range query's result: its labels and its
// points in time order.
type Series struct {
	Labels map[string]string
	Points []Point
}

// Point is one value of a series at a step.
type Point struct {
	T time.Time
	V float64
}

// StepGrid returns the first and last evaluation step of r's group in
// [from, to]: the multiples of its interval, as Loki's ruler evaluates
// (from is moved back by the rule's `for`, so that an instance already
// pending before from can be firing at from).
func (r *Rule) StepGrid(from, to time.Time) (first, last time.Time, step time.Duration) {
	step = DefaultInterval
	if r.Group != nil && r.Group.Interval > 0 {
		step = r.Group.Interval
	}
	iv := int64(step)
	f := ceilDiv(from.Add(-r.For).UnixNano(), iv) * iv
	l := floorDiv(to.UnixNano(), iv) * iv
	return time.Unix(0, f).UTC(), time.Unix(0, l).UTC(), step
}

// EvalSeries runs r's alert state machine (pending, firing after `for`,
// resolved when the expression stops returning the series; the group's
// limit) over the expression's values at every step from first to last
// (see StepGrid). It returns the instances that fired, in order of first
// activity; those still firing at last have no ResolvedAt.
func EvalSeries(r *Rule, series []Series, first, last time.Time, step time.Duration, external map[string]string) []*Alert {
	type sample struct {
		key    string
		labels map[string]string
		v      float64
	}
	at := map[int64][]sample{}
	for _, s := range series {
		key := LabelsString(s.Labels)
		for _, p := range s.Points {
			t := p.T.UnixNano()
			at[t] = append(at[t], sample{key, s.Labels, p.V})
		}
	}
	active := map[string]*Alert{}
	var done []*Alert
	seq := 0
	for t := first; !t.After(last); t = t.Add(step) {
		samples := at[t.UnixNano()]
		if r.Group != nil && r.Group.Limit > 0 && len(samples) > r.Group.Limit {
			samples = nil // as the ruler: over the limit, no alerts this step
		}
		seen := map[string]bool{}
		for _, smp := range samples {
			seen[smp.key] = true
			a := active[smp.key]
			if a == nil {
				seq++
				a = &Alert{Rule: r, Name: r.Alert, State: StatePending, ActiveAt: t,
					key:      "server " + r.Where() + smp.key + "@" + strconv.FormatInt(t.UnixNano(), 10),
					seriesLs: cloneMap(smp.labels), Seq: seq, citedTo: minTime}
				active[smp.key] = a
			}
			if a.LastActive.IsZero() || smp.v > a.MaxValue {
				a.MaxValue = smp.v
			}
			a.LastActive, a.Value = t, smp.v
			if a.State == StatePending && t.Sub(a.ActiveAt) >= r.For {
				a.State, a.FiredAt = StateFiring, t
			}
			if a.State == StateFiring {
				a.ext = external
				a.render()
			}
		}
		for key, a := range active {
			if seen[key] {
				continue
			}
			delete(active, key)
			if a.State == StateFiring {
				a.State, a.ResolvedAt = StateResolved, t
				done = append(done, a)
			}
		}
	}
	out := done
	keys := make([]string, 0, len(active))
	for k := range active {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if a := active[k]; a.State == StateFiring {
			out = append(out, a)
		}
	}
	for i, a := range out {
		out[i] = a.copy()
	}
	SortAlerts(out)
	return out
}

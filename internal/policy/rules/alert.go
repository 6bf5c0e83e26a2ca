package rules

import (
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// MaxSampleIDs is how many auditIDs an alert instance keeps as samples.
const MaxSampleIDs = 10

// State is an alert instance's state.
type State int

// States, as in Prometheus: pending until the rule's `for` has elapsed,
// then firing; resolved once the expression no longer returns the series.
const (
	StatePending State = iota
	StateFiring
	StateResolved
)

func (s State) String() string {
	switch s {
	case StatePending:
		return "pending"
	case StateFiring:
		return "firing"
	case StateResolved:
		return "resolved"
	}
	return "unknown"
}

// Alert is one alert instance: one label set of one rule over one
// uninterrupted stretch of evaluations that reached firing.
type Alert struct {
	Rule *Rule
	// Name is the rule's alert name.
	Name string
	// Labels are the expression's output labels plus the rule's labels
	// (rule labels win, as in Prometheus).
	Labels map[string]string
	// Annotations are the rule's annotations, rendered with the labels and
	// value of the latest evaluation.
	Annotations map[string]string
	Severity    string
	State       State

	// ActiveAt is the first evaluation at which the expression returned
	// this series; FiredAt when `for` had elapsed; LastActive the latest
	// evaluation that still returned it.
	ActiveAt, FiredAt, LastActive time.Time
	// ResolvedAt is the first evaluation that no longer returned the
	// series (zero while still active at the end of the input).
	ResolvedAt time.Time
	// Value is the expression's value at LastActive; MaxValue the largest
	// seen over the instance.
	Value, MaxValue float64

	// Events counts the events that contributed to the series while the
	// instance was active, each counted once: those in the windows of
	// its active steps, (ActiveAt-range-offset, LastActive-offset].
	// AuditIDs holds the first MaxSampleIDs of their auditIDs in time
	// order (ties by auditID), EventTimes their times; the rest are
	// counted, not kept.
	Events int
	// Failed counts those of the Events whose request failed (response
	// status code 400 or more: refused, not found, invalid, a server
	// error): a rule that counts attempts (an RBAC change, a delete) fires
	// on refused ones too, and Failed == Events says none succeeded. A
	// rule that counts requests (audittui_count: requests) counts one
	// failed when a stage of it said so before it was counted (its
	// RequestReceived has no status).
	Failed     int
	AuditIDs   []string
	EventTimes []time.Time
	// LastEvent is the time of the latest of those events (zero when
	// none is counted, as for alerts a Loki ruler reports).
	LastEvent time.Time

	// shownFrom: ActiveAt and FiredAt are reported no earlier (see
	// Options.From and evalStep), zero for none.
	shownFrom time.Time
	key       string // rule index + series key + "@" + ActiveAt
	seriesLs  map[string]string
	// renderedValue is the Value that Labels and Annotations were
	// rendered with; ext the external labels the templates see (see
	// render).
	renderedValue float64
	ext           map[string]string
	// citedTo: the events up to this time are counted in Events.
	citedTo int64
	// Seq orders instances deterministically (creation order).
	Seq int
}

// Key identifies the instance: its rule, label set and first activity
// (unique among the instances of one evaluation).
func (a *Alert) Key() string { return a.key }

// SortAlerts orders alerts by first activity, then rule, then labels.
func SortAlerts(as []*Alert) {
	// Label sets are rendered once each (when a tie needs them), not once
	// per comparison.
	type item struct {
		a      *Alert
		labels string
		done   bool
	}
	items := make([]item, len(as))
	for i, a := range as {
		items[i].a = a
	}
	labels := func(it *item) string {
		if !it.done {
			it.labels, it.done = labelsString(it.a.Labels), true
		}
		return it.labels
	}
	sort.SliceStable(items, func(i, j int) bool {
		a, b := items[i].a, items[j].a
		if !a.ActiveAt.Equal(b.ActiveAt) {
			return a.ActiveAt.Before(b.ActiveAt)
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return labels(&items[i]) < labels(&items[j])
	})
	for i := range items {
		as[i] = items[i].a
	}
}

// labelsString renders labels as {a="x", b="y"} with sorted names; it is
// also the canonical key of a label set.
func labelsString(ls map[string]string) string {
	keys := make([]string, 0, len(ls))
	for k := range ls {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k)
		b.WriteString(`="`)
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(ls[k], `\`, `\\`), `"`, `\"`))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

// LabelsString renders a label set as {a="x", b="y"}, names sorted.
func LabelsString(ls map[string]string) string { return labelsString(ls) }

// MissingGroupLabels returns the grouping labels of r's by clause that ls
// has no value for (Prometheus drops an empty label: the user of
// unauthenticated requests under `by (user_username)`), in clause order.
// A drill-down filters each empty (name=""), or it would select every
// value's events.
func MissingGroupLabels(r *Rule, ls map[string]string) []string {
	names, without, ok := GroupingLabels(r)
	if !ok || without {
		return nil
	}
	var out []string
	for _, n := range names {
		_, has := ls[n]
		_, fromRule := r.Labels[n]
		if !has && !fromRule && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// DrillDown returns a LogQL log query that selects the events behind the
// instance, and the window to run it over (from inclusive, to exclusive, as
// `audittui query` and the TUI's filter take them): the rule's log query
// (a ratio's numerator's: logql.MetricQuery.DrillQuery) narrowed to the
// instance's expression labels, from one range before the
// instance became active until just after its last active step (both
// moved back by the query's offset, if any).
func (a *Alert) DrillDown() (query string, from, to time.Time) {
	// A ratio (a binary operation between vectors) drills into its
	// numerator's events: those that made it fire.
	lq, back, off := a.Rule.query.DrillQuery()
	var b strings.Builder
	b.WriteString(lq.DrillString())
	keys := make([]string, 0, len(a.Labels))
	for k := range a.Labels {
		if _, fromRule := a.Rule.Labels[k]; !fromRule {
			keys = append(keys, k)
		}
	}
	keys = append(keys, MissingGroupLabels(a.Rule, a.Labels)...)
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString(" | ")
		b.WriteString(k)
		b.WriteString("=")
		b.WriteString(strconv.Quote(a.Labels[k]))
	}
	// Windows are (t-range-offset, t-offset]: the first event that can
	// count is just after ActiveAt-range-offset.
	return b.String(), a.ActiveAt.Add(-back + time.Nanosecond), a.LastActive.Add(-off + time.Nanosecond)
}

// FailedNote says how many of an alert's events failed (Alert.Failed):
// "" for none, "all failed", or "1 failed", for every place that shows
// the count beside the events' (an RBAC change whose every request was
// refused is an attempt, not a change).
func FailedNote(events, failed int) string {
	switch {
	case failed <= 0:
		return ""
	case failed >= events:
		return "all failed"
	}
	return strconv.Itoa(failed) + " failed"
}

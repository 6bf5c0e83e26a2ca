package rules

import (
	"regexp"
	"sort"
	"strings"
	"time"
)

// Grouping of alert instances for a pane, as Alertmanager groups alerts:
// by rule, then by the labels of the rule's `by (...)` clause. Pure
// functions of the instances given; the caller decides what to show.

// RuleGroup is every instance of one rule.
type RuleGroup struct {
	Rule     *Rule
	Name     string
	Severity string // the highest of its instances
	// By names the grouping labels (the outermost aggregation's by
	// clause; see GroupingLabels); with Without, the names its without
	// clause leaves out.
	By      []string
	Without bool
	Groups  []*AlertGroup // ordered as GroupAlerts says

	// Instances, Firing and Events are summed over the groups; Last is
	// the latest activity; Spark counts, per bucket, the instances
	// active in it.
	Instances, Firing, Events int
	// Failed: of the Events, those whose request failed (Alert.Failed).
	Failed int
	Last   time.Time
	// LastEvent is the latest event counted (zero: none, e.g. a Loki
	// ruler's alerts).
	LastEvent time.Time
	Spark     []int
}

// AlertGroup is the instances of one rule with the same grouping labels.
type AlertGroup struct {
	// Key identifies the group across refreshes (rule, grouping labels):
	// a silence names it.
	Key      string
	Rule     *Rule
	Name     string
	Severity string
	// Labels are the grouping labels' values.
	Labels map[string]string
	// Alerts: firing first, then the most recently active.
	Alerts []*Alert

	Instances, Firing, Resolved, Events int
	// Failed: of the Events, those whose request failed (Alert.Failed).
	Failed int
	// First is the earliest ActiveAt, Last the latest LastActive,
	// LastEvent the latest event counted (zero: none).
	First, Last, LastEvent time.Time
	// Spark counts, per bucket of GroupOptions' axis, the instances
	// active at some time in the bucket.
	Spark []int
}

// GroupOptions shape GroupAlerts' sparklines.
type GroupOptions struct {
	// Buckets is the number of sparkline buckets (0: no sparklines).
	Buckets int
	// From and To bound the sparklines' time axis; zero values take the
	// span of the alerts given (first ActiveAt to last activity), so
	// every sparkline shares one axis.
	From, To time.Time
}

// GroupAlerts groups instances by rule, then by the rule's grouping
// labels. Rules come firing first (a rule or group is firing when one of
// its instances is), then by severity (critical first), then by recency
// (latest activity first), then by name; the groups of a rule the same
// way, then by labels.
func GroupAlerts(as []*Alert, opts GroupOptions) []*RuleGroup {
	from, to := opts.From, opts.To
	if from.IsZero() || to.IsZero() {
		for _, a := range as {
			if from.IsZero() || a.ActiveAt.Before(from) {
				from = a.ActiveAt
			}
			if e := activeUntil(a); to.IsZero() || e.After(to) {
				to = e
			}
		}
	}
	rules := map[*Rule]*RuleGroup{}
	grouped := map[*Rule]grouping{}
	groups := map[string]*AlertGroup{}
	var out []*RuleGroup
	for _, a := range as {
		rg := rules[a.Rule]
		if rg == nil {
			names, without, ok := GroupingLabels(a.Rule)
			grouped[a.Rule] = grouping{names, without, ok}
			rg = &RuleGroup{Rule: a.Rule, Name: a.Name, By: names, Without: without}
			rules[a.Rule] = rg
			out = append(out, rg)
		}
		gl := grouped[a.Rule].labels(a)
		key := a.Rule.Where() + " " + a.Name + " " + labelsString(gl)
		g := groups[key]
		if g == nil {
			g = &AlertGroup{Key: key, Rule: a.Rule, Name: a.Name, Labels: gl}
			if opts.Buckets > 0 {
				g.Spark = make([]int, opts.Buckets)
			}
			groups[key] = g
			rg.Groups = append(rg.Groups, g)
		}
		g.Alerts = append(g.Alerts, a)
		g.Instances++
		g.Events += a.Events
		g.Failed += a.Failed
		switch a.State {
		case StateFiring:
			g.Firing++
		case StateResolved:
			g.Resolved++
		}
		if SeverityRank(a.Severity) > SeverityRank(g.Severity) {
			g.Severity = a.Severity
		}
		if g.First.IsZero() || a.ActiveAt.Before(g.First) {
			g.First = a.ActiveAt
		}
		if a.LastActive.After(g.Last) {
			g.Last = a.LastActive
		}
		if a.LastEvent.After(g.LastEvent) {
			g.LastEvent = a.LastEvent
		}
		spark(g.Spark, a, from, to)
	}
	for _, rg := range out {
		if opts.Buckets > 0 {
			rg.Spark = make([]int, opts.Buckets)
		}
		for _, g := range rg.Groups {
			sort.SliceStable(g.Alerts, func(i, j int) bool {
				a, b := g.Alerts[i], g.Alerts[j]
				if (a.State == StateFiring) != (b.State == StateFiring) {
					return a.State == StateFiring
				}
				if !a.LastActive.Equal(b.LastActive) {
					return a.LastActive.After(b.LastActive)
				}
				return a.ActiveAt.After(b.ActiveAt)
			})
			rg.Instances += g.Instances
			rg.Firing += g.Firing
			rg.Events += g.Events
			rg.Failed += g.Failed
			if g.Last.After(rg.Last) {
				rg.Last = g.Last
			}
			if g.LastEvent.After(rg.LastEvent) {
				rg.LastEvent = g.LastEvent
			}
			if SeverityRank(g.Severity) > SeverityRank(rg.Severity) {
				rg.Severity = g.Severity
			}
			for i, n := range g.Spark {
				rg.Spark[i] += n
			}
		}
		sort.SliceStable(rg.Groups, func(i, j int) bool {
			a, b := rg.Groups[i], rg.Groups[j]
			if c := compareGroups(a.Firing > 0, b.Firing > 0, a.Severity, b.Severity, a.Last, b.Last); c != 0 {
				return c < 0
			}
			return a.Key < b.Key // the same rule: by labels
		})
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if c := compareGroups(a.Firing > 0, b.Firing > 0, a.Severity, b.Severity, a.Last, b.Last); c != 0 {
			return c < 0
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Rule.Where() < b.Rule.Where()
	})
	return out
}

// compareGroups orders firing first, then higher severity, then more
// recent activity.
func compareGroups(aFiring, bFiring bool, aSev, bSev string, aLast, bLast time.Time) int {
	if aFiring != bFiring {
		if aFiring {
			return -1
		}
		return 1
	}
	if ra, rb := SeverityRank(aSev), SeverityRank(bSev); ra != rb {
		return rb - ra
	}
	return bLast.Compare(aLast)
}

// activeUntil is the end of an instance's activity: its resolution, or
// its last active step while still firing.
func activeUntil(a *Alert) time.Time {
	if !a.ResolvedAt.IsZero() {
		return a.ResolvedAt
	}
	return a.LastActive
}

// spark counts instance a in every bucket of [from, to] its activity
// [ActiveAt, activeUntil] overlaps.
func spark(s []int, a *Alert, from, to time.Time) {
	n := len(s)
	if n == 0 {
		return
	}
	span := to.Sub(from)
	bucket := func(t time.Time) int {
		if span <= 0 {
			return 0
		}
		i := int(float64(t.Sub(from)) / float64(span) * float64(n))
		return min(max(i, 0), n-1)
	}
	if activeUntil(a).Before(from) || a.ActiveAt.After(to) {
		return
	}
	for i := bucket(a.ActiveAt); i <= bucket(activeUntil(a)); i++ {
		s[i]++
	}
}

// grouping is a rule's GroupingLabels.
type grouping struct {
	names       []string
	without, ok bool
}

// groupLabels returns the values of a's grouping labels (see
// grouping.labels).
func groupLabels(a *Alert) map[string]string {
	names, without, ok := GroupingLabels(a.Rule)
	return grouping{names, without, ok}.labels(a)
}

// labels returns the values of a's grouping labels: those of the rule's
// by clause; with `without (...)`, or with no aggregation at all, the
// expression's labels (without the rule's own labels) minus the ones
// listed.
func (gr grouping) labels(a *Alert) map[string]string {
	names, without, ok := gr.names, gr.without, gr.ok
	out := map[string]string{}
	if ok && !without {
		for _, n := range names {
			if v, has := a.Labels[n]; has {
				out[n] = v
			}
		}
		return out
	}
	for k, v := range a.Labels {
		if _, fromRule := a.Rule.Labels[k]; fromRule {
			continue
		}
		if without && containsString(names, k) {
			continue
		}
		out[k] = v
	}
	return out
}

func containsString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

var (
	// A scalar and operator in front of the vector: "5 < sum by ...".
	leadScalarRE = regexp.MustCompile(`^[-+]?(?:[0-9][0-9.eE+-]*|Inf|NaN) (?:==|!=|>=|<=|>|<|\+|-|\*|/|%|\^)(?: bool)? `)
	// An aggregation with its grouping: "sum by (a, b) (".
	aggRE = regexp.MustCompile(`^(sum|count|min|max|avg|topk|bottomk) (?:(by|without) \(([^)]*)\) )?\(`)
	// topk's parameter: "3, ".
	topkParamRE = regexp.MustCompile(`^[0-9]+, `)
)

// GroupingLabels returns the label names of the outermost aggregation's
// grouping in the rule's expression (`by (...)`, or the names excluded by
// `without (...)`; topk and bottomk pass to the aggregation inside).
// ok is false when the expression has no aggregation; names is empty
// for an aggregation over everything (`sum(...)`: one group).
func GroupingLabels(r *Rule) (names []string, without, ok bool) {
	if r == nil || r.query == nil {
		return nil, false, false
	}
	s := r.query.String() // canonical: "sum by (a, b) (...) > 0"
	if strings.HasPrefix(s, "(") && !strings.Contains(s, " on (") && !strings.Contains(s, " ignoring (") && !strings.Contains(s, ") or (") {
		// A binary operation between vectors, "(sum by (a) (...)) /
		// (sum by (a) (...)) > 0.5", matched on every label: its series
		// have the left side's labels.
		s = strings.TrimLeft(s, "(")
	}
	for {
		loc := leadScalarRE.FindStringIndex(s)
		if loc == nil {
			break
		}
		s = s[loc[1]:]
	}
	for {
		m := aggRE.FindStringSubmatch(s)
		if m == nil {
			return nil, false, false
		}
		if m[2] == "" && (m[1] == "topk" || m[1] == "bottomk") {
			s = topkParamRE.ReplaceAllString(s[len(m[0]):], "")
			continue
		}
		if m[2] == "" {
			return nil, false, true
		}
		for _, n := range strings.Split(m[3], ",") {
			if n = strings.TrimSpace(n); n != "" {
				names = append(names, n)
			}
		}
		return names, m[2] == "without", true
	}
}

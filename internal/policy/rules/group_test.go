package rules

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestGroupingLabels(t *testing.T) {
	for _, c := range []struct {
		expr    string
		names   string
		without bool
		ok      bool
	}{
		{`sum(count_over_time({job="audit"} | json [5m])) by (user_username, verb) > 0`, "user_username,verb", false, true},
		{`sum by (user_username) (rate({job="audit"} | json [5m])) > 0`, "user_username", false, true},
		{`5 < count by (user_username) (sum by (user_username, objectRef_resource) (count_over_time({job="audit"} | json [5m])))`, "user_username", false, true},
		{`topk(3, sum by (objectRef_namespace) (count_over_time({job="audit"} | json [5m])))`, "objectRef_namespace", false, true},
		{`sum without (verb) (count_over_time({job="audit"} | json [5m])) > bool 2`, "verb", true, true},
		{`sum(count_over_time({job="audit"} | json [5m])) > 100`, "", false, true},
		{`count_over_time({job="audit"} | json [5m]) > 0`, "", false, false},
	} {
		set := parseSet(t, "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: '"+strings.ReplaceAll(c.expr, "'", "''")+"'\n")
		names, without, ok := GroupingLabels(set.Rules()[0])
		if strings.Join(names, ",") != c.names || without != c.without || ok != c.ok {
			t.Errorf("%s: got %v %v %v", c.expr, names, without, ok)
		}
	}
}

// TestGroupAlertsOrder: firing first, then severity, then recency; per
// group counts and a sparkline of active instances.
func TestGroupAlertsOrder(t *testing.T) {
	set := parseSet(t, `groups:
  - name: g
    rules:
      - alert: Crit
        expr: sum by (user_username) (count_over_time({job="audit"} | json [5m])) > 0
        labels: {severity: critical}
      - alert: Warn
        expr: sum by (user_username, verb) (count_over_time({job="audit"} | json [5m])) > 0
        labels: {severity: warning}
      - alert: Info
        expr: sum by (user_username) (count_over_time({job="audit"} | json [5m])) > 0
        labels: {severity: info}
`)
	rs := set.Rules()
	at := func(min int) time.Time { return t10.Add(time.Duration(min) * time.Minute) }
	mk := func(r *Rule, user, verb string, from, to int, firing bool, events int) *Alert {
		ls := map[string]string{"user_username": user, "severity": r.Labels["severity"]}
		if verb != "" {
			ls["verb"] = verb
		}
		a := &Alert{Rule: r, Name: r.Alert, Labels: ls, Severity: r.Labels["severity"], State: StateResolved,
			ActiveAt: at(from), FiredAt: at(from), LastActive: at(to), ResolvedAt: at(to + 1), Events: events}
		if firing {
			a.State, a.ResolvedAt = StateFiring, time.Time{}
		}
		return a
	}
	as := []*Alert{
		mk(rs[0], "bob", "", 0, 4, false, 1),       // critical, long ago
		mk(rs[1], "eve", "get", 10, 14, false, 2),  // warning, recent
		mk(rs[1], "eve", "list", 50, 54, false, 3), // same rule, other verb: its own group
		mk(rs[1], "ann", "get", 20, 24, false, 1),  // warning, older group
		mk(rs[2], "bob", "", 30, 34, false, 1),     // info, resolved
		mk(rs[2], "bob", "", 40, 59, true, 5),      // info, firing: first
		mk(rs[2], "carl", "", 5, 9, false, 1),      // info, resolved
		mk(rs[0], "bob", "", 20, 22, false, 2),     // critical again: same group as the first
	}
	got := GroupAlerts(as, GroupOptions{Buckets: 6})
	var order []string
	for _, rg := range got {
		var gs []string
		for _, g := range rg.Groups {
			gs = append(gs, fmt.Sprintf("%s:%d/%d/%d", LabelsString(g.Labels), g.Instances, g.Firing, g.Events))
		}
		order = append(order, rg.Name+"["+strings.Join(gs, " ")+"]")
	}
	want := []string{
		`Info[{user_username="bob"}:2/1/6 {user_username="carl"}:1/0/1]`,
		`Crit[{user_username="bob"}:2/0/3]`,
		`Warn[{user_username="eve", verb="list"}:1/0/3 {user_username="ann", verb="get"}:1/0/1 {user_username="eve", verb="get"}:1/0/2]`,
	}
	if !slices.Equal(order, want) {
		t.Errorf("order:\n%s\nwant:\n%s", strings.Join(order, "\n"), strings.Join(want, "\n"))
	}
	info := got[0]
	if info.Firing != 1 || info.Instances != 3 || info.Events != 7 || !info.Last.Equal(at(59)) || info.Severity != "info" || strings.Join(info.By, ",") != "user_username" {
		t.Errorf("Info rule group: %+v", info)
	}
	bob := info.Groups[0]
	if bob.Alerts[0].State != StateFiring || !bob.First.Equal(at(30)) || !bob.Last.Equal(at(59)) {
		t.Errorf("bob's group: firing instance not first, or times wrong: %+v", bob)
	}
	// The axis runs from 10:00 (first activity) to 10:59 (last): six
	// buckets of ~10 minutes; bob's info instances are active 10:30-10:35
	// and 10:40-10:59.
	if !slices.Equal(bob.Spark, []int{0, 0, 0, 1, 1, 1}) {
		t.Errorf("bob's sparkline %v", bob.Spark)
	}
	if !slices.Equal(got[1].Spark, []int{1, 0, 1, 0, 0, 0}) {
		t.Errorf("Crit sparkline %v", got[1].Spark)
	}
	// Keys are stable and distinct.
	keys := map[string]bool{}
	for _, rg := range got {
		for _, g := range rg.Groups {
			if keys[g.Key] {
				t.Errorf("duplicate key %s", g.Key)
			}
			keys[g.Key] = true
		}
	}
}

// TestGroupAlertsOnGeneratedTraffic: the instances of 100 minutes of
// traffic fold into far fewer groups; every instance is in exactly one,
// and the grouping does not depend on the order of the instances.
func TestGroupAlertsOnGeneratedTraffic(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	evs, _ := genEvents(t, 100, 3*time.Second, 1)
	as := replayWith(t, set, evs, Options{}).Alerts
	got := GroupAlerts(as, GroupOptions{Buckets: 20})
	n, ngroups := 0, 0
	for i, rg := range got {
		if i > 0 && compareGroups(got[i-1].Firing > 0, rg.Firing > 0, got[i-1].Severity, rg.Severity, got[i-1].Last, rg.Last) > 0 {
			t.Errorf("%s before %s", got[i-1].Name, rg.Name)
		}
		for _, g := range rg.Groups {
			ngroups++
			for _, a := range g.Alerts {
				n++
				if a.Name != rg.Name || labelsString(groupLabels(a)) != labelsString(g.Labels) {
					t.Errorf("%s %v in group %s", a.Name, a.Labels, g.Key)
				}
			}
			sum := 0
			for _, x := range g.Spark {
				sum += x
			}
			if sum < g.Instances {
				t.Errorf("%s: sparkline %v counts fewer than its %d instances", g.Key, g.Spark, g.Instances)
			}
		}
	}
	if n != len(as) || ngroups*2 > len(as) {
		t.Errorf("%d instances in %d groups (of %d)", n, ngroups, len(as))
	}
	t.Logf("%d instances, %d rules, %d groups", len(as), len(got), ngroups)
	mixed := slices.Clone(as)
	rand.New(rand.NewPCG(1, 1)).Shuffle(len(mixed), func(i, j int) { mixed[i], mixed[j] = mixed[j], mixed[i] })
	again := GroupAlerts(mixed, GroupOptions{Buckets: 20})
	digest := func(rgs []*RuleGroup) string {
		var b strings.Builder
		for _, rg := range rgs {
			for _, g := range rg.Groups {
				fmt.Fprintf(&b, "%s %v %d:", g.Key, g.Spark, g.Events)
				for _, a := range g.Alerts {
					b.WriteString(a.Key() + ";")
				}
				b.WriteByte('\n')
			}
		}
		return b.String()
	}
	if digest(got) != digest(again) {
		t.Error("grouping depends on the order of the instances")
	}
}

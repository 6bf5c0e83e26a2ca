package ui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/audittui/audittui/internal/policy/rules"
	"github.com/audittui/audittui/internal/termsafe/termsafetest"
)

// problemRules parses two rules of a team's file: one whose vector
// matching fails (many-to-many), one whose leg selects no stream.
func problemRules(t *testing.T) (failing, blind *rules.Rule) {
	t.Helper()
	set, err := rules.Parse("team.yaml", []byte(`groups:
  - name: team
    rules:
      - alert: ExecRatio
        expr: sum by (user_username, verb) (count_over_time({job="audit"} | json [5m])) / on (user_username) sum by (user_username) (count_over_time({job="audit"} | json [5m]))
        labels: {severity: warning}
      - alert: KubeAuditRatio
        expr: sum(count_over_time({job="audit"}[5m])) / sum(count_over_time({job="kube-audit"}[5m])) > 0
        labels: {severity: info}
`))
	if err != nil {
		t.Fatal(err)
	}
	return set.Rules()[0], set.Rules()[1]
}

// TestAlertsPaneNamesRuleProblems: a rule whose evaluation failed (a
// vector matching error) and one that can never fire (a leg selects no
// stream) were said only in the log and on stderr; the pane showed "no
// alert fired" or the other rules' alerts as if all were well. Each is now
// a warning line under the summary naming the rule, its file:line and why,
// the error's untrusted text escaped; more than three are counted on the
// third line; the list keeps its cursor in view below them.
func TestAlertsPaneNamesRuleProblems(t *testing.T) {
	failing, blind := problemRules(t)
	at := time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC)
	fail := rules.Failure{Rule: failing, Steps: 3, First: at, Last: at.Add(2 * time.Minute),
		Err: "many-to-many matching not allowed: matching labels must be unique on one side (user_username=\"mallory\x1b]0;pwned\a\")"}
	problems := append(FailureProblems([]rules.Failure{fail}),
		RuleProblem{Rule: blind, Why: `can never fire: {job="kube-audit"} selects no stream of the sources: their job is "audit"; --label job=kube-audit gives local files that label`})
	for _, sz := range sizes {
		a, f := newAlertsApp(t, sz.w, sz.h)
		a.alerts.SetState(AlertState{Local: f.alerts, Rules: f.rules, Events: int64(len(f.evs)), Problems: problems})
		s := screen(a)
		checkScreen(t, s, sz.w, sz.h)
		if err := termsafetest.CheckLines(s); err != nil {
			t.Fatalf("%dx%d: %v", sz.w, sz.h, err)
		}
		lines := strings.Split(s, "\n")
		// Cut to the width (the escaped control characters are never cut
		// off: they end the line).
		if !strings.HasPrefix(lines[2], "⚠ rule ExecRatio (team.yaml:4) failed: many-to-many matching") ||
			!strings.HasPrefix(lines[3], `⚠ rule KubeAuditRatio (team.yaml:7) can never fire: {job="kube-audit"} selects`) {
			t.Errorf("%dx%d: no warning lines under the summary:\n%s", sz.w, sz.h, s)
		}
		golden(t, fmt.Sprintf("alerts_problems_%dx%d.txt", sz.w, sz.h), s)
		// The cursor stays in view below them (G: the last item).
		send(t, a, "G")
		s = screen(a)
		checkScreen(t, s, sz.w, sz.h)
		it, _ := a.alerts.selected()
		if sel := a.alerts.items[a.alerts.cursor]; sel.kind != it.kind || !strings.Contains(s, "⚠ rule ExecRatio") {
			t.Errorf("%dx%d: after G:\n%s", sz.w, sz.h, s)
		}
	}

	// Five problems: two named, the third line counts the rest; no alert:
	// the warnings above "no alert fired".
	many := append(append([]RuleProblem(nil), problems...), problems...)
	many = append(many, problems[0])
	a, f := newAlertsApp(t, 120, 40)
	a.alerts.SetState(AlertState{Rules: f.rules, Events: int64(len(f.evs)), Done: true, Problems: many})
	lines := strings.Split(screen(a), "\n")
	if !strings.HasPrefix(lines[2], "⚠ rule ExecRatio") || !strings.HasPrefix(lines[3], "⚠ rule KubeAuditRatio") ||
		strings.TrimRight(lines[4], " ") != "⚠ 3 more rules failed or can never fire (audittui alerts names them)" || !strings.HasPrefix(lines[5], "no alert fired") {
		t.Errorf("five problems, no alert:\n%s", strings.Join(lines, "\n"))
	}
	// A hostile error at full width is shown escaped, never interpreted.
	a.Update(tea.WindowSizeMsg{Width: 260, Height: 24})
	a.alerts.SetState(AlertState{Rules: f.rules, Events: int64(len(f.evs)), Done: true, Problems: problems})
	s := screen(a)
	if err := termsafetest.CheckLines(s); err != nil || !strings.Contains(s, `user_username="mallory\x1b]0;pwned\x07"`) {
		t.Errorf("hostile error (%v):\n%s", err, s)
	}
}

// TestAlertsGroupWithoutItsLabel (review M 11): a group with no value for
// its grouping label (unauthenticated requests under `by (user_username)`:
// Prometheus drops an empty label) was named "(all)", which reads as every
// user. It is "(unauthenticated)" for user_username, as in every pane,
// `name=""` for another label; "(all)" stays for a rule without grouping
// labels (one group for everything).
func TestAlertsGroupWithoutItsLabel(t *testing.T) {
	set, err := rules.Parse("team.yaml", []byte(`groups:
  - name: team
    rules:
      - alert: ByUser
        expr: sum by (user_username) (count_over_time({job="audit"} | json | responseStatus_code=401 [5m])) > 0
        labels: {severity: warning}
      - alert: ByUserAndNs
        expr: sum by (user_username, objectRef_namespace) (count_over_time({job="audit"} | json [5m])) > 0
        labels: {severity: warning}
      - alert: Everything
        expr: sum(count_over_time({job="audit"} | json [5m])) > 0
        labels: {severity: warning}
`))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC)
	mk := func(r *rules.Rule, ls map[string]string) *rules.Alert {
		ls["severity"] = "warning"
		return &rules.Alert{Rule: r, Name: r.Alert, State: rules.StateFiring, Severity: "warning", ActiveAt: at, LastActive: at, FiredAt: at,
			Labels: ls, Value: 29, Events: 29}
	}
	rs := set.Rules()
	as := []*rules.Alert{
		mk(rs[0], map[string]string{}),
		mk(rs[1], map[string]string{"user_username": "alice"}),
		mk(rs[2], map[string]string{}),
	}
	a, f := newAlertsApp(t, 120, 40)
	a.alerts.SetState(AlertState{Local: as, Rules: f.rules, Events: 29, Done: true})
	s := screen(a)
	checkScreen(t, s, 120, 40)
	want := map[string]string{"ByUser": "● firing   (unauthenticated) ", "ByUserAndNs": `● firing   alice · objectRef_namespace="" `, "Everything": "● firing   (all) "}
	lines := strings.Split(s, "\n")
	for k, l := range lines {
		for name, w := range want {
			if strings.Contains(l, " "+name+" ") && k+1 < len(lines) {
				if !strings.HasPrefix(strings.TrimSpace(lines[k+1]), w) {
					t.Errorf("%s's group: %q, want %q", name, strings.TrimSpace(lines[k+1]), w)
				}
				delete(want, name)
			}
		}
	}
	if len(want) > 0 {
		t.Errorf("rules not listed %v:\n%s", want, s)
	}
	// f on such a group filters the label empty, not every value.
	drills := map[string]string{
		"ByUser":      `{job="audit"} | json | responseStatus_code==401 | user_username=""`,
		"ByUserAndNs": `{job="audit"} | json | objectRef_namespace="" | user_username="alice"`,
		"Everything":  `{job="audit"} | json`,
	}
	a.alerts.build()
	for _, it := range a.alerts.items {
		if it.kind != itemGroup {
			continue
		}
		d, ok := groupDrill(it.group)
		if !ok || d.Query != drills[it.group.Name] {
			t.Errorf("%s: drill %q, want %q", it.group.Name, d.Query, drills[it.group.Name])
		}
		delete(drills, it.group.Name)
	}
	if len(drills) > 0 {
		t.Errorf("groups not listed: %v", drills)
	}
}

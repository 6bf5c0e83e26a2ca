package ui

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/audittui/audittui/internal/policy/rules"
)

// TestAlertsAbsentRule: an absent_over_time rule's instances cite no
// event; the Alerts pane lists, expands and drills them like any other.
func TestAlertsAbsentRule(t *testing.T) {
	base := time.Date(2026, 11, 20, 3, 0, 30, 0, time.UTC)
	var lines []string
	for m := 0; m <= 40; m++ {
		users := []string{"alice"}
		if m <= 5 || m >= 30 {
			users = append(users, "bob")
		}
		for _, u := range users {
			lines = append(lines, fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"%s-%d","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/web/pods","verb":"list","user":{"username":%q},"objectRef":{"resource":"pods","namespace":"web","apiVersion":"v1"},"responseStatus":{"code":200},"stageTimestamp":%q}`,
				u, m, u, base.Add(time.Duration(m)*time.Minute).Format(time.RFC3339Nano)))
		}
	}
	path := writeLines(t, "absent.log", lines)
	set, err := rules.Parse("team.yaml", []byte(`groups:
  - name: team
    interval: 1m
    rules:
      - alert: BobQuiet
        expr: absent_over_time({job="audit"} | json | user_username="bob" [10m])
        for: 2m
        annotations:
          summary: "bob sent nothing for 10m"
`))
	if err != nil {
		t.Fatal(err)
	}
	evs := decodeLines(t, path)
	ev, err := rules.NewEvaluator(set, rules.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range evs {
		ev.Push(&evs[i])
	}
	alerts := ev.Finish()
	// Bob's windows are empty at the steps 03:16 to 03:30 (03:15's holds
	// 03:05:30; 03:31's holds 03:30:30): firing from 03:18.
	if len(alerts) != 1 || alerts[0].Events != 0 || !alerts[0].FiredAt.Equal(base.Add(17*time.Minute+30*time.Second)) {
		t.Fatalf("want one BobQuiet instance without events, firing at 03:18:\n%v", alerts)
	}
	ast := AlertState{Local: alerts, Rules: 1, Events: int64(len(evs))}
	a := New(context.Background(), loadIndex(t, path), nil, Options{Title: "absent.log", NoColor: true, Compile: CompileLogQL,
		Alerts: staticAlerts{ast}})
	a.alerts.now = func() time.Time { return base.Add(time.Hour) }
	a.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	a.alerts.SetState(ast)
	send(t, a, "3")
	s := screen(a)
	checkScreen(t, s, 120, 40)
	if !strings.Contains(s, "BobQuiet") || !strings.Contains(s, "bob sent nothing for 10m") {
		t.Fatalf("the rule is not listed:\n%s", s)
	}
	// Expand the rule, its group, its instance: no event rows, no panic.
	send(t, a, "g", "enter", "down", "enter", "down", "enter", "down", "enter")
	s = screen(a)
	checkScreen(t, s, 120, 40)
	if !strings.Contains(s, "0 events") {
		t.Errorf("the instance does not say it has no events:\n%s", s)
	}
	d, ok := a.alerts.SelectedDrill()
	if !ok || !strings.Contains(d.Query, `{job="audit"} | json | user_username="bob"`) {
		t.Errorf("drill = %+v, %v", d, ok)
	}
}

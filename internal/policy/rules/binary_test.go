package rules

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

const ratioRules = `groups:
  - name: g
    interval: 1m
    rules:
      - alert: HighErrorRatio
        expr: sum by (user_username) (count_over_time({job="audit"} | json | responseStatus_code >= 400 [5m])) / sum by (user_username) (count_over_time({job="audit"} | json [5m])) > 0.5
        annotations:
          summary: "{{ $labels.user_username }}: {{ $value }} of requests failed"
`

func statusLine(id, user string, code int, at time.Time) string {
	return fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":%q,"stage":"ResponseComplete","requestURI":"/api/v1/namespaces/web/secrets","verb":"get","user":{"username":%q},"objectRef":{"resource":"secrets","namespace":"web","apiVersion":"v1"},"responseStatus":{"code":%d},"stageTimestamp":%q}`,
		id, user, code, at.Format(time.RFC3339Nano))
}

// TestRatioRule: a rule dividing two vectors (errors over all requests,
// by user). bob: three 403s and a 200 from 10:00:10 to 10:00:40, 0.75 at
// the steps 10:01 to 10:05 whose (s-5m, s] windows hold them; alice: one
// 403 of four, 0.25, never above 0.5. The instance cites the events of
// both sides; its drill-down selects the numerator's.
func TestRatioRule(t *testing.T) {
	set := parseSet(t, ratioRules)
	var lines []string
	for i, code := range []int{403, 403, 403, 200} {
		lines = append(lines, statusLine(fmt.Sprintf("b-%d", i), "bob", code, t10.Add(time.Duration(10*(i+1))*time.Second)))
		alice := 200
		if i == 0 {
			alice = 403
		}
		lines = append(lines, statusLine(fmt.Sprintf("a-%d", i), "alice", alice, t10.Add(time.Duration(10*(i+1))*time.Second+time.Second)))
	}
	evs := decodeInOrder(t, "ratio", []byte(strings.Join(lines, "\n")))
	check := func(what string, as []*Alert) {
		t.Helper()
		if len(as) != 1 {
			t.Fatalf("%s: want one instance:\n%s", what, alertsDigest(as))
		}
		a := as[0]
		if a.Labels["user_username"] != "bob" || a.Value != 0.75 || !a.ActiveAt.Equal(t10.Add(time.Minute)) ||
			!a.LastActive.Equal(t10.Add(5*time.Minute)) || !a.ResolvedAt.Equal(t10.Add(6*time.Minute)) ||
			a.Events != 4 || a.Annotations["summary"] != "bob: 0.75 of requests failed" {
			t.Errorf("%s: %s %v", what, alertsDigest(as), a.Annotations)
		}
		// The drill-down selects the events that made it fire: the
		// numerator's (the failures), not every request of bob's.
		if q, _, _ := a.DrillDown(); q != `{job="audit"} | json | responseStatus_code>=400 | user_username="bob"` {
			t.Errorf("%s: drill-down %s", what, q)
		}
		ids := slices.Clone(a.AuditIDs)
		slices.Sort(ids)
		if strings.Join(ids, ",") != "b-0,b-1,b-2,b-3" {
			t.Errorf("%s: cites %v", what, a.AuditIDs)
		}
	}
	check("in order", replayWith(t, set, evs, Options{}).Alerts)
	rev := slices.Clone(evs)
	slices.Reverse(rev)
	check("reversed", replayWith(t, set, rev, Options{}).Alerts)
	e, err := NewEvaluator(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range evs {
		e.Push(&evs[i])
	}
	check("live", e.Finish())
}

// TestUnwrapRule: a rule over unwrapped values (the highest status code
// of each user's requests in 5 minutes): bob's 503 at 10:00:10 is in the
// windows of the steps 10:01 to 10:05; alice's 404 is below 500.
func TestUnwrapRule(t *testing.T) {
	set := parseSet(t, `groups:
  - name: g
    interval: 1m
    rules:
      - alert: ServerErrors
        expr: max_over_time({job="audit"} | json | unwrap responseStatus_code | __error__="" [5m]) by (user_username) >= 500
`)
	lines := []string{
		statusLine("b-0", "bob", 503, t10.Add(10*time.Second)),
		statusLine("b-1", "bob", 200, t10.Add(20*time.Second)),
		statusLine("a-0", "alice", 404, t10.Add(30*time.Second)),
	}
	evs := decodeInOrder(t, "unwrap", []byte(strings.Join(lines, "\n")))
	as := replayWith(t, set, evs, Options{}).Alerts
	if len(as) != 1 || as[0].Labels["user_username"] != "bob" || as[0].Value != 503 || !as[0].ActiveAt.Equal(t10.Add(time.Minute)) ||
		!as[0].ResolvedAt.Equal(t10.Add(6*time.Minute)) || as[0].Events != 2 {
		t.Errorf("%s", alertsDigest(as))
	}
}

// TestRuleMatchErrorFails: a ratio written without group_left (alice's
// two verbs on the left, one series on the right of `on ()`) fails at
// every step where both sides have a value, as Loki's ruler fails it: the
// rule raises nothing there and Failures names it, with the error; a
// lone series (bob's one verb, at 10:10) is no excuse to fire.
func TestRuleMatchErrorFails(t *testing.T) {
	set := parseSet(t, `groups:
  - name: g
    interval: 1m
    rules:
      - alert: ManyToOne
        expr: sum by (user_username, verb) (count_over_time({job="audit"} | json [5m])) / on () sum(count_over_time({job="audit"} | json [5m])) > 0
`)
	line := func(id, user, verb string, at time.Time) string {
		return strings.Replace(statusLine(id, user, 200, at), `"verb":"get"`, `"verb":"`+verb+`"`, 1)
	}
	lines := []string{
		line("a-0", "alice", "get", t10.Add(10*time.Second)),
		line("a-1", "alice", "list", t10.Add(20*time.Second)),
		line("b-0", "bob", "get", t10.Add(10*time.Minute)),
	}
	evs := decodeInOrder(t, "m2o", []byte(strings.Join(lines, "\n")))
	res := replayWith(t, set, evs, Options{})
	if len(res.Failures) != 1 || res.Failures[0].Rule.Alert != "ManyToOne" || res.Failures[0].Steps != 5 ||
		!res.Failures[0].First.Equal(t10.Add(time.Minute)) || !strings.Contains(res.Failures[0].Err, "found duplicate series for the match group") {
		t.Errorf("failures %+v", res.Failures)
	}
	// bob's steps (10:10 to 10:14) have one series: they answer (on ()
	// keeps no label).
	if len(res.Alerts) != 1 || strings.Join(res.Alerts[0].AuditIDs, ",") != "b-0" || !res.Alerts[0].ActiveAt.Equal(t10.Add(10*time.Minute)) {
		t.Errorf("alerts:\n%s", alertsDigest(res.Alerts))
	}
}

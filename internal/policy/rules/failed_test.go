package rules

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/testutil"
)

// rbacDelete is a delete of rolebinding name by user at t, answered code.
func rbacDelete(id, user, name string, code int, at time.Time) string {
	return fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":%q,"stage":"ResponseComplete","requestURI":"/apis/rbac.authorization.k8s.io/v1/namespaces/prod/rolebindings/%s","verb":"delete","user":{"username":%q},"objectRef":{"resource":"rolebindings","namespace":"prod","name":%q,"apiGroup":"rbac.authorization.k8s.io","apiVersion":"v1"},"responseStatus":{"code":%d},"stageTimestamp":%q}`,
		id, name, user, name, code, at.Format(time.RFC3339Nano))
}

// TestAlertCountsFailedRequests: the seed's RBACModification counts
// attempts (it has no status filter, as the user's Loki rule is written):
// an alert says how many of its events failed, so that one whose every
// delete was refused or found nothing is not read as a change. Whatever
// the order of the events, and live as in replay.
func TestAlertCountsFailedRequests(t *testing.T) {
	content, err := os.ReadFile(filepath.Join(testutil.SeedDir(t), "loki-audit-rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	set, err := Parse("loki-audit-rules.yaml", content)
	if err != nil {
		t.Fatal(err)
	}
	lines := []string{
		rbacDelete("m-1", "mallory", "admins", 403, t10.Add(10*time.Second)),
		rbacDelete("m-2", "mallory", "admins", 404, t10.Add(20*time.Second)),
		rbacDelete("m-3", "mallory", "admins", 403, t10.Add(30*time.Second)),
		rbacDelete("a-1", "alice", "admins", 200, t10.Add(15*time.Second)),
		rbacDelete("a-2", "alice", "admins", 404, t10.Add(25*time.Second)),
	}
	evs := decodeInOrder(t, "rbac", []byte(strings.Join(lines, "\n")))
	check := func(what string, as []*Alert) {
		t.Helper()
		got := map[string][2]int{}
		for _, a := range as {
			if a.Name == "RBACModification" {
				v := got[a.Labels["user_username"]]
				got[a.Labels["user_username"]] = [2]int{v[0] + a.Events, v[1] + a.Failed}
			}
		}
		if got["mallory"] != [2]int{3, 3} || got["alice"] != [2]int{2, 1} || len(got) != 2 {
			t.Errorf("%s: events, failed by user %v, want mallory [3 3], alice [2 1]", what, got)
		}
	}
	check("in order", replayWith(t, set, evs, Options{}).Alerts)
	rev := slices.Clone(evs)
	slices.Reverse(rev)
	check("reversed", replayWith(t, set, rev, Options{}).Alerts)
	res := liveAlerts(t, set, evs)
	check("live", res)
	for _, rg := range GroupAlerts(res, GroupOptions{}) {
		if rg.Name == "RBACModification" && (rg.Events != 5 || rg.Failed != 4) {
			t.Errorf("group %s: %d events, %d failed, want 5 and 4", rg.Name, rg.Events, rg.Failed)
		}
	}
}

// TestRequestCountFailedAtALaterStage: a rule that counts requests counts
// one at its earliest stage; RequestReceived has no status, so the
// request is failed when a later stage of it says so.
func TestRequestCountFailedAtALaterStage(t *testing.T) {
	set := parseSet(t, `groups:
  - name: g
    rules:
      - alert: RBACDeleteRequests
        expr: sum by (user_username) (count_over_time({job="audit"} | json | objectRef_resource="rolebindings" | verb="delete" [5m])) > 0
        annotations:
          audittui_count: requests
`)
	stage := func(id, stage string, code int, at time.Time) string {
		l := rbacDelete(id, "mallory", "admins", code, at)
		l = strings.Replace(l, `"stage":"ResponseComplete"`, `"stage":"`+stage+`"`, 1)
		if code == 0 {
			l = strings.Replace(l, `,"responseStatus":{"code":0}`, "", 1)
		}
		return l
	}
	lines := []string{
		stage("m-1", "RequestReceived", 0, t10.Add(10*time.Second)),
		stage("m-1", "ResponseComplete", 403, t10.Add(11*time.Second)),
		stage("m-2", "RequestReceived", 0, t10.Add(20*time.Second)),
		stage("m-2", "ResponseComplete", 200, t10.Add(21*time.Second)),
	}
	evs := decodeInOrder(t, "stages", []byte(strings.Join(lines, "\n")))
	for _, order := range []string{"in order", "reversed"} {
		if order == "reversed" {
			slices.Reverse(evs)
		}
		as := replayWith(t, set, evs, Options{}).Alerts
		if len(as) != 1 || as[0].Events != 2 || as[0].Failed != 1 {
			t.Errorf("%s: %s (want one alert, 2 requests, 1 failed)", order, alertsDigest(as))
			for _, a := range as {
				t.Logf("events %d failed %d", a.Events, a.Failed)
			}
		}
	}
}

package lokitest

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/loki"
)

const execGroup = `name: audit
interval: 1m
rules:
  - alert: PodExec
    expr: sum by (user_username) (count_over_time({job="audit"} | json | objectRef_subresource="exec" [5m])) > 0
    for: %s
    labels:
      severity: critical
    annotations:
      summary: Pod exec
      description: "{{ $labels.user_username }} ran exec ({{ $value }})"
  - record: audit:events:rate5m
    expr: sum(rate({job="audit"}[5m]))
`

func execLine(user string, at time.Time) string {
	return fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a-%s","stage":"ResponseStarted","verb":"create","user":{"username":%q},"objectRef":{"resource":"pods","namespace":"kube-system","name":"p","subresource":"exec"},"responseStatus":{"code":101},"stageTimestamp":%q}`,
		user, user, at.Format(time.RFC3339Nano))
}

func do(t *testing.T, method, u, ctype, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// yamlFixture reads a YAML fixture into the generic shapes shapeErr takes.
func yamlFixture(t *testing.T, name string) any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := yaml.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestRulerEndpointsMatchDocumentedShapes(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 30, 0, time.UTC)
	s := New(Options{Now: func() time.Time { return now }})
	defer s.Close()
	if code, body := do(t, "GET", s.URL+"/loki/api/v1/rules", "", ""); code != 404 || !strings.Contains(body, "no rule groups found") {
		t.Fatalf("no rules: %d %q, want 404 no rule groups found", code, body)
	}
	if code, body := do(t, "POST", s.URL+"/loki/api/v1/rules/audittui", "application/yaml", fmt.Sprintf(execGroup, "0m")); code != 202 {
		t.Fatalf("set group: %d %s", code, body)
	}
	s.Push("", loki.PushRequest{Streams: []loki.PushStream{{Labels: data.Labels{{Name: "job", Value: "audit"}},
		Entries: []loki.PushEntry{{Time: now.Add(-150 * time.Second).UnixNano(), Line: []byte(execLine("alice", now.Add(-150*time.Second)))}}}}})

	code, body := do(t, "GET", s.URL+"/loki/api/v1/rules", "", "")
	if code != 200 {
		t.Fatalf("list rules: %d %s", code, body)
	}
	var got any
	if err := yaml.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	// Documented: namespace -> [groups]; a group has name, interval and
	// rules; an alerting rule alert, expr, for, labels, annotations.
	// (The recording rule has record and expr: check the alert only.)
	g := got.(map[string]any)["audittui"].([]any)[0].(map[string]any)
	g["rules"] = g["rules"].([]any)[:1]
	want := yamlFixture(t, "rules.yaml").(map[string]any)["namespace1"]
	if err := shapeErr("$", want, got.(map[string]any)["audittui"]); err != nil {
		t.Errorf("rules: %v\n%s", err, body)
	}
	alerts := getJSON(t, s, "/prometheus/api/v1/alerts", url.Values{})
	if err := shapeErr("$", fixture(t, "prometheus_alerts.json"), alerts); err != nil {
		t.Errorf("alerts: %v\n%v", err, alerts)
	}
}

func TestRulerEvaluatesItsRules(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 30, 0, time.UTC)
	for _, tc := range []struct {
		forDur, state string
	}{{"0m", "firing"}, {"2m", "pending"}, {"1m", "firing"}} {
		s := New(Options{Now: func() time.Time { return now }})
		if err := s.SetRuleGroup("", "audittui", mustGroup(t, fmt.Sprintf(execGroup, tc.forDur))); err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 11, 20, 11, 58, 10, 0, time.UTC)
		s.Push("", loki.PushRequest{Streams: []loki.PushStream{{Labels: data.Labels{{Name: "job", Value: "audit"}},
			Entries: []loki.PushEntry{{Time: at.UnixNano(), Line: []byte(execLine("alice", at))}}}}})
		c, err := loki.NewClient(loki.Config{Addr: s.URL})
		if err != nil {
			t.Fatal(err)
		}
		as, err := c.RulerAlerts(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		// The steps at 11:59 and 12:00 see the exec of 11:58:10.
		if len(as) != 1 || as[0].Name() != "PodExec" || as[0].State != tc.state ||
			!as[0].ActiveAt.Equal(time.Date(2026, 11, 20, 11, 59, 0, 0, time.UTC)) || as[0].Value != "1e+00" ||
			as[0].Labels["user_username"] != "alice" || as[0].Labels["severity"] != "critical" ||
			as[0].Annotations["description"] != "alice ran exec (1)" {
			t.Errorf("for %s: %+v", tc.forDur, as)
		}
		ns, err := c.RuleGroups(t.Context())
		if err != nil || len(ns) != 1 || ns[0].Name != "audittui" || len(ns[0].Groups[0].Rules) != 2 {
			t.Fatalf("rule groups: %+v %v", ns, err)
		}
		s.Close()
	}
}

func mustGroup(t *testing.T, text string) RuleGroup {
	t.Helper()
	var g RuleGroup
	if err := yaml.Unmarshal([]byte(text), &g); err != nil {
		t.Fatal(err)
	}
	return g
}

func TestRulerAPIErrorsAndManagement(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	for name, body := range map[string]string{
		"bad expression": "name: g\nrules:\n  - alert: A\n    expr: sum(count_over_time({job=\"audit\" [5m]))\n",
		"log query":      "name: g\nrules:\n  - alert: A\n    expr: '{job=\"audit\"}'\n",
		"no name":        "rules:\n  - alert: A\n    expr: sum(count_over_time({job=\"audit\"}[5m]))\n",
		"unknown field":  "name: g\nrulez: []\n",
		"alert+record":   "name: g\nrules:\n  - alert: A\n    record: r\n    expr: sum(count_over_time({job=\"audit\"}[5m]))\n",
	} {
		if code, msg := do(t, "POST", s.URL+"/loki/api/v1/rules/ns", "application/yaml", body); code != 400 || msg == "" {
			t.Errorf("%s: %d %q, want 400 with a message", name, code, msg)
		}
	}
	for _, g := range []string{"a", "b"} {
		if code, _ := do(t, "POST", s.URL+"/loki/api/v1/rules/ns", "application/yaml", fmt.Sprintf(strings.Replace(execGroup, "name: audit", "name: "+g, 1), "0m")); code != 202 {
			t.Fatalf("set %s: %d", g, code)
		}
	}
	if code, body := do(t, "GET", s.URL+"/loki/api/v1/rules/ns/b", "", ""); code != 200 || !strings.Contains(body, "name: b") {
		t.Errorf("get group: %d %s", code, body)
	}
	if code, _ := do(t, "DELETE", s.URL+"/loki/api/v1/rules/ns/a", "", ""); code != 202 {
		t.Errorf("delete group: %d", code)
	}
	if code, body := do(t, "GET", s.URL+"/loki/api/v1/rules/ns", "", ""); code != 200 || strings.Contains(body, "name: a\n") {
		t.Errorf("namespace after delete: %d %s", code, body)
	}
	if code, _ := do(t, "DELETE", s.URL+"/loki/api/v1/rules/ns", "", ""); code != 202 {
		t.Errorf("delete namespace: %d", code)
	}
	if code, _ := do(t, "GET", s.URL+"/loki/api/v1/rules/ns/b", "", ""); code != 404 {
		t.Errorf("group after namespace delete: %d", code)
	}
	if alerts := getJSON(t, s, "/prometheus/api/v1/alerts", url.Values{}); fmt.Sprint(alerts) != "map[data:map[alerts:[]] status:success]" {
		t.Errorf("no rules, alerts = %v", alerts)
	}
}

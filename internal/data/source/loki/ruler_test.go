package loki_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/loki"
	"github.com/audittui/audittui/internal/data/source/loki/lokitest"
)

func TestRulerClientAgainstTestServer(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 30, 0, time.UTC)
	s := lokitest.New(lokitest.Options{Now: func() time.Time { return now }, RequireTenant: true})
	defer s.Close()
	c, err := loki.NewClient(loki.Config{Addr: s.URL, TenantID: "team-a"})
	if err != nil {
		t.Fatal(err)
	}
	// No rules: an empty list, not an error (Loki answers 404).
	if ns, err := c.RuleGroups(t.Context()); err != nil || len(ns) != 0 {
		t.Fatalf("no rules: %v %v", ns, err)
	}
	if as, err := c.RulerAlerts(t.Context()); err != nil || len(as) != 0 {
		t.Fatalf("no alerts: %v %v", as, err)
	}
	g := lokitest.RuleGroup{Name: "audit", Interval: "1m", Rules: []lokitest.Rule{{
		Alert: "Forbidden", For: "0m",
		Expr:        `sum by (user_username) (count_over_time({job="audit"} | json | responseStatus_code="403" [5m])) > 1`,
		Labels:      map[string]string{"severity": "warning"},
		Annotations: map[string]string{"summary": "refused"},
	}}}
	if err := s.SetRuleGroup("team-a", "audittui", g); err != nil {
		t.Fatal(err)
	}
	var entries []loki.PushEntry
	for i := range 3 {
		at := now.Add(-3*time.Minute + time.Duration(i)*time.Second)
		entries = append(entries, loki.PushEntry{Time: at.UnixNano(), Line: []byte(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"f` + string(rune('0'+i)) +
			`","stage":"ResponseComplete","verb":"get","user":{"username":"mallory"},"objectRef":{"resource":"secrets"},"responseStatus":{"code":403},"stageTimestamp":"` + at.Format(time.RFC3339Nano) + `"}`)})
	}
	s.Push("team-a", loki.PushRequest{Streams: []loki.PushStream{{Labels: data.Labels{{Name: "job", Value: "audit"}}, Entries: entries}}})
	ns, err := c.RuleGroups(t.Context())
	if err != nil || len(ns) != 1 || ns[0].Name != "audittui" || ns[0].Groups[0].Rules[0].Alert != "Forbidden" {
		t.Fatalf("rule groups: %+v %v", ns, err)
	}
	// RuleFile is a rule file (groups:) with the same rules.
	file, err := ns[0].RuleFile()
	if err != nil {
		t.Fatal(err)
	}
	var back struct{ Groups []loki.RuleGroup }
	if err := yaml.Unmarshal(file, &back); err != nil || len(back.Groups) != 1 || back.Groups[0].Rules[0].Expr != g.Rules[0].Expr {
		t.Fatalf("rule file %s: %v", file, err)
	}
	as, err := c.RulerAlerts(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 1 || as[0].Name() != "Forbidden" || as[0].State != "firing" || as[0].Labels["user_username"] != "mallory" ||
		as[0].Value != "3e+00" || as[0].ActiveAt.IsZero() {
		t.Fatalf("alerts: %+v", as)
	}
	// Another tenant sees none of it.
	other, _ := loki.NewClient(loki.Config{Addr: s.URL, TenantID: "team-b"})
	if ns, err := other.RuleGroups(t.Context()); err != nil || len(ns) != 0 {
		t.Errorf("team-b rule groups: %v %v", ns, err)
	}
}

func TestRulerClientErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		path, status, body, want string
	}{
		"alerts not JSON":   {"/prometheus/api/v1/alerts", "200", "<html>", "not JSON"},
		"alerts error":      {"/prometheus/api/v1/alerts", "200", `{"status":"error","error":"ruler down"}`, "ruler down"},
		"alerts bad time":   {"/prometheus/api/v1/alerts", "200", `{"status":"success","data":{"alerts":[{"labels":{},"activeAt":"yesterday"}]}}`, "activeAt"},
		"alerts no data":    {"/prometheus/api/v1/alerts", "200", `{"status":"success"}`, "data.alerts"},
		"ruler disabled":    {"/loki/api/v1/rules", "404", "404 page not found", "404"},
		"rules not YAML":    {"/loki/api/v1/rules", "200", "[unclosed", "YAML"},
		"alerts ruler down": {"/prometheus/api/v1/alerts", "404", "404 page not found", "404"},
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != tc.path {
					http.NotFound(w, r)
					return
				}
				if tc.status == "404" {
					http.NotFound(w, r)
					return
				}
				w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			c, _ := loki.NewClient(loki.Config{Addr: srv.URL, Retry: loki.Backoff{MaxRetries: 1, Min: time.Millisecond}})
			var err error
			if strings.Contains(tc.path, "alerts") {
				_, err = c.RulerAlerts(t.Context())
			} else {
				_, err = c.RuleGroups(t.Context())
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to say %q", err, tc.want)
			}
		})
	}
}

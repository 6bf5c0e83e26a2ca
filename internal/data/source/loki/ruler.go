package loki

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/valyala/fastjson"
	"go.yaml.in/yaml/v3"
)

// Ruler API paths (Loki's HTTP API, "Ruler").
const (
	// PathRules lists the rule groups of every namespace (YAML).
	PathRules = "/loki/api/v1/rules"
	// PathAlerts lists the ruler's active alerts (Prometheus' format).
	PathAlerts = "/prometheus/api/v1/alerts"
)

// RulerAlert is one active alert of Loki's ruler, as GET
// /prometheus/api/v1/alerts reports it (Prometheus' alerts format).
type RulerAlert struct {
	// Labels include alertname, the rule's labels and the expression's
	// output labels.
	Labels      map[string]string
	Annotations map[string]string
	// State is "pending" or "firing".
	State string
	// ActiveAt is when the expression first returned the series.
	ActiveAt time.Time
	// Value is the expression's value, as the server formats it.
	Value string
}

// Name is the alert's alertname label.
func (a *RulerAlert) Name() string { return a.Labels["alertname"] }

// RulerAlerts asks the ruler for its active alerts.
func (c *Client) RulerAlerts(ctx context.Context) ([]RulerAlert, error) {
	body, err := c.get(ctx, PathAlerts, nil)
	if err != nil {
		return nil, err
	}
	out, err := parseRulerAlerts(body)
	if err != nil {
		return nil, fmt.Errorf("loki: %s: %w", PathAlerts, err)
	}
	return out, nil
}

func parseRulerAlerts(body []byte) ([]RulerAlert, error) {
	var p fastjson.Parser
	v, err := p.ParseBytes(body)
	if err != nil {
		return nil, fmt.Errorf("response is not JSON: %w (%s)", err, truncate(body, 200))
	}
	if st := string(v.GetStringBytes("status")); st != "success" {
		return nil, fmt.Errorf("status %q: %s", st, sanitize(string(v.GetStringBytes("error"))))
	}
	arr := v.Get("data", "alerts")
	if arr == nil {
		return nil, errors.New(`no "data.alerts" in the response`)
	}
	items, err := arr.Array()
	if err != nil && arr.Type() != fastjson.TypeNull {
		return nil, fmt.Errorf(`"data.alerts": %w`, err)
	}
	out := make([]RulerAlert, 0, len(items))
	for i, it := range items {
		a := RulerAlert{State: string(it.GetStringBytes("state")), Value: string(it.GetStringBytes("value"))}
		if a.Labels, err = stringMap(it.Get("labels")); err != nil {
			return nil, fmt.Errorf("alerts[%d].labels: %w", i, err)
		}
		if a.Annotations, err = stringMap(it.Get("annotations")); err != nil {
			return nil, fmt.Errorf("alerts[%d].annotations: %w", i, err)
		}
		if s := string(it.GetStringBytes("activeAt")); s != "" {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return nil, fmt.Errorf("alerts[%d].activeAt: %w", i, err)
			}
			a.ActiveAt = t.UTC()
		}
		if a.Value == "" && it.Get("value") != nil && it.Get("value").Type() == fastjson.TypeNumber {
			a.Value = it.Get("value").String()
		}
		out = append(out, a)
	}
	return out, nil
}

// stringMap reads a JSON object of strings (nil or null: empty).
func stringMap(v *fastjson.Value) (map[string]string, error) {
	m := map[string]string{}
	if v == nil || v.Type() == fastjson.TypeNull {
		return m, nil
	}
	o, err := v.Object()
	if err != nil {
		return nil, err
	}
	var bad error
	o.Visit(func(k []byte, x *fastjson.Value) {
		s, err := x.StringBytes()
		if err != nil && bad == nil {
			bad = fmt.Errorf("%s: %w", k, err)
		}
		m[string(k)] = string(s)
	})
	return m, bad
}

// RuleNamespace is one namespace of the ruler's rules (the stand-in for a
// rule file) with its groups.
type RuleNamespace struct {
	Name   string
	Groups []RuleGroup
}

// RuleGroup is one rule group as the ruler API returns it.
type RuleGroup struct {
	Name     string      `yaml:"name"`
	Interval string      `yaml:"interval,omitempty"`
	Limit    int         `yaml:"limit,omitempty"`
	Rules    []RulerRule `yaml:"rules"`
}

// RulerRule is one alerting (Alert) or recording (Record) rule.
type RulerRule struct {
	Alert       string            `yaml:"alert,omitempty"`
	Record      string            `yaml:"record,omitempty"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

// RuleFile returns the namespace's groups as a rule file (`groups:`), the
// format the ruler loads and audittui's rule loader reads.
func (ns RuleNamespace) RuleFile() ([]byte, error) {
	return yaml.Marshal(struct {
		Groups []RuleGroup `yaml:"groups"`
	}{ns.Groups})
}

// RuleGroups asks the ruler for every rule group, by namespace (sorted by
// name). A ruler with no rules answers 404 "no rule groups found": that is
// an empty list, not an error.
func (c *Client) RuleGroups(ctx context.Context) ([]RuleNamespace, error) {
	body, err := c.get(ctx, PathRules, nil)
	if err != nil {
		var he *HTTPError
		if errors.As(err, &he) && he.Status == http.StatusNotFound && strings.Contains(he.Body, "no rule groups found") {
			return nil, nil
		}
		return nil, err
	}
	out, err := parseRuleGroups(body)
	if err != nil {
		return nil, fmt.Errorf("loki: %s: %w", PathRules, err)
	}
	return out, nil
}

func parseRuleGroups(body []byte) ([]RuleNamespace, error) {
	var m map[string][]RuleGroup
	if err := yaml.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("response is not the rule groups' YAML: %w", err)
	}
	out := make([]RuleNamespace, 0, len(m))
	for ns, gs := range m {
		out = append(out, RuleNamespace{Name: ns, Groups: gs})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

package lokitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"

	"go.yaml.in/yaml/v3"
)

// The ruler endpoints of Loki's HTTP API ("Ruler" in the documentation):
// rule groups per namespace (GET, POST and DELETE /loki/api/v1/rules...,
// YAML) and the active alerts (GET /prometheus/api/v1/alerts, Prometheus'
// JSON format). The server evaluates its alerting rules when the alerts
// are asked for, over what it stores, as a ruler started RulerHistory
// before would have evaluated them at each multiple of the group's
// interval: an alert is pending until its rule's `for` has elapsed, then
// firing. Recording rules are stored and listed, not evaluated.

// RulerHistory is how far back, before the request, the test server's
// ruler is taken to have been running (it bounds activeAt).
const RulerHistory = time.Hour

// RuleGroup is one rule group, as the ruler API reads and writes it.
type RuleGroup struct {
	Name     string `yaml:"name"`
	Interval string `yaml:"interval,omitempty"`
	Limit    int    `yaml:"limit,omitempty"`
	Rules    []Rule `yaml:"rules"`
}

// Rule is one alerting or recording rule.
type Rule struct {
	Alert       string            `yaml:"alert,omitempty"`
	Record      string            `yaml:"record,omitempty"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

type rulerStore struct {
	groups map[string][]RuleGroup // namespace -> groups, in the order set
}

func (s *Server) rulesOf(tenant string) *rulerStore {
	if s.rulers == nil {
		s.rulers = map[string]*rulerStore{}
	}
	rs := s.rulers[tenant]
	if rs == nil {
		rs = &rulerStore{groups: map[string][]RuleGroup{}}
		s.rulers[tenant] = rs
	}
	return rs
}

// SetRuleGroup creates or replaces a rule group in namespace for tenant
// ("" = fake), as POST /loki/api/v1/rules/{namespace} does.
func (s *Server) SetRuleGroup(tenant, namespace string, g RuleGroup) error {
	if tenant == "" {
		tenant = "fake"
	}
	if err := checkGroup(g); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rs := s.rulesOf(tenant)
	gs := rs.groups[namespace]
	for i := range gs {
		if gs[i].Name == g.Name {
			gs[i] = g
			return nil
		}
	}
	rs.groups[namespace] = append(gs, g)
	return nil
}

// checkGroup validates a group as the ruler does before storing it.
func checkGroup(g RuleGroup) error {
	if g.Name == "" {
		return fmt.Errorf("invalid rules config: rule group name must not be empty")
	}
	if g.Interval != "" {
		if _, err := parseDuration(g.Interval); err != nil {
			return fmt.Errorf("invalid rules config: group %q: interval: %v", g.Name, err)
		}
	}
	if len(g.Rules) == 0 {
		return fmt.Errorf("invalid rules config: rule group %q has no rules", g.Name)
	}
	for i, r := range g.Rules {
		if (r.Alert == "") == (r.Record == "") {
			return fmt.Errorf("invalid rules config: group %q, rule %d: one of 'record' or 'alert' must be set", g.Name, i+1)
		}
		if _, mq, err := parseQuery(r.Expr); err != nil || mq == nil {
			if err == nil {
				err = fmt.Errorf("not a metric query")
			}
			return fmt.Errorf("invalid rules config: group %q, rule %d: could not parse expression: %v", g.Name, i+1, err)
		}
		if r.For != "" {
			if _, err := parseDuration(r.For); err != nil {
				return fmt.Errorf("invalid rules config: group %q, rule %d: for: %v", g.Name, i+1, err)
			}
		}
	}
	return nil
}

func writeYAML(w http.ResponseWriter, v any) {
	b, err := yaml.Marshal(v)
	if err != nil {
		lokiError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/yaml")
	w.Write(b)
}

// handleListRules answers GET /loki/api/v1/rules: every namespace's
// groups, as a YAML map; 404 "no rule groups found" when there are none,
// as Loki's ruler answers.
func (s *Server) handleListRules(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	out := map[string][]RuleGroup{}
	for _, t := range tenantsOf(r) {
		if rs := s.rulers[t]; rs != nil {
			for ns, gs := range rs.groups {
				if len(gs) > 0 {
					out[ns] = append(out[ns], gs...)
				}
			}
		}
	}
	s.mu.RUnlock()
	if len(out) == 0 {
		lokiError(w, http.StatusNotFound, "no rule groups found")
		return
	}
	writeYAML(w, out)
}

// handleNamespaceRules answers GET /loki/api/v1/rules/{namespace}.
func (s *Server) handleNamespaceRules(w http.ResponseWriter, r *http.Request) {
	ns := r.PathValue("namespace")
	s.mu.RLock()
	var gs []RuleGroup
	if rs := s.rulers[tenantsOf(r)[0]]; rs != nil {
		gs = append(gs, rs.groups[ns]...)
	}
	s.mu.RUnlock()
	if len(gs) == 0 {
		lokiError(w, http.StatusNotFound, "no rule groups found")
		return
	}
	writeYAML(w, map[string][]RuleGroup{ns: gs})
}

// handleGetGroup answers GET /loki/api/v1/rules/{namespace}/{groupName}.
func (s *Server) handleGetGroup(w http.ResponseWriter, r *http.Request) {
	ns, name := r.PathValue("namespace"), r.PathValue("group")
	s.mu.RLock()
	defer s.mu.RUnlock()
	if rs := s.rulers[tenantsOf(r)[0]]; rs != nil {
		for _, g := range rs.groups[ns] {
			if g.Name == name {
				writeYAML(w, g)
				return
			}
		}
	}
	lokiError(w, http.StatusNotFound, "group does not exist")
}

// handleSetGroup answers POST /loki/api/v1/rules/{namespace}: a YAML rule
// group (Content-Type: application/yaml), 202 on success.
func (s *Server) handleSetGroup(w http.ResponseWriter, r *http.Request) {
	ns := r.PathValue("namespace")
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		lokiError(w, http.StatusBadRequest, err.Error())
		return
	}
	var g RuleGroup
	dec := yaml.NewDecoder(bytes.NewReader(body))
	dec.KnownFields(true)
	if err := dec.Decode(&g); err != nil {
		lokiError(w, http.StatusBadRequest, "unable to decode rule group: "+err.Error())
		return
	}
	if err := s.SetRuleGroup(tenantsOf(r)[0], ns, g); err != nil {
		lokiError(w, http.StatusBadRequest, err.Error())
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// handleDeleteGroup answers DELETE /loki/api/v1/rules/{namespace}/{groupName}.
func (s *Server) handleDeleteGroup(w http.ResponseWriter, r *http.Request) {
	ns, name := r.PathValue("namespace"), r.PathValue("group")
	s.mu.Lock()
	if rs := s.rulers[tenantsOf(r)[0]]; rs != nil {
		gs := rs.groups[ns]
		for i := range gs {
			if gs[i].Name == name {
				rs.groups[ns] = append(gs[:i:i], gs[i+1:]...)
				break
			}
		}
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

// handleDeleteNamespace answers DELETE /loki/api/v1/rules/{namespace}.
func (s *Server) handleDeleteNamespace(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if rs := s.rulers[tenantsOf(r)[0]]; rs != nil {
		delete(rs.groups, r.PathValue("namespace"))
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

// promAlert is one alert of GET /prometheus/api/v1/alerts.
type promAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	State       string            `json:"state"`
	ActiveAt    string            `json:"activeAt"`
	Value       string            `json:"value"`
}

// handleAlerts answers GET /prometheus/api/v1/alerts: the active
// (pending and firing) alerts of the tenant's alerting rules, evaluated
// now (see RulerHistory).
func (s *Server) handleAlerts(w http.ResponseWriter, r *http.Request) {
	if s.queryFailure(w) {
		return
	}
	now := time.Now()
	if s.opts.Now != nil {
		now = s.opts.Now()
	}
	s.mu.RLock()
	var groups []RuleGroup
	for _, t := range tenantsOf(r) {
		if rs := s.rulers[t]; rs != nil {
			nss := make([]string, 0, len(rs.groups))
			for ns := range rs.groups {
				nss = append(nss, ns)
			}
			sort.Strings(nss)
			for _, ns := range nss {
				groups = append(groups, rs.groups[ns]...)
			}
		}
	}
	alerts := []promAlert{}
	for _, g := range groups {
		for _, rule := range g.Rules {
			if rule.Alert == "" {
				continue
			}
			alerts = append(alerts, s.evalRule(r, g, rule, now)...)
		}
	}
	s.mu.RUnlock()
	b, err := json.Marshal(map[string]any{"status": "success", "data": map[string]any{"alerts": alerts}})
	if err != nil {
		lokiError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, b)
}

// evalRule evaluates an alerting rule at each step of its group's interval
// over RulerHistory (and its `for`) up to now, and returns the alerts
// active at the last step. The caller holds s.mu (read).
func (s *Server) evalRule(r *http.Request, g RuleGroup, rule Rule, now time.Time) []promAlert {
	iv := time.Minute
	if d, err := parseDuration(g.Interval); err == nil && d > 0 {
		iv = d
	}
	var forDur time.Duration
	if d, err := parseDuration(rule.For); err == nil {
		forDur = d
	}
	_, mq, err := parseQuery(rule.Expr)
	if err != nil || mq == nil {
		return nil
	}
	last := now.UnixNano() / int64(iv) * int64(iv)
	first := last - int64(RulerHistory) - int64(forDur)
	first = first / int64(iv) * int64(iv)
	ev, err := mq.NewRangeEvaluator(first, last, iv)
	if err != nil {
		return nil
	}
	s.feed(r, mq, ev)
	res := ev.Result()
	active := 0
	for _, series := range res {
		if n := len(series.Points); n > 0 && series.Points[n-1].T == last {
			active++
		}
	}
	if g.Limit > 0 && active > g.Limit {
		return nil // over the group's limit: the ruler keeps no alert
	}
	var out []promAlert
	for _, series := range res {
		n := len(series.Points)
		if n == 0 || series.Points[n-1].T != last {
			continue // not returned at the last step: not active
		}
		// The uninterrupted run of steps ending at the last one.
		k := n - 1
		for k > 0 && series.Points[k-1].T == series.Points[k].T-int64(iv) {
			k--
		}
		active := series.Points[k].T
		state := "pending"
		if time.Duration(last-active) >= forDur {
			state = "firing"
		}
		v := series.Points[n-1].V
		sample := map[string]string{}
		for _, l := range series.Labels {
			sample[l.Name] = l.Value
		}
		labels := map[string]string{}
		for k, x := range sample {
			labels[k] = x
		}
		for k, x := range rule.Labels {
			labels[k] = render(x, sample, v)
		}
		labels["alertname"] = rule.Alert
		ann := map[string]string{}
		for k, x := range rule.Annotations {
			ann[k] = render(x, sample, v)
		}
		out = append(out, promAlert{Labels: labels, Annotations: ann, State: state,
			ActiveAt: time.Unix(0, active).UTC().Format(time.RFC3339Nano), Value: strconv.FormatFloat(v, 'e', -1, 64)})
	}
	return out
}

// render expands a label or annotation template as Prometheus does
// ($labels, $value); a template that fails is kept as written.
func render(text string, labels map[string]string, value float64) string {
	if !strings.Contains(text, "{{") {
		return text
	}
	t, err := template.New("").Option("missingkey=zero").Parse("{{$labels := .Labels}}{{$value := .Value}}" + text)
	if err != nil {
		return text
	}
	var b strings.Builder
	if err := t.Execute(&b, struct {
		Labels map[string]string
		Value  float64
	}{labels, value}); err != nil {
		return text
	}
	return b.String()
}

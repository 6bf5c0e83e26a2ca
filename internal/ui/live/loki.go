package live

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/loki"
	"github.com/audittui/audittui/internal/policy/rules"
	"github.com/audittui/audittui/internal/ui"
)

// When the TUI (or serve) reads Loki, the Alerts pane also shows what
// Loki's own ruler says (GET /prometheus/api/v1/alerts, with the ruler's
// rules from
// GET /loki/api/v1/rules, so its alerts can be drilled into with their
// rule's query), and the rules whose windows reach further back than what
// the TUI loads are evaluated on the server: their expression as a range
// query (query_range, one step per evaluation interval) answers with a
// few values instead of every event of their window, and rules.EvalSeries
// turns the values into alert instances. The other rules run here over
// the events the TUI loads anyway.

// rulerEvery is how often the ruler's alerts are asked for again, and
// server-evaluated rules re-evaluated while following.
const rulerEvery = 30 * time.Second

// lokiAlerts is the Loki part of the alerts.
type lokiAlerts struct {
	c        *loki.Client
	from, to int64 // the window the TUI reads (to = 0: now, following)
	span     time.Duration
	server   []*rules.Rule
	ext      map[string]string
	log      *slog.Logger
	changed  func()

	mu        sync.Mutex
	alerts    []*rules.Alert
	serverErr string
	// failed are the server rules whose last evaluation Loki refused or
	// did not answer in time, for the pane's problems.
	failed []ui.RuleProblem
	ruler  *ui.RulerState
}

// splitForLoki decides where each rule of set runs when the TUI reads
// the Loki source src over [from, to): rules whose look-back (range and
// offset) is as long as the window, or longer, run on the server; rules
// that count requests (stage merging, which Loki cannot do) always run
// here. It returns the set to run here.
func splitForLoki(set *rules.Set, from, to int64) (local *rules.Set, server []*rules.Rule) {
	if set == nil {
		return nil, nil
	}
	span := time.Duration(to - from)
	local = &rules.Set{}
	for _, g := range set.Groups {
		var keep []*rules.Rule
		for _, r := range g.Rules {
			q := r.Query()
			if q != nil && !r.CountRequests && q.Range()+q.Offset() >= span {
				server = append(server, r)
				continue
			}
			keep = append(keep, r)
		}
		if len(keep) > 0 {
			c := *g
			c.Rules = keep
			local.Groups = append(local.Groups, &c)
		}
	}
	return local, server
}

// newLokiAlerts prepares the Loki part for source src read over
// [from, to) (to = 0 when following).
func newLokiAlerts(src *loki.Source, server []*rules.Rule, from, to int64, log *slog.Logger) *lokiAlerts {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &lokiAlerts{c: src.Client(), from: from, to: to, span: time.Duration(to - from), server: server, log: log,
		ruler: &ui.RulerState{Addr: src.Client().Addr()}, changed: func() {}}
}

// run evaluates the server rules and asks the ruler, then again every
// rulerEvery (server rules only while following), until ctx ends.
func (k *lokiAlerts) run(ctx context.Context) {
	k.evalServer(ctx)
	k.askRuler(ctx)
	t := time.NewTicker(rulerEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if k.to == 0 {
				k.evalServer(ctx)
			}
			k.askRuler(ctx)
		}
	}
}

// window is the time range the server rules are evaluated over.
func (k *lokiAlerts) window() (from, to time.Time) {
	if k.to != 0 {
		return time.Unix(0, k.from).UTC(), time.Unix(0, k.to).UTC()
	}
	now := time.Now().UTC()
	return now.Add(-k.span), now
}

// evalServer evaluates every server rule with query_range.
func (k *lokiAlerts) evalServer(ctx context.Context) {
	if len(k.server) == 0 {
		return
	}
	from, to := k.window()
	var out []*rules.Alert
	var firstErr string
	var failed []ui.RuleProblem
	for _, r := range k.server {
		first, last, step := r.StepGrid(from, to)
		if last.Before(first) {
			continue
		}
		res, err := k.c.QueryRange(ctx, loki.QueryRangeRequest{Query: r.Query().String(), Start: first.UnixNano(),
			End: last.UnixNano() + 1, Step: step})
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			k.log.Warn("server evaluation of a rule failed", "rule", r.Alert, "err", err)
			if firstErr == "" {
				firstErr = fmt.Sprintf("%s: %v", r.Alert, err)
			}
			// As a local rule whose evaluation fails: named in the
			// pane with the server's answer; it raises nothing.
			failed = append(failed, ui.RuleProblem{Rule: r, Why: serverFailure(err, k.c.Timeout())})
			continue
		}
		out = append(out, rules.EvalSeries(r, seriesOf(res), first, last, step, k.ext)...)
	}
	rules.SortAlerts(out)
	k.mu.Lock()
	k.alerts, k.serverErr, k.failed = out, firstErr, failed
	k.mu.Unlock()
	k.changed()
}

// serverFailure says why Loki did not evaluate a rule: its status and
// message ("failed on the Loki server: 400 Bad Request: max entries limit
// ..."), or that it did not answer within the client's timeout. The
// message is untrusted: the pane shows it escaped.
func serverFailure(err error, timeout time.Duration) string {
	var he *loki.HTTPError
	switch {
	case errors.As(err, &he):
		msg := he.Body
		if msg == "" {
			msg = "(empty body)"
		}
		return fmt.Sprintf("failed on the Loki server: %d %s: %s (query_range; it raises nothing)", he.Status, http.StatusText(he.Status), msg)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("failed on the Loki server: no answer to query_range within the client's timeout (%s); it raises nothing", timeout)
	}
	return "failed on the Loki server: " + err.Error() + " (it raises nothing)"
}

// seriesOf converts a matrix answer.
func seriesOf(res *loki.Result) []rules.Series {
	out := make([]rules.Series, 0, len(res.Series))
	for _, s := range res.Series {
		ls := make(map[string]string, len(s.Metric))
		for _, l := range s.Metric {
			ls[l.Name] = l.Value
		}
		ps := make([]rules.Point, len(s.Samples))
		for i, p := range s.Samples {
			ps[i] = rules.Point{T: time.Unix(0, p.T).UTC(), V: p.V}
		}
		out = append(out, rules.Series{Labels: ls, Points: ps})
	}
	return out
}

// askRuler reads the ruler's alerts and rules.
func (k *lokiAlerts) askRuler(ctx context.Context) {
	at := time.Now().UTC()
	st := &ui.RulerState{Addr: k.c.Addr(), At: at}
	nss, err := k.c.RuleGroups(ctx)
	if err == nil {
		var as []loki.RulerAlert
		as, err = k.c.RulerAlerts(ctx)
		if err == nil {
			rs := rulerRules(nss, k.log)
			for _, r := range rs {
				if r.Alert != "" {
					st.Rules++
				}
			}
			st.Alerts = rulerAlerts(as, rs, at)
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		st.Err = err.Error()
	}
	k.mu.Lock()
	k.ruler = st
	k.mu.Unlock()
	k.changed()
}

// rulerRules parses the ruler's groups with audittui's rule loader, group
// by group, then rule by rule where a group does not parse (a rule
// audittui cannot read gets no query: its alerts are listed, not drilled
// into).
func rulerRules(nss []loki.RuleNamespace, log *slog.Logger) []*rules.Rule {
	var out []*rules.Rule
	for _, ns := range nss {
		for _, g := range ns.Groups {
			if rs, ok := parseRulerGroup(ns.Name, g); ok {
				out = append(out, rs...)
				continue
			}
			for _, r := range g.Rules {
				one := g
				one.Rules = []loki.RulerRule{r}
				if rs, ok := parseRulerGroup(ns.Name, one); ok {
					out = append(out, rs...)
					continue
				}
				log.Info("a rule of Loki's ruler is not in audittui's LogQL subset; listed without drill-in", "namespace", ns.Name, "rule", r.Alert)
				out = append(out, &rules.Rule{Alert: r.Alert, Expr: r.Expr, Labels: r.Labels, Annotations: r.Annotations,
					File: ns.Name, Group: &rules.Group{Name: g.Name, File: ns.Name}})
			}
		}
	}
	return out
}

func parseRulerGroup(ns string, g loki.RuleGroup) ([]*rules.Rule, bool) {
	file, err := loki.RuleNamespace{Name: ns, Groups: []loki.RuleGroup{g}}.RuleFile()
	if err != nil {
		return nil, false
	}
	set, err := rules.Parse(ns, file)
	if err != nil {
		return nil, false
	}
	return set.Rules(), true
}

// rulerAlerts turns the ruler's alerts into instances of its rules: the
// rule of the same name whose labels the alert carries.
func rulerAlerts(as []loki.RulerAlert, rs []*rules.Rule, at time.Time) []*rules.Alert {
	out := make([]*rules.Alert, 0, len(as))
	for _, a := range as {
		name := a.Name()
		var rule *rules.Rule
		for _, r := range rs {
			if r.Alert != name {
				continue
			}
			match := true
			for k, v := range r.Labels {
				if a.Labels[k] != v && !isTemplate(v) {
					match = false
					break
				}
			}
			if match {
				rule = r
				break
			}
		}
		if rule == nil {
			rule = &rules.Rule{Alert: name, File: "loki", Group: &rules.Group{Name: "?"}}
		}
		ls := maps.Clone(a.Labels)
		delete(ls, "alertname")
		v, _ := strconv.ParseFloat(a.Value, 64)
		st := rules.StatePending
		if a.State == "firing" {
			st = rules.StateFiring
		}
		out = append(out, &rules.Alert{Rule: rule, Name: name, Labels: ls, Annotations: a.Annotations,
			Severity: ls["severity"], State: st, ActiveAt: a.ActiveAt, FiredAt: a.ActiveAt, LastActive: at, Value: v, MaxValue: v})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ActiveAt.Before(out[j].ActiveAt) })
	return out
}

func isTemplate(s string) bool { return strings.Contains(s, "{{") }

// fill adds the Loki part to the pane's state.
func (k *lokiAlerts) fill(st *ui.AlertState) {
	k.mu.Lock()
	defer k.mu.Unlock()
	st.Local = append(st.Local, k.alerts...)
	rules.SortAlerts(st.Local)
	st.ServerErr = k.serverErr
	if len(k.failed) > 0 {
		// A copy: st.Problems may be the blind rules every state shares.
		st.Problems = append(slices.Clip(st.Problems), k.failed...)
	}
	if len(k.server) > 0 {
		st.Server = map[string]bool{}
		for _, r := range k.server {
			st.Server[r.Where()] = true
		}
	}
	r := *k.ruler
	st.Ruler = &r
}

// lokiSource returns the Loki source when it is the only source.
func lokiSource(srcs []data.Source) (*loki.Source, bool) {
	if len(srcs) != 1 {
		return nil, false
	}
	s, ok := srcs[0].(*loki.Source)
	return s, ok
}

package live

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
	"github.com/audittui/audittui/internal/data/source/loki"
	"github.com/audittui/audittui/internal/data/source/loki/lokitest"
	"github.com/audittui/audittui/internal/gen"
	"github.com/audittui/audittui/internal/policy/rules"
	"github.com/audittui/audittui/internal/ui"
)

// lokiWithStories is a test Loki holding 100 minutes of generated traffic
// with the attack stories, whose ruler runs one rule, with its clock at
// the end of the traffic.
func lokiWithStories(t *testing.T) (*lokitest.Server, []data.Event, time.Time) {
	t.Helper()
	end := gen.DefaultStart.Add(100 * time.Minute)
	s := lokitest.New(lokitest.Options{Now: func() time.Time { return end }})
	t.Cleanup(s.Close)
	g := gen.New(gen.Config{Seed: 7, Stories: true, Rate: 2})
	var req loki.PushRequest
	st := loki.PushStream{Labels: data.Labels{{Name: "job", Value: "audit"}}}
	var buf bytes.Buffer
	for {
		r := g.Next()
		if r.Time > end.UnixNano() {
			break
		}
		buf.Write(r.Line)
		st.Entries = append(st.Entries, loki.PushEntry{Time: r.Time, Line: bytes.TrimRight(append([]byte(nil), r.Line...), "\n")})
	}
	req.Streams = append(req.Streams, st)
	s.Push("", req)
	if err := s.SetRuleGroup("", "audit", lokitest.RuleGroup{Name: "forbidden", Interval: "1m", Rules: []lokitest.Rule{{
		Alert: "ForbiddenBurst", For: "0m",
		Expr:        `sum by (user_username) (count_over_time({job="audit"} | json | responseStatus_code=403 [5m])) >= 5`,
		Labels:      map[string]string{"severity": "warning"},
		Annotations: map[string]string{"summary": "Burst of forbidden requests", "description": "{{ $labels.user_username }} refused {{ $value }} times"},
	}}}); err != nil {
		t.Fatal(err)
	}
	var dec data.Decoder
	var evs []data.Event
	for _, l := range bytes.Split(bytes.TrimRight(buf.Bytes(), "\n"), []byte("\n")) {
		n := len(evs)
		evs, _ = dec.Decode(evs, l, data.Origin{Source: &data.SourceInfo{Labels: data.Labels{{Name: "job", Value: "audit"}}}})
		for k := n; k < len(evs); k++ {
			evs[k] = evs[k].Clone()
		}
	}
	return s, evs, end
}

// waitState polls the alerts until ok says the state is complete.
func waitState(t *testing.T, al *Subscription, ok func(ui.AlertState) bool) ui.AlertState {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		st := al.Alerts()
		if ok(st) {
			return st
		}
		select {
		case <-al.Changed():
		case <-time.After(100 * time.Millisecond):
		}
	}
	st := al.Alerts()
	t.Fatalf("alerts never complete: %+v (ruler %+v)", st, st.Ruler)
	return st
}

// TestLokiRulerAndServerRules: reading Loki over the last hour, the TUI's
// alerts show the ruler's own alerts (drillable with the ruler's rule),
// run the hour and day rules on the server with query_range (their
// windows reach before what is loaded) and the rest here, and a rule run
// on the server raises the instances the local engine raises from the
// same events.
func TestLokiRulerAndServerRules(t *testing.T) {
	s, evs, end := lokiWithStories(t)
	c, err := loki.NewClient(loki.Config{Addr: s.URL})
	if err != nil {
		t.Fatal(err)
	}
	src, err := loki.NewSource(c, loki.SourceOptions{Now: func() time.Time { return end }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	from := end.Add(-time.Hour)
	set, err := cmdutil.LoadRules(nil, false, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	al := openAlerts(t, ctx, Options{Sources: []data.Source{src}, Read: data.ReadOptions{From: from.UnixNano(), To: end.UnixNano()},
		Rules: set, Log: log})
	var hourly []*rules.Rule
	for _, r := range set.Rules() {
		if r.Query().Range()+r.Query().Offset() >= time.Hour {
			hourly = append(hourly, r)
		}
	}
	st := waitState(t, al, func(st ui.AlertState) bool { return st.Ruler != nil && !st.Ruler.At.IsZero() && len(st.Server) > 0 })
	if st.Rules != len(set.Rules()) || len(st.Server) != len(hourly) || st.ServerErr != "" {
		t.Fatalf("%d rules, %d on the server (want %d), error %q", st.Rules, len(st.Server), len(hourly), st.ServerErr)
	}
	// The ruler's alert, parsed with its rule: it drills into its events.
	if st.Ruler.Err != "" || st.Ruler.Rules != 1 || len(st.Ruler.Alerts) == 0 {
		t.Fatalf("ruler: %+v", st.Ruler)
	}
	ra := st.Ruler.Alerts[0]
	if ra.Name != "ForbiddenBurst" || ra.Rule.Query() == nil || ra.State != rules.StateFiring || ra.Labels["user_username"] == "" {
		t.Fatalf("ruler alert: %+v", ra)
	}
	q, from2, to2 := ra.DrillDown()
	lq, err := logql.ParseLog(q)
	if err != nil {
		t.Fatalf("drill %q: %v", q, err)
	}
	n := 0
	for i := range evs {
		if evs[i].Time >= from2.UnixNano() && evs[i].Time < to2.UnixNano() && lq.Matches(&evs[i]) {
			n++
		}
	}
	if n < 5 {
		t.Errorf("the ruler alert's drill %q [%v, %v) selects %d events, want its 5 or more refusals", q, from2, to2, n)
	}
	// Server-evaluated rules give the instances the local engine gives
	// over the same hour (its windows reach back into the loaded data).
	var server []*rules.Alert
	for _, a := range st.Local {
		if st.Server[a.Rule.Where()] {
			server = append(server, a)
		}
	}
	if len(server) == 0 {
		t.Fatal("no instance from the server-evaluated rules")
	}
	local, err := rules.NewEvaluator(singleSet(hourly), rules.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range evs {
		local.Push(&evs[i])
	}
	want := map[string]bool{}
	for _, a := range local.Snapshot() {
		if !a.LastActive.Before(from) {
			want[a.Name+rules.LabelsString(a.Labels)] = true
		}
	}
	for _, a := range server {
		if !want[a.Name+rules.LabelsString(a.Labels)] {
			t.Errorf("server instance %s %v not raised locally", a.Name, a.Labels)
		}
	}
	if !strings.Contains(rules.LabelsString(server[0].Labels), "severity") {
		t.Errorf("server instance without its rule's labels: %v", server[0].Labels)
	}
}

// openAlerts opens o with alerts on, as the TUI and serve do, and
// subscribes to its alerts.
func openAlerts(t *testing.T, ctx context.Context, o Options) *Subscription {
	t.Helper()
	o.Alerts = true
	lv, err := Open(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lv.Close() })
	if lv.Alerts == nil {
		t.Fatal("alerts are off")
	}
	sub := lv.Alerts.Subscribe()
	t.Cleanup(sub.Close)
	return sub
}

func singleSet(rs []*rules.Rule) *rules.Set {
	set := &rules.Set{}
	for _, r := range rs {
		g := *r.Group
		g.Rules = []*rules.Rule{r}
		set.Groups = append(set.Groups, &g)
	}
	return set
}

// TestLokiRulerUnavailable: a Loki without the ruler API still shows the
// local evaluation; the ruler section says why it is empty.
func TestLokiRulerUnavailable(t *testing.T) {
	s, _, end := lokiWithStories(t)
	c, _ := loki.NewClient(loki.Config{Addr: s.URL + "/prefix-without-ruler", Retry: loki.Backoff{MaxRetries: 1, Min: time.Millisecond}})
	src, err := loki.NewSource(c, loki.SourceOptions{Now: func() time.Time { return end }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	al := openAlerts(t, ctx, Options{Sources: []data.Source{src}, Read: data.ReadOptions{From: end.Add(-time.Hour).UnixNano(), To: end.UnixNano()}})
	st := waitState(t, al, func(st ui.AlertState) bool { return st.Ruler != nil && st.Ruler.Err != "" })
	if !strings.Contains(st.Ruler.Err, "404") {
		t.Errorf("ruler error %q", st.Ruler.Err)
	}
}

// TestLokiServerRuleFailures: a rule evaluated on the Loki server that
// Loki refuses (400 with its message) or that outlasts the client's
// timeout is named in the Alerts pane's problems with the server's
// answer, as a rule whose local evaluation fails; the rule Loki answers
// raises its instances as usual.
func TestLokiServerRuleFailures(t *testing.T) {
	s, _, end := lokiWithStories(t)
	const body = "max entries limit per query exceeded, limit > max_entries_limit_per_query (\x1b[31m5001 > 5000)"
	s.RefuseQueries("refuse-me", 400, body)
	s.DelayQueries("slow-me", time.Minute)
	c, err := loki.NewClient(loki.Config{Addr: s.URL, Timeout: 3 * time.Second, Retry: loki.Backoff{MaxRetries: 1, Min: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	src, err := loki.NewSource(c, loki.SourceOptions{Now: func() time.Time { return end }})
	if err != nil {
		t.Fatal(err)
	}
	set, err := rules.Parse("team.yaml", []byte(`groups:
  - name: team
    interval: 1m
    rules:
      - alert: Refused
        expr: sum(count_over_time({job="audit"} != "refuse-me" [1h])) > 0
      - alert: Slow
        expr: sum(count_over_time({job="audit"} != "slow-me" [1h])) > 0
      - alert: Answered
        expr: sum(count_over_time({job="audit"} [1h])) > 0
`))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	al := openAlerts(t, ctx, Options{Sources: []data.Source{src}, Read: data.ReadOptions{From: end.Add(-time.Hour).UnixNano(), To: end.UnixNano()},
		Rules: set, Log: slog.New(slog.DiscardHandler)})
	st := waitState(t, al, func(st ui.AlertState) bool { return len(st.Server) == 3 && st.ServerErr != "" && len(st.Problems) >= 2 })
	why := map[string]string{}
	for _, p := range st.Problems {
		if p.Rule != nil {
			why[p.Rule.Alert] = p.Why
		}
	}
	if w := why["Refused"]; !strings.Contains(w, "400") || !strings.Contains(w, "max entries limit per query exceeded") {
		t.Errorf("Refused: %q, want the server's 400 and its message", w)
	}
	if w := why["Slow"]; !strings.Contains(w, "timeout") {
		t.Errorf("Slow: %q, want the client's timeout", w)
	}
	if _, ok := why["Answered"]; ok || len(st.Problems) != 2 {
		t.Errorf("problems %+v: want Refused and Slow only", st.Problems)
	}
	answered := 0
	for _, a := range st.Local {
		if a.Name == "Answered" {
			answered++
		}
		if a.Name == "Refused" || a.Name == "Slow" {
			t.Errorf("an instance of %s, whose evaluation failed", a.Name)
		}
	}
	if answered == 0 {
		t.Error("the rule Loki answered raised nothing")
	}
}

package ui

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/audittui/audittui/internal/casefile"
	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
	"github.com/audittui/audittui/internal/gen"
	"github.com/audittui/audittui/internal/policy/rules"
	"github.com/audittui/audittui/internal/termsafe/termsafetest"
)

// alertFixture is 100 minutes of generated traffic with the attack
// stories (the last, anonymous probing with terminal escapes, at 95
// minutes), evaluated live with the built-in pack as the TUI does it:
// without draining at the end, so the latest alerts are still firing.
type alertFixture struct {
	content []byte
	evs     []data.Event
	alerts  []*rules.Alert
	rules   int
}

var (
	fixOnce sync.Once
	fix     alertFixture
	fixErr  error
)

func loadAlertFixture(t testing.TB) alertFixture {
	t.Helper()
	fixOnce.Do(func() {
		g := gen.New(gen.Config{Seed: 7, Stories: true, Rate: 2})
		end := gen.DefaultStart.Add(100 * time.Minute).UnixNano()
		var buf bytes.Buffer
		for {
			r := g.Next()
			if r.Time > end {
				break
			}
			buf.Write(r.Line)
		}
		fix.content = buf.Bytes()
		var dec data.Decoder
		sc := bufio.NewScanner(bytes.NewReader(buf.Bytes()))
		sc.Buffer(nil, 8<<20)
		for sc.Scan() {
			n := len(fix.evs)
			fix.evs, _ = dec.Decode(fix.evs, sc.Bytes(), data.Origin{Source: &data.SourceInfo{Name: "generated.log", Labels: data.Labels{{Name: "job", Value: "audit"}}}})
			for k := n; k < len(fix.evs); k++ {
				fix.evs[k] = fix.evs[k].Clone()
			}
		}
		set, err := rules.Builtin()
		if err != nil {
			fixErr = err
			return
		}
		ev, err := rules.NewEvaluator(set, rules.Options{})
		if err != nil {
			fixErr = err
			return
		}
		for i := range fix.evs {
			ev.Push(&fix.evs[i])
		}
		fix.alerts = ev.Snapshot()
		fix.rules = len(set.Rules())
	})
	if fixErr != nil {
		t.Fatal(fixErr)
	}
	return fix
}

// fixtureIndex writes the fixture's lines to a file of the test and
// indexes it (as a file source: events are read back from it).
func fixtureIndex(t *testing.T, f alertFixture) *Index {
	t.Helper()
	path := filepath.Join(t.TempDir(), "generated.log")
	if err := os.WriteFile(path, f.content, 0o644); err != nil {
		t.Fatal(err)
	}
	return loadIndex(t, path)
}

// staticAlerts is an AlertSource that never changes.
type staticAlerts struct{ st AlertState }

func (s staticAlerts) Alerts() AlertState       { return s.st }
func (s staticAlerts) Changed() <-chan struct{} { return nil }

// newAlertsApp opens the fixture's events with its alerts, at w x h, on
// the Alerts pane.
func newAlertsApp(t *testing.T, w, h int) (*App, alertFixture) {
	t.Helper()
	f := loadAlertFixture(t)
	ix := fixtureIndex(t, f)
	st := AlertState{Local: f.alerts, Rules: f.rules, Events: int64(len(f.evs))}
	a := New(context.Background(), ix, nil, Options{Title: "generated.log", NoColor: true, Compile: CompileLogQL,
		Alerts: staticAlerts{st}})
	a.alerts.now = func() time.Time { return time.Date(2026, 11, 20, 4, 0, 0, 0, time.UTC) }
	a.Update(tea.WindowSizeMsg{Width: w, Height: h})
	a.alerts.SetState(st)
	send(t, a, "3")
	return a, f
}

func TestGoldenAlertsGrouped(t *testing.T) {
	for _, sz := range sizes {
		a, f := newAlertsApp(t, sz.w, sz.h)
		s := screen(a)
		checkScreen(t, s, sz.w, sz.h)
		golden(t, fmt.Sprintf("alerts_%dx%d.txt", sz.w, sz.h), s)
		lines := strings.Split(s, "\n")
		// Groups, not instances: far fewer lines than instances, firing
		// first.
		if len(f.alerts) < 30 {
			t.Fatalf("only %d instances in the fixture", len(f.alerts))
		}
		// The tab counts the firing groups ("(45)" when narrow, so the
		// window keeps its date and zone).
		if !regexp.MustCompile(`Alerts \(45( firing)?\)`).MatchString(lines[0]) || (sz.w >= 100 && !strings.Contains(lines[0], " firing)")) {
			t.Errorf("tab title does not count firing groups: %q", lines[0])
		}
		if !strings.Contains(lines[0], "11-20 02:00:00") || !strings.Contains(lines[0], "Z") && !strings.Contains(lines[0], "UTC") {
			t.Errorf("header without the window's date and zone: %q", lines[0])
		}
		firstRule := lines[2]
		if !strings.Contains(lines[3], "●") {
			t.Errorf("the first group is not firing:\n%s", s)
		}
		// The summary annotation is on the rule's line at 80 columns too.
		rg := a.alerts.local[0]
		if sum := ruleSummary(rg); !strings.Contains(firstRule, sum[:min(len(sum), 20)]) {
			t.Errorf("summary %q not on the rule line %q", sum, firstRule)
		}
	}
}

// TestAlertsOrderAndCounts: rules and groups come firing first, then by
// severity, then by the latest activity; the tab counts firing groups
// that are not silenced, in every state; singular and plural are right.
func TestAlertsOrderAndCounts(t *testing.T) {
	a, _ := newAlertsApp(t, 120, 40)
	p := a.alerts
	firing := 0
	for i, rg := range p.local {
		for _, g := range rg.Groups {
			if g.Firing > 0 {
				firing++
			}
		}
		if i == 0 {
			continue
		}
		prev := p.local[i-1]
		pf, cf := prev.Firing > 0, rg.Firing > 0
		if !pf && cf {
			t.Errorf("%s (firing) after %s (not)", rg.Name, prev.Name)
		}
		if pf == cf && rules.SeverityRank(prev.Severity) < rules.SeverityRank(rg.Severity) {
			t.Errorf("%s (%s) after %s (%s)", rg.Name, rg.Severity, prev.Name, prev.Severity)
		}
	}
	if firing == 0 || p.FiringGroups() != firing || p.Title() != fmt.Sprintf("Alerts (%d firing)", firing) {
		t.Fatalf("title %q, %d firing groups", p.Title(), firing)
	}
	// Silencing a firing group takes it out of the count.
	send(t, a, "g", "down")
	it, _ := p.selected()
	if it.kind != itemGroup || it.group.Firing == 0 {
		t.Fatalf("second line is not a firing group: %+v", it)
	}
	send(t, a, "s")
	if p.FiringGroups() != firing-1 || !p.Silenced(it.group.Key) {
		t.Errorf("after s: %d firing (was %d)", p.FiringGroups(), firing)
	}
	for _, tc := range []struct {
		n         int
		one, many string
		want      string
	}{{1, "group", "groups", "1 group"}, {0, "group", "groups", "0 groups"}, {2, "event", "events", "2 events"}, {1234, "rule", "rules", "1,234 rules"}} {
		if got := plural(tc.n, tc.one, tc.many); got != tc.want {
			t.Errorf("plural(%d) = %q", tc.n, got)
		}
	}
	// No alert at all: no count in the title; the pane says so.
	p.SetState(AlertState{Rules: 1, Events: 1})
	if p.Title() != "Alerts" {
		t.Errorf("title with no alert: %q", p.Title())
	}
	if s := screen(a); !strings.Contains(s, "no alert fired") || !strings.Contains(s, "1 rule over 1 event") {
		t.Errorf("empty pane:\n%s", s)
	}
}

// TestAlertsDrillIsWhatQueryAnswers: f on a group and on an instance
// writes LogQL and a window; the rows the TUI shows are exactly the
// events `audittui query --from --to` selects with the same text (the
// query evaluated over the fixture's events in the window).
func TestAlertsDrillIsWhatQueryAnswers(t *testing.T) {
	for _, target := range []string{"group", "instance"} {
		a, f := newAlertsApp(t, 120, 40)
		send(t, a, "g", "down")
		if target == "instance" {
			send(t, a, "enter", "down")
		}
		d, ok := a.alerts.SelectedDrill()
		if !ok {
			t.Fatalf("%s: no drill", target)
		}
		send(t, a, "f")
		if a.focus != paneTail {
			t.Fatalf("%s: f did not go to the tail", target)
		}
		if a.filter.Text != d.Query || a.filter.Since != d.From.UnixNano() || a.filter.Until != d.To.UnixNano() {
			t.Fatalf("%s: filter %q [%d, %d), drill %+v", target, a.filter.Text, a.filter.Since, a.filter.Until, d)
		}
		q, err := logql.ParseLog(d.Query)
		if err != nil {
			t.Fatalf("%s: the drill is not LogQL: %v", target, err)
		}
		want := 0
		for i := range f.evs {
			e := &f.evs[i]
			if e.Time >= d.From.UnixNano() && e.Time < d.To.UnixNano() && q.Matches(e) {
				want++
			}
		}
		if want == 0 || a.c.Rows.Len() != want {
			t.Errorf("%s: the TUI shows %d events, the query selects %d (%s)", target, a.c.Rows.Len(), want, d.Command())
		}
		// The header shows the drill's window (as every window).
		if head, _, _ := strings.Cut(screen(a), "\n"); !strings.Contains(head, "window 2026-11-20 03:") {
			t.Errorf("%s: the header does not show the window:\n%s", target, screen(a))
		}
		if !strings.HasPrefix(d.Command(), "audittui query --from 2026-11-20T") {
			t.Errorf("command %q", d.Command())
		}
	}
}

// TestAlertsExpandToEvents: enter expands a group to its instances and an
// instance to its events; enter on an event opens it.
func TestAlertsExpandToEvents(t *testing.T) {
	a, _ := newAlertsApp(t, 120, 40)
	p := a.alerts
	send(t, a, "g", "down", "enter", "down", "enter", "down")
	it, _ := p.selected()
	if it.kind != itemEvent {
		t.Fatalf("not on an event after expanding: %+v\n%s", it, screen(a))
	}
	golden(t, "alerts_expanded_120x40.txt", screen(a))
	raw, err := a.c.Snap.Raw(it.row)
	if err != nil || !bytes.Contains(raw, []byte(it.alert.AuditIDs[0])) && !containsAny(raw, it.alert.AuditIDs) {
		t.Fatalf("event row is not one of the instance's events: %v", err)
	}
	send(t, a, "enter")
	if a.focus != paneDetail {
		t.Fatal("enter on an event did not open it")
	}
	// Collapse a rule: its groups go.
	send(t, a, "esc", "g", "enter")
	p.build()
	if p.items[1].kind == itemGroup {
		t.Errorf("rule did not collapse")
	}
}

func containsAny(b []byte, ids []string) bool {
	for _, id := range ids {
		if bytes.Contains(b, []byte(id)) {
			return true
		}
	}
	return false
}

// TestAlertsSilences: s silences the selected group (hidden, counted), S
// shows silenced groups dimmed, :silence takes a note, :silences lists
// them and enter unsilences; App.Silences/SetSilences carry them (a case
// file saves and restores them).
func TestAlertsSilences(t *testing.T) {
	a, _ := newAlertsApp(t, 120, 40)
	p := a.alerts
	send(t, a, "g", "down")
	first, _ := p.selected()
	send(t, a, "s")
	if !p.Silenced(first.group.Key) || strings.Contains(screen(a), "◌ silenced") {
		t.Fatal("s did not silence and hide the group")
	}
	if !strings.Contains(screen(a), "1 silenced") {
		t.Errorf("summary does not count the silence:\n%s", screen(a))
	}
	send(t, a, ":")
	typeText(t, a, "silence known scanner")
	send(t, a, "enter")
	ss := a.Silences()
	if len(ss) != 2 || ss[1].Note != "known scanner" || ss[0].Rule == "" || ss[0].At.IsZero() || len(ss[0].Labels) == 0 {
		t.Fatalf("silences: %+v", ss)
	}
	send(t, a, "S")
	if strings.Count(screen(a), "◌ silenced") != 2 {
		t.Errorf("S does not show silenced groups:\n%s", screen(a))
	}
	send(t, a, "S", ":")
	typeText(t, a, "silences")
	send(t, a, "enter")
	s := screen(a)
	checkScreen(t, s, 120, 40)
	if !strings.Contains(s, "2 silenced groups") || !strings.Contains(s, "known scanner") {
		t.Fatalf(":silences list:\n%s", s)
	}
	send(t, a, "enter") // unsilences the first
	if len(a.Silences()) != 1 {
		t.Fatalf("enter in the list did not unsilence: %+v", a.Silences())
	}
	send(t, a, "esc")
	if p.Listing() {
		t.Fatal("esc did not close the list")
	}
	// A restored case.
	a.SetSilences(ss)
	if got := a.Silences(); len(got) != 2 || got[0].Key != ss[0].Key {
		t.Fatalf("SetSilences: %+v", got)
	}
}

// TestAlertsRulerSection: with a Loki source the pane shows the ruler's
// alerts beside the local ones, grouped the same way, and drills into a
// ruler alert with its rule's query; a rule evaluated on the server is
// marked so.
func TestAlertsRulerSection(t *testing.T) {
	a, f := newAlertsApp(t, 120, 40)
	set, err := rules.Parse("audittui", []byte(`groups:
  - name: audit
    rules:
      - alert: PodExecDetected
        expr: sum by (user_username, objectRef_namespace) (count_over_time({job="audit"} | json | objectRef_subresource="exec" [5m])) > 0
        labels: {severity: critical}
        annotations: {summary: "Pod exec executed"}
`))
	if err != nil {
		t.Fatal(err)
	}
	r := set.Rules()[0]
	at := time.Date(2026, 11, 20, 3, 40, 0, 0, time.UTC)
	ruler := &RulerState{Addr: "http://loki:3100", Rules: 1, At: at, Alerts: []*rules.Alert{
		{Rule: r, Name: r.Alert, State: rules.StateFiring, Severity: "critical", ActiveAt: at.Add(-10 * time.Minute), LastActive: at,
			Labels:      map[string]string{"user_username": "mallory", "objectRef_namespace": "kube-system", "severity": "critical"},
			Annotations: map[string]string{"summary": "Pod exec executed"}, Value: 1},
		{Rule: &rules.Rule{Alert: "Unreadable", File: "loki"}, Name: "Unreadable", State: rules.StatePending, ActiveAt: at, LastActive: at,
			Labels: map[string]string{"x": "1"}},
	}}
	server := map[string]bool{rules.GroupAlerts(f.alerts, rules.GroupOptions{})[0].Rule.Where(): true}
	a.alerts.SetState(AlertState{Local: f.alerts, Rules: f.rules, Events: int64(len(f.evs)), Ruler: ruler, Server: server})
	send(t, a, "g")
	s := screen(a)
	checkScreen(t, s, 120, 40)
	lines := strings.Split(s, "\n")
	if !strings.HasPrefix(lines[1], "Loki ruler http://loki:3100  2 alerts (1 firing), 1 alerting rule") || !strings.Contains(s, "mallory") {
		t.Fatalf("the ruler section is not first:\n%s", s)
	}
	if !strings.Contains(s, "Local rules") || !strings.Contains(s, "[Loki]") || !strings.Contains(s, "1 on Loki (query_range)") {
		t.Errorf("the local section does not say where rules ran:\n%s", s)
	}
	if !strings.Contains(s, "◐ pending") || !strings.Contains(s, "1 group, pending") {
		t.Errorf("the ruler's pending alert is not shown pending:\n%s", s)
	}
	send(t, a, "down", "down")
	it, _ := a.alerts.selected()
	if it.kind != itemGroup || !it.ruler {
		t.Fatalf("not on a ruler group: %+v\n%s", it, s)
	}
	d, ok := a.alerts.SelectedDrill()
	if !ok || !strings.Contains(d.Query, `objectRef_subresource="exec"`) || !strings.Contains(d.Query, `user_username="mallory"`) ||
		!d.From.Equal(at.Add(-15*time.Minute+time.Nanosecond)) {
		t.Fatalf("ruler drill: %+v %v", d, ok)
	}
	golden(t, "alerts_ruler_120x40.txt", screen(a))
	// The unreadable rule's alert is listed, not drilled into.
	send(t, a, "down", "down")
	if _, ok := a.alerts.SelectedDrill(); ok {
		t.Error("a drill for a rule without a query")
	}
	send(t, a, "f")
	if a.focus != paneAlerts || !strings.Contains(screen(a), "no events to filter to here") {
		t.Errorf("f on an alert without a query:\n%s", screen(a))
	}
}

// TestAlertsHostileLabels: the anonymous-probe story's object names carry
// terminal escapes and a bidi override, and an instance's labels and
// annotations can too: grouped, expanded to events and in the footer they
// are shown escaped, never interpreted.
func TestAlertsHostileLabels(t *testing.T) {
	f := loadAlertFixture(t)
	ix := fixtureIndex(t, f)
	hostile := *f.alerts[len(f.alerts)-1]
	hostile.Labels = map[string]string{"user_username": "mallory\x1b]0;pwned\a\u202e", "objectRef_name": "\x1b[2Jgone"}
	hostile.Annotations = map[string]string{"summary": "\x1b[31mred", "description": "bidi \u202e here"}
	alerts := append(append([]*rules.Alert(nil), f.alerts...), &hostile)
	for _, sz := range sizes {
		a := New(context.Background(), ix, nil, Options{Title: "generated.log", Compile: CompileLogQL})
		a.Update(tea.WindowSizeMsg{Width: sz.w, Height: sz.h})
		a.alerts.SetState(AlertState{Local: alerts, Rules: f.rules})
		send(t, a, "3")
		check := func(where string, want string) {
			t.Helper()
			frame := a.View().Content
			rest := sgr.ReplaceAllString(frame, "")
			if err := termsafetest.CheckLines(rest); err != nil {
				t.Fatalf("%dx%d %s: %v", sz.w, sz.h, where, err)
			}
			if !strings.Contains(rest, want) {
				t.Errorf("%dx%d %s: %q not shown:\n%s", sz.w, sz.h, where, want, rest)
			}
		}
		// The anonymous prober's group: its events show the escaped names.
		p := a.alerts
		p.build()
		target := -1
		for k, it := range p.items {
			if it.kind == itemGroup && it.group.Labels["user_username"] == "system:anonymous" && it.group.Events > 0 {
				target = k
				break
			}
		}
		if target < 0 {
			t.Fatal("no group of the anonymous prober")
		}
		p.cursor = target
		send(t, a, "enter", "down", "enter")
		check("anonymous prober's events", `\x1b`)
		// The hostile instance's group, selected: labels and footer.
		p.build()
		for k, it := range p.items {
			if it.kind == itemGroup && it.group.Labels["objectRef_name"] == hostile.Labels["objectRef_name"] {
				p.cursor = k
			}
		}
		check("hostile labels", `\x1b[2Jgone`)
		check("hostile description", `<U+202E>`)
	}
}

// TestAlertsSmallScreens: at 60x20 and 40x12 every line fits and the keys
// still work.
func TestAlertsSmallScreens(t *testing.T) {
	for _, sz := range []struct{ w, h int }{{60, 20}, {40, 12}} {
		a, _ := newAlertsApp(t, sz.w, sz.h)
		for _, keys := range [][]string{nil, {"down", "enter"}, {"down", "enter"}, {"s", "S"}, {":"}} {
			if len(keys) == 1 && keys[0] == ":" {
				send(t, a, ":")
				typeText(t, a, "silences")
				send(t, a, "enter")
			} else {
				send(t, a, keys...)
			}
			checkScreen(t, screen(a), sz.w, sz.h)
		}
	}
}

// TestSilencesAreKeptInTheCase: s, :silence NOTE and :unsilence are
// records of the case (rule, labels, note, who and when); the case lists
// the active ones (what the report shows), and a new session on the case
// has the same groups silenced.
func TestSilencesAreKeptInTheCase(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "case")
	open := func(author string) (*App, alertFixture) {
		f := loadAlertFixture(t)
		ix := fixtureIndex(t, f)
		st := AlertState{Local: f.alerts, Rules: f.rules, Events: int64(len(f.evs))}
		a := New(context.Background(), ix, nil, Options{Title: "generated.log", NoColor: true, Compile: CompileLogQL,
			Alerts: staticAlerts{st}, Write: LocalWrites{}, Case: dir, Author: author})
		a.alerts.now = func() time.Time { return time.Date(2026, 11, 20, 4, 0, 0, 0, time.UTC) }
		a.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
		runCmd(t, a, a.Init())
		a.alerts.SetState(st)
		send(t, a, "3")
		return a, f
	}
	a, _ := open("alice")
	if a.CaseDir() != dir {
		t.Fatalf("no case open: %q", a.status)
	}
	send(t, a, "g", "down") // the first group
	first, _ := a.alerts.selected()
	send(t, a, "s")
	if !strings.Contains(a.status, "silenced 1 group") {
		t.Errorf("status after s: %q", a.status)
	}
	// The cursor stays on the line, now the next group: silence it with
	// a note, then take that one back in the :silences list (oldest
	// first: the second line).
	second, _ := a.alerts.selected()
	if second.group == nil || second.group.Key == first.group.Key {
		t.Fatalf("no second group under the cursor: %+v", second)
	}
	command_(t, a, "silence known CI job")
	if !a.alerts.Silenced(second.group.Key) {
		t.Fatalf(":silence did not silence %s", second.group.Key)
	}
	command_(t, a, "silences")
	send(t, a, "down", "enter", "esc")
	if a.alerts.Silenced(second.group.Key) || !a.alerts.Silenced(first.group.Key) {
		t.Fatalf("silences %+v", a.Silences())
	}
	cs, err := casefile.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	st := cs.State()
	if len(st.Silences) != 1 {
		t.Fatalf("the case holds %d active silences: %+v", len(st.Silences), st.Silences)
	}
	s := st.Silences[0]
	if s.Silence.Group != first.group.Key || s.Silence.Rule != first.group.Name || s.Author != "alice" || s.Time.IsZero() {
		t.Errorf("silence record %+v %+v", s, s.Silence)
	}
	for k, v := range first.group.Labels {
		if s.Silence.Labels[k] != v {
			t.Errorf("label %s=%q, want %q", k, s.Silence.Labels[k], v)
		}
	}
	// Every silence and unsilence is on file (the :silence note too).
	raw, err := os.ReadFile(filepath.Join(dir, "silences.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(raw), "\n"); n != 3 || !strings.Contains(string(raw), "known CI job") || !strings.Contains(string(raw), `"unsilence"`) {
		t.Errorf("silences.jsonl (%d records):\n%s", n, raw)
	}

	// A new session on the case: the same group is silenced.
	b, _ := open("bob")
	if got := b.Silences(); len(got) != 1 || got[0].Key != first.group.Key {
		t.Fatalf("restored silences %+v", got)
	}
	if !strings.Contains(screen(b), "1 silenced") {
		t.Errorf("the pane does not count the restored silence:\n%s", screen(b))
	}
}

// TestHeaderKeepsTheDate: on a narrow screen the header's window keeps
// its date, and its zone when not UTC, before anything else: the tabs
// shorten first ("Alerts (45)", then only the focused pane's name), and
// a window across years keeps both years.
func TestHeaderKeepsTheDate(t *testing.T) {
	est := time.FixedZone("EST", -5*3600)
	for _, tc := range []struct {
		w         int
		loc       *time.Location
		date      string
		zone      string
		alertsTab string
	}{
		{120, time.UTC, "2026-11-20 02:00:00", "UTC", "3 Alerts (45 firing)"},
		{80, time.UTC, "11-20 02:00:00", "Z", "3 Alerts (45)"},
		{80, est, "11-19 21:00", " EST", "3 Alerts (45)"},
		{60, time.UTC, "11-20 02:00", "Z", "3 Alerts (45)"},
		{60, est, "11-19 21:00", " EST", "3 Alerts (45)"},
	} {
		a, _ := newAlertsApp(t, tc.w, 24)
		a.c.Loc = tc.loc
		head, _, _ := strings.Cut(screen(a), "\n")
		if !strings.Contains(head, tc.date) || !strings.Contains(head, tc.zone) || !strings.Contains(head, tc.alertsTab) {
			t.Errorf("%d columns, %s: header %q, want %q, %q and %q", tc.w, tc.loc, head, tc.date, tc.zone, tc.alertsTab)
		}
		if ansi.StringWidth(head) > tc.w {
			t.Errorf("%d columns: header %q is wider", tc.w, head)
		}
		if tc.w == 60 {
			// The other tabs keep their number, and Alerts its count.
			send(t, a, "1")
			if head, _, _ := strings.Cut(screen(a), "\n"); !strings.Contains(head, " 1 Tail  2  3 (45)  4  5 ") || !strings.Contains(head, tc.date) {
				t.Errorf("60 columns on the Tail: header %q", head)
			}
		}
	}
	// Across years, no date loses its year.
	lines := fixtureLines(t, "testdata/events.jsonl")
	mk := func(ts string) string {
		return strings.ReplaceAll(strings.ReplaceAll(lines[0], "2026-11-20T09:00:00.000000Z", ts), "2026-11-20T09:00:00.012000Z", ts)
	}
	p := writeLines(t, "years.jsonl", []string{mk("2018-10-26T13:25:00.000000Z"), mk("2020-04-21T17:58:00.000000Z")})
	for _, w := range []int{120, 80, 60} {
		a := newTestAppFile(t, p, w, 24)
		head, _, _ := strings.Cut(screen(a), "\n")
		if !strings.Contains(head, "2018-10-26") || !strings.Contains(head, "2020-04-21") {
			t.Errorf("%d columns: header %q without both years", w, head)
		}
	}
}

// TestAlertsSaysHowLongEvaluationTook: once every event is evaluated the
// summary says how long it took ("evaluated in 2.19s"), as the status
// says "indexed in"; a state without the figure says "evaluated".
func TestAlertsSaysHowLongEvaluationTook(t *testing.T) {
	a, f := newAlertsApp(t, 120, 40)
	a.alerts.SetState(AlertState{Local: f.alerts, Rules: f.rules, Events: int64(len(f.evs)), Done: true, EvaluatedIn: 2187 * time.Millisecond})
	if s := screen(a); !strings.Contains(strings.Split(s, "\n")[1], "· evaluated in 2.19s ·") {
		t.Errorf("no evaluation time in the summary:\n%s", s)
	}
	a.alerts.SetState(AlertState{Local: f.alerts, Rules: f.rules, Events: int64(len(f.evs)), Done: true})
	if s := screen(a); !strings.Contains(strings.Split(s, "\n")[1], "· evaluated ·") {
		t.Errorf("summary without a time:\n%s", s)
	}
}

// TestAlertsOverAWindow: with --from, the rules read their look-back
// before it (live.Open) while the index holds the window only. The
// summary says how many of the evaluated events were before the window,
// and a drill-in whose window starts before --from says that those events
// were read for the rules only.
func TestAlertsOverAWindow(t *testing.T) {
	f := loadAlertFixture(t)
	ix := fixtureIndex(t, f)
	_, since, _ := f.alerts[0].DrillDown()
	from := since.Add(time.Minute).UnixNano()
	st := AlertState{Local: f.alerts, Rules: f.rules, Events: int64(len(f.evs)), Before: 1234, Done: true}
	a := New(context.Background(), ix, nil, Options{Title: "generated.log", NoColor: true, Compile: CompileLogQL,
		Alerts: staticAlerts{st}, Window: TimeWindow{From: from}})
	a.alerts.now = func() time.Time { return time.Date(2026, 11, 20, 4, 0, 0, 0, time.UTC) }
	a.Update(tea.WindowSizeMsg{Width: 160, Height: 40})
	a.alerts.SetState(st)
	send(t, a, "3")
	if s := screen(a); !strings.Contains(strings.Split(s, "\n")[1], fmt.Sprintf("over %s events (1,234 before the window)", thousands(int64(len(f.evs))))) {
		t.Errorf("the summary does not say what was read before the window:\n%s", s)
	}
	// A group whose drill starts before --from.
	a.alerts.build()
	found := false
	for k := range a.alerts.items {
		a.alerts.cursor = k
		if d, ok := a.alerts.SelectedDrill(); ok && d.From.UnixNano() < from {
			found = true
			break
		}
	}
	if !found {
		t.Fatal("no drill starts before --from")
	}
	send(t, a, "f")
	if !strings.Contains(a.status, "were read for the rules only") || !strings.HasPrefix(a.status, "= audittui query --from ") {
		t.Errorf("status after f: %q", a.status)
	}
}

// TestAlertsWindowBeforeFirstEvent: when the window starts before the
// first event the rules read and a rule answers on absence, the summary
// says that absence was judged from the window's start, before the first
// event read: no evidence either way if the input starts there.
func TestAlertsWindowBeforeFirstEvent(t *testing.T) {
	f := loadAlertFixture(t)
	ix := fixtureIndex(t, f)
	first := time.Unix(0, f.evs[0].Time).UTC()
	st := AlertState{Local: f.alerts, Rules: f.rules, Events: int64(len(f.evs)), Done: true, FirstRead: first}
	a := New(context.Background(), ix, nil, Options{Title: "generated.log", NoColor: true, Compile: CompileLogQL,
		Alerts: staticAlerts{st}, Window: TimeWindow{From: first.Add(-time.Hour).UnixNano()}})
	a.alerts.now = func() time.Time { return time.Date(2026, 11, 20, 4, 0, 0, 0, time.UTC) }
	a.Update(tea.WindowSizeMsg{Width: 250, Height: 40})
	a.alerts.SetState(st)
	send(t, a, "3")
	want := "absence judged from the window's start, before the first event read (" + a.c.fmtTime(first.UnixNano()) + "): no evidence if the input starts there"
	if s := screen(a); !strings.Contains(strings.Split(s, "\n")[1], want) {
		t.Errorf("the summary does not say that absence was judged before the first event read:\n%s", s)
	}
}

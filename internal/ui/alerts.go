package ui

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/audittui/audittui/internal/termsafe"
)

// Alert is one alert instance as the pane shows it (the CLI converts the
// rule engine's instances).
type Alert struct {
	Key      string // unique per instance
	Name     string // rule (alert) name
	Severity string
	State    string // pending, firing, resolved
	Labels   string // {a="x", b="y"}
	Summary  string
	Value    float64
	Events   int
	ActiveAt time.Time
	// AuditIDs are sample auditIDs of the events that made it fire.
	AuditIDs []string
}

// Firing reports whether the instance is firing.
func (a *Alert) Firing() bool { return a.State == "firing" }

// severityRank orders severities, most severe highest.
func severityRank(s string) int {
	switch strings.ToLower(s) {
	case "critical", "page":
		return 4
	case "high", "error":
		return 3
	case "warning", "warn", "medium":
		return 2
	case "info", "low":
		return 1
	}
	return 0
}

// AlertSource is the alert engine as the UI sees it: the current alert
// instances, and a channel signalled (coalesced) when they change, so the
// pane updates live while tailing.
type AlertSource interface {
	// Alerts returns a snapshot of the alert instances (the caller must
	// not modify them).
	Alerts() []*Alert
	// Changed is signalled when Alerts changed.
	Changed() <-chan struct{}
	// Rules is how many rules are loaded (for the empty state).
	Rules() int
}

// alertsMsg carries a new snapshot of the alert instances.
type alertsMsg struct{ alerts []*Alert }

// AlertsPane lists alert instances grouped by rule, severity-coloured;
// enter on an instance drills into the events that made it fire.
type AlertsPane struct {
	c      *Common
	src    AlertSource
	w, h   int
	alerts []*Alert
	items  []alertItem
	cursor int
	top    int
	open   map[string]bool // instance keys expanded
	dirty  bool
}

// alertItem is one line of the pane: a rule header, an instance, or one
// of an expanded instance's events.
type alertItem struct {
	kind  byte // 'r' rule, 'a' alert, 'e' event
	rule  string
	group []*Alert
	alert *Alert
	row   int
}

// NewAlertsPane returns the pane; src may be nil (alerts off).
func NewAlertsPane(c *Common, src AlertSource) *AlertsPane {
	return &AlertsPane{c: c, src: src, open: map[string]bool{}, dirty: true}
}

func (p *AlertsPane) Title() string    { return "Alerts" }
func (p *AlertsPane) Scope() Scope     { return ScopeAlerts }
func (p *AlertsPane) SetSize(w, h int) { p.w, p.h = w, h }
func (p *AlertsPane) Refresh()         { p.dirty = true }

// Wait returns a command waiting for the next change of the alerts.
func (p *AlertsPane) Wait() tea.Cmd {
	if p.src == nil {
		return nil
	}
	src := p.src
	return func() tea.Msg {
		<-src.Changed()
		return alertsMsg{alerts: src.Alerts()}
	}
}

// Update takes a new snapshot of alerts.
func (p *AlertsPane) Update(m alertsMsg) {
	p.alerts = m.alerts
	p.dirty = true
}

// SetAlerts sets the instances directly (tests, replay results).
func (p *AlertsPane) SetAlerts(as []*Alert) { p.Update(alertsMsg{alerts: as}) }

// Firing counts firing instances (for the tab label).
func (p *AlertsPane) Firing() int {
	n := 0
	for _, a := range p.alerts {
		if a.Firing() {
			n++
		}
	}
	return n
}

func (p *AlertsPane) build() {
	if !p.dirty {
		return
	}
	p.dirty = false
	byRule := map[string][]*Alert{}
	var names []string
	for _, a := range p.alerts {
		if _, ok := byRule[a.Name]; !ok {
			names = append(names, a.Name)
		}
		byRule[a.Name] = append(byRule[a.Name], a)
	}
	// Most severe first, then by name.
	sort.SliceStable(names, func(i, j int) bool {
		si, sj := severityRank(byRule[names[i]][0].Severity), severityRank(byRule[names[j]][0].Severity)
		if si != sj {
			return si > sj
		}
		return names[i] < names[j]
	})
	p.items = p.items[:0]
	for _, n := range names {
		g := byRule[n]
		p.items = append(p.items, alertItem{kind: 'r', rule: n, group: g})
		for _, a := range g {
			p.items = append(p.items, alertItem{kind: 'a', rule: n, alert: a})
			if p.open[a.Key] {
				for _, row := range p.eventRows(a) {
					p.items = append(p.items, alertItem{kind: 'e', rule: n, alert: a, row: row})
				}
			}
		}
	}
	p.cursor = max(0, min(p.cursor, len(p.items)-1))
}

// eventRows finds the index rows of an alert's sample auditIDs.
func (p *AlertsPane) eventRows(a *Alert) []int {
	s := p.c.Snap
	want := map[uint64]bool{}
	for _, id := range a.AuditIDs {
		want[hashID(id)] = true
	}
	var rows []int
	if len(want) == 0 {
		return rows
	}
	for i := 0; i < s.Len(); i++ {
		if want[s.AuditIDHash(i)] {
			rows = append(rows, i)
		}
	}
	// In display (time) order.
	sort.Slice(rows, func(a, b int) bool { return s.Pos(rows[a]) < s.Pos(rows[b]) })
	return rows
}

// Selected returns the event row under the cursor, if on an event line.
func (p *AlertsPane) Selected() (int, bool) {
	p.build()
	if p.cursor < len(p.items) && p.items[p.cursor].kind == 'e' {
		return p.items[p.cursor].row, true
	}
	return 0, false
}

// AlertFilter returns a filter showing the events of the alert under the
// cursor.
func (p *AlertsPane) AlertFilter() (*Filter, bool) {
	p.build()
	if p.cursor >= len(p.items) || p.items[p.cursor].alert == nil {
		return nil, false
	}
	a := p.items[p.cursor].alert
	f, err := CompileLogQL(AuditIDQuery(a.AuditIDs))
	if err != nil || len(a.AuditIDs) == 0 {
		return nil, false
	}
	// auditID is not a column: the hashes of the wanted IDs pick the
	// candidate rows, and the query (re-reading only those) confirms them.
	want := map[uint64]bool{}
	for _, id := range a.AuditIDs {
		want[hashID(id)] = true
	}
	f.index = func(s *Snapshot, i int) bool { return want[s.AuditIDHash(i)] }
	return f, true
}

// AuditIDQuery returns the LogQL of the events with these auditIDs (every
// stage of each), as the Alerts drill-in writes it:
//
//	{job="audit"} | json | auditID="a" or auditID="b"
func AuditIDQuery(ids []string) string {
	var b strings.Builder
	b.WriteString(shorthandSelector + " | ")
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		if len(seen) > 0 {
			b.WriteString(" or ")
		}
		seen[id] = true
		b.WriteString("auditID=" + strconv.Quote(id))
	}
	return b.String()
}

func (p *AlertsPane) Action(a Action) (tea.Cmd, bool) {
	p.build()
	switch a {
	case ActUp:
		p.cursor--
	case ActDown:
		p.cursor++
	case ActPageUp:
		p.cursor -= p.h
	case ActPageDown:
		p.cursor += p.h
	case ActTop:
		p.cursor = 0
	case ActBottom:
		p.cursor = len(p.items) - 1
	case ActOpen:
		if p.cursor < len(p.items) {
			it := p.items[p.cursor]
			switch it.kind {
			case 'a':
				p.open[it.alert.Key] = !p.open[it.alert.Key]
				p.dirty = true
			case 'r':
				for _, al := range it.group {
					p.open[al.Key] = true
				}
				p.dirty = true
			}
		}
	default:
		return nil, false
	}
	p.cursor = max(0, min(p.cursor, len(p.items)-1))
	return nil, true
}

func (p *AlertsPane) View() string {
	p.build()
	st := p.c.Styles
	if p.src == nil && len(p.alerts) == 0 {
		return fill([]string{st.Muted.Render("alerts are off (no rule engine configured)")}, p.h)
	}
	if len(p.items) == 0 {
		n := 0
		if p.src != nil {
			n = p.src.Rules()
		}
		return fill([]string{st.Good.Render(fmt.Sprintf("no alert fired (%d rules evaluated over what is loaded)", n))}, p.h)
	}
	if p.cursor < p.top {
		p.top = p.cursor
	}
	if p.cursor >= p.top+p.h {
		p.top = p.cursor - p.h + 1
	}
	l := p.c.rowLayout(p.w - 6)
	var lines []string
	for k := p.top; k < len(p.items) && len(lines) < p.h; k++ {
		it := p.items[k]
		sel := k == p.cursor
		var line string
		switch it.kind {
		case 'r':
			sev := it.group[0].Severity
			firing := 0
			for _, a := range it.group {
				if a.Firing() {
					firing++
				}
			}
			line = st.SeverityStyle(sev).Render(fmt.Sprintf("%-8s ", strings.ToUpper(termsafe.String(sev)))) +
				st.Bold.Render(termsafe.String(it.rule)) + st.Muted.Render(fmt.Sprintf("  %s, %d firing", plural(len(it.group), "instance"), firing))
		case 'a':
			a := it.alert
			mark := "▸"
			if p.open[a.Key] {
				mark = "▾"
			}
			when := p.c.fmtTime(a.ActiveAt.UnixNano())
			line = fmt.Sprintf("  %s %-8s %s  value %.3g  events %d  ", mark, termsafe.String(a.State), when, a.Value, a.Events) +
				termsafe.String(a.Labels)
			if a.Summary != "" {
				line += "  " + termsafe.String(a.Summary)
			}
			line = truncateANSI(line, p.w)
			if a.Firing() {
				line = st.SeverityStyle(a.Severity).Render(line)
			}
		case 'e':
			line = "      " + renderRow(st, p.c.Snap, it.row, l, sel)
		}
		if sel && it.kind != 'e' {
			line = st.Selected.Render(ansiStrip(line))
		}
		lines = append(lines, truncateANSI(line, p.w))
	}
	return fill(lines, p.h)
}

// plural is "1 instance", "2 instances".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

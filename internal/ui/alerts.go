package ui

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/audittui/audittui/internal/policy/rules"
	"github.com/audittui/audittui/internal/termsafe"
)

// The Alerts pane shows alert instances as an on-call engineer reads
// Alertmanager: grouped by rule, then by the rule's grouping labels (the
// labels of its `by (...)` clause; rules.GroupAlerts), firing groups first,
// then by severity, then by the latest activity. Each group has its counts
// and a sparkline of when its instances were active; enter expands a rule,
// a group (to its instances) and an instance (to its sample events); f
// filters every pane to the events of what is selected with a LogQL query
// (and the time window) that `audittui query --from --to` answers the
// same. A group can be silenced for this investigation (s, :silence):
// silenced groups are hidden (S shows them, dimmed) and listed by
// :silences. When the TUI reads Loki, the pane shows what Loki's own ruler
// reports beside the local evaluation, grouped the same way.

// AlertState is what the alert engine reports to the pane.
type AlertState struct {
	// Local are the instances the rules raised here (evaluated over the
	// loaded events, or on the Loki server with query_range: see Methods).
	Local []*rules.Alert
	// Rules is how many rules are evaluated; Events how many events they
	// saw.
	Rules  int
	Events int64
	// Before is how many of Events are before the window asked for
	// (--from): read for the rules' look-back only, not loaded.
	Before int64
	// Evaluating: events read are not all evaluated yet. Done: the input
	// ended and every window has drained; EvaluatedIn how long after the
	// sources were opened that was (0: unknown).
	Evaluating, Done bool
	EvaluatedIn      time.Duration
	// Server names the rules evaluated on the Loki server (query_range),
	// by Rule.Where(); the others run here. ServerErr says why a server
	// evaluation failed.
	Server    map[string]bool
	ServerErr string
	// Ruler is what Loki's ruler says (nil: the source is not Loki).
	Ruler *RulerState
	// FirstRead is the time of the first event the rules read, set when
	// it is after the window's start (--from) and a rule answers on
	// absence (absent_over_time): as Loki's ruler would, those judged the
	// time between as silence, which over an input that does not reach
	// back that far is no evidence either way (the pane says so).
	FirstRead time.Time
	// Problems are the rules whose answer is not to be trusted: their
	// evaluation failed at some steps (rules.Failure), or a selector of
	// theirs selects no stream of the sources (they can never fire). The
	// pane names each above the list, as `audittui alerts` does on stderr.
	Problems []RuleProblem
}

// RuleProblem is a rule the Alerts pane warns about: Why follows the
// rule's name and file:line ("failed at 3 evaluations, ...: ...", "can
// never fire: {job="x"} selects no stream of the sources: ..."). Both are
// untrusted (rule files, label values).
type RuleProblem struct {
	Rule *rules.Rule
	Why  string
}

// FailureProblems turns failed evaluations into the pane's problems, the
// error first (a narrow line keeps it): "failed: many-to-many ... (3
// evaluations, 2026-11-20T03:00:00Z to ..., raising nothing there)".
func FailureProblems(fs []rules.Failure) []RuleProblem {
	out := make([]RuleProblem, 0, len(fs))
	for _, f := range fs {
		out = append(out, RuleProblem{Rule: f.Rule, Why: fmt.Sprintf("failed: %s (%s, %s to %s, raising nothing there)",
			f.Err, plural(int(f.Steps), "evaluation", "evaluations"), f.First.UTC().Format(time.RFC3339), f.Last.UTC().Format(time.RFC3339))})
	}
	return out
}

// RulerState is the state of Loki's own ruler (GET /prometheus/api/v1/alerts
// and /loki/api/v1/rules).
type RulerState struct {
	Addr string
	// Alerts are the ruler's active alerts as instances of the ruler's
	// own rules (parsed from /loki/api/v1/rules; a rule audittui cannot
	// parse has no query, and its alerts cannot be drilled into).
	Alerts []*rules.Alert
	// Rules is how many alerting rules the ruler has.
	Rules int
	// At is when the ruler was asked; Err why it could not be.
	At  time.Time
	Err string
}

// AlertSource is the alert engine as the UI sees it: its current state,
// and a channel signalled (coalesced) when it changes.
type AlertSource interface {
	// Alerts returns the current state (the caller must not modify it).
	Alerts() AlertState
	// Changed is signalled when Alerts changed.
	Changed() <-chan struct{}
}

// alertsMsg carries a new state of the alerts, its instances already
// grouped (in the command, off the Update goroutine).
type alertsMsg struct {
	state        AlertState
	local, ruler []*rules.RuleGroup
}

// groupAlerts groups a state's instances for the pane.
func groupAlerts(s AlertState) alertsMsg {
	m := alertsMsg{state: s, local: rules.GroupAlerts(s.Local, rules.GroupOptions{Buckets: sparkBuckets})}
	if s.Ruler != nil {
		m.ruler = rules.GroupAlerts(s.Ruler.Alerts, rules.GroupOptions{Buckets: sparkBuckets})
	}
	return m
}

// sparkBuckets is the width of a group's sparkline.
const sparkBuckets = 8

// maxGroupsShown is how many groups of a rule are listed before a
// "… more" line (enter on it lists them all).
const maxGroupsShown = 5

// AlertsPane lists the alerts grouped; see the comment at the top.
type AlertsPane struct {
	c     *Common
	src   AlertSource
	w, h  int
	state AlertState
	// local and ruler are the grouped instances of the two sections.
	local, ruler []*rules.RuleGroup
	items        []alertItem
	cursor, top  int
	dirty        bool

	closedRule map[string]bool // rule sections collapsed (by section+rule)
	allGroups  map[string]bool // rules whose every group is listed
	openGroup  map[string]bool // groups expanded to their instances
	showAll    bool            // list every group, filter or not (A)
	openInst   map[string]bool // instances expanded to their events

	silences     []Silence
	showSilenced bool
	// listing is the :silences list (cursor silCursor).
	listing   bool
	silCursor int

	// eventRows caches the index rows of an instance's sample auditIDs.
	eventRows map[string]*eventRowCache
	now       func() time.Time
}

type eventRowCache struct {
	upTo int
	rows []int
	snap *Snapshot // the snapshot rows were sorted for
}

// Item kinds.
const (
	itemSection = iota
	itemRule
	itemGroup
	itemMore
	itemInstance
	itemEvent
)

// alertItem is one line of the list.
type alertItem struct {
	kind    int
	ruler   bool // in the Loki ruler section
	rule    *rules.RuleGroup
	group   *rules.AlertGroup
	alert   *rules.Alert
	row     int // itemEvent: index row
	section string
}

// NewAlertsPane returns the pane; src may be nil (alerts off).
func NewAlertsPane(c *Common, src AlertSource) *AlertsPane {
	return &AlertsPane{c: c, src: src, dirty: true, closedRule: map[string]bool{}, allGroups: map[string]bool{},
		openGroup: map[string]bool{}, openInst: map[string]bool{}, eventRows: map[string]*eventRowCache{}, now: time.Now}
}

func (p *AlertsPane) Title() string {
	if n := p.FiringGroups(); n > 0 {
		return fmt.Sprintf("Alerts (%d firing)", n)
	}
	return "Alerts"
}

// ShortTitle is the tab's title on a narrow screen.
func (p *AlertsPane) ShortTitle() string {
	if b := p.Badge(); b != "" {
		return "Alerts " + b
	}
	return "Alerts"
}

// Badge is what the tab keeps beside its number when narrowest: how many
// groups fire.
func (p *AlertsPane) Badge() string {
	if n := p.FiringGroups(); n > 0 {
		return fmt.Sprintf("(%d)", n)
	}
	return ""
}
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
		return groupAlerts(src.Alerts())
	}
}

// Update takes a new state of the alerts.
func (p *AlertsPane) Update(m alertsMsg) {
	p.state, p.local, p.ruler = m.state, m.local, m.ruler
	p.dirty = true
}

// SetState sets the state directly (tests, replay results).
func (p *AlertsPane) SetState(s AlertState) { p.Update(groupAlerts(s)) }

// FiringGroups counts the groups with a firing instance that are not
// silenced, in both sections: what the tab title counts, in every mode.
func (p *AlertsPane) FiringGroups() int {
	n := 0
	for _, sec := range [][]*rules.RuleGroup{p.local, p.ruler} {
		for _, rg := range sec {
			for _, g := range rg.Groups {
				if g.Firing > 0 && !p.Silenced(g.Key) {
					n++
				}
			}
		}
	}
	return n
}

// plural returns "1 group" or "2 groups".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return thousands(int64(n)) + " " + many
}

func (p *AlertsPane) ruleKey(ruler bool, rg *rules.RuleGroup) string {
	if ruler {
		return "ruler " + rg.Rule.Where() + " " + rg.Name
	}
	return rg.Rule.Where() + " " + rg.Name
}

// visibleGroups returns the groups of rg the list shows (silenced ones
// only with S).
func (p *AlertsPane) visibleGroups(rg *rules.RuleGroup) []*rules.AlertGroup {
	var out []*rules.AlertGroup
	for _, g := range rg.Groups {
		if (p.showSilenced || !p.Silenced(g.Key)) && p.underFilter(g) {
			out = append(out, g)
		}
	}
	return out
}

// filtered reports whether the pane lists only the groups with counted
// events under the filter and window (the rules still evaluate over
// everything: they need the context) (review I 4); A shows them all.
func (p *AlertsPane) filtered() bool {
	return !p.showAll && p.c.Rows != nil && !p.c.Rows.All
}

// underFilter reports whether one of g's counted (sample) events is among
// the rows the filter and window match; a group with no sample events (a
// Loki ruler's) is always listed.
func (p *AlertsPane) underFilter(g *rules.AlertGroup) bool {
	if !p.filtered() {
		return true
	}
	r, samples := p.c.Rows, false
	for _, a := range g.Alerts {
		if len(a.AuditIDs) > 0 {
			samples = true
		}
		for _, i := range p.eventRowsOf(instKey(false, a), a) {
			if k := r.Search(i); k < len(r.Rows) && int(r.Rows[k]) == i {
				return true
			}
		}
	}
	return !samples
}

func (p *AlertsPane) build() {
	if !p.dirty {
		return
	}
	p.dirty = false
	p.items = p.items[:0]
	add := func(ruler bool, secs []*rules.RuleGroup) {
		for _, rg := range secs {
			gs := p.visibleGroups(rg)
			if len(gs) == 0 {
				continue
			}
			p.items = append(p.items, alertItem{kind: itemRule, ruler: ruler, rule: rg})
			rk := p.ruleKey(ruler, rg)
			if p.closedRule[rk] {
				continue
			}
			shown := gs
			if len(gs) > maxGroupsShown+1 && !p.allGroups[rk] {
				shown = gs[:maxGroupsShown]
			}
			for _, g := range shown {
				p.items = append(p.items, alertItem{kind: itemGroup, ruler: ruler, rule: rg, group: g})
				if !p.openGroup[g.Key] {
					continue
				}
				for _, a := range g.Alerts {
					p.items = append(p.items, alertItem{kind: itemInstance, ruler: ruler, rule: rg, group: g, alert: a})
					k := instKey(ruler, a)
					if !p.openInst[k] {
						continue
					}
					for _, row := range p.eventRowsOf(k, a) {
						p.items = append(p.items, alertItem{kind: itemEvent, ruler: ruler, rule: rg, group: g, alert: a, row: row})
					}
				}
			}
			if len(shown) < len(gs) {
				p.items = append(p.items, alertItem{kind: itemMore, ruler: ruler, rule: rg})
			}
		}
	}
	if p.state.Ruler != nil {
		// What paged the on-call engineer first, then the evaluation here.
		p.items = append(p.items, alertItem{kind: itemSection, ruler: true, section: "ruler"})
		add(true, p.ruler)
		p.items = append(p.items, alertItem{kind: itemSection, section: "local"})
	}
	add(false, p.local)
	p.cursor = max(0, min(p.cursor, len(p.items)-1))
}

// instKey names an instance across refreshes.
func instKey(ruler bool, a *rules.Alert) string {
	k := a.Rule.Where() + " " + a.Name + " " + rules.LabelsString(a.Labels) + "@" + strconv.FormatInt(a.ActiveAt.UnixNano(), 10)
	if ruler {
		return "ruler " + k
	}
	return k
}

// eventRowsOf finds the index rows of an instance's sample auditIDs
// (every stage of each), scanning only rows added since the last call.
func (p *AlertsPane) eventRowsOf(key string, a *rules.Alert) []int {
	s := p.c.Snap
	if len(a.AuditIDs) == 0 || s == nil {
		return nil
	}
	c := p.eventRows[key]
	if c == nil {
		c = &eventRowCache{}
		p.eventRows[key] = c
	}
	if c.upTo > s.Len() { // a new index
		c.upTo, c.rows = 0, nil
	}
	want := map[uint64]bool{}
	for _, id := range a.AuditIDs {
		want[hashID(id)] = true
	}
	grew := false
	for i := c.upTo; i < s.Len(); i++ {
		if want[s.AuditIDHash(i)] {
			c.rows = append(c.rows, i)
			grew = true
		}
	}
	c.upTo = s.Len()
	if grew || c.snap != s {
		// In display (time) order, which a new snapshot may change.
		sort.Slice(c.rows, func(a, b int) bool { return s.Pos(c.rows[a]) < s.Pos(c.rows[b]) })
		c.snap = s
	}
	return c.rows
}

// selectedEventRows returns the index rows of the sample events of the
// selected instance (on a group: of all its instances), in display order,
// and the alert's name.
func (p *AlertsPane) selectedEventRows() ([]int, string, bool) {
	it, ok := p.selected()
	if !ok || p.listing {
		return nil, "", false
	}
	var as []*rules.Alert
	switch {
	case it.alert != nil:
		as = []*rules.Alert{it.alert}
	case it.group != nil:
		as = it.group.Alerts
	default:
		return nil, "", false
	}
	seen := map[int]bool{}
	var rows []int
	for _, al := range as {
		for _, r := range p.eventRowsOf(instKey(it.ruler, al), al) {
			if !seen[r] {
				seen[r] = true
				rows = append(rows, r)
			}
		}
	}
	s := p.c.Snap
	sort.Slice(rows, func(a, b int) bool { return s.Pos(rows[a]) < s.Pos(rows[b]) })
	name := as[0].Name
	return rows, name, true
}

// selected returns the item under the cursor.
func (p *AlertsPane) selected() (alertItem, bool) {
	p.build()
	if p.cursor < 0 || p.cursor >= len(p.items) {
		return alertItem{}, false
	}
	return p.items[p.cursor], true
}

// Selected returns the event row under the cursor, if on an event line.
func (p *AlertsPane) Selected() (int, bool) {
	if p.listing {
		return 0, false
	}
	it, ok := p.selected()
	if ok && it.kind == itemEvent {
		return it.row, true
	}
	return 0, false
}

// Drill is what a drill-in filters to: a LogQL log query and the window
// [From, To) it covers, as `audittui query --from From --to To QUERY`
// takes them.
type Drill struct {
	Query    string
	From, To time.Time
}

// Command returns the `audittui query` command line that answers the
// drill the same way.
func (d Drill) Command() string {
	return fmt.Sprintf("audittui query --from %s --to %s '%s'", d.From.UTC().Format(time.RFC3339Nano),
		d.To.UTC().Format(time.RFC3339Nano), strings.ReplaceAll(d.Query, "'", `'\''`))
}

// groupDrill is the drill of a group: the rule's log query narrowed to the
// group's labels, over the windows of all its instances.
func groupDrill(g *rules.AlertGroup) (Drill, bool) {
	if g.Rule == nil || g.Rule.Query() == nil || len(g.Alerts) == 0 {
		return Drill{}, false
	}
	var d Drill
	for k, a := range g.Alerts {
		_, from, to := a.DrillDown()
		if k == 0 || from.Before(d.From) {
			d.From = from
		}
		if k == 0 || to.After(d.To) {
			d.To = to
		}
	}
	var b strings.Builder
	// A ratio's group drills into its numerator's events, as its
	// instances do (rules.Alert.DrillDown).
	lq, _, _ := g.Rule.Query().DrillQuery()
	b.WriteString(lq.DrillString())
	keys := make([]string, 0, len(g.Labels))
	for k := range g.Labels {
		keys = append(keys, k)
	}
	// A grouping label the group has no value for is filtered empty.
	keys = append(keys, rules.MissingGroupLabels(g.Rule, g.Labels)...)
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString(" | " + k + "=" + strconv.Quote(g.Labels[k]))
	}
	d.Query = b.String()
	return d, true
}

// instanceDrill is rules.Alert.DrillDown as a Drill.
func instanceDrill(a *rules.Alert) (Drill, bool) {
	if a.Rule == nil || a.Rule.Query() == nil {
		return Drill{}, false
	}
	q, from, to := a.DrillDown()
	return Drill{Query: q, From: from, To: to}, true
}

// SelectedDrill returns the drill of the selected group (on a rule: its
// first group; on an instance or event: that instance).
func (p *AlertsPane) SelectedDrill() (Drill, bool) {
	it, ok := p.selected()
	if !ok || p.listing {
		return Drill{}, false
	}
	switch it.kind {
	case itemRule, itemMore:
		if gs := p.visibleGroups(it.rule); len(gs) == 1 {
			return groupDrill(gs[0])
		}
		return Drill{}, false
	case itemGroup:
		return groupDrill(it.group)
	case itemInstance, itemEvent:
		return instanceDrill(it.alert)
	}
	return Drill{}, false
}

// AlertFilter returns the filter of the selected drill (see Drill): the
// query as the filter bar shows it, over its window.
func (p *AlertsPane) AlertFilter() (*Filter, string, bool) {
	d, ok := p.SelectedDrill()
	if !ok {
		return nil, "", false
	}
	f, err := CompileLogQL(d.Query)
	if err != nil {
		return nil, "", false
	}
	f.Since, f.Until = d.From.UnixNano(), d.To.UnixNano()
	return f, d.Command(), true
}

// AuditIDQuery returns the LogQL of the events with these auditIDs (every
// stage of each):
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
	if p.listing {
		return p.listAction(a)
	}
	p.build()
	switch a {
	case ActUp:
		p.cursor--
	case ActDown:
		p.cursor++
	case ActPageUp:
		p.cursor -= p.listHeight()
	case ActPageDown:
		p.cursor += p.listHeight()
	case ActTop:
		p.cursor = 0
	case ActBottom:
		p.cursor = len(p.items) - 1
	case ActOpen:
		p.toggle()
	case ActSilence:
		msg := p.silenceSelected("")
		return func() tea.Msg { return statusMsg(msg) }, true
	case ActShowAllGroups:
		p.showAll = !p.showAll
		p.dirty = true
	case ActShowSilenced:
		p.showSilenced = !p.showSilenced
		p.dirty = true
	default:
		return nil, false
	}
	p.cursor = max(0, min(p.cursor, len(p.items)-1))
	return nil, true
}

// toggle expands or collapses what is selected.
func (p *AlertsPane) toggle() {
	it, ok := p.selected()
	if !ok {
		return
	}
	switch it.kind {
	case itemRule:
		k := p.ruleKey(it.ruler, it.rule)
		p.closedRule[k] = !p.closedRule[k]
	case itemMore:
		p.allGroups[p.ruleKey(it.ruler, it.rule)] = true
	case itemGroup:
		p.openGroup[it.group.Key] = !p.openGroup[it.group.Key]
	case itemInstance:
		k := instKey(it.ruler, it.alert)
		p.openInst[k] = !p.openInst[k]
	default:
		return
	}
	p.dirty = true
}

func (p *AlertsPane) listHeight() int { return max(1, p.h-3-len(p.problemLines())) }

// maxProblemLines is how many lines name rule problems above the list;
// the last counts the others when there are more.
const maxProblemLines = 3

// problemLines are the warnings above the list, one per rule whose
// evaluation failed or that can never fire (AlertState.Problems): "⚠ rule
// NAME (file:line) WHY", untrusted text shown escaped, as `audittui
// alerts` says it on stderr.
func (p *AlertsPane) problemLines() []string {
	ps := p.state.Problems
	if len(ps) == 0 {
		return nil
	}
	st := p.c.Styles
	n := len(ps)
	if n > maxProblemLines {
		n = maxProblemLines - 1
	}
	var out []string
	for _, pr := range ps[:n] {
		name, where := "?", ""
		if pr.Rule != nil {
			name, where = pr.Rule.Alert, " ("+pr.Rule.Where()+")"
		}
		head := "⚠ rule "
		text := name + where + " " + pr.Why
		out = append(out, st.SevWarning.Render(head)+SafeText(text, max(0, p.w-ansi.StringWidth(head)), st.SevWarning, st.Escape))
	}
	if n < len(ps) {
		out = append(out, st.SevWarning.Render(fmt.Sprintf("⚠ %d more rules failed or can never fire (audittui alerts names them)", len(ps)-n)))
	}
	return out
}

func (p *AlertsPane) View() string {
	if p.listing {
		return p.listView()
	}
	p.build()
	st := p.c.Styles
	if p.src == nil && len(p.state.Local) == 0 && p.state.Ruler == nil {
		return fill([]string{st.Muted.Render("alerts are off (no rule engine configured)")}, p.h)
	}
	var lines []string
	lh := p.listHeight()
	if p.state.Ruler == nil {
		// The summary heads the list; with Loki's ruler each section has
		// its own header line in the list.
		lines = append(lines, truncateANSI(p.summary(), p.w))
	} else {
		lh++
	}
	for _, l := range p.problemLines() {
		lines = append(lines, truncateANSI(l, p.w))
	}
	if len(p.items) == 0 {
		return fill(append(lines, st.Good.Render(p.emptyText())), p.h)
	}
	if p.cursor < p.top {
		p.top = p.cursor
	}
	if p.cursor >= p.top+lh {
		p.top = p.cursor - lh + 1
	}
	for k := p.top; k < len(p.items) && k < p.top+lh; k++ {
		lines = append(lines, truncateANSI(p.itemLine(p.items[k], k == p.cursor), p.w))
	}
	for len(lines) < p.h-2 {
		lines = append(lines, "")
	}
	lines = append(lines, p.footer()...)
	return fill(lines, p.h)
}

// emptyText is the pane's line when nothing fired.
func (p *AlertsPane) emptyText() string {
	if p.state.Evaluating {
		return "no alert fired so far"
	}
	return "no alert fired"
}

// summary is the pane's first line: what was evaluated where, and how it
// stands.
func (p *AlertsPane) summary() string {
	st := p.c.Styles
	s := p.state
	nGroups, firing := 0, 0
	for _, rg := range p.local {
		nGroups += len(rg.Groups)
		for _, g := range rg.Groups {
			if g.Firing > 0 {
				firing++
			}
		}
	}
	// Most telling first: what fires, what is silenced, how far along.
	head := fmt.Sprintf("%s, %d firing", plural(nGroups, "group", "groups"), firing)
	if p.filtered() {
		shown := 0
		for _, rg := range p.local {
			for _, g := range rg.Groups {
				if p.underFilter(g) {
					shown++
				}
			}
		}
		head = fmt.Sprintf("%d of %s have events under the filter (A: show all), %d firing", shown, plural(nGroups, "group", "groups"), firing)
	} else if p.showAll && p.c.Rows != nil && !p.c.Rows.All {
		head += " (all, filter or not: A lists those under it)"
	}
	if n := len(p.silences); n > 0 {
		head += fmt.Sprintf(", %d silenced", n)
	}
	parts := []string{head}
	switch {
	case s.Evaluating:
		parts = append(parts, "evaluating…")
	case s.Done && s.EvaluatedIn > 0:
		parts = append(parts, "evaluated in "+s.EvaluatedIn.Round(10*time.Millisecond).String())
	case s.Done:
		parts = append(parts, "evaluated")
	default:
		if age, stale := p.c.staleFollow(); stale {
			// An archive followed: evaluated on the clock, but nothing
			// new is coming in.
			parts = append(parts, "following · newest event "+ageText(age)+" ago")
		} else {
			parts = append(parts, "live")
		}
	}
	server := len(s.Server)
	events := plural(int(s.Events), "event", "events")
	if s.Before > 0 {
		// The rules read their look-back before --from; the other panes
		// show the window only.
		events += fmt.Sprintf(" (%s before the window)", thousands(s.Before))
	}
	switch {
	case s.Rules == 0:
		parts = append(parts, "no rule loaded")
	case server > 0:
		parts = append(parts, fmt.Sprintf("%s: %d here over %s, %d on Loki (query_range)",
			plural(s.Rules, "rule", "rules"), s.Rules-server, events, server))
	default:
		parts = append(parts, fmt.Sprintf("%s over %s", plural(s.Rules, "rule", "rules"), events))
	}
	if !s.FirstRead.IsZero() {
		// Loki's semantics (absent_over_time judged from --from), said
		// where the input shows no time passing.
		parts = append(parts, "absence judged from the window's start, before the first event read ("+
			p.c.fmtTime(s.FirstRead.UnixNano())+"): no evidence if the input starts there")
	}
	line := st.Muted.Render(strings.Join(parts, " · "))
	if s.Ruler != nil {
		line = st.Bold.Render("Local rules") + "  " + line
	}
	if s.ServerErr != "" {
		line += "  " + st.Error.Render("Loki: "+termsafe.String(s.ServerErr))
	}
	return line
}

// sevTag is the 4-cell severity tag.
func sevTag(sev string) string {
	switch strings.ToLower(sev) {
	case "critical", "page", "high", "error":
		return "CRIT"
	case "warning", "warn", "medium":
		return "WARN"
	case "info", "low":
		return "INFO"
	}
	return "----"
}

// spark renders counts as a sparkline, scaled to its own maximum (a blank
// for no activity).
func spark(counts []int) string {
	const bars = "▁▂▃▄▅▆▇█"
	mx := 0
	for _, c := range counts {
		mx = max(mx, c)
	}
	var b strings.Builder
	for _, c := range counts {
		if c == 0 || mx == 0 {
			b.WriteByte(' ')
			continue
		}
		i := (c*8 - 1) / mx
		b.WriteString(string([]rune(bars)[min(i, 7)]))
	}
	return b.String()
}

// ruleSummary is the summary annotation of a rule's latest instance.
func ruleSummary(rg *rules.RuleGroup) string {
	for _, g := range rg.Groups {
		for _, a := range g.Alerts {
			if s := a.Annotations["summary"]; s != "" {
				return s
			}
		}
	}
	if rg.Rule != nil {
		return rg.Rule.Annotations["summary"]
	}
	return ""
}

// labelValues returns a group's label values, in the order of the rule's
// grouping (then by name), identities abbreviated (ShortIdentity). A
// grouping label the group has no value for (Prometheus drops an empty
// label: the user of unauthenticated requests under `by (user_username)`)
// is named, not left out: "(unauthenticated)" for user_username, as in
// every pane, `name=""` for another; "(all)" (fitValues) is for a rule
// without grouping labels only.
func labelValues(rg *rules.RuleGroup, ls map[string]string) []string {
	var names []string
	seen := map[string]bool{}
	for _, n := range rg.By {
		if _, ok := ls[n]; (ok || !rg.Without) && !seen[n] {
			names = append(names, n)
			seen[n] = true
		}
	}
	var rest []string
	for n := range ls {
		if !seen[n] {
			rest = append(rest, n)
		}
	}
	sort.Strings(rest)
	names = append(names, rest...)
	vals := make([]string, len(names))
	for i, n := range names {
		vals[i] = ShortIdentity(ls[n])
		switch {
		case vals[i] != "":
		case n == "user_username":
			vals[i] = noUserLabel
		case !rg.Without && slices.Contains(rg.By, n):
			vals[i] = n + `=""`
		default:
			vals[i] = "-"
		}
	}
	return vals
}

// fitValues joins values (untrusted, raw) with " · " in at most w cells:
// when they do not fit, the longest is cut in its middle, one cell at a
// time, so every value keeps both of its ends (identities differ at
// their ends), by the one cut of the Tail and Timeline (cutMiddle: an
// escape token is never dropped).
func fitValues(vals []string, w int) []termsafe.Segment {
	if len(vals) == 0 {
		return []termsafe.Segment{{Text: "(all)"}}
	}
	segs := make([][]termsafe.Segment, len(vals))
	widths := make([]int, len(vals))
	total := 3 * (len(vals) - 1)
	for i, v := range vals {
		segs[i] = termsafe.Segments(v)
		widths[i] = segWidth(segs[i])
		total += widths[i]
	}
	for total > w {
		longest := 0
		for i := range widths {
			if widths[i] > widths[longest] {
				longest = i
			}
		}
		if widths[longest] <= 3 {
			break
		}
		widths[longest]--
		total--
	}
	var out []termsafe.Segment
	for i := range vals {
		if i > 0 {
			out = append(out, termsafe.Segment{Text: " · "})
		}
		out = append(out, cutMiddle(segs[i], widths[i])...)
	}
	return truncateSegments(out, max(w, 0))
}

// when formats an activity time: evaluation steps fall on whole minutes,
// so minutes, with the date on wide screens or when the events read span
// days, and the year when they span years (as the Tail's times: a time of
// day alone over a week of events does not say which day). Narrow, over
// years, the date alone.
func (p *AlertsPane) when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	tf := p.c.timeFmt()
	t = t.In(p.c.Loc)
	switch {
	case tf.years && p.w >= 100:
		return t.Format("2006-01-02 15:04")
	case tf.years:
		return t.Format("2006-01-02")
	case tf.days || p.w >= 100:
		return t.Format("01-02 15:04")
	}
	return t.Format("15:04")
}

func (p *AlertsPane) itemLine(it alertItem, sel bool) string {
	st := p.c.Styles
	w := p.w
	var line string
	silenced := it.group != nil && p.Silenced(it.group.Key)
	switch it.kind {
	case itemSection:
		if it.ruler {
			line = p.rulerHeader()
		} else {
			line = p.summary()
		}
	case itemRule:
		rg := it.rule
		mark := "▾"
		if p.closedRule[p.ruleKey(it.ruler, rg)] {
			mark = "▸"
		}
		gs := p.visibleGroups(rg)
		firing := 0
		for _, g := range gs {
			if g.Firing > 0 {
				firing++
			}
		}
		pending := 0
		for _, g := range gs {
			if g.Firing == 0 && hasPending(g) {
				pending++
			}
		}
		counts := fmt.Sprintf("%d of %s firing", firing, plural(len(gs), "group", "groups"))
		switch {
		case firing == len(gs) && len(gs) == 1:
			counts = "firing"
		case firing == len(gs):
			counts = fmt.Sprintf("%s firing", plural(len(gs), "group", "groups"))
		case firing == 0 && pending > 0:
			counts = plural(len(gs), "group", "groups") + ", pending"
		case firing == 0:
			counts = plural(len(gs), "group", "groups") + ", resolved"
		}
		where := ""
		if !it.ruler && p.state.Server[rg.Rule.Where()] {
			where = " [Loki]"
		}
		name := termsafe.String(rg.Name)
		head := mark + " " + st.SeverityStyle(rg.Severity).Render(sevTag(rg.Severity)) + " " + st.Bold.Render(name) + st.Muted.Render(where)
		headW := ansi.StringWidth(head)
		right := st.Muted.Render(counts)
		rightW := ansi.StringWidth(counts)
		room := w - headW - 2
		sum := termsafe.String(ruleSummary(rg))
		if room-rightW-2 >= min(24, ansi.StringWidth(sum)) {
			room -= rightW + 2
		} else {
			right, rightW = "", 0
		}
		sumText := ansi.Truncate(sum, max(0, room), "…")
		line = head + "  " + sumText
		if right != "" {
			gap := w - ansi.StringWidth(line) - rightW
			line += strings.Repeat(" ", max(2, gap)) + right
		}
	case itemGroup:
		g := it.group
		state, dot := "resolved", "○"
		switch {
		case silenced:
			state, dot = "silenced", "◌"
		case g.Firing > 0:
			state, dot = "firing", "●"
		case hasPending(g):
			state, dot = "pending", "◐"
		}
		events := plural(g.Events, "event", "events")
		allFailed := g.Events > 0 && g.Failed >= g.Events
		if allFailed {
			// Every request failed (refused, not found): an attempt,
			// not a change (rules.Alert.Failed).
			events = strconv.Itoa(g.Events) + " failed"
		}
		if it.ruler || p.state.Server[g.Rule.Where()] {
			events = "" // the server says values, not events
		}
		// The latest event counted (the alert's window runs on after it,
		// so LastActive would be minutes past the input's end); a Loki
		// ruler's alerts count no events: their latest activity.
		last := g.LastEvent
		if last.IsZero() {
			last = g.Last
		}
		var rightText, prefix string
		if w >= 100 {
			rightText = fmt.Sprintf("%s %s %s %s", spark(g.Spark), padLeft(strconv.Itoa(g.Instances)+"×", 4),
				padLeft(events, 10), p.when(last))
			prefix = "  " + dot + " " + pad(state, 8) + " "
		} else {
			// Narrow: the state is the symbol (the rule's line says how
			// many fire), events as a number.
			if events != "" {
				events = strconv.Itoa(g.Events) + " ev"
				if allFailed {
					events = strconv.Itoa(g.Events) + " ✗" // every one failed
				}
			}
			rightText = fmt.Sprintf("%s %s %s", spark(g.Spark), padLeft(events, 6), p.when(last))
			prefix = "  " + dot + " "
		}
		room := w - ansi.StringWidth(prefix) - ansi.StringWidth(rightText) - 1
		labels := fitValues(labelValues(it.rule, g.Labels), room)
		gap := strings.Repeat(" ", max(0, room-segWidth(labels)))
		line = prefix + renderSegments(labels, lipgloss.NewStyle(), st.Escape) + gap + " " + rightText
		if g.Firing > 0 && !silenced {
			line = st.SeverityStyle(g.Severity).Render(prefix) + renderSegments(labels, st.Plain, st.Escape) + gap + " " + st.Muted.Render(rightText)
		}
	case itemMore:
		line = st.Muted.Render(fmt.Sprintf("    … %s more (enter lists them)", plural(len(p.visibleGroups(it.rule))-maxGroupsShown, "group", "groups")))
	case itemInstance:
		a := it.alert
		mark := "▸"
		if p.openInst[instKey(it.ruler, a)] {
			mark = "▾"
		}
		span := p.when(a.ActiveAt)
		if !a.ResolvedAt.IsZero() {
			span += "–" + p.c.timeFmt().format(a.ResolvedAt.UnixNano(), false)
		}
		ev := ""
		if !it.ruler && !p.state.Server[a.Rule.Where()] {
			ev = "  " + plural(a.Events, "event", "events")
			if note := rules.FailedNote(a.Events, a.Failed); note != "" {
				ev += " (" + note + ")"
			}
		}
		line = fmt.Sprintf("     %s %-8s %s  value %s%s  ", mark, a.State, span, strconv.FormatFloat(a.Value, 'g', 4, 64), ev) +
			termsafe.String(describe(a))
	case itemEvent:
		l := p.c.rowLayout(w - 8)
		line = "        " + renderRow(st, p.c.Snap, it.row, l, sel)
		return line
	}
	if silenced && it.kind == itemGroup {
		line = st.Muted.Render(ansiStrip(line))
	}
	if sel {
		line = st.Selected.Render(pad(ansiStrip(truncateANSI(line, w)), w))
	}
	return line
}

// hasPending reports whether a group has a pending instance (the ruler
// reports pending alerts too).
func hasPending(g *rules.AlertGroup) bool {
	for _, a := range g.Alerts {
		if a.State == rules.StatePending {
			return true
		}
	}
	return false
}

// rulerHeader is the Loki ruler section's header line.
func (p *AlertsPane) rulerHeader() string {
	st := p.c.Styles
	r := p.state.Ruler
	title := st.Bold.Render("Loki ruler") + " " + st.Muted.Render(termsafe.String(r.Addr))
	if r.Err != "" {
		return title + "  " + st.Error.Render(termsafe.String(r.Err))
	}
	firing := 0
	for _, a := range r.Alerts {
		if a.State == rules.StateFiring {
			firing++
		}
	}
	at := ""
	if !r.At.IsZero() {
		at = " · as of " + r.At.In(p.c.Loc).Format("15:04:05")
	}
	return title + st.Muted.Render(fmt.Sprintf("  %s (%d firing), %s%s", plural(len(r.Alerts), "alert", "alerts"), firing,
		plural(r.Rules, "alerting rule", "alerting rules"), at))
}

// footer is the two lines under the list: about the selection, and keys.
func (p *AlertsPane) footer() []string {
	st := p.c.Styles
	it, ok := p.selected()
	about := ""
	if ok {
		switch {
		case it.kind == itemSection && it.ruler:
			about = "What Loki's ruler reports (GET /prometheus/api/v1/alerts), its rules from /loki/api/v1/rules"
		case it.kind == itemSection:
			about = "The rules evaluated by audittui: here over the events loaded, or on Loki where marked [Loki]"
		case it.alert != nil:
			about = describe(it.alert)
		case it.group != nil && len(it.group.Alerts) > 0:
			about = describe(it.group.Alerts[0])
		case it.rule != nil:
			about = ruleWhere(it.ruler, it.rule, p.state.Server)
		}
	}
	keys := "enter expand · f events · s silence · S show silenced · :silences"
	return []string{
		truncateANSI(SafeText(about, p.w, st.Plain, st.Escape), p.w),
		st.Muted.Render(truncateANSI(keys, p.w)),
	}
}

// describe is an instance's description annotation (else its labels).
func describe(a *rules.Alert) string {
	if d := a.Annotations["description"]; d != "" {
		return d
	}
	return rules.LabelsString(a.Labels)
}

// ruleWhere says where a rule comes from and how it was evaluated.
func ruleWhere(ruler bool, rg *rules.RuleGroup, server map[string]bool) string {
	switch {
	case ruler:
		return "rule " + rg.Name + " of Loki's ruler (" + rg.Rule.Where() + ")"
	case server[rg.Rule.Where()]:
		return "rule " + rg.Rule.Where() + ", evaluated on Loki (query_range over its window)"
	}
	by := "everything"
	if len(rg.By) > 0 {
		by = strings.Join(rg.By, ", ")
	}
	return "rule " + rg.Rule.Where() + ", evaluated here over the loaded events; grouped by " + by
}

package ui

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/termsafe"
)

// Stats renders the four dashboards of the user's Grafana board
// (../shared/seed/dashboard-queries.logql) over the matching events:
// top users by API calls, failed authentication (401-499) by user,
// create/delete trends by resource, and the namespace activity heatmap.
// They are computed from the index columns (the fields those queries group
// and filter on are all indexed), so they cost no re-read.
//
// Each panel shows the query whose answer it draws, as `audittui query`
// evaluates it over the same events (the filter's LogQL, the panel's
// stages): the rankings are count_over_time over a range just longer than
// the events' span, an instant query at the last match, with the rate
// over that range (rate() of the same range); the trends and the heatmap
// are a range query whose steps are the columns (--step, each step
// counting (t-step, t], steps on multiples of the step). The board's
// rate(...[5m]) panels are time series; here they are summed over the
// window, and the queries say so.
//
// Every row is selectable (j/k); enter drills in: it narrows the filter to
// the row's events with the LogQL the row counts (DrillQuery), so the
// other panes show them.
type Stats struct {
	c     *Common
	w, h  int
	top   int
	lines []string
	dirty bool
	// items are the selectable rows, in panel order; cursor indexes them.
	items  []statsItem
	cursor int
	// data is the last computation (kept while only the cursor moves).
	data *statsData
	// drawnSel is the drill-in of the row drawn selected.
	drawnSel string
}

// statsItem is one selectable row: where it is drawn and the label
// filter selecting the events it counts.
type statsItem struct {
	line  int
	panel int    // 0..3, in reading order
	pred  string // LogQL label filter(s), e.g. user_username="alice"
}

// statsData is what build computes from the rows.
type statsData struct {
	c     dashboardCounts
	trend map[string][]int
	ns    map[string][]int
	// rng is the rankings' range (longer than the span, so an instant
	// query at the last match counts every event); step the columns of
	// the series panels, the first ending at first (Unix ns), buckets of
	// them.
	rng      time.Duration
	step     time.Duration
	first    int64
	buckets  int
	colW     int
	half     bool
	lo, hi   int64
	undated  int
	nothing  bool
	forWidth int
	// queries are the four panels' LogQL, over the filter's query.
	queries [4]string
	// notLogQL: the filter is not LogQL (negated): the queries lack it.
	notLogQL bool
}

// NewStats returns the stats pane.
func NewStats(c *Common) *Stats { return &Stats{c: c, dirty: true} }

func (s *Stats) Title() string    { return "Stats" }
func (s *Stats) Scope() Scope     { return ScopeStats }
func (s *Stats) SetSize(w, h int) { s.w, s.h = w, h; s.dirty = true }
func (s *Stats) Refresh()         { s.dirty = true }

func (s *Stats) Action(a Action) (tea.Cmd, bool) {
	s.ensure()
	n := len(s.items)
	switch a {
	case ActUp:
		s.cursor--
	case ActDown:
		s.cursor++
	case ActPageUp, ActPageDown:
		// A screen up or down: the first row of the new view.
		d := s.h
		if a == ActPageUp {
			d = -d
		}
		s.top = max(0, min(s.top+d, len(s.lines)-s.h))
		s.cursor = 0
		for k, it := range s.items {
			if it.line >= s.top {
				s.cursor = k
				break
			}
		}
	case ActTop:
		s.cursor, s.top = 0, 0
	case ActBottom:
		s.cursor, s.top = n-1, 1<<30
	default:
		return nil, false
	}
	s.cursor = max(0, min(s.cursor, n-1))
	s.render()
	s.follow()
	return nil, true
}

// Selected returns the drill-in filter of the row under the cursor.
func (s *Stats) Selected() (string, bool) {
	s.ensure()
	if s.cursor >= len(s.items) {
		return "", false
	}
	return s.items[s.cursor].pred, true
}

// follow scrolls so the cursor's row is on screen.
func (s *Stats) follow() {
	if s.cursor < len(s.items) {
		l := s.items[s.cursor].line
		if l < s.top {
			s.top = max(0, l-2) // show the panel title too when close
		}
		if l >= s.top+s.h {
			s.top = l - s.h + 1
		}
	}
	s.clamp()
}

func (s *Stats) clamp() { s.top = max(0, min(s.top, len(s.lines)-s.h)) }

// ensure recomputes what changed since the last call.
func (s *Stats) ensure() {
	if s.dirty {
		s.compute()
		s.dirty = false
		s.render()
		// The first render placed the rows; the second marks the cursor's.
		if s.cursor < len(s.items) && s.items[s.cursor].pred != s.drawnSel {
			s.render()
		}
	}
}

func (s *Stats) View() string {
	s.ensure()
	s.clamp()
	end := min(len(s.lines), s.top+s.h)
	return fill(append([]string(nil), s.lines[s.top:end]...), s.h)
}

type countKV struct {
	key string
	n   int
}

func sortedCounts(m map[string]int) []countKV {
	out := make([]countKV, 0, len(m))
	for k, n := range m {
		out = append(out, countKV{k, n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].n > out[j].n || out[i].n == out[j].n && out[i].key < out[j].key })
	return out
}

// dashboardQueries are the four panels of the seed's Grafana dashboard
// (time series of rates over 5m; TestDashboardsMatchLogQL checks the
// counts against them). The pane shows panelQueries instead: what it
// really draws.
var dashboardQueries = [...]string{
	`topk(10, sum by (user_username) (rate({job="audit"} | json [5m])))`,
	`sum by (user_username) (rate({job="audit"} | json | responseStatus_code >= 401 | responseStatus_code < 500 [5m]))`,
	`sum by (verb, objectRef_resource) (rate({job="audit"} | json | verb=~"create|delete" [5m]))`,
	`sum by (objectRef_namespace) (count_over_time({job="audit"} | json [1h]))`,
}

// panelStages are the panels' own stages after the filter's query.
var panelStages = [4]string{"", "responseStatus_code >= 401 | responseStatus_code < 500", `verb=~"create|delete"`, ""}

// panelQueries returns the four panels' queries over the log query lq
// (with | json): the rankings over rng, the series per step.
func panelQueries(lq string, rng, step time.Duration) [4]string {
	with := func(k int) string {
		if panelStages[k] == "" {
			return lq
		}
		return lq + " | " + panelStages[k]
	}
	r, st := logqlDuration(rng), logqlDuration(step)
	return [4]string{
		`topk(10, sum by (user_username) (count_over_time(` + with(0) + ` [` + r + `])))`,
		`sum by (user_username) (count_over_time(` + with(1) + ` [` + r + `]))`,
		`sum by (verb, objectRef_resource) (count_over_time(` + with(2) + ` [` + st + `]))`,
		`sum by (objectRef_namespace) (count_over_time(` + with(3) + ` [` + st + `]))`,
	}
}

// statsLogQuery is the log query the panels count over: the filter's
// LogQL in full, with a json stage (the panels group by its labels); with
// no query, sel ({job="audit"} | json, or the job of --label). ok is
// false for a filter that is not LogQL (negated): the queries then lack
// it.
func statsLogQuery(f *Filter, sel string) (string, bool) {
	if f == nil || !f.query || f.Text == "" {
		return sel, true
	}
	if f.Negate {
		return sel, false
	}
	full, _ := data.ExpandShorthandWith(sel, f.Text)
	if f.lq != nil && !strings.Contains(f.lq.String(), "| json") {
		full += " | json"
	}
	return full, true
}

// coverRange is the shortest whole number of seconds, minutes, hours or
// days (by the span's size) longer than span: a range query evaluated at
// the last event then counts the first one too ((t-range, t]).
func coverRange(span time.Duration) time.Duration {
	unit := 24 * time.Hour
	switch {
	case span < time.Minute:
		unit = time.Second
	case span < time.Hour:
		unit = time.Minute
	case span < 48*time.Hour:
		unit = time.Hour
	}
	return (span/unit + 1) * unit
}

// seriesSteps are the steps the series panels choose from: the shortest
// that gives at most the room's columns.
var seriesSteps = []time.Duration{
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 3 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 20 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 4 * time.Hour, 6 * time.Hour, 12 * time.Hour,
	24 * time.Hour, 2 * 24 * time.Hour, 7 * 24 * time.Hour,
}

// stepEnd is the end of the step t falls in: t rounded up to a multiple
// of step (a step at t counts (t-step, t], as `audittui query --step`).
func stepEnd(t int64, step time.Duration) int64 {
	st := int64(step)
	if r := t % st; r != 0 {
		return t - r + st
	}
	return t
}

// chooseStep returns the shortest step whose steps over [lo, hi] are at
// most max, and how many there are.
func chooseStep(lo, hi int64, most int) (time.Duration, int) {
	n := func(st time.Duration) int { return int((stepEnd(hi, st)-stepEnd(lo, st))/int64(st)) + 1 }
	for _, st := range seriesSteps {
		if n(st) <= most {
			return st, n(st)
		}
	}
	st := seriesSteps[len(seriesSteps)-1]
	for n(st) > most {
		st *= 2
	}
	return st, n(st)
}

// logqlDuration writes d as LogQL does (2h, 1h30m, 45s, 3d).
func logqlDuration(d time.Duration) string {
	if d >= 24*time.Hour && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	out := ""
	for _, u := range []struct {
		d time.Duration
		s string
	}{{time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if n := d / u.d; n > 0 {
			out += fmt.Sprintf("%d%s", n, u.s)
			d -= n * u.d
		}
	}
	if out == "" || d > 0 {
		out += fmt.Sprintf("%dms", d/time.Millisecond)
	}
	return out
}

// The label filters a row of each panel counts (its drill-in): the
// panel's filter and grouping, for the row's values.
func userPred(user string) string { return "user_username=" + strconv.Quote(user) }

func failedPred(user string) string {
	return userPred(user) + " | responseStatus_code >= 401 | responseStatus_code < 500"
}

// trendPred is for a "verb resource" key of the trends panel.
func trendPred(key string) string {
	verb, res, _ := strings.Cut(key, " ")
	return "verb=" + strconv.Quote(verb) + " | objectRef_resource=" + strconv.Quote(res)
}

// nsPred is for a namespace row ("(cluster)": cluster-scoped, no
// namespace).
func nsPred(ns string) string {
	if ns == clusterScope {
		ns = ""
	}
	return "objectRef_namespace=" + strconv.Quote(ns)
}

// clusterScope labels the events without a namespace.
const clusterScope = "(cluster)"

// rate is what rate() over the rankings' range answers for n events
// in it: n / range.
func (d *statsData) rate(n int) float64 { return float64(n) / d.rng.Seconds() }

// compute counts the dashboards over the matching rows.
func (s *Stats) compute() {
	snap, rows := s.c.Snap, s.c.Rows
	n := rows.Len()
	d := &statsData{forWidth: s.w}
	s.data = d
	if n == 0 {
		d.nothing = true
		return
	}
	d.c = countDashboards(snap, rows)
	d.lo, d.hi = d.c.lo, d.c.hi
	d.rng = coverRange(time.Duration(d.hi - d.lo))
	d.half = s.w >= 120 && s.h >= 30
	d.colW = s.w
	if d.half {
		d.colW = (s.w - 1) / 2
	}
	d.step, d.buckets = chooseStep(d.lo, d.hi, max(10, min(60, d.colW-34)))
	d.first = stepEnd(d.lo, d.step)
	lq, ok := statsLogQuery(s.c.Filter, s.c.shorthand())
	d.queries, d.notLogQL = panelQueries(lq, d.rng, d.step), !ok
	d.trend, d.ns = map[string][]int{}, map[string][]int{}
	for k := 0; k < n; k++ {
		i := rows.At(k)
		t := snap.Time(i)
		if t == 0 {
			// No time: counted in the rankings, in no step.
			d.undated++
			continue
		}
		b := int((stepEnd(t, d.step) - d.first) / int64(d.step))
		if v := snap.Str(ColVerb, i); v == "create" || v == "delete" {
			key := v + " " + snap.Str(ColResource, i)
			if d.trend[key] == nil {
				d.trend[key] = make([]int, d.buckets)
			}
			d.trend[key][b]++
		}
		nsName := snap.Str(ColNamespace, i)
		if nsName == "" {
			nsName = clusterScope
		}
		if d.ns[nsName] == nil {
			d.ns[nsName] = make([]int, d.buckets)
		}
		d.ns[nsName][b]++
	}
}

// render lays the panels out with the cursor's row highlighted.
func (s *Stats) render() {
	st := s.c.Styles
	d := s.data
	if d == nil || d.nothing {
		s.lines, s.items = []string{st.Muted.Render("no events to summarise")}, nil
		return
	}
	sel := ""
	if s.cursor < len(s.items) {
		sel = s.items[s.cursor].pred
	}
	s.drawnSel = sel
	rate := func(n int) string { return fmt.Sprintf("%6d %6.2f/s", n, d.rate(n)) }
	p1 := s.barPanel("Top users by API calls", d.queries[0], sortedCounts(d.c.calls), 10, d.colW, rate, userPred, sel)
	p2 := s.barPanel("Failed authentication (401-499) by user", d.queries[1], sortedCounts(d.c.failed), 10, d.colW, rate, failedPred, sel)
	// The series panels are range queries without topk: every series is
	// drawn (the pane scrolls), the rare ones (a ClusterRoleBinding
	// deleted once) being what an investigation looks for.
	p3 := s.seriesPanel("Create/delete trends by resource", d.queries[2], d.trend, 0, d.colW, false, trendPred, sel)
	p4 := s.seriesPanel("Namespace activity heatmap", d.queries[3], d.ns, 0, d.colW, true, nsPred, sel)
	// The series' columns: the steps, from the end of the first.
	axis := panelLine{text: st.Muted.Render(truncateANSI(fmt.Sprintf("%s → %s, %d steps, --step %s",
		s.c.fmtTime(d.first-int64(d.step)), s.c.fmtTime(d.first+int64(d.buckets-1)*int64(d.step)), d.buckets, logqlDuration(d.step)), d.colW))}
	p3 = append(p3, axis)
	p4 = append(p4, axis)
	s.lines, s.items = nil, nil
	var notes []string
	if d.notLogQL {
		notes = append(notes, "the queries lack the negated filter (not LogQL); the counts are over its events")
	}
	if d.undated > 0 {
		notes = append(notes, fmt.Sprintf("%d undated events are in the rankings only: no query can place them (R)", d.undated))
	}
	for _, n := range notes {
		s.lines = append(s.lines, truncateANSI(st.Muted.Render(n), s.w))
	}
	// The cursor walks the rows panel by panel (side by side too).
	add := func(p []panelLine, panel, base int) {
		for k, l := range p {
			if l.pred != "" {
				s.items = append(s.items, statsItem{line: base + k, panel: panel, pred: l.pred})
			}
		}
	}
	if d.half {
		base := len(s.lines)
		add(p1, 0, base)
		add(p2, 1, base)
		s.lines = append(append(s.lines, sideBySide(texts(p1), texts(p2), d.colW)...), "")
		base = len(s.lines)
		add(p3, 2, base)
		add(p4, 3, base)
		s.lines = append(s.lines, sideBySide(texts(p3), texts(p4), d.colW)...)
	} else {
		for k, p := range [][]panelLine{p1, p2, p3, p4} {
			add(p, k, len(s.lines))
			s.lines = append(s.lines, texts(p)...)
			s.lines = append(s.lines, "")
		}
	}
	s.cursor = max(0, min(s.cursor, len(s.items)-1))
}

// panelLine is one line of a panel and, for a row, its drill-in.
type panelLine struct {
	text string
	pred string
}

func texts(p []panelLine) []string {
	out := make([]string, len(p))
	for k, l := range p {
		out[k] = l.text
	}
	return out
}

// dashboardCounts are the totals of the four dashboards over a row set:
// what the seed's queries count, grouped the same way (map keys are the
// label values; "" when the field is absent).
type dashboardCounts struct {
	calls, failed map[string]int // by user_username
	createDelete  map[string]int // by "verb objectRef_resource"
	namespaces    map[string]int // by objectRef_namespace
	lo, hi        int64          // time range of the rows
}

// countDashboards makes one pass over rows, on the index columns.
func countDashboards(snap *Snapshot, rows *RowSet) dashboardCounts {
	users := make([]int, len(snap.Values(ColUser)))
	failed := make([]int, len(snap.Values(ColUser)))
	ns := make([]int, len(snap.Values(ColNamespace)))
	c := dashboardCounts{calls: map[string]int{}, failed: map[string]int{}, createDelete: map[string]int{}, namespaces: map[string]int{}}
	n := rows.Len()
	for k := 0; k < n; k++ {
		i := rows.At(k)
		t := snap.Time(i)
		if t != 0 && (c.lo == 0 || t < c.lo) {
			c.lo = t
		}
		c.hi = max(c.hi, t)
		u := snap.ID(ColUser, i)
		users[u]++
		if code := snap.Code(i); code >= 401 && code < 500 {
			failed[u]++
		}
		ns[snap.ID(ColNamespace, i)]++
		if v := snap.Str(ColVerb, i); v == "create" || v == "delete" {
			c.createDelete[v+" "+snap.Str(ColResource, i)]++
		}
	}
	for id, k := range users {
		if k > 0 {
			c.calls[snap.Value(ColUser, uint32(id))] = k
		}
		if failed[id] > 0 {
			c.failed[snap.Value(ColUser, uint32(id))] = failed[id]
		}
	}
	for id, k := range ns {
		if k > 0 {
			c.namespaces[snap.Value(ColNamespace, uint32(id))] = k
		}
	}
	return c
}

func sideBySide(a, b []string, w int) []string {
	n := max(len(a), len(b))
	out := make([]string, n)
	for k := 0; k < n; k++ {
		l, r := "", ""
		if k < len(a) {
			l = a[k]
		}
		if k < len(b) {
			r = b[k]
		}
		out[k] = pad(truncateANSI(l, w), w) + " " + truncateANSI(r, w)
	}
	return out
}

// barPanel is a ranked list with horizontal bars.
func (s *Stats) barPanel(title, query string, kvs []countKV, limit, w int, num func(int) string, pred func(string) string, sel string) []panelLine {
	st := s.c.Styles
	// The numbers' columns named over them: the events the query counts,
	// and rate() over the same range.
	head := st.Title.Render(title)
	if cols := fmt.Sprintf("%6s %8s", "events", "rate"); ansi.StringWidth(title)+2+len(cols) <= w {
		head += strings.Repeat(" ", w-ansi.StringWidth(title)-len(cols)) + st.Muted.Render(cols)
	}
	lines := []panelLine{{text: head}, {text: st.Muted.Render(fitQuery(query, w))}}
	if len(kvs) == 0 {
		return append(lines, panelLine{text: st.Muted.Render("  none")})
	}
	peak := kvs[0].n
	labelW := min(28, w/3)
	for k, e := range kvs {
		if k == limit {
			break
		}
		numS := num(e.n)
		barW := max(1, w-labelW-len(numS)-3)
		bl := max(1, e.n*barW/peak)
		key := e.key
		if key == "" {
			key = noUserLabel // both panels count users
		}
		pl := panelLine{pred: pred(e.key)}
		if pl.pred == sel {
			pl.text = IdentityCell(key, labelW, st.Selected, st.Escape.Reverse(true)) + st.Selected.Render(" "+strings.Repeat("█", bl)+strings.Repeat(" ", barW-bl)+" "+numS)
		} else {
			pl.text = IdentityCell(key, labelW, st.Plain, st.Escape) + " " + st.Bar.Render(strings.Repeat("█", bl)) + strings.Repeat(" ", barW-bl) + " " + st.Muted.Render(numS)
		}
		lines = append(lines, pl)
	}
	return lines
}

// seriesPanel draws one row per series over time buckets: a sparkline
// (trends) or shaded heat cells (heatmap); at most limit rows (0: all).
func (s *Stats) seriesPanel(title, query string, series map[string][]int, limit, w int, heat bool, pred func(string) string, sel string) []panelLine {
	st := s.c.Styles
	lines := []panelLine{{text: st.Title.Render(title)}, {text: st.Muted.Render(fitQuery(query, w))}}
	totals := map[string]int{}
	peak := 0
	for k, b := range series {
		for _, n := range b {
			totals[k] += n
			peak = max(peak, n)
		}
	}
	kvs := sortedCounts(totals)
	if len(kvs) == 0 {
		return append(lines, panelLine{text: st.Muted.Render("  none")})
	}
	labelW := min(24, w/3)
	spark := []rune("▁▂▃▄▅▆▇█")
	shades := []rune(" ░▒▓█")
	for k, e := range kvs {
		if limit > 0 && k == limit {
			lines = append(lines, panelLine{text: st.Muted.Render(fmt.Sprintf("  … %d more", len(kvs)-limit))})
			break
		}
		var b strings.Builder
		for _, n := range series[e.key] {
			switch {
			case heat:
				lvl := 0
				if n > 0 {
					lvl = 1 + n*(len(shades)-2)/max(1, peak)
				}
				lvl = min(lvl, len(shades)-1)
				hs := st.Heat[min(lvl, len(st.Heat)-1)]
				b.WriteString(hs.Render(string(shades[lvl])))
			case n == 0:
				b.WriteString(st.Muted.Render("·"))
			default:
				lvl := min(len(spark)-1, n*(len(spark)-1)/max(1, peak))
				style := st.VerbWrite
				if strings.HasPrefix(e.key, "delete") {
					style = st.VerbDelete
				}
				b.WriteString(style.Render(string(spark[lvl])))
			}
		}
		pl := panelLine{pred: pred(e.key)}
		if pl.pred == sel {
			pl.text = st.Selected.Render(ansiStrip(cell(st, e.key, labelW, st.Plain) + " " + b.String() + fmt.Sprintf(" %d", e.n)))
		} else {
			pl.text = cell(st, e.key, labelW, st.Plain) + " " + b.String() + st.Muted.Render(fmt.Sprintf(" %d", e.n))
		}
		lines = append(lines, pl)
	}
	return lines
}

// fitQuery fits a panel's query into w cells, sanitised (a filter's
// values come from events): when it is too long, its middle goes, so the
// function in front and the range at the end stay in view.
func fitQuery(q string, w int) string {
	q = termsafe.String(q)
	if ansi.StringWidth(q) <= w {
		return q
	}
	tail := ""
	if k := strings.LastIndex(q, " ["); k > 0 {
		tail = q[k:]
	}
	if ansi.StringWidth(tail)+10 > w {
		return truncateANSI(q, w)
	}
	return ansi.Truncate(q, w-ansi.StringWidth(tail)-1, "") + "…" + tail
}

package ui

import (
	"fmt"
	"sort"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
)

// Stats renders the four dashboards of the user's Grafana board
// (../shared/seed/dashboard-queries.logql) over the matching events:
// top users by API calls, failed authentication (401-499) by user,
// create/delete trends by resource, and the namespace activity heatmap.
// They are computed from the index columns (the fields those queries group
// and filter on are all indexed), so they cost no re-read.
type Stats struct {
	c     *Common
	w, h  int
	top   int
	lines []string
	dirty bool
	sizeW int
}

// NewStats returns the stats pane.
func NewStats(c *Common) *Stats { return &Stats{c: c, dirty: true} }

func (s *Stats) Title() string    { return "Stats" }
func (s *Stats) Scope() Scope     { return ScopeStats }
func (s *Stats) SetSize(w, h int) { s.w, s.h = w, h; s.dirty = true }
func (s *Stats) Refresh()         { s.dirty = true }

func (s *Stats) Action(a Action) (tea.Cmd, bool) {
	switch a {
	case ActUp:
		s.top--
	case ActDown:
		s.top++
	case ActPageUp:
		s.top -= s.h
	case ActPageDown:
		s.top += s.h
	case ActTop:
		s.top = 0
	case ActBottom:
		s.top = 1 << 30
	default:
		return nil, false
	}
	s.clamp()
	return nil, true
}

func (s *Stats) clamp() { s.top = max(0, min(s.top, len(s.lines)-s.h)) }

func (s *Stats) View() string {
	if s.dirty {
		s.build()
		s.dirty = false
	}
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

// dashboardQueries are the LogQL queries of the four panels (the seed's
// Grafana dashboard), shown under their titles: complete queries that
// Grafana and `audittui query` accept (TestStatsQueriesAreLogQL).
var dashboardQueries = [...]string{
	`topk(10, sum by (user_username) (rate({job="audit"} | json [5m])))`,
	`sum by (user_username) (rate({job="audit"} | json | responseStatus_code >= 401 | responseStatus_code < 500 [5m]))`,
	`sum by (verb, objectRef_resource) (rate({job="audit"} | json | verb=~"create|delete" [5m]))`,
	`sum by (objectRef_namespace) (count_over_time({job="audit"} | json [1h]))`,
}

func (s *Stats) build() {
	st := s.c.Styles
	snap, rows := s.c.Snap, s.c.Rows
	n := rows.Len()
	if n == 0 {
		s.lines = []string{st.Muted.Render("no events to summarise")}
		return
	}
	c := countDashboards(snap, rows)
	lo, hi := c.lo, c.hi
	span := time.Duration(hi - lo)
	secs := max(span.Seconds(), 1)
	half := s.w >= 120 && s.h >= 30
	colW := s.w
	if half {
		colW = (s.w - 1) / 2
	}
	// 1. Top users by API calls.
	p1 := s.barPanel("Top users by API calls", dashboardQueries[0],
		sortedCounts(c.calls), 10, colW, func(n int) string { return fmt.Sprintf("%6d %6.2f/s", n, float64(n)/secs) })
	// 2. Failed authentication attempts.
	p2 := s.barPanel("Failed authentication (401-499) by user", dashboardQueries[1],
		sortedCounts(c.failed), 10, colW, func(n int) string { return fmt.Sprintf("%6d %6.2f/s", n, float64(n)/secs) })
	// 3. Create/delete trends by resource (sparklines over time).
	buckets := max(10, min(60, colW-34))
	trend := map[string][]int{}
	ns := map[string][]int{}
	bucketOf := func(t int64) int {
		if hi == lo {
			return 0
		}
		return max(0, min(buckets-1, int((t-lo)*int64(buckets)/(hi-lo+1))))
	}
	for k := 0; k < n; k++ {
		i := rows.At(k)
		b := bucketOf(snap.Time(i))
		if v := snap.Str(ColVerb, i); v == "create" || v == "delete" {
			key := v + " " + snap.Str(ColResource, i)
			if trend[key] == nil {
				trend[key] = make([]int, buckets)
			}
			trend[key][b]++
		}
		nsName := snap.Str(ColNamespace, i)
		if nsName == "" {
			nsName = "(cluster)"
		}
		if ns[nsName] == nil {
			ns[nsName] = make([]int, buckets)
		}
		ns[nsName][b]++
	}
	p3 := s.seriesPanel("Create/delete trends by resource", dashboardQueries[2],
		trend, 8, colW, false)
	p4 := s.seriesPanel("Namespace activity heatmap", dashboardQueries[3],
		ns, 10, colW, true)
	axis := st.Muted.Render(fmt.Sprintf("%s → %s (%s, %d buckets of %s)", s.c.fmtTime(lo), s.c.fmtTime(hi),
		span.Round(time.Second), buckets, (span / time.Duration(buckets)).Round(time.Second)))
	p3 = append(p3, axis)
	p4 = append(p4, axis)
	if half {
		s.lines = append(sideBySide(p1, p2, colW), "")
		s.lines = append(s.lines, sideBySide(p3, p4, colW)...)
	} else {
		s.lines = nil
		for _, p := range [][]string{p1, p2, p3, p4} {
			s.lines = append(s.lines, p...)
			s.lines = append(s.lines, "")
		}
	}
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
func (s *Stats) barPanel(title, query string, kvs []countKV, limit, w int, num func(int) string) []string {
	st := s.c.Styles
	lines := []string{st.Title.Render(title), st.Muted.Render(truncateANSI(query, w))}
	if len(kvs) == 0 {
		return append(lines, st.Muted.Render("  none"))
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
			key = "(none)"
		}
		lines = append(lines, IdentityCell(key, labelW, st.Plain, st.Escape)+" "+st.Bar.Render(strings.Repeat("█", bl))+strings.Repeat(" ", barW-bl)+" "+st.Muted.Render(numS))
	}
	return lines
}

// seriesPanel draws one row per series over time buckets: a sparkline
// (trends) or shaded heat cells (heatmap).
func (s *Stats) seriesPanel(title, query string, series map[string][]int, limit, w int, heat bool) []string {
	st := s.c.Styles
	lines := []string{st.Title.Render(title), st.Muted.Render(truncateANSI(query, w))}
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
		return append(lines, st.Muted.Render("  none"))
	}
	labelW := min(24, w/3)
	spark := []rune("▁▂▃▄▅▆▇█")
	shades := []rune(" ░▒▓█")
	for k, e := range kvs {
		if k == limit {
			lines = append(lines, st.Muted.Render(fmt.Sprintf("  … %d more", len(kvs)-limit)))
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
		lines = append(lines, cell(st, e.key, labelW, st.Plain)+" "+b.String()+st.Muted.Render(fmt.Sprintf(" %d", e.n)))
	}
	return lines
}

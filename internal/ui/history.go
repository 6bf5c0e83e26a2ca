package ui

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/history"
	"github.com/audittui/audittui/internal/termsafe"
)

// HistoryPane shows the history of one object (internal/history): every
// request that touched it, one row each, and for the selected request who
// was behind it, its notes, its patch and the diff of the object. It opens
// over the focused pane (h on an event, :history, or from an alert the
// objects its events touched) and esc closes it. It is not in the tab
// strip: it is always about the object of something else.
//
// The events are those of the object's LogQL query (history.Ref.Query),
// found in the index from its columns and read back in a command; f puts
// that query in the filter bar for every pane.
type HistoryPane struct {
	c    *Common
	w, h int
	gen  uint64

	ref     history.Ref
	opts    history.Options
	loading bool
	err     error
	hist    *history.History
	// evRow maps an auditID to the index row of one of its stages (enter
	// opens it in Detail).
	evRow map[string]int
	// elsewhere: an empty history's object as named in other namespaces
	// (elsewhere).
	elsewhere []touched

	// objects is the list the pane shows instead of a history: the
	// objects an alert's events touched.
	objects []touched
	what    string    // what touched them ("alert PodExec")
	saved   []touched // the objects list while one of them is shown

	cursor, top int
	dtop        int // first line of the detail shown
	detail      []string
}

// touched is an object and how many of the events touched it.
type touched struct {
	ref history.Ref
	n   int
}

// historyLoadedMsg carries a history built in a command.
type historyLoadedMsg struct {
	gen   uint64
	hist  *history.History
	evRow map[string]int
	// focusID is the auditID of the event h was pressed on, when the
	// history holds it ("" otherwise).
	focusID   string
	elsewhere []touched
	err       error
}

// NewHistoryPane returns the (closed) history pane.
func NewHistoryPane(c *Common) *HistoryPane {
	return &HistoryPane{c: c, opts: history.Options{Job: c.Job}}
}

func (p *HistoryPane) Title() string    { return "History" }
func (p *HistoryPane) Scope() Scope     { return ScopeHistory }
func (p *HistoryPane) SetSize(w, h int) { p.w, p.h = w, h; p.build() }
func (p *HistoryPane) Refresh()         {}

// Open starts building the history of ref from the snapshot; the returned
// command reads the events back. The latest request is selected.
func (p *HistoryPane) Open(ctx context.Context, ref history.Ref) tea.Cmd {
	return p.OpenAt(ctx, ref, -1)
}

// OpenAt is Open with the request of the event at index row focus
// selected (the event h was pressed on), when the history lists it; -1:
// none.
func (p *HistoryPane) OpenAt(ctx context.Context, ref history.Ref, focus int) tea.Cmd {
	p.gen++
	p.ref, p.objects, p.hist, p.err, p.loading = ref, nil, nil, nil, true
	p.cursor, p.top, p.dtop = 0, 0, 0
	p.build()
	return loadHistory(ctx, p.gen, p.c.Snap, ref, p.opts, focus)
}

// ShowObjects lists objects to choose from (enter opens one's history).
func (p *HistoryPane) ShowObjects(what string, objs []touched) {
	p.gen++
	p.objects, p.what, p.hist, p.err, p.loading = objs, what, nil, nil, false
	p.cursor, p.top, p.dtop = 0, 0, 0
	p.build()
}

// loadHistory finds the object's events with the query's filter (answered
// from the index columns), reads them back and builds the history (I/O:
// runs as a command).
func loadHistory(ctx context.Context, gen uint64, s *Snapshot, ref history.Ref, opts history.Options, focus int) tea.Cmd {
	return func() tea.Msg {
		msg := historyLoadedMsg{gen: gen, evRow: map[string]int{}}
		f, err := CompileLogQL(ref.QueryFor(opts.Job, opts.Reads))
		if err != nil {
			msg.err = err
			return msg
		}
		rows, err := f.Eval(ctx, s, 0, nil)
		if err != nil {
			msg.err = err
			return msg
		}
		b := history.NewBuilder(ref, opts)
		var dec data.Decoder
		var evs []data.Event
		for _, r := range rows {
			raw, err := s.Raw(int(r))
			if err != nil {
				msg.err = err
				return msg
			}
			evs, _ = dec.Decode(evs[:0], raw, s.Origin(int(r)))
			for k := range evs {
				if int(r) == focus && evs[k].AuditID != "" && ref.Matches(&evs[k], opts.Reads) {
					msg.focusID = strings.Clone(evs[k].AuditID)
				}
				if b.Add(&evs[k]) {
					if _, ok := msg.evRow[evs[k].AuditID]; !ok {
						msg.evRow[strings.Clone(evs[k].AuditID)] = int(r)
					}
				}
			}
		}
		msg.hist = b.Build()
		if len(msg.hist.Rows) == 0 {
			msg.elsewhere = elsewhere(s, ref)
		}
		return msg
	}
}

// elsewhere is where the events name an object of ref's resource and name
// in other namespaces than ref's (history.RankElsewhere).
func elsewhere(s *Snapshot, ref history.Ref) []touched {
	counts := map[string]int{}
	for i := 0; i < s.Len(); i++ {
		if s.Str(ColName, i) != ref.Name || s.Str(ColResource, i) != ref.Resource ||
			ref.GroupGiven && s.Str(ColAPIGroup, i) != ref.Group {
			continue
		}
		counts[s.Str(ColNamespace, i)]++
	}
	var out []touched
	for _, e := range history.RankElsewhere(ref, counts) {
		out = append(out, touched{e.Ref, e.Events})
	}
	return out
}

// Loaded takes a historyLoadedMsg; stale ones are ignored.
func (p *HistoryPane) Loaded(m historyLoadedMsg) {
	if m.gen != p.gen {
		return
	}
	p.loading, p.err, p.hist, p.evRow, p.elsewhere = false, m.err, m.hist, m.evRow, m.elsewhere
	if p.hist != nil {
		p.cursor = max(0, len(p.hist.Rows)-1) // the latest request
		if m.focusID != "" {
			// The request of the event h was pressed on (the last row
			// of its auditID, should the client have reused it).
			for k := range p.hist.Rows {
				if p.hist.Rows[k].AuditID == m.focusID {
					p.cursor = k
				}
			}
		}
	}
	p.build()
}

// Selected returns the index row of the selected request's event.
func (p *HistoryPane) Selected() (int, bool) {
	if p.hist == nil || p.cursor >= len(p.hist.Rows) {
		return 0, false
	}
	row, ok := p.evRow[p.hist.Rows[p.cursor].AuditID]
	return row, ok && p.hist.Rows[p.cursor].AuditID != ""
}

// SelectedObject returns the object under the cursor in the objects list.
func (p *HistoryPane) SelectedObject() (history.Ref, bool) {
	if p.objects == nil || p.cursor >= len(p.objects) {
		return history.Ref{}, false
	}
	return p.objects[p.cursor].ref, true
}

// Filter returns the filter of the object's events (its LogQL query).
func (p *HistoryPane) Filter() (*Filter, bool) {
	if p.hist == nil {
		return nil, false
	}
	f, err := CompileLogQL(p.hist.Query)
	return f, err == nil
}

// Action handles the pane's keys: the list moves with j/k, the detail
// scrolls with pgup/pgdn, s toggles status in the diffs.
func (p *HistoryPane) Action(a Action) (tea.Cmd, bool) {
	n := p.listLen()
	switch a {
	case ActUp:
		p.cursor--
	case ActDown:
		p.cursor++
	case ActTop:
		p.cursor = 0
	case ActBottom:
		p.cursor = n - 1
	case ActPageDown:
		p.dtop += max(1, p.detailHeight()-1)
	case ActPageUp:
		p.dtop -= max(1, p.detailHeight()-1)
	case ActHistStatus:
		if p.objects != nil || p.hist == nil {
			return nil, true
		}
		p.opts.Status = !p.opts.Status
		return p.Open(context.Background(), p.ref), true
	default:
		return nil, false
	}
	if a != ActPageDown && a != ActPageUp {
		p.dtop = 0
	}
	p.cursor = max(0, min(p.cursor, n-1))
	p.build()
	return nil, true
}

func (p *HistoryPane) listLen() int {
	if p.objects != nil {
		return len(p.objects)
	}
	if p.hist != nil {
		return len(p.hist.Rows)
	}
	return 0
}

// listHeight is how many rows of the list show: a third of the pane,
// at least 3 (all of it for the objects list).
func (p *HistoryPane) listHeight() int {
	if p.objects != nil {
		return max(1, p.h-3)
	}
	return max(3, min(p.listLen(), (p.h-3)/3))
}

// detailHeight is what is left under the list.
func (p *HistoryPane) detailHeight() int { return max(1, p.h-3-p.listHeight()-1) }

// build renders the selected request's detail once; View slices it.
func (p *HistoryPane) build() {
	p.detail = nil
	if p.hist == nil || p.cursor >= len(p.hist.Rows) {
		return
	}
	st := p.c.Styles
	r := &p.hist.Rows[p.cursor]
	w := p.w
	kv := func(k, v string) string { return st.Bold.Render(pad(k, 9)) + " " + st.Safe(v, w-10, st.Plain) }
	var out []string
	// The verb and subresource are the event's: untrusted.
	head := fmt.Sprintf("%s %s %s", p.c.fmtTime(r.Time), termsafe.String(verbSub(r)), codeText(r.Code))
	out = append(out, st.Bold.Render(head)+" "+changeStyle(st, r).Render(termsafe.String(r.Change)))
	for _, d := range r.Identity.Details() {
		out = append(out, kv(d.Label, d.Value))
	}
	if r.SourceIP != "" || r.UserAgent != "" {
		// "first via ...": the first address may be the client's claim
		// (X-Forwarded-For); the last is the connection's.
		out = append(out, kv("from", strings.TrimSpace(data.SourceIPsText(r.SourceIPs)+"  "+r.UserAgent)))
	}
	out = append(out, kv("audit", dashIf(r.AuditID)+"  level "+dashIf(r.Level)+"  "+strings.Join(r.Stages, "→")))
	for _, n := range r.Notes {
		out = append(out, st.Muted.Render("note ")+st.Safe(n, w-5, st.Plain))
	}
	if r.Patch != "" {
		out = append(out, st.Bold.Render("patch ("+r.PatchType+")"))
		for _, l := range strings.Split(strings.TrimSuffix(r.Patch, "\n"), "\n") {
			out = append(out, "  "+st.Safe(l, w-2, st.Plain))
		}
	}
	for _, l := range strings.Split(strings.TrimSuffix(r.Diff, "\n"), "\n") {
		if l == "" {
			continue
		}
		style := st.Plain
		switch {
		case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---"), strings.HasPrefix(l, "@@"):
			style = st.Muted
		case strings.HasPrefix(l, "+"):
			style = st.Good
		case strings.HasPrefix(l, "-"):
			style = st.Error
		}
		out = append(out, st.Safe(l, w, style))
	}
	// The history's own notes (the requests left out), under every
	// request's detail.
	for _, n := range p.hist.Notes {
		out = append(out, st.Muted.Render("history note ")+st.Safe(n, w-13, st.Plain))
	}
	p.detail = out
}

func verbSub(r *history.Row) string {
	if r.Subresource != "" {
		return r.Verb + "/" + r.Subresource
	}
	return r.Verb
}

func codeText(code int) string {
	if code == 0 {
		return "-"
	}
	return strconv.Itoa(code)
}

func dashIf(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func changeStyle(st *Styles, r *history.Row) lipgloss.Style {
	switch r.Outcome {
	case history.Denied, history.Failed:
		return st.Error
	case history.Unknown:
		return st.Muted
	}
	return st.Good
}

func (p *HistoryPane) View() string {
	st := p.c.Styles
	var lines []string
	switch {
	case p.objects != nil:
		return p.objectsView()
	case p.loading:
		lines = append(lines, st.Title.Render("History ")+st.Safe(p.ref.Display(), p.w-8, st.Bold), st.Muted.Render("reading the object's events…"))
		return fill(lines, p.h)
	case p.err != nil:
		lines = append(lines, st.Title.Render("History ")+st.Safe(p.ref.Display(), p.w-8, st.Bold), st.Error.Render(termsafe.String(p.err.Error())))
		return fill(lines, p.h)
	case p.hist == nil:
		return fill([]string{st.Muted.Render("no object: press h on an event, or :history RESOURCE/NAME")}, p.h)
	}
	h := p.hist
	kind := ""
	if h.Kind != "" {
		kind = " (" + h.Kind + ")"
	}
	count := "  " + plural(len(h.Rows), "request", "requests")
	if n := len(h.LeftOut); n > 0 {
		// deletecollections that did not touch the object (the notes,
		// shown when there is no row, say which).
		count += fmt.Sprintf(", %d left out", n)
	}
	title := st.Title.Render("History ") + st.Safe(h.Ref.Display()+kind, p.w-8-len(count), st.Bold) + st.Muted.Render(count)
	hint := "  f filter · s status · enter event · esc back"
	if p.opts.Status {
		hint = "  f filter · s hide status · enter event · esc back"
	}
	if ansiWidth(title)+len([]rune(hint)) <= p.w {
		title += st.Muted.Render(hint) // else the help lists the keys
	}
	lines = append(lines, truncateANSI(title, p.w))
	lines = append(lines, st.Muted.Render(truncateANSI(termsafe.String(h.Query), p.w)))
	if len(h.Rows) == 0 {
		lines = append(lines, st.Muted.Render("no request touched this object in the loaded events"))
		for _, o := range p.elsewhere {
			// Names from events: sanitised and cut by Safe.
			lines = append(lines,
				st.Muted.Render("named in namespace ")+st.Safe(o.ref.Namespace, p.w-40, st.Bold)+st.Muted.Render(" by "+plural(o.n, "event", "events")+":"),
				"  "+st.Safe(":history -n "+o.ref.Namespace+" "+o.ref.String(), p.w-2, st.Plain))
		}
		for _, n := range h.Notes {
			lines = append(lines, st.Muted.Render("note ")+st.Safe(n, p.w-5, st.Plain))
		}
		return fill(lines, p.h)
	}
	// The list.
	lw := p.listWidths()
	lines = append(lines, st.Header.Render(pad(pad("TIME", lw[0])+" "+pad("VERB", lw[1])+" "+padLeft("CODE", 4)+" "+pad("WHO", lw[3])+" CHANGE", p.w)))
	lh := p.listHeight()
	if p.cursor < p.top {
		p.top = p.cursor
	}
	if p.cursor >= p.top+lh {
		p.top = p.cursor - lh + 1
	}
	for k := p.top; k < len(h.Rows) && k < p.top+lh; k++ {
		lines = append(lines, p.rowLine(&h.Rows[k], lw, k == p.cursor))
	}
	for len(lines) < 3+lh {
		lines = append(lines, "")
	}
	lines = append(lines, st.Muted.Render(strings.Repeat("─", p.w)))
	// The selected request.
	dh := p.detailHeight()
	p.dtop = max(0, min(p.dtop, len(p.detail)-dh))
	end := min(len(p.detail), p.dtop+dh)
	for _, l := range p.detail[p.dtop:end] {
		lines = append(lines, truncateANSI(l, p.w))
	}
	return fill(lines, p.h)
}

func ansiWidth(s string) int { return ansi.StringWidth(s) }

// maxHistVerb bounds the verb column of the history list: the widest
// verb, deletecollection, and a verb with its subresource
// (create/eviction, update/finalize) fit; a longer one is cut.
const maxHistVerb = 20

// listWidths are the widths of time, verb, code, who and change. The verb
// column is as wide as the rows' widest verb (with its subresource), up
// to maxHistVerb; who gets what its widest identity needs, up to three
// fifths of the rest, and change the remainder.
func (p *HistoryPane) listWidths() [5]int {
	vw, who := len("VERB"), 0
	for i := range p.hist.Rows {
		r := &p.hist.Rows[i]
		vw = max(vw, SafeWidth(verbSub(r)))
		who = max(who, SafeWidth(userText(r.Identity)))
	}
	l := [5]int{p.c.timeFmt().width(p.w >= 110), min(vw, maxHistVerb), 4, 0, 0}
	rest := p.w - l[0] - l[1] - l[2] - 4
	l[3] = max(10, min(who, rest*3/5))
	l[4] = max(6, rest-l[3])
	return l
}

func (p *HistoryPane) rowLine(r *history.Row, lw [5]int, selected bool) string {
	st := p.c.Styles
	change := r.Change
	if r.Denied() {
		change = "DENIED"
	}
	if r.Outcome == history.OK && r.Diff == "" && len(r.Notes) > 0 && strings.HasSuffix(r.Notes[len(r.Notes)-1], "no body recorded") {
		change += " (no body)"
	}
	if selected {
		sel, esc := st.Selected, st.Escape.Reverse(true)
		return strings.Join([]string{
			sel.Render(fit(p.c.timeFmt().format(r.Time, p.w >= 110), lw[0])),
			cellEsc(verbSub(r), lw[1], sel, esc),
			sel.Render(padLeft(codeText(r.Code), lw[2])),
			UserCell(r.Identity, lw[3], sel, esc),
			cellEsc(change, lw[4], sel, esc),
		}, sel.Render(" "))
	}
	return strings.Join([]string{
		st.Muted.Render(fit(p.c.timeFmt().format(r.Time, p.w >= 110), lw[0])),
		cell(st, verbSub(r), lw[1], st.VerbStyle(r.Verb)),
		st.CodeStyle(r.Code).Render(padLeft(codeText(r.Code), lw[2])),
		UserCell(r.Identity, lw[3], st.Plain, st.Escape),
		cell(st, change, lw[4], changeStyle(st, r)),
	}, " ")
}

func (p *HistoryPane) objectsView() string {
	st := p.c.Styles
	lines := []string{
		truncateANSI(st.Title.Render("Objects ")+st.Safe(p.what, p.w/2, st.Bold)+st.Muted.Render(fmt.Sprintf("  %d touched · enter history · esc back", len(p.objects))), p.w),
		st.Header.Render(pad(padLeft("EVENTS", 7)+"  OBJECT", p.w)),
	}
	if len(p.objects) == 0 {
		lines = append(lines, st.Muted.Render("its events name no object"))
	}
	lh := p.listHeight()
	if p.cursor < p.top {
		p.top = p.cursor
	}
	if p.cursor >= p.top+lh {
		p.top = p.cursor - lh + 1
	}
	for k := p.top; k < len(p.objects) && k < p.top+lh; k++ {
		o := p.objects[k]
		num := padLeft(strconv.Itoa(o.n), 7) + "  "
		if k == p.cursor {
			lines = append(lines, st.Selected.Render(num)+cellEsc(o.ref.Display(), p.w-9, st.Selected, st.Escape.Reverse(true)))
		} else {
			lines = append(lines, st.Muted.Render(num)+cell(st, o.ref.Display(), p.w-9, st.Plain))
		}
	}
	return fill(lines, p.h)
}

// objectsOf counts the objects the given index rows name (creates whose
// name was not known yet, lists and non-resource requests name none).
func objectsOf(s *Snapshot, rows []int) []touched {
	counts := map[history.Ref]int{}
	for _, i := range rows {
		ref, ok := refAt(s, i)
		if ok {
			counts[ref]++
		}
	}
	out := make([]touched, 0, len(counts))
	for r, n := range counts {
		out = append(out, touched{r, n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].n != out[j].n {
			return out[i].n > out[j].n
		}
		return out[i].ref.Display() < out[j].ref.Display()
	})
	return out
}

// refAt is the object index row i names.
func refAt(s *Snapshot, i int) (history.Ref, bool) {
	return history.RefOf(&data.Event{
		Resource: s.Str(ColResource, i), APIGroup: s.Str(ColAPIGroup, i),
		Namespace: s.Str(ColNamespace, i), Name: s.Str(ColName, i),
	})
}

// The app's side of the pane (kept here so app.go only routes).

// openHistory is h: the history of the selected event's object; on an
// alert (not one of its events), the objects its events touched.
func (a *App) openHistory() tea.Cmd {
	row, ok := -1, false
	switch a.focus {
	case paneTail:
		row, ok = a.tail.Selected()
	case paneTimeline:
		row, ok = a.tl.Selected()
	case paneDetail:
		row, ok = a.detail.Row(), a.detail.loaded && a.detail.err == nil
	case paneAlerts:
		if row, ok = a.alerts.Selected(); !ok {
			return a.alertObjects()
		}
	}
	if !ok {
		return func() tea.Msg { return statusMsg("no event selected: h shows the history of an event's object") }
	}
	ref, ok := refAt(a.c.Snap, row)
	if !ok {
		return func() tea.Msg {
			return statusMsg("this event names no object (a list, or a create before its name was known)")
		}
	}
	a.hist.what = ""
	a.histOpen = true
	return a.hist.OpenAt(a.ctx, ref, row)
}

// alertObjects lists the objects the selected alert's events touched (of
// an instance, or of every instance of a group).
func (a *App) alertObjects() tea.Cmd {
	rows, name, ok := a.alerts.selectedEventRows()
	if !ok {
		return func() tea.Msg {
			return statusMsg("no alert selected: h on a group or an instance lists what its events touched")
		}
	}
	objs := objectsOf(a.c.Snap, rows)
	if len(objs) == 1 {
		a.hist.what = ""
		return a.showHistory(objs[0].ref)
	}
	a.histOpen = true
	a.hist.ShowObjects("alert "+name, objs)
	return nil
}

func (a *App) showHistory(ref history.Ref) tea.Cmd {
	a.histOpen = true
	return a.hist.Open(a.ctx, ref)
}

// historyKey handles a key while the pane is open; ok is false for keys
// the pane leaves to the app (global ones).
func (a *App) historyKey(ks string) (tea.Cmd, bool) {
	act, ok := a.c.Keys.Lookup(ScopeHistory, ks)
	if !ok {
		return nil, true // unknown keys do nothing here
	}
	switch act {
	case ActBack:
		if a.hist.objects == nil && a.hist.what != "" {
			// Back from an object's history to the alert's objects.
			a.hist.ShowObjects(a.hist.what, a.hist.lastObjects())
			return nil, true
		}
		a.histOpen = false
		return nil, true
	case ActOpen:
		if ref, ok := a.hist.SelectedObject(); ok {
			a.hist.keep()
			return a.hist.Open(a.ctx, ref), true
		}
		row, ok := a.hist.Selected()
		if !ok {
			return func() tea.Msg { return statusMsg("this request's event is not in the index") }, true
		}
		a.histOpen = false
		return a.openDetail(row), true
	case ActFilterTo:
		f, ok := a.hist.Filter()
		if !ok {
			return nil, true
		}
		a.keepWindow(f)
		a.histOpen = false
		a.setFocus(paneTail)
		return a.changeFilter(f), true
	case ActHistory:
		return nil, true
	}
	if cmd, handled := a.hist.Action(act); handled {
		return cmd, true
	}
	return nil, false
}

// keep remembers the objects list while one of them is shown.
func (p *HistoryPane) keep() { p.saved = p.objects }

func (p *HistoryPane) lastObjects() []touched {
	if p.saved == nil {
		return []touched{}
	}
	return p.saved
}

// historyCommand runs :history [-n NAMESPACE] RESOURCE/NAME.
func (a *App) historyCommand(c command) tea.Cmd {
	ref, err := history.ParseRef(c.arg, c.ns)
	if err != nil {
		msg := err.Error()
		return func() tea.Msg { return statusMsg(msg) }
	}
	a.hist.what = ""
	return a.showHistory(ref)
}

package ui

import (
	"fmt"
	"strconv"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/termsafe"
)

// The app's filter: what the user types or a pane writes becomes a Filter,
// evaluated over the index in commands (tagged with a generation); every
// change can be undone; the view's time window (window.go) is part of it
// and stays when the query changes; a read input out of time order gets
// its time order here.

// undoFilter restores the filter before the last change.
func (a *App) undoFilter() tea.Cmd {
	if len(a.undo) == 0 {
		return func() tea.Msg { return statusMsg("nothing to undo") }
	}
	// A clone: a command may still be evaluating the old one.
	f := a.undo[len(a.undo)-1].Clone()
	a.undo = a.undo[:len(a.undo)-1]
	cmd := a.applyFilter(f)
	what := "no filter"
	if t := a.filterText(); t != "" {
		what = t
	}
	a.status = "undone: back to " + termsafe.String(what)
	return cmd
}

// undoHint names what undoes a filter change in the pane that has the
// keyboard: "u (or :undo)" where a key is bound to it, ":undo" where
// there is none (the Timeline's u is a pivot), so a hint never names a
// key that does something else there.
func (a *App) undoHint() string {
	scope := a.panes[a.focus].Scope()
	if a.histOpen {
		scope = ScopeHistory
	}
	if ks := a.c.Keys.KeysFor(scope, ActUndo); len(ks) > 0 {
		return ks[0] + " (or :undo)"
	}
	return ":undo"
}

// maxUndo bounds the undo history.
const maxUndo = 100

// changeFilter is a filter change the user made (filter bar, command,
// drill-in, esc): the replaced filter can be restored with u.
func (a *App) changeFilter(f *Filter) tea.Cmd {
	a.undo = append(a.undo, a.filter)
	if len(a.undo) > maxUndo {
		a.undo = a.undo[len(a.undo)-maxUndo:]
	}
	return a.applyFilter(f)
}

// drill narrows the filter to the events a Stats row counts: the filter
// in use with the row's label filters after it, as LogQL that `audittui
// query` answers the same (a negated filter cannot be narrowed that way,
// so the row's filter replaces it). The Tail then shows the events.
func (a *App) drill(pred string) tea.Cmd {
	text := DrillQuery(a.filter, pred)
	f, err := a.compile(text)
	if err != nil {
		msg := "drill-in: " + err.Error()
		return func() tea.Msg { return statusMsg(msg) }
	}
	a.setFocus(paneTail)
	if a.filter.Negate {
		f.Note = "the negated filter was replaced (" + a.undoHint() + " undoes)"
	}
	return a.changeFilter(f)
}

// compile parses filter text; "!" in front negates (`/!`). A plain
// search becomes a line filter (|= "word", or != "word" negated), shown
// as that LogQL; a misspelt field is an error naming the field meant.
func (a *App) compile(text string) (*Filter, error) {
	if text == "" {
		return a.windowOnly(), nil
	}
	neg, body := negated(text)
	if a.opts.Compile == nil {
		return nil, fmt.Errorf("filtering is not available")
	}
	if groups, ok := plainSearch(body); ok && neg {
		// `/!word`: LogQL says it directly (!= "word"); several words
		// (or words joined by or): the events that have none of them
		// (!= "a" != "b").
		terms := flatTerms(groups)
		each := make([][]string, len(terms))
		for k, t := range terms {
			each[k] = []string{t}
		}
		f, err := a.opts.Compile(lineFilters("!=", each))
		if err != nil {
			return nil, shiftErr{err, 1}
		}
		f.Note = "not LogQL: showing events whose text lacks " + strconv.Quote(terms[0])
		if len(terms) > 1 {
			f.Note = "not LogQL: showing events whose text has none of " + quotedList(terms, "or")
		}
		return a.keepWindow(f), nil
	}
	f, err := a.opts.Compile(body)
	if err != nil {
		if neg {
			return nil, shiftErr{err, 1}
		}
		return nil, err
	}
	note, err := checkFields(f, body, a.c.Snap.IsStreamLabel)
	if err == nil {
		err = checkSelector(f, body, a.knownStreams())
	}
	if err != nil {
		if neg {
			return nil, shiftErr{err, 1}
		}
		return nil, err
	}
	if f.Note == "" {
		f.Note = note
		f.Text = text
	}
	f.Negate = neg
	return a.keepWindow(f), nil // the window stays (window.go)
}

// negated splits the `/!` prefix (show the events the rest does not
// match) off filter text. Text that starts with a LogQL line filter (!=
// "word", !~ "re") is not negated: it is the LogQL the filter line shows
// for `/!word`, and typed back it is the same filter.
func negated(text string) (bool, string) {
	if strings.HasPrefix(text, "!") && !strings.HasPrefix(text, "!=") && !strings.HasPrefix(text, "!~") {
		return true, text[1:]
	}
	return false, text
}

// shiftErr moves an error column right (for the `!` prefix).
type shiftErr struct {
	error
	by int
}

func (e shiftErr) Unwrap() error { return e.error }

// sortIfNeeded starts putting the rows in time order when the input is
// read and was not in time order (an unsorted or concatenated file): a
// permutation column, computed in a command; the events are not copied.
// A followed input is sorted once its content is read (caught up); the
// rows that come after that, live, follow in the order they came.
func (a *App) sortIfNeeded() tea.Cmd {
	snap := a.c.Snap
	if a.sorting || a.orderChecked || snap.Ordered() {
		return nil
	}
	if !snap.Done && !a.done && !(a.opts.Follow && snap.CaughtUp) {
		return nil // still reading
	}
	// Decided once, on what was read: a followed file's live lines never
	// cause a sort later.
	a.orderChecked = true
	if !snap.Unsorted {
		return nil
	}
	a.sorting = true
	return func() tea.Msg { return orderMsg{n: snap.Len(), order: timeOrder(snap)} }
}

// ordered installs a time order and re-evaluates the filter over it.
func (a *App) ordered(m orderMsg) tea.Cmd {
	a.sorting = false
	if err := a.ix.SetOrder(m.order, m.n); err != nil {
		a.c.Log.Warn("time order", "err", err)
		return nil
	}
	a.c.Snap = a.ix.Snapshot()
	a.status = "rows sorted by time (the input was not in time order)"
	// The same filter, evaluated again in the new order: not a change to
	// record. The Tail stays where the user is (on the event selected,
	// scrolled or paused): the sort comes when the input is read, maybe
	// long after they scrolled up.
	keep := a.tail.hold()
	a.filter = a.filter.Clone()
	cmd := a.evaluate()
	a.tail.restore(keep)
	return cmd
}

// applyFilter replaces the filter and starts evaluating it; the access
// log (Options.OnAction) and the case (casefile.go) record it.
func (a *App) applyFilter(f *Filter) tea.Cmd {
	a.filter = f
	a.action(ActionRecord{Kind: RecordFilter, Text: a.filterText()})
	return a.evaluate()
}

// evaluate starts evaluating the filter from the first row.
func (a *App) evaluate() tea.Cmd {
	f := a.filter
	a.filterGen++
	a.running = false
	a.filterUpTo = 0
	a.filterGone = 0
	a.c.Window = a.viewWindow()
	a.c.Filter = f
	view := a.recordView()
	if !f.Active() {
		a.c.Rows = allRows(a.c.Snap)
		a.filterUpTo = a.c.Snap.Len()
		a.tail.ResetForFilter()
		a.refresh()
		return view
	}
	a.c.Rows = &RowSet{order: a.c.Snap.order, rank: a.c.Snap.rank}
	a.tail.ResetForFilter()
	a.refresh()
	return tea.Batch(a.extendFilter(), view)
}

// rawSlice is how many rows one command of a re-reading filter covers.
const rawSlice = 50_000

// extendFilter evaluates the filter over rows not yet evaluated, one
// command at a time.
func (a *App) extendFilter() tea.Cmd {
	if !a.filter.Active() {
		a.c.Rows = allRows(a.c.Snap)
		a.filterUpTo = a.c.Snap.Len()
		return nil
	}
	if a.running || a.filterUpTo >= a.c.Snap.Len() {
		return nil
	}
	a.running = true
	gen, f, snap, from := a.filterGen, a.filter, a.c.Snap, a.filterUpTo
	// Filters that re-read events run in slices, so matches show up while
	// the rest is still being read (and a replaced filter stops soon).
	to := snap.Len()
	if f.NeedsRaw() {
		to = min(to, from+rawSlice)
	}
	ctx := a.ctx
	return func() tea.Msg {
		rows, gone, err := f.evalRange(ctx, snap, from, to, nil)
		return filterDoneMsg{gen: gen, from: from, upTo: to, rows: rows, gone: gone, err: err}
	}
}

func (a *App) filterDone(m filterDoneMsg) tea.Cmd {
	if m.gen != a.filterGen {
		return nil // a newer filter replaced this one
	}
	a.running = false
	if m.err != nil {
		a.status = "filter: " + termsafe.String(m.err.Error())
		return nil
	}
	a.filterGone += m.gone
	rows := append(a.c.Rows.Rows, m.rows...)
	a.c.Rows = &RowSet{N: m.upTo, Rows: rows, order: a.c.Snap.order, rank: a.c.Snap.rank}
	a.filterUpTo = m.upTo
	a.refresh()
	return a.extendFilter()
}

// knownStreams are the stream labels a filter's selector is judged by:
// those the sources reported (Options.Streams) and those of the events
// read. Without the sources' report, only once every source is read (a
// source's first event may not be read yet; an index without a feed is
// complete); nil: not judged.
func (a *App) knownStreams() *data.StreamLabels {
	if a.c.Streams == nil && !a.done && a.feed != nil {
		return nil
	}
	sl := &data.StreamLabels{}
	sl.Merge(a.c.Streams)
	a.c.Snap.addStreams(sl)
	return sl
}

// checkSelector refuses a filter whose stream selector selects no stream
// of the sources (it would show nothing, silently, as in Loki): the
// error names the labels the streams carry and the value or name meant
// when one is close, with the column of the first matcher no stream
// satisfies. When the selector is the shorthand's (the text starts with
// no selector), it says so and shows one of the sources'.
func checkSelector(f *Filter, text string, streams *data.StreamLabels) error {
	if f == nil || f.lq == nil || streams == nil {
		return nil
	}
	m, ok := streams.Miss(f.lq.Selector())
	if !ok {
		return nil
	}
	t := strings.TrimLeft(text, " ")
	if !strings.HasPrefix(t, "{") {
		msg := "the shorthand's " + m.String()
		var sel []string
		for _, x := range m.Matchers {
			if vs := streams.Values(x.Name); len(vs) > 0 {
				sel = append(sel, x.Name+"="+strconv.Quote(vs[0]))
			}
		}
		if len(sel) > 0 {
			msg += "; start with a selector they have: {" + strings.Join(sel, ", ") + "} | json | ..."
		}
		return &FilterError{Msg: msg, Col: 1}
	}
	col := 0
	lead := len(text) - len(t)
	if end := strings.IndexByte(t, '}'); end > 0 {
		if k := strings.Index(t[:end], m.Matchers[0].Name); k >= 0 {
			col = len([]rune(text[:lead+k])) + 1
		}
	}
	return &FilterError{Msg: m.String(), Col: col}
}

package ui

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/audittui/audittui/internal/termsafe"
)

// Options configure the TUI.
type Options struct {
	// Title names what is shown (source names) in the header.
	Title string
	// Sample marks the bundled sample data (the header says so).
	Sample bool
	// Compile turns filter-bar text into a Filter (the LogQL adapter).
	Compile func(text string) (*Filter, error)
	// Level gives the audit policy level of a raw event (--policy), or nil.
	Level func(raw []byte) (string, error)
	// Alerts is the alert engine view, or nil when alerts are off.
	Alerts AlertSource
	// Follow is true when the input is tailed.
	Follow bool
	// NoColor disables colour (NO_COLOR).
	NoColor bool
	// Loc is the display time zone (default UTC).
	Loc *time.Location
	Log *slog.Logger
	// OnFirstScreen, if set, is called once, from View, when the first
	// screen with events is rendered (tui-alerts: the rules start then,
	// so they never slow the first screen down).
	OnFirstScreen func()
}

// pane ids in tab order.
const (
	paneTail = iota
	paneTimeline
	paneAlerts
	paneStats
	paneDetail
	numPanes
)

// App is the root model: it routes keys (global first, then the focused
// pane), owns the filter and the index snapshot, and lays the screen out.
type App struct {
	c      *Common
	opts   Options
	ix     *Index
	feed   *Feed
	ctx    context.Context
	w, h   int
	panes  [numPanes]Pane
	tail   *Tail
	detail *Detail
	tl     *Timeline
	alerts *AlertsPane
	stats  *Stats
	bar    *FilterBar
	focus  int
	back   int // pane to return to from detail

	filter    *Filter
	filterGen uint64
	// running is true while a filter command is in flight.
	running    bool
	filterUpTo int
	help       bool
	rejects    bool
	status     string
	done       bool
	quitting   bool
}

// New builds the app over an index fed by feed (feed may be nil when the
// index is complete, as in tests).
func New(ctx context.Context, ix *Index, feed *Feed, opts Options) *App {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Loc == nil {
		opts.Loc = time.UTC
	}
	c := &Common{
		Styles: NewStyles(DefaultPalette(), opts.NoColor),
		Keys:   DefaultKeymap(),
		Log:    opts.Log,
		Now:    time.Now,
		Snap:   ix.Snapshot(),
		Level:  opts.Level,
		Loc:    opts.Loc,
	}
	c.Rows = &RowSet{All: true, N: c.Snap.Len()}
	a := &App{c: c, opts: opts, ix: ix, feed: feed, ctx: ctx, w: 80, h: 24}
	a.tail = NewTail(c)
	a.detail = NewDetail(c)
	a.tl = NewTimeline(c)
	a.alerts = NewAlertsPane(c, opts.Alerts)
	a.stats = NewStats(c)
	a.bar = NewFilterBar(c)
	a.panes = [numPanes]Pane{a.tail, a.tl, a.alerts, a.stats, a.detail}
	a.filter = &Filter{}
	a.layout()
	a.refresh()
	return a
}

// Init starts waiting for index growth.
func (a *App) Init() tea.Cmd {
	var cmds []tea.Cmd
	if a.feed != nil {
		cmds = append(cmds, a.feed.Wait())
	}
	cmds = append(cmds, a.alerts.Wait())
	return tea.Batch(cmds...)
}

// Update routes messages. It never does I/O: reads and filters run in
// commands that come back as messages.
func (a *App) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch m := msg.(type) {
	case tea.WindowSizeMsg:
		a.w, a.h = m.Width, m.Height
		a.layout()
		return a, nil
	case indexGrewMsg:
		a.c.Snap = a.ix.Snapshot()
		cmd := a.extendFilter()
		a.refresh()
		if a.feed != nil {
			cmd = tea.Batch(cmd, a.feed.Wait())
		}
		return a, cmd
	case feedDoneMsg:
		a.done = true
		a.c.Snap = a.ix.Snapshot()
		cmd := a.extendFilter()
		a.refresh()
		return a, cmd
	case filterDoneMsg:
		return a, a.filterDone(m)
	case detailLoadedMsg:
		a.detail.Loaded(m)
		return a, nil
	case alertsMsg:
		a.alerts.Update(m)
		return a, a.alerts.Wait()
	case statusMsg:
		a.status = string(m)
		return a, nil
	case tea.PasteMsg:
		if a.bar.Active() {
			a.bar.Paste(m.Content)
		}
		return a, nil
	case tea.MouseWheelMsg:
		act := ActDown
		if m.Button == tea.MouseWheelUp {
			act = ActUp
		}
		var cmds []tea.Cmd
		for range 3 {
			cmd, _ := a.panes[a.focus].Action(act)
			cmds = append(cmds, cmd)
		}
		return a, tea.Batch(cmds...)
	case tea.KeyPressMsg:
		return a, a.key(m)
	}
	return a, nil
}

func (a *App) key(k tea.KeyPressMsg) tea.Cmd {
	a.status = ""
	if a.bar.Active() {
		return a.barKey(k)
	}
	ks := k.String()
	if a.help || a.rejects {
		// Overlays close on esc, q or their own key.
		switch ks {
		case "esc", "q", "?", "R":
			a.help, a.rejects = false, false
		case "ctrl+c":
			return tea.Quit
		}
		return nil
	}
	p := a.panes[a.focus]
	act, ok := a.c.Keys.Lookup(p.Scope(), ks)
	if !ok {
		return nil
	}
	switch act {
	case ActQuit:
		a.quitting = true
		return tea.Quit
	case ActHelp:
		a.help = true
		return nil
	case ActRejects:
		a.rejects = true
		return nil
	case ActFilter:
		a.bar.Open('/', a.filter.Text)
		a.layout()
		return nil
	case ActCommand:
		a.bar.Open(':', "")
		a.layout()
		return nil
	case ActNextPane:
		a.setFocus((a.focus + 1) % numPanes)
		return nil
	case ActPrevPane:
		a.setFocus((a.focus + numPanes - 1) % numPanes)
		return nil
	case ActPane1, ActPane2, ActPane3, ActPane4, ActPane5:
		a.setFocus(int(act - ActPane1))
		return nil
	case ActBack:
		if a.focus == paneDetail {
			a.setFocus(a.back)
			return nil
		}
		if cmd, handled := p.Action(act); handled {
			return cmd
		}
		if a.filter.Active() {
			return a.applyFilter(&Filter{})
		}
		return nil
	case ActOpen:
		return a.open()
	case ActFilterTo:
		// The drill-ins write LogQL (shown in the filter line, editable
		// with /) that `audittui query` and Grafana answer the same.
		var f *Filter
		var ok bool
		switch a.focus {
		case paneAlerts:
			// tui-alerts: the drill's window replaces :since.
			var cmdline string
			if f, cmdline, ok = a.alerts.AlertFilter(); ok {
				a.setFocus(paneTail)
				return tea.Batch(a.applyFilter(f), func() tea.Msg { return statusMsg("= " + cmdline) })
			}
		case paneTimeline:
			f, ok = a.tl.SubjectFilter()
		}
		if !ok {
			return func() tea.Msg { return statusMsg("no events to filter to here") }
		}
		f.Since = a.filter.Since
		a.setFocus(paneTail)
		return a.applyFilter(f)
	}
	cmd, _ := p.Action(act)
	return cmd
}

// open handles enter: the focused pane may want to drill in, else the
// selected event opens in the detail pane.
func (a *App) open() tea.Cmd {
	switch a.focus {
	case paneTail:
		if row, ok := a.tail.Selected(); ok {
			return a.openDetail(row)
		}
	case paneTimeline:
		if row, ok := a.tl.Selected(); ok {
			return a.openDetail(row)
		}
		cmd, _ := a.tl.Action(ActOpen)
		return cmd
	case paneAlerts:
		if row, ok := a.alerts.Selected(); ok {
			return a.openDetail(row)
		}
		cmd, _ := a.alerts.Action(ActOpen)
		return cmd
	}
	return nil
}

func (a *App) openDetail(row int) tea.Cmd {
	if a.focus != paneDetail {
		a.back = a.focus
	}
	a.setFocus(paneDetail)
	return a.detail.Open(row)
}

func (a *App) setFocus(p int) {
	if p == paneDetail && a.focus != paneDetail {
		a.back = a.focus
	}
	a.focus = p
	a.panes[p].Refresh()
}

func (a *App) barKey(k tea.KeyPressMsg) tea.Cmd {
	switch a.bar.Key(k) {
	case barCancel:
		a.bar.Close()
		a.layout()
	case barSubmit:
		text := a.bar.Value()
		a.bar.Remember(text)
		if a.bar.Mode() == ':' {
			return a.runCommand(text)
		}
		f, err := a.compile(text)
		if err != nil {
			msg, col := describeErr(err, text)
			a.bar.SetError(msg, col)
			a.layout()
			return nil
		}
		a.bar.Close()
		a.layout()
		return a.applyFilter(f)
	}
	a.layout()
	return nil
}

// compile parses filter text; "!" in front negates (`/!`).
func (a *App) compile(text string) (*Filter, error) {
	if text == "" {
		return &Filter{Since: a.filter.Since}, nil
	}
	neg := false
	body := text
	if len(body) > 0 && body[0] == '!' {
		neg, body = true, body[1:]
	}
	if a.opts.Compile == nil {
		return nil, fmt.Errorf("filtering is not available")
	}
	f, err := a.opts.Compile(body)
	if err != nil {
		if neg {
			return nil, shiftErr{err, 1}
		}
		return nil, err
	}
	f.Text, f.Negate, f.Since = text, neg, a.filter.Since
	return f, nil
}

// shiftErr moves an error column right (for the `!` prefix).
type shiftErr struct {
	error
	by int
}

func (e shiftErr) Unwrap() error { return e.error }

func (a *App) runCommand(text string) tea.Cmd {
	cmd, err := parseCommand(text)
	if err != nil {
		a.bar.SetError(err.Error(), 0)
		a.layout()
		return nil
	}
	a.bar.Close()
	a.layout()
	switch cmd.name {
	case "quit":
		a.quitting = true
		return tea.Quit
	case "user":
		a.tl.Pivot(ColUser, cmd.arg)
		a.setFocus(paneTimeline)
	case "ip":
		a.tl.Pivot(ColSourceIP, cmd.arg)
		a.setFocus(paneTimeline)
	case "since":
		f := a.filter.Clone()
		newest := a.c.Snap.MaxTime
		if newest == 0 {
			newest = a.c.Now().UnixNano()
		}
		f.Since = newest - int64(cmd.since)
		return a.applyFilter(f)
	case "clear":
		return a.applyFilter(&Filter{})
	// tui-alerts: silences.
	case "silence", "unsilence":
		if a.focus != paneAlerts {
			a.setFocus(paneAlerts)
			return func() tea.Msg { return statusMsg("select a group, then :" + cmd.name) }
		}
		msg := ""
		if cmd.name == "unsilence" {
			msg = a.alerts.UnsilenceSelected()
		} else {
			msg = a.alerts.SilenceSelected(cmd.arg)
		}
		return func() tea.Msg { return statusMsg(msg) }
	case "silences":
		a.setFocus(paneAlerts)
		a.alerts.OpenSilences()
	}
	return nil
}

// Silences returns the alert groups silenced in this investigation
// (tui-alerts; a case file saves them).
func (a *App) Silences() []Silence { return a.alerts.Silences() }

// SetSilences restores silences (a reopened case).
func (a *App) SetSilences(ss []Silence) { a.alerts.SetSilences(ss) }

// applyFilter replaces the filter and starts evaluating it.
func (a *App) applyFilter(f *Filter) tea.Cmd {
	a.filter = f
	a.filterGen++
	a.running = false
	a.filterUpTo = 0
	if !f.Active() {
		a.c.Rows = &RowSet{All: true, N: a.c.Snap.Len()}
		a.filterUpTo = a.c.Snap.Len()
		a.tail.ResetForFilter()
		a.refresh()
		return nil
	}
	a.c.Rows = &RowSet{}
	a.tail.ResetForFilter()
	a.refresh()
	return a.extendFilter()
}

// rawSlice is how many rows one command of a re-reading filter covers.
const rawSlice = 50_000

// extendFilter evaluates the filter over rows not yet evaluated, one
// command at a time.
func (a *App) extendFilter() tea.Cmd {
	if !a.filter.Active() {
		a.c.Rows = &RowSet{All: true, N: a.c.Snap.Len()}
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
		rows, err := f.EvalRange(ctx, snap, from, to, nil)
		return filterDoneMsg{gen: gen, from: from, upTo: to, rows: rows, err: err}
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
	rows := append(a.c.Rows.Rows, m.rows...)
	a.c.Rows = &RowSet{N: m.upTo, Rows: rows}
	a.filterUpTo = m.upTo
	a.refresh()
	return a.extendFilter()
}

func (a *App) refresh() {
	for _, p := range a.panes {
		p.Refresh()
	}
}

// View renders the whole screen.
func (a *App) View() tea.View {
	v := tea.NewView(a.render())
	if a.opts.OnFirstScreen != nil && a.c.Snap.Len() > 0 {
		a.opts.OnFirstScreen()
		a.opts.OnFirstScreen = nil
	}
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = "audittui"
	return v
}

package ui

import (
	"context"
	"log/slog"
	"time"

	tea "charm.land/bubbletea/v2"
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
	helpv  *Help
	focus  int
	back   int // pane to return to from detail

	filter    *Filter
	filterGen uint64
	// undo holds the filters replaced by the user's changes, newest last
	// (u and :undo restore them).
	undo []*Filter
	// running is true while a filter command is in flight.
	running    bool
	filterUpTo int
	help       bool
	rejects    bool
	status     string
	done       bool
	quitting   bool
	// started is when the app was built; indexedIn how long the input
	// took to read (0 until the feed ends).
	started   time.Time
	indexedIn time.Duration
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
	c.Rows = allRows(c.Snap)
	a := &App{c: c, opts: opts, ix: ix, feed: feed, ctx: ctx, w: 80, h: 24, started: c.Now()}
	a.tail = NewTail(c)
	a.detail = NewDetail(c)
	a.tl = NewTimeline(c)
	a.alerts = NewAlertsPane(c, opts.Alerts)
	a.stats = NewStats(c)
	a.bar = NewFilterBar(c)
	a.helpv = NewHelp(c)
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
		a.indexedIn = a.c.Now().Sub(a.started)
		a.c.Snap = a.ix.Snapshot()
		cmd := a.extendFilter()
		a.refresh()
		return a, tea.Batch(cmd, a.sortIfNeeded())
	case orderMsg:
		return a, a.ordered(m)
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
			if a.help {
				a.helpv.Action(act)
				continue
			}
			cmd, _ := a.panes[a.focus].Action(act)
			cmds = append(cmds, cmd)
		}
		return a, tea.Batch(cmds...)
	case tea.KeyPressMsg:
		return a, a.key(m)
	}
	return a, nil
}

func (a *App) refresh() {
	for _, p := range a.panes {
		p.Refresh()
	}
}

// View renders the whole screen.
func (a *App) View() tea.View {
	v := tea.NewView(a.render())
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = "audittui"
	return v
}

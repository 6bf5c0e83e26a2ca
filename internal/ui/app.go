package ui

import (
	"context"
	"log/slog"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/audittui/audittui/internal/data"
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
	// Follow is true when the input is tailed; NotFollowing, when it is
	// not, is what the status bar says once it is read ("not following
	// (--follow)": the input holds a file that could be followed).
	Follow       bool
	NotFollowing string
	// NoColor disables colour (NO_COLOR).
	NoColor bool
	// Loc is the display time zone (default UTC).
	Loc *time.Location
	Log *slog.Logger
	// Write is where the session may write files (exports, case
	// directories); nil means nowhere (WritesOff). See WritePolicy.
	Write WritePolicy
	// OnAction, if set, is told every filter applied and every `:`
	// command run (and every export), for an access log. It runs on the
	// Update goroutine: it must not block or do I/O itself (hand the
	// record to a writer goroutine).
	OnAction func(ActionRecord)

	// The investigation workbench (window.go, casefile.go, export.go):
	// Window is the window the sources were read with (--since/--from/
	// --to); Case a case directory to open at start ("" : none until
	// :case DIR); Sources describes what was opened, for the case; Author
	// signs the case's records. The case and :export write through Write.
	Window  TimeWindow
	Case    string
	Sources Sources
	Author  string
	// OnFirstScreen, if set, is called once, from View, when the first
	// screen with events is rendered (the local TUI starts the rules then,
	// so they never slow the first screen down).
	OnFirstScreen func()
	// Notice is a message for the status bar at start (the case's
	// opening status follows it).
	Notice string
	// Job is the job label of the sources' audit events (--label
	// job=...; "" is "audit"): the queries the TUI writes (pivots, Stats,
	// History) select it. Compile should expand the shorthand with the
	// same job (CompileLogQLFor).
	Job string
	// Streams are the stream labels the sources reported before they
	// were read (data.StreamLabeler), to tell a filter whose stream
	// selector selects none of them; nil: judged by the streams of the
	// events read, once they are all read.
	Streams *data.StreamLabels
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
	// tlFromTail: the Timeline was opened from the Tail with 2 or U
	// (esc goes back there once no filter is left to clear).
	tlFromTail bool
	// mouseOff: mouse capture is off (F2, :mouse), so the terminal's own
	// selection copies text; the status bar says so while it is.
	mouseOff bool

	// hist opens over the focused pane (history.go).
	hist     *HistoryPane
	histOpen bool

	filter    *Filter
	filterGen uint64
	// undo holds the filters replaced by the user's changes, newest last
	// (u and :undo restore them).
	undo []*Filter
	// running is true while a filter command is in flight.
	running    bool
	filterUpTo int
	// filterGone counts the rows the filter could not search: their bytes
	// are gone from a followed file cut in place (cutReader).
	filterGone int
	help       bool
	rejects    bool
	rej        rejectsState // the rejects overlay's scroll and search (rejects.go)
	status     string
	// fitStatus is how status gives way when short, while status is
	// still its text (statusBar).
	fitStatus fitStatusMsg
	done      bool
	sorting   bool // a time order is being computed (sortIfNeeded)
	// orderChecked: the input as read was looked at for its time order
	// (sortIfNeeded decides once).
	orderChecked bool
	quitting     bool
	// quitArmed: the last key was a quit that said what is not saved
	// (quit.go); quitAgain is that, for the key being handled.
	quitArmed, quitAgain bool
	wb                   *workbench // case, bookmarks list, zoom history
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
	if opts.Write == nil {
		opts.Write = WritesOff{}
	}
	c := &Common{
		Styles: NewStyles(DefaultPalette(), opts.NoColor),
		Keys:   DefaultKeymap(),
		Log:    opts.Log,
		Now:    time.Now,
		Snap:   ix.Snapshot(),
		Level:  opts.Level,
		Loc:    opts.Loc,
		Follow: opts.Follow,
		Job:    opts.Job,

		Shorthand: data.ShorthandSelectorFor(opts.Job),
		Streams:   opts.Streams,
	}
	c.Rows = allRows(c.Snap)
	c.Marks, c.Window = newMarks(), opts.Window
	a := &App{c: c, opts: opts, ix: ix, feed: feed, ctx: ctx, w: 80, h: 24, wb: newWorkbench(opts, c.Now), started: c.Now()}
	if feed == nil {
		a.wb.drawn() // the index is complete: no reading to slow down
	}
	a.tail = NewTail(c)
	a.detail = NewDetail(c)
	a.tl = NewTimeline(c)
	a.alerts = NewAlertsPane(c, opts.Alerts)
	a.stats = NewStats(c)
	a.bar = NewFilterBar(c)
	a.hist = NewHistoryPane(c)
	a.helpv = NewHelp(c)
	a.panes = [numPanes]Pane{a.tail, a.tl, a.alerts, a.stats, a.detail}
	a.filter = &Filter{}
	a.status = opts.Notice
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
	if a.opts.Case != "" {
		cmds = append(cmds, a.openCase(a.opts.Case))
	}
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
		cmd := tea.Batch(a.extendFilter(), a.resolve(), a.sortIfNeeded())
		a.refresh()
		if a.feed != nil {
			cmd = tea.Batch(cmd, a.feed.Wait())
		}
		return a, cmd
	case feedDoneMsg:
		a.done = true
		a.wb.drawn() // nothing left to read: nothing to slow down
		a.c.Snap = a.ix.Snapshot()
		// The index's own measure when it is longer: it started reading
		// before this App was built (a serve session that joined later,
		// or a small input read before the first screen).
		a.indexedIn = max(a.c.Now().Sub(a.started), a.c.Snap.ReadTook)
		cmd := tea.Batch(a.extendFilter(), a.resolve())
		a.refresh()
		return a, tea.Batch(cmd, a.sortIfNeeded())
	case orderMsg:
		return a, a.ordered(m)
	case caseMsg:
		return a, a.caseChanged(m)
	case resolvedMsg:
		return a, a.resolved(m)
	case windowMsg:
		if m.pop {
			return a, a.zoomOut()
		}
		return a, a.setWindow(m.w, true)
	case filterDoneMsg:
		return a, a.filterDone(m)
	case detailLoadedMsg:
		a.detail.Loaded(m)
		return a, nil
	case historyLoadedMsg:
		a.hist.Loaded(m)
		return a, nil
	case alertsMsg:
		a.alerts.Update(m)
		return a, a.alerts.Wait()
	case statusMsg:
		a.status = string(m)
		return a, nil
	case fitStatusMsg:
		a.status, a.fitStatus = m.String(), m
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
			if a.rejects {
				a.rejectsScroll(act)
				continue
			}
			if a.histOpen {
				cmd, _ := a.hist.Action(act)
				cmds = append(cmds, cmd)
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
	if a.opts.OnFirstScreen != nil && a.c.Snap.Len() > 0 {
		a.opts.OnFirstScreen()
		a.opts.OnFirstScreen = nil
	}
	if a.c.Snap.Len() > 0 {
		a.wb.drawn()
	}
	v.AltScreen = true
	if !a.mouseOff {
		v.MouseMode = tea.MouseModeCellMotion
	}
	v.WindowTitle = "audittui"
	return v
}

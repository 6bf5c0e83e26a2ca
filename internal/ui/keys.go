package ui

// Key handling: global bindings, then the focused pane's; the overlays
// (help, rejects, bookmarks list, history pane); the filter, command and
// search bars; enter's drill-ins and `:` commands (the window's in
// window.go, the case's in casefile.go).

import (
	"strconv"
	"strings"

	tea "charm.land/bubbletea/v2"
)

// key handles a key press; a silence it adds or removes (s, :silence,
// enter in :silences, ...) is recorded in the case (silences.go).
func (a *App) key(k tea.KeyPressMsg) tea.Cmd {
	before := a.alerts.silenceKeys()
	return a.recordSilenceChanges(before, a.handleKey(k))
}

func (a *App) handleKey(k tea.KeyPressMsg) tea.Cmd {
	a.status = ""
	a.quitAgain, a.quitArmed = a.quitArmed, false
	if a.bar.Active() {
		return a.barKey(k)
	}
	if a.wb.list.open {
		return a.marksKey(k) // bookmarks.go
	}
	ks := k.String()
	if a.help {
		return a.helpKey(ks)
	}
	if a.rejects {
		return a.rejectsKey(ks) // rejects.go
	}
	p := a.panes[a.focus]
	scope := p.Scope()
	if a.histOpen {
		// The history pane lies over the focused pane: its keys first
		// (history.go), then the global ones, not the pane's.
		if cmd, handled := a.historyKey(ks); handled {
			return cmd
		}
		scope = ScopeHistory
	}
	act, ok := a.c.Keys.Lookup(scope, ks)
	if !ok {
		return nil
	}
	switch act {
	case ActQuit:
		return a.quit()
	case ActHelp:
		a.openHelp()
		return nil
	case ActRejects:
		a.openRejects()
		return nil
	case ActFilter:
		a.bar.Open('/', a.filter.Text)
		a.layout()
		return nil
	case ActCommand:
		a.bar.Open(':', "")
		a.layout()
		return nil
	case ActSearch:
		// Detail's own search (its binding overrides the global /).
		a.bar.Open('s', a.detail.Query())
		a.layout()
		return nil
	case ActNextPane:
		a.setFocus((a.focus + 1) % numPanes)
		return nil
	case ActPrevPane:
		a.setFocus((a.focus + numPanes - 1) % numPanes)
		return nil
	case ActEventUser:
		// Tail or Detail: the event's user in the Timeline (review I 6).
		row, ok := a.tail.Selected()
		if a.focus == paneDetail && a.detail.Opened() {
			row, ok = a.detail.Row(), true
		}
		if !ok {
			return func() tea.Msg { return statusMsg("no event selected") }
		}
		return a.openEventUser(row)
	case ActPane1, ActPane2, ActPane3, ActPane4, ActPane5:
		if act == ActPane2 && a.focus == paneTail {
			// As U: the Timeline follows the Tail's selection (k9s and
			// lnav carry the selection into the next view), not the
			// user it showed last.
			if row, ok := a.tail.Selected(); ok {
				return a.openEventUser(row)
			}
		}
		if act == ActPane5 && !a.detail.Opened() {
			// Nothing opened yet: open the event under the Tail's cursor.
			if row, ok := a.tail.Selected(); ok {
				return a.openDetail(row)
			}
		}
		a.setFocus(int(act - ActPane1))
		return nil
	case ActUndo:
		return a.undoFilter()
	case ActMouse:
		a.setMouse(a.mouseOff)
		return nil
	case ActBack:
		if a.focus == paneDetail {
			a.setFocus(a.back)
			return nil
		}
		if cmd, handled := p.Action(act); handled {
			return cmd
		}
		if a.filter.query {
			// The query goes, the window stays (:window all opens it).
			// Undoable: the status says how.
			cmd := a.changeFilter(a.windowOnly())
			a.status = "filter cleared · " + a.undoHint() + " brings it back"
			return cmd
		}
		if a.focus == paneTimeline && a.tlFromTail {
			// Opened from the Tail (2, U): back to it, as k9s's esc
			// leaves a view once its filter is gone.
			a.setFocus(paneTail)
		}
		return nil
	case ActOpen:
		return a.open()
	case ActMark:
		return a.toggleMark()
	case ActMarks:
		a.wb.list.open = true
		return nil
	case ActPrevMark, ActNextMark:
		return a.jumpMark(map[Action]int{ActPrevMark: -1, ActNextMark: 1}[act])
	case ActHistory:
		return a.openHistory()
	case ActFilterTo:
		// The drill-ins write LogQL (shown in the filter line, editable
		// with /) that `audittui query` and Grafana answer the same.
		var f *Filter
		var ok bool
		switch a.focus {
		case paneAlerts:
			// The rule's query over the alert's own window (which
			// replaces the view's; undoable), as `audittui query
			// --from --to` answers it: the status shows that command.
			var cmdline string
			if f, cmdline, ok = a.alerts.AlertFilter(); ok {
				a.setFocus(paneTail)
				status := "= " + cmdline
				if from := a.opts.Window.From; from != 0 && f.Since < from {
					// The rules read their look-back before --from; the
					// index holds the window only.
					status += " · its events before " + a.formatTime(from) +
						" were read for the rules only: start with an earlier --from to list them"
				}
				return tea.Batch(a.changeFilter(f), func() tea.Msg { return statusMsg(status) })
			}
		case paneTimeline:
			f, ok = a.tl.SubjectFilter()
		}
		if !ok {
			return func() tea.Msg { return statusMsg("no events to filter to here") }
		}
		a.keepWindow(f)
		a.setFocus(paneTail)
		return a.changeFilter(f)
	}
	cmd, _ := p.Action(act)
	return cmd
}

// openEventUser shows the user of event row in the Timeline, the cursor
// on that event, and says whose timeline it is and how to go back.
func (a *App) openEventUser(row int) tea.Cmd {
	user := a.c.Snap.Str(ColUser, row)
	from := a.focus
	a.tl.PivotAt(ColUser, user, row)
	a.setFocus(paneTimeline)
	a.tlFromTail = from == paneTail
	back := strconv.Itoa(from + 1) // the pane's number key
	if a.tlFromTail && !a.filter.query {
		back = "esc"
	}
	// The name abbreviated as the Tail shows it (sa:NS:NAME); when the bar
	// is still short, the note goes, then the name is cut in the middle:
	// the way back stays (review M 14).
	name := noUserLabel
	if user != "" {
		name = ShortIdentity(user)
	}
	msg := fitStatusMsg{head: "user ", name: name, note: " (the selected event's)", hint: " · " + back + ": back to the " + a.panes[from].Title()}
	return func() tea.Msg { return msg }
}

// setMouse turns mouse capture on or off and says so.
func (a *App) setMouse(on bool) {
	a.mouseOff = !on
	a.status = "mouse on: the wheel scrolls · F2 (or :mouse off) to select text"
	if !on {
		a.status = "mouse off: drag selects text to copy · F2 (or :mouse on) turns it back on"
	}
}

func (a *App) openHelp() {
	a.help = true
	a.helpv.Open()
}

// helpKey handles a key while the help is open: scrolling, `/` search,
// esc (which first drops a search), q or ? to close.
func (a *App) helpKey(ks string) tea.Cmd {
	act, ok := a.c.Keys.Lookup(ScopeHelp, ks)
	if !ok {
		return nil
	}
	switch act {
	case ActSearch:
		a.bar.Open('s', a.helpv.Query())
		a.layout()
	case ActBack:
		if ks == "esc" && a.helpv.Query() != "" {
			a.helpv.SetQuery("")
			return nil
		}
		a.help = false
	case ActQuit:
		return a.quit()
	case ActRejects:
		a.help = false
		a.openRejects()
	default:
		a.helpv.Action(act)
	}
	return nil
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
	case paneStats:
		if pred, ok := a.stats.Selected(); ok {
			return a.drill(pred)
		}
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
	a.histOpen = false
	a.tlFromTail = false
	if p == paneDetail && a.focus != paneDetail {
		a.back = a.focus
	}
	a.focus = p
	a.panes[p].Refresh()
}

func (a *App) barKey(k tea.KeyPressMsg) tea.Cmd {
	res := a.bar.Key(k)
	if a.bar.Mode() == 's' {
		return a.searchKey(res)
	}
	switch res {
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
			a.action(newAction(RecordFilter, text, err))
			msg, col := describeErr(err, text)
			a.bar.SetError(msg, col)
			a.layout()
			return nil
		}
		a.bar.Close()
		a.layout()
		return a.changeFilter(f)
	}
	a.layout()
	return nil
}

// searchKey follows the search bar (help's or Detail's `/`): the search
// updates as it is typed, enter keeps it, esc drops it.
func (a *App) searchKey(res barResult) tea.Cmd {
	text := a.bar.Value()
	if res == barCancel {
		text = ""
	}
	if res != barEditing {
		if res == barSubmit {
			a.bar.Remember(text)
		}
		a.bar.Close()
		a.layout()
	}
	if a.help {
		a.helpv.SetQuery(text)
		return nil
	}
	if a.rejects {
		a.rej.query, a.rej.top = text, 0
		return nil
	}
	return a.detail.SetSearch(text)
}

func (a *App) runCommand(text string) tea.Cmd {
	cmd, err := parseCommand(text)
	a.action(newAction(RecordCommand, text, err))
	if err != nil {
		a.bar.SetError(err.Error(), 0)
		a.layout()
		return nil
	}
	a.bar.Close()
	a.layout()
	switch cmd.name {
	case "quit":
		if strings.HasSuffix(strings.TrimSpace(text), "!") {
			a.quitting = true // :q!: whatever is not saved
			return tea.Quit
		}
		return a.quit()
	case "user":
		name, note := resolveUser(a.c.Snap.Values(ColUser), cmd.arg)
		a.tl.Pivot(ColUser, name)
		a.setFocus(paneTimeline)
		if note != "" {
			return func() tea.Msg { return statusMsg(note) }
		}
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
		return a.changeFilter(f)
	case "clear":
		return a.changeFilter(a.windowOnly())
	case "undo":
		return a.undoFilter()
	case "help":
		a.openHelp()
		return nil
	case "mouse":
		a.setMouse(cmd.arg == "on" || cmd.arg == "" && a.mouseOff)
		return nil
	case "history":
		return a.historyCommand(cmd) // history.go
	case "silence", "unsilence", "silences":
		return a.silenceCommand(cmd) // silences.go
	}
	if c, ok := a.runWindowCommand(cmd); ok { // window.go
		return c
	}
	c, _ := a.runCaseCommand(cmd) // casefile.go
	return c
}

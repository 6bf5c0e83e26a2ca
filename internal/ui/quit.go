package ui

import (
	"strings"

	tea "charm.land/bubbletea/v2"
)

// quit ends the program (q, ctrl+c, :q). Bookmarks, notes, saved filters
// and silences made while no case is open live only in memory: the first
// quit then says what would be lost and how to keep it, and a second quit
// in a row quits (:q! quits at once).
func (a *App) quit() tea.Cmd {
	if !a.quitAgain {
		if what := a.unsaved(); what != "" {
			a.quitArmed = true
			a.status = "q again quits: " + what + " not saved (no case open: :case DIR writes them)"
			return nil
		}
	}
	a.quitting = true
	return tea.Quit
}

// unsaved names what the in-memory case holds that quitting would lose
// ("1 bookmark, 1 note"), or "" when a case directory holds it all (or
// none can be written here).
func (a *App) unsaved() string {
	cs := a.wb.cs
	if cs == nil || cs.Dir() != "" {
		return ""
	}
	if _, off := a.opts.Write.(WritesOff); off {
		return "" // no case can be written here: nothing to offer
	}
	st := cs.State()
	var parts []string
	for _, c := range []struct {
		n         int
		one, many string
	}{
		{len(st.Bookmarks), "bookmark", "bookmarks"},
		{countNotes(st), "note", "notes"},
		{len(st.Filters), "saved filter", "saved filters"},
		{len(st.Silences), "silence", "silences"},
	} {
		if c.n > 0 {
			parts = append(parts, plural(c.n, c.one, c.many))
		}
	}
	return strings.Join(parts, ", ")
}

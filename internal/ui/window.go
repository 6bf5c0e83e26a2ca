package ui

import (
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/termsafe"
)

// Absolute time. The sources are read with the window of --since, --from
// and --to (Options.Window, as `audittui query` takes them); within what
// was read, the view has a window of its own: `:from TIME`, `:to TIME`,
// `:since 1h`, and the Timeline histogram's brush (brush.go) set the
// filter's Since (inclusive) and Until (exclusive). The window stays when
// the query changes (esc and :clear drop the query, not the window;
// `:from -`, `:to -` and `:window all` open it again). `:goto TIME` moves
// the Tail to the first matching event at or after TIME. The header
// always shows the window in absolute time (windowLabel).

// TimeWindow is a time range in Unix ns: From inclusive, To exclusive, 0
// open (as data.ReadOptions).
type TimeWindow struct{ From, To int64 }

// Open reports whether neither end is set.
func (w TimeWindow) Open() bool { return w.From == 0 && w.To == 0 }

// viewWindow is the window the panes show: the read window narrowed by the
// filter's.
func (a *App) viewWindow() TimeWindow {
	w := a.opts.Window
	if f := a.filter.Since; f != 0 && (w.From == 0 || f > w.From) {
		w.From = f
	}
	if t := a.filter.Until; t != 0 && (w.To == 0 || t < w.To) {
		w.To = t
	}
	return w
}

// keepWindow gives f the current filter's window (a new query keeps it).
func (a *App) keepWindow(f *Filter) *Filter {
	f.Since, f.Until = a.filter.Since, a.filter.Until
	return f
}

// windowOnly is the filter with the window and no query.
func (a *App) windowOnly() *Filter { return a.keepWindow(&Filter{}) }

// windowMsg asks the app to set the view's window (the brush's zoom).
// pop returns to the window before the last zoom in instead.
type windowMsg struct {
	w   TimeWindow
	pop bool
}

// setWindow applies a window to the filter, remembering the previous one
// for zoom out when push is set.
func (a *App) setWindow(w TimeWindow, push bool) tea.Cmd {
	if push {
		a.wb.zooms = append(a.wb.zooms, TimeWindow{a.filter.Since, a.filter.Until})
	}
	f := a.filter.Clone()
	f.Since, f.Until = w.From, w.To
	note := ""
	if r := a.opts.Window; (r.From != 0 && (w.From == 0 || w.From < r.From)) || (r.To != 0 && (w.To == 0 || w.To > r.To)) {
		note = "; the sources were read for " + a.formatRange(r) + " only: start again with a wider --from/--to to see more"
	}
	cmd := a.changeFilter(f) // undoable (u)
	status := "window " + a.formatRange(a.viewWindow()) + note
	return tea.Batch(cmd, func() tea.Msg { return statusMsg(status) })
}

// zoomOut returns to the window before the last zoom in; with none, it
// doubles the window around its middle.
func (a *App) zoomOut() tea.Cmd {
	if n := len(a.wb.zooms); n > 0 {
		w := a.wb.zooms[n-1]
		a.wb.zooms = a.wb.zooms[:n-1]
		return a.setWindow(w, false)
	}
	w := a.viewWindow()
	lo, hi := w.From, w.To
	if lo == 0 {
		lo = a.c.Snap.MinTime
	}
	if hi == 0 {
		hi = a.c.Snap.MaxTime + 1
	}
	if lo == 0 || hi <= lo || (a.filter.Since == 0 && a.filter.Until == 0) {
		return func() tea.Msg { return statusMsg("the window is everything read already") }
	}
	span := hi - lo
	nw := TimeWindow{lo - span/2, hi + span/2}
	if nw.From <= a.c.Snap.MinTime {
		nw.From = 0
	}
	if nw.To > a.c.Snap.MaxTime {
		nw.To = 0
	}
	return a.setWindow(nw, false)
}

// runWindowCommand runs :from, :to, :window and :goto.
func (a *App) runWindowCommand(cmd command) (tea.Cmd, bool) {
	arg := strings.TrimSpace(cmd.arg)
	switch cmd.name {
	case "from", "to":
		w := TimeWindow{a.filter.Since, a.filter.Until}
		var t int64
		if arg != "" && arg != "-" {
			var err error
			if t, err = ParseWhen(arg, a.c.Loc, a.refTime()); err != nil {
				return a.statusErr(err), true
			}
		}
		if cmd.name == "from" {
			w.From = t
		} else {
			w.To = t
		}
		if w.From != 0 && w.To != 0 && w.From >= w.To {
			return a.statusErr(fmt.Errorf("empty window: %s is not before %s", a.formatTime(w.From), a.formatTime(w.To))), true
		}
		return a.setWindow(w, true), true
	case "window":
		if arg == "all" || arg == "-" {
			a.wb.zooms = nil
			return a.setWindow(TimeWindow{}, false), true
		}
		parts := strings.Fields(arg)
		if len(parts) != 2 {
			return a.statusErr(fmt.Errorf(":window FROM TO (or :window all)")), true
		}
		var w TimeWindow
		for k, p := range parts {
			if p == "-" {
				continue
			}
			t, err := ParseWhen(p, a.c.Loc, a.refTime())
			if err != nil {
				return a.statusErr(err), true
			}
			if k == 0 {
				w.From = t
			} else {
				w.To = t
			}
		}
		if w.From != 0 && w.To != 0 && w.From >= w.To {
			return a.statusErr(fmt.Errorf("empty window: %s is not before %s", parts[0], parts[1])), true
		}
		return a.setWindow(w, true), true
	case "goto":
		t, err := ParseWhen(arg, a.c.Loc, a.refTime())
		if err != nil {
			return a.statusErr(err), true
		}
		return a.gotoTime(t), true
	}
	return nil, false
}

// gotoTime selects, in the Tail, the first matching event at or after t.
func (a *App) gotoTime(t int64) tea.Cmd {
	rows, s := a.c.Rows, a.c.Snap
	n := rows.Len()
	best := -1
	// Rows are in display order: time order once an input read out of
	// order is sorted (appfilter.go), else read order (time order within
	// each source, merged across sources); scan rather than bisect so that
	// an event slightly out of order is not missed.
	for k := 0; k < n; k++ {
		if s.Time(rows.At(k)) >= t {
			best = k
			break
		}
	}
	if best < 0 {
		msg := "no matching event at or after " + a.formatTime(t)
		return func() tea.Msg { return statusMsg(msg) }
	}
	row := rows.At(best)
	a.setFocus(paneTail)
	a.tail.Select(row)
	msg := "at " + a.formatTime(s.Time(row))
	return func() tea.Msg { return statusMsg(msg) }
}

// refTime is the day a bare time of day (:goto 08:15) falls on: the
// newest event's, else now.
func (a *App) refTime() time.Time {
	if t := a.c.Snap.MaxTime; t != 0 {
		return time.Unix(0, t)
	}
	return a.c.Now()
}

func (a *App) statusErr(err error) tea.Cmd {
	msg := err.Error()
	return func() tea.Msg { return statusMsg(msg) }
}

// ParseWhen parses a time as the TUI's commands take it: RFC 3339 (with
// a zone, or without one in loc: 2026-11-20T08:00:00, "2026-11-20
// 08:00"), a date (midnight in loc), or a time of day (15:04[:05[.000]])
// on ref's date in loc.
func ParseWhen(s string, loc *time.Location, ref time.Time) (int64, error) {
	s = strings.TrimSpace(s)
	if t, err := data.ParseTimeIn(s, loc); err == nil {
		return t, nil
	}
	for _, layout := range []string{"15:04:05.999999999", "15:04"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			r := ref.In(loc)
			d := time.Date(r.Year(), r.Month(), r.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc)
			return d.UnixNano(), nil
		}
	}
	return 0, fmt.Errorf("cannot read time %q (want 2026-11-20T08:00:00Z, 2026-11-20 08:00, 2026-11-20 or 08:00)", s)
}

// formatTime is an absolute time in the display zone.
func (a *App) formatTime(ns int64) string {
	return time.Unix(0, ns).In(a.c.Loc).Format("2006-01-02 15:04:05.000 MST")
}

// formatRange renders a window, open ends as "…".
func (a *App) formatRange(w TimeWindow) string {
	end := func(ns int64) string {
		if ns == 0 {
			return "…"
		}
		return time.Unix(0, ns).In(a.c.Loc).Format("2006-01-02 15:04:05")
	}
	zone := time.Unix(0, max(w.From, w.To)).In(a.c.Loc).Format("MST")
	return end(w.From) + " → " + end(w.To) + " " + zone
}

// windowLabel renders the view's window in at most width cells: the
// explicit ends, or where it is open, the first and last event read ("now"
// while following, unless the newest event is older than staleAfter). The word in front says which ends are set: window
// (both), from, to, all (none). Narrow screens get shorter forms.
func (a *App) windowLabel(width int) string {
	l, _ := a.windowLabelDated(width)
	return l
}

// windowLabelDated is windowLabel, and whether the label has the date
// (with the year when the window spans years) and the zone: the forms
// with a time of day only come last, when nothing else fits.
func (a *App) windowLabelDated(width int) (string, bool) {
	w := a.viewWindow()
	s := a.c.Snap
	lo, hi := w.From, w.To
	word := map[[2]bool]string{{true, true}: "window", {true, false}: "from", {false, true}: "to", {false, false}: "all"}[[2]bool{lo != 0, hi != 0}]
	if lo == 0 {
		lo = s.MinTime
	}
	live := false
	if hi == 0 {
		hi = s.MaxTime
		// "now" while following, unless the newest event is old: then
		// its time (the status says how old it is).
		_, stale := a.c.staleFollow()
		live = a.opts.Follow && !stale
	}
	if lo == 0 && hi == 0 {
		return truncateANSI(word+" time", width), true
	}
	loc := a.c.Loc
	ft := func(ns int64, layout string) string {
		if ns == 0 {
			return "…"
		}
		return time.Unix(0, ns).In(loc).Format(layout)
	}
	zone := time.Unix(0, max(lo, hi)).In(loc).Format("MST")
	z := " " + zone
	if zone == "UTC" {
		z = "Z"
	}
	sameDay := ft(lo, "2006-01-02") == ft(hi, "2006-01-02")
	sameYear := ft(lo, "2006") == ft(hi, "2006")
	var cands []string
	to := func(layout string) string {
		if live {
			return "now"
		}
		return ft(hi, layout)
	}
	// span is lo→hi with the zone's letter after the last time shown
	// (after lo when the upper end is "now": not "nowZ").
	span := func(loLayout, sep, hiLayout string) string {
		if live {
			return ft(lo, loLayout) + z + sep + "now"
		}
		return ft(lo, loLayout) + sep + ft(hi, hiLayout) + z
	}
	cands = append(cands, word+" "+ft(lo, "2006-01-02 15:04:05")+" → "+to("2006-01-02 15:04:05")+" "+zone)
	switch {
	case sameDay:
		cands = append(cands,
			word+" "+ft(lo, "2006-01-02 15:04:05")+" → "+to("15:04:05")+" "+zone,
			span("2006-01-02 15:04:05", "→", "15:04:05"),
			span("01-02 15:04:05", "→", "15:04:05"),
			span("01-02 15:04", "→", "15:04"))
	case sameYear:
		cands = append(cands,
			word+" "+span("2006-01-02 15:04", " → ", "2006-01-02 15:04"),
			span("2006-01-02 15:04", "→", "01-02 15:04"),
			span("01-02 15:04", "→", "01-02 15:04"),
			span("01-02", "→", "01-02"))
	default:
		// Across years every date keeps its year: "04-21" after a 2018
		// date would read as the same year.
		cands = append(cands,
			word+" "+span("2006-01-02 15:04", " → ", "2006-01-02 15:04"),
			span("2006-01-02 15:04", "→", "2006-01-02 15:04"),
			span("2006-01-02", "→", "2006-01-02"))
	}
	dated := len(cands)
	cands = append(cands, ft(lo, "15:04:05")+"→"+to("15:04:05"), ft(lo, "15:04")+"→"+to("15:04"))
	for k, c := range cands {
		if ansi.StringWidth(c) <= width {
			return c, k < dated
		}
	}
	return "", false
}

// headerRight is the header's right side in at most avail cells: the
// sample banner (always, shortened if need be), the window (always, in the
// longest form that fits), then the source names if room is left. dated
// reports whether the window's form has its date and zone.
func (a *App) headerRight(avail int) (out string, dated bool) {
	st := a.c.Styles
	banner := ""
	if a.opts.Sample {
		banner = " SAMPLE DATA (bundled demo, not your cluster) "
		if ansi.StringWidth(banner)+24 > avail {
			banner = " SAMPLE DATA "
		}
	}
	room := avail - ansi.StringWidth(banner)
	win, dated := a.windowLabelDated(room - 1)
	if win != "" {
		out = " " + st.Bold.Render(win)
	}
	if !a.opts.Sample && a.opts.Title != "" {
		if left := room - ansi.StringWidth(out) - 2; left >= 8 {
			out += "  " + st.Muted.Render(truncateANSI(termsafe.String(a.opts.Title), left))
		}
	}
	if banner != "" {
		out += " " + st.Sample.Render(banner)
	}
	return truncateANSI(out, max(0, avail)), dated
}

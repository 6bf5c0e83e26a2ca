package ui

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/audittui/audittui/internal/termsafe"
)

// FilterError is a filter that does not compile, with the 1-based column
// of the problem in the text the user typed (0: unknown).
type FilterError struct {
	Msg string
	Col int
}

func (e *FilterError) Error() string { return e.Msg }

// describeErr returns the message and column to show under the bar.
func describeErr(err error, text string) (string, int) {
	shift := 0
	var se shiftErr
	if errors.As(err, &se) {
		shift = se.by
	}
	var fe *FilterError
	if errors.As(err, &fe) {
		col := fe.Col
		if col > 0 {
			col = min(col+shift, len([]rune(text))+1)
		}
		return fe.Msg, col
	}
	return err.Error(), 0
}

// layout gives every pane its body size.
func (a *App) layout() {
	a.bar.SetWidth(a.w)
	bh := a.bodyHeight()
	for _, p := range a.panes {
		p.SetSize(a.w, bh)
	}
	a.hist.SetSize(a.w, bh)
	a.helpv.SetSize(a.w, bh)
}

// barLines is how many lines the filter bar takes.
func (a *App) barLines() []string { return a.bar.Lines(a.filterText(), a.filter.Note, a.w) }

func (a *App) filterText() string {
	t := a.filter.Text
	if a.filter.Since != 0 || a.filter.Until != 0 {
		win := "window " + a.formatRange(TimeWindow{a.filter.Since, a.filter.Until}) // window.go
		if t == "" {
			t = win
		} else {
			t += "  (" + win + ")"
		}
	}
	return t
}

// bodyHeight is the pane height: the screen less header, bar and status.
func (a *App) bodyHeight() int {
	return max(1, a.h-2-len(a.barLines()))
}

func (a *App) render() string {
	if a.w <= 0 || a.h <= 0 {
		return ""
	}
	st := a.c.Styles
	var lines []string
	lines = append(lines, a.header())
	bh := a.bodyHeight()
	var body string
	switch {
	case a.help:
		body = a.helpv.View()
	case a.rejects:
		body = a.rejectsView(a.w, bh)
	case a.histOpen:
		body = a.hist.View()
	case a.wb.list.open:
		body = a.marksView(a.w, bh) // bookmarks.go
	default:
		body = a.panes[a.focus].View()
	}
	bodyLines := strings.Split(body, "\n")
	for k := range bodyLines {
		bodyLines[k] = truncateANSI(bodyLines[k], a.w)
	}
	lines = append(lines, strings.Split(fill(bodyLines, bh), "\n")...)
	lines = append(lines, a.barLines()...)
	lines = append(lines, a.statusBar())
	_ = st
	return strings.Join(lines, "\n")
}

// header is the tab strip, the window, the source and (for the sample)
// the banner. On a narrow screen the window keeps its date and zone: the
// tabs shorten first (tabLabels).
func (a *App) header() string {
	var left, right string
	for level := 0; level <= maxTabLevel; level++ {
		left = a.tabStrip(level)
		var dated bool
		right, dated = a.headerRight(a.w - ansi.StringWidth(left) - 1)
		if dated {
			break
		}
	}
	gap := max(1, a.w-ansi.StringWidth(left)-ansi.StringWidth(right))
	return truncateANSI(left+strings.Repeat(" ", gap)+right, a.w)
}

// maxTabLevel is the shortest form of the tabs (tabStrip).
const maxTabLevel = 2

// shortTitled is a pane whose tab has shorter forms: ShortTitle for
// level 1, Badge (what an inactive tab keeps beside its number) for 2.
type shortTitled interface {
	ShortTitle() string
	Badge() string
}

// tabStrip renders the tabs: level 0 with their titles, 1 with short
// titles, 2 with only the focused pane's name (the others keep their
// number and badge: the keys to reach them, and the firing count).
func (a *App) tabStrip(level int) string {
	st := a.c.Styles
	var tabs []string
	for k, p := range a.panes {
		title := p.Title()
		s, short := p.(shortTitled)
		if short && level >= 1 {
			title = s.ShortTitle()
		}
		label := fmt.Sprintf("%d %s", k+1, title)
		if level >= 2 && k != a.focus {
			label = strconv.Itoa(k + 1)
			if short && s.Badge() != "" {
				label += " " + s.Badge()
			}
		}
		if k == a.focus {
			tabs = append(tabs, st.TabActive.Render(label))
		} else {
			tabs = append(tabs, st.TabInactive.Render(label))
		}
	}
	return strings.Join(tabs, "")
}

// progress is the reading state for the status bar: indexing (with how
// far), done (and how long it took), or live (following) with the Tail's
// state and a last line still waiting for its newline; a followed input
// whose newest event is old says how old instead of live.
func (a *App) progress() []string {
	s := a.c.Snap
	done := s.Done || a.done
	var out []string
	switch {
	case done && s.Err != nil:
		return []string{"read error: " + termsafe.String(s.Err.Error())}
	case a.opts.Follow && (s.CaughtUp || done):
		if age, stale := a.c.staleFollow(); stale {
			// Followed, but nothing new for a while (an archive read
			// with the default --follow): not "live". The age is a part
			// of its own, dropped before the Tail's state when the
			// width is short.
			out = append(out, a.tail.State(), "newest event "+ageText(age)+" ago")
		} else {
			out = append(out, "live · "+a.tail.State())
		}
		if s.Partial > 0 {
			out = append(out, fmt.Sprintf("1 partial line pending (%s)", humanBytes(int64(s.Partial))))
		}
		return out
	case !done && s.Total > 0:
		out = append(out, fmt.Sprintf("indexing… %d%% of %s", min(100, s.Consumed*100/s.Total), humanBytes(s.Total)))
	case !done:
		out = append(out, fmt.Sprintf("indexing… %s", humanBytes(max(s.Bytes, s.Consumed))))
	case a.indexedIn > 0:
		out = append(out, fmt.Sprintf("indexed in %s", a.indexedIn.Round(10*time.Millisecond)))
	default:
		out = append(out, "indexing done")
	}
	if done && !a.opts.Follow && a.opts.NotFollowing != "" {
		// First: what is dropped first when the width is short is the
		// last part (how long indexing took), not that it is not live.
		out = append([]string{a.opts.NotFollowing}, out...)
	}
	if st := a.tail.State(); st != "following" {
		out = append(out, st)
	}
	return out
}

// statusBar: loaded / matching / rejected, load progress, follow state,
// and on the right a message (or the help hint). When it does not all fit,
// what matters least goes first, so the counts always stay: the help
// hint, "rejected 0", the progress, the other counts (filtering, undated,
// duplicates, rejected N: back with the next key, as the message goes),
// the message's explanation (after its last " · " or " ("), then the
// message is cut; loaded and matching stay.
func (a *App) statusBar() string {
	st := a.c.Styles
	s := a.c.Snap
	type part struct {
		text  string
		level int // 0 always kept, 1 counts, 2 dropped first
	}
	parts := []part{
		{fmt.Sprintf("loaded %s", thousands(int64(s.Len()))), 0},
		{fmt.Sprintf("matching %s", thousands(int64(a.c.Rows.Len()))), 0},
	}
	if a.filterGone > 0 && a.filter.Active() {
		// Never a silent non-match: the filter could not read these.
		parts = append(parts, part{fmt.Sprintf("%s events' bytes are gone after the truncation: not searched", thousands(int64(a.filterGone))), 0})
	}
	if s.Rejected > 0 {
		parts = append(parts, part{fmt.Sprintf("rejected %s (R)", thousands(s.Rejected)), 1})
	} else {
		parts = append(parts, part{"rejected 0", 2})
	}
	if s.Duplicates > 0 {
		parts = append(parts, part{fmt.Sprintf("duplicates %s (R)", thousands(s.Duplicates)), 1})
	}
	if s.Undated > 0 {
		parts = append(parts, part{fmt.Sprintf("undated %s (R)", thousands(s.Undated)), 1})
	}
	for _, p := range a.progress() {
		parts = append(parts, part{p, 2})
	}
	if a.running {
		parts = append(parts, part{"filtering…", 1})
	}
	msg := termsafe.String(a.status)
	if msg == "" && a.mouseOff {
		msg = "mouse off (F2)" // kept in view while it is off
	}
	right := msg
	if msg == "" {
		right = "? help"
	}
	left := func() string {
		var ts []string
		for _, p := range parts {
			ts = append(ts, p.text)
		}
		return " " + strings.Join(ts, " · ")
	}
	fits := func() bool {
		r := 0
		if right != "" {
			r = ansi.StringWidth(right) + 2 // a space before, one after
		}
		return ansi.StringWidth(left())+r <= a.w
	}
	drop := func(level int) bool {
		for k := len(parts) - 1; k >= 0; k-- {
			if parts[k].level == level {
				parts = append(parts[:k], parts[k+1:]...)
				return true
			}
		}
		return false
	}
	if !fits() && msg == "" {
		right = ""
	}
	for !fits() && drop(2) {
	}
	for !fits() && drop(1) {
	}
	if fs := a.fitStatus; !fits() && msg != "" && a.status == fs.String() {
		// The note goes, then the name is cut in the middle (at least
		// minFitName cells), before the hint would.
		head, name, hint := termsafe.String(fs.head), termsafe.String(fs.name), termsafe.String(fs.hint)
		right = head + name + hint
		if !fits() {
			room := a.w - ansi.StringWidth(left()) - 2 - ansi.StringWidth(head+hint)
			segs := cutMiddle(termsafe.Segments(fs.name), max(minFitName, room))
			var b strings.Builder
			for _, sg := range segs {
				b.WriteString(sg.Text)
			}
			right = head + b.String() + hint
		}
	}
	for !fits() && msg != "" {
		short, ok := shortenMessage(right)
		if !ok {
			break
		}
		right = short
	}
	if !fits() && right != "" {
		right = truncateANSI(right, max(0, a.w-ansi.StringWidth(left())-2))
		if ansi.StringWidth(right) < 2 {
			right = ""
		}
	}
	l := left()
	line := l
	if right != "" {
		gap := max(1, a.w-ansi.StringWidth(l)-ansi.StringWidth(right)-1)
		line = l + strings.Repeat(" ", gap) + right + " "
	}
	return st.StatusBar.Render(truncateANSI(line, a.w))
}

// minFitName is the fewest cells a fitStatusMsg's name is cut to.
const minFitName = 12

// shortenMessage drops a status message's last explanation: what follows
// its last " · ", else its last " (" ("filter cleared · u (or :undo)
// brings it back" -> "filter cleared"; "rows sorted by time (the input
// ...)" -> "rows sorted by time"). ok is false when there is none.
func shortenMessage(msg string) (string, bool) {
	for _, sep := range []string{" · ", " ("} {
		if k := strings.LastIndex(msg, sep); k > 0 {
			return msg[:k], true
		}
	}
	return msg, false
}

// wrapped is text wrapped at width w, each line in style st.
func wrapped(st lipgloss.Style, text string, w int) []string {
	var out []string
	for _, l := range wrapAtSpaces(text, max(10, w)) {
		out = append(out, st.Render(l))
	}
	return out
}

// wrapAtSpaces wraps plain text at spaces only, into lines of at most w
// cells (w > 0): a flag (--from/--to), a path or a file name with
// hyphens is never cut at a hyphen, as ansi.Wrap does (--from/- then -to
// on the next line); a word wider than w is cut where the line ends.
// Newlines in text end lines.
func wrapAtSpaces(text string, w int) []string {
	var out []string
	for _, para := range strings.Split(text, "\n") {
		line, lw := "", 0
		for _, word := range strings.Split(para, " ") {
			ww := ansi.StringWidth(word)
			switch {
			case lw == 0 && line == "":
			case lw+1+ww <= w:
				line, lw = line+" ", lw+1
			default:
				out = append(out, line)
				line, lw = "", 0
			}
			for ww > w-lw {
				// Too wide for a line of its own: cut.
				cut := ansi.Truncate(word, w-lw, "")
				if cut == "" {
					_, n := utf8.DecodeRuneInString(word) // wider than w: alone
					cut = word[:n]
				}
				out = append(out, line+cut)
				word = strings.TrimPrefix(word, cut)
				ww = ansi.StringWidth(word)
				line, lw = "", 0
			}
			line, lw = line+word, lw+ww
		}
		out = append(out, line)
	}
	return out
}

func thousands(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return s
	}
	var b strings.Builder
	for k, c := range s {
		if k > 0 && (len(s)-k)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// undatedNote says how many events carry no timestamp and what that means.
func undatedNote(n int64) string {
	if n == 1 {
		return "undated: 1 event carries no timestamp; it is listed first, with dashes for the time, and no time window, histogram or alert rule can place it"
	}
	return fmt.Sprintf("undated: %s events carry no timestamp; they are listed first, with dashes for the time, and no time window, histogram or alert rule can place them", thousands(n))
}

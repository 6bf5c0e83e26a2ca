package ui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// Row rendering: pure functions of (snapshot, row, widths, styles), so they
// are easy to golden-test and shared by the tail, timeline and alert lists.

// rowLayout is the column widths of an event row for a given total width
// (a width of 0 drops the column).
type rowLayout struct {
	time, user, verb, object, code, lat int
	longTime                            bool
	tf                                  timeFormat
	// self: the rows are user self's events (a Timeline's): USER shows
	// only what is not self (identityPartsOf), and is dropped when that
	// is nothing on every row.
	self string
}

// maxUserNeed caps how wide the USER column grows for one long name (a
// longer one is cut in the middle).
const maxUserNeed = 48

// newRowLayout lays out an event row in width cells. userNeed is the
// display width of the widest identity to show: USER gets up to that
// before RESOURCE NS/NAME gets the rest, which keeps half of what is left
// on narrow screens and two fifths on wide ones. On narrow screens LAT, then CODE, are dropped before a
// column would shrink below a readable width.
func newRowLayout(width, userNeed int, tf timeFormat) rowLayout {
	return newRowLayoutFit(width, userNeed, 0, tf)
}

// newRowLayoutFit is newRowLayout when the widest object to show is known
// too (objNeed > 0): an object column that needs less than its share
// leaves the rest to USER.
func newRowLayoutFit(width, userNeed, objNeed int, tf timeFormat) rowLayout {
	return newRowLayoutSelf(width, userNeed, objNeed, tf, "")
}

// newRowLayoutSelf is newRowLayoutFit for user self's events (userNeed
// measured by userTextOf: 0 drops USER, its room going to the object).
func newRowLayoutSelf(width, userNeed, objNeed int, tf timeFormat, self string) rowLayout {
	l := rowLayout{verb: 7, code: 4, lat: 6, tf: tf}
	if width >= 110 {
		l.longTime = true
		l.verb = 9
		l.lat = 7
	}
	l.time = tf.width(l.longTime)
	noUser := self != "" && userNeed == 0
	avail := func() int {
		n := width - l.time - l.verb - 2 // separators after TIME and VERB
		for _, c := range []int{l.code, l.lat} {
			if c > 0 {
				n -= c + 1
			}
		}
		if noUser {
			return n
		}
		return n - 1 // between USER and the object
	}
	// A narrow screen keeps who, what and on what: latency and code go
	// first.
	if avail() < 24 {
		l.lat = 0
	}
	if avail() < 20 {
		l.code = 0
	}
	a := avail()
	if noUser {
		// Every row is self acting as self: no USER column.
		l.self, l.user, l.object = self, 0, max(1, a)
		return l
	}
	l.self = self
	need := max(len("USER"), min(userNeed, maxUserNeed))
	// The object keeps half the room on narrow screens, two fifths (at
	// least 32 cells) on wide ones.
	objMin := max(10, min(a/2, max(a*2/5, 32)))
	if self != "" {
		// USER holds only what differs from self, blank on most rows:
		// the object keeps two thirds, or all it needs when USER keeps
		// 6 cells.
		objMin = max(objMin, a*2/3)
		if objNeed > 0 {
			objMin = max(objMin, min(objNeed, a-6))
		}
	}
	if objNeed > 0 {
		objMin = min(objMin, max(objNeed, len("OBJECT")))
	}
	l.user = max(min(need, 6), min(need, a-objMin))
	l.object = max(1, a-l.user)
	return l
}

func pad(s string, w int) string {
	if d := w - ansi.StringWidth(s); d > 0 {
		return s + strings.Repeat(" ", d)
	}
	return s
}

func padLeft(s string, w int) string {
	if d := w - ansi.StringWidth(s); d > 0 {
		return strings.Repeat(" ", d) + s
	}
	return s
}

// fit pads or cuts s to exactly w cells.
func fit(s string, w int) string { return pad(truncateANSI(s, w), w) }

// fitLeft right-aligns s in exactly w cells (cut when longer).
func fitLeft(s string, w int) string { return padLeft(truncateANSI(s, w), w) }

// header renders the column titles, each cut to its column.
func (l rowLayout) header(st *Styles) string {
	obj := "RESOURCE NS/NAME"
	if l.object < len(obj) {
		obj = "OBJECT"
	}
	cells := []string{fit("TIME", l.time), fit("USER", l.user), fit("VERB", l.verb), fit(obj, l.object)}
	if l.user == 0 {
		cells = append(cells[:1], cells[2:]...)
	}
	if l.code > 0 {
		cells = append(cells, fitLeft("CODE", l.code))
	}
	if l.lat > 0 {
		cells = append(cells, fitLeft("LAT", l.lat))
	}
	return st.Header.Render(strings.Join(cells, " "))
}

// timeFormat says how times are shown: with the date when the data spans
// more than one day, with the year when it spans years (in the display
// time zone).
type timeFormat struct {
	days, years bool
	loc         *time.Location
}

// newTimeFormat derives the format from the time range of the data.
func newTimeFormat(lo, hi int64, loc *time.Location) timeFormat {
	if loc == nil {
		loc = time.UTC
	}
	tf := timeFormat{loc: loc}
	if lo != 0 && hi != 0 {
		a, b := time.Unix(0, lo).In(loc), time.Unix(0, hi).In(loc)
		tf.years = a.Year() != b.Year()
		tf.days = tf.years || a.YearDay() != b.YearDay()
	}
	return tf
}

// layout returns the Go time layout: long for titles and wide rows, short
// for narrow rows.
func (tf timeFormat) layout(long bool) string {
	switch {
	case long && tf.years:
		return "2006-01-02 15:04:05"
	case long:
		return "01-02 15:04:05"
	case tf.years:
		// Never 06-01-02: it reads as DD-MM-YY too.
		return "2006-01-02 15:04"
	case tf.days:
		return "01-02 15:04"
	}
	return "15:04:05"
}

func (tf timeFormat) width(long bool) int { return len(tf.layout(long)) }

// format renders a Unix-ns time (dashes when unknown).
func (tf timeFormat) format(ns int64, long bool) string {
	if ns == 0 {
		return strings.Repeat("-", tf.width(long))
	}
	return time.Unix(0, ns).In(tf.loc).Format(tf.layout(long))
}

// formatLatency renders microseconds compactly: 850µs, 12ms, 1.2s, 3m.
func formatLatency(us int32) string {
	switch {
	case us < 0:
		return "-"
	case us < 1000:
		return strconv.Itoa(int(us)) + "µs"
	case us < 10_000:
		return fmt.Sprintf("%.1fms", float64(us)/1000)
	case us < 1_000_000:
		return strconv.Itoa(int(us/1000)) + "ms"
	case us < 60_000_000:
		return fmt.Sprintf("%.1fs", float64(us)/1e6)
	}
	return strconv.Itoa(int(us/60_000_000)) + "m"
}

// objectText is "resource[/sub] ns/name", or the path of a non-resource
// request (untrusted).
func objectText(s *Snapshot, i int) string {
	var b strings.Builder
	b.WriteString(s.Str(ColResource, i))
	if sub := s.Str(ColSubresource, i); sub != "" {
		b.WriteString("/")
		b.WriteString(sub)
	}
	ns, name := s.Str(ColNamespace, i), s.Str(ColName, i)
	if ns != "" || name != "" {
		b.WriteString(" ")
		switch {
		case ns != "" && name != "":
			b.WriteString(ns + "/" + name)
		case ns != "":
			b.WriteString(ns + "/")
		default:
			b.WriteString(name)
		}
	}
	if b.Len() == 0 {
		// A non-resource request (/healthz, /metrics, /apis): its path.
		if p := s.Path(i); p != "" {
			return p
		}
		return "-"
	}
	return b.String()
}

// isExecLike reports whether the subresource runs something in a pod.
func isExecLike(sub string) bool {
	return sub == "exec" || sub == "attach" || sub == "portforward" || sub == "proxy"
}

// dryRunMark starts the object cell of a server-side dry run's row
// (dryRunShortMark in a narrow one).
const (
	dryRunMark      = "dry run "
	dryRunShortMark = "dry "
)

// renderRow renders one event row, exactly l's total width.
func renderRow(st *Styles, s *Snapshot, i int, l rowLayout, selected bool) string {
	verb := s.Str(ColVerb, i)
	vstyle := st.VerbStyle(verb)
	if isExecLike(s.Str(ColSubresource, i)) {
		vstyle = st.VerbExec
	}
	code := s.Code(i)
	codeText := "-"
	if code != 0 {
		codeText = strconv.Itoa(code)
	}
	when := l.tf.format(s.Time(i), l.longTime)
	// One reverse-video style for the selected row keeps it readable in
	// NO_COLOR and on any theme; escape tokens stay marked.
	muted, plain, esc, sep := st.Muted, st.Plain, st.Escape, " "
	codeStyle := st.CodeStyle(code)
	dry := s.DryRun(i)
	dryStyle := st.DryRun
	if dry {
		// Nothing was stored: the verb is not shown as a change.
		vstyle = st.Muted
	}
	if selected {
		muted, plain, vstyle, codeStyle, dryStyle = st.Selected, st.Selected, st.Selected, st.Selected, st.Selected.Italic(true)
		esc = st.Escape.Reverse(true)
		sep = st.Selected.Render(" ")
	}
	cells := []string{muted.Render(fit(when, l.time))}
	if l.user > 0 {
		cells = append(cells, userCellOf(identityOf(s, i), l.self, l.user, plain, esc))
	}
	object := cellEsc(objectText(s, i), l.object, plain, esc)
	if dry {
		// A server-side dry run: marked before the object, where it is
		// never cut.
		mark := dryRunMark
		if l.object < 2*len(dryRunMark) {
			mark = dryRunShortMark
		}
		mark = truncateANSI(mark, l.object)
		object = dryStyle.Render(mark) + cellEsc(objectText(s, i), l.object-len(mark), plain, esc)
	}
	cells = append(cells, cellEsc(verb, l.verb, vstyle, esc), object)
	if l.code > 0 {
		cells = append(cells, codeStyle.Render(fitLeft(codeText, l.code)))
	}
	if l.lat > 0 {
		cells = append(cells, muted.Render(fitLeft(formatLatency(s.Latency(i)), l.lat)))
	}
	return strings.Join(cells, sep)
}

// cell renders untrusted text in exactly w cells.
func cell(st *Styles, text string, w int, base lipgloss.Style) string {
	return cellEsc(text, w, base, st.Escape)
}

func cellEsc(text string, w int, base, esc lipgloss.Style) string {
	out := SafeText(text, w, base, esc)
	used := min(w, SafeWidth(text))
	if w-used > 0 {
		out += base.Render(strings.Repeat(" ", w-used))
	}
	return out
}

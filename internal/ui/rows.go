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

// rowLayout is the column widths of an event row for a given total width.
type rowLayout struct {
	time, user, verb, object, code, lat int
	longTime                            bool
}

func newRowLayout(width int) rowLayout {
	l := rowLayout{time: 8, user: 16, verb: 7, code: 4, lat: 6}
	if width >= 110 {
		l.time, l.longTime = 14, true // "01-02 15:04:05"
		l.user = 24
		l.verb = 9
		l.lat = 7
	}
	// 5 separating spaces.
	l.object = width - l.time - l.user - l.verb - l.code - l.lat - 5
	if l.object < 10 {
		shrink := 10 - l.object
		l.user = max(6, l.user-shrink)
		l.object = width - l.time - l.user - l.verb - l.code - l.lat - 5
	}
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

// header renders the column titles.
func (l rowLayout) header(st *Styles) string {
	cells := []string{
		pad("TIME", l.time), pad("USER", l.user), pad("VERB", l.verb),
		pad("RESOURCE NS/NAME", l.object), padLeft("CODE", l.code), padLeft("LAT", l.lat),
	}
	return st.Header.Render(strings.Join(cells, " "))
}

func formatTime(ns int64, long bool, loc *time.Location) string {
	if ns == 0 {
		if long {
			return "--------------"
		}
		return "--:--:--"
	}
	t := time.Unix(0, ns).In(loc)
	if long {
		return t.Format("01-02 15:04:05")
	}
	return t.Format("15:04:05")
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

// objectText is "resource[/sub] ns/name" (untrusted).
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
		return "-"
	}
	return b.String()
}

// isExecLike reports whether the subresource runs something in a pod.
func isExecLike(sub string) bool {
	return sub == "exec" || sub == "attach" || sub == "portforward" || sub == "proxy"
}

// renderRow renders one event row, exactly l's total width.
func renderRow(st *Styles, s *Snapshot, i int, l rowLayout, loc *time.Location, selected bool) string {
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
	if selected {
		// One reverse-video style for the whole row keeps it readable in
		// NO_COLOR and on any theme; escape tokens stay marked.
		plain := st.Selected
		esc := st.Escape.Reverse(true)
		cells := []string{
			plain.Render(pad(formatTime(s.Time(i), l.longTime, loc), l.time)),
			cellEsc(userCell(s, i), l.user, plain, esc),
			cellEsc(verb, l.verb, plain, esc),
			cellEsc(objectText(s, i), l.object, plain, esc),
			plain.Render(padLeft(codeText, l.code)),
			plain.Render(padLeft(formatLatency(s.Latency(i)), l.lat)),
		}
		return strings.Join(cells, plain.Render(" "))
	}
	cells := []string{
		st.Muted.Render(pad(formatTime(s.Time(i), l.longTime, loc), l.time)),
		cell(st, userCell(s, i), l.user, st.Plain),
		cell(st, verb, l.verb, vstyle),
		cell(st, objectText(s, i), l.object, st.Plain),
		st.CodeStyle(code).Render(padLeft(codeText, l.code)),
		st.Muted.Render(padLeft(formatLatency(s.Latency(i)), l.lat)),
	}
	return strings.Join(cells, " ")
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

package ui

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/audittui/audittui/internal/termsafe"
)

// rejectsState is the rejects overlay's (R) scroll position and search.
type rejectsState struct {
	top   int
	query string
}

func (a *App) openRejects() {
	a.rejects = true
	a.rej = rejectsState{}
}

// rejectsKey handles a key while the rejects overlay is open: it scrolls
// (j/k, pgup/pgdn, g/G, the wheel) and searches (/) as the help does, and
// closes on esc, q, ? or R.
func (a *App) rejectsKey(ks string) tea.Cmd {
	if ks == "R" {
		a.rejects = false
		return nil
	}
	act, ok := a.c.Keys.Lookup(ScopeHelp, ks)
	if !ok {
		return nil
	}
	switch act {
	case ActSearch:
		a.bar.Open('s', a.rej.query)
		a.layout()
	case ActBack:
		if ks == "esc" && a.rej.query != "" {
			a.rej.query, a.rej.top = "", 0
			return nil
		}
		a.rejects = false
	case ActQuit:
		return a.quit()
	default:
		a.rejectsScroll(act)
	}
	return nil
}

// rejectsScroll moves the overlay by a scroll action.
func (a *App) rejectsScroll(act Action) {
	bh := max(1, a.bodyHeight()-1)
	switch act {
	case ActUp:
		a.rej.top--
	case ActDown:
		a.rej.top++
	case ActPageUp:
		a.rej.top -= bh
	case ActPageDown:
		a.rej.top += bh
	case ActTop:
		a.rej.top = 0
	case ActBottom:
		a.rej.top = 1 << 30
	}
	a.rej.top = max(0, min(a.rej.top, len(a.rejectsLines(a.w))-bh))
}

// rejectPosition matches where in its line a reason says the fault is
// (" at byte 1234", " (line 7)", "a NUL byte at offset 88"): the
// grouping leaves it out, so one kind of fault is one group however many
// lines have it (review K 11).
var rejectPosition = regexp.MustCompile(` ?\(line \d+\)| (?:at|after|from) (?:byte|offset|line|column) \d+(?::\d+)?`)

// rejectGroup is a reason without its position in the line.
func rejectGroup(reason string) string { return rejectPosition.ReplaceAllString(reason, "") }

// rejectsLines is the overlay's text: the rejected lines first (FILE:LINE,
// reason, the start of the line), then the reasons grouped without their
// byte offsets, then the duplicates and undated notes. A search keeps the
// section titles and the lines that contain it.
func (a *App) rejectsLines(w int) []string {
	st := a.c.Styles
	kept, by := a.ix.Rejects()
	// match is what a search looks in: a wrapped reason's whole text,
	// so that its lines are kept or left out together.
	type line struct {
		text   string
		header bool
		match  string
	}
	var ls []line
	add := func(text string) { ls = append(ls, line{text: text}) }
	head := func(text string) { ls = append(ls, line{text: text, header: true}) }
	if len(kept) > 0 {
		title := "rejected lines"
		if total := a.c.Snap.Rejected; total > int64(len(kept)) {
			title += fmt.Sprintf(" (the first %s of %s)", thousands(int64(len(kept))), thousands(total))
		}
		head(st.Header.Render(title))
	}
	for _, r := range kept {
		// A long path is cut in its middle: FILE:LINE's end stays.
		where := renderSegments(cutSegments([]termsafe.Segment{{Text: r.Where}}, max(20, w/2), func(room, _ int, _ string) int { return room / 3 }), st.Muted, st.Muted)
		add(truncateANSI(where+" "+st.Error.Render(r.Reason)+" "+r.Sample, w))
	}
	groups := map[string]int64{}
	for r, n := range by {
		groups[rejectGroup(r)] += n
	}
	type rc struct {
		r string
		n int64
	}
	var rs []rc
	for r, n := range groups {
		rs = append(rs, rc{r, n})
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].n > rs[j].n || rs[i].n == rs[j].n && rs[i].r < rs[j].r })
	if len(rs) > 0 {
		if len(ls) > 0 {
			add("")
		}
		head(st.Header.Render("by reason"))
	}
	for _, r := range rs {
		// A reason is the explanation the reviewer came for: it wraps
		// under its count rather than being cut.
		for k, l := range wrapped(lipgloss.NewStyle(), r.r, w-10) {
			n := ""
			if k == 0 {
				n = thousands(r.n)
			}
			ls = append(ls, line{text: fmt.Sprintf("%8s  %s", n, truncateANSI(l, w-10)), match: r.r})
		}
	}
	if dups, n := a.ix.Duplicates(); n > 0 {
		add("")
		for _, l := range wrapped(st.Header, fmt.Sprintf("exact duplicates: %s lines repeat an earlier event (byte for byte, or once compacted and unescaped: a jq export); each is shown and counted once", thousands(n)), w) {
			head(l)
		}
		for k, d := range dups {
			if k == 10 {
				break
			}
			add(truncateANSI(st.Muted.Render(d), w))
		}
	}
	if n := a.c.Snap.Undated; n > 0 {
		add("")
		for _, l := range wrapped(st.Header, undatedNote(n), w) {
			head(l)
		}
	}
	q := strings.ToLower(a.rej.query)
	var out []string
	for _, l := range ls {
		text := l.text
		if l.match != "" {
			text = l.match
		}
		if q == "" || l.header || strings.Contains(strings.ToLower(ansi.Strip(text)), q) {
			if q != "" && l.text == "" {
				continue
			}
			out = append(out, l.text)
		}
	}
	return out
}

// rejectsView shows why lines were rejected: a title with the position
// and keys, then the lines from the scroll position.
func (a *App) rejectsView(w, h int) string {
	st := a.c.Styles
	lines := a.rejectsLines(w)
	bh := max(1, h-1)
	a.rej.top = max(0, min(a.rej.top, len(lines)-bh))
	end := min(len(lines), a.rej.top+bh)
	title := st.Title.Render(fmt.Sprintf("Rejected lines: %s", thousands(a.c.Snap.Rejected)))
	if a.rej.query != "" {
		title += st.Muted.Render(" matching ") + st.Safe(a.rej.query, 30, st.Bold)
	}
	pos := ""
	if a.rej.top > 0 || end < len(lines) {
		pos = fmt.Sprintf("  lines %d-%d of %d", a.rej.top+1, end, len(lines))
		if end == len(lines) {
			pos += " (end)"
		}
	}
	title += st.Muted.Render(pos + "  · j/k pgdn g/G scroll · / search · esc")
	return fill(append([]string{truncateANSI(title, w)}, lines[a.rej.top:end]...), h)
}

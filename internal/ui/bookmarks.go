package ui

import (
	"fmt"
	"sort"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/audittui/audittui/internal/casefile"
	pl "github.com/audittui/audittui/internal/plural"
	"github.com/audittui/audittui/internal/termsafe"
)

// Bookmarks. `m` bookmarks the selected (or open) event, or removes its
// bookmark, as in lnav; `[` and `]` go to the previous and next bookmarked
// event; `'` lists them (enter opens one). A note or a tag on an event
// makes it part of the list too. Bookmarks live in the case (casefile.go):
// events are named by the sha256 of their bytes, and found again in the
// index when a case is reopened (resolve).

// Marks is the case's bookmarks as the panes see them: the state of the
// case and the index rows its events were found at.
type Marks struct {
	st    *casefile.State
	bySHA map[string]int // row of each event found in the index
	byRow map[int]string
	rows  []int // found rows, sorted
}

func newMarks() *Marks {
	return &Marks{st: casefile.Apply(nil), bySHA: map[string]int{}, byRow: map[int]string{}}
}

// Marked reports whether index row i is a bookmarked (or annotated) event.
func (m *Marks) Marked(i int) bool {
	if m == nil {
		return false
	}
	_, ok := m.byRow[i]
	return ok
}

// Of returns the bookmark of the event with this sha256.
func (m *Marks) Of(sha string) (*casefile.Bookmark, bool) {
	if m == nil || m.st == nil {
		return nil, false
	}
	return m.st.Bookmark(sha)
}

// Len is the number of bookmarked events in the case (found or not).
func (m *Marks) Len() int { return len(m.st.Bookmarks) }

// setState takes a new state of the case: rows found stay found while
// their event is still bookmarked.
func (m *Marks) setState(st *casefile.State) {
	m.st = st
	for sha, row := range m.bySHA {
		if _, ok := st.Bookmark(sha); !ok {
			delete(m.bySHA, sha)
			delete(m.byRow, row)
		}
	}
	m.sortRows()
}

// found records that the event sha is index row i.
func (m *Marks) found(sha string, i int) {
	if old, ok := m.bySHA[sha]; ok {
		if old <= i {
			return // the first copy of a duplicated event
		}
		delete(m.byRow, old)
	}
	m.bySHA[sha] = i
	m.byRow[i] = sha
	m.sortRows()
}

func (m *Marks) sortRows() {
	m.rows = m.rows[:0]
	for r := range m.byRow {
		m.rows = append(m.rows, r)
	}
	sort.Ints(m.rows)
}

// missing returns the bookmarked events not found in the index yet.
func (m *Marks) missing() []casefile.EventRef {
	var out []casefile.EventRef
	for _, b := range m.st.Bookmarks {
		if _, ok := m.bySHA[b.Event.SHA256]; !ok {
			out = append(out, b.Event)
		}
	}
	return out
}

// next returns the bookmarked row after (dir 1) or before (dir -1) the
// row at display position cur among rows accepted by ok; pos gives a
// row's display position (time order, see Snapshot.Pos).
func (m *Marks) next(cur, dir int, pos func(int) int, ok func(int) bool) (int, bool) {
	best, bestPos, found := 0, 0, false
	for _, r := range m.rows {
		p := pos(r)
		if (dir > 0 && p <= cur) || (dir < 0 && p >= cur) || !ok(r) {
			continue
		}
		if !found || (dir > 0 && p < bestPos) || (dir < 0 && p > bestPos) {
			best, bestPos, found = r, p, true
		}
	}
	return best, found
}

// markRow marks a rendered event row of layout l: the cell between the
// time and the user becomes a star.
func markRow(st *Styles, line string, l rowLayout) string {
	if ansi.StringWidth(line) <= l.time {
		return line
	}
	return ansi.Cut(line, 0, l.time) + st.Mark.Render("★") + ansi.Cut(line, l.time+1, ansi.StringWidth(line))
}

// jumpMark moves to the previous or next bookmarked event: in the Tail
// among the matching events, in the Detail it opens it.
func (a *App) jumpMark(dir int) tea.Cmd {
	m := a.c.Marks
	if m.Len() == 0 {
		return func() tea.Msg { return statusMsg("no bookmarks: m bookmarks the selected event") }
	}
	cur := -1
	if dir < 0 {
		cur = 1 << 62
	}
	if row, ok := a.targetRow(); ok {
		cur = a.c.Snap.Pos(row)
	}
	rows := a.c.Rows
	matching := func(r int) bool {
		k := rows.Search(r)
		return k < rows.Len() && rows.At(k) == r
	}
	if a.focus == paneDetail {
		matching = func(int) bool { return true }
	}
	r, ok := m.next(cur, dir, a.c.Snap.Pos, matching)
	if !ok {
		what := "next"
		if dir < 0 {
			what = "previous"
		}
		msg := "no " + what + " bookmark"
		if len(m.rows) < m.Len() {
			out := m.Len() - len(m.rows)
			msg += fmt.Sprintf(" (%d of %s %s not in the events read)", out, plural(m.Len(), "bookmark", "bookmarks"), pl.Word(out, "is", "are"))
		}
		return func() tea.Msg { return statusMsg(msg) }
	}
	if a.focus == paneDetail {
		return a.detail.Open(r)
	}
	a.setFocus(paneTail)
	a.tail.Select(r)
	return nil
}

// marksList is the `'` overlay: the case's bookmarked events in time
// order with their citations, tags and notes.
type marksList struct {
	open   bool
	cursor int
	top    int
}

func (a *App) marksKey(k tea.KeyPressMsg) tea.Cmd {
	ml := &a.wb.list
	n := a.c.Marks.Len()
	switch k.String() {
	case "esc", "q", "'":
		ml.open = false
	case "ctrl+c":
		return a.quit()
	case "j", "down":
		ml.cursor = min(ml.cursor+1, max(0, n-1))
	case "k", "up":
		ml.cursor = max(0, ml.cursor-1)
	case "g", "home":
		ml.cursor = 0
	case "G", "end":
		ml.cursor = max(0, n-1)
	case "enter", ":":
		// Enter opens the bookmarked event; `:` too, with the command
		// line for it (:note, :tag apply to the event Detail shows).
		if ml.cursor >= n {
			return nil
		}
		b := a.c.Marks.st.Bookmarks[ml.cursor]
		row, ok := a.c.Marks.bySHA[b.Event.SHA256]
		if !ok {
			why := a.notRead(b.Event)
			return func() tea.Msg { return statusMsg(why) }
		}
		ml.open = false
		// Back from Detail (esc), the Tail is on it when the filter
		// shows it, as after ] (a :note there is on it too).
		a.tail.SelectExact(row)
		cmd := a.openDetail(row)
		if k.String() == ":" {
			a.bar.Open(':', "")
			a.layout()
		}
		return cmd
	}
	return nil
}

// marksView renders the list.
func (a *App) marksView(w, h int) string {
	st := a.c.Styles
	ml := &a.wb.list
	m := a.c.Marks
	where := "no case open: :case DIR keeps them"
	if d := a.wb.cs.Dir(); d != "" {
		where = "case " + d
	}
	lines := []string{st.Title.Render(fmt.Sprintf("Bookmarks: %d", m.Len())) + st.Muted.Render("  ("+termsafe.String(where)+"; enter opens, : opens with the command line, esc closes)")}
	if m.Len() == 0 {
		lines = append(lines, st.Muted.Render("none yet: m bookmarks the selected event, :note TEXT annotates it"))
		return fill(lines, h)
	}
	ml.cursor = max(0, min(ml.cursor, m.Len()-1))
	type item struct {
		text string
		mark int
	}
	var items []item
	for k, b := range m.st.Bookmarks {
		ev := b.Event
		row, found := m.bySHA[ev.SHA256]
		cite := ev.Cite
		if found && row < a.c.Snap.Len() {
			// Its file was rotated since it was bookmarked: where its
			// bytes are now.
			if now := a.c.Snap.Cite(row); now != cite {
				cite = now + " (bookmarked as " + ev.Cite + ")"
			}
		}
		star := "★ "
		if !found {
			star = "☆ "
		}
		t := "--"
		if !ev.Time.IsZero() {
			t = ev.Time.In(a.c.Loc).Format("2006-01-02 15:04:05")
		}
		text := star + t + "  " + termsafe.String(cite) + "  " + termsafe.String(ev.User) + " " + termsafe.String(ev.Verb) + " " + termsafe.String(ev.Object)
		for _, tg := range b.Tags {
			text += "  #" + termsafe.String(tg)
		}
		if k == ml.cursor {
			text = st.Selected.Render(pad(truncateANSI(text, w), w))
		}
		items = append(items, item{text, k})
		if !found {
			// Why, on lines of their own: the entry's end is cut on a
			// narrow screen.
			for _, l := range wrapped(st.Muted, a.notRead(ev), w-4) {
				items = append(items, item{"    " + l, k})
			}
		}
		for _, n := range b.Notes {
			who := termsafe.String(n.Author)
			if who != "" {
				who += " "
			}
			items = append(items, item{"    " + st.Muted.Render(who+n.Time.In(a.c.Loc).Format("01-02 15:04")+": ") + termsafe.String(n.Text), k})
		}
	}
	body := h - 1
	first := 0
	for k, it := range items {
		if it.mark == ml.cursor {
			first = k
			break
		}
	}
	if first < ml.top {
		ml.top = first
	}
	if first >= ml.top+body {
		ml.top = first - body + 1
	}
	ml.top = max(0, min(ml.top, len(items)-1))
	for _, it := range items[ml.top:] {
		if len(lines) >= h {
			break
		}
		lines = append(lines, truncateANSI(it.text, w))
	}
	return fill(lines, h)
}

// notRead says why a bookmarked event is not among the events read, and
// how to read it: the sources are still being read; its time is outside
// the window the sources were read with (the flag that reads it; the
// case reopened alone reads its last window widened to every bookmark,
// cli/tui); it is undated and a window leaves undated events out; or
// none of this session's sources holds its bytes.
func (a *App) notRead(ev casefile.EventRef) string {
	s := a.c.Snap
	reading := !(s.Done || a.done || (a.opts.Follow && s.CaughtUp))
	if reading || a.wb.resolving || a.wb.resolvedUpTo < s.Len() {
		return "not found yet: the sources are still being read"
	}
	w := a.opts.Window
	flag := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }
	const alone = " (reopening the case without --from/--to does)"
	switch t := ev.Time; {
	case w.Open():
	case t.IsZero():
		return "not read: undated, and the window read (" + a.formatRange(w) + ") leaves undated events out; reopening the case without --from/--to reads it"
	case w.From != 0 && t.UnixNano() < w.From:
		return "not read: before the window read (" + a.formatRange(w) + "); --from " + flag(t) + " reads it" + alone
	case w.To != 0 && t.UnixNano() >= w.To:
		return "not read: after the window read (" + a.formatRange(w) + "); --to " + flag(t.Truncate(time.Second).Add(time.Second)) + " reads it" + alone
	}
	where := "its source"
	if ev.Source != "" {
		where = termsafe.String(ev.Source)
	}
	return "not in the events read: " + where + " is not among this session's sources, or no longer holds these bytes (audittui report checks)"
}

// caseLines are the Detail's lines about the case: whether the event is
// bookmarked, its tags and its notes.
func (d *Detail) caseLines(sha string) []string {
	b, ok := d.c.Marks.Of(sha)
	if !ok {
		return nil
	}
	st := d.c.Styles
	what := "★ bookmarked"
	if len(b.IDs) == 0 {
		what = "annotated"
	}
	for _, tg := range b.Tags {
		what += "  #" + tg
	}
	out := []string{st.Bold.Render(pad("case", 9)) + " " + st.Safe(what, d.w-10, st.Mark)}
	for _, n := range b.Notes {
		who := termsafe.String(n.Author)
		if who != "" {
			who += " "
		}
		out = append(out, st.Bold.Render(pad("note", 9))+" "+st.Muted.Render(who+n.Time.In(d.c.Loc).Format("01-02 15:04")+" ")+st.Safe(n.Text, d.w-10-len(who)-12, st.Plain))
	}
	return out
}

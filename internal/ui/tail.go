package ui

import (
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// Tail is the live list of matching events, newest at the bottom. It
// follows new events while the cursor is on the last row; scrolling up or
// pressing space stops following, and a "N new" counter shows what arrived
// since.
type Tail struct {
	c      *Common
	w, h   int
	cursor int // position in Rows
	top    int // first visible position
	follow bool
	paused bool
	// mark is how many events the index held when the user paused or
	// left the bottom: the matching events read since are "N new" (not
	// the matches a filter still being evaluated finds among the older
	// ones), and paused, only the matches among the older ones are shown.
	mark int
	// want is the index row the cursor stays on while a filter evaluated
	// again (after the rows were sorted) has not reached it yet; -1 none.
	want int
}

// tailHold is where the user was in the Tail (hold), to come back to
// after the rows are laid out again (restore).
type tailHold struct {
	row            int
	ok             bool
	follow, paused bool
}

// hold says where the user is: the event selected, and whether the Tail
// follows or is paused. Following, there is nothing to come back to.
func (t *Tail) hold() tailHold {
	row, ok := t.Selected()
	return tailHold{row: row, ok: ok && (!t.follow || t.paused), follow: t.follow, paused: t.paused}
}

// restore comes back to a hold after the rows were sorted and the filter
// evaluated again (ResetForFilter): on the same event, scrolled or
// paused as it was. A filter still evaluating may not have reached the
// event yet: the cursor stays where it goes until then (Refresh). Paused,
// what is shown is what was read when the rows were sorted (the events
// read before the pause are spread among them): new counts from here.
func (t *Tail) restore(h tailHold) {
	if !h.ok {
		return
	}
	t.follow, t.paused = h.follow, h.paused
	t.mark = t.readSoFar()
	t.want = h.row
	t.seek()
}

// seek moves the cursor to the wanted row (want), and stops wanting it
// once it is among the rows.
func (t *Tail) seek() {
	if t.want < 0 {
		return
	}
	p := t.c.Rows.Search(t.want)
	t.cursor = p
	if p < t.c.Rows.Len() && t.c.Rows.At(p) == t.want {
		t.want = -1
	}
	t.clamp()
}

// NewTail returns the tail pane, following.
func NewTail(c *Common) *Tail { return &Tail{c: c, follow: true, want: -1} }

func (t *Tail) Title() string    { return "Tail" }
func (t *Tail) Scope() Scope     { return ScopeTail }
func (t *Tail) SetSize(w, h int) { t.w, t.h = w, h; t.clamp() }

// visible is the number of rows the list shows (while paused, the
// matches among the events read before the pause).
func (t *Tail) visible() int {
	if t.paused {
		return t.c.Rows.before(t.mark)
	}
	return t.c.Rows.Len()
}

// listHeight is the number of event rows that fit (header line excluded).
func (t *Tail) listHeight() int { return max(1, t.h-1) }

// Refresh follows new rows when following.
func (t *Tail) Refresh() {
	if t.want >= 0 {
		t.seek()
		return
	}
	if t.follow && !t.paused {
		t.cursor = max(0, t.visible()-1)
	}
	t.clamp()
}

// ResetForFilter moves to the newest match after a filter change.
func (t *Tail) ResetForFilter() {
	t.want = -1
	t.paused = false
	t.follow = true
	t.cursor = max(0, t.visible()-1)
	t.clamp()
}

func (t *Tail) clamp() {
	n := t.visible()
	t.cursor = max(0, min(t.cursor, n-1))
	lh := t.listHeight()
	if t.follow && !t.paused {
		t.top = max(0, n-lh)
	}
	if t.cursor < t.top {
		t.top = t.cursor
	}
	if t.cursor >= t.top+lh {
		t.top = t.cursor - lh + 1
	}
	t.top = max(0, min(t.top, max(0, n-lh)))
}

// Selected returns the index row under the cursor.
func (t *Tail) Selected() (int, bool) {
	if t.visible() == 0 {
		return 0, false
	}
	return t.c.Rows.At(t.cursor), true
}

// Select moves the cursor to index row i (if it matches).
func (t *Tail) Select(i int) {
	t.want = -1
	t.cursor = t.c.Rows.Search(i)
	if t.cursor < t.visible()-1 {
		// Off the bottom: "N new" counts from now, as when scrolled up.
		t.leaveBottom()
	} else {
		t.follow = true
	}
	t.clamp()
}

// SelectExact moves the cursor to index row i when the filter shows it,
// and reports whether it did (else the cursor stays).
func (t *Tail) SelectExact(i int) bool {
	if p := t.c.Rows.Search(i); p >= t.c.Rows.Len() || t.c.Rows.At(p) != i {
		return false
	}
	t.Select(i)
	return true
}

// NewCount is how many matching events arrived (were read) since the
// user paused or scrolled away from the bottom. The matches a filter's
// evaluation finds meanwhile among the events read before are not new:
// they are counted by "matching" as it goes ("filtering…" says it is not
// done).
func (t *Tail) NewCount() int {
	if t.paused || !t.follow {
		return t.c.Rows.Len() - t.c.Rows.before(t.mark)
	}
	return 0
}

// readSoFar is how many events the index holds as the Tail knows it.
func (t *Tail) readSoFar() int {
	if t.c.Snap == nil {
		return 0
	}
	return t.c.Snap.Len()
}

func (t *Tail) leaveBottom() {
	if t.follow {
		t.follow = false
		t.mark = t.readSoFar()
	}
}

func (t *Tail) Action(a Action) (tea.Cmd, bool) {
	t.want = -1 // the user moves on
	n := t.visible()
	lh := t.listHeight()
	switch a {
	case ActUp:
		t.leaveBottom()
		t.cursor--
	case ActDown:
		t.cursor++
		if t.cursor >= n-1 && !t.paused {
			t.follow = true
		}
	case ActPageUp:
		t.leaveBottom()
		t.cursor -= lh
	case ActPageDown:
		t.cursor += lh
		if t.cursor >= n-1 && !t.paused {
			t.follow = true
		}
	case ActTop:
		t.leaveBottom()
		t.cursor = 0
	case ActBottom:
		t.paused = false
		t.follow = true
		t.cursor = t.visible() - 1
	case ActPause:
		if t.paused {
			t.paused = false
			t.follow = true
			t.cursor = t.visible() - 1
		} else {
			t.mark = t.readSoFar() // what is shown stays; new from now
			t.paused = true
			t.follow = false
		}
	default:
		return nil, false
	}
	t.clamp()
	return nil, true
}

// State is the follow state for the status bar.
func (t *Tail) State() string {
	switch {
	case t.paused:
		return fmt.Sprintf("PAUSED · %d new", t.NewCount())
	case !t.follow:
		if n := t.NewCount(); n > 0 {
			return fmt.Sprintf("%d new ↓ (G)", n)
		}
		return "scrolled"
	}
	return "following"
}

func (t *Tail) View() string {
	st := t.c.Styles
	l := t.c.rowLayoutFor(t.w, t.c.Rows)
	lines := make([]string, 0, t.h)
	lines = append(lines, l.header(st))
	n := t.visible()
	if n == 0 {
		msg := "no events yet"
		switch s := t.c.Snap; {
		case s != nil && s.Len() > 0:
			msg = "no event matches the filter"
		case s != nil && s.Rejected > 0:
			msg = fmt.Sprintf("no events: %s rejected (R shows why)", plural(int(s.Rejected), "line", "lines"))
		case s != nil && s.Partial > 0:
			// A file written less than a minute ago is followed as a
			// live one; a finished file (a copy just made) is read whole
			// without following.
			msg = "no events yet: a line is waiting for its newline (--follow=false reads a finished file whole)"
		}
		lines = append(lines, wrapped(st.Muted, msg, t.w)...)
	}
	for p := t.top; p < n && len(lines) < t.h; p++ {
		row := renderRow(st, t.c.Snap, t.c.Rows.At(p), l, p == t.cursor)
		if t.c.Marks.Marked(t.c.Rows.At(p)) {
			row = markRow(st, row, l) // bookmarks.go
		}
		lines = append(lines, row)
	}
	return fill(lines, t.h)
}

// fill pads lines to exactly h lines.
func fill(lines []string, h int) string {
	if len(lines) > h {
		lines = lines[:h]
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}

// truncateANSI cuts a styled line to w cells.
func truncateANSI(s string, w int) string {
	if w <= 0 || ansi.StringWidth(s) <= w {
		return s
	}
	return ansi.Truncate(s, w, "…")
}

// ansiStrip removes styling (to restyle a line as selected).
func ansiStrip(s string) string { return ansi.Strip(s) }

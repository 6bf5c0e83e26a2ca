package ui

import (
	"fmt"
	"log/slog"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/audittui/audittui/internal/data"
)

// Common is the context every pane shares: styles, keys, size, the current
// index snapshot and filter result, the logger and the clock. Only the app
// shell changes it.
type Common struct {
	Styles *Styles
	Keys   *Keymap
	Log    *slog.Logger
	Now    func() time.Time
	// Snap is the index as of the last redraw notification.
	Snap *Snapshot
	// Rows are the events matching the current filter, in display order.
	Rows *RowSet
	// Filter is the filter Rows answer (read-only for the panes: Stats
	// shows the queries it evaluates over it).
	Filter *Filter
	// Level, when set (--policy), gives the audit policy level of an event.
	Level func(raw []byte) (string, error)
	// Loc is the time zone times are shown in.
	Loc *time.Location
	// Follow: the input is followed (--follow), so its open end is "now"
	// while new events come (staleFollow).
	Follow bool
	// Window is the view's time window (window.go), Marks the case's
	// bookmarks (bookmarks.go).
	Window TimeWindow
	Marks  *Marks
	// Job is the job label of the sources' audit events (Options.Job);
	// Shorthand the selector the queries the TUI writes start with
	// ({job="audit"} | json); Streams the stream labels the sources
	// reported (Options.Streams, may be nil).
	Job       string
	Shorthand string
	Streams   *data.StreamLabels

	// userSeen/userMax cache userNeed over the user dictionary; person
	// caches personNeed over the rows.
	userSeen, userMax int
	person            personCache
	// matched caches matchedNeed for one set of matching rows.
	matched matchedCache
}

// staleAfter is how old the newest event read may be for a followed input
// to be called live: past it, the status says how old it is (an archive
// read with the default --follow is followed, but nothing is arriving).
const staleAfter = time.Hour

// staleFollow returns, for a followed input, how long ago (on the clock)
// the newest event read happened, when that is more than staleAfter; false
// when the input is not followed, the newest event is recent, or no event
// has a time.
func (c *Common) staleFollow() (time.Duration, bool) {
	if !c.Follow || c.Snap == nil || c.Snap.MaxTime == 0 || c.Now == nil {
		return 0, false
	}
	age := c.Now().Sub(time.Unix(0, c.Snap.MaxTime))
	return age, age > staleAfter
}

// ageText writes an age as the status says it: 17d, 5h.
func ageText(d time.Duration) string {
	if d >= 48*time.Hour {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return fmt.Sprintf("%dh", d/time.Hour)
}

// Pane is one screen of the UI (one per file). The app shell routes keys
// (as Actions) and data messages to the focused pane.
type Pane interface {
	// Title is the tab label.
	Title() string
	// Scope selects the pane's key bindings.
	Scope() Scope
	// SetSize gives the pane its body size.
	SetSize(w, h int)
	// Action handles a key action; handled is false when the pane has no
	// use for it.
	Action(a Action) (cmd tea.Cmd, handled bool)
	// Refresh is called when the snapshot or the filter result changed.
	Refresh()
	// View renders the body, exactly h lines of at most w cells.
	View() string
}

// RowSet is the ordered set of index rows matching the filter, in display
// order: time order when the snapshot has one (Snapshot.Ordered), else
// index order. All means every row below N matches (no filter), so the
// common case costs nothing.
type RowSet struct {
	All  bool
	N    int      // rows of the snapshot the set covers
	Rows []uint32 // matching rows when !All, in display order
	// order and rank are the snapshot's time order of its first rows
	// (nil: index order; rows beyond them follow in index order).
	order, rank []uint32
}

// allRows is every row of s, in display order.
func allRows(s *Snapshot) *RowSet {
	return &RowSet{All: true, N: s.Len(), order: s.order, rank: s.rank}
}

// Len is the number of matching rows.
func (r *RowSet) Len() int {
	if r == nil {
		return 0
	}
	if r.All {
		return r.N
	}
	return len(r.Rows)
}

// At returns the index row of the k-th match.
func (r *RowSet) At(k int) int {
	if r.All {
		if k < len(r.order) {
			return int(r.order[k])
		}
		return k
	}
	return int(r.Rows[k])
}

// pos is the display position of index row i.
func (r *RowSet) pos(i int) int {
	if i < len(r.rank) {
		return int(r.rank[i])
	}
	return i
}

// Search returns the position of index row i in the set (or where it would
// be inserted).
func (r *RowSet) Search(i int) int {
	if r.All {
		return min(r.pos(i), r.N)
	}
	want := r.pos(i)
	lo, hi := 0, len(r.Rows)
	for lo < hi {
		m := (lo + hi) / 2
		if r.pos(int(r.Rows[m])) < want {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// before is how many rows of the set are index rows below n (events read
// before the index held n): in display order they come first, since a
// time order covers only the snapshot's first rows (n at or past it).
func (r *RowSet) before(n int) int {
	if r == nil {
		return 0
	}
	if r.All {
		return min(n, r.N)
	}
	if n >= len(r.rank) {
		return r.Search(n)
	}
	k := 0 // n inside a time order (not met: a new order resets the Tail)
	for _, i := range r.Rows {
		if int(i) < n {
			k++
		}
	}
	return k
}

// timeFmt is how times are shown for the data in the snapshot.
func (c *Common) timeFmt() timeFormat {
	if c.Snap == nil {
		return newTimeFormat(0, 0, c.Loc)
	}
	return newTimeFormat(c.Snap.MinTime, c.Snap.MaxTime, c.Loc)
}

// fmtTime renders a time in the long form (titles, axes, alerts).
func (c *Common) fmtTime(ns int64) string { return c.timeFmt().format(ns, true) }

// rowLayout lays out event rows of width cells for the identities in the
// snapshot (the account and what follows it, see UserCell).
func (c *Common) rowLayout(width int) rowLayout {
	return newRowLayout(width, max(c.userNeed(), c.personNeed()), c.timeFmt())
}

// rowLayoutFor is rowLayout fitted to the identities of rows when a
// filter narrowed them to at most matchedNeedMax: USER is only as wide as
// they need, and the object gets the rest ("who deleted a RoleBinding"
// shows the names whole). The columns stay put while scrolling: they
// change with the set, not with what is on screen.
func (c *Common) rowLayoutFor(width int, rows *RowSet) rowLayout {
	if rows != nil && !rows.All {
		if user, obj, ok := c.matchedNeed(rows, rows.Len(), rows.At, ""); ok {
			return newRowLayoutFit(width, user, obj, c.timeFmt())
		}
	}
	return c.rowLayout(width)
}

// rowLayoutOf is rowLayoutFor over a list of index rows (a Timeline
// subject's events); self names the user whose events they are ("" for
// another subject): USER then shows only what is not self, or nothing.
func (c *Common) rowLayoutOf(width int, rows []int, self string) rowLayout {
	if len(rows) > 0 {
		if user, obj, ok := c.matchedNeed(&rows[0], len(rows), func(k int) int { return rows[k] }, self); ok {
			return newRowLayoutSelf(width, user, obj, c.timeFmt(), self)
		}
	}
	return c.rowLayout(width)
}

// matchedNeedMax is the most matching rows whose identities are measured
// for the USER column; beyond it the column fits every identity read.
const matchedNeedMax = 20_000

// matchedCache is matchedNeed's state: the set it measured (by identity,
// size and ends: a Timeline reuses its list for another subject) and the
// widest identity and object.
type matchedCache struct {
	set         any
	n           int
	first, last int
	self        string
	user, obj   int
}

// matchedNeed is the display width of the widest identity (as UserCell
// shows it, capped at maxUserNeed) and of the widest object among the n
// rows at(0..n-1) of a set (identified by set), when there are at most
// matchedNeedMax.
func (c *Common) matchedNeed(set any, n int, at func(int) int, self string) (user, obj int, ok bool) {
	if n == 0 || n > matchedNeedMax || c.Snap == nil {
		return 0, 0, false
	}
	m := &c.matched
	key := matchedCache{set: set, n: n, first: at(0), last: at(n - 1), self: self}
	if m.set == key.set && m.n == key.n && m.first == key.first && m.last == key.last && m.self == key.self {
		return m.user, m.obj, true
	}
	*m = key
	for k := range n {
		if i := at(k); i < c.Snap.Len() {
			if m.user < maxUserNeed {
				m.user = max(m.user, SafeWidth(userTextOf(identityOf(c.Snap, i), self)))
			}
			m.obj = max(m.obj, SafeWidth(objectText(c.Snap, i)))
		}
	}
	m.user = min(m.user, maxUserNeed)
	return m.user, m.obj, true
}

// personNeed is the display width of the widest user cell of a row that
// shows more than its account (the person behind it, an impersonated
// user; see UserCell), capped at maxUserNeed; 0 when no row does. Only
// the rows added since the last call are looked at, and each combination
// of values is measured once.
func (c *Common) personNeed() int {
	s := c.Snap
	if s == nil {
		return 0
	}
	n := s.Len()
	if c.person.ix != s.ix || c.person.seen > n { // another index (tests)
		c.person = personCache{ix: s.ix, keys: map[[5]uint32]struct{}{}}
	}
	pc := &c.person
	var last [5]uint32
	for i := pc.seen; i < n && pc.max < maxUserNeed; i++ {
		key := [5]uint32{s.ID(ColUser, i), s.ID(ColImpUser, i), s.ID(ColSession, i), s.ID(ColARN, i), s.ID(ColPod, i)}
		if key[1]|key[2]|key[3]|key[4] == 0 || key == last {
			continue
		}
		last = key
		if _, ok := pc.keys[key]; ok {
			continue
		}
		pc.keys[key] = struct{}{}
		pc.max = max(pc.max, SafeWidth(userText(identityOf(s, i))))
	}
	pc.seen = n
	return min(pc.max, maxUserNeed)
}

// personCache is personNeed's state: the index it looked at, how many
// rows, the combinations measured and the widest.
type personCache struct {
	ix   *Index
	seen int
	keys map[[5]uint32]struct{}
	max  int
}

// userNeed is the display width of the widest user name in the snapshot
// (abbreviated, capped at maxUserNeed). Dictionaries only grow, so it is
// kept up to date by looking at the names added since the last call.
func (c *Common) userNeed() int {
	if c.Snap == nil {
		return 0
	}
	vals := c.Snap.Values(ColUser)
	if c.userSeen > len(vals) { // a different index (tests)
		c.userSeen, c.userMax = 0, 0
	}
	for _, v := range vals[c.userSeen:] {
		if c.userMax >= maxUserNeed {
			break
		}
		c.userMax = max(c.userMax, IdentityWidth(v))
	}
	c.userSeen = len(vals)
	return c.userMax
}

// shorthand is the selector the TUI's queries start with: Shorthand, or
// {job="audit"} | json when it is not set.
func (c *Common) shorthand() string {
	if c.Shorthand == "" {
		return shorthandSelector
	}
	return c.Shorthand
}

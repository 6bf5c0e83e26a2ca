package ui

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/audittui/audittui/internal/data"
)

// Timeline is the per-identity view: users ranked by activity on the
// left; for the selected subject (a user, or a source IP after a pivot) a
// histogram of its events over time, its verbs and resources, and its
// event list. Pivots jump to an impersonated user, a source IP, or back to
// the event's user.
type Timeline struct {
	c    *Common
	w, h int

	users   []ranked // users by event count among matching rows
	ucursor int
	utop    int
	// sel is the user chosen in the list (a person, not a row: a filter
	// change re-ranks the list and the cursor follows the user): the one
	// the cursor moved to, or the list's first user once it was drawn
	// (the user read under the title stays); "" before. missing: sel is
	// not in the list under the filter in use (nothing is highlighted,
	// the title says so).
	sel     string
	missing bool
	subject Col // ColUser or ColSourceIP
	value   string
	pinned  bool // subject chosen by a pivot, not by the users list
	events  []int
	// asImp is how many of a user's events others made as that user
	// (impersonation): the title counts them apart, as the users list
	// ranks by the user who acted.
	asImp int
	// fwd is how many of a source IP's events have it among their
	// forwarded addresses only (X-Forwarded-For, X-Real-Ip: set by the
	// client), not as the address the connection came from.
	fwd      int
	ecursor  int
	etop     int
	at       int  // PivotAt's event, for the next compute (-1: none)
	onEvents bool // keyboard on the event list
	dirty    bool
	brush    brush // the histogram's time selection (brush.go)
	// countW and idNeed size the users list (leftWidth): the digits of
	// the largest count, the widest listed identity abbreviated.
	countW, idNeed int
}

type ranked struct {
	id    uint32
	value string
	n     int
}

// NewTimeline returns the timeline pane.
func NewTimeline(c *Common) *Timeline {
	return &Timeline{c: c, subject: ColUser, dirty: true, brush: newBrush(), at: -1}
}

func (t *Timeline) Title() string    { return "Timeline" }
func (t *Timeline) Scope() Scope     { return ScopeTimeline }
func (t *Timeline) SetSize(w, h int) { t.w, t.h = w, h }
func (t *Timeline) Refresh()         { t.dirty = true }

// Pivot shows the timeline of value in column c (ColUser or ColSourceIP).
func (t *Timeline) Pivot(c Col, value string) {
	t.subject, t.value, t.pinned = c, value, true
	t.ecursor, t.etop = 1<<31-1, 0 // newest event
	t.onEvents = true
	t.dirty = true
	if c == ColUser {
		t.sel = value // the list's cursor goes to the user (when listed)
	}
}

// PivotAt is Pivot with the event list's cursor on index row i (when
// the subject's events list it; else on the newest).
func (t *Timeline) PivotAt(c Col, value string, i int) {
	t.Pivot(c, value)
	t.at = i
}

// SubjectFilter returns the filter of the subject's events as the event
// list shows them: for a user, what they did and what others did as them
// (impersonation); for a source IP, the events any of whose sourceIPs it
// is (SourceIPQuery). Its text is LogQL (see EqualsQuery).
func (t *Timeline) SubjectFilter() (*Filter, bool) {
	t.compute()
	if t.value != "" && t.subject == ColSourceIP {
		f, err := CompileLogQL(SourceIPQuery(t.value))
		return f, err == nil
	}
	cs := []Col{t.subject}
	switch {
	case t.value == "" && t.subject == ColUser && t.emptyUserListed():
		// The unauthenticated requests (review I 9): user_username=""
		// alone (an empty impersonated user is every other event).
	case t.value == "":
		return nil, false
	case t.subject == ColUser:
		cs = append(cs, ColImpUser)
	}
	f, err := t.c.equalsFilter(t.value, cs...)
	if err != nil {
		return nil, false
	}
	return f, true
}

// emptyUserListed reports whether the empty user (unauthenticated
// requests) is the one the users list shows as the subject.
func (t *Timeline) emptyUserListed() bool {
	return !t.pinned && t.sel == "" && t.ucursor < len(t.users) && t.users[t.ucursor].value == ""
}

// Subject returns what the timeline shows.
func (t *Timeline) Subject() (Col, string) { t.compute(); return t.subject, t.value }

// Selected returns the event under the cursor when the event list has the
// keyboard.
func (t *Timeline) Selected() (int, bool) {
	t.compute()
	if !t.onEvents || len(t.events) == 0 {
		return 0, false
	}
	return t.events[t.ecursor], true
}

func (t *Timeline) compute() {
	if !t.dirty {
		return
	}
	t.dirty = false
	s, rows := t.c.Snap, t.c.Rows
	counts := make([]int, len(s.Values(ColUser)))
	n := rows.Len()
	for k := 0; k < n; k++ {
		counts[s.ID(ColUser, rows.At(k))]++
	}
	t.users = t.users[:0]
	for id, c := range counts {
		if c > 0 {
			t.users = append(t.users, ranked{id: uint32(id), value: s.Value(ColUser, uint32(id)), n: c})
		}
	}
	sort.Slice(t.users, func(i, j int) bool {
		if t.users[i].n != t.users[j].n {
			return t.users[i].n > t.users[j].n
		}
		return t.users[i].value < t.users[j].value
	})
	t.countW, t.idNeed = 1, 0
	if len(t.users) > 0 {
		t.countW = len(strconv.Itoa(t.users[0].n))
	}
	for _, u := range t.users {
		if t.idNeed >= maxListID {
			break
		}
		t.idNeed = max(t.idNeed, IdentityWidth(userLabel(u.value)))
	}
	// The cursor is on the chosen user wherever the ranking puts them.
	t.missing = false
	if t.sel != "" {
		t.missing = true
		for k, u := range t.users {
			if u.value == t.sel {
				t.ucursor, t.missing = k, false
				break
			}
		}
	}
	t.ucursor = max(0, min(t.ucursor, len(t.users)-1))
	if !t.pinned {
		switch {
		case t.sel != "":
			t.subject, t.value = ColUser, t.sel
		case len(t.users) > 0:
			t.subject, t.value = ColUser, t.users[t.ucursor].value
		default:
			t.value = ""
		}
	}
	// The event under the cursor stays under it when it is still listed
	// (else the next one in display order); on the newest event, the
	// cursor stays on the newest.
	prev, atEnd := -1, t.ecursor >= len(t.events)-1
	if !atEnd && t.ecursor >= 0 {
		prev = t.events[t.ecursor]
	}
	if t.at >= 0 {
		prev, t.at = t.at, -1
	}
	// The subject's events: for a user, also what others did as that user
	// (impersonation); for a source IP, the events that have it among
	// their sourceIPs, wherever (the first is the sourceIP column).
	t.events, t.asImp, t.fwd = t.events[:0], 0, 0
	var ips *ipMatch
	if t.subject == ColSourceIP && t.value != "" {
		ips = newIPMatch(s, t.value)
	}
	for k := 0; k < n; k++ {
		i := rows.At(k)
		if ips != nil {
			switch ips.at(i) {
			case ipConnection:
				t.events = append(t.events, i)
			case ipForwarded:
				t.events = append(t.events, i)
				t.fwd++
			}
			continue
		}
		if s.Str(t.subject, i) == t.value {
			t.events = append(t.events, i)
		} else if t.subject == ColUser && t.value != "" && s.Str(ColImpUser, i) == t.value {
			t.events = append(t.events, i)
			t.asImp++
		}
	}
	if prev >= 0 {
		pp := s.Pos(prev)
		t.ecursor = sort.Search(len(t.events), func(k int) bool { return s.Pos(t.events[k]) >= pp })
	} else if atEnd {
		t.ecursor = len(t.events) - 1
	}
	t.ecursor = max(0, min(t.ecursor, len(t.events)-1))
}

func (t *Timeline) Action(a Action) (tea.Cmd, bool) {
	t.compute()
	lh := max(1, t.eventListHeight())
	move := func(cur *int, n, d int) {
		*cur = max(0, min(*cur+d, n-1))
	}
	switch a {
	case ActFocusNext:
		t.onEvents = !t.onEvents
	case ActOpen:
		if !t.onEvents && len(t.users) > 0 {
			t.onEvents = true
			t.ecursor = len(t.events) - 1
		}
	case ActUp, ActDown, ActPageUp, ActPageDown, ActTop, ActBottom:
		if t.missing && !t.pinned && len(t.events) == 0 {
			t.onEvents = false // nothing to move in but the list
		}
		d := map[Action]int{ActUp: -1, ActDown: 1, ActPageUp: -lh, ActPageDown: lh, ActTop: -1 << 30, ActBottom: 1 << 30}[a]
		if t.onEvents {
			move(&t.ecursor, len(t.events), d)
		} else if len(t.users) > 0 {
			if t.missing && d > 0 {
				t.ucursor = -1 // the chosen user is not listed: from the top
			}
			move(&t.ucursor, len(t.users), d)
			t.sel = t.users[t.ucursor].value
			t.pinned = false
			t.ecursor = 1<<31 - 1
			t.dirty = true
		}
	case ActPivotImp, ActPivotIP, ActPivotUser, ActPivotCred, ActPivotPerson:
		return t.pivot(a), true
	default:
		t.brush.setAxis(t.c.Snap, t.events, t.w-t.leftWidth()-1, t.c) // brush.go
		return t.brush.action(a)
	}
	return nil, true
}

// pivot follows the selected event (or, on the users list, the subject's
// most frequent value) to another identity.
func (t *Timeline) pivot(a Action) tea.Cmd {
	s := t.c.Snap
	col, to := ColImpUser, ColUser
	switch a {
	case ActPivotIP:
		col, to = ColSourceIP, ColSourceIP
	case ActPivotUser:
		col, to = ColUser, ColUser
	case ActPivotCred:
		col, to = ColCredential, ColCredential
	case ActPivotPerson:
		// The person behind a role: the EKS session name, else the ARN.
		col = ColSession
		if t.onEvents && len(t.events) > 0 {
			col, _ = personPivot(s, t.events[t.ecursor])
		} else if topValue(s, t.events, ColSession) == "" {
			col = ColARN
		}
		to = col
	}
	var v, note string
	switch {
	case a == ActPivotIP && t.onEvents && len(t.events) > 0:
		v, note = t.nextAddress(t.events[t.ecursor])
	case t.onEvents && len(t.events) > 0:
		v = s.Str(col, t.events[t.ecursor])
	default:
		v = topValue(s, t.events, col)
	}
	if v == "" {
		what := subjectKind[col]
		if col == ColImpUser {
			what = "impersonated user"
		}
		return func() tea.Msg { return statusMsg("no " + what + " to pivot to") }
	}
	t.Pivot(to, v)
	t.compute()
	if note != "" {
		return func() tea.Msg { return statusMsg(note) }
	}
	return nil
}

// nextAddress is where p goes from event row: its first source IP (the
// sourceIP field); when it has several and the timeline shows one of
// them, the next (the last, the address its connection came from, then
// back to the first). note says which of how many, and that all but the
// last are the client's to set.
func (t *Timeline) nextAddress(row int) (ip, note string) {
	ips := t.c.Snap.SourceIPs(row)
	switch len(ips) {
	case 0:
		return "", ""
	case 1:
		return ips[0], ""
	}
	k := 0
	if t.subject == ColSourceIP {
		if j := slices.Index(ips, t.value); j >= 0 {
			k = (j + 1) % len(ips)
		}
	}
	which := "forwarded (X-Forwarded-For, X-Real-Ip): set by the client"
	if k == len(ips)-1 {
		which = "the address the connection came from"
	}
	return ips[k], fmt.Sprintf("source IP %d of %d of the event (%s): %s · p: the next", k+1, len(ips), strings.Join(ips, ", "), which)
}

// How a source IP appears in an event (ipMatch.at).
const (
	ipNone       = iota
	ipConnection // the address the connection came from (the last)
	ipForwarded  // a forwarded address only (the client's to set)
)

// ipMatch finds the events one of whose sourceIPs is value, from the
// sourceIP column and the chains of the events that have several
// (Snapshot.SourceIPs), each chain read once.
type ipMatch struct {
	s       *Snapshot
	value   string
	byChain map[uint32]int8
}

func newIPMatch(s *Snapshot, value string) *ipMatch {
	return &ipMatch{s: s, value: value, byChain: map[uint32]int8{}}
}

func (m *ipMatch) at(i int) int8 {
	c := m.s.ipChains.at(i)
	if c == 0 {
		if m.s.Str(ColSourceIP, i) == m.value {
			return ipConnection
		}
		return ipNone
	}
	k, ok := m.byChain[c]
	if !ok {
		ips := parseSourceIPs(m.s.ipVals[c])
		switch j := slices.Index(ips, m.value); {
		case j < 0:
			k = ipNone
		case ips[len(ips)-1] == m.value:
			k = ipConnection
		default:
			k = ipForwarded
		}
		m.byChain[c] = k
	}
	return k
}

func topValue(s *Snapshot, rows []int, c Col) string {
	counts := map[uint32]int{}
	for _, i := range rows {
		if id := s.ID(c, i); id != 0 {
			counts[id]++
		}
	}
	best, bn := uint32(0), 0
	for id, n := range counts {
		if n > bn || n == bn && s.Value(c, id) < s.Value(c, best) {
			best, bn = id, n
		}
	}
	return s.Value(c, best)
}

// The identities of the users list get what the widest one needs
// (abbreviated as everywhere: sa:NS:NAME, node:HOST), up to a quarter of
// the screen and 4 cells (24 at 80 columns, 34 at 120), within
// [minListID, maxListID]; longer ones are cut in the middle (the title on
// the right names the subject in full).
const (
	minListID = 16
	maxListID = 40
)

// leftWidth is the width of the users list: the counts (as wide as the
// largest), a space and the identities, at least as wide as its header.
func (t *Timeline) leftWidth() int {
	id := min(t.idNeed, max(minListID, min(maxListID, t.w/4+4)))
	return max(len("USERS BY EVENTS"), t.countW+1+id)
}

const histRows = 5

func (t *Timeline) eventListHeight() int { return t.h - (1 + histRows + 1 + 3 + 1) }

func (t *Timeline) View() string {
	t.compute()
	if t.sel == "" && !t.pinned && t.subject == ColUser {
		t.sel = t.value // on screen: from now on, this person
	}
	st := t.c.Styles
	lw := t.leftWidth()
	rw := t.w - lw - 1
	// Left: ranked users.
	left := []string{st.Header.Render(pad("USERS BY EVENTS", lw))}
	lh := t.h - 1
	if t.ucursor < t.utop {
		t.utop = t.ucursor
	}
	if t.ucursor >= t.utop+lh {
		t.utop = t.ucursor - lh + 1
	}
	idW := lw - t.countW - 1
	for k := t.utop; k < len(t.users) && len(left) < t.h; k++ {
		u := t.users[k]
		num := fmt.Sprintf("%*d ", t.countW, u.n)
		if k == t.ucursor && !t.pinned && !t.missing {
			base := st.Muted
			if !t.onEvents {
				base = st.Selected
			}
			left = append(left, base.Render(num)+IdentityCell(userLabel(u.value), idW, base, st.Escape))
		} else {
			left = append(left, st.Muted.Render(num)+IdentityCell(userLabel(u.value), idW, st.Plain, st.Escape))
		}
	}
	// Right: the subject.
	right := t.subjectView(rw)
	ll := strings.Split(fill(left, t.h), "\n")
	rl := strings.Split(fill(right, t.h), "\n")
	out := make([]string, t.h)
	sep := st.Muted.Render("│")
	for k := range out {
		out[k] = pad(truncateANSI(ll[k], lw), lw) + sep + truncateANSI(rl[k], rw)
	}
	return strings.Join(out, "\n")
}

func (t *Timeline) subjectView(w int) []string {
	st := t.c.Styles
	s := t.c.Snap
	if t.value == "" && len(t.events) == 0 {
		return []string{st.Muted.Render("no events: nothing to show")}
	}
	kind := subjectKind[t.subject]
	count := "  " + plural(len(t.events), "event", "events")
	name := t.value
	if t.subject == ColUser {
		name = userLabel(name)
	}
	fits := func(count string) bool {
		return ansi.StringWidth(kind)+1+min(SafeWidth(name), SafeWidth(ShortIdentity(name)))+len(count) <= w
	}
	if t.asImp > 0 {
		// The users list counts what the user did; the title adds what
		// others did as them, and says so (shorter when the name needs
		// the room).
		long := count + fmt.Sprintf(" (%d as impersonated)", t.asImp)
		count += fmt.Sprintf(" (%d imp.)", t.asImp)
		if fits(long) {
			count = long
		}
	}
	if t.fwd > 0 {
		// Events where the address is only a forwarded one: what the
		// client claims (X-Forwarded-For), not where it connected from.
		long := count + fmt.Sprintf(" (%d only as forwarded, client-set)", t.fwd)
		count += fmt.Sprintf(" (%d forwarded)", t.fwd)
		if fits(long) {
			count = long
		}
	}
	// The full name when it fits beside the count, else its short form
	// (cut in the middle when still too long); the time range comes last, when it fits.
	room := max(8, w-ansi.StringWidth(kind)-1-len(count))
	if SafeWidth(name) > room {
		name = ShortIdentity(name)
	}
	title := st.Title.Render(kind+" ") + SafeMiddle(name, room, st.Bold, st.Escape) + st.Muted.Render(count)
	if len(t.events) > 0 {
		first, last := s.Time(t.events[0]), s.Time(t.events[len(t.events)-1])
		if span := fmt.Sprintf("  %s → %s", t.c.fmtTime(first), t.c.fmtTime(last)); ansi.StringWidth(title)+ansi.StringWidth(span) <= w {
			title += st.Muted.Render(span)
		}
	}
	lines := []string{truncateANSI(title, w)}
	if t.missing && !t.pinned {
		// The user chosen is not among the filter's users: say so, never
		// show someone else under the title.
		lines = append(lines, truncateANSI(st.Error.Render("not listed under this filter")+
			st.Muted.Render(" · g: top of the list · esc clears it"), w))
		if len(t.events) == 0 {
			return lines
		}
	}
	lines = append(lines, t.brush.histogram(st, s, t.events, w, histRows, t.c)...)
	lines = append(lines,
		breakdown(st, s, t.events, ColVerb, "verbs", w),
		breakdown(st, s, t.events, ColResource, "resources", w),
		pivots(st, s, t.events, w))
	// Event list.
	self := ""
	if t.subject == ColUser {
		self = t.value // named in the title: USER shows only what differs
	}
	l := t.c.rowLayoutOf(w, t.events, self)
	lines = append(lines, l.header(st))
	eh := max(1, t.h-len(lines))
	if t.ecursor < t.etop {
		t.etop = t.ecursor
	}
	if t.ecursor >= t.etop+eh {
		t.etop = t.ecursor - eh + 1
	}
	t.etop = max(0, min(t.etop, max(0, len(t.events)-eh)))
	for k := t.etop; k < len(t.events) && len(lines) < t.h; k++ {
		lines = append(lines, renderRow(st, s, t.events[k], l, t.onEvents && k == t.ecursor))
	}
	return lines
}

// subjectKind names what a Timeline subject is.
var subjectKind = map[Col]string{
	ColUser: "user", ColSourceIP: "source IP", ColCredential: "token", ColSession: "person", ColARN: "aws arn",
}

// breakdown is one line: the top values of column col among rows.
func breakdown(st *Styles, s *Snapshot, rows []int, col Col, label string, w int) string {
	counts := map[uint32]int{}
	for _, i := range rows {
		counts[s.ID(col, i)]++
	}
	type kv struct {
		v string
		n int
	}
	var kvs []kv
	for id, n := range counts {
		v := s.Value(col, id)
		if v == "" {
			v = "-"
		}
		kvs = append(kvs, kv{v, n})
	}
	sort.Slice(kvs, func(i, j int) bool { return kvs[i].n > kvs[j].n || kvs[i].n == kvs[j].n && kvs[i].v < kvs[j].v })
	out := st.Bold.Render(pad(label, 10))
	for k, e := range kvs {
		if k == 6 {
			break
		}
		style := st.Plain
		if col == ColVerb {
			style = st.VerbStyle(e.v)
		}
		out += " " + st.Safe(e.v, 24, style) + st.Muted.Render(fmt.Sprintf(" %d", e.n))
	}
	return truncateANSI(out, w)
}

// pivots lists where the subject's events lead: impersonated users and
// source IPs (keys i and p).
func pivots(st *Styles, s *Snapshot, rows []int, w int) string {
	imp := topValue(s, rows, ColImpUser)
	ip := topValue(s, rows, ColSourceIP)
	out := st.Bold.Render(pad("pivot", 10))
	if imp != "" {
		out += " " + st.HelpKey.Render("i") + " as " + SafeMiddle(ShortIdentity(imp), 30, st.Plain, st.Escape)
	}
	if ip != "" {
		out += " " + st.HelpKey.Render("p") + " ip " + st.Safe(ip, 40, st.Plain)
	}
	if cred := topValue(s, rows, ColCredential); cred != "" {
		out += " " + st.HelpKey.Render("c") + " token " + st.Safe(cred, 16, st.Plain)
	}
	if person := topValue(s, rows, ColSession); person != "" {
		out += " " + st.HelpKey.Render("b") + " person " + st.Safe(person, 30, st.Plain)
	} else if arn := topValue(s, rows, ColARN); arn != "" {
		out += " " + st.HelpKey.Render("b") + " person " + st.Safe(data.ARNPerson(arn), 30, st.Plain)
	}
	out += " " + st.HelpKey.Render("u") + " user  " + st.HelpKey.Render("space") + " users/events"
	return truncateANSI(out, w)
}

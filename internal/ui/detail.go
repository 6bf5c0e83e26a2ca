package ui

import (
	"bytes"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/termsafe"
)

// Detail shows one event: a summary (who, what, latency, policy level, the
// decoded exec/attach command), the stages of the same auditID, and the
// event's JSON pretty-printed with syntax colour, request/response objects
// folded until `z`.
type Detail struct {
	c      *Common
	w, h   int
	gen    uint64
	row    int
	loaded bool
	err    error
	stages []stageRaw
	cur    int // index into stages shown
	level  string
	// nodes are the audit events of the stages parsed (nil when not
	// JSON); carriers the records that carried them, parsed (nil for a
	// record that is the event itself: data.Event.Carrier says which).
	nodes    []*jnode
	perr     []error
	carriers []*jnode
	folded   map[string]bool
	top      int
	lines    []string
	// plain is lines without styling (searched); cont marks the lines
	// that continue a wrapped value.
	plain []string
	cont  []bool
	// opened is false until an event was asked for.
	opened bool
	// wrap: long values continue on the next lines (the default); else
	// each line is whole and left scrolls the view sideways.
	wrap bool
	// record: the JSON shown is the record that carried the event (`c`),
	// not the event. body is the line where the JSON (or the record's
	// title) starts, under the summary.
	record bool
	body   int
	left   int
	// query is the search ("" none), re its pattern; matches are the
	// lines holding it, cur2 the match shown.
	query   string
	re      *regexp.Regexp
	matches []int
	cur2    int
	// cited is the citation the summary shows, with what it says of a
	// file rotated since (cite.go): rebuilt when the file moves again.
	cited string
}

// NewDetail returns an empty detail pane.
func NewDetail(c *Common) *Detail {
	return &Detail{c: c, folded: map[string]bool{}, wrap: true}
}

func (d *Detail) Title() string    { return "Detail" }
func (d *Detail) Scope() Scope     { return ScopeDetail }
func (d *Detail) SetSize(w, h int) { d.w, d.h = w, h; d.build() }

// Refresh rebuilds the summary when the shown event's citation changed:
// its followed file was rotated (renamed, compressed) since it was read.
func (d *Detail) Refresh() {
	if row, ok := d.shownRow(); ok && d.loaded && d.err == nil && d.cited != "" && d.cited != citedText(d.c.Snap.Origin(row)) {
		d.build()
	}
}

// Open starts loading event row; the returned command reads it back.
func (d *Detail) Open(row int) tea.Cmd {
	d.gen++
	d.row, d.opened = row, true
	d.loaded, d.err, d.stages, d.nodes, d.carriers, d.top, d.left = false, nil, nil, nil, nil, 0, 0
	d.record = false
	d.folded = map[string]bool{}
	for _, p := range foldPaths {
		d.folded[p] = true
	}
	d.build()
	return loadDetail(d.gen, d.c.Snap, row, d.c.Level)
}

// foldPaths are the request and response objects `z` folds: the event's,
// and where a carrier record holds them (jsonview paths): under the key
// of each kind of record that carries the event as an object, and a
// LogEntry's protoPayload.request and .response.
var foldPaths = func() []string {
	ps := []string{".requestObject", ".responseObject", ".protoPayload.request", ".protoPayload.response"}
	seen := map[string]bool{}
	for _, k := range data.Carriers() {
		if key := k.Key(); k != data.CarrierLogEntry && !seen[key] {
			seen[key] = true
			ps = append(ps, "."+key+".requestObject", "."+key+".responseObject")
		}
	}
	return ps
}()

// hasCarrier reports whether the stage shown came in another record.
func (d *Detail) hasCarrier() bool {
	if !d.loaded || d.err != nil || len(d.stages) == 0 {
		return false
	}
	s := d.stages[d.cur]
	return s.everr == nil && s.ev.Carrier != data.CarrierNone
}

// otherStage reports whether another stage of the shown event's request
// (its auditID) was read back with it: what `s` moves to.
func (d *Detail) otherStage() bool {
	return d.loaded && d.err == nil && len(d.stages) > 1
}

// showingRecord reports whether the JSON shown is the carrier record.
func (d *Detail) showingRecord() bool { return d.record && d.hasCarrier() }

// Row returns the event shown.
func (d *Detail) Row() int { return d.row }

// Opened reports whether an event was asked for.
func (d *Detail) Opened() bool { return d.opened }

// loadDetail reads an event's record and those of the other stages of its
// auditID back from their sources and decodes the audit event of each
// (I/O: runs as a command).
func loadDetail(gen uint64, s *Snapshot, row int, level func([]byte) (string, error)) tea.Cmd {
	return func() tea.Msg {
		msg := detailLoadedMsg{gen: gen, row: row}
		raw, err := s.RawChecked(row) // rawcheck.go: its own bytes, or an error
		if err != nil {
			msg.err = err
			return msg
		}
		stage := func(r int, raw []byte) stageRaw {
			ev, err := decodeRecord(raw, s.AuditIDHash(r))
			st := stageRaw{row: r, raw: raw, sha256: RawSHA256(raw), ev: ev, everr: err}
			also, n := s.AlsoAt(r)
			for _, o := range also {
				st.also = append(st.also, o.Cite())
			}
			st.alsoN = n
			return st
		}
		shown := stage(row, raw)
		for _, r := range s.Stages(row) {
			if r == row {
				msg.stages = append(msg.stages, shown)
				continue
			}
			other, err := s.RawChecked(r)
			if err != nil {
				continue
			}
			st := stage(r, other)
			if st.everr != nil || shown.everr != nil || st.ev.AuditID != shown.ev.AuditID { // hash collision
				continue
			}
			msg.stages = append(msg.stages, st)
		}
		if level != nil {
			lv, err := level(raw)
			if err != nil {
				msg.level = "error: " + err.Error()
			} else {
				msg.level = lv
			}
		}
		return msg
	}
}

// auditIDOf is the auditID of the event a record holds ("" when none).
func auditIDOf(raw []byte) string {
	ev, err := decodeRecord(raw, 0)
	if err != nil {
		return ""
	}
	return ev.AuditID
}

// Loaded takes a detailLoadedMsg; stale ones are ignored.
func (d *Detail) Loaded(m detailLoadedMsg) {
	if m.gen != d.gen {
		return
	}
	d.loaded, d.err, d.stages, d.level = true, m.err, m.stages, m.level
	d.nodes = make([]*jnode, len(m.stages))
	d.perr = make([]error, len(m.stages))
	d.carriers = make([]*jnode, len(m.stages))
	d.cur = 0
	for k, s := range m.stages {
		if s.everr != nil {
			// Not an event any more (the source changed since it was
			// read?): show the record as it is.
			d.nodes[k], d.perr[k] = parseJSON(s.raw)
		} else {
			d.nodes[k], d.perr[k] = parseJSON(s.ev.EntryLine())
			if s.ev.Carrier != data.CarrierNone {
				// The decoder found the event in a record (its kind says
				// which): parsed for its own facts.
				d.carriers[k], _ = parseJSON(carrierJSON(s.ev.Carrier, s.raw))
			}
		}
		if s.row == m.row {
			d.cur = k
		}
	}
	d.build()
}

// EventLine returns the audit event of the stage shown, as LogQL reads it
// and as Detail shows it (data.Event.EntryLine).
func (d *Detail) EventLine() ([]byte, bool) {
	if !d.loaded || d.err != nil || len(d.stages) == 0 || d.stages[d.cur].everr != nil {
		return nil, false
	}
	return d.stages[d.cur].ev.EntryLine(), true
}

// RawLine returns the raw bytes of the stage shown: the record as read,
// which the citation and sha256 are of.
func (d *Detail) RawLine() ([]byte, bool) {
	if !d.loaded || d.err != nil || len(d.stages) == 0 {
		return nil, false
	}
	return d.stages[d.cur].raw, true
}

// clipboardNote is what the status says after a copy: the text was sent
// to the terminal (OSC 52); whether it reached a clipboard is the
// terminal's (and tmux's set-clipboard) say, which the program cannot see
// (review I 10).
const clipboardNote = "sent to the terminal clipboard (OSC 52)"

// Citation is the line an incident ticket quotes for the event shown:
// who, verb, what, code and time, then where it is (FILE:LINE), the
// sha256 of its bytes and its auditID. Untrusted text in it is
// sanitised (it goes to the clipboard as base64, but is pasted into
// tickets and terminals).
func (d *Detail) Citation() (string, bool) {
	if !d.loaded || d.err != nil || len(d.stages) == 0 {
		return "", false
	}
	cur := d.stages[d.cur]
	s, i := d.c.Snap, cur.row
	code := "-"
	if c := s.Code(i); c != 0 {
		code = strconv.Itoa(c)
	}
	when := time.Unix(0, s.Time(i)).UTC().Format(time.RFC3339Nano)
	line := fmt.Sprintf("%s %s %s %s %s · %s sha256:%s", userLabel(s.Str(ColUser, i)), s.Str(ColVerb, i), objectText(s, i), code, when, s.Cite(i), cur.sha256)
	if id := cur.ev.AuditID; id != "" {
		line += " (auditID " + id + ")"
	}
	return termsafe.String(line), true
}

func (d *Detail) Action(a Action) (tea.Cmd, bool) {
	body := d.bodyHeight()
	switch a {
	case ActUp:
		d.top--
	case ActDown:
		d.top++
	case ActPageUp:
		d.top -= body
	case ActPageDown:
		d.top += body
	case ActTop:
		d.top = 0
	case ActBottom:
		d.top = len(d.lines)
	case ActLeft, ActRight:
		if d.wrap {
			return func() tea.Msg { return statusMsg("long values wrap: w shows one line each, scrolled sideways") }, true
		}
		step := max(8, d.w/4)
		if a == ActLeft {
			step = -step
		}
		d.left = max(0, min(d.left+step, d.maxWidth()-d.w/2))
	case ActWrap:
		d.wrap, d.left = !d.wrap, 0
		d.build()
		if d.wrap {
			return func() tea.Msg { return statusMsg("wrapping long values (w: one line each, ←/→ scroll)") }, true
		}
		return func() tea.Msg { return statusMsg("one line per value: ←/→ scroll sideways (w wraps)") }, true
	case ActSearchNext, ActSearchPrev:
		if d.query == "" {
			return func() tea.Msg { return statusMsg("no search: / searches in this event") }, true
		}
		if len(d.matches) == 0 {
			return d.searchStatus(), true
		}
		if a == ActSearchNext {
			d.cur2 = (d.cur2 + 1) % len(d.matches)
		} else {
			d.cur2 = (d.cur2 + len(d.matches) - 1) % len(d.matches)
		}
		d.showMatch()
		return d.searchStatus(), true
	case ActFold:
		f := !d.folded[".requestObject"]
		for _, p := range foldPaths {
			d.folded[p] = f
		}
		d.build()
	case ActCarrier:
		if !d.loaded || d.err != nil || len(d.stages) == 0 {
			return nil, true
		}
		if !d.hasCarrier() {
			return func() tea.Msg {
				return statusMsg("no carrier: the event is its own record")
			}, true
		}
		d.record, d.top, d.left = !d.record, 0, 0
		d.build()
		if d.record {
			// The record fills the view; the summary is above (g).
			d.top = d.body
			d.clamp()
			return func() tea.Msg { return statusMsg("carrier record (c: the event, g: summary)") }, true
		}
		return func() tea.Msg { return statusMsg("the event (c: its carrier record)") }, true
	case ActNextStage:
		if !d.loaded || d.err != nil || len(d.stages) == 0 {
			return nil, true
		}
		if !d.otherStage() {
			return func() tea.Msg {
				return statusMsg("no other stage of this request (auditID) in the events read")
			}, true
		}
		d.cur = (d.cur + 1) % len(d.stages)
		d.top = 0
		d.build()
	case ActCopy:
		raw, ok := d.RawLine()
		if !ok {
			return nil, true
		}
		// OSC 52 carries base64, so the untrusted bytes never reach the
		// terminal as text.
		line := string(bytes.TrimRight(raw, "\r\n"))
		return tea.Batch(tea.SetClipboard(line), func() tea.Msg {
			return statusMsg(fmt.Sprintf("raw line (%d bytes) %s", len(line), clipboardNote))
		}), true
	case ActCopyCite:
		cite, ok := d.Citation()
		if !ok {
			return nil, true
		}
		return tea.Batch(tea.SetClipboard(cite), func() tea.Msg {
			return statusMsg("citation " + clipboardNote)
		}), true
	default:
		return nil, false
	}
	d.clamp()
	return nil, true
}

// SetSearch searches the event for q (case-insensitive unless q has an
// upper-case letter) and shows the first match from the top of the view.
func (d *Detail) SetSearch(q string) tea.Cmd {
	d.query, d.re = q, searchPattern(q)
	d.findMatches()
	d.cur2 = 0
	for k, l := range d.matches {
		if l >= d.top {
			d.cur2 = k
			break
		}
	}
	if len(d.matches) > 0 {
		d.showMatch()
	}
	if q == "" {
		return nil
	}
	return d.searchStatus()
}

// Query is the search text ("" none).
func (d *Detail) Query() string { return d.query }

func (d *Detail) searchStatus() tea.Cmd {
	msg := fmt.Sprintf("no match for %q", d.query)
	if len(d.matches) > 0 {
		msg = fmt.Sprintf("match %d of %d for %q (n/N)", d.cur2+1, len(d.matches), d.query)
	}
	return func() tea.Msg { return statusMsg(msg) }
}

// searchPattern matches q literally, ignoring case unless q has an
// upper-case letter (smart case, as in less -i and vim); nil for "".
func searchPattern(q string) *regexp.Regexp {
	if q == "" {
		return nil
	}
	p := regexp.QuoteMeta(q)
	if strings.ToLower(q) == q {
		p = "(?i)" + p
	}
	return regexp.MustCompile(p)
}

func (d *Detail) findMatches() {
	d.matches = d.matches[:0]
	if d.re == nil {
		return
	}
	for k, l := range d.plain {
		if d.re.MatchString(l) {
			d.matches = append(d.matches, k)
		}
	}
	d.cur2 = min(d.cur2, max(0, len(d.matches)-1))
}

// showMatch scrolls the current match into view (a third from the top)
// and, when not wrapping, sideways to it.
func (d *Detail) showMatch() {
	l := d.matches[d.cur2]
	if l < d.top || l >= d.top+d.bodyHeight() {
		d.top = l - d.bodyHeight()/3
	}
	if loc := d.re.FindStringIndex(d.plain[l]); !d.wrap && loc != nil {
		col := ansi.StringWidth(d.plain[l][:loc[0]])
		if col < d.left || col+ansi.StringWidth(d.plain[l][loc[0]:loc[1]]) > d.left+d.w {
			d.left = max(0, col-d.w/3)
		}
	}
	d.clamp()
}

// maxWidth is the width of the widest line.
func (d *Detail) maxWidth() int {
	m := 0
	for _, l := range d.plain {
		m = max(m, ansi.StringWidth(l))
	}
	return m
}

func (d *Detail) bodyHeight() int { return max(1, d.h) }

func (d *Detail) clamp() {
	d.top = max(0, min(d.top, len(d.lines)-d.bodyHeight()))
}

// build renders every line of the detail once; View only slices.
func (d *Detail) build() {
	st := d.c.Styles
	var lines []string
	var cont []bool
	switch {
	case !d.opened || d.c.Snap == nil || d.row >= d.c.Snap.Len():
		lines = append(lines, st.Muted.Render("no event selected: press enter on an event of Tail, Timeline or Alerts"))
	case !d.loaded:
		lines = append(lines, st.Muted.Render("loading event…"))
	case d.err != nil:
		// Wrapped: a long one says why the bytes are not shown (rawcheck.go).
		lines = append(lines, wrapped(st.Error, termsafe.String(d.err.Error()), max(10, d.w))...)
	default:
		lines = d.summary()
		lines = append(lines, "")
		d.body = len(lines)
		if d.showingRecord() {
			note := " as read, the bytes cited above · c: the event"
			if d.stages[d.cur].ev.Carrier == data.CarrierFluentdFile {
				note = " as read after its out_file time and tag (carrier above) · c: the event"
			}
			lines = append(lines, st.Title.Render("carrier record")+st.Muted.Render(note))
		}
		cont = make([]bool, len(lines))
		if d.showingRecord() {
			// The record as JSON through the same sanitising view as the
			// event (strings JSON-escaped, nothing a terminal interprets).
			if n := d.carriers[d.cur]; n != nil {
				jl, jc := renderJSON(st, n, d.folded, d.w, d.wrap)
				lines, cont = append(lines, jl...), append(cont, jc...)
			} else {
				lines = append(lines, st.Error.Render("the record does not parse as JSON here; its bytes, sanitised:"))
				lines = append(lines, st.Safe(string(d.stages[d.cur].raw), 0, st.Plain))
			}
		} else if n := d.nodes[d.cur]; n != nil {
			jl, jc := renderJSON(st, n, d.folded, d.w, d.wrap)
			lines, cont = append(lines, jl...), append(cont, jc...)
		} else {
			lines = append(lines, st.Error.Render("not JSON: "+termsafe.String(d.perr[d.cur].Error())))
			lines = append(lines, st.Safe(string(d.stages[d.cur].raw), 0, st.Plain))
		}
	}
	for len(cont) < len(lines) {
		cont = append(cont, false)
	}
	d.lines, d.cont = lines, cont
	d.plain = make([]string, len(lines))
	for k, l := range lines {
		d.plain[k] = ansi.Strip(l)
	}
	d.findMatches()
	d.clamp()
}

// summary is the header of the detail: the fields people look for first,
// from the decoded event (the one schema the filters and panes use), then
// what carried it and where to cite it.
func (d *Detail) summary() []string {
	st := d.c.Styles
	var out []string
	// kv adds "key      value", the value wrapped onto more lines (or
	// one whole line, when not wrapping), sanitised.
	kv := func(k, v string, style lipgloss.Style) {
		segs := termsafe.Segments(v)
		parts := [][]termsafe.Segment{segs}
		if d.wrap {
			parts = wrapSegments(segs, max(8, d.w-10), max(8, d.w-10))
		}
		for i, p := range parts {
			label := strings.Repeat(" ", 9)
			if i == 0 {
				label = st.Bold.Render(pad(k, 9))
			}
			out = append(out, label+" "+renderSegments(p, style, st.Escape))
		}
	}
	cur := d.stages[d.cur]
	ev := &cur.ev
	if cur.everr != nil {
		kv("error", "no audit event in this record: "+cur.everr.Error(), st.Error)
	} else {
		// Who: the user, the impersonated user, the person and credential
		// behind the account (identity.go).
		if who := data.IdentityOf(ev).Details(); len(who) > 0 {
			for _, id := range who {
				kv(id.Label, id.Value, st.Plain)
			}
		} else {
			kv("user", ev.User, st.Plain)
		}
		verb := ev.Verb
		if verb == "" {
			verb = "(none)" // not a blank before the URI
		}
		kv("verb", verb+"  "+ev.RequestURI, st.VerbStyle(ev.Verb))
		switch {
		case ev.DryRun:
			kv("dry run", "not persisted: a server-side dry run (kubectl --dry-run=server, kubectl diff, a GitOps diff), admitted and answered, nothing stored", st.DryRun)
		case data.DryRunUnproven(ev):
			kv("dry run?", "the URI asks for one, but a delete reads its options from its body when it has one, which the Metadata level does not record: it may have deleted the object", st.Code4xx)
		}
		if cmd, ok := execCommand(ev.RequestURI); ok {
			kv("command", cmd, st.VerbExec)
		}
		code := ""
		if ev.Code != 0 {
			code = strconv.Itoa(ev.Code)
		}
		kv("status", strings.TrimSpace(code+" "+ev.Reason+" "+ev.Message), st.CodeStyle(ev.Code))
		kv("time", eventTime(ev, d.nodes[d.cur], d.c.Loc), st.Plain)
		lat := "-"
		if l := ev.Latency(); l >= 0 {
			lat = l.String()
		}
		kv("latency", lat+"  (requestReceivedTimestamp → stageTimestamp)", st.Plain)
		kv("from", strings.Join(ev.SourceIPs, ", ")+"  "+ev.UserAgent, st.Plain)
		if len(ev.SourceIPs) > 1 {
			// The API server lists X-Forwarded-For's and X-Real-Ip's
			// addresses before the connection's: the first is not
			// necessarily where the request came from.
			kv("", "all but the last are client-set (X-Forwarded-For, X-Real-Ip)", st.Muted)
		}
	}
	if cur.everr == nil && ev.Carrier != data.CarrierNone {
		kv("carrier", carrierText(ev.Carrier, cur.raw, d.carriers[d.cur], d.c.Loc), st.Plain)
	}
	if d.level != "" {
		kv("policy", "level "+d.level+" (--policy)", st.Plain)
	}
	// Stages of the same auditID, the shown one marked.
	var sb []string
	for k, s := range d.stages {
		name, t := "?", ""
		if s.everr == nil {
			if s.ev.Stage != "" {
				name = s.ev.Stage
			}
			if s.ev.Time != 0 {
				t = " " + time.Unix(0, s.ev.Time).In(d.c.Loc).Format("15:04:05.000")
			}
		}
		label := termsafe.String(name) + t
		if k == d.cur {
			label = st.Selected.Render(label)
		}
		sb = append(sb, label)
	}
	stages := st.Bold.Render(pad("stages", 9)) + " " + strings.Join(sb, st.Muted.Render(" → "))
	if d.otherStage() {
		stages += st.Muted.Render("  (s: next)")
	}
	out = append(out, stages)
	// Where to cite it: FILE:LINE[:COL] (or stream and time), the sha256
	// of the record's bytes as read and how many they are, which with
	// the line and column cut them out of the file (cite.go), then what
	// the case says about it.
	o := d.c.Snap.Origin(cur.row)
	d.cited = citedText(o)
	kv("source", o.Cite(), st.Plain)
	if note := movedNote(o); note != "" {
		kv("", note, st.Muted)
	}
	if len(cur.also) > 0 {
		// Copies of the same event elsewhere (not counted twice): the
		// source above is the one the apiserver's naming fits. They may
		// differ in whitespace or JSON escapes (a jq export, an array
		// element), so their bytes are not claimed the same (R says how
		// each differs; report compares hashes).
		also := strings.Join(cur.also, ", ")
		if more := cur.alsoN - len(cur.also); more > 0 {
			also += fmt.Sprintf(" and %d more", more)
		}
		kv("also at", also+"  (the same event, counted once)", st.Plain)
	}
	kv("sha256", cur.sha256, st.Plain)
	length := st.Bold.Render(pad("length", 9)) + " " + st.Plain.Render(strconv.Itoa(len(cur.raw))+" bytes")
	switch {
	case d.showingRecord():
		length += st.Muted.Render("  (c: the event)")
	case d.hasCarrier():
		length += st.Muted.Render("  (c: the carrier record)")
	}
	out = append(out, length)
	out = append(out, d.caseLines(cur.sha256)...) // bookmarks.go
	return out
}

func (n *jnode) textOr(def string) string {
	if n == nil {
		return def
	}
	return n.text
}

// execCommand decodes the command of a pods/exec (or the container of an
// attach) from the requestURI's query parameters.
func execCommand(uri string) (string, bool) {
	u, err := url.Parse(uri)
	if err != nil {
		return "", false
	}
	q := u.Query()
	switch {
	case strings.HasSuffix(u.Path, "/exec"):
		args := q["command"]
		for k, a := range args {
			args[k] = shellQuote(a)
		}
		s := strings.Join(args, " ")
		if s == "" {
			s = "not recorded (no command= in the requestURI)"
		}
		if c := q.Get("container"); c != "" {
			s += "   (container " + c + ")"
		}
		if q.Get("tty") == "true" || q.Get("tty") == "1" {
			s += " tty"
		}
		return s, true
	case strings.HasSuffix(u.Path, "/attach"):
		s := "attach"
		if c := q.Get("container"); c != "" {
			s += " to container " + c
		}
		return s, true
	}
	return "", false
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,@%+", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func (d *Detail) View() string {
	st := d.c.Styles
	end := min(len(d.lines), d.top+d.bodyHeight())
	out := make([]string, 0, d.h)
	cur := -1
	if len(d.matches) > 0 {
		cur = d.matches[d.cur2]
	}
	for k := d.top; k < end; k++ {
		l := d.lines[k]
		if d.re != nil && d.re.MatchString(d.plain[k]) {
			l = highlight(d.plain[k], d.re, st.Match, st.MatchCurrent, k == cur)
		}
		if d.wrap {
			l = truncateANSI(l, d.w)
		} else {
			l = ansi.Cut(l, d.left, d.left+d.w)
		}
		out = append(out, l)
	}
	return fill(out, d.h)
}

// highlight renders a plain (already sanitised) line with the matches of
// re styled: reverse on the current match's line, underlined elsewhere.
func highlight(plain string, re *regexp.Regexp, match, current lipgloss.Style, isCur bool) string {
	style := match
	if isCur {
		style = current
	}
	var b strings.Builder
	at := 0
	for _, loc := range re.FindAllStringIndex(plain, -1) {
		b.WriteString(plain[at:loc[0]])
		b.WriteString(style.Render(plain[loc[0]:loc[1]]))
		at = loc[1]
	}
	b.WriteString(plain[at:])
	return b.String()
}

package ui

import (
	"bytes"
	"fmt"
	"net/url"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

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
	nodes  []*jnode // parsed stages (nil when not JSON)
	perr   []error
	folded map[string]bool
	top    int
	lines  []string
}

// NewDetail returns an empty detail pane.
func NewDetail(c *Common) *Detail {
	return &Detail{c: c, folded: map[string]bool{}}
}

func (d *Detail) Title() string    { return "Detail" }
func (d *Detail) Scope() Scope     { return ScopeDetail }
func (d *Detail) SetSize(w, h int) { d.w, d.h = w, h; d.build() }
func (d *Detail) Refresh()         {}

// Open starts loading event row; the returned command reads it back.
func (d *Detail) Open(row int) tea.Cmd {
	d.gen++
	d.row = row
	d.loaded, d.err, d.stages, d.nodes, d.top = false, nil, nil, nil, 0
	d.folded = map[string]bool{".requestObject": true, ".responseObject": true}
	d.build()
	return loadDetail(d.gen, d.c.Snap, row, d.c.Level)
}

// Row returns the event shown.
func (d *Detail) Row() int { return d.row }

// loadDetail reads an event and the other stages of its auditID back from
// their sources (I/O: runs as a command).
func loadDetail(gen uint64, s *Snapshot, row int, level func([]byte) (string, error)) tea.Cmd {
	return func() tea.Msg {
		msg := detailLoadedMsg{gen: gen, row: row}
		raw, err := s.Raw(row)
		if err != nil {
			msg.err = err
			return msg
		}
		id := auditIDOf(raw)
		for _, r := range s.Stages(row) {
			if r == row {
				msg.stages = append(msg.stages, stageRaw{row: r, raw: raw, sha256: RawSHA256(raw)})
				continue
			}
			other, err := s.Raw(r)
			if err != nil || auditIDOf(other) != id { // hash collision
				continue
			}
			msg.stages = append(msg.stages, stageRaw{row: r, raw: other, sha256: RawSHA256(other)})
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

func auditIDOf(raw []byte) string {
	n, err := parseJSON(raw)
	if err != nil {
		return ""
	}
	if id := n.field("auditID"); id != nil {
		return id.text
	}
	return ""
}

// Loaded takes a detailLoadedMsg; stale ones are ignored.
func (d *Detail) Loaded(m detailLoadedMsg) {
	if m.gen != d.gen {
		return
	}
	d.loaded, d.err, d.stages, d.level = true, m.err, m.stages, m.level
	d.nodes = make([]*jnode, len(m.stages))
	d.perr = make([]error, len(m.stages))
	d.cur = 0
	for k, s := range m.stages {
		d.nodes[k], d.perr[k] = parseJSON(s.raw)
		if s.row == m.row {
			d.cur = k
		}
	}
	d.build()
}

// RawLine returns the raw bytes of the stage shown.
func (d *Detail) RawLine() ([]byte, bool) {
	if !d.loaded || d.err != nil || len(d.stages) == 0 {
		return nil, false
	}
	return d.stages[d.cur].raw, true
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
	case ActFold:
		f := !d.folded[".requestObject"]
		d.folded[".requestObject"], d.folded[".responseObject"] = f, f
		d.build()
	case ActNextStage:
		if len(d.stages) > 0 {
			d.cur = (d.cur + 1) % len(d.stages)
			d.top = 0
			d.build()
		}
	case ActCopy:
		raw, ok := d.RawLine()
		if !ok {
			return nil, true
		}
		// OSC 52 carries base64, so the untrusted bytes never reach the
		// terminal as text.
		line := string(bytes.TrimRight(raw, "\r\n"))
		return tea.Batch(tea.SetClipboard(line), func() tea.Msg {
			return statusMsg(fmt.Sprintf("copied %d bytes (OSC 52)", len(line)))
		}), true
	default:
		return nil, false
	}
	d.clamp()
	return nil, true
}

func (d *Detail) bodyHeight() int { return max(1, d.h) }

func (d *Detail) clamp() {
	d.top = max(0, min(d.top, len(d.lines)-d.bodyHeight()))
}

// build renders every line of the detail once; View only slices.
func (d *Detail) build() {
	st := d.c.Styles
	var lines []string
	switch {
	case d.c.Snap == nil || d.row >= d.c.Snap.Len():
		lines = append(lines, st.Muted.Render("no event selected: press enter on an event"))
	case !d.loaded:
		lines = append(lines, st.Muted.Render("loading event…"))
	case d.err != nil:
		lines = append(lines, st.Error.Render(termsafe.String(d.err.Error())))
	default:
		lines = d.summary()
		lines = append(lines, "")
		if n := d.nodes[d.cur]; n != nil {
			lines = append(lines, renderJSON(st, n, d.folded, d.w)...)
		} else {
			lines = append(lines, st.Error.Render("not JSON: "+termsafe.String(d.perr[d.cur].Error())))
			lines = append(lines, st.Safe(string(d.stages[d.cur].raw), 0, st.Plain))
		}
	}
	// Long lines are cut to the width (values are already truncated; keys
	// of deep objects may still be long).
	for k, l := range lines {
		lines[k] = truncateANSI(l, d.w)
	}
	d.lines = lines
	d.clamp()
}

// summary is the header of the detail: the fields people look for first.
func (d *Detail) summary() []string {
	st := d.c.Styles
	n := d.nodes[d.cur]
	get := func(path ...string) string {
		x := n
		for _, p := range path {
			x = x.field(p)
		}
		if x == nil {
			return ""
		}
		return x.text
	}
	w := d.w
	kv := func(k, v string, vs func(string) string) string {
		return st.Bold.Render(pad(k, 9)) + " " + vs(v)
	}
	plain := func(v string) string { return st.Safe(v, w-10, st.Plain) }
	var out []string
	if n == nil {
		return out
	}
	// Who: the user, the impersonated user, the person and credential
	// behind the account (identity.go).
	if who := identityLines(st, d.stages[d.cur].raw, w); len(who) > 0 {
		out = append(out, who...)
	} else {
		out = append(out, kv("user", get("user", "username"), plain))
	}
	verb := get("verb")
	out = append(out, kv("verb", verb+"  "+get("requestURI"), func(v string) string { return st.Safe(v, w-10, st.VerbStyle(verb)) }))
	if cmd, ok := execCommand(get("requestURI")); ok {
		out = append(out, kv("command", cmd, func(v string) string { return st.Safe(v, w-10, st.VerbExec) }))
	}
	code := get("responseStatus", "code")
	status := strings.TrimSpace(code + " " + get("responseStatus", "reason") + " " + get("responseStatus", "message"))
	codeInt := 0
	fmt.Sscanf(code, "%d", &codeInt)
	out = append(out, kv("status", status, func(v string) string { return st.Safe(v, w-10, st.CodeStyle(codeInt)) }))
	lat := "-"
	if a, b := parseTS(get("requestReceivedTimestamp")), parseTS(get("stageTimestamp")); !a.IsZero() && !b.IsZero() {
		lat = b.Sub(a).String()
	}
	out = append(out, kv("latency", lat+"  (requestReceivedTimestamp → stageTimestamp)", plain))
	var ips []string
	if x := n.field("sourceIPs"); x != nil {
		for _, it := range x.items {
			ips = append(ips, it.text)
		}
	}
	out = append(out, kv("from", strings.Join(ips, ", ")+"  "+get("userAgent"), plain))
	if d.level != "" {
		out = append(out, kv("policy", "level "+d.level+" (--policy)", plain))
	}
	// Stages of the same auditID, the shown one marked.
	var sb []string
	for k := range d.stages {
		name, t := "?", ""
		if sn := d.nodes[k]; sn != nil {
			name = sn.field("stage").textOr("?")
			if ts := parseTS(sn.field("stageTimestamp").textOr("")); !ts.IsZero() {
				t = " " + ts.In(d.c.Loc).Format("15:04:05.000")
			}
		}
		label := termsafe.String(name) + t
		if k == d.cur {
			label = st.Selected.Render(label)
		}
		sb = append(sb, label)
	}
	out = append(out, st.Bold.Render(pad("stages", 9))+" "+strings.Join(sb, st.Muted.Render(" → "))+st.Muted.Render("  (s: next)"))
	out = append(out, d.citeLines()...) // cite.go: FILE:LINE and sha256
	return out
}

func (n *jnode) textOr(def string) string {
	if n == nil {
		return def
	}
	return n.text
}

func parseTS(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
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
	end := min(len(d.lines), d.top+d.bodyHeight())
	return fill(append([]string(nil), d.lines[d.top:end]...), d.h)
}

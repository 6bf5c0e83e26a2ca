package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// Help is the help overlay (`?`): every binding of the key table by
// scope, every `:` command of the command table, and the filter tips. It
// scrolls (j/k, pgup/pgdn, g/G) and can be searched (`/`: only the lines
// that contain the text are kept, under their section).
type Help struct {
	c     *Common
	w, h  int
	top   int
	query string
}

// NewHelp returns the help overlay.
func NewHelp(c *Common) *Help { return &Help{c: c} }

// SetSize gives the overlay its body size. The scroll is clamped where
// it is used (View, Action): the layout sets the size at every key, help
// open or not, and working out every line of the help each time was a
// sixth of the CPU of typing in the filter bar (ci-time4's profile of the
// package's tests).
func (hp *Help) SetSize(w, h int) { hp.w, hp.h = w, h }

// Open resets the scroll and the search.
func (hp *Help) Open() { hp.top, hp.query = 0, "" }

// Query is the search text ("" none).
func (hp *Help) Query() string { return hp.query }

// SetQuery keeps only the lines containing q (case-insensitive).
func (hp *Help) SetQuery(q string) { hp.query = q; hp.top = 0 }

// helpLine is one line of the help: a section title or an entry.
type helpLine struct {
	section    bool
	key, desc  string // entries
	title      string // sections
	plainIndex string // lower-case text searched
}

// filterTips are the filter bar's rules, listed under "filter".
var filterTips = []struct{ key, desc string }{
	{`LogQL`, `as in Grafana: {job="audit"} | json | user_username="alice"`},
	{`shorthand`, `user_username="alice" | verb=~"create|delete"  ({job="audit"} | json is added)`},
	{`words`, `text that is not LogQL searches each event's text: kube-system -> |= "kube-system"`},
	{`a b`, `several words: each must be there: kube-system exec -> |= "kube-system" |= "exec"`},
	{`a or b`, `either word: exec or attach -> |= "exec" or "attach" (as Loki 3 writes it)`},
	{`"a b"`, `a quoted phrase is one search: "kube-system exec" -> |= "kube-system exec"`},
	{`"k":"v"`, "other text with quotes that is not LogQL is searched as typed: \"verb\":\"delete\" -> |= `\"verb\":\"delete\"`"},
	{`/!query`, `shows what does NOT match (/!word -> != "word"; /!a b -> != "a" != "b": neither)`},
	{`ctrl+u`, `clears the input (/ opens with the filter in use selected: typing replaces it, ←/→ home/end edit it)`},
	{`tab`, `completes field and label names ({...}: the sources' labels), values after field="; again: the next (shift+tab back)`},
	{`↑/↓`, `filter history; :undo (u outside the Timeline) undoes the last filter change`},
	{`fields`, `as Loki's | json names them (objectRef_resource, responseStatus_code, ...)`},
}

// entries builds every line of the help, from the key and command tables.
func (hp *Help) entries() []helpLine {
	var out []helpLine
	add := func(l helpLine) {
		l.plainIndex = strings.ToLower(l.key + " " + l.desc + " " + l.title)
		out = append(out, l)
	}
	for _, sc := range Scopes() {
		bs := hp.c.Keys.Scope(sc)
		if len(bs) == 0 {
			continue
		}
		add(helpLine{section: true, title: scopeTitle(sc)})
		for _, b := range bs {
			h := b.Key.Help()
			add(helpLine{key: h.Key, desc: h.Desc})
		}
	}
	add(helpLine{section: true, title: "commands (type : then the command, tab completes it and :user's or :ip's value, enter runs it)"})
	for _, c := range commands {
		desc := c.desc
		// The other names it answers to (the usage shows one).
		shown := strings.Fields(strings.TrimPrefix(c.usage, ":"))[0]
		var also []string
		for _, n := range append([]string{c.name}, c.aliases...) {
			if n != shown {
				also = append(also, ":"+n)
			}
		}
		if len(also) > 0 {
			desc += "  (also " + strings.Join(also, ", ") + ")"
		}
		add(helpLine{key: c.usage, desc: desc})
	}
	add(helpLine{section: true, title: "filter (/)"})
	for _, t := range filterTips {
		add(helpLine{key: t.key, desc: t.desc})
	}
	return out
}

func scopeTitle(sc Scope) string {
	switch sc {
	case ScopeGlobal:
		return "every pane"
	case ScopeHelp:
		return "this help"
	}
	return string(sc) + " pane"
}

// lines renders the entries kept by the search.
func (hp *Help) lines(w int) []string {
	st := hp.c.Styles
	all := hp.entries()
	q := strings.ToLower(hp.query)
	// Each section's keys get one column, as wide as its widest key.
	keyWs := make([]int, len(all))
	for k := len(all) - 1; k >= 0; k-- {
		switch {
		case all[k].section:
		case k+1 < len(all) && !all[k+1].section:
			keyWs[k] = max(keyWs[k+1], ansi.StringWidth(all[k].key))
		default:
			keyWs[k] = max(12, ansi.StringWidth(all[k].key))
		}
	}
	for k := 1; k < len(all); k++ {
		if !all[k].section && !all[k-1].section {
			keyWs[k] = keyWs[k-1]
		}
	}
	var out []string
	section := ""
	for k, l := range all {
		if l.section {
			section = st.Header.Render(l.title)
			if q == "" {
				out = append(out, section)
				section = ""
			}
			continue
		}
		if q != "" && !strings.Contains(l.plainIndex, q) {
			continue
		}
		if section != "" {
			out = append(out, section)
			section = ""
		}
		keyW := keyWs[k]
		// A long description wraps under itself.
		descW := max(20, w-3-keyW)
		for n, part := range strings.Split(ansi.Wrap(l.desc, descW, " "), "\n") {
			key := strings.Repeat(" ", keyW)
			if n == 0 {
				key = st.HelpKey.Render(pad(l.key, keyW))
			}
			out = append(out, truncateANSI("  "+key+" "+st.HelpDesc.Render(part), w))
		}
	}
	if len(out) == 0 {
		out = append(out, st.Muted.Render(fmt.Sprintf("nothing in the help contains %q", hp.query)))
	}
	return out
}

// bodyHeight is the number of lines under the title.
func (hp *Help) bodyHeight() int { return max(1, hp.h-1) }

// twoColumns reports whether the help is shown in two columns: on a
// screen wide enough for two full columns, when that shows all of it at
// once.
func (hp *Help) twoColumns(n int) bool {
	return hp.w >= 160 && n > hp.bodyHeight() && n <= 2*hp.bodyHeight()
}

func (hp *Help) clamp() {
	n := len(hp.lines(hp.w))
	if hp.twoColumns(n) {
		hp.top = 0
		return
	}
	hp.top = max(0, min(hp.top, n-hp.bodyHeight()))
}

// Action scrolls; it reports whether the action was a scroll.
func (hp *Help) Action(a Action) bool {
	bh := hp.bodyHeight()
	switch a {
	case ActUp:
		hp.top--
	case ActDown:
		hp.top++
	case ActPageUp:
		hp.top -= bh
	case ActPageDown:
		hp.top += bh
	case ActTop:
		hp.top = 0
	case ActBottom:
		hp.top = 1 << 30
	default:
		return false
	}
	hp.clamp()
	return true
}

// View renders the overlay: a title with the position, then the lines.
func (hp *Help) View() string {
	st := hp.c.Styles
	hp.clamp()
	bh := hp.bodyHeight()
	lines := hp.lines(hp.w)
	title := st.Title.Render("Help")
	if hp.query != "" {
		title += st.Muted.Render(" matching ") + st.Safe(hp.query, 30, st.Bold)
	}
	var body []string
	if hp.twoColumns(len(lines)) {
		colW := hp.w / 2
		for k := 0; k < bh; k++ {
			l := ""
			if k < len(lines) {
				l = fit(lines[k], colW-1) + " "
			}
			if k+bh < len(lines) {
				l = pad(l, colW) + truncateANSI(lines[k+bh], hp.w-colW)
			}
			body = append(body, l)
		}
		title += st.Muted.Render("  (esc closes · / searches)")
	} else {
		end := min(len(lines), hp.top+bh)
		body = append(body, lines[hp.top:end]...)
		pos := fmt.Sprintf("  lines %d-%d of %d", hp.top+1, end, len(lines))
		if end == len(lines) && hp.top == 0 {
			pos = ""
		} else if end == len(lines) {
			pos += " (end)"
		}
		title += st.Muted.Render(pos + "  · j/k pgdn g/G scroll · / search · esc")
	}
	return fill(append([]string{truncateANSI(title, hp.w)}, body...), hp.h)
}

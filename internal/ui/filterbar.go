package ui

import (
	"strings"
	"unicode"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/audittui/audittui/internal/termsafe"
)

// FilterBar is the `/` (LogQL filter) and `:` (command) input line, each
// mode with its own history. It edits text; the app applies it.
type FilterBar struct {
	c      *Common
	w      int
	active bool
	mode   rune // '/' or ':'
	text   []rune
	pos    int
	// sel: the whole text is selected (the bar opened with the filter in
	// use): typing replaces it, a deleting key clears it, a moving key
	// keeps it for editing.
	sel     bool
	hist    map[rune][]string
	histPos int
	// err is the last error; errCol its 1-based column in text (0: none).
	err    string
	errCol int
	// suggestions are the completions offered for the word at the cursor;
	// ghost is what tab would add, shown greyed after the cursor; cycle
	// is tab's cycle through the candidates (complete.go).
	suggestions []string
	more        bool // more candidates than suggestions
	ghost       string
	cycle       *tabCycle
}

// NewFilterBar returns an inactive bar.
func NewFilterBar(c *Common) *FilterBar {
	return &FilterBar{c: c, hist: map[rune][]string{}}
}

// Open activates the bar in mode ('/' or ':') with initial text.
func (f *FilterBar) Open(mode rune, initial string) {
	f.active, f.mode = true, mode
	f.text = []rune(initial)
	f.pos = len(f.text)
	f.sel = len(f.text) > 0
	f.histPos = len(f.hist[mode])
	f.err, f.errCol = "", 0
	f.suggestions, f.ghost, f.cycle = nil, "", nil
}

// Close deactivates the bar.
func (f *FilterBar) Close() { f.active = false; f.suggestions, f.ghost, f.cycle = nil, "", nil }

// Active reports whether the bar has the keyboard.
func (f *FilterBar) Active() bool { return f.active }

// Mode is '/' or ':'.
func (f *FilterBar) Mode() rune { return f.mode }

// Value is the text typed.
func (f *FilterBar) Value() string { return string(f.text) }

// SetWidth is the screen width (where SetError puts the cursor).
func (f *FilterBar) SetWidth(w int) { f.w = w }

// SetError shows err under the bar, pointing at col (1-based, 0: none).
// The cursor stays at the end, where typing and ctrl+u expect it; only
// when the column would be scrolled out of view from there does the
// cursor go to it (so a long query shows where the problem is).
func (f *FilterBar) SetError(msg string, col int) {
	f.err, f.errCol = msg, col
	f.pos, f.sel = len(f.text), false
	if col > 0 && f.w > 0 && f.cells(col-1) < f.offset(f.pos, f.w) {
		f.pos = min(col-1, len(f.text))
	}
}

// Remember appends text to the mode's history.
func (f *FilterBar) Remember(text string) {
	h := f.hist[f.mode]
	if text == "" || (len(h) > 0 && h[len(h)-1] == text) {
		return
	}
	f.hist[f.mode] = append(h, text)
}

// barResult says what a key did to the bar.
type barResult int

const (
	barEditing barResult = iota
	barSubmit
	barCancel
)

// Key edits the text.
func (f *FilterBar) Key(k tea.KeyPressMsg) barResult {
	if f.sel {
		// The text the bar opened with is selected: typing replaces it,
		// a deleting key clears it, any other key keeps it.
		f.sel = false
		switch k.String() {
		case "backspace", "ctrl+h", "delete", "ctrl+d", "ctrl+w", "ctrl+u":
			f.text, f.pos = nil, 0
			f.err, f.errCol = "", 0
			f.updateSuggestions()
			return barEditing
		}
		if k.Text != "" && k.String() != "tab" && k.String() != "shift+tab" {
			f.text, f.pos = nil, 0
		}
	}
	switch k.String() {
	case "enter":
		return barSubmit
	case "esc", "ctrl+c":
		return barCancel
	case "left", "ctrl+b":
		f.pos = max(0, f.pos-1)
	case "right", "ctrl+f":
		f.pos = min(len(f.text), f.pos+1)
	case "home", "ctrl+a":
		f.pos = 0
	case "end", "ctrl+e":
		f.pos = len(f.text)
	case "backspace", "ctrl+h":
		if f.pos > 0 {
			f.text = append(f.text[:f.pos-1], f.text[f.pos:]...)
			f.pos--
		} else if len(f.text) == 0 {
			return barCancel
		}
	case "delete", "ctrl+d":
		if f.pos < len(f.text) {
			f.text = append(f.text[:f.pos], f.text[f.pos+1:]...)
		}
	case "ctrl+u":
		// The whole input, wherever the cursor is (as k9s; from the end,
		// readline's kill to the start does the same).
		f.text, f.pos = nil, 0
	case "ctrl+k":
		f.text = f.text[:f.pos]
	case "ctrl+w":
		p := f.pos
		for p > 0 && f.text[p-1] == ' ' {
			p--
		}
		for p > 0 && f.text[p-1] != ' ' {
			p--
		}
		f.text = append(f.text[:p], f.text[f.pos:]...)
		f.pos = p
	case "up":
		h := f.hist[f.mode]
		if f.histPos > 0 {
			f.histPos--
			f.text = []rune(h[f.histPos])
			f.pos = len(f.text)
		}
	case "down":
		h := f.hist[f.mode]
		if f.histPos < len(h)-1 {
			f.histPos++
			f.text = []rune(h[f.histPos])
		} else {
			f.histPos = len(h)
			f.text = nil
		}
		f.pos = len(f.text)
	case "tab", "shift+tab":
		d := 1
		if k.String() == "shift+tab" {
			d = -1
		}
		f.complete(d)
		f.err, f.errCol = "", 0
		return barEditing
	default:
		if k.Text != "" {
			r := []rune(k.Text)
			// Keys arrive as text: keep only printable runes (a paste of
			// control characters must not end up in the query).
			clean := r[:0]
			for _, c := range r {
				if unicode.IsPrint(c) {
					clean = append(clean, c)
				}
			}
			f.text = append(f.text[:f.pos], append(clean, f.text[f.pos:]...)...)
			f.pos += len(clean)
		}
	}
	f.err, f.errCol = "", 0
	f.updateSuggestions()
	return barEditing
}

// Paste inserts pasted text.
func (f *FilterBar) Paste(s string) {
	f.Key(tea.KeyPressMsg{Text: strings.ReplaceAll(s, "\n", " ")})
}

// word returns the token before the cursor and where it starts. A token
// ends at spaces, pipes, braces, commas and comparison operators.
func (f *FilterBar) word() (string, int) {
	p := f.pos
	for p > 0 && !strings.ContainsRune(" |{},()", f.text[p-1]) {
		p--
	}
	return string(f.text[p:f.pos]), p
}

// Lines renders the bar: the input line, then (when set) the error with a
// caret under its column, or the completion candidates, or what enter
// will do with a plain search. The filter in use, and its note, are shown
// when the bar is inactive. Nothing is wider than w.
func (f *FilterBar) Lines(current, note string, w int) []string {
	st := f.c.Styles
	if !f.active {
		if current == "" {
			return []string{truncateANSI(st.Muted.Render("no filter · / LogQL filter or words to search · : command · ? help"), w)}
		}
		line := st.Title.Render("filter ") + st.Safe(current, w-7, st.Plain)
		if note != "" {
			line += st.Muted.Render("  (" + termsafe.String(note) + ")")
		}
		return []string{truncateANSI(line, w)}
	}
	line, off := f.inputLine(w)
	out := []string{line}
	switch {
	case f.err != "":
		msg := termsafe.String(f.err)
		caret := ""
		if f.errCol > 0 {
			// The caret under the column in the scrolled input (the
			// prompt takes one cell).
			pos := 1 + f.cells(f.errCol-1) - off
			if pos >= 1 && pos < w {
				caret = strings.Repeat(" ", pos) + "^"
			}
		}
		if caret != "" && ansi.StringWidth(caret)+1+ansi.StringWidth(msg) <= w {
			return append(out, st.Error.Render(caret+" "+msg))
		}
		if caret != "" {
			out = append(out, st.Error.Render(caret))
		}
		// The message wrapped to the width (at most three lines).
		wrapped := strings.Split(ansi.Wrap(msg, max(10, w), " "), "\n")
		if len(wrapped) > 3 {
			wrapped = wrapped[:3]
			wrapped[2] = truncateANSI(wrapped[2]+" …", w)
		}
		for _, l := range wrapped {
			out = append(out, st.Error.Render(truncateANSI(l, w)))
		}
	case f.sel:
		what := "the filter"
		if f.mode != '/' {
			what = "it"
		}
		out = append(out, truncateANSI(st.Muted.Render("typing replaces "+what+" · ←/→ home/end edit it · ctrl+u clears"), w))
	case f.cycle != nil:
		pos, shown, cur, more := f.cycleLine()
		line := st.Muted.Render("tab " + pos + ":")
		for k, c := range shown {
			style := st.Muted
			if k == cur {
				style = st.Selected
			}
			line += " " + st.Safe(strings.TrimSpace(c), w, style)
		}
		if more {
			line += st.Muted.Render(" …")
		}
		out = append(out, truncateANSI(line, w))
	case len(f.suggestions) > 0:
		list := make([]string, len(f.suggestions))
		for k, c := range f.suggestions {
			list[k] = strings.TrimLeft(c, " ")
		}
		line := st.Muted.Render("tab: ") + st.Safe(strings.Join(list, "  "), w-5, st.Muted)
		if f.more {
			line += st.Muted.Render("  …")
		}
		out = append(out, truncateANSI(line, w))
	case f.mode == '/':
		neg, body := negated(string(f.text))
		if groups, ok := plainSearch(body); ok && !isSchemaName(strings.TrimSpace(body)) {
			what, how := "search the events' text for ", " (not LogQL)"
			list := searchList(groups)
			switch {
			case neg:
				terms := flatTerms(groups)
				what, list = "hide the events whose text has ", quotedList(terms, "or")
				if len(terms) > 1 {
					what = "hide the events whose text has any of "
				}
			case len(groups) > 1:
				how = " (every word; \"quote\" a phrase; a or b: either)"
			}
			out = append(out, truncateANSI(st.Muted.Render("enter: "+what)+st.Safe(list, w, st.Plain)+st.Muted.Render(how), w))
		}
	}
	return out
}

// cells is the display width of the first n runes of the text.
func (f *FilterBar) cells(n int) int {
	n = max(0, min(n, len(f.text)))
	return SafeWidth(string(f.text[:n]))
}

// offset is how many cells of the text are scrolled out on the left
// with the cursor at pos on a screen w wide: none while the cursor fits,
// else enough to show it with some of what follows.
func (f *FilterBar) offset(pos, w int) int {
	room := max(1, w-1-1) // the prompt, and the cursor past the end
	cur := f.cells(pos)
	if cur <= room {
		return 0
	}
	margin := min(12, room/4)
	return max(0, min(cur-room+margin, f.cells(len(f.text))+1-room))
}

// inputLine renders the prompt and the text with the cursor, scrolled
// sideways so the cursor stays on screen; off is how many cells of the
// text are hidden on the left.
func (f *FilterBar) inputLine(w int) (string, int) {
	st := f.c.Styles
	prompt := string(f.mode)
	if f.mode == 's' {
		prompt = "/"
	}
	off := f.offset(f.pos, w)
	before := string(f.text[:f.pos])
	after := string(f.text[f.pos:])
	cursor := " "
	if len(after) > 0 {
		cursor = string([]rune(after)[0])
		after = string([]rune(after)[1:])
	}
	textStyle := st.Plain
	if f.sel {
		textStyle = st.Selected // the selection: typing replaces it
	}
	ghost := ""
	if f.ghost != "" && len(after) == 0 && !f.sel && f.err == "" {
		// What tab adds, greyed after the cursor (k9s): the cursor on
		// its first letter.
		g := []rune(f.ghost)
		cursor, ghost = string(g[0]), st.Safe(string(g[1:]), 0, st.Muted)
	}
	line := st.Safe(before, 0, textStyle) + st.Selected.Render(termsafe.String(cursor)) + ghost + st.Safe(after, 0, textStyle)
	if off > 0 {
		line = st.Muted.Render("…") + ansi.TruncateLeft(line, off+1, "")
	}
	return truncateANSI(st.Title.Render(prompt)+line, w), off
}

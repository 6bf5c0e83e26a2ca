package ui

import (
	"sort"
	"strings"
	"sync"
	"unicode"

	"github.com/audittui/audittui/internal/data"

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
	// suggestions are the completions offered for the word at the cursor.
	suggestions []string
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
	f.suggestions = nil
}

// Close deactivates the bar.
func (f *FilterBar) Close() { f.active = false; f.suggestions = nil }

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
		if k.Text != "" && k.String() != "tab" {
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
	case "tab":
		f.complete()
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

// valueContext splits a token like user_username="ad into field, opening
// quote and value prefix.
func valueContext(tok string) (field, prefix string, ok bool) {
	for _, op := range []string{"!~", "=~", "!=", "=", ">=", "<=", ">", "<"} {
		if i := strings.Index(tok, op); i > 0 {
			field = tok[:i]
			rest := tok[i+len(op):]
			if !strings.HasPrefix(rest, `"`) && !strings.HasPrefix(rest, "`") {
				if rest == "" {
					return field, "", true
				}
				return "", "", false
			}
			return field, rest[1:], true
		}
	}
	return "", "", false
}

// candidates are the completions of the word at the cursor: field names,
// or, after `field="`, values of that field from the index.
func (f *FilterBar) candidates() (cands []string, start int) {
	if f.mode != '/' {
		return nil, 0
	}
	tok, start := f.word()
	if field, prefix, ok := valueContext(tok); ok {
		c, found := colForLabel(field)
		if !found || f.c.Snap == nil {
			return nil, 0
		}
		counts := map[string]int{}
		for _, v := range f.c.Snap.Values(c) {
			if v != "" && strings.HasPrefix(v, prefix) && len(counts) < 5000 {
				counts[v]++
			}
		}
		for v := range counts {
			cands = append(cands, field+`="`+v+`"`)
		}
		sort.Strings(cands)
		return cands, start
	}
	if tok == "" {
		return nil, 0
	}
	for _, fc := range completionFields() {
		if strings.HasPrefix(fc.key, tok) && fc.text != tok {
			cands = append(cands, fc.text)
		}
	}
	return cands, start
}

// fieldCompletion is a completion of a word: offered when key starts
// with the word, text replaces it.
type fieldCompletion struct{ key, text string }

// completionFields are the schema's names (a family as its prefix,
// requestObject_), an expression or derived field as the stage that
// reaches it with its label after it (sourceIP completes to
// json sourceIP="sourceIPs[0]" | sourceIP, dryRun to data.DryRunStage()
// | dryRun), and the parser keywords,
// sorted by key.
var completionFields = sync.OnceValue(func() []fieldCompletion {
	seen := map[string]bool{}
	var out []fieldCompletion
	add := func(key, text string) {
		if !seen[key] {
			seen[key] = true
			out = append(out, fieldCompletion{key, text})
		}
	}
	for _, fs := range data.Fields() {
		if fs.Kind == data.FieldExpr || fs.Kind == data.FieldDerived {
			add(fs.Name, fs.Stage()+" | "+fs.Name)
			continue
		}
		add(fs.Name, fs.Name)
	}
	for _, n := range []string{"json", "logfmt", "line_format"} {
		add(n, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out
})

func (f *FilterBar) updateSuggestions() {
	c, _ := f.candidates()
	if len(c) > 8 {
		c = c[:8]
	}
	f.suggestions = c
}

// complete replaces the word at the cursor by the longest common prefix
// of the candidates (the candidate itself when there is one).
func (f *FilterBar) complete() {
	cands, start := f.candidates()
	if len(cands) == 0 {
		return
	}
	common := cands[0]
	for _, c := range cands[1:] {
		for !strings.HasPrefix(c, common) {
			common = common[:len(common)-1]
		}
	}
	if len([]rune(common)) < f.pos-start {
		// The candidates share less than what was typed (an expression
		// field completes to its stage): show them, change nothing.
		return
	}
	tail := f.text[f.pos:]
	f.text = append(append([]rune(nil), f.text[:start]...), []rune(common)...)
	f.pos = len(f.text)
	f.text = append(f.text, tail...)
	f.updateSuggestions()
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
	case len(f.suggestions) > 0:
		out = append(out, truncateANSI(st.Muted.Render("tab: ")+st.Safe(strings.Join(f.suggestions, "  "), w-5, st.Muted), w))
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
	line := st.Safe(before, 0, textStyle) + st.Selected.Render(termsafe.String(cursor)) + st.Safe(after, 0, textStyle)
	if off > 0 {
		line = st.Muted.Render("…") + ansi.TruncateLeft(line, off+1, "")
	}
	return truncateANSI(st.Title.Render(prompt)+line, w), off
}

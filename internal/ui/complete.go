package ui

// Tab completion in the filter bar (`/`) and the command line (`:`), as
// k9s's prompt: what tab would insert is shown greyed after the cursor,
// tab inserts it; when the candidates share nothing more than what was
// typed, tab cycles through them (shift+tab backwards), and past the last
// one the word comes back as typed.

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/audittui/audittui/internal/data"
)

// maxCandidates caps the candidates gathered for one word.
const maxCandidates = 5000

// tabCycle is a cycle through the candidates of one word: text[start:end]
// holds cands[k] (k == len(cands): the word as typed).
type tabCycle struct {
	start, end int
	typed      []rune
	cands      []string
	k          int
}

// valueContext splits a token like user_username="ad into field,
// operator and value prefix (after the opening quote).
func valueContext(tok string) (field, op, prefix string, ok bool) {
	for _, op := range []string{"!~", "=~", "!=", "=", ">=", "<=", ">", "<"} {
		if i := strings.Index(tok, op); i > 0 {
			field = tok[:i]
			rest := tok[i+len(op):]
			if !strings.HasPrefix(rest, `"`) && !strings.HasPrefix(rest, "`") {
				if rest == "" {
					return field, op, "", true
				}
				return "", "", "", false
			}
			return field, op, rest[1:], true
		}
	}
	return "", "", "", false
}

// queryContext scans a query up to the cursor: inside a stream selector's
// braces, inside a quoted string.
func queryContext(text []rune) (inBraces, inQuote bool) {
	var quote rune
	depth := 0
	for k := 0; k < len(text); k++ {
		c := text[k]
		switch {
		case quote != 0:
			if c == '\\' && quote == '"' {
				k++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '`':
			quote = c
		case c == '{':
			depth++
		case c == '}':
			depth = max(0, depth-1)
		}
	}
	return depth > 0, quote != 0
}

// candidates are the completions of the word at the cursor and where the
// word starts.
func (f *FilterBar) candidates() (cands []string, start int) {
	switch f.mode {
	case '/':
		return f.queryCandidates()
	case ':':
		return f.commandCandidates()
	}
	return nil, 0
}

// queryCandidates: in the stream selector ({...}), the sources' label
// names and, after label=", their values; elsewhere the field names (as
// | json names them), the label names and the parser keywords, and after
// field=" the values the index holds.
func (f *FilterBar) queryCandidates() ([]string, int) {
	tok, start := f.word()
	inBraces, inQuote := queryContext(f.text[:start])
	labels := f.streamLabels()
	if field, op, prefix, ok := valueContext(tok); ok && !inQuote {
		var values []string
		if c, found := colForLabel(field); found && !inBraces && f.c.Snap != nil {
			values = f.c.Snap.Values(c)
		} else if inBraces || (f.c.Snap != nil && f.c.Snap.IsStreamLabel(field)) {
			values = labels.Values(field)
		}
		seen := map[string]bool{}
		var cands []string
		for _, v := range values {
			if v == "" || seen[v] || !strings.HasPrefix(v, prefix) || len(seen) >= maxCandidates {
				continue
			}
			seen[v] = true
			lit := v
			if op == "=~" || op == "!~" {
				lit = regexp.QuoteMeta(v)
			}
			cands = append(cands, field+op+strconv.Quote(lit))
		}
		sort.Strings(cands)
		return cands, start
	}
	if tok == "" || inQuote {
		return nil, 0
	}
	// Sorted by name (an expression field's text starts with its stage).
	var found []fieldCompletion
	seen := map[string]bool{}
	add := func(fc fieldCompletion) {
		if !seen[fc.text] && fc.text != tok && strings.HasPrefix(fc.key, tok) {
			seen[fc.text] = true
			found = append(found, fc)
		}
	}
	for _, n := range labels.Names() {
		add(fieldCompletion{n, n})
	}
	if !inBraces {
		for _, fc := range completionFields() {
			add(fc)
		}
	}
	sort.SliceStable(found, func(i, j int) bool { return found[i].key < found[j].key })
	cands := make([]string, len(found))
	for k, fc := range found {
		cands[k] = fc.text
	}
	return cands, start
}

// streamLabels are the stream labels of the sources read (job, filename,
// a Loki stream's), and those the sources reported before the read.
func (f *FilterBar) streamLabels() *data.StreamLabels {
	sl := &data.StreamLabels{}
	if f.c.Snap != nil {
		f.c.Snap.addStreams(sl)
	}
	sl.Merge(f.c.Streams)
	return sl
}

// commandCandidates: the command names (followed by a space when the
// command takes an argument), then :user's users and :ip's addresses from
// the index.
func (f *FilterBar) commandCandidates() ([]string, int) {
	tok, start := f.word()
	before := strings.Fields(string(f.text[:start]))
	if len(before) == 0 {
		var cands []string
		for _, c := range commands {
			if strings.HasPrefix(c.name, tok) {
				text := c.name
				if c.parse != nil {
					text += " "
				}
				cands = append(cands, text)
			}
		}
		return cands, start
	}
	spec, ok := lookupCommand(before[0])
	if !ok || len(before) != 1 || f.c.Snap == nil {
		return nil, 0
	}
	var col Col
	switch spec.name {
	case "user":
		col = ColUser
	case "ip":
		col = ColSourceIP
	default:
		return nil, 0
	}
	// A unique start or part of a name is enough for :user (resolveUser):
	// the names that start with it first, then those that contain it.
	low := strings.ToLower(tok)
	var prefix, part []string
	for _, v := range f.c.Snap.Values(col) {
		if v == "" || strings.IndexFunc(v, unicode.IsSpace) >= 0 || len(prefix)+len(part) >= maxCandidates {
			continue // a name with a space is not one argument
		}
		switch l := strings.ToLower(v); {
		case strings.HasPrefix(l, low):
			prefix = append(prefix, v)
		case strings.Contains(l, low):
			part = append(part, v)
		}
	}
	sort.Strings(prefix)
	sort.Strings(part)
	return append(prefix, part...), start
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

// next is what tab inserts for the word at the cursor: the candidates'
// common start when it is longer than the word, else the first candidate;
// cycle: the candidates share no more than the word (tab cycles).
func (f *FilterBar) next() (text string, start int, cands []string, cycle bool) {
	cands, start = f.candidates()
	if len(cands) == 0 {
		return "", 0, nil, false
	}
	common := cands[0]
	for _, c := range cands[1:] {
		for !strings.HasPrefix(c, common) {
			common = common[:len(common)-1]
		}
	}
	typed := string(f.text[start:f.pos])
	if len(cands) == 1 || (len(common) > len(typed) && strings.HasPrefix(common, typed)) {
		return common, start, cands, false
	}
	return cands[0], start, cands, true
}

func (f *FilterBar) updateSuggestions() {
	f.cycle = nil
	text, start, c, _ := f.next()
	f.ghost = ""
	if typed := string(f.text[start:f.pos]); typed != "" && f.pos == len(f.text) && strings.HasPrefix(text, typed) {
		f.ghost = text[len(typed):]
	}
	if len(c) > 8 {
		c = c[:8]
	}
	f.suggestions = c
}

// complete handles tab (d = 1) and shift+tab (d = -1): the next step of
// the cycle in progress, else what next says.
func (f *FilterBar) complete(d int) {
	if cy := f.cycle; cy != nil && f.pos == cy.end {
		n := len(cy.cands) + 1 // the word as typed is the last stop
		cy.k = ((cy.k+d)%n + n) % n
		word := cy.typed
		if cy.k < len(cy.cands) {
			word = []rune(cy.cands[cy.k])
		}
		f.replace(cy.start, cy.end, word)
		cy.end = f.pos
		return
	}
	text, start, cands, cycle := f.next()
	if len(cands) == 0 {
		return
	}
	typed := append([]rune(nil), f.text[start:f.pos]...)
	if cycle && d < 0 {
		text = cands[len(cands)-1]
	}
	f.replace(start, f.pos, []rune(text))
	f.updateSuggestions()
	if cycle {
		k := 0
		if d < 0 {
			k = len(cands) - 1
		}
		f.cycle = &tabCycle{start: start, end: f.pos, typed: typed, cands: cands, k: k}
		f.ghost = ""
	}
}

// replace puts word in place of text[start:end], the cursor after it.
func (f *FilterBar) replace(start, end int, word []rune) {
	tail := append([]rune(nil), f.text[end:]...)
	f.text = append(append(f.text[:start:start], word...), tail...)
	f.pos = start + len(word)
}

// cycleLine is the suggestions line while tab cycles: which of how many,
// and the candidates around the current one (marked).
func (f *FilterBar) cycleLine() (pos string, shown []string, cur int) {
	cy := f.cycle
	if cy.k >= len(cy.cands) {
		pos = "as typed"
	} else {
		pos = strconv.Itoa(cy.k+1) + "/" + strconv.Itoa(len(cy.cands))
	}
	first := min(cy.k, len(cy.cands)-1) / 8 * 8
	shown = cy.cands[first:min(first+8, len(cy.cands))]
	return pos, shown, cy.k - first
}

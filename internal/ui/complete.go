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
// | json names them, with the names under the bodies that the events read
// carry when the pipeline has | json), the label names and the stages,
// and after field=" the values the index holds. Where no word is typed
// yet, what may come there (emptyWordCandidates).
//
// Ranking: a field typed whole comes first (it is a choice, not just the
// start of its longer siblings: objectRef_resource before
// objectRef_resourceVersion); then the schema's fields that the index
// keeps as columns (those the panes show and filters use most:
// user_username, objectRef_resource), then the other schema fields, each
// in the schema's order, which follows the audit event (verb, user,
// object, response), not the alphabet (user_username before user_uid);
// then the stream labels, the body names (in the order first seen) and
// the stages. Not by how many events carry a field: user_username and
// user_uid are carried by the same events, and a count that changes as
// events stream in would reorder the list between two presses of tab.
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
	if inQuote {
		return nil, 0
	}
	before := string(f.text[:start])
	json := f.hasJSON(before)
	if tok == "" {
		cands := f.emptyWordCandidates(before, inBraces, json, labels)
		if len(cands) == 0 {
			return nil, 0
		}
		return cands, start
	}
	pool := f.namePool(inBraces, json, labels)
	if !inBraces {
		for _, k := range stageKeywords {
			pool = append(pool, fieldCompletion{key: k, text: k})
		}
	}
	var exact, rest []fieldCompletion
	seen := map[string]bool{}
	for _, fc := range pool {
		if seen[fc.text] || !strings.HasPrefix(fc.key, tok) || len(exact)+len(rest) >= maxCandidates {
			continue
		}
		seen[fc.text] = true
		if fc.key == tok && !fc.family {
			exact = append(exact, fc)
		} else {
			rest = append(rest, fc)
		}
	}
	// A family's prefix is no field: offered only while no name under it
	// is known.
	var families []string
	for _, fc := range rest {
		if fc.family {
			families = append(families, fc.key)
		}
	}
	if len(families) > 0 {
		known := map[string]bool{}
		for _, fc := range rest {
			for _, fam := range families {
				if !fc.family && strings.HasPrefix(fc.key, fam) {
					known[fam] = true
				}
			}
		}
		keep := make([]fieldCompletion, 0, len(rest))
		for _, fc := range rest {
			if !fc.family || !known[fc.key] {
				keep = append(keep, fc)
			}
		}
		rest = keep
	}
	if len(rest) == 0 && (len(exact) == 0 || exact[0].text == tok) {
		return nil, 0 // typed whole, and nothing longer: nothing to add
	}
	cands := make([]string, 0, len(exact)+len(rest))
	for _, fc := range append(exact, rest...) {
		cands = append(cands, fc.text)
	}
	return cands, start
}

// stageKeywords are the stages the parser takes after a "|" besides a
// label filter, in the order offered (logfmt, regexp, pattern are not
// taken: no completion leads to an error).
var stageKeywords = []string{"json", "line_format", "label_format", "drop", "keep"}

// namePool is every name a word may complete to, ranked (see
// queryCandidates): in the stream selector the label names, elsewhere
// the schema's fields, the label names, and the body names when the
// pipeline has | json.
func (f *FilterBar) namePool(inBraces, json bool, labels *data.StreamLabels) []fieldCompletion {
	var pool []fieldCompletion
	if !inBraces {
		pool = append(pool, completionFields()...)
	}
	for _, n := range labels.Names() {
		pool = append(pool, fieldCompletion{key: n, text: n})
	}
	if !inBraces && json && f.c.Snap != nil {
		for _, n := range f.c.Snap.BodyNames() {
			pool = append(pool, fieldCompletion{key: n, text: n})
		}
	}
	return pool
}

// hasJSON reports whether the query's pipeline has | json before the
// word: the shorthand (text that does not start with a stream selector)
// always does.
func (f *FilterBar) hasJSON(before string) bool {
	if !strings.HasPrefix(strings.TrimLeft(string(f.text), " "), "{") {
		return true
	}
	return jsonStage.MatchString(before)
}

var (
	jsonStage = regexp.MustCompile(`\|\s*json\b`)
	// matcherEnd matches text ending with a complete label matcher
	// (verb="get", responseStatus_code>=400, (a="x" or b="y")).
	matcherEnd = regexp.MustCompile("[A-Za-z_][A-Za-z0-9_]*\\s*(?:=~|!~|!=|==|>=|<=|=|>|<)\\s*(?:\"(?:[^\"\\\\]|\\\\.)*\"|`[^`]*`|[-+.0-9A-Za-z_]+)\\s*\\)*$")
	// joinerEnd matches text ending with and/or between label filters.
	joinerEnd = regexp.MustCompile(`(?:^|[\s)])(?:and|or)$`)
	// selectorLabel finds the label names of a stream selector's matchers.
	selectorLabel = regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)`)
)

// isPlainSearch reports whether text is a plain search (words: "exec or
// attach" joins words, not label filters).
func isPlainSearch(text string) bool {
	_, ok := plainSearch(text)
	return ok
}

// emptyWordCandidates is what tab offers where no word is typed yet
// (before is the text up to the cursor), as `:` tab lists the commands:
// inside { or after a comma in it, the label names the selector does not
// match yet; after a "|", the stages (json only when the pipeline lacks
// it), then the fields a label filter takes; at the start, after a
// complete matcher, a comma, and or or, the fields; after the selector,
// the stages and line filters that may follow it.
func (f *FilterBar) emptyWordCandidates(before string, inBraces, json bool, labels *data.StreamLabels) []string {
	t := strings.TrimRight(before, " ")
	// Candidates that start an operator go after a space.
	sp := ""
	if before != "" && !strings.HasSuffix(before, " ") {
		sp = " "
	}
	names := func() []string {
		var out []string
		seen := map[string]bool{}
		for _, fc := range f.namePool(false, json, labels) {
			if !seen[fc.text] && !fc.family && len(out) < maxCandidates {
				seen[fc.text] = true
				out = append(out, fc.text)
			}
		}
		return out
	}
	switch {
	case inBraces:
		if !strings.HasSuffix(t, "{") && !strings.HasSuffix(t, ",") {
			return nil
		}
		used := map[string]bool{}
		for _, m := range selectorLabel.FindAllStringSubmatch(t[strings.LastIndexByte(t, '{'):], -1) {
			used[m[1]] = true
		}
		var out []string
		for _, n := range labels.Names() {
			if !used[n] {
				out = append(out, n)
			}
		}
		return out
	case t == "":
		return names()
	case strings.HasSuffix(t, "|"):
		var out []string
		for _, k := range stageKeywords {
			if k != "json" || !json {
				out = append(out, sp+k)
			}
		}
		for _, n := range names() {
			out = append(out, sp+n)
		}
		return out
	case strings.HasSuffix(t, "}"):
		return []string{sp + "| json", sp + "|= ", sp + "!= "}
	case strings.HasSuffix(t, ","):
		return names()
	case matcherEnd.MatchString(t) || joinerEnd.MatchString(t) && !isPlainSearch(t):
		out := names()
		for k := range out {
			out[k] = sp + out[k]
		}
		return out
	}
	return nil
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
	// the names that start with it; when none does, those that contain
	// it (k9s completes the start: :user al is alice, not every node
	// whose name holds "al").
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
	if len(prefix) > 0 {
		sort.Strings(prefix)
		return prefix, start
	}
	sort.Strings(part)
	return part, start
}

// fieldCompletion is a completion of a word: offered when key starts
// with the word, text replaces it; family: key is a family's prefix
// (requestObject_), not a field.
type fieldCompletion struct {
	key, text string
	family    bool
}

// completionFields are the schema's names (a family as its prefix,
// requestObject_), an expression or derived field as the stage that
// reaches it with its label after it (sourceIP completes to
// json sourceIP="sourceIPs[0]" | sourceIP, dryRun to data.DryRunStage()
// | dryRun): first those the index keeps as columns, then the others,
// each in the schema's order (see queryCandidates).
var completionFields = sync.OnceValue(func() []fieldCompletion {
	seen := map[string]bool{}
	var out []fieldCompletion
	for _, indexed := range []bool{true, false} {
		for _, fs := range data.Fields() {
			if fs.Indexed != indexed || seen[fs.Name] {
				continue
			}
			seen[fs.Name] = true
			fc := fieldCompletion{key: fs.Name, text: fs.Name, family: fs.Kind == data.FieldFamily}
			if fs.Kind == data.FieldExpr || fs.Kind == data.FieldDerived {
				fc.text = fs.Stage() + " | " + fs.Name
			}
			out = append(out, fc)
		}
	}
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
	f.more = len(c) > 8
	if f.more {
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
// and the candidates around the current one (marked); more: candidates
// follow those shown.
func (f *FilterBar) cycleLine() (pos string, shown []string, cur int, more bool) {
	cy := f.cycle
	if cy.k >= len(cy.cands) {
		pos = "as typed"
	} else {
		pos = strconv.Itoa(cy.k+1) + "/" + strconv.Itoa(len(cy.cands))
	}
	first := min(cy.k, len(cy.cands)-1) / 8 * 8
	shown = cy.cands[first:min(first+8, len(cy.cands))]
	return pos, shown, cy.k - first, first+8 < len(cy.cands)
}

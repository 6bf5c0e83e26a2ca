package ui

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
)

// The filter bar takes LogQL log queries exactly as Grafana does, and
// the shorthand that `audittui query` takes too (data.ExpandShorthand):
// text that does not start with a stream selector gets one.
const shorthandSelector = data.ShorthandSelector

// CompileLogQL compiles filter-bar text (a LogQL log query, or the
// shorthand above) into a Filter. Parse errors are *FilterError with the
// column in the text typed.
//
// Text that is plain words, with nothing LogQL is written with (no = ~ |
// { } < > ! or quotes inside a word), is what k9s, lnav and less users
// type to search: each word becomes a line filter, all of which must
// match (kube-system exec -> |= "kube-system" |= "exec"); a quoted
// phrase is one ("kube-system exec" -> |= "kube-system exec"); or
// between two words is either (exec or attach -> |= "exec" or "attach",
// Loki 3's line filter alternatives). The filter's text is that LogQL and
// its Note says how it was read.
func CompileLogQL(text string) (*Filter, error) { return compileLogQL(shorthandSelector, text) }

// CompileLogQLFor returns CompileLogQL for sources whose audit events
// carry job (--label job=...): the shorthand selects it
// (data.ShorthandSelectorFor).
func CompileLogQLFor(job string) func(text string) (*Filter, error) {
	sel := data.ShorthandSelectorFor(job)
	return func(text string) (*Filter, error) { return compileLogQL(sel, text) }
}

// compileLogQL is CompileLogQL with the shorthand's selector sel.
func compileLogQL(sel, text string) (*Filter, error) {
	if groups, ok := plainSearch(text); ok {
		if t := strings.TrimSpace(text); isSchemaName(t) {
			return nil, &FilterError{Msg: fmt.Sprintf("%s is a field: compare it with a value, e.g. %s=%q", t, t, "..."), Col: 1}
		}
		f, err := compileLogQL(sel, lineFilters("|=", groups))
		if err != nil {
			return nil, err
		}
		f.Note = "not LogQL: searching each event's text for " + searchList(groups)
		return f, nil
	}
	full, shift := data.ExpandShorthandWith(sel, text)
	q, err := logql.ParseLog(full)
	if err != nil {
		// A metric query (pasted from Grafana) is neither a filter nor
		// text to search for (review M 14).
		if _, merr := logql.ParseMetric(text); merr == nil {
			return nil, &FilterError{Msg: metricQueryMsg, Col: 1}
		}
	}
	if err != nil && literalSearch(text) {
		// grep's muscle memory: /"verb":"delete", /replicas":0 (review I 5).
		t := strings.TrimSpace(text)
		lit := "|= " + strconv.Quote(t)
		if !strings.Contains(t, "`") {
			lit = "|= `" + t + "`"
		}
		f, ferr := compileLogQL(sel, lit)
		if ferr == nil {
			f.Note = "not LogQL: searching each event's text for " + lit[3:] + " as typed"
			return f, nil
		}
	}
	if err != nil {
		var pe *logql.ParseError
		if errors.As(err, &pe) {
			col := pe.Col - shift
			if pe.Line != 1 || col < 1 {
				col = 1
			}
			return nil, &FilterError{Msg: pe.Msg, Col: col}
		}
		return nil, &FilterError{Msg: err.Error()}
	}
	f := &Filter{Text: text, query: true, lq: q, lineFilters: hasLineFilter(q.String()), unbound: q.UnboundLabels()}
	return f, nil
}

// metricQueryMsg is the error for a metric query typed into `/` (it fits
// 80 columns with the caret before it).
const metricQueryMsg = "a metric query: / takes a log query; `audittui query` answers metric queries"

// labelFilterStart matches text that starts as a label filter or a
// pipeline of LogQL (user_username="..., | json, {job=...}, !=): a typo
// in it is a LogQL error, not text to search for.
var labelFilterStart = regexp.MustCompile(`^\s*(?:[{|!]|[A-Za-z_][A-Za-z0-9_]*\s*(?:[=!<>]|\|))`)

// literalSearch reports whether text that did not parse as LogQL is a
// search for itself: it holds a double quote (grep '"verb":"delete"') and
// does not start as LogQL does.
func literalSearch(text string) bool {
	return strings.Contains(text, `"`) && strings.TrimSpace(text) != "" && !labelFilterStart.MatchString(text)
}

// plainSearch reports whether text is a plain search (see CompileLogQL)
// and returns its terms: the words, and each quoted phrase ("..." with
// Go escapes, or `...`) unquoted, in order, in groups of alternatives:
// an unquoted or between two terms puts them in one group (a or b c is
// [[a b] [c]]); elsewhere (first, last, twice) it is a word.
func plainSearch(text string) ([][]string, bool) {
	var terms []string
	var isOr []bool // terms[k] is an unquoted "or"
	t := strings.TrimLeftFunc(text, unicode.IsSpace)
	for t != "" {
		var term string
		bare := false
		switch t[0] {
		case '"':
			q, err := strconv.QuotedPrefix(t)
			if err != nil {
				return nil, false
			}
			term, _ = strconv.Unquote(q)
			t = t[len(q):]
		case '`':
			end := strings.IndexByte(t[1:], '`')
			if end < 0 {
				return nil, false
			}
			term, t = t[1:1+end], t[2+end:]
		default:
			end := strings.IndexFunc(t, unicode.IsSpace)
			if end < 0 {
				end = len(t)
			}
			term, t = t[:end], t[end:]
			if strings.ContainsAny(term, "=~|{}<>!\"`") {
				return nil, false
			}
			bare = true
		}
		if term == "" {
			return nil, false
		}
		if r, _ := utf8.DecodeRuneInString(t); t != "" && !unicode.IsSpace(r) {
			return nil, false // a quote followed by more text: not a search
		}
		terms = append(terms, term)
		isOr = append(isOr, bare && term == "or")
		t = strings.TrimLeftFunc(t, unicode.IsSpace)
	}
	var groups [][]string
	joins := false // the last term was an or joining the next
	for k, term := range terms {
		if isOr[k] && k > 0 && k+1 < len(terms) && !isOr[k-1] && !isOr[k+1] && !joins {
			joins = true
			continue
		}
		if joins {
			groups[len(groups)-1] = append(groups[len(groups)-1], term)
			joins = false
			continue
		}
		groups = append(groups, []string{term})
	}
	return groups, len(groups) > 0
}

// flatTerms is every term of a search's groups, in order.
func flatTerms(groups [][]string) []string {
	var out []string
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// lineFilters is the LogQL of a search: one line filter op ("|=" or
// "!=") per group, its alternatives joined with or (|= "a" or "b": any of
// them; != "a" or "b": none of them).
func lineFilters(op string, groups [][]string) string {
	parts := make([]string, len(groups))
	for k, g := range groups {
		alts := make([]string, len(g))
		for j, t := range g {
			alts[j] = strconv.Quote(t)
		}
		parts[k] = op + " " + strings.Join(alts, " or ")
	}
	return strings.Join(parts, " ")
}

// searchList says what a search looks for: "a", "a" and "b", "a" or "b",
// "a" and ("b" or "c").
func searchList(groups [][]string) string {
	if len(groups) == 1 {
		return quotedList(groups[0], "or")
	}
	parts := make([]string, len(groups))
	for k, g := range groups {
		parts[k] = quotedList(g, "or")
		if len(g) > 1 {
			parts[k] = "(" + parts[k] + ")"
		}
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// quotedList is "a", "a" and "b", or "a", "b" and "c" (conj: "and", "or").
func quotedList(terms []string, conj string) string {
	q := make([]string, len(terms))
	for k, t := range terms {
		q[k] = strconv.Quote(t)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " " + conj + " " + q[len(q)-1]
}

// isSchemaName reports whether name is a field name of the schema (as
// LogQL filters on it).
func isSchemaName(name string) bool {
	_, ok := data.FieldByName(name)
	return ok
}

// checkFields reports a name the query reads (a label filter, a
// line_format or label_format template) that is not a field: a misspelt
// field matches nothing, silently, so when it misspells a schema name
// (data.FieldTypo, under a family too:
// annotations_authorization_k8s_io_decisio) it is an error that names it
// ("did you mean"). Other names under a family (requestObject_…), stream
// labels (isStream) and names the query binds itself are fine. A far-off
// unknown name is allowed (events may carry fields the schema does not
// list: responseStatus_details_kind), and note says so. A name `| json`
// would give an array of the event (user_groups), which no event has, is
// an error naming the JSON expression that reads it (data.ArrayFieldHint).
func checkFields(f *Filter, text string, isStream func(string) bool) (note string, err error) {
	for _, name := range f.unbound {
		if isStream != nil && isStream(name) {
			continue
		}
		col := 0
		if k := strings.Index(text, name); k >= 0 {
			col = len([]rune(text[:k])) + 1
		}
		if hint, ok := data.DerivedFieldHint(name); ok {
			return "", &FilterError{Msg: hint + " (tab completes it)", Col: col}
		}
		sugg, typo := data.FieldTypo(name)
		if !typo && data.KnownField(name) {
			continue
		}
		if hint, ok := data.ArrayFieldHint(name); ok {
			return "", &FilterError{Msg: hint, Col: col}
		}
		if typo {
			return "", &FilterError{Msg: fmt.Sprintf("unknown field %s, did you mean %s?", name, sugg), Col: col}
		}
		note = fmt.Sprintf("%s is not a known field: only events that have it can match", name)
	}
	return note, nil
}

// hasLineFilter reports whether a canonical query has a line filter
// stage (|= != |~ !~ between spaces, outside quoted strings). Label
// filters render their operators without spaces (name!="v"), so the two
// cannot be confused.
func hasLineFilter(canon string) bool {
	inQ := byte(0)
	for i := 0; i < len(canon); i++ {
		c := canon[i]
		if inQ != 0 {
			if c == '\\' && inQ == '"' {
				i++
			} else if c == inQ {
				inQ = 0
			}
			continue
		}
		switch c {
		case '"', '`':
			inQ = c
		case ' ':
			if i+3 < len(canon) && canon[i+3] == ' ' {
				switch canon[i+1 : i+3] {
				case "|=", "!=", "|~", "!~":
					return true
				}
			}
		}
	}
	return false
}

// srcCol is the pseudo-column of the source id (stream labels), ipsCol
// that of the sourceIPs column (Index.ipChains).
var srcCol, ipsCol = int(numCols), int(numCols) + 1

// queryMemo evaluates a LogQL query on index rows without reading them:
// the query runs on an entry backed by the columns that records which
// fields it reads, and the outcome is stored in a decision tree keyed by
// the dictionary ids read, in order. The evaluator is deterministic, so a
// later row with the same ids along the same path has the same outcome and
// costs a few table lookups. Queries that read a field the index does not
// keep are marked "needs the raw event" at that path.
type queryMemo struct {
	q    *logql.LogQuery
	root *memoNode
	rec  colEntry
}

type memoNode struct {
	col    int  // column read at this step; -1 for a leaf
	result int8 // leaf: 1 match, 0 no match, -1 needs the raw event
	kids   []*memoNode
}

// colEntry is a logql.Entry over one index row.
type colEntry struct {
	s       *Snapshot
	i       int
	path    []memoStep
	needRaw bool
}

type memoStep struct {
	col int
	id  uint32
}

func (e *colEntry) EntryTime() int64  { return e.s.Time(e.i) }
func (e *colEntry) EntryLine() []byte { return nil } // line filters go to the raw path
func (e *colEntry) StreamLabel(name string) (string, bool) {
	e.path = append(e.path, memoStep{srcCol, uint32(e.s.src.at(e.i))})
	src := e.s.sources[e.s.src.at(e.i)]
	if src.info == nil {
		return "", false
	}
	return src.info.Labels.Get(name)
}
func (e *colEntry) RangeStreamLabels(fn func(name, value string)) {
	e.path = append(e.path, memoStep{srcCol, uint32(e.s.src.at(e.i))})
	if src := e.s.sources[e.s.src.at(e.i)]; src.info != nil {
		for _, l := range src.info.Labels {
			fn(l.Name, l.Value)
		}
	}
}
func (e *colEntry) JSONField(name string) (string, bool) {
	c, ok := ColForField(name)
	if !ok {
		e.needRaw = true
		return "", false
	}
	return e.col(c)
}

// JSONPath answers `| json x="path"` from the column of the schema field
// at that path (sourceIPs[0] is the source-IP column), and the whole
// sourceIPs array from the source-IP columns (Snapshot.sourceIPsJSON);
// other paths need the raw event.
func (e *colEntry) JSONPath(path string) (string, bool) {
	if path == data.SourceIPsPath {
		v, chain, first := e.s.sourceIPsJSON(e.i)
		e.path = append(e.path, memoStep{ipsCol, chain})
		if chain == 0 {
			e.path = append(e.path, memoStep{int(ColSourceIP), first})
		}
		return v, v != ""
	}
	c, ok := colForPath(path)
	if !ok {
		e.needRaw = true
		return "", false
	}
	return e.col(c)
}

func (e *colEntry) col(c Col) (string, bool) {
	id := e.s.ID(c, e.i)
	e.path = append(e.path, memoStep{int(c), id})
	v := e.s.Value(c, id)
	return v, v != ""
}
func (e *colEntry) RangeJSONFields(func(name, value string)) {
	e.needRaw = true
}

func (m *queryMemo) idAt(s *Snapshot, col, i int) uint32 {
	switch col {
	case srcCol:
		return uint32(s.src.at(i))
	case ipsCol:
		return s.ipChains.at(i)
	}
	return s.ID(Col(col), i)
}

// eval returns 1 (match), 0 (no match) or -1 (needs the raw event).
func (m *queryMemo) eval(s *Snapshot, i int) int8 {
	n := m.root
	for n != nil {
		if n.col < 0 {
			return n.result
		}
		id := m.idAt(s, n.col, i)
		if int(id) >= len(n.kids) {
			n = nil
			break
		}
		n = n.kids[id]
	}
	// Not seen yet: evaluate on the columns and remember the path.
	m.rec = colEntry{s: s, i: i, path: m.rec.path[:0]}
	ok := m.q.Matches(&m.rec)
	res := int8(0)
	switch {
	case m.rec.needRaw:
		res = -1
	case ok:
		res = 1
	}
	m.insert(m.rec.path, res)
	return res
}

func (m *queryMemo) insert(path []memoStep, res int8) {
	p := &m.root
	for _, st := range path {
		if *p == nil {
			*p = &memoNode{col: st.col}
		}
		n := *p
		if n.col != st.col {
			return // evaluation was not deterministic: do not memoise
		}
		if int(st.id) >= len(n.kids) {
			grown := make([]*memoNode, int(st.id)+1+len(n.kids)/2)
			copy(grown, n.kids)
			n.kids = grown
		}
		p = &n.kids[st.id]
	}
	if *p == nil {
		*p = &memoNode{col: -1, result: res}
	}
}

// matchRaw evaluates the query on a decoded event.
func (m *queryMemo) matchRaw(e *data.Event) bool { return m.q.Matches(e) }

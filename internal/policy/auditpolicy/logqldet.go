package auditpolicy

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
	"github.com/audittui/audittui/internal/policy/rules"
)

// DetectionsFromRules turns every alert rule of a Loki ruler rule set into
// a Detection. A rule with a binary operation between vectors gets one
// detection per side (Sides), built from that side's own log query: their
// combined one (the selector they share and `| json`) has no filter, so it
// would select every event of the streams, at the level no side needs.
func DetectionsFromRules(set *rules.Set) []Detection {
	var out []Detection
	for _, r := range set.Rules() {
		q := r.Query()
		if q == nil || q.LogQuery() == nil {
			continue
		}
		var d Detection
		if qs := q.LogQueries(); len(qs) > 1 {
			d = Detection{Name: r.Alert, NeedsLevel: LevelMetadata}
			for i, lq := range qs {
				side := DetectionFromLogQL(fmt.Sprintf("%s (side %d of %d)", r.Alert, i+1, len(qs)), lq)
				if LevelRank(side.NeedsLevel) > LevelRank(d.NeedsLevel) {
					d.NeedsLevel = side.NeedsLevel
				}
				d.Sides = append(d.Sides, side)
			}
		} else {
			d = DetectionFromLogQL(r.Alert, q.LogQuery())
		}
		if lvl := r.AuditLevel(); lvl != "" {
			// The built-in pack says what each rule needs (rules/levels.go).
			d.NeedsLevel = lvl
			for i := range d.Sides {
				d.Sides[i].NeedsLevel = lvl
			}
		}
		out = append(out, d)
	}
	return out
}

// DetectionFromLogQL builds a Detection from a log query: its label and
// line filters give the resources, verbs and level it needs; Match runs
// the query itself, so check counts exactly the events the rule selects.
//
// The logql package does not export its pipeline stages, so the filters
// are read back from the query's canonical rendering (String), whose
// grammar is fixed: stages separated by " | ", label filters written
// name<op>"quoted" or name<op>number, line filters |= != |~ !~ "quoted".
func DetectionFromLogQL(name string, q *logql.LogQuery) Detection {
	filters, lines := pipelineFilters(q.String())
	d := DetectionFromFilters(name, filters, lines)
	d.Match = func(e *data.Event) bool { return q.Matches(e) }
	d.model = modelOf(q.String())
	return d
}

var (
	quotedRe      = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	placeholderRe = regexp.MustCompile("\x00([0-9]+)\x00")
	labelFilterRe = regexp.MustCompile("([A-Za-z_][A-Za-z0-9_]*)(=~|!~|!=|==|>=|<=|=|>|<)(\x00[0-9]+\x00|[^\\s()]+)")
	jsonExprRe    = regexp.MustCompile("([A-Za-z_][A-Za-z0-9_]*)=(\x00[0-9]+\x00)")
)

// pipelineFilters extracts the label filters (from stages without "or")
// and the values of positive line filters from a canonical LogQL string.
func pipelineFilters(s string) (filters []LabelFilter, lineValues []string) {
	// Mask quoted strings so that "|" or spaces inside values cannot split
	// stages.
	masked, unmask := maskQuoted(s)
	alias := map[string]string{} // `| json name="path"`: name -> flattened path
	for _, st := range splitStages(masked) {
		switch {
		case strings.HasPrefix(st, "|=") || strings.HasPrefix(st, "|~"):
			for _, m := range placeholderRe.FindAllString(st, -1) {
				lineValues = append(lineValues, unmask(m))
			}
		case strings.HasPrefix(st, "!=") || strings.HasPrefix(st, "!~"):
			// A negative line filter keeps lines that lack the text: it
			// needs no body to be present.
		case st == "| json" || strings.HasPrefix(st, "| json "):
			for _, m := range jsonExprRe.FindAllStringSubmatch(st, -1) {
				alias[m[1]] = strings.NewReplacer(".", "_", "[", "_", "]", "").Replace(unmask(m[2]))
			}
		case strings.HasPrefix(st, "| drop ") || strings.HasPrefix(st, "| keep "):
		case strings.HasPrefix(st, "|"):
			body := st[1:]
			or := strings.Contains(body, " or ")
			for _, m := range labelFilterRe.FindAllStringSubmatch(body, -1) {
				f := LabelFilter{Name: m[1], Op: m[2], Value: unmask(m[3])}
				if p, ok := alias[f.Name]; ok {
					f.Name = p
				}
				if or {
					// Part of a disjunction: keep the name (for the level it
					// needs) but no value constraint.
					f.Op = "or"
				}
				filters = append(filters, f)
			}
		}
	}
	return filters, lineValues
}

// maskQuoted replaces the quoted strings of a canonical query by
// placeholders (so that "|" or spaces inside values cannot split stages),
// drops the stream selector, and returns the pipeline with a function that
// puts the (unquoted) values back.
func maskQuoted(s string) (string, func(string) string) {
	var quoted []string
	masked := quotedRe.ReplaceAllStringFunc(s, func(q string) string {
		v, err := strconv.Unquote(q)
		if err != nil {
			v = q
		}
		quoted = append(quoted, v)
		return "\x00" + strconv.Itoa(len(quoted)-1) + "\x00"
	})
	unmask := func(t string) string {
		return placeholderRe.ReplaceAllStringFunc(t, func(m string) string {
			i, _ := strconv.Atoi(strings.Trim(m, "\x00"))
			if i < len(quoted) {
				return quoted[i]
			}
			return m
		})
	}
	if i := strings.IndexByte(masked, '}'); i >= 0 {
		masked = masked[i+1:]
	}
	return masked, unmask
}

// splitStages splits a masked pipeline at stage boundaries: " | ", " |= ",
// " |~ ", " != ", " !~ " (outside quotes, which are masked).
func splitStages(s string) []string {
	var out []string
	start := -1
	for i := 0; i < len(s); i++ {
		if s[i] != ' ' || i+2 >= len(s) {
			continue
		}
		c, d := s[i+1], s[i+2]
		if (c == '|' && (d == ' ' || d == '=' || d == '~')) || (c == '!' && (d == '=' || d == '~') && i+3 < len(s) && s[i+3] == ' ') {
			if start >= 0 {
				out = append(out, strings.TrimSpace(s[start:i]))
			}
			start = i + 1
		}
	}
	if start >= 0 {
		out = append(out, strings.TrimSpace(s[start:]))
	}
	return out
}

// --- what a request alone tells about a query ------------------------------

// tri is a three-valued truth: whether a filter passes every event of a
// request, none, or depends on what the request does not determine (the
// response code, the user agent, the bodies).
type tri int8

const (
	triFalse tri = iota
	triUnknown
	triTrue
)

func and3(a, b tri) tri { return min(a, b) }
func or3(a, b tri) tri  { return max(a, b) }

// requestView is what lint knows of the event a request would be logged
// as: the `| json` labels the request fixes (Loki's flattened names, ""
// for a field the event does not have, such as objectRef_* of a
// non-resource request), and text every such event's line contains
// (`"verb":"get"`). A label not in labels can have any value.
type requestView struct {
	labels map[string]string
	frags  []string
}

// queryModel is the part of a log query's pipeline lint can evaluate on a
// request before any event exists: its label filters (with and/or) on
// the labels a request fixes and its negative line filters on text a
// request puts in the line. Everything else (numeric filters, positive
// line filters, labels the request leaves open, whatever follows a stage
// that rewrites labels or the line) is unknown, so the model never rules
// out a request the query could select: TestQueryModelAdmitsWhatQueryMatches
// checks this against the query itself on every fixture and real event.
type queryModel struct {
	checks []modelCheck
	// Literal values the query compares objectRef_resource,
	// objectRef_subresource and objectRef_apiGroup with anywhere (also
	// inside `or`): the resources worth probing.
	resources, subresources, groups []string
}

type modelCheck interface {
	eval(v *requestView) tri
}

// admits reports whether some event of a request seen as v could pass the
// query (no check is certainly false).
func (m *queryModel) admits(v *requestView) bool {
	for _, c := range m.checks {
		if c.eval(v) == triFalse {
			return false
		}
	}
	return true
}

// lfNode is a label filter expression: and/or of atoms.
type lfNode struct {
	and, or bool // a binary node (l, r)
	l, r    *lfNode
	atom    *lfAtom
}

// lfAtom is one `name op value` filter. key is the event field it reads
// (Loki's flattened name), "" when the label does not come from the event
// as `| json` extracts it (then the atom is unknown). re is set for =~ and
// !~; numeric and ip() filters are unknown.
type lfAtom struct {
	key, op, value string
	re             *regexp.Regexp
	str            bool
}

func (n *lfNode) eval(v *requestView) tri {
	switch {
	case n.and:
		return and3(n.l.eval(v), n.r.eval(v))
	case n.or:
		return or3(n.l.eval(v), n.r.eval(v))
	}
	return n.atom.eval(v)
}

func (a *lfAtom) eval(v *requestView) tri {
	if !a.str || a.key == "" {
		return triUnknown
	}
	val, ok := v.labels[a.key]
	if !ok {
		return triUnknown
	}
	var m bool
	switch a.op {
	case "=", "==":
		m = val == a.value
	case "!=":
		m = val != a.value
	case "=~", "!~":
		if a.re == nil {
			return triUnknown
		}
		m = a.re.MatchString(val)
		if a.op == "!~" {
			m = !m
		}
	default:
		return triUnknown
	}
	if m {
		return triTrue
	}
	return triFalse
}

// notInLine is a negative line filter (`!= "a" or "b"`, `!~ "re"`): false
// when one of its values is certainly in the line. A regexp counts only
// when it has no anchors or word boundaries, so that a match inside a
// piece of the line is a match in the line.
type notInLine struct {
	lits []string
	res  []*regexp.Regexp
}

func (f *notInLine) eval(v *requestView) tri {
	for _, fr := range v.frags {
		for _, l := range f.lits {
			if strings.Contains(fr, l) {
				return triFalse
			}
		}
		for _, re := range f.res {
			if re.MatchString(fr) {
				return triFalse
			}
		}
	}
	return triUnknown
}

// modelOf reads a query's model from its canonical rendering (see
// pipelineFilters for its grammar).
func modelOf(s string) *queryModel {
	m := &queryModel{}
	masked, unmask := maskQuoted(s)
	jsonAll := false
	alias := map[string]string{} // `| json name="path"`: name -> flattened path
	unknown := map[string]bool{} // labels dropped: any value
	resolve := func(name string) string {
		if unknown[name] {
			return ""
		}
		if p, ok := alias[name]; ok {
			return p
		}
		if jsonAll {
			return name
		}
		return "" // a stream label, or one no stage has set yet
	}
	for _, st := range splitStages(masked) {
		switch {
		case strings.HasPrefix(st, "|=") || strings.HasPrefix(st, "|~"):
			// The line may contain anything a request does not fix.
		case strings.HasPrefix(st, "!=") || strings.HasPrefix(st, "!~"):
			f := &notInLine{}
			for _, ph := range placeholderRe.FindAllString(st, -1) {
				v := unmask(ph)
				if st[1] == '=' {
					f.lits = append(f.lits, v)
				} else if re, ok := unanchoredRegexp(v); ok {
					f.res = append(f.res, re)
				}
			}
			if len(f.lits)+len(f.res) > 0 {
				m.checks = append(m.checks, f)
			}
		case st == "| json" || strings.HasPrefix(st, "| json "):
			if st == "| json" {
				jsonAll = true
			}
			for _, mm := range jsonExprRe.FindAllStringSubmatch(st, -1) {
				alias[mm[1]] = strings.NewReplacer(".", "_", "[", "_", "]", "").Replace(unmask(mm[2]))
				delete(unknown, mm[1])
			}
		case strings.HasPrefix(st, "| drop "):
			for _, n := range strings.Split(strings.TrimPrefix(st, "| drop "), ",") {
				n = strings.TrimSpace(n)
				if i := strings.IndexAny(n, "=\x00"); i >= 0 {
					n = n[:i] // drop name="value": dropped only with that value
				}
				unknown[n] = true
			}
		case strings.HasPrefix(st, "| keep ") || strings.HasPrefix(st, "| label_format ") || strings.HasPrefix(st, "| line_format "):
			// Labels or the line change: later filters see values the
			// request does not fix.
			return m
		case strings.HasPrefix(st, "|"):
			n, ok := parseLabelExpr(st[1:], unmask, resolve)
			if !ok {
				continue
			}
			m.checks = append(m.checks, n)
			m.collectLiterals(n)
		}
	}
	return m
}

// collectLiterals records the values n compares objectRef_resource,
// objectRef_subresource and objectRef_apiGroup with (= or literal =~).
func (m *queryModel) collectLiterals(n *lfNode) {
	if n.atom == nil {
		m.collectLiterals(n.l)
		m.collectLiterals(n.r)
		return
	}
	a := n.atom
	if !a.str || a.op != "=" && a.op != "==" && a.op != "=~" {
		return
	}
	vals, ok := literalValues(LabelFilter{Op: a.op, Value: a.value})
	if !ok {
		return
	}
	switch a.key {
	case "objectRef_resource":
		m.resources = dedupe(append(m.resources, vals...))
	case "objectRef_subresource":
		m.subresources = dedupe(append(m.subresources, vals...))
	case "objectRef_apiGroup":
		m.groups = dedupe(append(m.groups, vals...))
	}
}

// unanchoredRegexp compiles a line filter's regexp when a match of it
// inside a piece of a line is a match in the whole line: it has no
// anchors or word boundaries.
func unanchoredRegexp(expr string) (*regexp.Regexp, bool) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil, false
	}
	var assertion func(r *syntax.Regexp) bool
	assertion = func(r *syntax.Regexp) bool {
		switch r.Op {
		case syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
			syntax.OpWordBoundary, syntax.OpNoWordBoundary:
			return true
		}
		for _, s := range r.Sub {
			if assertion(s) {
				return true
			}
		}
		return false
	}
	if assertion(re) {
		return nil, false
	}
	c, err := regexp.Compile(expr)
	return c, err == nil
}

// lfToken is a token of a masked label filter expression.
var lfTokenRe = regexp.MustCompile("^(?:\\(|\\)|,|\x00[0-9]+\x00|[A-Za-z_][A-Za-z0-9_]*|=~|!~|!=|==|>=|<=|=|>|<|[^\\s(),=!<>]+)")

// parseLabelExpr parses a label filter stage (masked, without its "|")
// with LogQL's grammar: or binds looser than and; and is "and", "," or
// juxtaposition.
func parseLabelExpr(body string, unmask func(string) string, resolve func(string) string) (*lfNode, bool) {
	var toks []string
	for s := strings.TrimSpace(body); s != ""; s = strings.TrimSpace(s) {
		t := lfTokenRe.FindString(s)
		if t == "" {
			return nil, false
		}
		toks = append(toks, t)
		s = s[len(t):]
	}
	p := &lfParser{toks: toks, unmask: unmask, resolve: resolve}
	n, ok := p.or()
	if !ok || p.i != len(toks) {
		return nil, false
	}
	return n, true
}

type lfParser struct {
	toks    []string
	i       int
	unmask  func(string) string
	resolve func(string) string
}

func (p *lfParser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return ""
}

func isIdent(t string) bool {
	return t != "" && (t[0] == '_' || t[0] >= 'A' && t[0] <= 'Z' || t[0] >= 'a' && t[0] <= 'z')
}

func (p *lfParser) or() (*lfNode, bool) {
	l, ok := p.and()
	for ok && p.peek() == "or" {
		p.i++
		var r *lfNode
		if r, ok = p.and(); ok {
			l = &lfNode{or: true, l: l, r: r}
		}
	}
	return l, ok
}

func (p *lfParser) and() (*lfNode, bool) {
	l, ok := p.primary()
	for ok {
		switch t := p.peek(); {
		case t == "and" || t == ",":
			p.i++
		case t == "(" || isIdent(t) && t != "or":
		default:
			return l, true
		}
		var r *lfNode
		if r, ok = p.primary(); ok {
			l = &lfNode{and: true, l: l, r: r}
		}
	}
	return l, ok
}

func (p *lfParser) primary() (*lfNode, bool) {
	t := p.peek()
	if t == "(" {
		p.i++
		n, ok := p.or()
		if !ok || p.peek() != ")" {
			return nil, false
		}
		p.i++
		return n, true
	}
	if !isIdent(t) || p.i+2 >= len(p.toks) {
		return nil, false
	}
	name, op := t, p.toks[p.i+1]
	switch op {
	case "=", "==", "!=", "=~", "!~", ">", ">=", "<", "<=":
	default:
		return nil, false
	}
	p.i += 2
	a := &lfAtom{key: p.resolve(name), op: op}
	v := p.peek()
	switch {
	case v == "ip":
		// name=ip("10.0.0.0/8"): unknown.
		if p.i+3 >= len(p.toks) || p.toks[p.i+1] != "(" || p.toks[p.i+3] != ")" {
			return nil, false
		}
		p.i += 4
		return &lfNode{atom: a}, true
	case strings.HasPrefix(v, "\x00"):
		p.i++
		a.str, a.value = true, p.unmask(v)
		if op == "=~" || op == "!~" {
			if re, err := regexp.Compile("^(?s:" + a.value + ")$"); err == nil {
				a.re = re
			}
		}
		return &lfNode{atom: a}, true
	case v != "" && v != "(" && v != ")" && v != ",":
		p.i++ // a number, duration or byte size: unknown
		return &lfNode{atom: a}, true
	}
	return nil, false
}

package logql

import (
	"regexp/syntax"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Gate is a condition on one label that every entry passing a query's
// pipeline meets: a label filter of the pipeline that can be evaluated
// first, on the label's value as the pipeline's filters see it there
// (Value), with the same answer. An evaluator holding many queries
// indexes them by their gates and runs, for each entry, only the queries
// whose gates it meets (rules.Evaluator), instead of every pipeline on
// every line.
type Gate struct {
	// Name is the label; Path, when not empty, the JSON expression of the
	// `| json Name="Path"` stage that sets it (else `| json` does).
	Name, Path string
	str        *Matcher
	num        *numericFilter
	// any, when not nil, makes the gate a disjunction of string gates
	// (Name and Path are then empty): a top-level `(a="x" or b=~"y")`.
	any []Gate
	// filter is a string gate's conjunct and stage the index of its
	// label filter stage (WithoutGates removes it there).
	filter *stringFilter
	stage  int
}

// Alternatives returns the gates an entry must pass one of: the
// disjuncts of an `or` gate, else g itself. Each is a gate on one label.
func (g Gate) Alternatives() []Gate {
	if g.any != nil {
		return g.any
	}
	return []Gate{g}
}

// Admits reports whether e passes the gate, looking its labels up as
// Value does (true where the gate does not apply to e).
func (g Gate) Admits(e Entry) bool {
	for _, a := range g.Alternatives() {
		v, found, applies := a.Value(e)
		if !applies || a.Accepts(v, found) {
			return true
		}
	}
	return false
}

// Accepts reports whether a label value meets the gate; found is false
// when the entry has no such label (a string filter sees "", a numeric
// one drops the line). A value a numeric filter cannot parse is accepted:
// the pipeline sets __error__ there and keeps the line.
func (g Gate) Accepts(v string, found bool) bool {
	if g.any != nil {
		panic("logql: Accepts on an or gate (use Alternatives)")
	}
	if g.str != nil {
		return g.str.Matches(v)
	}
	if !found {
		return false
	}
	x, err := g.num.parse(v)
	if err != nil {
		return true
	}
	return g.num.op.apply(x, g.num.value)
}

func (g Gate) String() string {
	if g.any != nil {
		parts := make([]string, len(g.any))
		for i, a := range g.any {
			parts[i] = a.String()
		}
		return "(" + strings.Join(parts, " or ") + ")"
	}
	s := g.num.String
	if g.str != nil {
		s = g.str.String
	}
	if g.Path != "" {
		return s() + " (" + g.Path + ")"
	}
	return s()
}

// Gates returns the query's gates: the string filters, and the first
// numeric filter, ANDed at the top level of the label filter stages after
// a json stage, on labels a json stage sets, up to any stage that could
// change what a later filter sees: a numeric filter can set __error__
// (after which string filters keep every line); drop, keep, label_format
// and line_format change labels or the line. Line filters change nothing
// a label filter sees, so a gate evaluated first gives the answer the
// pipeline gives when it reaches that filter. A label set by `| json
// a="x"` is a gate on its expression until a later plain `| json` (which
// could find a field of that name first). An `or` of string filters on
// such labels is one gate with an alternative for each (Alternatives): a
// line passing the `or` passes one of them. A gate holds only for entries
// whose line `| json` parses: Value reports when it does not apply.
func (q *LogQuery) Gates() []Gate {
	var out []Gate
	jsonAll := false
	shadowed := map[string]bool{ErrorLabel: true, ErrorDetailsLabel: true}
	paths := map[string]string{} // labels of json expressions: their path
	gate := func(name string) (Gate, bool) {
		if shadowed[name] {
			return Gate{}, false
		}
		if p, ok := paths[name]; ok {
			return Gate{Name: name, Path: p}, true
		}
		return Gate{Name: name}, jsonAll
	}
	for si, s := range q.stages {
		switch s := s.(type) {
		case *lineFilter:
		case *jsonStage:
			if len(s.exprs) == 0 {
				jsonAll = true
				// A field of the same name would now be found first.
				for n := range paths {
					shadowed[n] = true
				}
				clear(paths)
			}
			for i, n := range s.names {
				if shadowed[n] {
					continue
				}
				paths[n] = s.exprs[i].path
				shadowed[n+extractedSuffix] = true
			}
		case *labelFilterStage:
			for _, c := range conjuncts(s.f, nil) {
				switch f := c.(type) {
				case *stringFilter:
					if g, ok := gate(f.m.Name); ok {
						g.str, g.filter, g.stage = f.m, f, si
						out = append(out, g)
					}
				case *numericFilter:
					if g, ok := gate(f.name); ok {
						g.num = f
						out = append(out, g)
					}
					return out
				default:
					if hasNumeric(c) {
						return out
					}
					if g, ok := orGate(c, gate); ok {
						out = append(out, g)
					}
				}
			}
		default:
			return out
		}
	}
	return out
}

// orGate returns the gate of an `or` of string filters, each on a label
// gate says has one (false for anything else).
func orGate(f labelFilter, gate func(string) (Gate, bool)) (Gate, bool) {
	var alts []Gate
	var walk func(f labelFilter) bool
	walk = func(f labelFilter) bool {
		switch f := f.(type) {
		case *binaryFilter:
			return !f.and && walk(f.l) && walk(f.r)
		case *stringFilter:
			g, ok := gate(f.m.Name)
			if !ok {
				return false
			}
			g.str = f.m
			alts = append(alts, g)
			return true
		}
		return false
	}
	if b, ok := f.(*binaryFilter); !ok || b.and || !walk(f) {
		return Gate{}, false
	}
	return Gate{any: alts}, true
}

// Value returns the value the gate tests for e: what its label filter
// looks up where it stands in the pipeline (found: the label exists).
// applies is false when e's line is not JSON `| json` can parse (its
// filters then keep every line, so no gate applies), or when a stream
// label has the name of a json expression's label (which is then renamed).
func (g Gate) Value(e Entry) (v string, found, applies bool) {
	if g.any != nil {
		panic("logql: Value on an or gate (use Alternatives)")
	}
	if je, isJE := e.(jsonErrorer); isJE && je.JSONError() != nil {
		return "", false, false
	}
	if g.Path != "" {
		if _, ok := e.StreamLabel(g.Name); ok {
			return "", false, false
		}
		v, _ = e.JSONPath(g.Path) // a missing path gives "", as in run
		return v, true, true
	}
	if v, found := jsonLookup(e, g.Name); found {
		return v, true, true
	}
	v, found = e.StreamLabel(g.Name)
	return v, found, true
}

// maxLiteralAlternatives bounds the expansion of a regular expression
// into the literal strings it matches (simpleForms).
const maxLiteralAlternatives = 64

// simpleForms says what a fully anchored match of expr amounts to when
// it is simple: lits, the strings it accepts when they are few and literal
// ("get|list", "(?:a|b)c", "pods?"), or aff, literals with `.*` on one
// side or both ("system:serviceaccount:.*"); neither otherwise
// (wildcards elsewhere, classes of many characters, case folding,
// anchors, more than maxLiteralAlternatives strings).
func simpleForms(expr string) (lits []string, aff *affix) {
	re, err := syntax.Parse(expr, syntax.Perl|syntax.DotNL)
	if err != nil {
		return nil, nil
	}
	re = re.Simplify()
	if lits, ok := literals(re); ok {
		slices.Sort(lits)
		return slices.Compact(lits), nil
	}
	return nil, affixOf(re)
}

// moreForms is formSetOf(expr) for a matcher that simpleForms answers
// neither with literals nor with an affix.
func moreForms(expr string) *formSet {
	re, err := syntax.Parse(expr, syntax.Perl|syntax.DotNL)
	if err != nil {
		return nil
	}
	return formSetOf(re.Simplify())
}

// literals returns the strings re accepts (see expand), unless one holds
// U+FFFD: the expression matches any invalid byte there, a string
// comparison would not.
func literals(re *syntax.Regexp) ([]string, bool) {
	out, ok := expand(re)
	if !ok {
		return nil, false
	}
	for _, l := range out {
		if strings.ContainsRune(l, utf8.RuneError) {
			return nil, false
		}
	}
	return out, true
}

func expand(re *syntax.Regexp) ([]string, bool) {
	switch re.Op {
	case syntax.OpEmptyMatch:
		return []string{""}, true
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return nil, false
		}
		return []string{string(re.Rune)}, true
	case syntax.OpCharClass:
		n := 0
		for i := 0; i+1 < len(re.Rune); i += 2 {
			n += int(re.Rune[i+1]-re.Rune[i]) + 1
			if n > maxLiteralAlternatives {
				return nil, false
			}
		}
		var out []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				out = append(out, string(r))
			}
		}
		return out, true
	case syntax.OpCapture:
		return expand(re.Sub[0])
	case syntax.OpQuest:
		sub, ok := expand(re.Sub[0])
		if !ok || len(sub)+1 > maxLiteralAlternatives {
			return nil, false
		}
		return append([]string{""}, sub...), true
	case syntax.OpAlternate:
		var out []string
		for _, s := range re.Sub {
			sub, ok := expand(s)
			if !ok || len(out)+len(sub) > maxLiteralAlternatives {
				return nil, false
			}
			out = append(out, sub...)
		}
		return out, true
	case syntax.OpConcat:
		out := []string{""}
		for _, s := range re.Sub {
			sub, ok := expand(s)
			if !ok || len(out)*len(sub) > maxLiteralAlternatives {
				return nil, false
			}
			next := make([]string, 0, len(out)*len(sub))
			for _, a := range out {
				for _, b := range sub {
					next = append(next, a+b)
				}
			}
			out = next
		}
		return out, true
	}
	return nil, false
}

// affix is a regular expression that is a few literals with `.*` before
// or after them (or both): "system:serviceaccount:.*" is a prefix test,
// ".*(hostPath|hostPort).*" two substring tests.
type affix struct {
	lits           []string
	prefix, suffix bool // .* after the literal / before it
}

func (a *affix) match(v string) bool {
	for _, s := range a.lits {
		var ok bool
		switch {
		case a.prefix && a.suffix:
			ok = strings.Contains(v, s)
		case a.prefix:
			ok = strings.HasPrefix(v, s)
		default:
			ok = strings.HasSuffix(v, s)
		}
		if ok {
			return true
		}
	}
	return false
}

// affixOf recognises literals with `.*` on one side or both in re (parsed
// and simplified).
func affixOf(re *syntax.Regexp) *affix {
	if re.Op != syntax.OpConcat {
		return nil
	}
	sub := re.Sub
	anyStar := func(r *syntax.Regexp) bool {
		return r.Op == syntax.OpStar && r.Sub[0].Op == syntax.OpAnyChar
	}
	a := &affix{}
	if len(sub) > 0 && anyStar(sub[0]) {
		a.suffix, sub = true, sub[1:]
	}
	if len(sub) > 0 && anyStar(sub[len(sub)-1]) {
		a.prefix, sub = true, sub[:len(sub)-1]
	}
	if len(sub) == 0 || !(a.prefix || a.suffix) {
		return nil
	}
	lits, ok := literals(&syntax.Regexp{Op: syntax.OpConcat, Sub: sub})
	if !ok {
		return nil
	}
	a.lits = lits
	return a
}

// formSet is a regular expression that is a few literals, each with or
// without `.*` before it and after it, where affix (one kind for all)
// does not do: "system:(node:.*|kube-scheduler|apiserver)" is a prefix
// test and two comparisons, "/(healthz|livez)([/?].*)?" two comparisons
// and four prefix tests, "(?:[Ww]get/|curl/).*" three prefix tests.
type formSet struct {
	exact []string // sorted
	rest  []form
}

// form is lit with `.*` before it (before) and after it (after);
// "anything" is "" with both.
type form struct {
	lit           string
	before, after bool
}

// maxForms bounds the forms an expression expands into.
const maxForms = 64

func (fs *formSet) match(v string) bool {
	if _, ok := slices.BinarySearch(fs.exact, v); ok {
		return true
	}
	for _, f := range fs.rest {
		var ok bool
		switch {
		case f.before && f.after:
			ok = strings.Contains(v, f.lit)
		case f.after:
			ok = strings.HasPrefix(v, f.lit)
		default:
			ok = strings.HasSuffix(v, f.lit)
		}
		if ok {
			return true
		}
	}
	return false
}

// formSetOf returns the formSet a fully anchored match of re (parsed
// with DotNL and simplified) amounts to, nil when it is not one: a
// wildcard between two literals, a repetition other than `.*`, a class
// or an expansion of more than maxForms strings, a literal holding
// U+FFFD (the expression matches any invalid byte there).
func formSetOf(re *syntax.Regexp) *formSet {
	fs, ok := formsOf(re)
	if !ok {
		return nil
	}
	out := &formSet{}
	seen := map[form]bool{}
	for _, f := range fs {
		if strings.ContainsRune(f.lit, utf8.RuneError) {
			return nil
		}
		if seen[f] {
			continue
		}
		seen[f] = true
		if !f.before && !f.after {
			out.exact = append(out.exact, f.lit)
		} else {
			out.rest = append(out.rest, f)
		}
	}
	slices.Sort(out.exact)
	return out
}

func formsOf(re *syntax.Regexp) ([]form, bool) {
	switch re.Op {
	case syntax.OpEmptyMatch:
		return []form{{}}, true
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase == 0 {
			return []form{{lit: string(re.Rune)}}, true
		}
		// A case-folded rune matches its whole orbit (k: K, k and the
		// Kelvin sign), as the regexp compares it: each combination is
		// a string.
		orbits := make([][]rune, len(re.Rune))
		n := 1
		for i, r := range re.Rune {
			orbits[i] = []rune{r}
			for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
				orbits[i] = append(orbits[i], f)
			}
			if n *= len(orbits[i]); n > maxForms {
				return nil, false
			}
		}
		fs := make([]form, n)
		buf := make([]rune, len(re.Rune))
		for k := range fs {
			x := k
			for i, o := range orbits {
				buf[i] = o[x%len(o)]
				x /= len(o)
			}
			fs[k] = form{lit: string(buf)}
		}
		return fs, true
	case syntax.OpCharClass:
		var fs []form
		for i := 0; i+1 < len(re.Rune); i += 2 {
			if int(re.Rune[i+1]-re.Rune[i])+1+len(fs) > maxForms {
				return nil, false
			}
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				fs = append(fs, form{lit: string(r)})
			}
		}
		return fs, len(fs) > 0
	case syntax.OpCapture:
		return formsOf(re.Sub[0])
	case syntax.OpStar:
		if re.Sub[0].Op == syntax.OpAnyChar {
			return []form{{before: true, after: true}}, true
		}
		return nil, false
	case syntax.OpQuest:
		fs, ok := formsOf(re.Sub[0])
		if !ok || len(fs)+1 > maxForms {
			return nil, false
		}
		return append([]form{{}}, fs...), true
	case syntax.OpAlternate:
		var out []form
		for _, sub := range re.Sub {
			fs, ok := formsOf(sub)
			if !ok || len(out)+len(fs) > maxForms {
				return nil, false
			}
			out = append(out, fs...)
		}
		return out, true
	case syntax.OpConcat:
		out := []form{{}}
		for _, sub := range re.Sub {
			fs, ok := formsOf(sub)
			if !ok || len(out)*len(fs) > maxForms {
				return nil, false
			}
			next := make([]form, 0, len(out)*len(fs))
			for _, a := range out {
				for _, b := range fs {
					c, ok := concatForm(a, b)
					if !ok {
						return nil, false
					}
					next = append(next, c)
				}
			}
			out = next
		}
		return out, true
	}
	return nil, false
}

// concatForm is a followed by b, when that is one form.
func concatForm(a, b form) (form, bool) {
	aEmpty, bEmpty := a == form{}, b == form{}
	aAny := a.lit == "" && (a.before || a.after)
	bAny := b.lit == "" && (b.before || b.after)
	switch {
	case aEmpty:
		return b, true
	case bEmpty:
		return a, true
	case aAny:
		return form{lit: b.lit, before: true, after: b.after || b.lit == ""}, true
	case bAny:
		return form{lit: a.lit, before: a.before || a.lit == "", after: true}, true
	case a.after || b.before:
		return form{}, false // a wildcard between two literals
	}
	return form{lit: a.lit + b.lit, before: a.before, after: b.after}, true
}

// GatedQuery is a metric query whose pipeline runs without the string
// filters of some of its gates: for entries known to meet them (an
// evaluator that indexes its queries by their gates, rules' dispatch,
// has tested them on the entry's values already), Contribute gives what
// the query's Contribute gives, without looking those labels up and
// matching them again.
type GatedQuery struct {
	q      *MetricQuery
	stages []stage
}

// WithoutGates returns q run without the label filters of met, gates of
// q's log query (Gates) that an entry is known to meet; numeric and `or`
// gates are kept (a numeric filter sets __error__ on a value that is not
// a number). nil when q has legs (binary operations between vectors) or
// no filter would be removed.
func (q *MetricQuery) WithoutGates(met []Gate) *GatedQuery {
	if q.leaf == nil {
		return nil
	}
	drop := map[*stringFilter]int{}
	for _, g := range met {
		if g.any == nil && g.filter != nil {
			drop[g.filter] = g.stage
		}
	}
	if len(drop) == 0 {
		return nil
	}
	var out []stage
	removed := false
	for i, s := range q.leaf.log.stages {
		lf, ok := s.(*labelFilterStage)
		if !ok {
			out = append(out, s)
			continue
		}
		var keep []labelFilter
		for _, c := range conjuncts(lf.f, nil) {
			if sf, ok := c.(*stringFilter); ok {
				if at, ok := drop[sf]; ok && at == i {
					removed = true
					continue
				}
			}
			keep = append(keep, c)
		}
		if len(keep) == 0 {
			continue
		}
		// `and` evaluates both sides, left first: the conjuncts left
		// keep their order, and so what they see (__error__).
		f := keep[0]
		for _, c := range keep[1:] {
			f = &binaryFilter{and: true, l: f, r: c}
		}
		out = append(out, &labelFilterStage{f: f})
	}
	if !removed {
		return nil
	}
	return &GatedQuery{q: q, stages: out}
}

// Contribute is q's Contribute (see WithoutGates) for an entry that meets
// the gates removed, of a stream q's selector selects (MatchesStream: the
// selector is not tested again).
func (g *GatedQuery) Contribute(e Entry, c *Contribution) bool {
	lq := g.q.leaf.log
	c.st = evalState{e: e}
	if !lq.runStages(&c.st, g.stages) {
		return false
	}
	c.Labels = g.q.outputLabels(&c.st)
	return true
}

// String renders the pipeline run (the log query without the gates'
// filters).
func (g *GatedQuery) String() string {
	lq := *g.q.leaf.log
	lq.stages = g.stages
	return lq.String()
}

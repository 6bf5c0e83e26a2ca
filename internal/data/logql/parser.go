package logql

import (
	"errors"
	"math"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
)

// maxDepth bounds nesting (parentheses, aggregations) so hostile input
// cannot exhaust the stack.
const maxDepth = 200

// Parse parses a LogQL query: a log query ({job="audit"} | json | ...) or a
// metric query (sum by (x) (rate({...} [5m])) > 0). Errors are *ParseError.
func Parse(src string) (Expr, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{src: src, toks: toks}
	e, err := p.parseTop()
	if err != nil {
		var pe *ParseError
		if errors.As(err, &pe) {
			return nil, pe
		}
		return nil, p.errAt(p.peek(), "%v", err)
	}
	return e, nil
}

// ParseLog parses a log query; a metric query is an error.
func ParseLog(src string) (*LogQuery, error) {
	return parseAs[*LogQuery](src, "expected a log query ({...} | ...), got a metric query")
}

// ParseMetric parses a metric query; a log query is an error.
func ParseMetric(src string) (*MetricQuery, error) {
	return parseAs[*MetricQuery](src, "expected a metric query (count_over_time, rate, sum, ...), got a log query")
}

// parseAs parses src, which must be a T (else the error says wrong).
func parseAs[T Expr](src, wrong string) (T, error) {
	var none T
	e, err := Parse(src)
	if err != nil {
		return none, err
	}
	q, ok := e.(T)
	if !ok {
		return none, &ParseError{Line: 1, Col: 1, Msg: wrong}
	}
	return q, nil
}

type parser struct {
	src   string
	toks  []token
	i     int
	depth int
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) peekAt(n int) token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) next() token {
	t := p.toks[p.i]
	if p.i < len(p.toks)-1 {
		p.i++
	}
	return t
}

func (p *parser) errAt(t token, format string, args ...any) *ParseError {
	return newParseError(p.src, t.pos, format, args...)
}

func (p *parser) expect(k tokKind, context string) (token, error) {
	t := p.peek()
	if t.kind != k {
		return t, p.errAt(t, "expected %q %s, found %s", k.String(), context, t.describe())
	}
	return p.next(), nil
}

func (p *parser) enter(t token) error {
	p.depth++
	if p.depth > maxDepth {
		return p.errAt(t, "query nested too deeply (more than %d levels)", maxDepth)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

func (p *parser) parseTop() (Expr, error) {
	if p.peek().kind == tEOF {
		return nil, p.errAt(p.peek(), "empty query")
	}
	if p.peek().kind == tLBrace {
		open := p.peek()
		q, err := p.parseLogQuery()
		if err != nil {
			return nil, err
		}
		if err := p.checkLayers(q, open); err != nil {
			return nil, err
		}
		if q.unwrap != nil {
			return nil, p.errAt(open, "unwrap needs a range aggregation around it, e.g. sum_over_time({...} | json | unwrap x [5m])")
		}
		if t := p.peek(); t.kind != tEOF {
			if t.kind == tLBrack {
				return nil, p.errAt(t, "a range [..] needs a range aggregation around it, e.g. count_over_time({...} [5m])")
			}
			return nil, p.errAt(t, "unexpected %s after log query", t.describe())
		}
		return q, nil
	}
	start := p.peek()
	n, err := p.parseMetricExpr(0)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.errAt(t, "unexpected %s after metric query", t.describe())
	}
	if _, ok := n.(*scalarLit); ok {
		return nil, p.errAt(start, "a query must contain a log stream selector or a metric aggregation, not only numbers")
	}
	return newMetricQuery(n), nil
}

// newMetricQuery makes the query of a parsed expression: with binary
// operations between vectors, each subtree with one range aggregation
// becomes a leg, evaluated on its own.
func newMetricQuery(n metricNode) *MetricQuery {
	mq := &MetricQuery{root: n}
	if !hasVectorBinary(n) {
		mq.leaf = findLeaf(n)
		mq.init()
		return mq
	}
	mq.root = mq.splitLegs(n)
	mq.union = unionQuery(mq.LogQueries())
	for i := range mq.legs {
		mq.legPaths = append(mq.legPaths, mq.pathTo(i))
	}
	return mq
}

func hasVectorBinary(n metricNode) bool {
	switch n := n.(type) {
	case *vectorBinary:
		return true
	case *vectorAgg:
		return hasVectorBinary(n.inner)
	case *scalarBinary:
		return hasVectorBinary(n.vec)
	}
	return false
}

// splitLegs replaces each largest subtree of n without a binary operation
// between vectors by a legNode.
func (q *MetricQuery) splitLegs(n metricNode) metricNode {
	if !hasVectorBinary(n) {
		leg := newMetricQuery(n)
		q.legs = append(q.legs, leg)
		return &legNode{idx: len(q.legs) - 1, q: leg}
	}
	switch n := n.(type) {
	case *vectorBinary:
		n.lhs = q.splitLegs(n.lhs)
		n.rhs = q.splitLegs(n.rhs)
	case *vectorAgg:
		n.inner = q.splitLegs(n.inner)
	case *scalarBinary:
		n.vec = q.splitLegs(n.vec)
	}
	return n
}

// unionQuery is a log query that keeps every entry one of qs keeps: the
// stream matchers all of them have, and the | json stages all of them
// start with (a parser drops no entry; with it, a drill-down's label
// filters read the fields the legs read).
func unionQuery(qs []*LogQuery) *LogQuery {
	u := &LogQuery{}
	for _, m := range qs[0].matchers {
		all := true
		for _, o := range qs[1:] {
			if !slices.ContainsFunc(o.matchers, func(x *Matcher) bool { return x.String() == m.String() }) {
				all = false
				break
			}
		}
		if all {
			u.matchers = append(u.matchers, m)
		}
	}
	for i, st := range qs[0].stages {
		if _, ok := st.(*jsonStage); !ok {
			break
		}
		same := true
		for _, o := range qs[1:] {
			if i >= len(o.stages) || o.stages[i].String() != st.String() {
				same = false
				break
			}
		}
		if !same {
			break
		}
		u.stages = append(u.stages, st)
	}
	return u
}

func findLeaf(n metricNode) *rangeAgg {
	switch n := n.(type) {
	case *rangeAgg:
		return n
	case *vectorAgg:
		return findLeaf(n.inner)
	case *scalarBinary:
		return findLeaf(n.vec)
	case *legNode:
		return n.q.leaf
	}
	return nil
}

// scalarLit is a number during parsing; it never survives into a
// MetricQuery except folded into a scalarBinary.
type scalarLit struct{ v float64 }

func (s *scalarLit) String() string { return strconv.FormatFloat(s.v, 'g', -1, 64) }

// Operator precedence, lowest first (PromQL's).
func binPrec(t token) (binOp, int, bool) {
	switch t.kind {
	case tIdent:
		switch t.text {
		case "or":
			return binOr, 1, true
		case "and":
			return binAnd, 2, true
		case "unless":
			return binUnless, 2, true
		}
	case tEqEq:
		return binEq, 3, true
	case tNeq:
		return binNe, 3, true
	case tGt:
		return binGt, 3, true
	case tGte:
		return binGe, 3, true
	case tLt:
		return binLt, 3, true
	case tLte:
		return binLe, 3, true
	case tAdd:
		return binAdd, 4, true
	case tSub:
		return binSub, 4, true
	case tMul:
		return binMul, 5, true
	case tDiv:
		return binDiv, 5, true
	case tMod:
		return binMod, 5, true
	case tPow:
		return binPow, 6, true
	}
	return 0, 0, false
}

// powPrec is ^'s precedence: a unary minus binds less tightly.
const powPrec = 6

// parseMetricExpr is precedence climbing over binary operators.
func (p *parser) parseMetricExpr(minPrec int) (metricNode, error) {
	if err := p.enter(p.peek()); err != nil {
		return nil, err
	}
	defer p.leave()
	lhs, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	for {
		opTok := p.peek()
		op, prec, ok := binPrec(opTok)
		if !ok || prec < minPrec {
			return lhs, nil
		}
		p.next()
		boolMod := false
		if t := p.peek(); t.kind == tIdent && t.text == "bool" {
			if !op.isComparison() {
				return nil, p.errAt(t, "bool modifier can only be used on comparison operators")
			}
			boolMod = true
			p.next()
		}
		var match *vectorMatching
		matchTok := p.peek()
		if t := matchTok; t.kind == tIdent && (t.text == "on" || t.text == "ignoring") {
			p.next()
			names, err := p.parseLabelList(t.text)
			if err != nil {
				return nil, err
			}
			match = &vectorMatching{on: t.text == "on", names: names}
		}
		if t := p.peek(); t.kind == tIdent && (t.text == "group_left" || t.text == "group_right") {
			return nil, p.errAt(t, "%s (many-to-one matching) is not supported: binary operations between vectors match one-to-one, on every label or on (...)/ignoring (...)", t.text)
		}
		next := prec + 1
		if op == binPow { // right-associative
			next = prec
		}
		rhs, err := p.parseMetricExpr(next)
		if err != nil {
			return nil, err
		}
		lhs, err = p.combine(opTok, op, boolMod, match, matchTok, lhs, rhs)
		if err != nil {
			return nil, err
		}
	}
}

// parseLabelList parses `(a, b)` after on or ignoring.
func (p *parser) parseLabelList(kw string) ([]string, error) {
	if _, err := p.expect(tLParen, "after "+kw); err != nil {
		return nil, err
	}
	names := []string{}
	for p.peek().kind != tRParen {
		t := p.peek()
		if t.kind != tIdent {
			return nil, p.errAt(t, "expected a label name in %s (...), found %s", kw, t.describe())
		}
		p.next()
		names = append(names, t.text)
		if p.peek().kind == tComma {
			p.next()
			continue
		}
		if p.peek().kind != tRParen {
			return nil, p.errAt(p.peek(), "expected \",\" or \")\" in %s (...), found %s", kw, p.peek().describe())
		}
	}
	p.next()
	return names, nil
}

func (p *parser) combine(opTok token, op binOp, boolMod bool, match *vectorMatching, matchTok token, lhs, rhs metricNode) (metricNode, error) {
	ls, lIsScalar := lhs.(*scalarLit)
	rs, rIsScalar := rhs.(*scalarLit)
	if (lIsScalar || rIsScalar) && op.isSet() {
		return nil, p.errAt(opTok, "the set operator %s takes two vectors, not a number", op)
	}
	if (lIsScalar || rIsScalar) && match != nil {
		return nil, p.errAt(matchTok, "vector matching (%s) needs a vector on both sides of %s", matchTok.text, op)
	}
	switch {
	case !lIsScalar && !rIsScalar:
		return &vectorBinary{op: op, boolModifier: boolMod, match: match, lhs: lhs, rhs: rhs}, nil
	case lIsScalar && rIsScalar:
		if op.isComparison() && !boolMod {
			return nil, p.errAt(opTok, "comparisons between scalars must use the bool modifier")
		}
		return &scalarLit{v: applyBinOp(op, ls.v, rs.v)}, nil
	case rIsScalar:
		return &scalarBinary{op: op, boolModifier: boolMod, vec: lhs, scalar: rs.v}, nil
	case lIsScalar:
		return &scalarBinary{op: op, boolModifier: boolMod, vec: rhs, scalar: ls.v, scalarLeft: true}, nil
	}
	return nil, p.errAt(opTok, "unexpected operands of %s", op)
}

// applyBinOp computes a op b; comparisons give 1 or 0.
func applyBinOp(op binOp, a, b float64) float64 {
	switch op {
	case binAdd:
		return a + b
	case binSub:
		return a - b
	case binMul:
		return a * b
	case binDiv:
		return a / b
	case binMod:
		return math.Mod(a, b)
	case binPow:
		return math.Pow(a, b)
	}
	if cmpOp(op-binEq).apply(a, b) {
		return 1
	}
	return 0
}

func (p *parser) parseUnary() (metricNode, error) {
	t := p.peek()
	switch t.kind {
	case tNumber:
		p.next()
		v, _ := strconv.ParseFloat(t.text, 64)
		return &scalarLit{v: v}, nil
	case tSub, tAdd:
		p.next()
		inner, err := p.parseMetricExpr(powPrec) // binds tighter than * but not ^
		if err != nil {
			return nil, err
		}
		if t.kind == tAdd {
			return inner, nil
		}
		if s, ok := inner.(*scalarLit); ok {
			return &scalarLit{v: -s.v}, nil
		}
		return &scalarBinary{op: binMul, vec: inner, scalar: -1}, nil
	case tLParen:
		p.next()
		inner, err := p.parseMetricExpr(0)
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tRParen, "to close the parenthesis"); err != nil {
			return nil, err
		}
		return inner, nil
	case tLBrace:
		return nil, p.errAt(t, "a log query cannot be used in a metric expression; wrap it in a range aggregation such as count_over_time({...} [5m])")
	case tIdent:
		if op, ok := rangeOpNames[t.text]; ok {
			return p.parseRangeAgg(op)
		}
		if op, ok := aggOpNames[t.text]; ok {
			return p.parseVectorAgg(op)
		}
		switch t.text {
		case "rate_counter":
			return nil, p.errAt(t, "rate_counter (counter semantics over unwrapped values) is not supported; rate(... | unwrap x [range]) is the per-second rate of their sum")
		case "stddev", "stdvar", "sort", "sort_desc", "label_replace", "vector", "absent":
			return nil, p.errAt(t, "%s is not supported (supported: count_over_time, rate, bytes_over_time, bytes_rate, absent_over_time, the *_over_time functions of | unwrap, sum, count, min, max, avg, topk, bottomk)", t.text)
		}
		return nil, p.errAt(t, "unknown function %q (supported: count_over_time, rate, bytes_over_time, bytes_rate, absent_over_time, the *_over_time functions of | unwrap, sum, count, min, max, avg, topk, bottomk)", t.text)
	}
	return nil, p.errAt(t, "expected a metric expression or a log query, found %s", t.describe())
}

func (p *parser) parseRangeAgg(op rangeOp) (metricNode, error) {
	name := p.next()
	if _, err := p.expect(tLParen, "after "+name.text); err != nil {
		return nil, err
	}
	r := &rangeAgg{op: op}
	if op == opQuantileOverTime {
		pt := p.peek()
		if sign := pt.text; (pt.kind == tAdd || pt.kind == tSub) && p.peekAt(1).kind == tNumber {
			// Loki's grammar takes a bare NUMBER here (a sign only in its
			// literal expressions): a query written here must run there.
			n := sign + p.peekAt(1).text
			why := "a quantile below 0 would be -Inf"
			if sign == "+" {
				why = "write " + p.peekAt(1).text
			}
			return nil, p.errAt(pt, "quantile_over_time's quantile takes no sign, as in Loki (which rejects %s; %s)", n, why)
		}
		if pt.kind != tNumber {
			return nil, p.errAt(pt, "quantile_over_time needs the quantile first, e.g. quantile_over_time(0.99, {...} | unwrap x [5m]), found %s", pt.describe())
		}
		p.next()
		r.param, _ = strconv.ParseFloat(pt.text, 64)
		if _, err := p.expect(tComma, "after the quantile"); err != nil {
			return nil, err
		}
	}
	// The log range: {sel} pipeline [range] [offset d] pipeline, or
	// ({sel} pipeline) [range].
	var q *LogQuery
	var err error
	if p.peek().kind == tLParen {
		open := p.next()
		if p.peek().kind != tLBrace {
			return nil, p.errAt(p.peek(), "expected a log query inside %s(...), found %s", name.text, p.peek().describe())
		}
		if err := p.enter(open); err != nil {
			return nil, err
		}
		q, err = p.parseLogQuery()
		p.leave()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tRParen, "to close the log query"); err != nil {
			return nil, err
		}
	} else {
		if p.peek().kind != tLBrace {
			return nil, p.errAt(p.peek(), "expected a log query {...} inside %s(...), found %s", name.text, p.peek().describe())
		}
		q, err = p.parseLogQuery()
		if err != nil {
			return nil, err
		}
	}
	if p.peek().kind != tLBrack {
		return nil, p.errAt(p.peek(), "expected a range such as [5m] in %s(...), found %s", name.text, p.peek().describe())
	}
	p.next()
	dt := p.peek()
	if dt.kind != tDuration {
		return nil, p.errAt(dt, "expected a duration such as 5m inside [...], found %s", dt.describe())
	}
	p.next()
	r.rng, _ = parseDuration(dt.text)
	if r.rng <= 0 {
		return nil, p.errAt(dt, "range must be greater than zero")
	}
	if t := p.peek(); t.kind == tColon {
		return nil, p.errAt(t, "subqueries ([range:step]) are not supported")
	}
	if _, err := p.expect(tRBrack, "to close the range"); err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind == tIdent && t.text == "offset" {
		p.next()
		neg := false
		if p.peek().kind == tSub {
			neg = true
			p.next()
		}
		ot := p.peek()
		if ot.kind != tDuration {
			return nil, p.errAt(ot, "expected a duration after offset, found %s", ot.describe())
		}
		p.next()
		r.offset, _ = parseDuration(ot.text)
		if neg {
			r.offset = -r.offset
		}
	}
	// Pipeline stages may also follow the range (Loki accepts both).
	if err := p.parsePipeline(q); err != nil {
		return nil, err
	}
	r.log = q
	if err := p.checkLayers(q, name); err != nil {
		return nil, err
	}
	switch {
	case q.unwrap == nil && op.needsUnwrap():
		return nil, p.errAt(name, "%s aggregates unwrapped values: it needs an unwrap stage, e.g. %s({...} | json | unwrap responseStatus_code [5m])", name.text, name.text)
	case q.unwrap != nil && op != opRate && !op.needsUnwrap():
		return nil, p.errAt(name, "%s counts entries and takes no unwrap stage (unwrapped values: rate, sum_over_time, avg_over_time, min_over_time, max_over_time, first_over_time, last_over_time, stddev_over_time, stdvar_over_time, quantile_over_time)", name.text)
	}
	if t := p.peek(); t.kind == tIdent && (t.text == "by" || t.text == "without") {
		return nil, p.errAt(t, "grouping inside %s(...) is only allowed over unwrapped values; group with sum by (...) instead", name.text)
	}
	if _, err := p.expect(tRParen, "to close "+name.text+"("); err != nil {
		return nil, err
	}
	if t := p.peek(); q.unwrap == nil && isGroupingKeyword(t) {
		return nil, p.errAt(t, "grouping after %s(...) is only allowed over unwrapped values; group with sum by (...) instead", name.text)
	}
	if q.unwrap != nil && isGroupingKeyword(p.peek()) {
		g, err := p.parseGrouping()
		if err != nil {
			return nil, err
		}
		r.group = g
	}
	return r, nil
}

func (p *parser) parseGrouping() (*grouping, error) {
	kw := p.next()
	g := &grouping{without: kw.text == "without"}
	if _, err := p.expect(tLParen, "after "+kw.text); err != nil {
		return nil, err
	}
	for p.peek().kind != tRParen {
		t := p.peek()
		if t.kind != tIdent {
			return nil, p.errAt(t, "expected a label name in %s (...), found %s", kw.text, t.describe())
		}
		p.next()
		g.names = append(g.names, t.text)
		if p.peek().kind == tComma {
			p.next()
			continue
		}
		if p.peek().kind != tRParen {
			return nil, p.errAt(p.peek(), "expected \",\" or \")\" in %s (...), found %s", kw.text, p.peek().describe())
		}
	}
	p.next()
	return g, nil
}

func isGroupingKeyword(t token) bool {
	return t.kind == tIdent && (t.text == "by" || t.text == "without")
}

func (p *parser) parseVectorAgg(op aggOp) (metricNode, error) {
	name := p.next()
	if err := p.enter(name); err != nil {
		return nil, err
	}
	defer p.leave()
	v := &vectorAgg{op: op}
	if isGroupingKeyword(p.peek()) {
		g, err := p.parseGrouping()
		if err != nil {
			return nil, err
		}
		v.group = g
	}
	if _, err := p.expect(tLParen, "after "+name.text); err != nil {
		return nil, err
	}
	if op == aggTopK || op == aggBottomK {
		kt := p.peek()
		if kt.kind != tNumber {
			return nil, p.errAt(kt, "%s needs a number of series first, e.g. %s(10, ...), found %s", name.text, name.text, kt.describe())
		}
		p.next()
		k, err := strconv.ParseFloat(kt.text, 64)
		if err != nil || k < 1 || k != math.Trunc(k) || k > 1e9 {
			return nil, p.errAt(kt, "%s parameter must be a positive integer, got %s", name.text, kt.text)
		}
		v.param = int(k)
		if _, err := p.expect(tComma, "after the "+name.text+" parameter"); err != nil {
			return nil, err
		}
	}
	innerTok := p.peek()
	inner, err := p.parseMetricExpr(0)
	if err != nil {
		return nil, err
	}
	if _, ok := inner.(*scalarLit); ok {
		return nil, p.errAt(innerTok, "%s needs a vector argument, not a number", name.text)
	}
	v.inner = inner
	if _, err := p.expect(tRParen, "to close "+name.text+"("); err != nil {
		return nil, err
	}
	if isGroupingKeyword(p.peek()) {
		if v.group != nil {
			return nil, p.errAt(p.peek(), "%s has a grouping both before and after its argument", name.text)
		}
		g, err := p.parseGrouping()
		if err != nil {
			return nil, err
		}
		v.group = g
	}
	return v, nil
}

// parseLogQuery parses {selector} followed by pipeline stages.
func (p *parser) parseLogQuery() (*LogQuery, error) {
	q := &LogQuery{}
	open, err := p.expect(tLBrace, "to start a stream selector")
	if err != nil {
		return nil, err
	}
	for p.peek().kind != tRBrace {
		m, err := p.parseMatcher("stream selector")
		if err != nil {
			return nil, err
		}
		q.matchers = append(q.matchers, m)
		if p.peek().kind == tComma {
			p.next()
			continue
		}
		if p.peek().kind != tRBrace {
			return nil, p.errAt(p.peek(), "expected \",\" or \"}\" in stream selector, found %s", p.peek().describe())
		}
	}
	p.next()
	nonEmpty := false
	for _, m := range q.matchers {
		if !m.Matches("") {
			nonEmpty = true
		}
	}
	if !nonEmpty {
		return nil, p.errAt(open, "queries require at least one stream matcher that does not match the empty value, e.g. {job=\"audit\"} (job=~\".*\" does not, job=~\".+\" does)")
	}
	if err := p.parsePipeline(q); err != nil {
		return nil, err
	}
	return q, nil
}

// checkLayers enforces maxLayers once the whole pipeline is known.
func (p *parser) checkLayers(q *LogQuery, at token) error {
	n := 0
	for _, s := range q.stages {
		switch s.(type) {
		case *jsonStage, *dropStage:
			n++
		case *labelFormatStage:
			n += 2
		}
	}
	if n > maxLayers {
		return p.errAt(at, "too many json/drop/keep/label_format stages (%d layers, at most %d)", n, maxLayers)
	}
	return nil
}

// parseMatcher parses name op "value" (stream selectors).
func (p *parser) parseMatcher(where string) (*Matcher, error) {
	nt := p.peek()
	if nt.kind != tIdent {
		return nil, p.errAt(nt, "expected a label name in %s, found %s", where, nt.describe())
	}
	p.next()
	ot := p.next()
	var op MatchOp
	switch ot.kind {
	case tEq:
		op = MatchEqual
	case tNeq:
		op = MatchNotEqual
	case tRe:
		op = MatchRegexp
	case tNre:
		op = MatchNotRegexp
	default:
		return nil, p.errAt(ot, "expected =, !=, =~ or !~ after %q in %s, found %s", nt.text, where, ot.describe())
	}
	vt := p.peek()
	if vt.kind != tString {
		return nil, p.errAt(vt, "expected a quoted string after %s%s, found %s", nt.text, ot.text, vt.describe())
	}
	p.next()
	m, err := newMatcher(nt.text, op, vt.str)
	if err != nil {
		return nil, p.errAt(vt, "invalid regular expression %s: %v", strconv.Quote(vt.str), regexpErr(err))
	}
	return m, nil
}

func regexpErr(err error) string {
	var re *syntax.Error
	if errors.As(err, &re) {
		return string(re.Code) + ": " + strconv.Quote(re.Expr)
	}
	return err.Error()
}

// parsePipeline parses stages until something that is not a stage.
func (p *parser) parsePipeline(q *LogQuery) error {
	for {
		t := p.peek()
		switch t.kind {
		case tPipeExact, tNeq, tPipeMatch, tNre:
			f, err := p.parseLineFilter()
			if err != nil {
				return err
			}
			q.stages = append(q.stages, f)
		case tPipe:
			p.next()
			at := p.peek()
			s, err := p.parseStage()
			if err != nil {
				return err
			}
			if q.unwrap != nil {
				if _, ok := s.(*labelFilterStage); !ok {
					return p.errAt(at, "only label filters may follow | unwrap (such as | __error__=\"\")")
				}
			}
			if u, ok := s.(*unwrapStage); ok {
				q.unwrap = u
			}
			q.stages = append(q.stages, s)
		default:
			return nil
		}
	}
}

// parseUnwrap parses what follows `| unwrap`: a label name, or
// duration(name), duration_seconds(name), bytes(name).
func (p *parser) parseUnwrap() (stage, error) {
	t := p.peek()
	if t.kind != tIdent {
		return nil, p.errAt(t, "expected a label name after unwrap, found %s", t.describe())
	}
	p.next()
	if p.peek().kind != tLParen {
		return &unwrapStage{label: t.text}, nil
	}
	switch t.text {
	case "duration", "duration_seconds", "bytes":
	default:
		return nil, p.errAt(t, "unknown unwrap conversion %s (supported: duration, duration_seconds, bytes)", t.text)
	}
	p.next()
	lt := p.peek()
	if lt.kind != tIdent {
		return nil, p.errAt(lt, "expected a label name in %s(...), found %s", t.text, lt.describe())
	}
	p.next()
	if _, err := p.expect(tRParen, "to close "+t.text+"("); err != nil {
		return nil, err
	}
	return &unwrapStage{label: lt.text, conv: t.text}, nil
}

func (p *parser) parseLineFilter() (*lineFilter, error) {
	ot := p.next()
	f := &lineFilter{}
	switch ot.kind {
	case tPipeExact:
		f.op = lineContains
	case tNeq:
		f.op = lineNotContains
	case tPipeMatch:
		f.op = lineMatch
	case tNre:
		f.op = lineNotMatch
	}
	for {
		vt := p.peek()
		if vt.kind != tString {
			if vt.kind == tIdent && vt.text == "ip" {
				return nil, p.errAt(vt, "ip() line filters are not supported")
			}
			return nil, p.errAt(vt, "expected a quoted string after %s, found %s", ot.text, vt.describe())
		}
		p.next()
		f.values = append(f.values, vt.str)
		f.lits = append(f.lits, []byte(vt.str))
		f.finds = append(f.finds, newFinder(f.lits[len(f.lits)-1]))
		if f.op == lineMatch || f.op == lineNotMatch {
			re, err := regexp.Compile(vt.str)
			if err != nil {
				return nil, p.errAt(vt, "invalid regular expression %s: %v", strconv.Quote(vt.str), regexpErr(err))
			}
			f.res = append(f.res, re)
			f.pre = append(f.pre, newRegexPrefilter(vt.str))
		}
		// |= "a" or "b": any of the values.
		if t := p.peek(); t.kind == tIdent && t.text == "or" && p.peekAt(1).kind == tString {
			p.next()
			continue
		}
		return f, nil
	}
}

// parseStage parses what follows a "|".
func (p *parser) parseStage() (stage, error) {
	t := p.peek()
	if t.kind == tIdent {
		switch t.text {
		case "json":
			p.next()
			return p.parseJSONStage()
		case "drop", "keep":
			p.next()
			return p.parseDropKeep(t.text == "keep")
		case "logfmt":
			return nil, p.errAt(t, "the logfmt parser is not supported: audit events are JSON, use | json")
		case "line_format":
			p.next()
			vt := p.peek()
			if vt.kind != tString {
				return nil, p.errAt(vt, "expected a quoted template after line_format, found %s", vt.describe())
			}
			p.next()
			lt, err := compileTemplate(vt.str)
			if err != nil {
				return nil, p.errAt(vt, "invalid line_format template: %v", err)
			}
			return &lineFormatStage{src: vt.str, t: lt}, nil
		case "label_format":
			p.next()
			return p.parseLabelFormat()
		case "unwrap":
			p.next()
			return p.parseUnwrap()
		case "regexp", "pattern", "unpack", "decolorize", "distinct":
			return nil, p.errAt(t, "the %s stage is not supported (supported stages: json, label filters, line filters, line_format, label_format, drop, keep)", t.text)
		}
	}
	if t.kind != tIdent && t.kind != tLParen {
		return nil, p.errAt(t, "expected a stage after \"|\" (json, a label filter such as verb=\"get\", ...), found %s", t.describe())
	}
	f, err := p.parseLabelFilterOr()
	if err != nil {
		return nil, err
	}
	return &labelFilterStage{f: f}, nil
}

func (p *parser) parseJSONStage() (stage, error) {
	s := &jsonStage{}
	if p.peek().kind != tIdent {
		return s, nil
	}
	for {
		nt := p.peek()
		if nt.kind != tIdent {
			return nil, p.errAt(nt, "expected a label name in | json parameters, found %s", nt.describe())
		}
		p.next()
		e := jsonExpr{name: nt.text, path: nt.text}
		if p.peek().kind == tEq {
			p.next()
			vt := p.peek()
			if vt.kind != tString {
				return nil, p.errAt(vt, "expected a quoted JSON path after %s=, found %s", nt.text, vt.describe())
			}
			p.next()
			e.path = vt.str
		}
		cp, err := CompileJSONPath(e.path)
		if err != nil {
			return nil, p.errAt(nt, "invalid JSON path %s: %v", strconv.Quote(e.path), err)
		}
		e.cp = cp
		s.exprs = append(s.exprs, e)
		s.names = append(s.names, e.name)
		if p.peek().kind != tComma {
			return s, nil
		}
		p.next()
	}
}

func (p *parser) parseLabelFormat() (stage, error) {
	s := &labelFormatStage{}
	for {
		nt := p.peek()
		if nt.kind != tIdent {
			return nil, p.errAt(nt, "expected a label name in label_format, found %s", nt.describe())
		}
		p.next()
		if _, err := p.expect(tEq, "after "+nt.text+" in label_format"); err != nil {
			return nil, err
		}
		if slices.Contains(s.dsts, nt.text) {
			return nil, p.errAt(nt, "label_format sets %s more than once", nt.text)
		}
		it := labelFormatItem{dst: nt.text}
		vt := p.next()
		switch vt.kind {
		case tIdent:
			it.rename = vt.text
			s.srcs = append(s.srcs, vt.text)
		case tString:
			lt, err := compileTemplate(vt.str)
			if err != nil {
				return nil, p.errAt(vt, "invalid label_format template: %v", err)
			}
			it.src, it.t = vt.str, lt
		default:
			return nil, p.errAt(vt, "expected a label name or a quoted template after %s=, found %s", nt.text, vt.describe())
		}
		s.items = append(s.items, it)
		s.dsts = append(s.dsts, nt.text)
		if p.peek().kind != tComma {
			return s, nil
		}
		p.next()
	}
}

func (p *parser) parseDropKeep(keep bool) (stage, error) {
	s := &dropStage{keep: keep}
	for {
		nt := p.peek()
		if nt.kind != tIdent {
			return nil, p.errAt(nt, "expected a label name, found %s", nt.describe())
		}
		p.next()
		if k := p.peek().kind; k == tEq || k == tNeq || k == tRe || k == tNre {
			return nil, p.errAt(p.peek(), "drop/keep with label matchers are not supported, only label names")
		}
		s.names = append(s.names, nt.text)
		if p.peek().kind != tComma {
			return s, nil
		}
		p.next()
	}
}

// Label filter grammar: or binds loosest, then and (also "," and plain
// juxtaposition), then parentheses and single comparisons.
func (p *parser) parseLabelFilterOr() (labelFilter, error) {
	if err := p.enter(p.peek()); err != nil {
		return nil, err
	}
	defer p.leave()
	l, err := p.parseLabelFilterAnd()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if t.kind != tIdent || t.text != "or" {
			return l, nil
		}
		p.next()
		r, err := p.parseLabelFilterAnd()
		if err != nil {
			return nil, err
		}
		l = &binaryFilter{l: l, r: r}
	}
}

func (p *parser) parseLabelFilterAnd() (labelFilter, error) {
	l, err := p.parseLabelFilterPrimary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		switch {
		case t.kind == tIdent && t.text == "and", t.kind == tComma:
			p.next()
		case t.kind == tLParen, t.kind == tIdent && t.text != "or" && t.text != "offset":
			// juxtaposition: `| a="x" b="y"` means and.
		default:
			return l, nil
		}
		r, err := p.parseLabelFilterPrimary()
		if err != nil {
			return nil, err
		}
		l = &binaryFilter{and: true, l: l, r: r}
	}
}

func (p *parser) parseLabelFilterPrimary() (labelFilter, error) {
	t := p.peek()
	if t.kind == tLParen {
		p.next()
		f, err := p.parseLabelFilterOr()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tRParen, "to close the label filter"); err != nil {
			return nil, err
		}
		return f, nil
	}
	if t.kind != tIdent {
		return nil, p.errAt(t, "expected a label filter such as verb=\"get\", found %s", t.describe())
	}
	p.next()
	ot := p.next()
	vt := p.peek()
	neg := false
	if vt.kind == tSub && (p.peekAt(1).kind == tNumber || p.peekAt(1).kind == tDuration) {
		neg = true
		p.next()
		vt = p.peek()
	}
	switch vt.kind {
	case tString:
		p.next()
		var op MatchOp
		switch ot.kind {
		case tEq, tEqEq:
			op = MatchEqual
		case tNeq:
			op = MatchNotEqual
		case tRe:
			op = MatchRegexp
		case tNre:
			op = MatchNotRegexp
		case tGt, tGte, tLt, tLte:
			return nil, p.errAt(ot, "%s compares numbers, durations or byte sizes, not the string %s", ot.text, strconv.Quote(vt.str))
		default:
			return nil, p.errAt(ot, "expected a comparison operator after %q, found %s", t.text, ot.describe())
		}
		m, err := newMatcher(t.text, op, vt.str)
		if err != nil {
			return nil, p.errAt(vt, "invalid regular expression %s: %v", strconv.Quote(vt.str), regexpErr(err))
		}
		return &stringFilter{m: m}, nil
	case tNumber, tDuration, tBytes:
		p.next()
		var op cmpOp
		switch ot.kind {
		case tEq, tEqEq:
			op = cmpEq
		case tNeq:
			op = cmpNe
		case tGt:
			op = cmpGt
		case tGte:
			op = cmpGe
		case tLt:
			op = cmpLt
		case tLte:
			op = cmpLe
		case tRe, tNre:
			return nil, p.errAt(ot, "%s needs a quoted regular expression, not %s", ot.text, vt.text)
		default:
			return nil, p.errAt(ot, "expected a comparison operator after %q, found %s", t.text, ot.describe())
		}
		f := &numericFilter{name: t.text, op: op, text: vt.text}
		switch vt.kind {
		case tNumber:
			f.kind = kindNumber
			f.value, _ = strconv.ParseFloat(vt.text, 64)
		case tDuration:
			f.kind = kindDuration
			d, _ := parseDuration(vt.text)
			f.value = float64(d)
		case tBytes:
			f.kind = kindBytes
			f.value, _ = parseBytes(vt.text)
		}
		if neg {
			f.value = -f.value
			f.text = "-" + f.text
		}
		return f, nil
	}
	if vt.kind == tIdent && vt.text == "ip" && p.peekAt(1).kind == tLParen {
		if ot.kind != tEq && ot.kind != tEqEq && ot.kind != tNeq {
			return nil, p.errAt(ot, "ip() takes = or !=, not %s", ot.text)
		}
		p.next()
		p.next()
		pt := p.peek()
		if pt.kind != tString {
			return nil, p.errAt(pt, "expected a quoted IP address, range or CIDR prefix in ip(), found %s", pt.describe())
		}
		p.next()
		m, err := parseIPPattern(pt.str)
		if err != nil {
			return nil, p.errAt(pt, "%v", err)
		}
		if _, err := p.expect(tRParen, "to close ip("); err != nil {
			return nil, err
		}
		return &ipFilter{name: t.text, neg: ot.kind == tNeq, pattern: pt.str, match: m}, nil
	}
	switch ot.kind {
	case tEq, tEqEq, tNeq, tRe, tNre, tGt, tGte, tLt, tLte:
		return nil, p.errAt(vt, "expected a quoted string or a number after %s%s, found %s", t.text, ot.text, vt.describe())
	}
	return nil, p.errAt(ot, "expected a comparison operator (=, !=, =~, !~, ==, >, >=, <, <=) after %q, found %s", t.text, ot.describe())
}

package logql

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Expr is a parsed query: a *LogQuery or a *MetricQuery.
type Expr interface {
	// String renders the query in canonical LogQL.
	String() string
	isExpr()
}

// MatchOp is the operator of a stream matcher or string label filter.
type MatchOp int

// Matcher operators.
const (
	MatchEqual     MatchOp = iota // =
	MatchNotEqual                 // !=
	MatchRegexp                   // =~
	MatchNotRegexp                // !~
)

func (op MatchOp) String() string {
	switch op {
	case MatchEqual:
		return "="
	case MatchNotEqual:
		return "!="
	case MatchRegexp:
		return "=~"
	case MatchNotRegexp:
		return "!~"
	}
	return "?"
}

// Matcher is one name<op>"value" pair of a stream selector (or of a
// string label filter). Regular expressions are fully anchored, as in
// Prometheus and Loki: =~"get|list" means ^(?:get|list)$.
type Matcher struct {
	Name  string
	Op    MatchOp
	Value string
	re    *regexp.Regexp
	// lits, when not nil, are the only strings re matches (a regular
	// expression such as "get|list"): Matches compares them instead of
	// running re; aff, when not nil, is the prefix, suffix or substring
	// test re amounts to ("system:serviceaccount:.*"); forms, when
	// neither is, the comparisons and such tests it amounts to
	// ("system:(node:.*|kube-scheduler)").
	lits  []string
	aff   *affix
	forms *formSet
}

// newMatcher compiles a matcher; the error is the regexp's.
func newMatcher(name string, op MatchOp, value string) (*Matcher, error) {
	m := &Matcher{Name: name, Op: op, Value: value}
	if op == MatchRegexp || op == MatchNotRegexp {
		// Compile the expression alone first so errors quote what the
		// user wrote, not the anchored form.
		if _, err := regexp.Compile(value); err != nil {
			return nil, err
		}
		re, err := regexp.Compile("^(?s:" + value + ")$")
		if err != nil {
			return nil, err
		}
		m.re = re
		m.lits, m.aff = simpleForms(value)
		if m.lits == nil && m.aff == nil {
			m.forms = moreForms(value)
		}
	}
	return m, nil
}

// Matches reports whether a label value satisfies the matcher. A missing
// label is matched as the empty string.
func (m *Matcher) Matches(v string) bool {
	switch m.Op {
	case MatchEqual:
		return v == m.Value
	case MatchNotEqual:
		return v != m.Value
	case MatchRegexp:
		return m.matchRegexp(v)
	case MatchNotRegexp:
		return !m.matchRegexp(v)
	}
	return false
}

func (m *Matcher) matchRegexp(v string) bool {
	switch {
	case m.lits != nil:
		return slices.Contains(m.lits, v)
	case m.aff != nil:
		return m.aff.match(v)
	case m.forms != nil:
		return m.forms.match(v)
	}
	return m.re.MatchString(v)
}

func (m *Matcher) String() string {
	return m.Name + m.Op.String() + strconv.Quote(m.Value)
}

// LogQuery is a log query: a stream selector and a pipeline of stages.
type LogQuery struct {
	matchers []*Matcher
	stages   []stage
	// unwrap is the query's `| unwrap` stage (also in stages), if any:
	// only a range aggregation over unwrapped values takes one.
	unwrap *unwrapStage
}

// unwrapStage is `| unwrap label`, `| unwrap duration(label)` (or
// duration_seconds), `| unwrap bytes(label)`: each entry's sample value.
type unwrapStage struct {
	label string
	conv  string // "", "duration", "duration_seconds" or "bytes"
}

func (s *unwrapStage) String() string {
	if s.conv == "" {
		return "| unwrap " + s.label
	}
	return "| unwrap " + s.conv + "(" + s.label + ")"
}

func (*LogQuery) isExpr() {}

// Selector returns the stream matchers (all must match a stream's labels).
func (q *LogQuery) Selector() []*Matcher { return q.matchers }

// String renders the query.
func (q *LogQuery) String() string {
	var b strings.Builder
	q.selectorString(&b)
	for _, s := range q.stages {
		b.WriteByte(' ')
		b.WriteString(s.String())
	}
	return b.String()
}

// DrillString renders the query without its `| unwrap` stage: a log
// query (ParseLog refuses unwrap outside a range aggregation) that selects
// every entry the range aggregation samples, to drill down from an alert
// to its events. Label filters after the unwrap stay; one on __error__
// then also keeps entries whose value did not convert.
func (q *LogQuery) DrillString() string {
	var b strings.Builder
	q.selectorString(&b)
	for _, s := range q.stages {
		if _, ok := s.(*unwrapStage); ok {
			continue
		}
		b.WriteByte(' ')
		b.WriteString(s.String())
	}
	return b.String()
}

func (q *LogQuery) selectorString(b *strings.Builder) {
	b.WriteByte('{')
	for i, m := range q.matchers {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(m.String())
	}
	b.WriteByte('}')
}

// stage is one pipeline stage.
type stage interface {
	String() string
}

// lineFilterOp is the operator of a line filter.
type lineFilterOp int

const (
	lineContains    lineFilterOp = iota // |=
	lineNotContains                     // !=
	lineMatch                           // |~
	lineNotMatch                        // !~
)

func (op lineFilterOp) String() string {
	return [...]string{"|=", "!=", "|~", "!~"}[op]
}

// lineFilter is `|= "a"` (optionally `|= "a" or "b"`: any of the values).
type lineFilter struct {
	op     lineFilterOp
	values []string
	lits   [][]byte
	finds  []finder // one per lit
	res    []*regexp.Regexp
	// pre are the regexps' literal prefilters (nil entries: none).
	pre []*regexPrefilter
}

func (f *lineFilter) String() string {
	var b strings.Builder
	b.WriteString(f.op.String())
	for i, v := range f.values {
		if i > 0 {
			b.WriteString(" or")
		}
		b.WriteByte(' ')
		b.WriteString(strconv.Quote(v))
	}
	return b.String()
}

// jsonStage is `| json` (all fields) or `| json a="path", b="path"`.
type jsonStage struct {
	exprs []jsonExpr
	names []string // exprs' label names
}

type jsonExpr struct {
	name string
	path string
	cp   *JSONPath
}

func (s *jsonStage) String() string {
	if len(s.exprs) == 0 {
		return "| json"
	}
	parts := make([]string, len(s.exprs))
	for i, e := range s.exprs {
		parts[i] = e.name + "=" + strconv.Quote(e.path)
	}
	return "| json " + strings.Join(parts, ", ")
}

// labelFilterStage is `| <label filter expression>`.
type labelFilterStage struct {
	f labelFilter
}

func (s *labelFilterStage) String() string { return "| " + s.f.String() }

// dropStage is `| drop a, b` / keepStage `| keep a, b` (label list only).
type dropStage struct {
	keep  bool
	names []string
}

func (s *dropStage) String() string {
	if s.keep {
		return "| keep " + strings.Join(s.names, ", ")
	}
	return "| drop " + strings.Join(s.names, ", ")
}

// labelFilter is a boolean expression over labels.
type labelFilter interface {
	String() string
}

// binaryFilter is `l and r` / `l or r`.
type binaryFilter struct {
	and  bool
	l, r labelFilter
}

func (f *binaryFilter) String() string {
	op := " or "
	if f.and {
		op = " and "
	}
	return "(" + f.l.String() + op + f.r.String() + ")"
}

// stringFilter is `name="v"`, `name!="v"`, `name=~"re"`, `name!~"re"`.
type stringFilter struct {
	m *Matcher
}

func (f *stringFilter) String() string { return f.m.String() }

// cmpOp is a numeric comparison.
type cmpOp int

const (
	cmpEq cmpOp = iota
	cmpNe
	cmpGt
	cmpGe
	cmpLt
	cmpLe
)

func (op cmpOp) String() string {
	return [...]string{"==", "!=", ">", ">=", "<", "<="}[op]
}

func (op cmpOp) apply(a, b float64) bool {
	switch op {
	case cmpEq:
		return a == b
	case cmpNe:
		return a != b
	case cmpGt:
		return a > b
	case cmpGe:
		return a >= b
	case cmpLt:
		return a < b
	case cmpLe:
		return a <= b
	}
	return false
}

// valueKind says how a numeric label filter reads the label's value.
type valueKind int

const (
	kindNumber   valueKind = iota // strconv.ParseFloat
	kindDuration                  // 5m, 250ms
	kindBytes                     // 20MB
)

// numericFilter is `name > 5`, `name >= 10s`, `name < 20MB`, ...
type numericFilter struct {
	name  string
	op    cmpOp
	kind  valueKind
	value float64 // number, nanoseconds, or bytes
	text  string  // the literal as written
}

func (f *numericFilter) String() string { return f.name + f.op.String() + f.text }

// MetricQuery is a metric query: a tree of aggregations over a range
// aggregation of a log query.
type MetricQuery struct {
	root metricNode
	// range aggregation at the leaf (exactly one), nil when the query
	// has binary operations between vectors: then legs are the subtrees
	// with one range aggregation each (root holds a legNode for each),
	// and union is a log query that keeps every entry any leg may keep
	// (unionQuery).
	leaf  *rangeAgg
	legs  []*MetricQuery
	union *LogQuery
	// legPaths are the nodes above each leg, innermost first.
	legPaths [][]metricNode
	// mode and fusedParent: see init in metric.go.
	mode        leafMode
	fusedParent *vectorAgg
	// aggs are the vector aggregations from the leaf outward (for
	// Contributes; set by init).
	aggs []*vectorAgg
}

func (*MetricQuery) isExpr() {}

// String renders the query.
func (q *MetricQuery) String() string { return q.root.String() }

// LogQuery returns the log query inside the range aggregation, so a
// source can apply its selector, pipeline and RequiredLiterals. With
// binary operations between vectors (several range aggregations), it is
// a log query that keeps every entry one of theirs keeps: the stream
// matchers they all have and the | json stages they all start with (see
// LogQueries).
func (q *MetricQuery) LogQuery() *LogQuery {
	if q.leaf == nil {
		return q.union
	}
	return q.leaf.log
}

// LogQueries returns the log query of each range aggregation, in order.
func (q *MetricQuery) LogQueries() []*LogQuery {
	if q.leaf != nil {
		return []*LogQuery{q.leaf.log}
	}
	out := make([]*LogQuery, len(q.legs))
	for i, l := range q.legs {
		out[i] = l.leaf.log
	}
	return out
}

// DrillQuery returns the log query whose entries make the query's
// samples, for a drill-down into an alert: without binary operations
// between vectors, LogQuery; with them, the left side's (the numerator of
// a ratio, the series a comparison, `and` or `unless` keeps, what `-`
// subtracts from), or a query keeping the entries of both sides for `+`,
// `*` and `or`, whose values come from either. back and off are that
// side's look-back (range plus offset) and offset, as Range+Offset and
// Offset are the whole query's.
func (q *MetricQuery) DrillQuery() (lq *LogQuery, back, off time.Duration) {
	if q.leaf != nil {
		return q.leaf.log, q.leaf.rng + q.leaf.offset, q.leaf.offset
	}
	legs := q.drillLegs(q.root, nil)
	qs := make([]*LogQuery, len(legs))
	off = legs[0].leaf.offset
	for i, l := range legs {
		qs[i] = l.leaf.log
		back = max(back, l.leaf.rng+l.leaf.offset)
		off = min(off, l.leaf.offset)
	}
	if len(qs) == 1 {
		return qs[0], back, off
	}
	return unionQuery(qs), back, off
}

// drillLegs appends the legs under n whose entries make its samples.
func (q *MetricQuery) drillLegs(n metricNode, out []*MetricQuery) []*MetricQuery {
	switch n := n.(type) {
	case *legNode:
		return append(out, n.q)
	case *vectorAgg:
		return q.drillLegs(n.inner, out)
	case *scalarBinary:
		return q.drillLegs(n.vec, out)
	case *vectorBinary:
		out = q.drillLegs(n.lhs, out)
		if n.op == binAdd || n.op == binMul || n.op == binOr {
			out = q.drillLegs(n.rhs, out)
		}
		return out
	}
	return out
}

// Range returns the range aggregation's window ([5m] -> 5m). With several,
// Range plus Offset is the longest look-back, Offset the smallest offset.
func (q *MetricQuery) Range() time.Duration {
	if q.leaf == nil {
		var back time.Duration
		for _, l := range q.legs {
			back = max(back, l.leaf.rng+l.leaf.offset)
		}
		return back - q.Offset()
	}
	return q.leaf.rng
}

// Offset returns the range aggregation's offset modifier (0 if none);
// with several, the smallest.
func (q *MetricQuery) Offset() time.Duration {
	if q.leaf == nil {
		off := q.legs[0].leaf.offset
		for _, l := range q.legs[1:] {
			off = min(off, l.leaf.offset)
		}
		return off
	}
	return q.leaf.offset
}

// metricNode is a node of the metric expression tree.
type metricNode interface {
	String() string
}

// rangeOp is a range aggregation function.
type rangeOp int

const (
	opCountOverTime rangeOp = iota
	opRate
	opBytesOverTime
	opBytesRate
	opAbsentOverTime
	// The functions of unwrapped values (rate takes them too).
	opSumOverTime
	opAvgOverTime
	opMinOverTime
	opMaxOverTime
	opFirstOverTime
	opLastOverTime
	opStddevOverTime
	opStdvarOverTime
	opQuantileOverTime
)

var rangeOpNames = map[string]rangeOp{
	"count_over_time":    opCountOverTime,
	"rate":               opRate,
	"bytes_over_time":    opBytesOverTime,
	"bytes_rate":         opBytesRate,
	"absent_over_time":   opAbsentOverTime,
	"sum_over_time":      opSumOverTime,
	"avg_over_time":      opAvgOverTime,
	"min_over_time":      opMinOverTime,
	"max_over_time":      opMaxOverTime,
	"first_over_time":    opFirstOverTime,
	"last_over_time":     opLastOverTime,
	"stddev_over_time":   opStddevOverTime,
	"stdvar_over_time":   opStdvarOverTime,
	"quantile_over_time": opQuantileOverTime,
}

func (op rangeOp) String() string {
	return [...]string{"count_over_time", "rate", "bytes_over_time", "bytes_rate", "absent_over_time",
		"sum_over_time", "avg_over_time", "min_over_time", "max_over_time", "first_over_time",
		"last_over_time", "stddev_over_time", "stdvar_over_time", "quantile_over_time"}[op]
}

// needsUnwrap: the function aggregates unwrapped values only.
func (op rangeOp) needsUnwrap() bool { return op >= opSumOverTime }

// rangeAgg is count_over_time({...} | ... [5m] offset 1h), or a function
// of unwrapped values: quantile_over_time(0.9, {...} | unwrap x [5m]) by (a).
type rangeAgg struct {
	op     rangeOp
	log    *LogQuery
	rng    time.Duration
	offset time.Duration
	param  float64   // quantile_over_time's φ
	group  *grouping // unwrapped only
}

func (r *rangeAgg) String() string {
	s := r.op.String() + "("
	if r.op == opQuantileOverTime {
		s += strconv.FormatFloat(r.param, 'g', -1, 64) + ", "
	}
	s += r.log.String() + " [" + formatDuration(r.rng) + "]"
	if r.offset != 0 {
		s += " offset " + formatDuration(r.offset)
	}
	s += ")"
	if r.group != nil {
		s += " " + strings.TrimSuffix(r.group.String(), " ")
	}
	return s
}

// aggOp is a vector aggregation operator.
type aggOp int

const (
	aggSum aggOp = iota
	aggCount
	aggMin
	aggMax
	aggAvg
	aggTopK
	aggBottomK
)

var aggOpNames = map[string]aggOp{
	"sum": aggSum, "count": aggCount, "min": aggMin, "max": aggMax, "avg": aggAvg,
	"topk": aggTopK, "bottomk": aggBottomK,
}

func (op aggOp) String() string {
	return [...]string{"sum", "count", "min", "max", "avg", "topk", "bottomk"}[op]
}

// grouping is `by (a, b)` or `without (a, b)`; nil means neither (all
// series fall into one group, except for topk/bottomk).
type grouping struct {
	without bool
	names   []string
}

func (g *grouping) String() string {
	if g == nil {
		return ""
	}
	kw := "by"
	if g.without {
		kw = "without"
	}
	return kw + " (" + strings.Join(g.names, ", ") + ") "
}

// vectorAgg is sum by (a) (inner), topk(5, inner), ...
type vectorAgg struct {
	op    aggOp
	group *grouping
	param int // k for topk/bottomk
	inner metricNode
}

func (v *vectorAgg) String() string {
	s := v.op.String() + " " + v.group.String() + "("
	if v.op == aggTopK || v.op == aggBottomK {
		s += strconv.Itoa(v.param) + ", "
	}
	return s + v.inner.String() + ")"
}

// binOp is an arithmetic or comparison operator.
type binOp int

const (
	binAdd binOp = iota
	binSub
	binMul
	binDiv
	binMod
	binPow
	binEq
	binNe
	binGt
	binGe
	binLt
	binLe
	binAnd
	binOr
	binUnless
)

func (op binOp) String() string {
	return [...]string{"+", "-", "*", "/", "%", "^", "==", "!=", ">", ">=", "<", "<=", "and", "or", "unless"}[op]
}

func (op binOp) isComparison() bool { return op >= binEq && op <= binLe }

func (op binOp) isSet() bool { return op >= binAnd }

// scalarBinary is `vector <op> scalar` or `scalar <op> vector`.
type scalarBinary struct {
	op           binOp
	boolModifier bool
	vec          metricNode
	scalar       float64
	scalarLeft   bool
}

func (b *scalarBinary) String() string {
	op := b.op.String()
	if b.boolModifier {
		op += " bool"
	}
	sc := strconv.FormatFloat(b.scalar, 'g', -1, 64)
	vec := b.vec.String()
	if _, ok := b.vec.(*vectorBinary); ok {
		vec = "(" + vec + ")" // (a + b) * 2 is not a + b * 2
	}
	if b.scalarLeft {
		return sc + " " + op + " " + vec
	}
	return vec + " " + op + " " + sc
}

// vectorMatching is `on (a, b)` or `ignoring (a, b)` on a binary
// operation between two vectors; nil matches on every label.
type vectorMatching struct {
	on    bool
	names []string
}

func (m *vectorMatching) String() string {
	if m == nil {
		return ""
	}
	kw := "ignoring"
	if m.on {
		kw = "on"
	}
	return kw + " (" + strings.Join(m.names, ", ") + ") "
}

// vectorBinary is `vector <op> vector`, one-to-one (or, for and, or and
// unless, many-to-many) on the labels match selects.
type vectorBinary struct {
	op           binOp
	boolModifier bool
	match        *vectorMatching
	lhs, rhs     metricNode
}

func (b *vectorBinary) String() string {
	op := b.op.String() + " "
	if b.boolModifier {
		op += "bool "
	}
	return operand(b.lhs) + " " + op + b.match.String() + operand(b.rhs)
}

// operand renders one side of a binary operation, in parentheses when it
// is itself one (the canonical form never depends on precedence).
func operand(n metricNode) string {
	switch n := n.(type) {
	case *vectorBinary, *scalarBinary:
		return "(" + n.String() + ")"
	case *legNode:
		return operand(n.q.root)
	}
	return n.String()
}

// legNode stands, in a query with binary operations between vectors, for
// a subtree with one range aggregation (a leg): q evaluates it.
type legNode struct {
	idx int
	q   *MetricQuery
}

func (l *legNode) String() string { return l.q.root.String() }

// formatDuration renders a duration the way LogQL writes it (5m, 1h30m).
func formatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	var b strings.Builder
	if d < 0 {
		b.WriteByte('-')
		d = -d
	}
	units := []struct {
		name string
		d    time.Duration
	}{{"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}, {"ms", time.Millisecond}, {"us", time.Microsecond}, {"ns", 1}}
	for _, u := range units {
		if d >= u.d {
			b.WriteString(strconv.FormatInt(int64(d/u.d), 10))
			b.WriteString(u.name)
			d %= u.d
		}
	}
	return b.String()
}

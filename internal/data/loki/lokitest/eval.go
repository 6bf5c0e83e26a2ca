package lokitest

import (
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/audittui/audittui/internal/data"
)

// The test server's own LogQL subset: stream selectors ({a="b", c=~"d.*"})
// with line filters (|=, !=, |~, !~), and the metric forms
// count_over_time / rate / bytes_over_time over such a query, optionally
// wrapped in sum / count / max / min [by|without (labels)]. Anything else
// is answered with Loki's "parse error" 400, so tests see what an
// unsupported query looks like.

type matchOp int

const (
	opEq matchOp = iota
	opNeq
	opRe
	opNre
)

type labelMatcher struct {
	name, value string
	op          matchOp
	re          *regexp.Regexp
}

func (m *labelMatcher) matches(v string) bool {
	switch m.op {
	case opEq:
		return v == m.value
	case opNeq:
		return v != m.value
	case opRe:
		return m.re.MatchString(v)
	default:
		return !m.re.MatchString(v)
	}
}

type lineFilter struct {
	op  matchOp // opEq |=, opNeq !=, opRe |~, opNre !~
	lit []byte
	re  *regexp.Regexp
}

// logQuery is a parsed stream selector plus line filters.
type logQuery struct {
	matchers []labelMatcher
	filters  []lineFilter
}

func (q *logQuery) matchesStream(ls data.Labels) bool {
	for i := range q.matchers {
		m := &q.matchers[i]
		v, _ := ls.Get(m.name)
		if !m.matches(v) {
			return false
		}
	}
	return true
}

func (q *logQuery) matchesLine(line []byte) bool {
	for _, f := range q.filters {
		var ok bool
		switch f.op {
		case opEq:
			ok = bytes.Contains(line, f.lit)
		case opNeq:
			ok = !bytes.Contains(line, f.lit)
		case opRe:
			ok = f.re.Match(line)
		default:
			ok = !f.re.Match(line)
		}
		if !ok {
			return false
		}
	}
	return true
}

// metricQuery is agg(range_fn(logQuery[rng])).
type metricQuery struct {
	log     *logQuery
	fn      string // count_over_time, rate, bytes_over_time, bytes_rate
	rng     time.Duration
	agg     string // "" or sum, count, max, min
	by      []string
	without bool
}

// parseError mimics Loki's message: "parse error at line 1, col N: ...".
type parseError struct {
	col int
	msg string
}

func (e *parseError) Error() string {
	return fmt.Sprintf("parse error at line 1, col %d: %s", e.col, e.msg)
}

type parser struct {
	s string
	i int
}

func (p *parser) errf(format string, a ...any) error {
	return &parseError{col: p.i + 1, msg: fmt.Sprintf(format, a...)}
}

func (p *parser) ws() {
	for p.i < len(p.s) && unicode.IsSpace(rune(p.s[p.i])) {
		p.i++
	}
}

func (p *parser) peek(tok string) bool {
	p.ws()
	return strings.HasPrefix(p.s[p.i:], tok)
}

func (p *parser) eat(tok string) bool {
	if p.peek(tok) {
		p.i += len(tok)
		return true
	}
	return false
}

func (p *parser) ident() string {
	p.ws()
	st := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || p.i > st && c >= '0' && c <= '9' {
			p.i++
			continue
		}
		break
	}
	return p.s[st:p.i]
}

func (p *parser) str() (string, error) {
	p.ws()
	if p.i >= len(p.s) || (p.s[p.i] != '"' && p.s[p.i] != '`') {
		return "", p.errf("syntax error: expected a string")
	}
	q, err := strconv.QuotedPrefix(p.s[p.i:])
	if err != nil {
		return "", p.errf("syntax error: bad string: %v", err)
	}
	v, err := strconv.Unquote(q)
	if err != nil {
		return "", p.errf("syntax error: bad string: %v", err)
	}
	p.i += len(q)
	return v, nil
}

// parseQuery parses a log or metric query of the subset.
func parseQuery(s string) (*logQuery, *metricQuery, error) {
	p := &parser{s: s}
	p.ws()
	if p.peek("{") {
		q, err := p.logQuery()
		if err != nil {
			return nil, nil, err
		}
		p.ws()
		if p.i != len(p.s) {
			return nil, nil, p.errf("syntax error: unexpected %q (lokitest supports only line filters after the selector)", p.s[p.i:])
		}
		return q, nil, nil
	}
	m, err := p.metric()
	if err != nil {
		return nil, nil, err
	}
	p.ws()
	if p.i != len(p.s) {
		return nil, nil, p.errf("syntax error: unexpected %q", p.s[p.i:])
	}
	return nil, m, nil
}

func (p *parser) logQuery() (*logQuery, error) {
	if !p.eat("{") {
		return nil, p.errf("syntax error: expected {")
	}
	q := &logQuery{}
	for !p.eat("}") {
		if len(q.matchers) > 0 && !p.eat(",") {
			return nil, p.errf("syntax error: expected , or }")
		}
		name := p.ident()
		if name == "" {
			return nil, p.errf("syntax error: expected a label name")
		}
		var op matchOp
		switch {
		case p.eat("=~"):
			op = opRe
		case p.eat("!~"):
			op = opNre
		case p.eat("!="):
			op = opNeq
		case p.eat("="):
			op = opEq
		default:
			return nil, p.errf("syntax error: expected a match operator after %s", name)
		}
		v, err := p.str()
		if err != nil {
			return nil, err
		}
		m := labelMatcher{name: name, value: v, op: op}
		if op == opRe || op == opNre {
			re, err := regexp.Compile("^(?:" + v + ")$")
			if err != nil {
				return nil, p.errf("invalid regex %q: %v", v, err)
			}
			m.re = re
		}
		q.matchers = append(q.matchers, m)
	}
	if len(q.matchers) == 0 {
		return nil, p.errf("syntax error: unexpected }, expected IDENTIFIER")
	}
	nonEmpty := false
	for i := range q.matchers {
		if !q.matchers[i].matches("") {
			nonEmpty = true
		}
	}
	if !nonEmpty {
		// Loki's own wording for {a=~".*"}.
		return nil, &parseError{col: 1, msg: "queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~\".*\" does not meet this requirement, but app=~\".+\" will"}
	}
	for {
		var op matchOp
		switch {
		case p.eat("|="):
			op = opEq
		case p.eat("!="):
			op = opNeq
		case p.eat("|~"):
			op = opRe
		case p.eat("!~"):
			op = opNre
		default:
			return q, nil
		}
		v, err := p.str()
		if err != nil {
			return nil, err
		}
		f := lineFilter{op: op, lit: []byte(v)}
		if op == opRe || op == opNre {
			re, err := regexp.Compile(v)
			if err != nil {
				return nil, p.errf("invalid regex %q: %v", v, err)
			}
			f.re = re
		}
		q.filters = append(q.filters, f)
	}
}

func (p *parser) metric() (*metricQuery, error) {
	name := p.ident()
	m := &metricQuery{}
	switch name {
	case "sum", "count", "max", "min":
		m.agg = name
		if p.eat("by") || p.peek("without") {
			if p.eat("without") {
				m.without = true
			}
			ls, err := p.labelList()
			if err != nil {
				return nil, err
			}
			m.by = ls
		}
		if !p.eat("(") {
			return nil, p.errf("syntax error: expected ( after %s", name)
		}
		inner := p.ident()
		if err := p.rangeFn(m, inner); err != nil {
			return nil, err
		}
		if !p.eat(")") {
			return nil, p.errf("syntax error: expected )")
		}
		if m.by == nil && (p.peek("by") || p.peek("without")) {
			if p.eat("without") {
				m.without = true
			} else {
				p.eat("by")
			}
			ls, err := p.labelList()
			if err != nil {
				return nil, err
			}
			m.by = ls
		}
		return m, nil
	default:
		return m, p.rangeFn(m, name)
	}
}

func (p *parser) labelList() ([]string, error) {
	if !p.eat("(") {
		return nil, p.errf("syntax error: expected ( after by")
	}
	ls := []string{}
	for !p.eat(")") {
		if len(ls) > 0 && !p.eat(",") {
			return nil, p.errf("syntax error: expected , or )")
		}
		n := p.ident()
		if n == "" {
			return nil, p.errf("syntax error: expected a label name")
		}
		ls = append(ls, n)
	}
	return ls, nil
}

func (p *parser) rangeFn(m *metricQuery, name string) error {
	switch name {
	case "count_over_time", "rate", "bytes_over_time", "bytes_rate":
	case "":
		return p.errf("syntax error: unexpected %q", p.s[p.i:])
	default:
		return p.errf("syntax error: unexpected IDENTIFIER %s (lokitest supports count_over_time, rate, bytes_over_time, bytes_rate)", name)
	}
	m.fn = name
	if !p.eat("(") {
		return p.errf("syntax error: expected ( after %s", name)
	}
	q, err := p.logQuery()
	if err != nil {
		return err
	}
	m.log = q
	if !p.eat("[") {
		return p.errf("syntax error: expected a range [duration]")
	}
	p.ws()
	st := p.i
	for p.i < len(p.s) && p.s[p.i] != ']' {
		p.i++
	}
	d, err := parseDuration(p.s[st:p.i])
	if err != nil || d <= 0 {
		return p.errf("invalid range %q", p.s[st:p.i])
	}
	m.rng = d
	p.i++
	if !p.eat(")") {
		return p.errf("syntax error: expected )")
	}
	return nil
}

// parseDuration accepts Prometheus durations (1d, 5m, 30s, 1h30m).
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, "d") {
		n, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
		if err != nil {
			return 0, err
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// sampleAt evaluates the range function for one stream's entries in
// (t-rng, t].
func (m *metricQuery) sampleAt(times []int64, sizes []int, t int64) (float64, bool) {
	lo := t - int64(m.rng)
	i := sort.Search(len(times), func(i int) bool { return times[i] > lo })
	j := sort.Search(len(times), func(i int) bool { return times[i] > t })
	if i >= j {
		return 0, false
	}
	var v float64
	switch m.fn {
	case "count_over_time", "rate":
		v = float64(j - i)
	default:
		for k := i; k < j; k++ {
			v += float64(sizes[k])
		}
	}
	if m.fn == "rate" || m.fn == "bytes_rate" {
		v /= m.rng.Seconds()
	}
	return v, true
}

// groupLabels applies by/without to a stream's labels.
func (m *metricQuery) groupLabels(ls data.Labels) data.Labels {
	if m.agg == "" {
		return ls
	}
	var out data.Labels
	for _, l := range ls {
		in := false
		for _, b := range m.by {
			if b == l.Name {
				in = true
			}
		}
		if in != m.without {
			out = append(out, l)
		}
	}
	return out
}

func aggregate(agg string, vals []float64) float64 {
	switch agg {
	case "count":
		return float64(len(vals))
	case "max", "min":
		v := vals[0]
		for _, x := range vals[1:] {
			if (agg == "max") == (x > v) {
				v = x
			}
		}
		return v
	default:
		var s float64
		for _, x := range vals {
			s += x
		}
		return s
	}
}

package ui

import (
	"context"
	"regexp"
	"strconv"
	"strings"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
)

// Filter is a compiled filter over the index: the LogQL query of the
// filter bar (possibly negated) plus the constraints of commands (:since)
// and pivots. It evaluates as much as it can on dictionary ids: a
// predicate on one indexed field is computed once per distinct value, then
// each row costs one table lookup. Only predicates that need fields the
// index does not keep (line filters, request bodies, ...) re-read the raw
// event.
type Filter struct {
	Text   string // what the user typed (for the filter line)
	Negate bool   // `/!`: show the events the query does NOT match
	// Note, when set, says how the text was read (a plain search, an
	// unknown field): shown beside the filter line.
	Note string
	// Since, when not 0, drops events older than this (Unix ns); Until,
	// when not 0, drops events at or after it (window.go).
	Since int64
	Until int64

	// cols are conjunctive predicates on single indexed fields.
	cols []*colPred
	// raw is the predicate that needs the original event; nil: none.
	raw func(e *data.Event) bool
	// index is a predicate on the index row itself (alert drill-in by
	// auditID); nil: none.
	index func(s *Snapshot, i int) bool
	// lq is the LogQL query (nil: none); memo evaluates it on the index;
	// lineFilters means it filters on the raw line, so every candidate row
	// is re-read.
	lq          *logql.LogQuery
	memo        *queryMemo
	lineFilters bool
	// unbound are the label names the query filters on that it does not
	// bind itself (checkFields).
	unbound []string
	// query is true when any of cols/raw/lq came from the query (so that
	// Negate applies to them, not to Since).
	query bool
}

// colPred is a predicate on one column, memoised per dictionary id.
type colPred struct {
	col  Col
	eval func(v string) bool
	memo []uint8 // 0 unknown, 1 match, 2 no match; index = dict id
}

func (p *colPred) match(s *Snapshot, i int) bool {
	id := s.ID(p.col, i)
	if int(id) >= len(p.memo) {
		grown := make([]uint8, len(s.Values(p.col))+64)
		copy(grown, p.memo)
		p.memo = grown
	}
	switch p.memo[id] {
	case 1:
		return true
	case 2:
		return false
	}
	ok := p.eval(s.Value(p.col, id))
	if ok {
		p.memo[id] = 1
	} else {
		p.memo[id] = 2
	}
	return ok
}

// EqualsQuery returns the LogQL the TUI writes for "column c is value"
// (with several columns: any of them is). It is a query `audittui query`
// and Grafana answer the same, built from the schema: a field `| json`
// produces is filtered by its name, an array element is reached with the
// JSON expression stage of its schema row, e.g.
//
//	{job="audit"} | json | user_username="alice" or impersonatedUser_username="alice"
//	{job="audit"} | json | json sourceIP="sourceIPs[0]" | sourceIP="10.0.0.1"
//
// The filter compiled from it is answered from the columns (no re-read).
func EqualsQuery(value string, cs ...Col) string { return equalsQuery(shorthandSelector, value, cs...) }

// equalsQuery is EqualsQuery starting with the selector sel
// (Common.shorthand).
func equalsQuery(sel, value string, cs ...Col) string {
	var b strings.Builder
	b.WriteString(sel)
	staged := map[Col]bool{}
	for _, c := range cs {
		if spec := ColSpec(c); spec.Kind == data.FieldExpr && !staged[c] {
			staged[c] = true
			b.WriteString(" | " + spec.Stage())
		}
	}
	b.WriteString(" | ")
	for k, c := range cs {
		if k > 0 {
			b.WriteString(" or ")
		}
		b.WriteString(ColField(c) + "=" + strconv.Quote(value))
	}
	return b.String()
}

// SourceIPQuery returns the LogQL of the events one of whose sourceIPs is
// ip: X-Forwarded-For's, X-Real-Ip's or the address the connection came
// from (the last), as the built-in rules read the addresses, e.g.
//
//	{job="audit"} | json | json src_ips="sourceIPs" | src_ips=~`.*"10\.0\.0\.1".*`
//
// The sourceIP field (sourceIPs[0]) is the first address only, which the
// client sets when it sends X-Forwarded-For. The filter compiled from it
// is answered from the columns (no re-read).
func SourceIPQuery(ip string) string {
	js, _ := data.SourceIPsJSON(&data.Event{SourceIPs: []string{ip}}) // ["ip"], escaped as in the array's text
	re := ".*" + regexp.QuoteMeta(js[1:len(js)-1]) + ".*"
	lit := "`" + re + "`"
	if strings.Contains(re, "`") {
		lit = strconv.Quote(re)
	}
	return shorthandSelector + ` | json src_ips="` + data.SourceIPsPath + `" | src_ips=~` + lit
}

// DrillQuery returns the filter text that narrows f to the events also
// matching the label filter pred (user_username="alice" | verb="get"):
// f's query with pred as further stages, or pred alone (the shorthand)
// when f has no query or is negated. A full query without a json stage
// gets one before pred.
func DrillQuery(f *Filter, pred string) string {
	if f == nil || !f.query || f.Negate || f.Text == "" {
		return pred
	}
	text := f.Text
	if f.lq != nil && !strings.Contains(f.lq.String(), "| json") {
		return text + " | json | " + pred
	}
	return text + " | " + pred
}

// EqualsFilter compiles EqualsQuery (used by pivots and drill-ins).
func EqualsFilter(value string, cs ...Col) (*Filter, error) {
	return CompileLogQL(EqualsQuery(value, cs...))
}

// equalsFilter is EqualsFilter with the session's selector
// (Common.shorthand).
func (c *Common) equalsFilter(value string, cs ...Col) (*Filter, error) {
	return CompileLogQL(equalsQuery(c.shorthand(), value, cs...))
}

// Active reports whether the filter restricts anything.
func (f *Filter) Active() bool { return f != nil && (f.query || f.Since != 0 || f.Until != 0) }

// NeedsRaw reports whether evaluation re-reads events.
func (f *Filter) NeedsRaw() bool { return f != nil && (f.raw != nil || f.lineFilters) }

// Clone returns a copy with fresh memo tables (filters run in commands one
// at a time, but a clone keeps runs independent).
func (f *Filter) Clone() *Filter {
	if f == nil {
		return nil
	}
	c := *f
	c.memo = nil
	c.cols = make([]*colPred, len(f.cols))
	for k, p := range f.cols {
		c.cols[k] = &colPred{col: p.col, eval: p.eval}
	}
	return &c
}

// Eval appends to rows the matching rows at display positions [from,
// s.Len()) (see Snapshot.Row), in display order. It checks ctx every few
// thousand rows and stops early with ctx.Err().
func (f *Filter) Eval(ctx context.Context, s *Snapshot, from int, rows []uint32) ([]uint32, error) {
	return f.EvalRange(ctx, s, from, s.Len(), rows)
}

// EvalRange is Eval over rows [from, to).
func (f *Filter) EvalRange(ctx context.Context, s *Snapshot, from, to int, rows []uint32) ([]uint32, error) {
	rows, _, err := f.evalRange(ctx, s, from, to, rows)
	return rows, err
}

// evalRange is EvalRange that also counts the rows it could not search:
// their bytes are gone from a followed file cut in place since they were
// read (cutReader), with no copy holding them.
func (f *Filter) evalRange(ctx context.Context, s *Snapshot, from, to int, rows []uint32) (_ []uint32, gone int, _ error) {
	return f.evalRangeGone(ctx, s, from, to, rows, nil)
}

// evalRangeGone is evalRange that tells onGone (when set) each row it
// could not search (:export names them).
func (f *Filter) evalRangeGone(ctx context.Context, s *Snapshot, from, to int, rows []uint32, onGone func(i int)) (_ []uint32, gone int, _ error) {
	n := min(to, s.Len())
	cr := newCutReader(s)
	cr.onGone = onGone
	defer cr.close()
	var evs []data.Event
	for p := from; p < n; p++ {
		if p&0xfff == 0 && ctx.Err() != nil {
			return rows, cr.gone, ctx.Err()
		}
		i := s.Row(p)
		if f.Since != 0 && s.Time(i) < f.Since {
			continue
		}
		if f.Until != 0 && s.Time(i) >= f.Until {
			continue
		}
		if !f.query {
			rows = append(rows, uint32(i))
			continue
		}
		ok := true
		for _, p := range f.cols {
			if !p.match(s, i) {
				ok = false
				break
			}
		}
		if ok && f.index != nil {
			ok = f.index(s, i)
		}
		needRaw := f.raw != nil
		pred := f.raw
		if ok && f.lq != nil {
			if f.memo == nil {
				f.memo = &queryMemo{q: f.lq}
			}
			if f.lineFilters {
				needRaw, pred = true, f.memo.matchRaw
			} else {
				switch f.memo.eval(s, i) {
				case 0:
					ok = false
				case -1:
					needRaw, pred = true, f.memo.matchRaw
				}
			}
		}
		if ok && needRaw {
			var read bool
			var err error
			evs, read, err = cr.read(i, evs)
			if err != nil {
				return rows, cr.gone, err
			}
			if !read {
				continue // gone: neither matched nor unmatched (counted)
			}
			ok = false
			// An EventList line yields several events; the row is the one
			// whose bytes these are, so any match counts.
			for k := range evs {
				if pred(&evs[k]) {
					ok = true
					break
				}
			}
		}
		if ok != f.Negate {
			rows = append(rows, uint32(i))
		}
	}
	return rows, cr.gone, nil
}

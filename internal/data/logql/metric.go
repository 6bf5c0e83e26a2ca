package logql

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// Point is one value of a series at time T (Unix nanoseconds).
type Point struct {
	T int64
	V float64
}

// Series is one labelled series of a range query.
type Series struct {
	Labels Labels
	Points []Point
}

// Matrix is the result of a range query, series sorted by labels.
type Matrix []Series

// Sample is one labelled value of an instant query.
type Sample struct {
	Labels Labels
	T      int64
	V      float64
}

// Vector is the result of an instant query.
type Vector []Sample

// MaxPoints is the largest number of steps a range query may have (as
// Loki's "maximum resolution of 11,000 points per time series").
const MaxPoints = 11000

// leafMode says how the range aggregation groups entries.
type leafMode int

const (
	// modeSeries keeps one series per full label set.
	modeSeries leafMode = iota
	// modeSum groups entries directly by the parent sum's grouping: the
	// sum of per-series counts is the count of the grouped entries.
	modeSum
	// modeCount groups by the parent count's grouping and counts distinct
	// inner series (identified by a hash of their label set).
	modeCount
	// modeGrouped serves a parent min, max or avg: inner series are kept
	// (their values are needed) but identified by a hash, and carry only
	// the parent's group labels, so distinct events cost no label memory.
	modeGrouped
	// modeAbsent serves absent_over_time: only whether any entry is in a
	// step's window matters, so every entry goes to one unlabelled series.
	modeAbsent
	// modeUnwrap keeps each series' samples (time, unwrapped value).
	modeUnwrap
)

// init decides how the leaf is evaluated: when the range aggregation's
// parent is sum or count, the grouping is pushed into the leaf so that
// `sum by (user) (rate({..} | json [5m]))` never builds one series per
// distinct event.
func (q *MetricQuery) init() {
	q.fusedParent = nil
	q.mode = modeSeries
	q.aggs = nil
	var walk func(n metricNode)
	walk = func(n metricNode) {
		switch n := n.(type) {
		case *vectorAgg:
			walk(n.inner)
			q.aggs = append(q.aggs, n)
		case *scalarBinary:
			walk(n.vec)
		}
	}
	walk(q.root)
	var parentOf func(n metricNode) *vectorAgg
	parentOf = func(n metricNode) *vectorAgg {
		switch n := n.(type) {
		case *vectorAgg:
			if n.inner == metricNode(q.leaf) {
				return n
			}
			return parentOf(n.inner)
		case *scalarBinary:
			return parentOf(n.vec)
		}
		return nil
	}
	if q.leaf.op == opAbsentOverTime {
		q.mode = modeAbsent
		return
	}
	if q.leaf.log.unwrap != nil {
		q.mode = modeUnwrap
		return
	}
	p := parentOf(q.root)
	if p == nil {
		return
	}
	switch p.op {
	case aggSum:
		q.mode = modeSum
		q.fusedParent = p
	case aggCount:
		q.mode = modeCount
		q.fusedParent = p
	case aggMin, aggMax, aggAvg:
		q.mode = modeGrouped
		q.fusedParent = p
	}
}

// Evaluator evaluates a metric query over entries fed in time order. It
// is not safe for concurrent use.
type Evaluator struct {
	q     *MetricQuery
	start int64
	step  int64 // 0 for an instant query
	n     int   // number of steps
	rng   int64
	off   int64

	errs     int64  // entries that reached the result with __error__ set
	firstErr string // the first one's __error__ and details

	// Unique, when set, is asked about each entry the pipeline keeps,
	// before it counts: false drops it (an exact copy of an entry counted
	// already: Loki stores such duplicates once).
	Unique func(Entry) bool

	// subs evaluate the legs of a query with binary operations between
	// vectors (MetricQuery.legs), on the same steps.
	subs []*Evaluator
	// matchErr is the first vector matching error of the last Result;
	// matchFailed the steps (indexes) where matching failed.
	matchErr    string
	matchFailed map[int32]bool

	seed   maphash.Seed
	series map[string]*leafSeries // modeSeries, modeSum: key -> series
	groups map[string]*countGroup // modeCount
	keyBuf []byte
}

type leafSeries struct {
	labels  Labels
	starts  []delta
	ends    []delta
	samples []unwrapped // modeUnwrap
}

// unwrapped is one entry's unwrapped value at time t.
type unwrapped struct {
	t int64
	v float64
}

// compareSamples orders samples by time and those of one time by value
// (NaN first, -0 before 0): a total order, so first_over_time,
// last_over_time (the least, the greatest of the samples at the window's
// first, last time) and the floating-point sums never depend on the order
// entries came in. Loki leaves the order of one stream's entries of one
// nanosecond to their arrival.
func compareSamples(a, b unwrapped) int {
	if c := cmp.Compare(a.t, b.t); c != 0 {
		return c
	}
	if c := cmp.Compare(a.v, b.v); c != 0 {
		return c
	}
	return cmp.Compare(signOrder(b.v), signOrder(a.v))
}

// signOrder is 1 for a negative sign bit (-0), else 0.
func signOrder(v float64) int {
	if math.Signbit(v) {
		return 1
	}
	return 0
}

// delta adds n entries and b bytes from step idx on.
type delta struct {
	idx int32
	n   int64
	b   int64
}

type countGroup struct {
	labels Labels
	inner  map[uint64][]stepRange // modeCount
	series map[uint64]*leafSeries // modeGrouped
}

type stepRange struct{ lo, hi int32 }

// NewRangeEvaluator prepares a range query from start to end (inclusive,
// Unix nanoseconds) every step. Steps are start, start+step, ... <= end.
func (q *MetricQuery) NewRangeEvaluator(start, end int64, step time.Duration) (*Evaluator, error) {
	if step <= 0 {
		return nil, errors.New("step must be greater than zero")
	}
	if end < start {
		return nil, errors.New("end is before start")
	}
	n := (end-start)/int64(step) + 1
	if n > MaxPoints {
		return nil, fmt.Errorf("%d steps exceed the maximum resolution of %d points per series: increase the step", n, MaxPoints)
	}
	ev := q.newEvaluator(start, int64(step), int(n))
	return ev, nil
}

// NewInstantEvaluator prepares an instant query at time t (Unix nanoseconds).
func (q *MetricQuery) NewInstantEvaluator(t int64) *Evaluator {
	return q.newEvaluator(t, 0, 1)
}

func (q *MetricQuery) newEvaluator(start, step int64, n int) *Evaluator {
	ev := &Evaluator{q: q, start: start, step: step, n: n, rng: int64(q.Range()), off: int64(q.Offset())}
	if q.leaf == nil {
		ev.subs = make([]*Evaluator, len(q.legs))
		for i, l := range q.legs {
			ev.subs[i] = l.newEvaluator(start, step, n)
		}
		return ev
	}
	ev.seed = maphash.MakeSeed()
	if q.mode == modeCount || q.mode == modeGrouped {
		ev.groups = make(map[string]*countGroup)
	} else {
		ev.series = make(map[string]*leafSeries)
	}
	return ev
}

// Window returns the entry times the evaluation uses: from (exclusive)
// to to (inclusive), in Unix nanoseconds. Entries outside are ignored, so
// a source may skip them.
func (ev *Evaluator) Window() (from, to int64) {
	last := ev.start + int64(ev.n-1)*ev.step
	return ev.start - ev.off - ev.rng, last - ev.off
}

// stepTime is the time of step i.
func (ev *Evaluator) stepTime(i int) int64 { return ev.start + int64(i)*ev.step }

// steps returns the step indexes [i0, i1) whose window (t-offset-range,
// t-offset] holds time ts.
func (ev *Evaluator) steps(ts int64) (int, int) {
	if ev.step == 0 {
		t := ev.start - ev.off
		if ts <= t && ts > t-ev.rng {
			return 0, 1
		}
		return 0, 0
	}
	// step i holds ts iff ts+off <= t_i < ts+off+rng.
	i0 := ceilDiv(ts+ev.off-ev.start, ev.step)
	i1 := ceilDiv(ts+ev.off+ev.rng-ev.start, ev.step)
	if i0 < 0 {
		i0 = 0
	}
	if i1 > int64(ev.n) {
		i1 = int64(ev.n)
	}
	if i0 >= i1 {
		return 0, 0
	}
	return int(i0), int(i1)
}

func ceilDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a > 0) == (b > 0) {
		q++
	}
	return q
}

// Add feeds one entry. Entries should come in time order (small disorder
// is handled exactly, at some memory cost); entries outside Window, not
// selected, or dropped by the pipeline are ignored.
func (ev *Evaluator) Add(e Entry) {
	if ev.subs != nil {
		ev.addLegs(e)
		return
	}
	i0, i1 := ev.steps(e.EntryTime())
	if i0 >= i1 {
		return
	}
	q := ev.q.leaf.log
	if !q.matchSelector(e) {
		return
	}
	var st evalState
	st.e = e
	if !q.run(&st) {
		return
	}
	ev.add(&st, i0, i1)
}

// addLegs is Add for a query with legs: each leg's pipeline runs on the
// entry; Unique is asked once, if some leg keeps it.
func (ev *Evaluator) addLegs(e Entry) {
	var c Contribution
	if !ev.q.Contribute(e, &c) {
		return
	}
	ev.AddContribution(&c)
}

// AddContribution adds the entry of c, which Contribute accepted for this
// evaluator's query, as Add would, without running the pipeline again.
func (ev *Evaluator) AddContribution(c *Contribution) {
	if ev.subs != nil {
		if ev.Unique != nil && !ev.Unique(c.st.e) {
			return
		}
		for i, sub := range ev.subs {
			if !c.legOK[i] {
				continue
			}
			if i0, i1 := sub.steps(c.legs[i].e.EntryTime()); i0 < i1 {
				sub.add(&c.legs[i], i0, i1)
			}
		}
		return
	}
	i0, i1 := ev.steps(c.st.e.EntryTime())
	if i0 >= i1 {
		return
	}
	ev.add(&c.st, i0, i1)
}

// add counts an entry the pipeline kept (st) in steps [i0, i1).
func (ev *Evaluator) add(st *evalState, i0, i1 int) {
	if ev.Unique != nil && !ev.Unique(st.e) {
		return
	}
	size := int64(len(st.line)) // after line_format, as Loki counts
	if st.err != "" {
		if ev.errs == 0 {
			ev.firstErr = st.err
			if st.errDetails != "" {
				ev.firstErr += " (" + st.errDetails + ")"
			}
		}
		ev.errs++
	}
	switch ev.q.mode {
	case modeSum:
		g := ev.q.fusedParent.group
		var s *leafSeries
		if g == nil || g.without {
			var ls Labels
			if g != nil {
				ls = dropNames(st.fullLabels(), g.names)
			}
			s = ev.seriesFor(ls)
		} else {
			s = ev.seriesBy(st, g.names)
		}
		s.add(i0, i1, size)
	case modeCount:
		full := st.fullLabels()
		gl := projectLabels(full, ev.q.fusedParent.group)
		key := gl.key()
		cg := ev.groups[key]
		if cg == nil {
			cg = &countGroup{labels: ownLabels(gl), inner: make(map[uint64][]stepRange)}
			ev.groups[key] = cg
		}
		h := ev.hashLabels(full)
		cg.inner[h] = addRange(cg.inner[h], stepRange{int32(i0), int32(i1)})
	case modeAbsent:
		ev.seriesFor(nil).add(i0, i1, size)
	case modeUnwrap:
		s := ev.seriesFor(ev.q.leafLabels(st))
		s.samples = append(s.samples, unwrapped{st.e.EntryTime(), st.value})
	case modeGrouped:
		full := st.fullLabels()
		gl := projectLabels(full, ev.q.fusedParent.group)
		key := gl.key()
		cg := ev.groups[key]
		if cg == nil {
			gl = ownLabels(gl)
			cg = &countGroup{labels: gl, series: make(map[uint64]*leafSeries)}
			ev.groups[key] = cg
		}
		h := ev.hashLabels(full)
		s := cg.series[h]
		if s == nil {
			s = &leafSeries{labels: cg.labels}
			cg.series[h] = s
		}
		s.add(i0, i1, size)
	default:
		ev.seriesFor(st.fullLabels()).add(i0, i1, size)
	}
}

// seriesBy finds the series for the values of the by-labels, building the
// key without allocating when the series exists.
func (ev *Evaluator) seriesBy(st *evalState, names []string) *leafSeries {
	buf := ev.keyBuf[:0]
	for _, n := range names {
		v, _ := st.lookup(n)
		buf = binary.AppendUvarint(buf, uint64(len(v)))
		buf = append(buf, v...)
	}
	ev.keyBuf = buf
	if s, ok := ev.series[string(buf)]; ok {
		return s
	}
	var ls Labels
	for _, n := range names {
		if v, _ := st.lookup(n); v != "" {
			ls = append(ls, Label{Name: n, Value: v})
		}
	}
	ls = ownLabels(sortDedupLabels(ls))
	s := &leafSeries{labels: ls}
	ev.series[string(buf)] = s
	return s
}

func (ev *Evaluator) seriesFor(ls Labels) *leafSeries {
	key := ls.key()
	s := ev.series[key]
	if s == nil {
		s = &leafSeries{labels: ownLabels(ls)}
		ev.series[key] = s
	}
	return s
}

// ownLabels copies a label set's strings. Label values found in an entry
// may point into the reader's buffer of many lines; an evaluator keeps its
// series for as long as it lives, and must not keep those buffers alive.
func ownLabels(ls Labels) Labels {
	out := make(Labels, len(ls))
	for i, l := range ls {
		out[i] = Label{Name: strings.Clone(l.Name), Value: strings.Clone(l.Value)}
	}
	return out
}

func (ev *Evaluator) hashLabels(ls Labels) uint64 {
	var h maphash.Hash
	h.SetSeed(ev.seed)
	for _, l := range ls {
		h.WriteString(l.Name)
		h.WriteByte(0xff)
		h.WriteString(l.Value)
		h.WriteByte(0xfe)
	}
	return h.Sum64()
}

func (s *leafSeries) add(i0, i1 int, size int64) {
	s.starts = addDelta(s.starts, int32(i0), size)
	s.ends = addDelta(s.ends, int32(i1), size)
}

func addDelta(ds []delta, idx int32, size int64) []delta {
	if n := len(ds); n > 0 && ds[n-1].idx == idx {
		ds[n-1].n++
		ds[n-1].b += size
		return ds
	}
	return append(ds, delta{idx: idx, n: 1, b: size})
}

// addRange merges r into the sorted disjoint ranges rs.
func addRange(rs []stepRange, r stepRange) []stepRange {
	if n := len(rs); n > 0 {
		last := &rs[n-1]
		if r.lo >= last.lo {
			if r.lo <= last.hi {
				if r.hi > last.hi {
					last.hi = r.hi
				}
				return rs
			}
			return append(rs, r)
		}
	}
	// Out of order: insert and merge.
	rs = append(rs, r)
	sort.Slice(rs, func(i, j int) bool { return rs[i].lo < rs[j].lo })
	out := rs[:1]
	for _, x := range rs[1:] {
		last := &out[len(out)-1]
		if x.lo <= last.hi {
			if x.hi > last.hi {
				last.hi = x.hi
			}
			continue
		}
		out = append(out, x)
	}
	return out
}

// stepPoints is a series on step indexes.
type stepSeries struct {
	labels Labels
	pts    []stepPoint
}

type stepPoint struct {
	i int32
	v float64
}

// leafResult turns the accumulated deltas into series of step points.
func (ev *Evaluator) leafResult() []stepSeries {
	var out []stepSeries
	secs := float64(ev.rng) / float64(time.Second)
	op := ev.q.leaf.op
	if ev.q.mode == modeUnwrap {
		return ev.unwrapResult()
	}
	if ev.q.mode == modeCount {
		for _, g := range ev.groups {
			diff := make([]int64, ev.n+1)
			for _, rs := range g.inner {
				for _, r := range rs {
					diff[r.lo]++
					diff[r.hi]--
				}
			}
			var pts []stepPoint
			var cur int64
			for i := 0; i < ev.n; i++ {
				cur += diff[i]
				if cur > 0 {
					pts = append(pts, stepPoint{int32(i), float64(cur)})
				}
			}
			if len(pts) > 0 {
				out = append(out, stepSeries{labels: g.labels, pts: pts})
			}
		}
		return out
	}
	all := make([]*leafSeries, 0, len(ev.series))
	for _, s := range ev.series {
		all = append(all, s)
	}
	for _, g := range ev.groups {
		for _, s := range g.series {
			all = append(all, s)
		}
	}
	for _, s := range all {
		sortDeltas(s.starts)
		sortDeltas(s.ends)
		var pts []stepPoint
		var n, b int64
		si, ei := 0, 0
		for si < len(s.starts) || ei < len(s.ends) {
			// Next step index where something changes.
			idx := int32(math.MaxInt32)
			if si < len(s.starts) {
				idx = s.starts[si].idx
			}
			if ei < len(s.ends) && s.ends[ei].idx < idx {
				idx = s.ends[ei].idx
			}
			for si < len(s.starts) && s.starts[si].idx == idx {
				n += s.starts[si].n
				b += s.starts[si].b
				si++
			}
			for ei < len(s.ends) && s.ends[ei].idx == idx {
				n -= s.ends[ei].n
				b -= s.ends[ei].b
				ei++
			}
			if n <= 0 {
				continue
			}
			next := int32(ev.n)
			if si < len(s.starts) {
				next = min(next, s.starts[si].idx)
			}
			if ei < len(s.ends) {
				next = min(next, s.ends[ei].idx)
			}
			var v float64
			switch op {
			case opCountOverTime:
				v = float64(n)
			case opRate:
				v = float64(n) / secs
			case opBytesOverTime:
				v = float64(b)
			case opBytesRate:
				v = float64(b) / secs
			}
			for i := idx; i < next; i++ {
				pts = append(pts, stepPoint{i, v})
			}
		}
		if len(pts) > 0 {
			out = append(out, stepSeries{labels: s.labels, pts: pts})
		}
	}
	if op == opAbsentOverTime {
		return ev.absentResult(out)
	}
	return out
}

// leafLabels are the labels an entry the pipeline kept counts under in
// the range aggregation: all of them, but over unwrapped values the
// range's own grouping applies and the unwrapped label is dropped (Loki
// adds it to the without list, or by keeps only the names given).
func (q *MetricQuery) leafLabels(st *evalState) Labels {
	full := st.fullLabels()
	u := q.leaf.log.unwrap
	if u == nil {
		return full
	}
	g := q.leaf.group
	if g != nil && !g.without {
		return projectLabels(full, g)
	}
	drop := []string{u.label}
	if g != nil {
		drop = append(drop, g.names...)
	}
	return dropNames(full, drop)
}

// unwrapResult computes a function of unwrapped values at each step,
// over the samples in its window (t-offset-range, t-offset].
func (ev *Evaluator) unwrapResult() []stepSeries {
	leaf := ev.q.leaf
	secs := float64(ev.rng) / float64(time.Second)
	var out []stepSeries
	var vals []float64
	for _, s := range ev.series {
		ss := s.samples
		slices.SortFunc(ss, compareSamples)
		var pts []stepPoint
		lo, hi := 0, 0
		for i := 0; i < ev.n; i++ {
			end := ev.stepTime(i) - ev.off
			for hi < len(ss) && ss[hi].t <= end {
				hi++
			}
			for lo < hi && ss[lo].t <= end-ev.rng {
				lo++
			}
			if lo == hi {
				continue
			}
			w := ss[lo:hi]
			var v float64
			switch leaf.op {
			case opSumOverTime, opRate:
				for _, x := range w {
					v += x.v
				}
				if leaf.op == opRate {
					v /= secs
				}
			case opAvgOverTime:
				for _, x := range w {
					v += x.v
				}
				v /= float64(len(w))
			case opMinOverTime, opMaxOverTime:
				v = w[0].v
				for _, x := range w[1:] {
					if leaf.op == opMinOverTime && x.v < v || leaf.op == opMaxOverTime && x.v > v || math.IsNaN(v) {
						v = x.v
					}
				}
			case opFirstOverTime:
				v = w[0].v
			case opLastOverTime:
				v = w[len(w)-1].v
			case opStddevOverTime, opStdvarOverTime:
				var mean float64
				for _, x := range w {
					mean += x.v
				}
				mean /= float64(len(w))
				for _, x := range w {
					v += (x.v - mean) * (x.v - mean)
				}
				v /= float64(len(w))
				if leaf.op == opStddevOverTime {
					v = math.Sqrt(v)
				}
			case opQuantileOverTime:
				vals = vals[:0]
				for _, x := range w {
					vals = append(vals, x.v)
				}
				v = quantile(leaf.param, vals)
			}
			pts = append(pts, stepPoint{int32(i), v})
		}
		if len(pts) > 0 {
			out = append(out, stepSeries{labels: s.labels, pts: pts})
		}
	}
	return out
}

// quantile is Prometheus's φ-quantile of vs (which it sorts): linear
// interpolation between the closest ranks; -Inf below 0, +Inf above 1.
func quantile(q float64, vs []float64) float64 {
	switch {
	case len(vs) == 0 || math.IsNaN(q):
		return math.NaN()
	case q < 0:
		return math.Inf(-1)
	case q > 1:
		return math.Inf(1)
	}
	slices.Sort(vs)
	rank := q * float64(len(vs)-1)
	lower := math.Max(0, math.Floor(rank))
	upper := math.Min(float64(len(vs)-1), lower+1)
	w := rank - math.Floor(rank)
	return vs[int(lower)]*(1-w) + vs[int(upper)]*w
}

// absentResult turns the steps where entries were counted (present)
// into absent_over_time's result: 1 at every other step, labelled with
// the selector's equality matchers.
func (ev *Evaluator) absentResult(present []stepSeries) []stepSeries {
	seen := make([]bool, ev.n)
	for _, s := range present {
		for _, p := range s.pts {
			seen[p.i] = true
		}
	}
	var pts []stepPoint
	for i, ok := range seen {
		if !ok {
			pts = append(pts, stepPoint{int32(i), 1})
		}
	}
	if len(pts) == 0 {
		return nil
	}
	return []stepSeries{{labels: ev.q.leaf.log.absentLabels(), pts: pts}}
}

// absentLabels are the labels of absent_over_time's result: the
// selector's equality matchers, as Loki (and Prometheus's absent) derive
// them; a name matched for equality twice is left out.
func (q *LogQuery) absentLabels() Labels {
	ls := Labels{}
	dup := map[string]bool{}
	for _, m := range q.matchers {
		if m.Op != MatchEqual {
			continue
		}
		if slices.ContainsFunc(ls, func(l Label) bool { return l.Name == m.Name }) {
			dup[m.Name] = true
			continue
		}
		ls = append(ls, Label{Name: m.Name, Value: m.Value})
	}
	ls = slices.DeleteFunc(ls, func(l Label) bool { return dup[l.Name] })
	return sortDedupLabels(ls)
}

// ReturnsWithoutEntries reports whether the query has a result where no
// entry was counted (absent_over_time, alone or under operators that keep
// its value): an alert engine that evaluates only the steps some entry
// reaches must evaluate every step for it.
func (q *MetricQuery) ReturnsWithoutEntries() bool {
	return len(q.NewInstantEvaluator(0).Vector()) > 0
}

// LegReturnsWithoutEntries is ReturnsWithoutEntries of leg i
// (LogQueries' order): of the query itself when it has one leg.
func (q *MetricQuery) LegReturnsWithoutEntries(i int) bool {
	if q.leaf != nil {
		return q.ReturnsWithoutEntries()
	}
	return q.legs[i].ReturnsWithoutEntries()
}

// NoResultWithout reports whether the query has no result, whatever the
// other legs read, when each leg i (LogQueries' order) with none[i]
// reads no entry (its selector selects no stream): a binary operation
// between vectors answers nothing when either side does (and, the
// arithmetic and comparison operators), when its left side does
// (unless), or when both do (or); a leg of absent_over_time has its
// value without entries. It is the question "can this rule ever fire?"
// asked of the legs that watch nothing.
func (q *MetricQuery) NoResultWithout(none []bool) bool {
	if q.leaf != nil {
		return len(none) > 0 && none[0] && !q.ReturnsWithoutEntries()
	}
	return !q.mayReturn(q.root, none)
}

// mayReturn reports whether n may have a result when the legs with
// none[i] read nothing.
func (q *MetricQuery) mayReturn(n metricNode, none []bool) bool {
	switch n := n.(type) {
	case *legNode:
		return n.idx >= len(none) || !none[n.idx] || n.q.ReturnsWithoutEntries()
	case *vectorAgg:
		return q.mayReturn(n.inner, none)
	case *scalarBinary:
		return q.mayReturn(n.vec, none)
	case *vectorBinary:
		l, r := q.mayReturn(n.lhs, none), q.mayReturn(n.rhs, none)
		switch n.op {
		case binOr:
			return l || r
		case binUnless:
			return l
		}
		return l && r
	}
	return true
}

func sortDeltas(ds []delta) {
	if slices.IsSortedFunc(ds, func(a, b delta) int { return int(a.idx - b.idx) }) {
		return
	}
	slices.SortStableFunc(ds, func(a, b delta) int { return int(a.idx - b.idx) })
}

// evalNode evaluates the expression tree above the leaf.
func (ev *Evaluator) evalNode(n metricNode) []stepSeries {
	switch n := n.(type) {
	case *rangeAgg:
		return ev.leafResult()
	case *vectorAgg:
		in := ev.evalNode(n.inner)
		if n == ev.q.fusedParent && (ev.q.mode == modeSum || ev.q.mode == modeCount) {
			return in // the leaf already aggregated the entries
		}
		return aggregate(n, in)
	case *legNode:
		sub := ev.subs[n.idx]
		return sub.evalNode(sub.q.root)
	case *vectorBinary:
		res, err, failed := binaryVectors(n, ev.evalNode(n.lhs), ev.evalNode(n.rhs))
		if err != "" && ev.matchErr == "" {
			ev.matchErr = err
		}
		if len(failed) > 0 {
			if ev.matchFailed == nil {
				ev.matchFailed = map[int32]bool{}
			}
			for _, i := range failed {
				ev.matchFailed[i] = true
			}
		}
		return res
	case *scalarBinary:
		in := ev.evalNode(n.vec)
		out := in[:0]
		for _, s := range in {
			pts := s.pts[:0]
			for _, p := range s.pts {
				a, b := p.v, n.scalar
				if n.scalarLeft {
					a, b = b, a
				}
				r := applyBinOp(n.op, a, b)
				if n.op.isComparison() && !n.boolModifier {
					if r == 0 {
						continue
					}
					r = p.v
				}
				pts = append(pts, stepPoint{p.i, r})
			}
			if len(pts) > 0 {
				out = append(out, stepSeries{labels: s.labels, pts: pts})
			}
		}
		return out
	}
	return nil
}

// aggregate applies a (non-fused) vector aggregation step by step.
func aggregate(v *vectorAgg, in []stepSeries) []stepSeries {
	type member struct {
		series int
		stepPoint
	}
	// The series in label order (they come in map order): a group's sum
	// then adds the same floats in the same order every run.
	slices.SortStableFunc(in, func(a, b stepSeries) int { return compareLabels(a.labels, b.labels) })
	groups := map[string][]member{}
	var order []string
	glabels := map[string]Labels{}
	for si, s := range in {
		gl := projectLabels(s.labels, v.group)
		k := gl.key()
		if _, ok := groups[k]; !ok {
			order = append(order, k)
			glabels[k] = gl
		}
		for _, p := range s.pts {
			groups[k] = append(groups[k], member{si, p})
		}
	}
	var out []stepSeries
	if v.op == aggTopK || v.op == aggBottomK {
		pts := make([][]stepPoint, len(in))
		for _, k := range order {
			ms := groups[k]
			sort.SliceStable(ms, func(i, j int) bool {
				if ms[i].i != ms[j].i {
					return ms[i].i < ms[j].i
				}
				if c := rankOrder(ms[i].v, ms[j].v, v.op == aggTopK); c != 0 {
					return c < 0
				}
				return compareLabels(in[ms[i].series].labels, in[ms[j].series].labels) < 0
			})
			taken := 0
			for j, m := range ms {
				if j > 0 && m.i != ms[j-1].i {
					taken = 0
				}
				if taken < v.param {
					pts[m.series] = append(pts[m.series], m.stepPoint)
					taken++
				}
			}
		}
		for si, p := range pts {
			if len(p) > 0 {
				sort.Slice(p, func(i, j int) bool { return p[i].i < p[j].i })
				out = append(out, stepSeries{labels: in[si].labels, pts: p})
			}
		}
		return out
	}
	for _, k := range order {
		ms := groups[k]
		sort.SliceStable(ms, func(i, j int) bool { return ms[i].i < ms[j].i })
		var pts []stepPoint
		for j := 0; j < len(ms); {
			i := ms[j].i
			var sum, mn, mx float64
			cnt := 0
			mn, mx = math.Inf(1), math.Inf(-1)
			for ; j < len(ms) && ms[j].i == i; j++ {
				x := ms[j].v
				sum += x
				cnt++
				mn = math.Min(mn, x)
				mx = math.Max(mx, x)
			}
			var r float64
			switch v.op {
			case aggSum:
				r = sum
			case aggCount:
				r = float64(cnt)
			case aggMin:
				r = mn
			case aggMax:
				r = mx
			case aggAvg:
				r = sum / float64(cnt)
			}
			pts = append(pts, stepPoint{i, r})
		}
		out = append(out, stepSeries{labels: glabels[k], pts: pts})
	}
	return out
}

// projectLabels applies a grouping to a label set: by keeps the named
// labels, without drops them, no grouping drops everything.
func projectLabels(ls Labels, g *grouping) Labels {
	if g == nil {
		return Labels{}
	}
	if g.without {
		return dropNames(ls, g.names)
	}
	out := Labels{}
	for _, l := range ls {
		if slices.Contains(g.names, l.Name) {
			out = append(out, l)
		}
	}
	return out
}

func dropNames(ls Labels, names []string) Labels {
	out := make(Labels, 0, len(ls))
	for _, l := range ls {
		if !slices.Contains(names, l.Name) {
			out = append(out, l)
		}
	}
	return out
}

// sortDedupLabels sorts by name and keeps the first of duplicate names.
func sortDedupLabels(ls Labels) Labels {
	if len(ls) <= 12 {
		// Few labels (a by clause): an insertion sort, stable, without
		// sort.SliceStable's reflection.
		for i := 1; i < len(ls); i++ {
			for j := i; j > 0 && ls[j].Name < ls[j-1].Name; j-- {
				ls[j], ls[j-1] = ls[j-1], ls[j]
			}
		}
	} else {
		slices.SortStableFunc(ls, func(a, b Label) int { return strings.Compare(a.Name, b.Name) })
	}
	out := ls[:0]
	for i, l := range ls {
		if i > 0 && l.Name == ls[i-1].Name {
			continue
		}
		out = append(out, l)
	}
	return out
}

// Err reports entries that were counted with an __error__ label (a
// numeric filter met a non-number, a line was not JSON, a template
// failed). Loki refuses such metric queries with a "pipeline error";
// audittui still returns the result (the series carry __error__) and
// reports the problem here. Filter with | __error__="" or
// | drop __error__, __error_details__ to accept it.
func (ev *Evaluator) Err() error {
	if ev.matchErr != "" {
		return errors.New(ev.matchErr)
	}
	for _, sub := range ev.subs {
		if err := sub.Err(); err != nil {
			return err
		}
	}
	if ev.errs == 0 {
		return nil
	}
	return fmt.Errorf("pipeline error: %d entries have __error__ set, first: %s (Loki rejects this query; add | __error__=\"\" to drop them)", ev.errs, ev.firstErr)
}

// MatchErr returns the vector matching error of the last Result or
// Vector (a match group with two series on one side: many-to-one without
// group_left, or many-to-many), nil when there was none. Loki refuses
// such a query ("found duplicate series for the match group"): the result
// is not an answer.
func (ev *Evaluator) MatchErr() error {
	if ev.matchErr != "" {
		return errors.New(ev.matchErr)
	}
	return nil
}

// MatchFailedSteps returns the step times, sorted, where the last Result
// met a vector matching error (MatchErr): Loki fails the evaluation at
// those times, so a step's partial result there is no answer.
func (ev *Evaluator) MatchFailedSteps() []int64 {
	out := make([]int64, 0, len(ev.matchFailed))
	for i := range ev.matchFailed {
		out = append(out, ev.stepTime(int(i)))
	}
	slices.Sort(out)
	return out
}

// Result evaluates the query over the entries added so far and returns
// one series per output label set, sorted by labels; a series has a point
// at each step where it has a value.
func (ev *Evaluator) Result() Matrix {
	ev.matchErr = ""
	clear(ev.matchFailed)
	res := ev.evalNode(ev.q.root)
	m := make(Matrix, 0, len(res))
	for _, s := range res {
		ps := make([]Point, len(s.pts))
		for i, p := range s.pts {
			ps[i] = Point{T: ev.stepTime(int(p.i)), V: p.v}
		}
		m = append(m, Series{Labels: s.labels, Points: ps})
	}
	sort.Slice(m, func(i, j int) bool { return compareLabels(m[i].Labels, m[j].Labels) < 0 })
	return m
}

// Vector returns the samples at the last step (the only one of an instant
// query): sorted by value (descending) when the outermost aggregation is
// topk, ascending for bottomk, by labels otherwise.
func (ev *Evaluator) Vector() Vector {
	last := ev.stepTime(ev.n - 1)
	var v Vector
	for _, s := range ev.Result() {
		if n := len(s.Points); n > 0 && s.Points[n-1].T == last {
			v = append(v, Sample{Labels: s.Labels, T: last, V: s.Points[n-1].V})
		}
	}
	if a, ok := ev.q.root.(*vectorAgg); ok && (a.op == aggTopK || a.op == aggBottomK) {
		sort.SliceStable(v, func(i, j int) bool { return rankOrder(v[i].V, v[j].V, a.op == aggTopK) < 0 })
	}
	return v
}

// rankOrder compares a and b for topk (top) or bottomk: negative when a
// ranks first. A NaN ranks after every number, as in Prometheus, so the
// order is total and a tie (broken by labels) is a real one.
func rankOrder(a, b float64, top bool) int {
	switch an, bn := math.IsNaN(a), math.IsNaN(b); {
	case an && bn:
		return 0
	case an:
		return 1
	case bn:
		return -1
	}
	if top {
		return cmp.Compare(b, a)
	}
	return cmp.Compare(a, b)
}

// Contributes reports whether entry e counts toward the query's result
// (selector and pipeline pass; time is not checked) and under which
// output labels: the labels after every aggregation's grouping, so the
// alerts engine can find the events behind a firing series.
func (q *MetricQuery) Contributes(e Entry) (Labels, bool) {
	var c Contribution
	if !q.Contribute(e, &c) {
		return nil, false
	}
	return c.Labels, true
}

// Contribution is an entry Contribute accepted: its output labels, and
// what AddContribution needs to count it in an evaluator of the same
// query without running the pipeline again. It holds references to the
// entry: use it before the entry changes.
type Contribution struct {
	Labels Labels
	st     evalState
	// legs and legOK, for a query with legs: each leg's pipeline result,
	// and whether the leg keeps the entry (st is the first such leg's).
	legs  []evalState
	legOK []bool
}

// Contribute is Contributes, keeping the pipeline's result in c (which
// may be reused from one entry to the next).
func (q *MetricQuery) Contribute(e Entry, c *Contribution) bool {
	if q.leaf == nil {
		return q.contributeLegs(e, c)
	}
	lq := q.leaf.log
	if !lq.matchSelector(e) {
		return false
	}
	c.st = evalState{e: e}
	if !lq.run(&c.st) {
		return false
	}
	c.Labels = q.outputLabels(&c.st)
	return true
}

// SamePipeline reports whether q and o select and filter entries alike
// (their log queries print the same): an entry one of them keeps, the
// other keeps with the same labels before aggregation (ContributeLike).
func (q *MetricQuery) SamePipeline(o *MetricQuery) bool {
	return q.PipelineKey() == o.PipelineKey()
}

// PipelineKey returns what SamePipeline compares: queries whose keys are
// equal have the same pipeline. It prints the log query each time: to
// group many queries, take each one's key once.
func (q *MetricQuery) PipelineKey() string {
	if q.leaf == nil {
		parts := make([]string, len(q.legs))
		for i, l := range q.legs {
			parts[i] = l.PipelineKey()
		}
		return strings.Join(parts, "\x00")
	}
	return q.leaf.log.String()
}

// Release drops what c holds of the last entry given to Contribute (the
// entry, its line, its label values): a contribution kept from one entry
// to the next must not keep the entry's memory, a recycled read buffer
// of many lines, alive once the entry is done with.
func (c *Contribution) Release() {
	c.st = evalState{}
	clear(c.legs) // keeps their room: contributeLegs reuses it
	c.Labels = nil
}

// ContributeLike is Contribute for an entry that done, a contribution of
// a query with the same pipeline (SamePipeline), accepted: the pipeline
// does not run again, only q's aggregations' grouping.
func (q *MetricQuery) ContributeLike(done, c *Contribution) {
	c.st = done.st
	if q.leaf == nil {
		c.legs = append(c.legs[:0], done.legs...)
		c.legOK = append(c.legOK[:0], done.legOK...)
		c.Labels = q.legLabels(c)
		return
	}
	c.Labels = q.outputLabels(&c.st)
}

// contributeLegs is Contribute for a query with legs: the entry counts if
// any leg keeps it.
func (q *MetricQuery) contributeLegs(e Entry, c *Contribution) bool {
	n := len(q.legs)
	c.legs = slices.Grow(c.legs[:0], n)[:n]
	c.legOK = slices.Grow(c.legOK[:0], n)[:n]
	any := false
	for i, l := range q.legs {
		lq := l.leaf.log
		c.legOK[i] = false
		if !lq.matchSelector(e) {
			continue
		}
		c.legs[i] = evalState{e: e}
		if lq.run(&c.legs[i]) {
			c.legOK[i] = true
			any = true
		}
	}
	if !any {
		return false
	}
	c.Labels = q.legLabels(c)
	return true
}

// legLabels returns the output labels of a contribution to a query with
// legs: those of the first leg that keeps it, after that leg's
// aggregations, the vector matching (on keeps, ignoring drops labels) and
// the aggregations above it.
func (q *MetricQuery) legLabels(c *Contribution) Labels {
	for i, ok := range c.legOK {
		if !ok {
			continue
		}
		c.st = c.legs[i]
		ls := q.legs[i].outputLabels(&c.st)
		for _, n := range q.legPaths[i] {
			switch n := n.(type) {
			case *vectorAgg:
				if n.op != aggTopK && n.op != aggBottomK {
					ls = projectLabels(ls, n.group)
				}
			case *vectorBinary:
				if n.match != nil && !n.op.isSet() {
					ls = matchLabels(ls, n.match)
				}
			}
		}
		return ls
	}
	return Labels{}
}

// pathTo returns the nodes above leg i, innermost first.
func (q *MetricQuery) pathTo(i int) []metricNode {
	var path []metricNode
	var walk func(n metricNode) bool
	walk = func(n metricNode) bool {
		found := false
		switch n := n.(type) {
		case *legNode:
			return n.idx == i
		case *vectorAgg:
			found = walk(n.inner)
		case *scalarBinary:
			found = walk(n.vec)
		case *vectorBinary:
			found = walk(n.lhs) || walk(n.rhs)
		}
		if found {
			path = append(path, n)
		}
		return found
	}
	walk(q.root)
	return path
}

// matchLabels is a one-to-one result's labels: on keeps the named
// labels, ignoring drops them (as Prometheus and Loki).
func matchLabels(ls Labels, m *vectorMatching) Labels {
	if m.on {
		out := Labels{}
		for _, l := range ls {
			if slices.Contains(m.names, l.Name) {
				out = append(out, l)
			}
		}
		return out
	}
	return dropNames(ls, m.names)
}

// signature is the key vector matching compares: the labels on names,
// or all but ignoring's.
func signature(ls Labels, m *vectorMatching) string {
	if m == nil {
		return ls.key()
	}
	return matchLabels(ls, m).key()
}

// binaryVectors applies a binary operation between two vectors step by
// step. Arithmetic and comparisons match one-to-one: a side with two
// series of one signature at a step is an error (Prometheus and Loki
// refuse the query; here the step's samples of that signature are left
// out and the error returned, for Evaluator.Err).
func binaryVectors(b *vectorBinary, l, r []stepSeries) ([]stepSeries, string, []int32) {
	// Per step, the series (index) of each side by signature.
	type side struct {
		sig  []string
		at   [][]int32 // series -> step -> point index+1 (0: none)
		byIx map[string][]int
	}
	index := func(ss []stepSeries) side {
		s := side{sig: make([]string, len(ss)), byIx: map[string][]int{}}
		for i, x := range ss {
			s.sig[i] = signature(x.labels, b.match)
			s.byIx[s.sig[i]] = append(s.byIx[s.sig[i]], i)
		}
		return s
	}
	ls, rs := index(l), index(r)
	valueAt := func(ss []stepSeries, si int, step int32) (float64, bool) {
		pts := ss[si].pts
		j, ok := slices.BinarySearchFunc(pts, step, func(p stepPoint, t int32) int { return int(p.i - t) })
		if !ok {
			return 0, false
		}
		return pts[j].v, true
	}
	var errMsg string
	var failed []int32 // the steps where matching failed
	var errStep int32
	fail := func(step int32, format string, args ...any) {
		// The first step's error, the least message of it: the same
		// whatever order the series came in.
		if msg := fmt.Sprintf(format, args...); errMsg == "" || step < errStep || (step == errStep && msg < errMsg) {
			errMsg, errStep = msg, step
		}
		failed = append(failed, step)
	}
	// matches returns the other side's series with sig that have a point
	// at step.
	matches := func(o side, oss []stepSeries, sig string, step int32, buf []int) []int {
		buf = buf[:0]
		for _, j := range o.byIx[sig] {
			if _, ok := valueAt(oss, j, step); ok {
				buf = append(buf, j)
			}
		}
		return buf
	}
	var buf []int
	if b.op.isSet() {
		var out []stepSeries
		for i, x := range l {
			var pts []stepPoint
			for _, p := range x.pts {
				m := len(matches(rs, r, ls.sig[i], p.i, buf)) > 0
				if b.op == binOr || (b.op == binAnd) == m {
					pts = append(pts, p)
				}
			}
			if len(pts) > 0 {
				out = append(out, stepSeries{labels: x.labels, pts: pts})
			}
		}
		if b.op == binOr {
			for j, x := range r {
				var pts []stepPoint
				for _, p := range x.pts {
					if len(matches(ls, l, rs.sig[j], p.i, buf)) == 0 {
						pts = append(pts, p)
					}
				}
				if len(pts) > 0 {
					out = append(out, stepSeries{labels: x.labels, pts: pts})
				}
			}
		}
		return mergeSameLabels(out), errMsg, failed
	}
	// One-to-one: results keyed by their labels.
	type res struct {
		labels Labels
		pts    []stepPoint
		steps  map[int32]bool
	}
	byKey := map[string]*res{}
	var order []string
	for i, x := range l {
		rl := x.labels
		if b.match != nil {
			rl = matchLabels(rl, b.match)
		}
		key := rl.key()
		for _, p := range x.pts {
			if len(matches(ls, l, ls.sig[i], p.i, buf)) > 1 {
				fail(p.i, "found duplicate series for the match group of %s on the left-hand side of %s: many-to-one matching (group_left) is not supported", x.labels, b.op)
				continue
			}
			ms := matches(rs, r, ls.sig[i], p.i, buf)
			if len(ms) == 0 {
				continue
			}
			if len(ms) > 1 {
				fail(p.i, "found duplicate series for the match group of %s on the right-hand side of %s: one-to-many matching (group_right) is not supported", x.labels, b.op)
				continue
			}
			rv, _ := valueAt(r, ms[0], p.i)
			v := applyBinOp(b.op, p.v, rv)
			if b.op.isComparison() && !b.boolModifier {
				if v == 0 {
					continue
				}
				v = p.v
			}
			rr := byKey[key]
			if rr == nil {
				rr = &res{labels: rl, steps: map[int32]bool{}}
				byKey[key] = rr
				order = append(order, key)
			}
			if rr.steps[p.i] {
				fail(p.i, "the result of %s has two series with the labels %s at one step", b.op, rl)
				continue
			}
			rr.steps[p.i] = true
			rr.pts = append(rr.pts, stepPoint{p.i, v})
		}
	}
	out := make([]stepSeries, 0, len(order))
	for _, k := range order {
		rr := byKey[k]
		slices.SortFunc(rr.pts, func(a, b stepPoint) int { return int(a.i - b.i) })
		out = append(out, stepSeries{labels: rr.labels, pts: rr.pts})
	}
	return out, errMsg, failed
}

// mergeSameLabels joins series with the same labels (or's two sides may
// both have one, at other steps).
func mergeSameLabels(ss []stepSeries) []stepSeries {
	idx := map[string]int{}
	out := ss[:0]
	for _, s := range ss {
		k := s.labels.key()
		if i, ok := idx[k]; ok {
			out[i].pts = append(out[i].pts, s.pts...)
			slices.SortFunc(out[i].pts, func(a, b stepPoint) int { return int(a.i - b.i) })
			continue
		}
		idx[k] = len(out)
		out = append(out, s)
	}
	return out
}

// outputLabels returns the labels an entry the pipeline kept (st) counts
// under after every aggregation's grouping.
func (q *MetricQuery) outputLabels(st *evalState) Labels {
	aggs := q.aggs
	var ls Labels
	rest := aggs
	if len(aggs) > 0 && aggs[0].group != nil && !aggs[0].group.without && aggs[0].op != aggTopK && aggs[0].op != aggBottomK {
		ls = make(Labels, 0, len(aggs[0].group.names))
		for _, n := range aggs[0].group.names {
			if v, _ := st.lookup(n); v != "" {
				ls = append(ls, Label{Name: n, Value: v})
			}
		}
		ls = sortDedupLabels(ls)
		rest = aggs[1:]
	} else {
		ls = q.leafLabels(st)
	}
	for _, a := range rest {
		if a.op == aggTopK || a.op == aggBottomK {
			continue
		}
		ls = projectLabels(ls, a.group)
	}
	if ls == nil {
		ls = Labels{}
	}
	return ls
}

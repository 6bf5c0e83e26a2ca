package rules

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
)

// sample is one series of a rule's expression at one step.
type sample struct {
	key    string // canonical label-set key (logql.Labels.String)
	labels logql.Labels
	value  float64
}

const (
	minTime = math.MinInt64
	maxTime = math.MaxInt64
)

// ruleState is one rule's evaluation state.
//
// The expression's values come from logql's range evaluator, one per
// chunk of k consecutive steps of the group's grid (multiples of the
// interval). An event at time t counts in the steps s with
// t in (s-offset-range, s-offset]; it is added to the one or two chunks
// holding those steps as it arrives, in any order: a chunk's result does
// not depend on the order its entries came in. A step is evaluated only
// once the evaluator's seal point has passed it (see Evaluator), so its
// window is complete; chunks, citations and instances older than every
// window still to be evaluated are dropped.
type ruleState struct {
	r   *Rule
	idx int
	q   *logql.MetricQuery
	// iv is the group's interval; off the query's offset; back its
	// look-back, range + offset (all nanoseconds).
	iv, off, back int64
	// k is the number of steps per chunk.
	k     int64
	merge bool // count requests (one per auditID), not stages
	// horizon is how long the duplicate filter remembers this rule's
	// lines (its look-back; see dedupStore.forgetSets).
	horizon int64

	chunks map[int64]*chunk // by chunk index (step index / k)
	order  []int64          // chunk indexes, sorted
	cites  map[string]*seriesCites
	active map[string]*Alert // pending or firing instances by series key

	// next is the first grid step not yet evaluated (minTime before the
	// first). cand is a lower bound of the next step that has something
	// to evaluate (exact when candExact).
	next      int64
	cand      int64
	candExact bool

	// stage merging (merge rules only): the earliest stage seen of each
	// request not yet counted, and the requests counted (auditID -> time).
	pend    map[string]*pendingReq
	pendMin int64
	counted map[string]int64

	// contrib is the last event's contribution (contributes), which feed
	// counts in the chunks without running the pipeline again.
	contrib logql.Contribution
	// gated is the rule's query without the string filters a dispatch
	// tests (provenGates), run on the events it proved meet them; nil
	// when there are none.
	gated *logql.GatedQuery
	// pipe numbers the pipeline this rule shares with others of its
	// evaluator (Evaluator.pipes), -1 when it has its own.
	pipe int
	// dense: the expression returns samples at steps no event reaches
	// (absent_over_time), so every grid step from denseFrom on is
	// evaluated, not only those some event feeds. denseFrom is the
	// first step at or after the earliest event (maxTime before one).
	dense     bool
	denseFrom int64

	// fails counts the steps whose evaluation failed (a vector matching
	// error), failMsg is the first one's error, failFirst and failLast
	// their times.
	fails               int64
	failMsg             string
	failFirst, failLast time.Time
}

type chunk struct {
	start, end int64 // first and last step time
	ev         *logql.Evaluator
	dirty      bool
	res        map[int64][]sample // the last result by step time
	steps      []int64            // the step times of res, sorted
	// failed holds the step times where the last result met a vector
	// matching error (their evaluation fails, as in Loki's ruler), and
	// failMsg that error; a failed step is in steps too (it is evaluated).
	failed  map[int64]bool
	failMsg string
}

// chunkSteps picks the chunk length: at least the query's look-back plus
// one step (so an event falls in at most two chunks), and at least min.
func chunkSteps(back, interval int64, minSteps int) int {
	k := int((back+interval-1)/interval) + 2
	return max(k, minSteps)
}

func newRuleState(r *Rule, idx int, interval int64, minSteps int) (*ruleState, error) {
	q := r.query
	back := int64(q.Range() + q.Offset())
	k := chunkSteps(back, interval, minSteps)
	if k > logql.MaxPoints {
		k = chunkSteps(back, interval, 0)
	}
	if k > logql.MaxPoints {
		return nil, fmt.Errorf("range %s is more than %d evaluation intervals of %s",
			FormatDuration(q.Range()+q.Offset()), logql.MaxPoints-2, FormatDuration(time.Duration(interval)))
	}
	return &ruleState{r: r, idx: idx, q: q, iv: interval, off: int64(q.Offset()), back: back, k: int64(k),
		merge:  r.CountRequests,
		chunks: map[int64]*chunk{}, cites: map[string]*seriesCites{}, active: map[string]*Alert{},
		next: minTime, cand: maxTime, candExact: true, pendMin: maxTime, pipe: -1,
		dense: q.ReturnsWithoutEntries(), denseFrom: maxTime,
		gated: q.WithoutGates(provenGates(q.LogQuery()))}, nil
}

// sawEvent tells a dense rule that the input holds an event at t: its
// steps start at the first one at or after the earliest such t (before
// it, there is no evidence of absence).
func (rs *ruleState) sawEvent(t int64) {
	if s := ceilDiv(t, rs.iv) * rs.iv; s < rs.denseFrom {
		rs.denseFrom = s
		rs.cand = min(rs.cand, max(rs.next, s))
	}
}

// floorDiv and ceilDiv divide rounding down and up (b > 0).
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

func ceilDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a > 0 {
		q++
	}
	return q
}

// firstFutureStep is the earliest step that may still be evaluated once
// every step at or before sealed has run.
func (rs *ruleState) firstFutureStep(sealed int64) int64 {
	s := rs.next
	if sealed != minTime {
		s = max(s, (floorDiv(sealed, rs.iv)+1)*rs.iv)
	}
	return s
}

// contributes runs the rule's pipeline on ev: ok when the event counts
// toward the expression, with the key of the output series it feeds.
// proven: a dispatch found that ev meets the rule's provenGates, whose
// filters are then not run again.
func (rs *ruleState) contributes(ev *data.Event, proven bool) (string, bool) {
	if proven && rs.gated != nil {
		if !rs.gated.Contribute(ev, &rs.contrib) {
			return "", false
		}
	} else if !rs.q.Contribute(ev, &rs.contrib) {
		return "", false
	}
	return rs.contrib.Labels.String(), true
}

// feed adds a contributing event to the chunks whose steps see it and to
// the citations of its series. sealed is the evaluator's seal point: the
// parts of a late event's reach that were evaluated already are skipped.
// con, when not nil, is the event's contribution from contributes: the
// chunks count it without running the pipeline again.
func (rs *ruleState) feed(ev *data.Event, key string, c cite, sealed int64, con *logql.Contribution) {
	t := ev.Time
	// Steps s with t in (s-back, s-off]: s in [t+off, t+back).
	i0 := ceilDiv(t+rs.off, rs.iv)
	i1 := ceilDiv(t+rs.back, rs.iv) - 1
	future := rs.firstFutureStep(sealed)
	if fi := future / rs.iv; fi > i0 {
		i0 = fi
	}
	if i0 > i1 {
		return
	}
	for ci := floorDiv(i0, rs.k); ci <= floorDiv(i1, rs.k); ci++ {
		ch := rs.chunks[ci]
		if ch == nil {
			ch = rs.newChunk(ci)
		}
		if con != nil {
			ch.ev.AddContribution(con)
		} else {
			ch.ev.Add(ev)
		}
		ch.dirty = true
	}
	sc := rs.cites[key]
	if sc == nil {
		sc = &seriesCites{}
		rs.cites[key] = sc
	}
	sc.add(rs.bucketOf(t), c)
	if s := i0 * rs.iv; s < rs.cand {
		rs.cand, rs.candExact = s, false
	}
}

// newChunk adds chunk ci, with an evaluator that has no entries yet.
func (rs *ruleState) newChunk(ci int64) *chunk {
	start := ci * rs.k * rs.iv
	end := start + (rs.k-1)*rs.iv
	// newRuleState checked that k steps are allowed; the only other error
	// is a non-positive step, which groups never have.
	lev, _ := rs.q.NewRangeEvaluator(start, end, time.Duration(rs.iv))
	ch := &chunk{start: start, end: end, ev: lev, dirty: true}
	rs.chunks[ci] = ch
	i := sort.Search(len(rs.order), func(i int) bool { return rs.order[i] >= ci })
	rs.order = slices.Insert(rs.order, i, ci)
	return ch
}

// bucketOf returns the citation bucket of time t: buckets are cut at every
// window edge (times s-off and s-back for grid steps s), so each window
// is a whole number of buckets. A bucket is named by its last instant.
func (rs *ruleState) bucketOf(t int64) int64 {
	edge := func(phase int64) int64 { // smallest x >= t with x = -phase (mod iv)
		return ceilDiv(t+phase, rs.iv)*rs.iv - phase
	}
	return min(edge(rs.off%rs.iv), edge(rs.back%rs.iv))
}

// result returns the chunk's samples by step time, recomputed when
// entries were added since.
func (c *chunk) result() {
	if !c.dirty && c.res != nil {
		return
	}
	c.res = map[int64][]sample{}
	c.steps = c.steps[:0]
	for _, series := range c.ev.Result() {
		key := series.Labels.String()
		for _, p := range series.Points {
			if c.res[p.T] == nil {
				c.steps = append(c.steps, p.T)
			}
			c.res[p.T] = append(c.res[p.T], sample{key: key, labels: series.Labels, value: p.V})
		}
	}
	c.failed, c.failMsg = nil, ""
	if err := c.ev.MatchErr(); err != nil {
		c.failMsg = err.Error()
		c.failed = map[int64]bool{}
		for _, t := range c.ev.MatchFailedSteps() {
			c.failed[t] = true
			if c.res[t] == nil {
				c.res[t] = []sample{}
				c.steps = append(c.steps, t)
			}
		}
	}
	slices.Sort(c.steps)
	c.dirty = false
}

// samplesAt returns the expression's samples at step s, and the vector
// matching error that fails the evaluation there ("" when none).
func (rs *ruleState) samplesAt(s int64) ([]sample, string) {
	ci := floorDiv(s/rs.iv, rs.k)
	ch := rs.chunks[ci]
	if ch == nil && rs.dense {
		// No event reached the chunk: a dense rule's expression may
		// still return samples (absent_over_time), from no entries.
		ch = rs.newChunk(ci)
	}
	if ch == nil {
		return nil, ""
	}
	ch.result()
	if ch.failed[s] {
		return nil, ch.failMsg
	}
	return ch.res[s], ""
}

// firstSampleStep returns the first step at or after from where the
// expression returns something (maxTime when there is none).
func (rs *ruleState) firstSampleStep(from int64) int64 {
	ci0 := floorDiv(floorDiv(from, rs.iv), rs.k)
	i := sort.Search(len(rs.order), func(i int) bool { return rs.order[i] >= ci0 })
	for ; i < len(rs.order); i++ {
		ch := rs.chunks[rs.order[i]]
		ch.result()
		j := sort.Search(len(ch.steps), func(j int) bool { return ch.steps[j] >= from })
		if j < len(ch.steps) {
			return ch.steps[j]
		}
	}
	return maxTime
}

// nextStep returns the next step of the rule that has something to
// evaluate (a series to return, or an active instance to resolve).
func (rs *ruleState) nextStep() int64 {
	if rs.dense {
		return max(rs.next, rs.denseFrom)
	}
	if len(rs.active) > 0 {
		return rs.next
	}
	if !rs.candExact {
		from := rs.next
		if rs.cand > from {
			from = rs.cand
		}
		rs.cand, rs.candExact = rs.firstSampleStep(from), true
	}
	return rs.cand
}

// forget drops what no step from future on can use.
func (rs *ruleState) forget(future int64) {
	for len(rs.order) > 0 {
		ch := rs.chunks[rs.order[0]]
		if ch.end >= future {
			break
		}
		delete(rs.chunks, rs.order[0])
		rs.order = rs.order[1:]
	}
	lo := future - rs.back // windows from future on start after lo
	for key, sc := range rs.cites {
		if sc.forget(lo) {
			delete(rs.cites, key)
		}
	}
}

// ownLabels turns a result's label set into a map the alert owns.
func ownLabels(ls logql.Labels) map[string]string {
	m := make(map[string]string, len(ls))
	for _, l := range ls {
		m[strings.Clone(l.Name)] = strings.Clone(l.Value)
	}
	return m
}

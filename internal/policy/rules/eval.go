package rules

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/bits"
	"strconv"
	"sync"
	"time"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
	"github.com/audittui/audittui/internal/plural"
)

// Options tune an Evaluator.
type Options struct {
	Logger *slog.Logger
	// ExternalLabels are what templates see as $externalLabels.
	ExternalLabels map[string]string
	// From/To bound the evaluation in Unix nanoseconds (0 = open). With To
	// unset, Finish keeps stepping after the last event until every window
	// has emptied, so alerts resolve (or reach `for`) as they would have.
	//
	// From is the first step whose alerts are reported, as Loki's ruler
	// running before From would have raised them: events are counted
	// from From minus the set's LookBack (each rule's range, `for` and an
	// interval), so every step from From minus `for` on counts its whole
	// window and an alert firing at From has its pending time. Callers
	// read their sources from there (Set.LookBack). The steps before
	// that count part of their windows: an instance active since before
	// the look-back shows a later first activity than it had (never an
	// earlier one, for a rule that compares a count with "> N"), and
	// whether it fires in the window is exact. Instances whose last
	// active step is before From are not reported. A rule that returns
	// samples where no event is (absent_over_time) is judged at every
	// step from where the read begins, as Loki's range query from From
	// judges each step's window, not from the first event read (as it is
	// without From). An instance of it active at the rule's first step
	// (it began before what was read) is reported active, and firing,
	// from From: the window asked for. (Its
	// steps whose window began before the read may judge absent what was
	// not read; that reaches no step from From on, as the look-back is
	// range, `for` and an interval: such an instance ends before From,
	// or runs on into it and shows From.)
	From, To int64
	// OnChange, if set, is called (on the evaluating goroutine, with the
	// evaluator's lock held: it must not call back into the evaluator)
	// with a copy of an instance when it starts firing and when it
	// resolves.
	OnChange func(a *Alert)
	// OnRejects, if set, receives the rejected lines of each batch.
	OnRejects func([]data.Reject)
	// OnStep, if set, is called after each evaluation step time (with
	// the lock held, as OnChange); live consumers use it to refresh their
	// view (see Snapshot). Steps where no rule has anything to evaluate
	// are skipped.
	OnStep func(t time.Time)
	// Reorder is how far, in event time, a step waits behind the newest
	// event before it is evaluated: events that come up to Reorder out of
	// time order count exactly as if the input had been sorted. 0 takes
	// the default: DefaultReorder for NewEvaluator, Unbounded for Replay.
	// Unbounded waits for the whole input (within MaxRetained).
	Reorder time.Duration
	// MaxRetained bounds the memory (estimated, in bytes) that the
	// evaluation state may hold: when more would be held, the oldest
	// steps are evaluated and their state dropped, keeping at least
	// BudgetReorder behind the newest event. 0 means DefaultMaxRetained;
	// negative means no bound.
	MaxRetained int64
	// Deduplicated: the events come from a reader that filters exact
	// duplicates over the whole input and marks them (data.Event.Repeat;
	// the TUI's index): a marked event is counted as a duplicate and the
	// evaluator keeps no duplicate filter of its own (it would hold a
	// key per contribution for as long as the steps that see it, 12 MB
	// for a 1 GB file read at once). Without it, Repeat is ignored.
	Deduplicated bool
	// Backlog says the input starts with history read at once (a
	// followed file's content when it is opened: files concatenated,
	// nodes' logs appended one after another, hand-made traces), which
	// may be in any order: until EndBacklog (Live calls it at the first
	// batch marked data.Batch.CaughtUp), CatchUp, or a quiet stream (no
	// event pushed for DefaultReorder by the clock, see Advance), steps
	// wait as with Unbounded (within MaxRetained), so that history counts
	// as `audittui alerts` counts it; then Reorder applies to what comes.
	// Only for inputs that say when they have caught up: a busy stream
	// that never does is evaluated only as MaxRetained forces.
	Backlog bool
}

const (
	// DefaultReorder is the live evaluator's default Reorder: apiservers
	// write concurrent requests a few seconds out of order.
	DefaultReorder = 10 * time.Second
	// Unbounded, as Options.Reorder, evaluates a step only when no event
	// can change it any more: at Finish, or when MaxRetained is reached.
	Unbounded time.Duration = -1
	// DefaultMaxRetained is the default Options.MaxRetained.
	DefaultMaxRetained = 64 << 20
	// BudgetReorder is how far behind the newest event steps are still
	// held back when MaxRetained forces evaluation.
	BudgetReorder = time.Minute
)

// Estimated memory per contribution and per held stage (see MaxRetained).
const (
	dedupBytes   = 48  // one entry of the duplicate filter
	contribBytes = 64  // chunk deltas and citation counts of one event
	pendingBytes = 640 // a held event's fields, beyond its line
)

// Evaluator evaluates a rule set over audit events, in any order.
//
// Each event is decoded once and offered to every rule; a contributing
// event is added to the evaluation state of its time (a commutative
// update: arrival order does not matter); each rule is evaluated at every
// multiple of its group's interval, as Loki's ruler evaluates it, once
// the seal point has passed that step. The seal point follows the newest
// event at the Reorder distance (see Options), Advance (the wall clock
// on a quiet stream) and Finish. Events at or before the seal point are
// late: they count only in steps still to run (Late reports them).
// Identical lines count once (Duplicates reports them).
//
// Push, Advance and Finish must be called from one goroutine at a time;
// Snapshot, Stats, Late and Duplicates may be called from any.
type Evaluator struct {
	opts    Options
	log     *slog.Logger
	rules   []*ruleState
	merging []*ruleState
	// byIdx finds a rule by its index (ruleState.idx: in a Parallel's
	// shard, the index in the whole set; nil for the rules of other
	// shards); disp finds the rules an event may feed, by index (built on
	// first use: dispatch).
	byIdx   []*ruleState
	own     []uint64 // the bits of byIdx's rules
	disp    *dispatch
	reorder int64 // < 0: unbounded
	// backlog: Options.Backlog, until EndBacklog (reorder >= 0 only).
	backlog bool
	budget  int64 // <= 0: none
	// maxBack is the longest look-back (range + offset) of any rule;
	// maxDrain that plus `for` and an interval.
	maxBack, maxDrain int64
	// lookFrom: with Options.From, events at or before it are read by
	// no step that is evaluated.
	lookFrom int64
	// reporting: a step at or after Options.From has been evaluated
	// (OnChange was told of the instances already firing then).
	reporting bool

	mu        sync.Mutex
	done      []*Alert // instances that fired and resolved
	seq       int
	events    int64
	untimed   int64
	late      int64
	dups      int64
	steps     int
	watermark int64 // newest event time
	sealed    int64 // every step at or before it has run (minTime: none)
	sweptAt   int64 // seal point of the last forget pass
	dedup     dedupStore
	hits      []hit
	clockWM   int64 // watermark at the last Advance
	pushes    int64 // events pushed (backlog: Advance tells a quiet stream by it)
	clockPush int64 // pushes at the last Advance
	clockWall time.Time
	lastSwept int64 // seal point when counted requests were last swept
	shedRetry int64 // retained size from which to try the budget again
	// due is a lower bound of the next time sealTo has work at: the
	// rules' next steps and held stages.
	due      int64
	stepOpen bool
	stepTime int64
	// pipes remember, for the rules sharing a pipeline (ruleState.pipe),
	// what it made of the event being pushed (evSeq).
	pipes []pipeMemo
	evSeq uint64

	// others counts the events that feed a rule and have the auditID,
	// stage and time of another but another line (see Others), when
	// countOthers (Replay) asks.
	others      int64
	countOthers bool

	// dense are the rules that evaluate every step (ruleState.dense);
	// denseTo is the last step time they may evaluate: maxTime, or the
	// newest event's time once the input is known to be history (Finish
	// without To, CatchUp): that nothing came after the input's end is
	// no evidence that nothing happened.
	dense   []*ruleState
	denseTo int64
}

// pipeMemo is what a pipeline shared by several rules (the SecretRead,
// Forbidden, MassDeletion and AccessReview families, one per window)
// made of the event pushed as seq: run once, the others take its result.
type pipeMemo struct {
	seq uint64
	ok  bool
	by  *ruleState // the rule that ran it (ok)
}

type hit struct {
	rs  *ruleState
	key string
}

// setLookFrom sets where the read begins with Options.From (events at or
// before lf are read by no step that is evaluated). The rules that
// answer on absence (absent_over_time) judge every step from there, as
// Loki's range query from From judges each step's window on its own, not
// from the first event read: a silence that began before the read and
// runs on past From fires from From (the first step judged: its start is
// unknown). Without From they start at the first event (sawEvent).
func (e *Evaluator) setLookFrom(lf int64) {
	e.lookFrom = lf
	for _, rs := range e.dense {
		rs.denseFrom = maxTime
		rs.sawEvent(lf + 1)
	}
}

// NewEvaluator prepares the rules of set for live evaluation: steps run
// as soon as the newest event (or Advance) is Reorder past them.
func NewEvaluator(set *Set, opts Options) (*Evaluator, error) {
	if opts.Reorder == 0 {
		opts.Reorder = DefaultReorder
	}
	return newEvaluator(set, opts, 0)
}

func newEvaluator(set *Set, opts Options, minSteps int) (*Evaluator, error) {
	e := &Evaluator{opts: opts, log: opts.Logger, reorder: int64(opts.Reorder), budget: opts.MaxRetained,
		sealed: minTime, sweptAt: minTime, lastSwept: minTime, due: maxTime, dedup: newDedupStore(), denseTo: maxTime}
	if e.reorder < 0 {
		e.reorder = -1
	}
	e.backlog = opts.Backlog && e.reorder >= 0
	if e.budget == 0 {
		e.budget = DefaultMaxRetained
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	idx := 0
	for _, g := range set.Groups {
		interval := int64(g.Interval)
		if interval <= 0 {
			interval = int64(DefaultInterval)
		}
		for _, r := range g.Rules {
			if r.query == nil {
				return nil, errors.New(r.Where() + ": rule " + r.Alert + " has no parsed query")
			}
			rs, err := newRuleState(r, idx, interval, minSteps)
			if err != nil {
				return nil, errors.New(r.Where() + ": rule " + r.Alert + ": " + err.Error())
			}
			idx++
			e.rules = append(e.rules, rs)
			if rs.merge {
				e.merging = append(e.merging, rs)
			}
			if rs.dense {
				e.dense = append(e.dense, rs)
			}
			e.maxBack = max(e.maxBack, rs.back)
			e.maxDrain = max(e.maxDrain, rs.back+int64(r.For)+interval)
		}
	}
	if opts.From != 0 {
		e.setLookFrom(opts.From - int64(set.LookBack()))
	}
	for _, rs := range e.rules {
		// Requests counted by auditID are remembered for mergeRetention
		// by the rule itself; their lines, as long as any window.
		rs.horizon = rs.back
		if rs.merge {
			rs.horizon = e.maxBack
		}
	}
	e.index(len(e.rules))
	e.sharePipelines()
	return e, nil
}

// sharePipelines numbers the pipelines that several of e's rules have
// (ruleState.pipe; -1 for a rule whose pipeline is its own).
// Each rule's pipeline is printed once (PipelineKey) and found among the
// earlier rules' by a map: comparing every pair printed each pipeline
// once per rule (14 ms of each start with the built-in pack).
func (e *Evaluator) sharePipelines() {
	first := make(map[string]*ruleState, len(e.rules))
	for _, rs := range e.rules {
		rs.pipe = -1
		k := rs.q.PipelineKey()
		o, ok := first[k]
		if !ok {
			first[k] = rs
			continue
		}
		if o.pipe < 0 {
			o.pipe = len(e.pipes)
			e.pipes = append(e.pipes, pipeMemo{})
		}
		rs.pipe = o.pipe
	}
}

// index builds byIdx and disp from the rules' indexes (less than n).
func (e *Evaluator) index(n int) {
	e.byIdx = make([]*ruleState, n)
	e.own = make([]uint64, (n+63)/64)
	for _, rs := range e.rules {
		e.own[rs.idx/64] |= 1 << (rs.idx % 64)
	}
	for _, rs := range e.rules {
		e.byIdx[rs.idx] = rs
	}
}

// dispatch returns the dispatch of e's rules, built on first use: a
// Parallel's shards never need one (the Parallel finds every event's
// candidates for all of them).
func (e *Evaluator) dispatch() *dispatch {
	if e.disp == nil {
		qs := make([]*logql.LogQuery, len(e.byIdx))
		for i, rs := range e.byIdx {
			if rs != nil {
				qs[i] = rs.q.LogQuery()
			}
		}
		e.disp = newDispatch(qs)
	}
	return e.disp
}

// Push offers one event to every rule. Events may come in any order; see
// Evaluator for when they count exactly.
func (e *Evaluator) Push(ev *data.Event) { e.push(ev, nil) }

// push is Push; cand, when not nil, are the rules (by index) ev may feed,
// as found by a Parallel's dispatch for all its shards.
func (e *Evaluator) push(ev *data.Event, cand []uint64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.pushLocked(ev, cand, false)
}

// pushBatch pushes a batch's events under one lock: cand holds words
// candidate words per event (see push). meta, when not nil, holds each
// event's time and Repeat: an event none of e's rules may feed is
// accounted from it (pushQuiet) without reading the event, which a
// Parallel's other shards and its dispatch have read already (4 shards
// touching every event of a 1 GB file cost 0.2 s of cache misses).
func (e *Evaluator) pushBatch(evs []data.Event, cand []uint64, words int, meta []evMeta) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range evs {
		c := cand[i*words : (i+1)*words]
		if meta == nil {
			e.pushLocked(&evs[i], c, false)
			continue
		}
		if !e.mine(c) {
			e.pushQuiet(meta[i])
			continue
		}
		e.pushLocked(&evs[i], c, meta[i].proven)
	}
	// The rules' last contributions point into the batch, which its
	// stream reads into again or leaves to the collector: without this,
	// each rule kept the batch of its last match alive (80 rules over 4
	// shards pinned 12 MB of read buffers after a 1 GB read).
	for _, rs := range e.rules {
		rs.contrib.Release()
	}
}

// contributes is rs.contributes(ev), with the pipeline's result shared
// among the rules that have the same pipeline.
func (e *Evaluator) contributes(rs *ruleState, ev *data.Event, proven bool) (string, bool) {
	if rs.pipe < 0 {
		return rs.contributes(ev, proven)
	}
	m := &e.pipes[rs.pipe]
	if m.seq == e.evSeq {
		if !m.ok {
			return "", false
		}
		rs.q.ContributeLike(&m.by.contrib, &rs.contrib)
		return rs.contrib.Labels.String(), true
	}
	key, ok := rs.contributes(ev, proven)
	*m = pipeMemo{seq: e.evSeq, ok: ok, by: rs}
	return key, ok
}

// evMeta is what an evaluator reads of an event that none of its rules
// may feed (pushQuiet).
type evMeta struct {
	t      int64 // data.Event.Time
	repeat bool  // data.Event.Repeat
	proven bool  // the dispatch's proven (pushLocked)
}

// mine reports whether cand (a Parallel's candidates) names one of e's
// rules.
func (e *Evaluator) mine(cand []uint64) bool {
	for w, x := range cand {
		if x&e.own[w] != 0 {
			return true
		}
	}
	return false
}

// pushQuiet is pushLocked for an event that no rule of e may feed: it
// counts, moves the watermark and the seal point as pushLocked does.
func (e *Evaluator) pushQuiet(m evMeta) {
	if !e.account(m.t, m.repeat) {
		return
	}
	e.evSeq++
	e.sealTo(e.sealPoint(0))
}

// account is the part of pushLocked that every event goes through, rules
// or not: false when the event is not evaluated (a copy, undated, outside
// From and To, or too late for any step still to run).
func (e *Evaluator) account(t int64, repeat bool) bool {
	e.pushes++
	if repeat && e.opts.Deduplicated {
		// An earlier event had this line (the reader's filter): a copy
		// counts once, as a duplicate only (not among the events read,
		// nor the undated ones).
		e.dups++
		return false
	}
	if t == 0 {
		e.untimed++
		return false
	}
	if (e.opts.From != 0 && t <= e.lookFrom) || (e.opts.To != 0 && t >= e.opts.To) {
		return false
	}
	e.events++
	if t > e.watermark {
		e.watermark = t
	}
	for _, rs := range e.dense {
		rs.sawEvent(t)
		e.due = min(e.due, rs.cand)
	}
	if t <= e.sealed {
		// Steps covering t already ran: the event counts only in the
		// steps still to come, if any. Reported, never dropped silently.
		e.late++
		if t <= e.sealed-e.maxBack {
			return false // no step still to run can see it
		}
	}
	return true
}

// pushLocked offers ev to the rules cand names (nil: those e's dispatch
// finds); proven is the dispatch's proven for cand.
func (e *Evaluator) pushLocked(ev *data.Event, cand []uint64, proven bool) {
	if !e.account(ev.Time, ev.Repeat) {
		return
	}
	t := ev.Time
	hits := e.hits[:0]
	e.evSeq++
	if cand == nil {
		d := e.dispatch()
		cand, proven = d.candidates(ev), d.proven
	}
	for w, x := range cand {
		x &= e.own[w] // a Parallel's candidates name every shard's rules
		for x != 0 {
			i := w*64 + bits.TrailingZeros64(x)
			x &= x - 1
			rs := e.byIdx[i]
			if rs == nil {
				continue // another shard's
			}
			if key, ok := e.contributes(rs, ev, proven); ok {
				hits = append(hits, hit{rs, key})
			}
		}
	}
	e.hits = hits
	if len(hits) > 0 {
		// A copy is an event with the same line (data.DupLine: its
		// bytes, compacted when they span lines, escapes canonicalised),
		// so a `jq .` export counts once beside the log.
		line := e.dedup.lineHash(data.DupLineBuf(ev, &e.dedup.buf))
		c := cite{t: t, id: ev.AuditID, h: line[0], failed: ev.Code >= 400} // id is copied where it is kept
		var cost int64
		fresh := 0
		for _, h := range hits {
			if !e.opts.Deduplicated {
				if !e.dedup.add(t, h.rs.horizon, e.dedup.contribution(line, h.rs.idx, h.key)) {
					continue // an identical line fed this series already
				}
				cost += dedupBytes
			}
			fresh++
			if h.rs.merge {
				cost += h.rs.mergeAdd(ev, h.key, c, e.sealed)
			} else {
				h.rs.feed(ev, h.key, c, e.sealed, &h.rs.contrib)
				cost += contribBytes
			}
			e.due = min(e.due, h.rs.cand, h.rs.pendMin)
		}
		if fresh == 0 {
			e.dups++
		} else if e.countOthers && ev.AuditID != "" {
			other, added := e.dedup.other(t, ev.AuditID, ev.Stage, line[0])
			if other {
				e.others++
			}
			cost += added
		}
		e.dedup.charge(t, cost)
	}
	e.sealTo(e.sealPoint(0))
}

// sealPoint is where the seal point should be: Reorder behind the newest
// event (plus idle, the wall-clock time the stream has been quiet), or
// further when the retained state is over budget.
func (e *Evaluator) sealPoint(idle int64) int64 {
	p := e.sealed
	if e.reorder >= 0 && !e.backlog {
		p = max(p, e.watermark-e.reorder+idle)
	}
	if e.budget > 0 && e.dedup.retained > e.budget && e.dedup.retained >= e.shedRetry {
		// Evaluate the oldest minutes until half the budget is held,
		// but keep BudgetReorder behind the newest event (sealTo sets
		// when to try again if that is not enough).
		q := e.dedup.shedPoint(e.budget / 2)
		if q != minTime {
			q += e.maxBack
		}
		p = max(p, min(q, e.watermark-int64(BudgetReorder)))
	}
	return p
}

// Advance tells the evaluator that the wall clock reads now. Loki's
// ruler evaluates every interval whether or not lines arrive; so, once
// no newer event has arrived for a while, event time is taken to follow
// the wall clock from the newest event, and the steps due by then run
// (windows empty, alerts resolve, `for` elapses). Live consumers call it
// from a ticker (every second, say); the first call only notes the time.
func (e *Evaluator) Advance(now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.watermark == 0 {
		return
	}
	if e.backlog {
		// History is still being read: quiet means no event pushed at
		// all (the newest may have come first), for DefaultReorder.
		if e.pushes != e.clockPush || e.clockWall.IsZero() {
			e.clockPush, e.clockWall = e.pushes, now
			return
		}
		if now.Sub(e.clockWall) < DefaultReorder {
			return
		}
		e.endBacklog()
		e.clockWM, e.clockWall = e.watermark, now
		return
	}
	// The clock runs on: a quiet stream is evidence of absence.
	e.denseTo = maxTime
	if e.watermark != e.clockWM || e.clockWall.IsZero() {
		e.clockWM, e.clockWall = e.watermark, now
		return
	}
	idle := int64(now.Sub(e.clockWall))
	if idle <= 0 {
		return
	}
	if e.reorder < 0 {
		// A whole-input evaluator fed by a stream that went quiet: after
		// DefaultReorder of silence, event time follows the clock too.
		idle -= int64(DefaultReorder)
		if idle <= 0 {
			return
		}
		e.sealTo(e.watermark + idle)
		return
	}
	e.sealTo(e.sealPoint(idle))
}

// StaleAfter is how far behind the clock the newest event of an input
// read to its end must be for CatchUp to take the input for history.
const StaleAfter = time.Minute

// CatchUp is Advance for an input that has been read to its end and is
// quiet (a followed file caught up): when its newest event is more than
// StaleAfter behind the clock, the input is history (an old file), not a
// live stream that went quiet a moment ago, and the steps up to the clock
// run at once (at most until every window has drained), as Loki's ruler
// would have run them by now. Advance would run them at the clock's pace,
// from the newest event on: the alerts of an old file would resolve one
// by one while it is looked at. Otherwise it is Advance.
func (e *Evaluator) CatchUp(now time.Time) {
	e.mu.Lock()
	e.endBacklog()
	if wm := e.watermark; wm != 0 && e.reorder >= 0 && now.UnixNano()-wm > int64(StaleAfter) {
		e.denseTo = wm
		e.sealTo(min(wm+e.maxDrain, now.UnixNano()-e.reorder))
		e.mu.Unlock()
		return
	}
	e.mu.Unlock()
	e.Advance(now)
}

// EndBacklog says the history the input started with has been read (see
// Options.Backlog): the steps it held back run now, up to Reorder behind
// the newest event, and later events are live. Without Backlog, or
// called again, it does nothing.
func (e *Evaluator) EndBacklog() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.endBacklog()
}

func (e *Evaluator) endBacklog() {
	if !e.backlog {
		return
	}
	e.backlog = false
	e.sealTo(e.sealPoint(0))
}

// Finish runs the remaining steps: up to To when set, else until every
// window has drained after the newest event. It returns every instance
// that fired, in order of first activity.
func (e *Evaluator) Finish() []*Alert {
	e.mu.Lock()
	if e.watermark != 0 {
		end := e.watermark + e.maxDrain
		if e.opts.To != 0 {
			end = e.opts.To - 1
		} else {
			e.denseTo = e.watermark
		}
		e.sealTo(end)
	}
	e.mu.Unlock()
	return e.Snapshot()
}

// sealTo runs every step at or before p that has something to evaluate,
// in time order across rules, then drops what no later step can use.
func (e *Evaluator) sealTo(p int64) {
	if e.opts.To != 0 && p >= e.opts.To {
		p = e.opts.To - 1
	}
	if p <= e.sealed {
		return
	}
	sweep := p-e.sweptAt >= int64(time.Minute) || e.sweptAt == minTime || (e.budget > 0 && e.dedup.retained > e.budget)
	if p < e.due && !sweep {
		// Nothing to evaluate, release or forget yet (live: most
		// events move the seal point only a little).
		e.sealed = p
		return
	}
	for _, rs := range e.merging {
		rs.release(p, e.sealed)
	}
	for {
		var best *ruleState
		bs := int64(maxTime)
		for _, rs := range e.rules {
			if rs.cand > p && len(rs.active) == 0 {
				continue // cand is a lower bound of its next step
			}
			if rs.dense && rs.nextStep() > e.denseTo {
				continue // after the input's end: no evidence either way
			}
			if s := rs.nextStep(); s <= p && s < bs {
				best, bs = rs, s
			}
		}
		if best == nil {
			break
		}
		e.evalStep(best, bs)
	}
	e.endStep()
	e.sealed = p
	e.due = maxTime
	for _, rs := range e.rules {
		e.due = min(e.due, rs.cand, rs.pendMin)
	}
	// Forget in passes, at most once per minute of event time (or when
	// over budget).
	if sweep {
		e.sweptAt = p
		for _, rs := range e.rules {
			rs.forget(rs.firstFutureStep(p))
			if rs.counted != nil && p-e.lastSwept >= int64(time.Hour) {
				rs.forgetCounted(p - mergeRetention)
			}
		}
		if p-e.lastSwept >= int64(time.Hour) || e.lastSwept == minTime {
			e.lastSwept = p
		}
		e.dedup.forget(p - e.maxBack)
		e.dedup.forgetSets(p)
		e.shedRetry = 0
		if e.budget > 0 && e.dedup.retained > e.budget {
			// Still over (the newest minutes are held back): try again
			// once the state has grown by an eighth of the budget.
			e.shedRetry = e.dedup.retained + e.budget/8
		}
	}
}

// endStep reports the step time just evaluated to OnStep.
func (e *Evaluator) endStep() {
	if e.stepOpen {
		e.stepOpen = false
		e.steps++
		if e.opts.OnStep != nil {
			e.opts.OnStep(time.Unix(0, e.stepTime).UTC())
		}
	}
}

// evalStep evaluates rule rs at step time s.
func (e *Evaluator) evalStep(rs *ruleState, s int64) {
	if e.stepOpen && s != e.stepTime {
		e.endStep()
	}
	if !e.reporting && s >= e.opts.From {
		// The window's first step: steps run in time order across
		// rules, so every instance firing now fired before the window.
		e.reporting = true
		if e.opts.OnChange != nil && e.opts.From != 0 {
			for _, o := range e.rules {
				for _, a := range o.active {
					if a.State == StateFiring {
						e.opts.OnChange(a.snapshot())
					}
				}
			}
		}
	}
	tell := e.opts.OnChange != nil && e.reporting
	e.stepOpen, e.stepTime = true, s
	st := time.Unix(0, s).UTC()
	samples, failMsg := rs.samplesAt(s)
	if failMsg != "" {
		// The expression fails at this step (a vector matching error):
		// Loki's ruler logs the failed evaluation and leaves the rule's
		// alerts as they were. Logged once per rule; Failures counts.
		if rs.fails == 0 {
			rs.failMsg, rs.failFirst = failMsg, st
			e.log.Warn("alert rule evaluation failed", "rule", rs.r.Alert, "where", rs.r.Where(), "at", st, "err", failMsg)
		}
		rs.fails++
		rs.failLast = st
		rs.next = s + rs.iv
		rs.cand, rs.candExact = rs.next, len(rs.active) > 0 || rs.dense
		return
	}
	if lim := rs.r.Group.Limit; lim > 0 && len(samples) > lim {
		// As Loki's ruler: a rule returning more alerts than the
		// group's limit fails this evaluation and keeps no alerts.
		e.log.Warn("alert rule exceeded its group's limit", "rule", rs.r.Alert, "where", rs.r.Where(),
			"limit", lim, "alerts", len(samples), "at", st)
		samples = nil
	}
	seen := make(map[string]bool, len(samples))
	for _, smp := range samples {
		key := smp.key
		seen[key] = true
		a := rs.active[key]
		if a == nil {
			e.seq++
			a = &Alert{Rule: rs.r, Name: rs.r.Alert, State: StatePending, ActiveAt: st,
				key:      strconv.Itoa(rs.idx) + key + "@" + strconv.FormatInt(s, 10),
				seriesLs: ownLabels(smp.labels), Seq: e.seq, citedTo: minTime}
			rs.active[key] = a
			if rs.dense && e.opts.From != 0 && s <= rs.denseFrom {
				// Active at the first step judged: it began no one
				// knows when before what was read. Reported from the
				// window asked for, not from where the read began.
				a.shownFrom = time.Unix(0, e.opts.From).UTC()
			}
		}
		if a.LastActive.IsZero() || smp.value > a.MaxValue {
			a.MaxValue = smp.value
		}
		a.LastActive = st
		a.Value = smp.value
		// Count the series' events in the step's window that the
		// instance has not counted yet.
		if sc := rs.cites[key]; sc != nil {
			sc.count(a, s-rs.back, s-rs.off)
		}
		if a.State == StatePending && st.Sub(a.ActiveAt) >= rs.r.For {
			a.State = StateFiring
			a.FiredAt = st
			a.ext = e.opts.ExternalLabels
			a.render()
			if tell {
				e.opts.OnChange(a.snapshot())
			}
		}
		// While it fires, its text follows the value: rendered when a
		// copy is taken (copy), not at every step.
	}
	for key, a := range rs.active {
		if seen[key] {
			continue
		}
		delete(rs.active, key)
		if a.State == StateFiring {
			a.State = StateResolved
			a.ResolvedAt = st
			e.done = append(e.done, a)
			if tell {
				e.opts.OnChange(a.snapshot())
			}
		}
	}
	rs.next = s + rs.iv
	rs.cand, rs.candExact = rs.next, len(rs.active) > 0 || rs.dense
}

// Failure is a rule whose expression failed at some evaluation steps (a
// vector matching error, as Loki's "found duplicate series for the match
// group"): those steps raised and resolved nothing.
type Failure struct {
	Rule        *Rule
	Steps       int64 // evaluations that failed
	First, Last time.Time
	Err         string // the first failure's error
}

// Why says what failed and when, as `alerts` says it after the rule's
// name and file:line: "failed at 3 evaluations, 2026-05-04T12:00:00Z to
// 2026-05-04T12:02:00Z, raising nothing there: ..." (Err is untrusted:
// label values).
func (f Failure) Why() string {
	return fmt.Sprintf("failed at %s, %s to %s, raising nothing there: %s",
		plural.Count(f.Steps, "evaluation", "evaluations"), f.First.UTC().Format(time.RFC3339), f.Last.UTC().Format(time.RFC3339), f.Err)
}

// Failures returns the rules whose evaluation failed so far, in rule
// order.
func (e *Evaluator) Failures() []Failure {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Failure
	for _, rs := range e.rules {
		if rs.fails > 0 {
			out = append(out, Failure{Rule: rs.r, Steps: rs.fails, First: rs.failFirst, Last: rs.failLast, Err: rs.failMsg})
		}
	}
	return out
}

// Snapshot returns copies of every instance that fired so far (resolved
// ones and those still firing), in order of first activity. Pending
// instances are not included.
func (e *Evaluator) Snapshot() []*Alert {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]*Alert, 0, len(e.done))
	// With From, an instance last active before it is not one of the
	// window's (it was evaluated for the `for` of those that are).
	before := func(a *Alert) bool { return e.opts.From != 0 && a.LastActive.UnixNano() < e.opts.From }
	for _, a := range e.done {
		if !before(a) {
			out = append(out, a.snapshot())
		}
	}
	for _, rs := range e.rules {
		for _, a := range rs.active {
			if a.State == StateFiring && !before(a) {
				out = append(out, a.snapshot())
			}
		}
	}
	SortAlerts(out)
	return out
}

// Stats reports how many events were evaluated, how many had no time (and
// were skipped), and how many evaluation step times had something to
// evaluate.
func (e *Evaluator) Stats() (events, untimed int64, steps int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.events, e.untimed, e.steps
}

// Late reports how many events arrived after the steps covering their
// time had run (further out of time order than Reorder, or than the
// retention budget allowed): they counted only in later steps.
func (e *Evaluator) Late() int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.late
}

// Duplicates reports how many events were identical (byte for byte) to
// an event counted before, and so were not counted again. Only events
// that feed some rule are checked (with Options.Deduplicated: the events
// marked Repeat, all of them).
func (e *Evaluator) Duplicates() int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.dups
}

// Others reports how many of the events that feed a rule have the
// auditID, stage and time of an earlier one but another line: another
// serialisation of the event that DupLine does not make one (keys in
// another order), or an edited copy. Both count, as in Loki (and as
// query prints both), but a command can say so. Each group of lines
// sharing an auditID, stage and time counts all but its first, whatever
// the order. Only Replay counts them.
func (e *Evaluator) Others() int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.others
}

// render sets the instance's labels, annotations and severity from its
// rule's templates, which see the series' labels, the latest value and
// the external labels. The templates' functions are pure, so the text is
// rendered again only when the value changed since (an instance is
// re-evaluated at every step while it fires, mostly with the same value).
func (a *Alert) render() {
	if a.Labels != nil && math.Float64bits(a.Value) == math.Float64bits(a.renderedValue) {
		return
	}
	a.Labels, a.Annotations = a.Rule.renderExt(a.seriesLs, a.Value, a.ext)
	a.Severity = a.Labels["severity"]
	a.renderedValue = a.Value
}

// snapshot renders the instance's text with its latest value, keeping it
// (the caller holds the evaluator's lock), and returns a copy: an instance
// whose value has not changed since is not rendered again at the next
// snapshot.
func (a *Alert) snapshot() *Alert {
	if a.seriesLs != nil && a.Labels != nil {
		a.render()
	}
	return a.copy()
}

// copy returns a copy of the instance for the caller to keep, as it was
// last rendered (snapshot renders first; a is not changed: copies of
// copies are taken under read locks).
func (a *Alert) copy() *Alert {
	c := *a
	if !a.shownFrom.IsZero() {
		if c.ActiveAt.Before(a.shownFrom) {
			c.ActiveAt = a.shownFrom
		}
		if !c.FiredAt.IsZero() && c.FiredAt.Before(a.shownFrom) {
			c.FiredAt = a.shownFrom
		}
	}
	c.Labels = cloneMap(a.Labels)
	c.Annotations = cloneMap(a.Annotations)
	c.AuditIDs = append([]string(nil), a.AuditIDs...)
	c.EventTimes = append([]time.Time(nil), a.EventTimes...)
	c.seriesLs = nil
	return &c
}

func cloneMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Result is the outcome of a replay.
type Result struct {
	Alerts []*Alert
	// Events evaluated, Untimed events skipped for lack of a timestamp,
	// Late events that arrived after steps covering their time had run
	// (see Evaluator.Late), Duplicates not counted again (see
	// Evaluator.Duplicates), Others that have the auditID, stage and
	// time of another event but another line (see Evaluator.Others),
	// Steps run (step times with something to evaluate).
	Events, Untimed, Late, Duplicates, Others int64
	Steps                                     int
	// Failures are the rules whose evaluation failed at some steps.
	Failures []Failure
}

// replayChunkSteps is the chunk length replay uses: the whole input's
// state is usually held until the end, in few, long chunks.
const replayChunkSteps = 240

// Replay reads st to the end and evaluates set over it, releasing each
// batch once pushed (see data.ReadOptions.Recycle). Unless
// opts.Reorder says otherwise, the input may come in any order: steps are
// evaluated once the whole input has been read (or when MaxRetained
// forces the oldest out; see Options).
func Replay(ctx context.Context, st data.Stream, set *Set, opts Options) (*Result, error) {
	r, err := NewReplayer(set, opts)
	if err != nil {
		return nil, err
	}
	return r.Run(ctx, st)
}

// Replayer is Replay in steps, so that the reader's decoding goroutines
// can take part: NewReplayer, Prepare as the reader's
// data.ReadOptions.Prepare (it works out which rules each event may
// feed, see Parallel.Prepare), then Run on the stream.
type Replayer struct {
	e    *Evaluator
	prep preparer
	meta []evMeta
}

// NewReplayer prepares set for Replay with opts.
func NewReplayer(set *Set, opts Options) (*Replayer, error) {
	if opts.Reorder == 0 {
		opts.Reorder = Unbounded
	}
	e, err := newEvaluator(set, opts, replayChunkSteps)
	if err != nil {
		return nil, err
	}
	e.countOthers = true
	r := &Replayer{e: e}
	r.prep.queries = e.dispatch().queries
	return r, nil
}

// Prepare is the reader's data.ReadOptions.Prepare (see Parallel.Prepare).
func (r *Replayer) Prepare(b *data.Batch) { r.prep.prepare(b) }

// Run reads st to the end and evaluates the rules over it (see Replay).
// It is called once.
func (r *Replayer) Run(ctx context.Context, st data.Stream) (*Result, error) {
	e := r.e
	words := e.dispatch().words
	for {
		b, err := st.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if opts := &e.opts; opts.OnRejects != nil && len(b.Rejects) > 0 {
			opts.OnRejects(b.Rejects)
		}
		if pr := r.prep.preparedFor(b); pr != nil {
			// The events none of the rules may feed are accounted from
			// their time without reading the rest of them.
			r.meta = pr.meta(b.Events, r.meta[:0])
			e.pushBatch(b.Events, pr.cand, words, r.meta)
		} else {
			for i := range b.Events {
				e.Push(&b.Events[i])
			}
		}
		b.Release() // a recycling stream may reuse its memory
	}
	alerts := e.Finish()
	ev, un, steps := e.Stats()
	return &Result{Alerts: alerts, Events: ev, Untimed: un, Late: e.Late(), Duplicates: e.Duplicates(), Others: e.Others(), Steps: steps, Failures: e.Failures()}, nil
}

// ClockTick is how often Live calls Advance.
const ClockTick = time.Second

// Live evaluates set over a stream that may block waiting for data (a
// followed file, Loki tail). Steps run as event time passes and, on a
// quiet stream, as the wall clock does (see Evaluator.Advance). It
// returns when the stream ends (nil) or ctx is cancelled (ctx.Err()).
func Live(ctx context.Context, st data.Stream, set *Set, opts Options) error {
	e, err := NewEvaluator(set, opts)
	if err != nil {
		return err
	}
	return e.Live(ctx, st)
}

// Live runs the evaluator over st (see the package function Live),
// releasing each batch once pushed (see data.ReadOptions.Recycle).
func (e *Evaluator) Live(ctx context.Context, st data.Stream) error {
	type item struct {
		b   *data.Batch
		err error
	}
	ctx, cancel := context.WithCancel(ctx)
	ch := make(chan item)
	readerDone := make(chan struct{})
	// The reader goroutine must be out of st.Next before Live returns:
	// the caller closes st next.
	defer func() {
		cancel()
		<-readerDone
	}()
	go func() {
		defer close(readerDone)
		defer close(ch)
		for {
			b, err := st.Next(ctx)
			select {
			case ch <- item{b, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	tick := time.NewTicker(ClockTick)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case it, ok := <-ch:
			if !ok {
				return ctx.Err()
			}
			if errors.Is(it.err, io.EOF) {
				e.Finish()
				return nil
			}
			if it.err != nil {
				return it.err
			}
			if e.opts.OnRejects != nil && len(it.b.Rejects) > 0 {
				e.opts.OnRejects(it.b.Rejects)
			}
			for i := range it.b.Events {
				e.Push(&it.b.Events[i])
			}
			if it.b.CaughtUp {
				// A followed input read to its end: what it held when
				// opened has been counted, in any order (Options.Backlog).
				e.EndBacklog()
			}
			it.b.Release() // a recycling stream may reuse its memory
		case now := <-tick.C:
			e.Advance(now)
		}
	}
}

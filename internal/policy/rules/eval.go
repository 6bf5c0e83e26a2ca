package rules

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/audittui/audittui/internal/data"
)

// Options tune an Evaluator.
type Options struct {
	Logger *slog.Logger
	// ExternalLabels are what templates see as $externalLabels.
	ExternalLabels map[string]string
	// From/To bound the evaluation in Unix nanoseconds (0 = open). With To
	// unset, replay keeps stepping after the last event until every window
	// has emptied, so alerts resolve (or reach `for`) as they would have.
	From, To int64
	// OnChange, if set, is called (on the evaluating goroutine) with a copy
	// of an instance when it starts firing and when it resolves.
	OnChange func(a *Alert)
	// OnRejects, if set, receives the rejected lines of each batch.
	OnRejects func([]data.Reject)
	// LiveGrace is how long live mode waits, when no event arrives, before
	// it takes event time to advance with the wall clock (so windows empty
	// and alerts resolve); events delayed by more than this may miss
	// steps that already ran. 0 means 10 seconds.
	LiveGrace time.Duration
	// OnStep, if set, is called after every evaluation step with the step
	// time; live consumers use it to refresh their view (see Snapshot).
	OnStep func(t time.Time)
}

// Evaluator evaluates a rule set over events that arrive in time order.
// Each event is decoded once and offered to every rule; each group is
// evaluated at every multiple of its interval (in event time), exactly as
// Loki's ruler would have evaluated it had it run while the events arrived.
//
// Push, Advance and Finish must be called from one goroutine; Snapshot may
// be called from any.
type Evaluator struct {
	opts   Options
	log    *slog.Logger
	groups []*groupState
	// batch mode (replay) evaluates whole chunks of steps at once; live
	// mode evaluates each step as soon as event time passes it.
	batch bool
	// flushAt: in batch mode, steps run once an event is past this time.
	flushAt int64
	// lits holds every rule's required literals; present is the scratch
	// bitset of those found in the current event.
	lits    literalSet
	present []uint64

	mu        sync.Mutex
	done      []*Alert // instances that fired and resolved
	seq       int
	events    int64
	untimed   int64
	steps     int
	watermark int64 // largest event time seen
	lastStep  int64 // latest step evaluated (any group)
	late      int64 // events older than lastStep or floor
	floor     int64 // events at or before this time fall in no window
	evalTo    int64 // every step <= evalTo has run
	maxDrain  int64 // longest range+offset+for over all rules, plus an interval
}

type groupState struct {
	g        *Group
	interval int64
	next     int64 // next step time; 0 until the first event
	rules    []*ruleState
}

type ruleState struct {
	r   *Rule
	idx int
	eng *ruleEngine
	// need lists the literals (indexes into Evaluator.lits) that a line
	// must contain for the rule's pipeline to pass.
	need []int
	// rng is how far back a step looks: the range plus any offset.
	rng int64
	// active instances (pending or firing) by series key.
	active map[string]*Alert
	// contrib holds, per series key, contributing events not yet counted
	// in an instance (kept while within rng of the newest event).
	contrib map[string]*contribQueue
}

type contrib struct {
	t  int64
	id string
}

type contribQueue struct {
	items []contrib
	head  int
}

func (q *contribQueue) push(c contrib) { q.items = append(q.items, c) }

func (q *contribQueue) len() int { return len(q.items) - q.head }

// dropBefore forgets contributions at or before t.
func (q *contribQueue) dropBefore(t int64) {
	for q.head < len(q.items) && q.items[q.head].t <= t {
		q.items[q.head] = contrib{}
		q.head++
	}
	if q.head > 1024 && q.head*2 > len(q.items) {
		n := copy(q.items, q.items[q.head:])
		q.items = q.items[:n]
		q.head = 0
	}
}

// batchChunkSteps is how many steps replay evaluates at once.
const batchChunkSteps = 240

// NewEvaluator prepares the rules of set for live evaluation: every step
// is evaluated as soon as event time (or Advance) passes it.
func NewEvaluator(set *Set, opts Options) (*Evaluator, error) {
	return newEvaluator(set, opts, false)
}

func newEvaluator(set *Set, opts Options, batch bool) (*Evaluator, error) {
	e := &Evaluator{opts: opts, log: opts.Logger, batch: batch}
	minSteps := 0
	if batch {
		minSteps = batchChunkSteps
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	idx := 0
	for _, g := range set.Groups {
		gs := &groupState{g: g, interval: int64(g.Interval)}
		if gs.interval <= 0 {
			gs.interval = int64(DefaultInterval)
		}
		for _, r := range g.Rules {
			if r.query == nil {
				return nil, errors.New(r.Where() + ": rule " + r.Alert + " has no parsed query")
			}
			eng, err := newRuleEngine(r.query, gs.interval, minSteps)
			if err != nil {
				return nil, errors.New(r.Where() + ": rule " + r.Alert + ": " + err.Error())
			}
			rs := &ruleState{r: r, idx: idx, eng: eng,
				rng:     int64(r.query.Range() + r.query.Offset()),
				active:  map[string]*Alert{},
				contrib: map[string]*contribQueue{}}
			for _, lit := range r.query.LogQuery().RequiredLiterals() {
				rs.need = append(rs.need, e.lits.add(lit))
			}
			idx++
			gs.rules = append(gs.rules, rs)
			if d := rs.rng + int64(r.For) + gs.interval; d > e.maxDrain {
				e.maxDrain = d
			}
		}
		e.groups = append(e.groups, gs)
	}
	e.lits.build()
	e.present = make([]uint64, e.lits.words)
	return e, nil
}

// ceilTo returns the smallest multiple of step that is >= t.
func ceilTo(t, step int64) int64 {
	q := t / step
	if q*step < t {
		q++
	}
	return q * step
}

// Push offers one event to every rule. Events must come in time order;
// a late event (older than the last evaluation step) still counts in the
// windows of later steps. Steps before the event's time run first.
func (e *Evaluator) Push(ev *data.Event) {
	t := ev.Time
	if t == 0 {
		e.untimed++
		return
	}
	if (e.opts.From != 0 && t < e.opts.From) || (e.opts.To != 0 && t >= e.opts.To) {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.events++
	if t <= e.lastStep || t <= e.floor {
		// Steps covering t already ran, or t is before every window
		// (older than the first event by more than a range): the event
		// counts only in the steps still to come, if any. Reported, never
		// dropped silently.
		e.late++
	}
	if t > e.watermark {
		e.watermark = t
	}
	// Every step strictly before t has all its events now (a step at
	// time s covers events with time <= s). In batch mode steps wait
	// until a whole chunk is complete.
	if !e.batch || t > e.flushAt {
		e.advanceLocked(t - 1)
	}
	var id string
	e.lits.scan(ev.EntryLine(), e.present)
	for _, gs := range e.groups {
		if gs.next == 0 {
			start := t
			if e.batch {
				// Replay starts the grid half a chunk before the first
				// event, so that input whose first lines are out of order
				// loses nothing (the extra steps see empty windows).
				start -= batchChunkSteps / 2 * gs.interval
			}
			if e.opts.From != 0 && e.opts.From > start {
				start = e.opts.From
			}
			gs.next = ceilTo(start, gs.interval)
			for _, rs := range gs.rules {
				rs.eng.open(gs.next)
				if f := gs.next - rs.rng; e.floor == 0 || f > e.floor {
					e.floor = f
				}
			}
			e.updateFlushAt()
		}
	rules:
		for _, rs := range gs.rules {
			for _, i := range rs.need {
				if !has(e.present, i) {
					continue rules
				}
			}
			key, ok := rs.eng.contributes(ev)
			if !ok {
				continue
			}
			rs.eng.add(ev)
			if id == "" {
				id = strings.Clone(ev.AuditID)
			}
			q := rs.contrib[key]
			if q == nil {
				q = &contribQueue{}
				rs.contrib[key] = q
			}
			q.push(contrib{t: t, id: id})
		}
	}
}

// Advance runs every evaluation step at or before t (Unix nanoseconds).
// Live consumers call it as wall-clock time passes without new events.
func (e *Evaluator) Advance(t int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.advanceLocked(t)
}

func (e *Evaluator) advanceLocked(t int64) {
	if e.opts.To != 0 && t >= e.opts.To {
		t = e.opts.To - 1
	}
	for {
		// Run the earliest pending step across groups, so steps of
		// different groups interleave in time order.
		var next *groupState
		for _, gs := range e.groups {
			if gs.next != 0 && gs.next <= t && (next == nil || gs.next < next.next) {
				next = gs
			}
		}
		if next == nil {
			break
		}
		e.stepLocked(next, next.next)
		next.next += next.interval
	}
	if t > e.evalTo {
		e.evalTo = t
	}
	if e.batch {
		e.updateFlushAt()
	}
}

// updateFlushAt sets the time past which batch mode must run steps: the
// end of the earliest open chunk.
func (e *Evaluator) updateFlushAt() {
	e.flushAt = 0
	for _, gs := range e.groups {
		for _, rs := range gs.rules {
			if rs.eng.cur != nil && (e.flushAt == 0 || rs.eng.cur.end < e.flushAt) {
				e.flushAt = rs.eng.cur.end
			}
		}
	}
}

// Finish runs the remaining steps: up to To when set, else until every
// window has drained after the last event. It returns every instance that
// fired, in order of first activity.
func (e *Evaluator) Finish() []*Alert {
	e.mu.Lock()
	end := e.opts.To - 1
	if e.opts.To == 0 {
		end = e.watermark + e.maxDrain
	}
	if e.watermark != 0 {
		e.advanceLocked(end)
	}
	e.mu.Unlock()
	return e.Snapshot()
}

// Snapshot returns copies of every instance that fired so far (resolved
// ones and those still firing), in order of first activity. Pending
// instances are not included.
func (e *Evaluator) Snapshot() []*Alert {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]*Alert, 0, len(e.done))
	for _, a := range e.done {
		out = append(out, a.copy())
	}
	for _, gs := range e.groups {
		for _, rs := range gs.rules {
			for _, a := range rs.active {
				if a.State == StateFiring {
					out = append(out, a.copy())
				}
			}
		}
	}
	SortAlerts(out)
	return out
}

// Stats reports how many events were evaluated, how many had no time (and
// were skipped), and how many evaluation steps ran.
func (e *Evaluator) Stats() (events, untimed int64, steps int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.events, e.untimed, e.steps
}

// Late reports how many events arrived after steps covering their time had
// already run (input out of time order beyond what the open windows
// absorb): they counted only in later steps.
func (e *Evaluator) Late() int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.late
}

func (a *Alert) copy() *Alert {
	c := *a
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

// stepLocked evaluates every rule of a group at step time s.
func (e *Evaluator) stepLocked(gs *groupState, s int64) {
	e.steps++
	if s > e.lastStep {
		e.lastStep = s
	}
	st := time.Unix(0, s).UTC()
	for _, rs := range gs.rules {
		samples := rs.eng.eval(s)
		if lim := gs.g.Limit; lim > 0 && len(samples) > lim {
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
					key: strconv.Itoa(rs.idx) + key + "@" + strconv.FormatInt(s, 10), seriesLs: smp.labels, Seq: e.seq}
				rs.active[key] = a
			}
			if a.LastActive.IsZero() || smp.value > a.MaxValue {
				a.MaxValue = smp.value
			}
			a.LastActive = st
			a.Value = smp.value
			// Count the events of this series inside the step's window.
			if q := rs.contrib[key]; q != nil {
				lo := s - rs.rng
				for i := q.head; i < len(q.items); i++ {
					c := q.items[i]
					if c.t > s {
						break
					}
					if c.t <= lo {
						continue
					}
					a.Events++
					if len(a.AuditIDs) < MaxSampleIDs {
						a.AuditIDs = append(a.AuditIDs, c.id)
						a.EventTimes = append(a.EventTimes, time.Unix(0, c.t).UTC())
					}
				}
				// Counted: drop them (those after s stay for later steps).
				kept := q.items[:q.head]
				for i := q.head; i < len(q.items); i++ {
					if q.items[i].t > s {
						kept = append(kept, q.items[i])
					}
				}
				q.items = kept
			}
			if a.State == StatePending && st.Sub(a.ActiveAt) >= rs.r.For {
				a.State = StateFiring
				a.FiredAt = st
				a.Labels, a.Annotations = rs.r.renderExt(a.seriesLs, a.Value, e.opts.ExternalLabels)
				a.Severity = a.Labels["severity"]
				if e.opts.OnChange != nil {
					e.opts.OnChange(a.copy())
				}
			} else if a.State == StateFiring {
				a.Labels, a.Annotations = rs.r.renderExt(a.seriesLs, a.Value, e.opts.ExternalLabels)
				a.Severity = a.Labels["severity"]
			}
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
				if e.opts.OnChange != nil {
					e.opts.OnChange(a.copy())
				}
			}
		}
		// Forget contributions that can no longer fall in a window.
		lo := s - rs.rng
		for key, q := range rs.contrib {
			q.dropBefore(lo)
			if q.len() == 0 {
				delete(rs.contrib, key)
			}
		}
	}
	if e.opts.OnStep != nil {
		e.opts.OnStep(st)
	}
}

// Result is the outcome of a replay.
type Result struct {
	Alerts []*Alert
	// Events evaluated, Untimed events skipped for lack of a timestamp,
	// Late events that arrived after steps covering their time had run
	// (see Evaluator.Late), Steps run (summed over groups).
	Events, Untimed, Late int64
	Steps                 int
}

// Replay reads st to the end and evaluates set over it.
func Replay(ctx context.Context, st data.Stream, set *Set, opts Options) (*Result, error) {
	e, err := newEvaluator(set, opts, true)
	if err != nil {
		return nil, err
	}
	for {
		b, err := st.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if opts.OnRejects != nil && len(b.Rejects) > 0 {
			opts.OnRejects(b.Rejects)
		}
		for i := range b.Events {
			e.Push(&b.Events[i])
		}
	}
	alerts := e.Finish()
	ev, un, steps := e.Stats()
	return &Result{Alerts: alerts, Events: ev, Untimed: un, Late: e.Late(), Steps: steps}, nil
}

// liveIdle is how often Live advances event time while no event arrives.
const liveIdle = time.Second

// Live evaluates set over a stream that may block waiting for data (a
// followed file, Loki tail). Steps run as event time passes; while no
// event arrives, event time is taken to advance with the wall clock from
// the newest event, so windows empty and alerts resolve. It returns when
// the stream ends (nil) or ctx is cancelled (ctx.Err()).
func Live(ctx context.Context, st data.Stream, set *Set, opts Options) error {
	e, err := NewEvaluator(set, opts)
	if err != nil {
		return err
	}
	return e.Live(ctx, st)
}

// Live runs the evaluator over st (see the package function Live).
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
	grace := e.opts.LiveGrace
	if grace <= 0 {
		grace = 10 * time.Second
	}
	tick := time.NewTicker(liveIdle)
	defer tick.Stop()
	lastWall := time.Now()
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
			lastWall = time.Now()
		case now := <-tick.C:
			e.mu.Lock()
			wm := e.watermark
			e.mu.Unlock()
			if idle := now.Sub(lastWall) - grace; wm != 0 && idle > 0 {
				e.Advance(wm + int64(idle))
			}
		}
	}
}

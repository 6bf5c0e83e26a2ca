package rules

import (
	"errors"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
)

// Parallel evaluates a rule set live over batches of events on goroutines
// of its own, so that whoever reads the events (the TUI's feed, which
// indexes them) decodes each event once and is not held up by the rules.
//
// The rules are split into shards, one Evaluator each; every shard sees
// every batch, in the order given, and the shards run at once (on a
// machine with more than one core the set evaluates in a fraction of the
// time one Evaluator takes). The rules an event may feed are found once
// for all shards (dispatch). The split balances the rules' cost as measured on
// the first batch (until then, as estimated from their expressions).
// Instances are those a single Evaluator over the whole set would raise:
// rules do not share state, and each shard applies the same seal points
// to the same events. Alert keys stay unique across shards.
//
// Push, Finish and Close are called from one goroutine (the reader's);
// Advance, Snapshot, Stats, Pending and Busy from any; Prepare from any
// number at once.
type Parallel struct {
	set    *Set
	opts   Options
	n      int
	nrules int
	index  map[*Rule]int
	// disp finds the rules each event may feed (by index in the set),
	// once for all shards.
	disp *dispatch
	// prep answers as disp, for Prepare.
	prep preparer
	// calibrated: the split was balanced on measured costs.
	calibrated bool

	mu     sync.RWMutex // guards shards (replaced once, by calibrate)
	shards []*shard

	// finished is closed once every shard has run Finish; quit stops
	// the shards (Close).
	finished chan struct{}
	quit     chan struct{}
	once     sync.Once
	quitOnce sync.Once
	closed   atomic.Bool
}

// item is a batch with the candidates of each event (words per event);
// endBacklog (no batch) says the input has caught up (EndBacklog).
type item struct {
	b    *data.Batch
	cand []uint64
	// meta is each event's time and Repeat, read once for the shards
	// (Evaluator.pushBatch).
	meta       []evMeta
	endBacklog bool
}

type shard struct {
	ev    *Evaluator
	in    chan item     // nil batch: finish
	clock chan tick     // the latest Advance or CatchUp, cap 1
	quit  chan struct{} // the Parallel's
	stop  chan struct{} // this shard's (replaced by calibrate)
	// exited is closed when the shard's goroutine returns.
	exited chan struct{}
	// pushed and done count batches handed over and evaluated.
	pushed, done atomic.Int64
	busy         atomic.Int64 // nanoseconds spent evaluating
	final        []*Alert
}

// ParallelQueue is how many batches a shard may be behind the reader
// before Push blocks: none, so that few batches (each holds the read
// buffer its events alias) are held at once.
const ParallelQueue = 0

// NewParallel prepares set for live evaluation (see NewEvaluator for
// opts) in n shards (n <= 0: 2; never more than the rules). OnChange and
// OnStep, if set, may be called from several shards at once.
func NewParallel(set *Set, opts Options, n int) (*Parallel, error) {
	if opts.Reorder == 0 {
		opts.Reorder = DefaultReorder
	}
	all := set.Rules()
	if len(all) == 0 {
		return nil, errors.New("no alert rule to evaluate")
	}
	if n <= 0 {
		n = 2
	}
	n = min(n, len(all))
	p := &Parallel{set: set, opts: opts, n: n, nrules: len(all), index: map[*Rule]int{},
		finished: make(chan struct{}), quit: make(chan struct{})}
	qs := make([]*logql.LogQuery, len(all))
	for i, r := range all {
		if r.query == nil {
			return nil, errors.New(r.Where() + ": rule " + r.Alert + " has no parsed query")
		}
		p.index[r] = i
		qs[i] = r.query.LogQuery()
	}
	p.disp = newDispatch(qs)
	p.prep.queries = qs
	shards, err := p.build(splitRules(set, n, ruleCost))
	if err != nil {
		return nil, err
	}
	p.shards = shards
	p.calibrated = n == 1
	return p, nil
}

// build makes (and starts) one shard per part.
func (p *Parallel) build(parts []*Set) ([]*shard, error) {
	var out []*shard
	for _, part := range parts {
		ev, err := newEvaluator(part, p.opts, 0)
		if err != nil {
			return nil, err
		}
		for _, rs := range ev.rules {
			// Number rules as in the whole set, so instance keys (and
			// the duplicate filter's per-rule entries) do not collide.
			rs.idx = p.index[rs.r]
		}
		ev.index(p.nrules)
		if p.opts.From != 0 {
			// The whole set's look-back, not the part's: a step before
			// From counts what a single Evaluator's would (the first
			// activity of an instance that started before From depends
			// on it), whichever rules share the shard.
			ev.setLookFrom(p.opts.From - int64(p.set.LookBack()))
		}
		out = append(out, &shard{ev: ev, in: make(chan item, ParallelQueue), clock: make(chan tick, 1),
			quit: p.quit, stop: make(chan struct{}), exited: make(chan struct{})})
	}
	for _, sh := range out {
		go sh.run()
	}
	return out, nil
}

// calibrateSample is how many events of the first batch calibrate times.
const calibrateSample = 2000

// calibrate measures what each rule's pipeline costs on (a sample of) the
// first batch and, when that splits the rules differently, replaces the
// shards (which have seen nothing yet) by a split balanced on it.
func (p *Parallel) calibrate(it item) {
	p.calibrated = true
	b := it.b
	words := p.disp.words
	stride := max(1, len(b.Events)/calibrateSample)
	cost := map[*Rule]int64{}
	for i := 0; i < len(b.Events); i += stride {
		ev := &b.Events[i]
		cand := it.cand[i*words : (i+1)*words]
		for _, sh := range p.shards {
			for _, rs := range sh.ev.rules {
				if cand[rs.idx/64]&(1<<(rs.idx%64)) == 0 {
					continue
				}
				t0 := time.Now()
				rs.contributes(ev, false)
				cost[rs.r] += int64(time.Since(t0))
			}
		}
	}
	shards, err := p.build(splitRules(p.set, p.n, func(r *Rule) int { return int(cost[r]/1000) + 1 }))
	if err != nil {
		return // keep the estimated split
	}
	p.mu.Lock()
	old := p.shards
	p.shards = shards
	p.mu.Unlock()
	for _, sh := range old {
		close(sh.stop)
		<-sh.exited
	}
}

// handOver gives an item (nil batch: finish) to every shard; false when
// closed meanwhile.
func (p *Parallel) handOver(it item) bool {
	for _, sh := range p.shards {
		it.b.Hold() // each shard releases it when done (run)
		select {
		case sh.in <- it:
		case <-p.quit:
			it.b.Release()
			return false
		}
	}
	return true
}

// splitRules deals the rules of set into n sets of about equal cost,
// each keeping its rules' groups (name, interval, limit). Rules with the
// same pipeline go to the same set, which runs it once for all of them
// (Evaluator.pipes): they cost about what one of them does.
func splitRules(set *Set, n int, costOf func(*Rule) int) []*Set {
	type family struct {
		cost int
		pos  []int // the rules' positions in set.Rules()
	}
	var fams []*family
	byPipe := map[string]*family{}
	for pos, r := range set.Rules() {
		c := costOf(r)
		var f *family
		if r.query != nil {
			key := r.query.LogQuery().String()
			if f = byPipe[key]; f == nil {
				f = &family{}
				byPipe[key] = f
			}
		} else {
			f = &family{}
		}
		if len(f.pos) == 0 {
			fams = append(fams, f)
		}
		f.cost = max(f.cost, c)
		f.pos = append(f.pos, pos)
	}
	sort.SliceStable(fams, func(i, j int) bool { return fams[i].cost > fams[j].cost })
	load := make([]int, n)
	owner := make([]int, len(set.Rules()))
	for _, f := range fams {
		best := 0
		for k := 1; k < n; k++ {
			if load[k] < load[best] {
				best = k
			}
		}
		load[best] += f.cost
		for _, pos := range f.pos {
			owner[pos] = best
		}
	}
	out := make([]*Set, n)
	groups := make([]map[*Group]*Group, n)
	for k := range out {
		out[k] = &Set{lists: set.lists}
		groups[k] = map[*Group]*Group{}
	}
	pos := 0
	for _, g := range set.Groups {
		for _, r := range g.Rules {
			k := owner[pos]
			pos++
			cp := groups[k][g]
			if cp == nil {
				c := *g
				c.Rules = nil
				cp = &c
				groups[k][g] = cp
				out[k].Groups = append(out[k].Groups, cp)
			}
			cp.Rules = append(cp.Rules, r) // r.Group still names the original
		}
	}
	return out
}

// ruleCost estimates what evaluating r costs per event, for splitRules:
// a rule with no literal to gate on runs on every event; regular
// expressions on the whole line are the dearest stages.
func ruleCost(r *Rule) int {
	if r.query == nil {
		return 1
	}
	lq := r.query.LogQuery()
	cost := 2
	if len(lq.RequiredLiterals()) == 0 {
		cost += 6
	}
	s := lq.String()
	cost += 8 * (strings.Count(s, " |~ ") + strings.Count(s, " !~ "))
	cost += 2 * strings.Count(s, "=~")
	return cost
}

func (sh *shard) run() {
	defer close(sh.exited)
	for {
		select {
		case <-sh.quit:
			return
		case <-sh.stop:
			return
		case it := <-sh.in:
			b := it.b
			if it.endBacklog {
				t0 := time.Now()
				sh.ev.EndBacklog()
				sh.busy.Add(int64(time.Since(t0)))
				sh.done.Add(1)
				continue
			}
			if b == nil {
				t0 := time.Now()
				sh.final = sh.ev.Finish()
				sh.busy.Add(int64(time.Since(t0)))
				sh.done.Add(1)
				return
			}
			t0 := time.Now()
			sh.ev.pushBatch(b.Events, it.cand, len(it.cand)/len(b.Events), it.meta)
			b.Release() // held by handOver
			sh.busy.Add(int64(time.Since(t0)))
			sh.done.Add(1)
		case tk := <-sh.clock:
			if tk.caughtUp {
				sh.ev.CatchUp(tk.now)
			} else {
				sh.ev.Advance(tk.now)
			}
		}
	}
}

// Push hands a batch to every shard. It blocks while a shard is more than
// ParallelQueue batches behind. The batch must not change afterwards;
// each shard holds it (data.Batch.Hold) until it has evaluated it, so the
// caller may release it when Push returns.
func (p *Parallel) Push(b *data.Batch) {
	if b == nil || p.closed.Load() {
		return
	}
	if len(b.Events) > 0 {
		p.push(b)
	}
	if b.CaughtUp {
		// After the batch's events, in every shard (Options.Backlog).
		p.EndBacklog()
	}
}

// EndBacklog tells every shard, after the batches pushed before it, that
// the history the input started with has been read (see
// Evaluator.EndBacklog). Push calls it for a batch marked CaughtUp.
// Call it from the goroutine that calls Push.
func (p *Parallel) EndBacklog() {
	if p.closed.Load() || !p.opts.Backlog {
		return // no backlog, or ended already
	}
	// Shards built later (calibrate, at the first events) start live.
	p.opts.Backlog = false
	for _, sh := range p.shards {
		sh.pushed.Add(1)
	}
	p.handOver(item{endBacklog: true})
}

func (p *Parallel) push(b *data.Batch) {
	words := p.disp.words
	it := item{b: b}
	if pr := p.prep.preparedFor(b); pr != nil {
		it.cand, it.meta = pr.cand, pr.meta(b.Events, make([]evMeta, 0, len(b.Events)))
	} else {
		it.meta = make([]evMeta, len(b.Events))
		it.cand = make([]uint64, len(b.Events)*words)
		for i := range b.Events {
			ev := &b.Events[i]
			copy(it.cand[i*words:], p.disp.candidates(ev))
			it.meta[i] = evMeta{t: ev.Time, repeat: ev.Repeat, proven: p.disp.proven}
		}
	}
	if !p.calibrated {
		p.calibrate(it)
	}
	for _, sh := range p.shards {
		sh.pushed.Add(1)
	}
	p.handOver(it)
}

// Prepare works out the rules the events of b may feed, as Push would,
// for the events it has not prepared yet, and attaches the answers to b
// (Batch.Prepared) for Push. It is meant for the goroutine that decodes
// b (data.ReadOptions.Prepare), a few hundred events at a time: they are
// still in that core's caches, and the work runs beside the reader's
// goroutine instead of on it. It may be called from several goroutines
// at once, for different batches (each takes a copy of the dispatch).
func (p *Parallel) Prepare(b *data.Batch) {
	if !p.closed.Load() {
		p.prep.prepare(b)
	}
}

// tick is a clock reading for the shards.
type tick struct {
	now      time.Time
	caughtUp bool // CatchUp, not Advance
}

// Advance tells every shard the wall clock reads now (see
// Evaluator.Advance); it never blocks. Call it from a ticker.
func (p *Parallel) Advance(now time.Time) { p.clockTick(tick{now: now}) }

// CatchUp is Advance for an input read to its end (see
// Evaluator.CatchUp).
func (p *Parallel) CatchUp(now time.Time) { p.clockTick(tick{now: now, caughtUp: true}) }

func (p *Parallel) clockTick(tk tick) {
	if p.closed.Load() {
		return
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	for _, sh := range p.shards {
		select {
		case <-sh.clock: // replace a tick not yet taken
		default:
		}
		select {
		case sh.clock <- tk:
		default:
		}
	}
}

// Finish tells the shards the input has ended and waits until each has
// evaluated what it was given and drained its windows (see
// Evaluator.Finish). Calling it again does nothing.
func (p *Parallel) Finish() {
	p.once.Do(func() {
		p.closed.Store(true)
		if !p.handOver(item{}) {
			return
		}
		for _, sh := range p.shards {
			select {
			case <-sh.exited:
			case <-p.quit:
				return
			}
		}
		select {
		case <-p.quit:
			return // closed meanwhile: the finals may be incomplete
		default:
		}
		close(p.finished)
	})
}

// Close stops the shards (what they hold is dropped) and releases a
// blocked Push or Finish. Snapshot keeps working.
func (p *Parallel) Close() {
	p.quitOnce.Do(func() {
		p.closed.Store(true)
		close(p.quit)
		p.mu.RLock()
		defer p.mu.RUnlock()
		for _, sh := range p.shards {
			<-sh.exited
		}
	})
}

// Finished is closed once Finish has completed.
func (p *Parallel) Finished() <-chan struct{} { return p.finished }

// Pending reports how many batches the slowest shard has still to
// evaluate (0: caught up with every Push).
func (p *Parallel) Pending() int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	n := int64(0)
	for _, sh := range p.shards {
		n = max(n, sh.pushed.Load()-sh.done.Load())
	}
	return int(n)
}

// Rules is how many rules are evaluated.
func (p *Parallel) Rules() int { return p.nrules }

// Shards is how many evaluators run.
func (p *Parallel) Shards() int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return len(p.shards)
}

// Busy returns the time each shard spent evaluating so far.
func (p *Parallel) Busy() []time.Duration {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make([]time.Duration, len(p.shards))
	for i, sh := range p.shards {
		out[i] = time.Duration(sh.busy.Load())
	}
	return out
}

// Snapshot returns copies of every instance that fired so far, in order of
// first activity (see Evaluator.Snapshot); after Finish, the final ones.
func (p *Parallel) Snapshot() []*Alert {
	p.mu.RLock()
	defer p.mu.RUnlock()
	select {
	case <-p.finished:
		var out []*Alert
		for _, sh := range p.shards {
			for _, a := range sh.final {
				out = append(out, a.copy())
			}
		}
		SortAlerts(out)
		return out
	default:
	}
	var out []*Alert
	for _, sh := range p.shards {
		out = append(out, sh.ev.Snapshot()...)
	}
	SortAlerts(out)
	return out
}

// Failures returns the rules whose evaluation failed so far (see
// Evaluator.Failures), in rule order.
func (p *Parallel) Failures() []Failure {
	p.mu.RLock()
	defer p.mu.RUnlock()
	var out []Failure
	for _, sh := range p.shards {
		out = append(out, sh.ev.Failures()...)
	}
	sort.SliceStable(out, func(i, j int) bool { return p.index[out[i].Rule] < p.index[out[j].Rule] })
	return out
}

// Stats reports the events evaluated (every shard sees every event),
// those without a time, and the step times run (summed over shards).
func (p *Parallel) Stats() (events, untimed int64, steps int) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	for i, sh := range p.shards {
		ev, un, st := sh.ev.Stats()
		if i == 0 {
			events, untimed = ev, un
		}
		steps += st
	}
	return events, untimed, steps
}

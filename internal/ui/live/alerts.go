package live

import (
	"context"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/policy/rules"
	"github.com/audittui/audittui/internal/ui"
)

// refreshEvery is how often, at most, the Alerts panes are told the
// alerts changed; the rules' clock (Advance) ticks every rules.ClockTick.
const refreshEvery = 250 * time.Millisecond

// catchUpQuiet is how long a followed input read to its end must have
// brought no event before its alerts catch up with the clock (CatchUp).
var catchUpQuiet = rules.DefaultReorder

// finiteUnbounded: an input that ends is evaluated in any order (tests
// and benchmarks compare with the live Reorder).
var finiteUnbounded = true

// firstScreenWait bounds how long the rules wait for the first screen.
const firstScreenWait = 500 * time.Millisecond

// Alerts evaluates the rules over the batches the feed indexes: one
// decode of each event serves the index and the rules. The rules run on
// goroutines of their own (rules.Parallel, two shards per core), so the
// feed hands a batch over and goes on indexing; a ticker moves the rules'
// clock every second, so a quiet followed file still fires and resolves
// on time (as Loki's ruler evaluates every interval). When the only
// source is Loki, the ruler's own alerts and the rules evaluated on the
// server (loki.go) join the local ones. Any number of Alerts panes read
// the one evaluation, each through its own Subscription (ui.AlertSource):
// the local TUI has one, `audittui serve` one per SSH session.
type Alerts struct {
	// opened is when the evaluation was set up (with the feed); doneIn
	// how long after it every event read was evaluated (0 before).
	opened time.Time
	doneIn atomic.Int64
	par    *rules.Parallel // nil when no rule runs here
	// prep is par once the rules run, for Prepare (on the decoding
	// goroutines, which do not take mu).
	prep   atomic.Pointer[rules.Parallel]
	nrules int
	dirty  atomic.Bool
	ended  atomic.Bool // the input ended (Finish is running or done)
	// caughtUp: the last batch read said the input was read to its end
	// (a followed file waiting for more).
	caughtUp atomic.Bool
	done     atomic.Bool // Finish is done
	log      *slog.Logger
	remote   *lokiAlerts // nil unless the source is Loki
	// from and to are the window asked for (0: open): the rules report
	// the instances active at its steps (rules.Options), and before
	// counts the events evaluated before from (the rules' look-back).
	from, to int64
	before   atomic.Int64
	// first is the time of the first dated event read (with from; 0:
	// none yet), absent how many rules answer on absence: when first is
	// after from, those judged the time between as silence (State).
	first  atomic.Int64
	absent int
	// follow: the input is followed (live); else it ends, and the rules
	// wait for the whole input as `audittui alerts` does (start).
	follow bool
	// blind are the rules that watch nothing (Options.Blind).
	blind []ui.RuleProblem
	// stopped is closed once the evaluation has stopped (or never ran).
	stopped  chan struct{}
	stopOnce sync.Once

	// Until the rules are loaded (start), batches wait here, so the feed
	// (and the first screen) never waits for the rules to load.
	mu         sync.Mutex
	started    bool
	closed     bool // ctx ended: a late release closes its rules at once
	pending    []*data.Batch
	endPending bool
	// wake tells a feed waiting on a full pending (Push) that the rules
	// started.
	wake sync.Cond
	subs map[*Subscription]struct{}
	// gen counts notifications; the state is computed once per
	// notification, however many panes read it.
	gen      uint64
	cacheGen uint64
	cache    ui.AlertState
	cached   bool
}

// newAlerts returns the alerts, waiting for their rules (start).
func newAlerts(log *slog.Logger) *Alerts {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &Alerts{log: log, stopped: make(chan struct{}), subs: map[*Subscription]struct{}{}, opened: time.Now()}
	l.wake.L = &l.mu
	return l
}

// maxPending is how many batches wait for the rules to load before the
// feed waits too. The rules load in a second or two (longer on a busy
// machine) while a file is read at hundreds of MB/s: unbounded, the
// batches held (each its read buffer and events) reached 140 MB of live
// heap on a 1 GB file, the peak of the whole read; 16 hold at most about
// 50 MB.
const maxPending = 16

func (l *Alerts) stop() { l.stopOnce.Do(func() { close(l.stopped) }) }

// load loads the rules (get) and starts their evaluation until ctx ends
// (ok is false when no rule is loaded and the source is not Loki: alerts
// are off). The batches read meanwhile are held, then evaluated.
func (l *Alerts) load(ctx context.Context, o Options, get func() (*rules.Set, error)) (ok bool, err error) {
	defer func() {
		if !ok {
			l.stop()
		}
	}()
	set, err := get()
	if err != nil {
		l.start(nil, nil, nil) // releases the batches held meanwhile
		return false, err
	}
	var remote *lokiAlerts
	if src, isLoki := lokiSource(o.Sources); isLoki {
		rf, rt := src.Range(data.ReadOptions{From: o.Read.From, To: o.Read.To})
		var server []*rules.Rule
		set, server = splitForLoki(set, rf, rt)
		if o.Read.Follow && o.Read.To == 0 {
			rt = 0
		}
		remote = newLokiAlerts(src, server, rf, rt, l.log)
	}
	if (set == nil || len(set.Rules()) == 0) && remote == nil {
		l.start(nil, nil, nil)
		return false, nil
	}
	if err := l.start(set, remote, o.FirstScreen); err != nil {
		l.start(nil, nil, nil)
		return false, err
	}
	go func() {
		defer l.stop()
		l.run(ctx)
	}()
	return true, nil
}

// start begins evaluating set (nil or empty: no rule runs here) and the
// Loki part, with the batches that came meanwhile. With gate, the
// evaluation starts once gate is closed (the first screen is drawn) or
// firstScreenWait has passed; the batches read until then wait.
func (l *Alerts) start(set *rules.Set, remote *lokiAlerts, gate <-chan struct{}) error {
	var par *rules.Parallel
	if set != nil && len(set.Rules()) > 0 {
		var err error
		// Two shards per core: the scheduler evens out what the split
		// leaves uneven (on 2 cores, 4 shards evaluate 1 GB in 4.6 s where
		// 2 took 6.3 to 7.8 s).
		n := 2 * runtime.GOMAXPROCS(0)
		o := rules.Options{Logger: l.log, OnChange: func(*rules.Alert) { l.dirty.Store(true) }, From: l.from, To: l.to,
			// The index marks the copies of every batch before the rules
			// read it (Index.Add), but not the look-back's events before
			// from, which it does not take (Feed.inWindow).
			Deduplicated: l.from == 0}
		if !l.follow && finiteUnbounded {
			// An input that ends is evaluated as `audittui alerts` (Replay)
			// evaluates it: in any order, each step once no event can
			// change it any more (or the memory budget, shared by the
			// shards, forces the oldest out), so that events out of time
			// order by more than the live DefaultReorder (files
			// concatenated, nodes given apart) count in their own steps.
			o.Reorder = rules.Unbounded
		} else if l.follow && remote == nil {
			// A followed file's content when it is opened is history, in
			// whatever order it was written: evaluated so until the input
			// first catches up (rules.Options.Backlog), then live. Else
			// only events less than DefaultReorder out of order counted:
			// 6 of the 22 groups of the Falco traces (review L 1).
			o.Backlog = true
		}
		if o.Reorder == rules.Unbounded || o.Backlog {
			o.MaxRetained = rules.DefaultMaxRetained / int64(n) // shared by the shards
		}
		par, err = rules.NewParallel(set, o, n)
		if err != nil {
			return err
		}
	}
	nrules, absent := 0, 0
	if par != nil {
		nrules = par.Rules()
		for _, r := range set.Rules() {
			if q := r.Query(); q != nil && q.ReturnsWithoutEntries() {
				absent++
			}
		}
	}
	if remote != nil {
		nrules += len(remote.server)
		remote.changed = func() { l.dirty.Store(true) }
	}
	l.mu.Lock()
	l.remote, l.nrules, l.absent = remote, nrules, absent
	l.mu.Unlock()
	if gate != nil {
		go func() {
			select {
			case <-gate:
			case <-time.After(firstScreenWait):
			}
			l.release(par)
		}()
		return nil
	}
	l.release(par)
	return nil
}

// release hands the batches held to the rules and lets the next ones go
// straight to them.
func (l *Alerts) release(par *rules.Parallel) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		if par != nil {
			par.Close()
		}
		for _, b := range l.pending {
			b.Release()
		}
		l.pending = nil
		l.wake.Broadcast()
		return
	}
	l.par = par
	if par != nil {
		l.prep.Store(par)
	}
	for _, b := range l.pending {
		if par != nil {
			par.Push(b)
		}
		b.Release() // held by Push
	}
	l.pending, l.started = nil, true
	l.wake.Broadcast()
	if l.endPending {
		l.finish()
	}
}

// Prepare is the read's data.ReadOptions.Prepare: once the rules are
// loaded, the decoding goroutines work out which rules each event may
// feed (rules.Parallel.Prepare), so that Push need not.
func (l *Alerts) Prepare(b *data.Batch) {
	if par := l.prep.Load(); par != nil {
		par.Prepare(b)
	}
}

// Push is the feed's OnBatch: the batch goes to the rules' goroutines.
func (l *Alerts) Push(b *data.Batch) {
	l.caughtUp.Store(b.CaughtUp)
	if l.from != 0 {
		n, first := 0, int64(0)
		for i := range b.Events {
			t := b.Events[i].Time
			if t != 0 && t < l.from {
				n++
			}
			if t != 0 && (first == 0 || t < first) {
				first = t
			}
		}
		l.before.Add(int64(n))
		for first != 0 {
			old := l.first.Load()
			if (old != 0 && old <= first) || l.first.CompareAndSwap(old, first) {
				break
			}
		}
	}
	l.mu.Lock()
	if !l.started {
		if !l.closed {
			b.Hold() // until the rules are loaded (release)
			l.pending = append(l.pending, b)
			for len(l.pending) >= maxPending && !l.started && !l.closed {
				l.wake.Wait() // the rules start: release
			}
		}
		l.mu.Unlock()
		return
	}
	par := l.par
	l.mu.Unlock()
	if par != nil {
		par.Push(b)
	}
}

// End is the feed's OnEnd: the windows drain (so alerts resolve or reach
// their `for` as they would have) without holding the feed up.
func (l *Alerts) End() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.started {
		l.endPending = true
		return
	}
	l.finish()
}

// finish drains the windows on a goroutine of its own (l.mu held).
func (l *Alerts) finish() {
	l.ended.Store(true)
	par := l.par
	go func() {
		if par != nil {
			par.Finish()
		}
		l.doneIn.Store(int64(time.Since(l.opened)))
		l.done.Store(true)
		// The panes learn it at once, not at the next tick (or a second
		// later, when they were told already that the rules caught up).
		l.signal()
	}()
}

// run ticks the rules' clock and tells the panes about changes until ctx
// ends; then it stops the rules.
func (l *Alerts) run(ctx context.Context) {
	if r := l.getRemote(); r != nil {
		go r.run(ctx)
	}
	tick := time.NewTicker(refreshEvery)
	defer tick.Stop()
	var lastClock, lastSignal, lastEventAt time.Time
	var lastEvents int64
	lastFailures := 0
	want, wasDone := false, false
	for {
		select {
		case <-ctx.Done():
			l.mu.Lock()
			l.closed = true
			par := l.par
			l.mu.Unlock()
			if par != nil {
				par.Close()
			}
			return
		case now := <-tick.C:
			if l.dirty.Swap(false) {
				want = true
			}
			par := l.getPar()
			if par != nil {
				if l.follow && now.Sub(lastClock) >= rules.ClockTick && !l.ended.Load() {
					lastClock = now
					// A followed input read to its end, every event
					// evaluated and none for a while: CatchUp (an old
					// file's alerts are those at the clock's time).
					if l.caughtUp.Load() && par.Pending() == 0 && now.Sub(lastEventAt) >= catchUpQuiet {
						par.CatchUp(now)
					} else {
						par.Advance(now)
					}
				}
				if ev, _, _ := par.Stats(); ev != lastEvents {
					lastEvents, want, lastEventAt = ev, true, now
				}
				// A step that fails on the clock (no new event) is news.
				if n := len(par.Failures()); n != lastFailures {
					lastFailures, want = n, true
				}
			}
			// At most one refresh a second while events stream in (each
			// regroups the instances), and at once when all is evaluated.
			done := l.done.Load() || (par != nil && par.Pending() == 0)
			if want && (now.Sub(lastSignal) >= time.Second || done != wasDone) {
				want, wasDone, lastSignal = false, done, now
				l.signal()
			}
		}
	}
}

func (l *Alerts) getPar() *rules.Parallel {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.par
}

func (l *Alerts) getRemote() *lokiAlerts {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.remote
}

// signal tells every subscriber the alerts changed (never blocking: each
// has a pending slot of one).
func (l *Alerts) signal() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.gen++
	for s := range l.subs {
		select {
		case s.ch <- struct{}{}:
		default:
		}
	}
}

// Rules is how many rules are evaluated (here and on Loki; 0 until they
// are loaded).
func (l *Alerts) Rules() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.nrules
}

// Stopped is closed once the evaluation has stopped (its context ended)
// or when it never started (no rule loaded).
func (l *Alerts) Stopped() <-chan struct{} { return l.stopped }

// Evaluated is closed once every event of a finite input is evaluated
// and the windows have drained (never while following; nil when no rule
// runs here).
func (l *Alerts) Evaluated() <-chan struct{} {
	if par := l.getPar(); par != nil {
		return par.Finished()
	}
	return nil
}

// Settled reports whether the rules have evaluated what was read: every
// event of an input that ends, the windows drained; when following, the
// input read to its end and no batch waiting (what comes next is the live
// tail). True when no rule runs here; false while the rules load.
func (l *Alerts) Settled() bool {
	if l.done.Load() {
		return true
	}
	l.mu.Lock()
	started := l.started
	l.mu.Unlock()
	if !started {
		return false
	}
	par := l.getPar()
	if par == nil {
		return true
	}
	return l.follow && l.caughtUp.Load() && par.Pending() == 0
}

// Busy returns how long each rule shard has evaluated so far.
func (l *Alerts) Busy() []time.Duration {
	if par := l.getPar(); par != nil {
		return par.Busy()
	}
	return nil
}

// State is what the panes show: computed once per notification.
func (l *Alerts) State() ui.AlertState {
	l.mu.Lock()
	if l.cached && l.cacheGen == l.gen {
		st := l.cache
		l.mu.Unlock()
		return st
	}
	gen := l.gen
	started, par, remote, nrules, absent := l.started, l.par, l.remote, l.nrules, l.absent
	l.mu.Unlock()
	// The flags are read before the snapshot: Finish is complete once
	// done is set, so a state that says Done holds the final alerts (read
	// after the snapshot, a Finish completing in between would mark a
	// partial snapshot Done).
	ended, done := l.ended.Load(), l.done.Load()
	st := ui.AlertState{Rules: nrules, Evaluating: !started}
	if f := l.first.Load(); l.from != 0 && absent > 0 && f > l.from {
		st.FirstRead = time.Unix(0, f).UTC()
	}
	st.Problems = l.blind
	if par != nil {
		st.Local = par.Snapshot()
		if fs := par.Failures(); len(fs) > 0 {
			st.Problems = append(slices.Clip(l.blind), ui.FailureProblems(fs)...)
		}
		st.Events, _, _ = par.Stats()
		st.Before = min(l.before.Load(), st.Events)
		st.Evaluating = par.Pending() > 0 || (ended && !done)
	}
	st.Done = started && ended && done
	if st.Done {
		st.EvaluatedIn = time.Duration(l.doneIn.Load())
	}
	if remote != nil {
		remote.fill(&st)
	}
	l.mu.Lock()
	if l.gen == gen {
		l.cache, l.cacheGen, l.cached = st, gen, true
	}
	l.mu.Unlock()
	return st
}

// Subscribe returns a view of the alerts for one Alerts pane. Close it
// when the pane's program has ended.
func (l *Alerts) Subscribe() *Subscription {
	s := &Subscription{a: l, ch: make(chan struct{}, 1)}
	s.ch <- struct{}{} // the first state at once
	l.mu.Lock()
	l.subs[s] = struct{}{}
	l.mu.Unlock()
	return s
}

// Subscription is one pane's view of the alerts: a ui.AlertSource.
type Subscription struct {
	a    *Alerts
	ch   chan struct{}
	once sync.Once
}

var _ ui.AlertSource = (*Subscription)(nil)

// Alerts is the current state (shared by every subscriber: read only).
func (s *Subscription) Alerts() ui.AlertState { return s.a.State() }

// Changed is signalled (coalesced) when the alerts changed.
func (s *Subscription) Changed() <-chan struct{} { return s.ch }

// Close unsubscribes and releases a pane's pending wait. Call it only
// after the program using it ended (a closed channel is always ready).
func (s *Subscription) Close() {
	s.once.Do(func() {
		s.a.mu.Lock()
		delete(s.a.subs, s)
		close(s.ch)
		s.a.mu.Unlock()
	})
}

package tui

import (
	"context"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/policy/rules"
	"github.com/audittui/audittui/internal/ui"
)

// loadRules loads the built-in pack plus --rules files (a file's group
// replaces a built-in group of the same name, as with audittui alerts).
// Warnings go to the log file, never to the screen.
func loadRules(files []string, noBuiltin bool, log *slog.Logger) (*rules.Set, error) {
	if noBuiltin && len(files) == 0 {
		return nil, nil
	}
	return cmdutil.LoadRules(files, noBuiltin, slogWriter{log})
}

// slogWriter turns written lines into log warnings (nil logger: discard).
type slogWriter struct{ log *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	if w.log != nil {
		w.log.Warn(strings.TrimSpace(string(p)))
	}
	return len(p), nil
}

// refreshEvery is how often, at most, the Alerts pane is told the alerts
// changed; the rules' clock (Advance) ticks every rules.ClockTick.
const refreshEvery = 250 * time.Millisecond

// liveAlerts evaluates the rules over the batches the feed indexes: one
// decode of each event serves the index and the rules. The rules run on
// goroutines of their own (rules.Parallel, one shard per core), so the
// feed hands a batch over and goes on indexing; a ticker moves the rules'
// clock every second, so a quiet followed file still fires and resolves
// on time (as Loki's ruler evaluates every interval). Rules evaluated on
// a Loki server (lokiAlerts) join the local ones in the pane.
type liveAlerts struct {
	par     *rules.Parallel // nil when no rule runs here
	nrules  int
	changed chan struct{}
	dirty   atomic.Bool
	ended   atomic.Bool // the input ended (Finish is running or done)
	done    atomic.Bool // Finish is done
	log     *slog.Logger
	remote  *lokiAlerts // nil unless the source is Loki

	// Until the rules are loaded (start), batches wait here, so the feed
	// (and the first screen) never waits for the rules to load.
	mu         sync.Mutex
	started    bool
	pending    []*data.Batch
	endPending bool
}

// newLiveAlerts returns the alerts, waiting for their rules (start).
func newLiveAlerts(log *slog.Logger) *liveAlerts {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &liveAlerts{changed: make(chan struct{}, 1), log: log}
}

// firstScreenWait bounds how long the rules wait for the first screen.
const firstScreenWait = 500 * time.Millisecond

// start begins evaluating set (nil or empty: no rule runs here) and the
// Loki part, with the batches that came meanwhile. With gate, the
// evaluation starts once gate is closed (the first screen is drawn) or
// firstScreenWait has passed; the batches read until then wait.
func (l *liveAlerts) start(set *rules.Set, remote *lokiAlerts, gate <-chan struct{}) error {
	var par *rules.Parallel
	if set != nil && len(set.Rules()) > 0 {
		var err error
		// Two shards per core: the scheduler evens out what the split
		// leaves uneven (on 2 cores, 4 shards evaluate 1 GB in 4.6 s where
		// 2 took 6.3 to 7.8 s).
		par, err = rules.NewParallel(set, rules.Options{Logger: l.log, OnChange: func(*rules.Alert) { l.dirty.Store(true) }},
			2*runtime.GOMAXPROCS(0))
		if err != nil {
			return err
		}
		l.nrules = par.Rules()
	}
	if remote != nil {
		l.nrules += len(remote.server)
		remote.changed = func() { l.dirty.Store(true) }
	}
	l.mu.Lock()
	l.remote = remote
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
func (l *liveAlerts) release(par *rules.Parallel) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.par = par
	if par != nil {
		for _, b := range l.pending {
			par.Push(b)
		}
	}
	l.pending, l.started = nil, true
	if l.endPending {
		l.finish()
	}
}

// Push is the feed's OnBatch: the batch goes to the rules' goroutines.
func (l *liveAlerts) Push(b *data.Batch) {
	l.mu.Lock()
	if !l.started {
		l.pending = append(l.pending, b)
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
func (l *liveAlerts) End() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.started {
		l.endPending = true
		return
	}
	l.finish()
}

// finish drains the windows on a goroutine of its own (l.mu held).
func (l *liveAlerts) finish() {
	l.ended.Store(true)
	par := l.par
	go func() {
		if par != nil {
			par.Finish()
		}
		l.done.Store(true)
		l.dirty.Store(true)
	}()
}

// run ticks the rules' clock and tells the pane about changes until ctx
// ends; then it stops the rules.
func (l *liveAlerts) run(ctx context.Context) {
	if r := l.getRemote(); r != nil {
		go r.run(ctx)
	}
	tick := time.NewTicker(refreshEvery)
	defer tick.Stop()
	var lastClock, lastSignal time.Time
	var lastEvents int64
	want, wasDone := false, false
	for {
		select {
		case <-ctx.Done():
			if par := l.getPar(); par != nil {
				par.Close()
			}
			return
		case now := <-tick.C:
			if l.dirty.Swap(false) {
				want = true
			}
			par := l.getPar()
			if par != nil {
				if now.Sub(lastClock) >= rules.ClockTick && !l.ended.Load() {
					lastClock = now
					par.Advance(now)
				}
				if ev, _, _ := par.Stats(); ev != lastEvents {
					lastEvents, want = ev, true
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

func (l *liveAlerts) getPar() *rules.Parallel {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.par
}

func (l *liveAlerts) getRemote() *lokiAlerts {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.remote
}

func (l *liveAlerts) signal() {
	select {
	case l.changed <- struct{}{}:
	default:
	}
}

// Changed is signalled (coalesced) when the alerts changed.
func (l *liveAlerts) Changed() <-chan struct{} { return l.changed }

// Alerts is the state the pane shows.
func (l *liveAlerts) Alerts() ui.AlertState {
	l.mu.Lock()
	started, par, remote := l.started, l.par, l.remote
	l.mu.Unlock()
	st := ui.AlertState{Rules: l.nrules, Evaluating: !started}
	if par != nil {
		st.Local = par.Snapshot()
		st.Events, _, _ = par.Stats()
		st.Evaluating = par.Pending() > 0 || (l.ended.Load() && !l.done.Load())
	}
	st.Done = started && l.ended.Load() && l.done.Load()
	if remote != nil {
		remote.fill(&st)
	}
	return st
}

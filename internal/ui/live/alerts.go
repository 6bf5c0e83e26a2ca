package live

import (
	"log/slog"
	"sync"
	"time"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/policy/rules"
	"github.com/audittui/audittui/internal/ui"
)

// coalesce is how often, at most, the Alerts panes are told the alerts
// changed while events stream in.
const coalesce = 200 * time.Millisecond

// Alerts runs the rule engine over the events once and offers its
// instances to any number of Alerts panes (ui.AlertSource), each through
// its own Subscription.
type Alerts struct {
	ev     *rules.Evaluator
	nrules int

	mu      sync.Mutex
	final   []*rules.Alert
	ended   bool
	last    time.Time   // last notification
	pending *time.Timer // a trailing notification is scheduled
	subs    map[*Subscription]struct{}
}

// NewAlerts builds the engine for set.
func NewAlerts(set *rules.Set, log *slog.Logger) (*Alerts, error) {
	ev, err := rules.NewEvaluator(set, rules.Options{Logger: log})
	if err != nil {
		return nil, err
	}
	return &Alerts{ev: ev, nrules: len(set.Rules()), subs: map[*Subscription]struct{}{}}, nil
}

// Push evaluates a batch (from one goroutine: the feed's or the alert
// stream's).
func (a *Alerts) Push(b *data.Batch) {
	for i := range b.Events {
		a.ev.Push(&b.Events[i])
	}
	a.changed()
}

// Finish drains the windows at the end of a finite input, so alerts
// resolve or reach their `for` as they would have.
func (a *Alerts) Finish() {
	final := a.ev.Finish()
	a.mu.Lock()
	a.final, a.ended = final, true
	a.mu.Unlock()
	a.notify()
}

// changed notifies the subscribers at most every coalesce, with a
// trailing notification so the last change is never left unshown.
func (a *Alerts) changed() {
	a.mu.Lock()
	if time.Since(a.last) < coalesce {
		if a.pending == nil {
			a.pending = time.AfterFunc(coalesce, a.notify)
		}
		a.mu.Unlock()
		return
	}
	a.mu.Unlock()
	a.notify()
}

// notify signals every subscriber (never blocking: each has a pending
// slot of one).
func (a *Alerts) notify() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.last = time.Now()
	if a.pending != nil {
		a.pending.Stop()
		a.pending = nil
	}
	for s := range a.subs {
		select {
		case s.ch <- struct{}{}:
		default:
		}
	}
}

// Rules is how many rules are loaded.
func (a *Alerts) Rules() int { return a.nrules }

// Snapshot converts the current instances for the pane.
func (a *Alerts) Snapshot() []*ui.Alert {
	a.mu.Lock()
	as, ended := a.final, a.ended
	a.mu.Unlock()
	if !ended {
		as = a.ev.Snapshot()
	}
	out := make([]*ui.Alert, 0, len(as))
	for _, x := range as {
		out = append(out, &ui.Alert{
			Key: x.Key(), Name: x.Name, Severity: x.Severity, State: x.State.String(),
			Labels: rules.LabelsString(x.Labels), Summary: x.Annotations["summary"],
			Value: x.Value, Events: x.Events, ActiveAt: x.ActiveAt,
			AuditIDs: append([]string(nil), x.AuditIDs...),
		})
	}
	return out
}

// Subscribe returns a view of the alerts for one Alerts pane. Close it
// when the pane's program has ended.
func (a *Alerts) Subscribe() *Subscription {
	s := &Subscription{a: a, ch: make(chan struct{}, 1)}
	s.ch <- struct{}{} // the first snapshot at once
	a.mu.Lock()
	a.subs[s] = struct{}{}
	a.mu.Unlock()
	return s
}

// Subscription is one pane's view of the alerts: a ui.AlertSource.
type Subscription struct {
	a    *Alerts
	ch   chan struct{}
	once sync.Once
}

var _ ui.AlertSource = (*Subscription)(nil)

func (s *Subscription) Alerts() []*ui.Alert      { return s.a.Snapshot() }
func (s *Subscription) Changed() <-chan struct{} { return s.ch }
func (s *Subscription) Rules() int               { return s.a.nrules }

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

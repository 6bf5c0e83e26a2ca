package tui

import (
	"log/slog"
	"strings"
	"sync"
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

// liveAlerts runs the rule engine over the batches the feed indexes (or,
// for inputs that can be read twice, over its own read) and offers its
// instances to the Alerts pane.
type liveAlerts struct {
	ev      *rules.Evaluator
	nrules  int
	changed chan struct{}
	mu      sync.Mutex
	final   []*rules.Alert
	ended   bool
	last    time.Time
}

// newLiveAlerts loads the rules (loadRules) and builds their engine; it
// returns nil when no rule is loaded.
func newLiveAlerts(files []string, noBuiltin bool, log *slog.Logger) (*liveAlerts, error) {
	set, err := loadRules(files, noBuiltin, log)
	if err != nil || set == nil {
		return nil, err
	}
	ev, err := rules.NewEvaluator(set, rules.Options{Logger: log})
	if err != nil {
		return nil, err
	}
	return &liveAlerts{ev: ev, nrules: len(set.Rules()), changed: make(chan struct{}, 1)}, nil
}

func (l *liveAlerts) Push(b *data.Batch) {
	for i := range b.Events {
		l.ev.Push(&b.Events[i])
	}
	// Coalesce: the pane refreshes at most every 200 ms while loading.
	if time.Since(l.last) > 200*time.Millisecond {
		l.last = time.Now()
		l.signal()
	}
}

// finish drains the windows at the end of a finite input, so alerts
// resolve or reach their `for` as they would have.
func (l *liveAlerts) Finish() {
	final := l.ev.Finish()
	l.mu.Lock()
	l.final, l.ended = final, true
	l.mu.Unlock()
	l.signal()
}

func (l *liveAlerts) signal() {
	select {
	case l.changed <- struct{}{}:
	default:
	}
}

func (l *liveAlerts) Changed() <-chan struct{} { return l.changed }
func (l *liveAlerts) Rules() int               { return l.nrules }

func (l *liveAlerts) Alerts() []*ui.Alert {
	l.mu.Lock()
	as, ended := l.final, l.ended
	l.mu.Unlock()
	if !ended {
		as = l.ev.Snapshot()
	}
	out := make([]*ui.Alert, 0, len(as))
	for _, a := range as {
		out = append(out, &ui.Alert{
			Key: a.Key(), Name: a.Name, Severity: a.Severity, State: a.State.String(),
			Labels: rules.LabelsString(a.Labels), Summary: a.Annotations["summary"],
			Value: a.Value, Events: a.Events, ActiveAt: a.ActiveAt,
			AuditIDs: append([]string(nil), a.AuditIDs...),
		})
	}
	return out
}

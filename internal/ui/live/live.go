// Package live builds what the TUI reads while it runs, once: the index
// (ui.Index), the feed that fills it from the sources (ui.Feed), and the
// alert engine evaluated over the same events (Alerts: one decode pass
// feeds the index and rules.Parallel; a clock ticker; Loki's ruler when
// the source is Loki). The local TUI builds one for its one App; `audittui
// serve` builds one for all its SSH sessions, each of which waits on the
// feed and the alerts through its own subscription (Feed.Subscribe,
// Alerts.Subscribe), so ten sessions cost one index and one rule
// evaluation.
package live

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/policy/rules"
	"github.com/audittui/audittui/internal/ui"
)

// Options say what to read and what to evaluate.
type Options struct {
	// Sources are read once into the index.
	Sources []data.Source
	// Read bounds the events (From, To) and says whether to follow;
	// Progress is set by Open.
	Read data.ReadOptions
	// SpillDir is where non-seekable sources are spilled ("": system temp).
	SpillDir string
	// Alerts turns the alert engine on: Rules (or LoadRules) evaluated
	// over the events the feed decodes (one decode pass serves the index
	// and the rules), and, when the only source is Loki, Loki's own ruler
	// and the rules that are cheaper to evaluate on the server (loki.go).
	Alerts bool
	// Rules are the rules to evaluate (nil: none here).
	Rules *rules.Set
	// LoadRules, if set, replaces Rules: it is called on a goroutine of
	// its own while the first batches are read (they wait for the rules),
	// so the first screen never waits for the rules to load; an error is
	// logged and no rule runs. For rules that cannot fail to load (the
	// built-in pack).
	LoadRules func() (*rules.Set, error)
	// FirstScreen, if not nil, holds the evaluation until it is closed
	// (the local TUI closes it when its first screen is drawn: ui.Options.
	// OnFirstScreen) or 500 ms have passed.
	FirstScreen <-chan struct{}
	Log         *slog.Logger
}

// recycle is whether Open's readers lend their batches (tests compare
// with it off).
var recycle = true

// Live is the running index, feed and alerts.
type Live struct {
	Index *ui.Index
	Feed  *ui.Feed
	// Alerts is nil when alerts are off (no rule loaded and no Loki
	// ruler to ask).
	Alerts *Alerts
	cancel context.CancelFunc
	done   chan struct{}
}

// Open starts reading the sources into a new index (and the rules, if
// any, over them). The returned Live runs until ctx ends or Close. An
// error loading Rules ends it before it returns.
func Open(ctx context.Context, o Options) (*Live, error) {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	o.Log = log
	ctx, cancel := context.WithCancel(ctx)
	ix := ui.NewIndex(o.SpillDir, log)
	feed := ui.NewFeed(ix, log)
	l := &Live{Index: ix, Feed: feed, cancel: cancel, done: make(chan struct{})}
	var al *Alerts
	if o.Alerts {
		_, isLoki := lokiSource(o.Sources)
		if o.LoadRules != nil || isLoki || (o.Rules != nil && len(o.Rules.Rules()) > 0) {
			al = newAlerts(log)
			feed.OnBatch, feed.OnEnd = al.Push, al.End
		}
	}
	ro := o.Read
	ro.Progress = ix.Progress
	// The feed releases each batch once indexed and the rules hold the
	// ones they evaluate later: the readers reuse the memory.
	ro.Recycle = recycle
	stream, err := data.OpenAll(ctx, o.Sources, ro)
	if err != nil {
		cancel()
		ix.Close()
		return nil, err
	}
	go feed.Run(ctx, stream)
	stopped := make(chan struct{})
	close(stopped)
	if al != nil {
		stopped = al.stopped
		if o.LoadRules != nil {
			l.Alerts = al
			go func() {
				if _, err := al.load(ctx, o, o.LoadRules); err != nil {
					log.Error("alert rules", "err", fmt.Sprint(err))
				}
			}()
		} else {
			ok, err := al.load(ctx, o, func() (*rules.Set, error) { return o.Rules, nil })
			if err != nil {
				cancel()
				<-feed.Done()
				ix.Close()
				return nil, err
			}
			if ok {
				l.Alerts = al
			}
		}
	}
	go func() {
		<-feed.Done()
		<-stopped
		close(l.done)
	}()
	return l, nil
}

// Close stops reading and evaluating, waits for the readers and releases
// the index.
func (l *Live) Close() error {
	l.cancel()
	<-l.done
	return l.Index.Close()
}

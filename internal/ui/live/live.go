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
	"time"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/policy/rules"
	"github.com/audittui/audittui/internal/ui"
)

// Options say what to read and what to evaluate.
type Options struct {
	// Sources are read once into the index.
	Sources []data.Source
	// Read bounds the events (From, To) and says whether to follow;
	// Progress is set by Open. With From and alerts on, the sources are
	// read from From minus the rules' look-back (rules.Set.LookBack), as
	// `audittui alerts --from` reads them: the rules see those events,
	// the index (every pane but Alerts) only those from From on.
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
	// built-in pack). With a window (Read.From), Open calls it before it
	// opens the sources: the read starts at the rules' look-back.
	LoadRules func() (*rules.Set, error)
	// FirstScreen, if not nil, holds the evaluation until it is closed
	// (the local TUI closes it when its first screen is drawn: ui.Options.
	// OnFirstScreen) or 500 ms have passed.
	FirstScreen <-chan struct{}
	// Blind are the rules that watch nothing (a selector of theirs
	// selects no stream of the sources: cmdutil.RuleMisses), named in
	// the Alerts pane with the rules whose evaluation fails.
	Blind []ui.RuleProblem
	Log   *slog.Logger
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
			// The instances of the window asked for, as `audittui alerts
			// --from --to` reports them.
			al.from, al.to, al.follow = o.Read.From, o.Read.To, o.Read.Follow
			al.blind = o.Blind
			feed.OnBatch, feed.OnEnd = al.Push, al.End
		}
	}
	get := func() (*rules.Set, error) { return o.Rules, nil }
	if o.LoadRules != nil {
		get = o.LoadRules
	}
	ro := o.Read
	if al != nil && o.Read.From != 0 {
		// A window: the rules count what came before it, as far back as
		// they look (each rule's range, `for` and an interval), as
		// `audittui alerts --from` does, so that a burst straddling its
		// start or a day-long rule is seen whole. The read starts there;
		// the index takes the window's events only (Feed.From). The rules
		// load first to say how far (the built-in pack in about 40 ms).
		set, err := get()
		get = func() (*rules.Set, error) { return set, err }
		if lb := lookBack(set, o); err == nil && lb > 0 {
			ro.From, ro.TallyFrom = o.Read.From-int64(lb), o.Read.From
			feed.From = o.Read.From
		}
	}
	ro.Progress = ix.Progress
	// The decoding goroutines look up the index's column values, and the
	// rules' dispatch, while each event is in their core's caches.
	ro.Prepare = ix.Prepare
	if al != nil {
		ro.Prepare = func(b *data.Batch) {
			ix.Prepare(b)
			al.Prepare(b)
		}
	}
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
				if _, err := al.load(ctx, o, get); err != nil {
					log.Error("alert rules", "err", fmt.Sprint(err))
				}
			}()
		} else {
			ok, err := al.load(ctx, o, get)
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

// lookBack is how far before the window's start the rules that run here
// read (Set.LookBack; with a Loki source, of the rules not evaluated on
// the server).
func lookBack(set *rules.Set, o Options) time.Duration {
	if set == nil {
		return 0
	}
	if src, isLoki := lokiSource(o.Sources); isLoki {
		rf, rt := src.Range(data.ReadOptions{From: o.Read.From, To: o.Read.To})
		set, _ = splitForLoki(set, rf, rt)
	}
	return set.LookBack()
}

// Close stops reading and evaluating, waits for the readers and releases
// the index.
func (l *Live) Close() error {
	l.cancel()
	<-l.done
	return l.Index.Close()
}

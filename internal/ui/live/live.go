// Package live builds what the TUI reads while it runs, once: the index
// (ui.Index), the feed that fills it from the sources (ui.Feed), and the
// alert engine evaluated over the same events (Alerts). The local TUI
// builds one for its one App; `audittui serve` builds one for all its SSH
// sessions, each of which waits on the feed and the alerts through its own
// subscription (Feed.Subscribe, Alerts.Subscribe), so ten sessions cost one
// index and one rule evaluation.
package live

import (
	"context"
	"errors"
	"fmt"
	"io"
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
	// Rules, if not nil, are evaluated over the events (the Alerts pane).
	Rules *rules.Set
	// OnePass: the sources can be read only once (stdin), so the rules run
	// on the feed's batches instead of on their own read of the sources.
	OnePass bool
	Log     *slog.Logger
}

// Live is the running index, feed and alerts.
type Live struct {
	Index *ui.Index
	Feed  *ui.Feed
	// Alerts is nil when no rule is loaded.
	Alerts *Alerts
	cancel context.CancelFunc
	done   chan struct{}
}

// Open starts reading the sources into a new index (and the rules, if
// any, over them). The returned Live runs until ctx ends or Close.
func Open(ctx context.Context, o Options) (*Live, error) {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(ctx)
	ix := ui.NewIndex(o.SpillDir, log)
	feed := ui.NewFeed(ix, log)
	l := &Live{Index: ix, Feed: feed, cancel: cancel, done: make(chan struct{})}
	fail := func(err error) (*Live, error) {
		cancel()
		ix.Close()
		return nil, err
	}
	alertsDone := make(chan struct{})
	close(alertsDone)
	if o.Rules != nil {
		al, err := NewAlerts(o.Rules, log)
		if err != nil {
			return fail(err)
		}
		l.Alerts = al
		if o.OnePass {
			feed.OnBatch = al.Push
			feed.OnEnd = al.Finish
		} else {
			// The rules run on their own read of the sources, so the index
			// (and the first screen) never waits for them.
			ro := o.Read
			ro.Progress = nil
			st, err := data.OpenAll(ctx, o.Sources, ro)
			if err != nil {
				return fail(err)
			}
			alertsDone = make(chan struct{})
			go func() {
				defer close(alertsDone)
				runAlertStream(ctx, st, al, log)
			}()
		}
	}
	ro := o.Read
	ro.Progress = ix.Progress
	stream, err := data.OpenAll(ctx, o.Sources, ro)
	if err != nil {
		cancel()
		<-alertsDone
		ix.Close()
		return nil, err
	}
	go feed.Run(ctx, stream)
	go func() {
		<-feed.Done()
		<-alertsDone
		close(l.done)
	}()
	return l, nil
}

// Close stops reading, waits for the readers and releases the index.
func (l *Live) Close() error {
	l.cancel()
	<-l.done
	return l.Index.Close()
}

// runAlertStream feeds the alert engine from its own stream.
func runAlertStream(ctx context.Context, st data.Stream, al *Alerts, log *slog.Logger) {
	defer st.Close()
	for {
		b, err := st.Next(ctx)
		if b != nil {
			al.Push(b)
		}
		if err != nil {
			if !errors.Is(err, io.EOF) && ctx.Err() == nil {
				log.Error("alert stream", "err", fmt.Sprint(err))
			}
			if ctx.Err() == nil {
				al.Finish()
			}
			return
		}
	}
}

package ui

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/audittui/audittui/internal/data"
)

// relayInterval is how often, at most, the UI is told the index grew:
// ten redraws a second while a file loads or a tail streams (each redraw
// takes a snapshot and renders the panes; at 20 a second they cost about
// a tenth of a core while 1 GB loads). The first batch is not held.
const relayInterval = 100 * time.Millisecond

// Feed is the source goroutine plus the relay: it reads batches from a
// stream into the index and coalesces "the index grew" notifications to
// at most one per relayInterval. Events are never dropped; only redraw
// notifications are coalesced.
//
// One Feed fills one Index, and any number of Apps can wait on it: the
// Feed that NewFeed returns is the first waiter, and Subscribe returns
// another (audittui serve gives every SSH session its own, over the one
// shared index). Each waiter remembers which notification it saw last, so
// none is lost and none blocks another: a notification is a generation
// counter plus a channel closed and replaced on every change.
type Feed struct {
	*feedCore
	// seen is the generation this waiter was last told about.
	seen atomic.Uint64
	// ctx ends this waiter's pending Wait (a session that closed); nil:
	// never.
	ctx context.Context
}

// feedCore is what every waiter of a feed shares.
type feedCore struct {
	ix   *Index
	done chan struct{}
	// loaded is closed once the index is loaded (Index.Loaded): the
	// input read to its end, or a followed one caught up.
	loaded chan struct{}
	// OnBatch, if set, sees every batch after it is indexed (the alert
	// engine's live evaluation). It runs on the feed goroutine; a batch
	// it keeps beyond the call it holds (data.Batch.Hold) and releases
	// when done, for the feed releases it next.
	OnBatch func(b *data.Batch)
	// OnEnd, if set, runs on the feed goroutine when the input ends.
	OnEnd func()
	// From, when set, is where the window the user asked for starts, for
	// a read that begins earlier (the alert rules' look-back, live.Open):
	// events before it go to OnBatch only, not into the index, so the
	// panes and the status counts are the window's.
	From int64
	log  *slog.Logger
	// scratch holds the window's events of a batch that straddles From.
	scratch []data.Event

	mu   sync.Mutex
	gen  uint64        // notifications so far
	wake chan struct{} // closed (and replaced) by each notification
}

// NewFeed prepares a feed into ix.
func NewFeed(ix *Index, log *slog.Logger) *Feed {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Feed{feedCore: &feedCore{ix: ix, done: make(chan struct{}), loaded: make(chan struct{}), log: log, wake: make(chan struct{})}}
}

// Subscribe returns another waiter on the same feed, for one more App
// over the same index. It starts with nothing seen (its first Wait
// returns at once when the index has grown). A pending Wait returns nil
// once ctx ends, so a closed session leaves no goroutine behind.
func (f *Feed) Subscribe(ctx context.Context) *Feed {
	return &Feed{feedCore: f.feedCore, ctx: ctx}
}

// Run reads stream until EOF, an error, or ctx ends. Call it in its own
// goroutine, once per feed (not per waiter); it closes the stream.
func (f *Feed) Run(ctx context.Context, stream data.Stream) {
	defer close(f.done)
	loaded := false
	markLoaded := func() {
		if !loaded {
			loaded = true
			close(f.loaded)
		}
	}
	defer markLoaded() // after the index's Finish, before done
	defer stream.Close()
	var dirty atomic.Bool
	stop := make(chan struct{})
	defer close(stop)
	go func() { // the relay
		t := time.NewTicker(relayInterval)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if dirty.Swap(false) {
					f.signal()
				}
			}
		}
	}()
	first := true
	for {
		b, err := stream.Next(ctx)
		if b != nil {
			in := f.inWindow(b)
			if aerr := f.ix.Add(in); aerr != nil {
				f.log.Error("index", "err", aerr)
				f.ix.Finish(aerr)
				f.signal()
				return
			}
			if in.CaughtUp {
				markLoaded() // followed: what there was is indexed, now live
			}
			if in != b {
				clear(in.Events) // no reference into b's memory once released
			}
			if f.OnBatch != nil {
				f.OnBatch(b)
			}
			// Done with it (OnBatch holds what it keeps): a recycling
			// stream may read into its memory again.
			b.Release()
			if first && len(in.Events) > 0 {
				f.signal() // the first screen does not wait for the relay
				first = false
			} else {
				dirty.Store(true)
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) || ctx.Err() != nil {
				err = nil
			}
			if err != nil {
				f.log.Error("read", "err", err)
			}
			if f.OnEnd != nil {
				f.OnEnd()
			}
			f.ix.Finish(err)
			f.signal()
			return
		}
	}
}

// inWindow returns what of b the index takes: b itself, or, when some of
// its events are before From (read for the rules' look-back only), a copy
// of b with the others (its rejects and progress as they are).
func (c *feedCore) inWindow(b *data.Batch) *data.Batch {
	if c.From == 0 {
		return b
	}
	k := 0
	for k < len(b.Events) && b.Events[k].Time >= c.From {
		k++
	}
	if k == len(b.Events) {
		return b
	}
	keep := append(c.scratch[:0], b.Events[:k]...)
	for i := k + 1; i < len(b.Events); i++ {
		if b.Events[i].Time >= c.From {
			keep = append(keep, b.Events[i])
		}
	}
	c.scratch = keep
	in := *b
	in.Events = keep
	return &in
}

// signal tells every waiter the index changed.
func (c *feedCore) signal() {
	c.mu.Lock()
	c.gen++
	close(c.wake)
	c.wake = make(chan struct{})
	c.mu.Unlock()
}

// state returns the notification count and the channel the next one
// closes.
func (c *feedCore) state() (uint64, <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen, c.wake
}

// Done is closed when Run returns.
func (f *Feed) Done() <-chan struct{} { return f.done }

// Loaded is closed once the index is loaded (Index.Loaded turned true):
// the input read to its end (or its read stopped), or, followed, caught
// up with what there was. It is closed by the time Done is.
func (f *Feed) Loaded() <-chan struct{} { return f.loaded }

// indexGrewMsg tells the app the index changed.
type indexGrewMsg struct{}

// feedDoneMsg tells the app the feed stopped (after a last indexGrewMsg).
type feedDoneMsg struct{}

// Wait returns a command that waits for the next notification this
// waiter has not seen. After the feed ended it returns feedDoneMsg, and
// the app stops waiting. Notifications that came while the app was busy
// are coalesced into one. At most one Wait per waiter may be pending.
func (f *Feed) Wait() tea.Cmd {
	return func() tea.Msg {
		var ctxDone <-chan struct{}
		if f.ctx != nil {
			ctxDone = f.ctx.Done()
		}
		for {
			gen, wake := f.state()
			if gen > f.seen.Load() {
				f.seen.Store(gen)
				return indexGrewMsg{}
			}
			select {
			case <-wake:
			case <-f.done:
				// Run signals before it closes done: a last notification
				// may have come between state() and here.
				if gen, _ := f.state(); gen > f.seen.Load() {
					f.seen.Store(gen)
					return indexGrewMsg{}
				}
				return feedDoneMsg{}
			case <-ctxDone:
				return nil
			}
		}
	}
}

package ui

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/audittui/audittui/internal/data"
)

// relayInterval is how often, at most, the UI is told the index grew.
const relayInterval = 50 * time.Millisecond

// Feed is the source goroutine plus the relay: it reads batches from a
// stream into the index and coalesces "the index grew" notifications to
// at most one per relayInterval. Events are never dropped; only redraw
// notifications are coalesced.
type Feed struct {
	ix     *Index
	notify chan struct{} // cap 1: a pending notification
	done   chan struct{}
	// OnBatch, if set, sees every batch after it is indexed (the alert
	// engine's live evaluation). It runs on the feed goroutine.
	OnBatch func(b *data.Batch)
	// OnEnd, if set, runs on the feed goroutine when the input ends.
	OnEnd func()
	log   *slog.Logger
}

// NewFeed prepares a feed into ix.
func NewFeed(ix *Index, log *slog.Logger) *Feed {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Feed{ix: ix, notify: make(chan struct{}, 1), done: make(chan struct{}), log: log}
}

// Run reads stream until EOF, an error, or ctx ends. Call it in its own
// goroutine; it closes the stream.
func (f *Feed) Run(ctx context.Context, stream data.Stream) {
	defer close(f.done)
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
			if aerr := f.ix.Add(b); aerr != nil {
				f.log.Error("index", "err", aerr)
				f.ix.Finish(aerr)
				f.signal()
				return
			}
			if f.OnBatch != nil {
				f.OnBatch(b)
			}
			if first && len(b.Events) > 0 {
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

func (f *Feed) signal() {
	select {
	case f.notify <- struct{}{}:
	default: // one is already pending: coalesced
	}
}

// Done is closed when Run returns.
func (f *Feed) Done() <-chan struct{} { return f.done }

// indexGrewMsg tells the app the index changed.
type indexGrewMsg struct{}

// feedDoneMsg tells the app the feed stopped (after a last indexGrewMsg).
type feedDoneMsg struct{}

// Wait returns a command that waits for the next notification. After the
// feed ended it returns feedDoneMsg, and the app stops waiting.
func (f *Feed) Wait() tea.Cmd {
	return func() tea.Msg {
		select {
		case <-f.notify:
			return indexGrewMsg{}
		case <-f.done:
			select {
			case <-f.notify:
				return indexGrewMsg{}
			default:
				return feedDoneMsg{}
			}
		}
	}
}

package tui

import (
	"context"
	"io"
	"testing"
	"testing/synctest"
	"time"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/ui"
)

// chanStream yields the batches sent on ch; a closed ch is the end
// (io.EOF). In follow mode it blocks for more until ctx ends.
type chanStream struct{ ch chan *data.Batch }

func (s *chanStream) Next(ctx context.Context) (*data.Batch, error) {
	select {
	case b, ok := <-s.ch:
		if !ok {
			return nil, io.EOF
		}
		return b, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *chanStream) Close() error { return nil }

// TestWaitLoaded: waitLoaded (what the case's S3 object records wait on)
// returns as soon as the feed has loaded the index, not at a poll's next
// tick: a followed input once it caught up (the feed still running), a
// finite one at its end; and when its ctx ends, before the feed is open
// or while it loads. In a synctest bubble: "as soon as" is with the
// bubble's clock not moving (a poll would wait for it to).
func TestWaitLoaded(t *testing.T) {
	// returned runs waitLoaded in a goroutine and reports, once every
	// goroutine of the bubble is blocked, whether it returned.
	start := func(ctx context.Context, sig *feedSignal) func() bool {
		done := make(chan struct{})
		go func() {
			waitLoaded(ctx, sig)
			close(done)
		}()
		return func() bool {
			synctest.Wait()
			select {
			case <-done:
				return true
			default:
				return false
			}
		}
	}
	open := func(t *testing.T, ctx context.Context, sig *feedSignal) *chanStream {
		ix := ui.NewIndex(t.TempDir(), nil)
		t.Cleanup(func() { ix.Close() })
		feed := ui.NewFeed(ix, nil)
		s := &chanStream{ch: make(chan *data.Batch)}
		go feed.Run(ctx, s)
		sig.set(feed)
		return s
	}
	ev := func(n int64) *data.Batch {
		return &data.Batch{Events: []data.Event{{Time: n, AuditID: "a"}}}
	}
	t.Run("followed, caught up", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			sig := newFeedSignal()
			returned := start(ctx, sig)
			if returned() {
				t.Fatal("returned before the feed was open")
			}
			s := open(t, ctx, sig)
			s.ch <- ev(1)
			if returned() {
				t.Fatal("returned while the input was still being read")
			}
			at := time.Now()
			s.ch <- &data.Batch{CaughtUp: true}
			if !returned() {
				t.Fatal("did not return once the followed input caught up")
			}
			if d := time.Since(at); d != 0 {
				t.Errorf("returned %v (bubble time) after the input caught up, want at once", d)
			}
		})
	})
	t.Run("finite, at its end", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			sig := newFeedSignal()
			s := open(t, ctx, sig)
			returned := start(ctx, sig)
			s.ch <- ev(1)
			if returned() {
				t.Fatal("returned while the input was still being read")
			}
			close(s.ch)
			if !returned() {
				t.Fatal("did not return at the input's end")
			}
		})
	})
	t.Run("ctx ends", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			sig := newFeedSignal()
			returned := start(ctx, sig)
			cancel() // before the feed is open
			if !returned() {
				t.Fatal("did not return when ctx ended before the feed was open")
			}
			feedCtx, stop := context.WithCancel(t.Context())
			defer stop()
			sig = newFeedSignal()
			s := open(t, feedCtx, sig)
			ctx, cancel = context.WithCancel(t.Context())
			returned = start(ctx, sig)
			s.ch <- ev(1)
			cancel() // while loading
			if !returned() {
				t.Fatal("did not return when ctx ended while the index loaded")
			}
		})
	})
}

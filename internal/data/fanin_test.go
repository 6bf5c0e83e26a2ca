package data

import (
	"context"
	"io"
	"testing"
)

// chanStream yields the batches sent on ch; a closed ch ends it (io.EOF).
type chanStream struct{ ch chan *Batch }

func (s *chanStream) Next(ctx context.Context) (*Batch, error) {
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

// TestFanInCaughtUpWhenEveryStreamIs (review L 1): followed files fanned
// in are "caught up" (read what they held, now live) only once each of
// them is, or has ended: the rules count what comes before in any order
// (rules.Options.Backlog), so a first file caught up must not make the
// second's history late.
func TestFanInCaughtUpWhenEveryStreamIs(t *testing.T) {
	ctx := context.Background()
	a, b := &chanStream{make(chan *Batch, 4)}, &chanStream{make(chan *Batch, 4)}
	f := FanIn(ctx, []Stream{a, b})
	defer f.Close()
	// One item at a time, each taken by Next before the next is sent.
	next := func() *Batch {
		t.Helper()
		got, err := f.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	a.ch <- &Batch{CaughtUp: true} // a holds nothing
	if got := next(); got.CaughtUp {
		t.Fatal("caught up while b is still reading")
	}
	b.ch <- &Batch{Events: []Event{{Time: 1}}}
	if got := next(); got.CaughtUp || len(got.Events) != 1 {
		t.Fatalf("b's history: %+v", got)
	}
	b.ch <- &Batch{Events: []Event{{Time: 2}}, CaughtUp: true}
	if got := next(); len(got.Events) != 1 || !got.CaughtUp {
		t.Fatalf("b caught up, a too: CaughtUp %v with %d events, want its event and CaughtUp", got.CaughtUp, len(got.Events))
	}
	// Live from now on: each stream's own marks pass.
	a.ch <- &Batch{Events: []Event{{Time: 3}}}
	if got := next(); got.CaughtUp {
		t.Fatal("a's new event says caught up")
	}
	a.ch <- &Batch{CaughtUp: true, Partial: 7}
	if got := next(); !got.CaughtUp || got.Partial != 7 {
		t.Fatalf("a idle again: CaughtUp %v, Partial %d", got.CaughtUp, got.Partial)
	}
}

// TestFanInCaughtUpWhenTheLastEnds: when the last stream still reading
// ends instead of catching up, an empty batch says the rest caught up.
func TestFanInCaughtUpWhenTheLastEnds(t *testing.T) {
	ctx := context.Background()
	a, b := &chanStream{make(chan *Batch, 4)}, &chanStream{make(chan *Batch, 4)}
	f := FanIn(ctx, []Stream{a, b})
	defer f.Close()
	a.ch <- &Batch{CaughtUp: true}
	if got, err := f.Next(ctx); err != nil || got.CaughtUp {
		t.Fatalf("%+v, %v", got, err)
	}
	close(b.ch)
	if got, err := f.Next(ctx); err != nil || !got.CaughtUp || len(got.Events) != 0 {
		t.Fatalf("after b ended: %+v, %v; want an empty CaughtUp batch", got, err)
	}
	close(a.ch)
	if _, err := f.Next(ctx); err != io.EOF {
		t.Fatalf("both ended: %v, want io.EOF", err)
	}
}

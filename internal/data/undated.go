package data

import (
	"context"
	"sync/atomic"
)

// CountUndated wraps st so that every batch's Undated (events a time
// window left out for lack of a time) is added to n: for consumers that
// hand the stream to code that reads it to its end (the alert engine).
func CountUndated(st Stream, n *atomic.Int64) Stream { return &undatedCounter{Stream: st, n: n} }

type undatedCounter struct {
	Stream
	n *atomic.Int64
}

func (u *undatedCounter) Next(ctx context.Context) (*Batch, error) {
	b, err := u.Stream.Next(ctx)
	if b != nil {
		u.n.Add(int64(b.Undated))
	}
	return b, err
}

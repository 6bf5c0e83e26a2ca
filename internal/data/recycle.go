package data

import (
	"sync/atomic"
)

// Recycling. Reading a large file allocates its size again in read
// buffers and about as much in event slices, all garbage a moment later;
// the collector's cycles, the zeroing of fresh memory and its page faults
// cost about a tenth of what opening a file costs. A stream opened with
// ReadOptions.Recycle lends its batches instead: once every holder of a
// batch has released it (Batch.Release), its read buffer and event slice
// go back to the stream, which reads and decodes later lines into them.
//
// The events of a recycled batch alias that memory (see Decoder), so a
// consumer of such a stream must not touch a batch, its events or any
// string or byte slice taken from them after releasing it: what it keeps
// it copies (strings.Clone, Event.Clone), as the index and the rules do
// already so as not to pin read buffers. Streams opened without Recycle
// (the default) hand out batches the collector reclaims, and Hold and
// Release do nothing on them.

// recyclePool is what released batches give back: read buffers, each
// with the event slice its events were decoded into (a slice's stale
// events point into its own buffer only, so a pooled pair pins nothing
// else), a few of them (more are left to the collector). The sources of
// one OpenAll share one pool: a rotated set or several nodes' files keep
// no more memory aside than one file does.
type recyclePool struct {
	pairs chan lent
}

// lent is a read buffer and the event slice decoded from it.
type lent struct {
	buf []byte
	evs []Event
}

// recycleKeep is how many pairs a pool keeps.
const recycleKeep = 4

func newRecyclePool() *recyclePool {
	return &recyclePool{pairs: make(chan lent, recycleKeep)}
}

// get returns a buffer of length n and capacity at least c, with the event
// slice that goes with it (nil when new): a recycled pair when one is free
// and large enough, else a new buffer.
func (p *recyclePool) get(n, c int) lent {
	if p != nil {
		select {
		case l := <-p.pairs:
			if cap(l.buf) >= c {
				l.buf = l.buf[:n]
				return l
			}
		default:
		}
	}
	return lent{buf: make([]byte, n, c)}
}

// events returns evs emptied when it has room for n events, else a new
// slice (with some room over when recycling: chunks vary a little in
// lines).
func (p *recyclePool) events(evs []Event, n int) []Event {
	if cap(evs) >= n {
		return evs[:0]
	}
	if p != nil {
		return make([]Event, 0, n+n/8)
	}
	return make([]Event, 0, n)
}

// lease is a recycled batch's claim on its memory: a reader's buffer and
// event slice (pool set), or the batches a merged batch's events come
// from (deps, each held once for it).
type lease struct {
	refs atomic.Int32
	pool *recyclePool
	lent
	deps []*Batch
	// back takes a merged batch's event slice (lent.evs) back.
	back chan []Event
}

// poisonRecycled, in tests, overwrites what a batch lent once it is
// released: a consumer that kept a reference then reads 'X's and empty
// events.
var poisonRecycled atomic.Bool

// PoisonRecycled makes released batches' memory be overwritten at once
// (tests: a consumer that keeps a reference into a released batch gets
// garbage, which a comparison with an unrecycled run shows) and a
// Release without a Hold panic. It returns a function that restores the
// previous setting.
func PoisonRecycled() (restore func()) {
	old := poisonRecycled.Swap(true)
	return func() { poisonRecycled.Store(old) }
}

// Hold adds a holder of b: a consumer that keeps a batch of a recycling
// stream beyond the call that handed it over (another goroutine, a queue)
// holds it, and releases it when done. It does nothing on a batch that is
// not recycled.
func (b *Batch) Hold() {
	if b != nil && b.lease != nil {
		b.lease.refs.Add(1)
	}
}

// Release says a holder is done with b, its events and everything taken
// from them without a copy. The reader of the stream holds each batch
// once: the last Release gives its memory back to the stream. It does
// nothing on a batch that is not recycled.
func (b *Batch) Release() {
	if b == nil || b.lease == nil {
		return
	}
	l := b.lease
	switch n := l.refs.Add(-1); {
	case n > 0:
		return
	case n < 0:
		// Released more often than held: the memory went back already
		// (a bug of the consumer; the tests' poison mode finds it).
		if poisonRecycled.Load() {
			panic("data: Batch released more often than held")
		}
		return
	}
	for _, d := range l.deps {
		d.Release()
	}
	if l.back != nil {
		if poisonRecycled.Load() {
			clear(l.evs[:cap(l.evs)])
		}
		select {
		case l.back <- l.evs[:0]:
		default:
		}
	}
	if l.pool == nil {
		return
	}
	if poisonRecycled.Load() {
		full := l.buf[:cap(l.buf)]
		for i := range full {
			full[i] = 'X'
		}
		clear(l.evs[:cap(l.evs)])
	}
	select {
	case l.pool.pairs <- lent{buf: l.buf[:0], evs: l.evs[:0]}:
	default:
	}
}

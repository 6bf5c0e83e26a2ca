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

// recyclePool is what a stream's released batches give back: read
// buffers and event slices, a few of each (more are left to the
// collector).
type recyclePool struct {
	bufs chan []byte
	evs  chan []Event
}

// recycleKeep is how many buffers and slices of each kind a pool keeps.
const recycleKeep = 4

func newRecyclePool() *recyclePool {
	return &recyclePool{bufs: make(chan []byte, recycleKeep), evs: make(chan []Event, recycleKeep)}
}

// buf returns a buffer of length n and capacity at least c: a recycled one
// when one is free and large enough, else a new one.
func (p *recyclePool) buf(n, c int) []byte {
	if p != nil {
		select {
		case b := <-p.bufs:
			if cap(b) >= c {
				return b[:n]
			}
		default:
		}
	}
	return make([]byte, n, c)
}

// events returns an empty event slice with room for n events.
func (p *recyclePool) events(n int) []Event {
	if p != nil {
		select {
		case evs := <-p.evs:
			if cap(evs) >= n {
				return evs
			}
		default:
		}
		return make([]Event, 0, n+n/8) // chunks vary a little in lines
	}
	return make([]Event, 0, n)
}

// lease is a recycled batch's claim on its memory: a reader's buffer and
// event slice (pool set), or the batches a merged batch's events come
// from (deps, each held once for it).
type lease struct {
	refs atomic.Int32
	pool *recyclePool
	buf  []byte  // the read buffer the events alias, whole
	evs  []Event // the event slice, whole
	deps []*Batch
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
	case l.pool.bufs <- l.buf[:0]:
	default:
	}
	select {
	case l.pool.evs <- l.evs[:0]:
	default:
	}
}

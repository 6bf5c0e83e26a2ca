// Package pipe holds what ship's stages pass to each other: batches of
// processed records with the file position after them, the Sink interface,
// and the memory budget that makes reading stop when sinks fall behind.
package pipe

import (
	"context"
	"sync"

	"github.com/audittui/audittui/internal/ship/process"
	"github.com/audittui/audittui/internal/tail"
)

// Batch is a run of processed lines from one file. Sinks share it and must
// not modify it.
type Batch struct {
	// Seq numbers batches from 1 in read order.
	Seq     uint64
	Records []process.Record
	// End is the position after the batch's last line.
	End tail.Position
	// Bytes is the memory the batch holds (accounted in the Budget).
	Bytes int64
	// LineBytes is the sum of the record lengths (what sinks send).
	LineBytes int64
	// LastTime is the latest record time in the batch (Unix ns).
	LastTime int64
}

// Sink delivers batches somewhere.
type Sink interface {
	// Name is the metrics label ("loki", "s3").
	Name() string
	// Run reads batches from in until in is closed, and calls ack for each
	// one, in order, once it is delivered (durably: a sink with a disk
	// buffer acknowledges when the batch is synced to it). After in is
	// closed Run flushes and returns. ctx ending aborts delivery (the
	// checkpoint then stays before the unacknowledged batches).
	Run(ctx context.Context, in <-chan *Batch, ack func(*Batch)) error
}

// Budget bounds the bytes in flight. Acquire blocks while the budget is
// spent; a single batch larger than the whole budget is let through alone
// so a huge line cannot deadlock the pipeline.
type Budget struct {
	mu      sync.Mutex
	cond    *sync.Cond
	limit   int64
	used    int64
	waiting bool
	// OnBlock is called with true when a reader starts waiting and false
	// when it resumes (for the backpressure metric).
	OnBlock func(blocked bool)
}

// NewBudget returns a budget of limit bytes.
func NewBudget(limit int64) *Budget {
	b := &Budget{limit: limit}
	b.cond = sync.NewCond(&b.mu)
	return b
}

// Acquire takes n bytes, waiting while the budget is spent. It returns
// ctx's error if ctx ends first.
func (b *Budget) Acquire(ctx context.Context, n int64) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used == 0 || b.used+n <= b.limit {
		b.used += n
		return nil
	}
	stop := context.AfterFunc(ctx, func() {
		b.mu.Lock()
		b.cond.Broadcast()
		b.mu.Unlock()
	})
	defer stop()
	b.waiting = true
	if b.OnBlock != nil {
		b.OnBlock(true)
	}
	defer func() {
		b.waiting = false
		if b.OnBlock != nil {
			b.OnBlock(false)
		}
	}()
	for b.used != 0 && b.used+n > b.limit {
		if err := ctx.Err(); err != nil {
			return err
		}
		b.cond.Wait()
	}
	b.used += n
	return nil
}

// Release returns n bytes.
func (b *Budget) Release(n int64) {
	b.mu.Lock()
	b.used -= n
	b.cond.Broadcast()
	b.mu.Unlock()
}

// Used returns the bytes in flight.
func (b *Budget) Used() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// Limit returns the budget size.
func (b *Budget) Limit() int64 { return b.limit }

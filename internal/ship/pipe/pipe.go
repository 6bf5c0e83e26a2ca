// Package pipe holds what ship's stages pass to each other: batches of
// processed records with the file position after them, the Sink interface,
// and the memory budget that makes reading stop when sinks fall behind.
package pipe

import (
	"context"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/audittui/audittui/internal/ship/process"
	"github.com/audittui/audittui/internal/tail"
)

// Batch is a run of processed lines from one file. Sinks share it and must
// not modify it.
type Batch struct {
	// Seq numbers batches from 1 in read order.
	Seq     uint64
	Records []process.Record
	// Ends are the file offsets just after each record's line (for a sink
	// that resumes ahead of the checkpoint, which skips what it had).
	Ends []int64
	// End is the position after the batch's last line.
	End tail.Position
	// Raw is the bytes of the file the batch covers.
	Raw int64
	// Bytes is the memory the batch holds (accounted in the Budget).
	Bytes int64
	// LineBytes is the sum of the record lengths (what sinks send).
	LineBytes int64
	// LastTime is the latest record time in the batch (Unix ns).
	LastTime int64
	// Closers are released once every sink is done with the batch
	// (spooled lines).
	Closers []io.Closer
}

// Release closes what the batch holds open.
func (b *Batch) Release() {
	for _, c := range b.Closers {
		c.Close()
	}
	b.Closers = nil
}

// Skip returns the batch without its first k records (a sink that had
// delivered them before a restart). It shares b's records.
func (b *Batch) Skip(k int) *Batch {
	if k <= 0 {
		return b
	}
	d := *b
	d.Records, d.Ends = b.Records[k:], b.Ends[k:]
	d.LineBytes = 0
	for i := range d.Records {
		d.LineBytes += d.Records[i].Len()
	}
	d.Closers = nil
	return &d
}

// Sink delivers batches somewhere.
type Sink interface {
	// Name is the metrics label ("loki", "s3").
	Name() string
	// Run reads batches from in until in is closed, and calls ack with
	// them, in order, once they are delivered (durably: a sink with a disk
	// buffer acknowledges when a batch is synced to it). ack saves the
	// progress before it returns: a sink that sends its next batch only
	// after ack returned re-sends at most one batch after a crash. After
	// in is closed Run flushes and returns. ctx ending aborts delivery
	// (the checkpoint then stays before the unacknowledged batches).
	Run(ctx context.Context, in <-chan *Batch, ack func(...*Batch)) error
}

// Health is implemented by sinks that know more about their own delivery
// than their acknowledgements say (S3: uploads behind a disk buffer).
type Health interface {
	// Stalled returns why the sink has not delivered for longer than
	// timeout, or nil.
	Stalled(now time.Time, timeout time.Duration) error
}

// StopBy is implemented by sinks that can avoid a delivery they cannot
// finish in time: ship calls it when it stops, with the end of the grace
// period, after which the sinks' context ends. A Loki push cancelled after
// Loki stored it is sent again after the restart; one not started is not.
type StopBy interface {
	StopBy(deadline time.Time)
}

// StopGate ends a disk-buffered sink's deliveries at once when ship stops
// while they fail: what the sink acknowledged is fsynced on disk and
// delivered on the next start, so retrying until the grace period ends
// gains nothing. Stopping (ship stops) and Failed (a delivery attempt
// failed) may come in either order; Done is closed once both happened
// with no Succeeded between, or at Stop. The zero value is ready to use.
type StopGate struct {
	stopping, failing atomic.Bool
	init, once        sync.Once
	done              chan struct{}
}

func (g *StopGate) ch() chan struct{} {
	g.init.Do(func() { g.done = make(chan struct{}) })
	return g.done
}

// Stopping notes that ship stops (the sink's StopBy).
func (g *StopGate) Stopping() {
	g.stopping.Store(true)
	if g.failing.Load() {
		g.Stop()
	}
}

// Failed notes a delivery attempt that failed (the receiver down or
// refusing, a timeout).
func (g *StopGate) Failed() {
	g.failing.Store(true)
	if g.stopping.Load() {
		g.Stop()
	}
}

// Succeeded notes a delivery attempt that succeeded.
func (g *StopGate) Succeeded() { g.failing.Store(false) }

// Stop closes Done now.
func (g *StopGate) Stop() {
	ch := g.ch()
	g.once.Do(func() { close(ch) })
}

// Done is closed when the deliveries are to stop.
func (g *StopGate) Done() <-chan struct{} { return g.ch() }

// Stopped reports whether Done is closed.
func (g *StopGate) Stopped() bool {
	select {
	case <-g.Done():
		return true
	default:
		return false
	}
}

// WaitCond waits on c, whose lock the caller holds, until ready reports
// true (called with the lock held) or ctx ends: then it returns ctx's
// error. ctx ending wakes the wait (a sync.Cond knows nothing of
// contexts). The sinks' queues and disk limits and the Budget wait so.
func WaitCond(ctx context.Context, c *sync.Cond, ready func() bool) error {
	if ready() {
		return nil
	}
	stop := context.AfterFunc(ctx, func() {
		c.L.Lock()
		c.Broadcast()
		c.L.Unlock()
	})
	defer stop()
	for !ready() {
		if err := ctx.Err(); err != nil {
			return err
		}
		c.Wait()
	}
	return nil
}

// Budget bounds the bytes in flight. Acquire blocks while the budget is
// spent. Items are bounded by the configuration (a read, a line up to
// Max_line_size <= Mem_Buf_Limit): one larger than the whole budget (a
// budget smaller than a read) takes all of it, once nothing else is in
// flight.
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

// Acquire takes n bytes (at most the whole budget), waiting while the
// budget is spent. It returns the bytes taken, to Release later, or ctx's
// error if ctx ends first.
func (b *Budget) Acquire(ctx context.Context, n int64) (int64, error) {
	n = min(n, b.limit)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n <= b.limit {
		b.used += n
		return n, nil
	}
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
	if err := WaitCond(ctx, b.cond, func() bool { return b.used+n <= b.limit }); err != nil {
		return 0, err
	}
	b.used += n
	return n, nil
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

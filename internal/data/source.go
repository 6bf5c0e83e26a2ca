package data

import (
	"context"
	"fmt"

	"github.com/audittui/audittui/internal/data/logql"
)

// Batch is a group of decoded events, in source order, plus the lines of
// the same stretch of input that were rejected.
type Batch struct {
	Events  []Event
	Rejects []Reject
	// Bytes is how many input bytes (decompressed) this batch covers, for
	// progress reporting.
	Bytes int64
	// Undated counts the events of this stretch that a time window
	// (ReadOptions From/To) left out because they have no time at all (no
	// timestamp of their own nor from their carrier): not selected, not
	// rejected, but counted so that commands can say how many.
	// UndatedAt cites the first of them (file:line), so that a command
	// can point at one.
	Undated   int
	UndatedAt string
	// CaughtUp is set by a followed file when it has read everything
	// there is and waits for more (a batch that may hold nothing else);
	// Partial is then the size of a last line held back until its newline
	// arrives (0: none). They tell a reader "indexing done, now live" and
	// "1 partial line pending".
	CaughtUp bool
	Partial  int

	// Prepared is what ReadOptions.Prepare attached to the batch (nil:
	// nothing); a stream that makes new batches of the events leaves it
	// behind.
	Prepared any
	// Interned is the same for a second consumer of the batch: the TUI's
	// index (ui.Index.Prepare) while the rules use Prepared.
	Interned any

	// lease is set on the batches of a recycling stream (see Hold,
	// Release and ReadOptions.Recycle).
	lease *lease
}

// Stream yields batches from one opened source.
type Stream interface {
	// Next returns the next batch. It returns io.EOF at the end of a finite
	// input. In follow mode it blocks until new data arrives or ctx ends.
	Next(ctx context.Context) (*Batch, error)
	Close() error
}

// Source is anything events can be read from: local files, stdin, S3, Loki.
type Source interface {
	// String names the source for messages ("audit.log", "s3://b/p/").
	String() string
	// Open starts reading. The returned stream yields events in time order
	// within each underlying input; MergeStreams merges several inputs.
	Open(ctx context.Context, opts ReadOptions) (Stream, error)
}

// ReadOptions tune how a source is read.
type ReadOptions struct {
	// From/To bound event times in Unix nanoseconds: From inclusive, To
	// exclusive (as logcli). 0 means unbounded.
	From, To int64
	// Prepare, if not nil, is called on the goroutine that decodes a
	// batch, each time a few more of its events are decoded (and once
	// more when the batch is done, before it is handed on): work it does
	// on the events it has not seen yet finds them still in that core's
	// caches, and runs in parallel as the decoding does. It may attach
	// its results to the batch (Batch.Prepared). Events it has seen are
	// not changed or dropped afterwards. It is called from several
	// goroutines at once (for different batches).
	Prepare func(*Batch)
	// Prefilter, if not nil, lets a source skip decoding lines that cannot
	// match the query (they are not rejects: they are simply not selected).
	Prefilter *Prefilter
	// Follow keeps reading a growing file (tail -F semantics).
	Follow bool
	// Workers is the number of decode goroutines (0 = GOMAXPROCS).
	Workers int
	// ChunkBytes is about how many bytes of lines a reader hands to a
	// decode goroutine at a time (0: 2 MiB). With Workers, it bounds what
	// a source reads ahead: OpenAll lowers it when it merges several
	// sources, so that memory does not grow with their number.
	ChunkBytes int
	// Query is the log query, parsed once by the caller, for sources that
	// push it down to a server (Loki renders it with the logql formatter).
	// For a metric query, pass its LogQuery(): the server selects the
	// entries, the caller evaluates the metric. nil reads the source's
	// default selection. File and S3 sources ignore it (Prefilter is their
	// hint); the caller still matches every event against the query.
	Query *logql.LogQuery
	// Limit is the maximum number of entries wanted (0 = all); a hint for
	// sources that paginate. Newest asks for the newest Limit entries
	// rather than the oldest (logcli's default direction): a source that
	// can fetch newest first (Loki) does, and still yields them in time
	// order; the others read everything and the caller keeps the newest.
	Limit  int
	Newest bool
	// Recycle lends batches instead of giving them (local files and
	// stdin read as JSON lines): the reader reuses a batch's read buffer
	// and event slice once the consumer has released it (Batch.Release),
	// which spares the collector most of what reading allocates. The
	// consumer must release every batch it is done with, hold (Batch.Hold)
	// one it hands to another goroutine, and copy what it keeps. Batches a
	// consumer never releases are reclaimed by the collector as usual.
	Recycle bool
	// pool is the recycling pool OpenAll's sources share (nil: each
	// reader makes its own).
	pool *recyclePool
	// Progress, if set, is called from the reading goroutines with the
	// number of input bytes consumed so far and the total if known (-1).
	Progress func(done, total int64)
	// Tally, if set, counts what the window did with the dated events
	// decoded from files, objects and Loki entries (see WindowTally).
	Tally *WindowTally
	// TallyFrom, when set (after From), is where the window the user
	// asked for starts, for a read that begins earlier (alerts read the
	// rules' look-back before it): Tally counts the events read before
	// it as before the window.
	TallyFrom int64
	// Warn, if set, is told (in words, naming the input) what a source
	// finds wrong with its input as a whole, which is neither a rejected
	// line nor an event: an export that is visibly one page of a longer
	// answer, a Loki read whose window may miss events or that found
	// nothing in a window the user did not give. It may be called from
	// the reading goroutines; a command says each message once.
	Warn func(msg string)
}

// Warnf calls o.Warn, when set, with the formatted message.
func (o *ReadOptions) Warnf(format string, args ...any) {
	if o.Warn != nil {
		o.Warn(fmt.Sprintf(format, args...))
	}
}

// InWindow reports whether a Unix-nano time falls in [From, To).
func (o *ReadOptions) InWindow(t int64) bool {
	if o.From != 0 && t < o.From {
		return false
	}
	if o.To != 0 && t >= o.To {
		return false
	}
	return true
}

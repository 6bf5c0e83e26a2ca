package loki

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/valyala/fastjson"
)

// Defaults for Logs, as logcli's.
const (
	DefaultBatchSize = 1000
	// DefaultMaxBatch is Loki's default max_entries_limit_per_query: the
	// largest page requested when many entries share one timestamp.
	DefaultMaxBatch = 5000
)

// LogsRequest is a log query over a range, paginated and optionally split
// into sub-ranges fetched in parallel.
type LogsRequest struct {
	// Query is LogQL, sent as is: the server filters (push-down).
	Query string
	// From (inclusive) and To (exclusive), Unix nanoseconds. Both required.
	From, To int64
	// Limit is the total number of entries wanted (0 = all).
	Limit int
	// Direction defaults to Forward.
	Direction Direction
	// BatchSize is the page size (default 1000); it must not exceed the
	// server's max_entries_limit_per_query.
	BatchSize int
	// MaxBatch bounds how far a page grows when more than BatchSize entries
	// share one timestamp (default 5000, Loki's default limit).
	MaxBatch int
	// ParallelDuration splits [From, To) into sub-ranges of this length,
	// fetched by up to ParallelMaxWorkers workers (as logcli's
	// --parallel-duration / --parallel-max-workers); 0 = one range.
	ParallelDuration   time.Duration
	ParallelMaxWorkers int
}

// Page is a run of entries in the requested order. Its entries (and their
// Line bytes) are not reused by the client.
type Page struct {
	Entries []Entry
}

// Logs runs a paginated (and, with ParallelDuration, split) log query and
// returns an iterator over its pages, in order.
//
// Pagination follows logcli's --batch: each page moves the boundary to the
// timestamp of its last entry. Entries at that boundary timestamp are held
// back and fetched again, whole, by the next page (which starts at the
// boundary), so an equal-timestamp run that straddles pages is neither
// duplicated nor lost, and its order does not depend on where the page
// ended. When more entries share one timestamp than a page holds, the page
// grows up to MaxBatch; past that the query fails with a clear error
// rather than skip entries.
func (c *Client) Logs(ctx context.Context, r LogsRequest) (*LogIter, error) {
	if r.Query == "" {
		return nil, errors.New("loki: empty query")
	}
	if r.From <= 0 || r.To <= 0 || r.To <= r.From {
		return nil, fmt.Errorf("loki: bad range [%d, %d)", r.From, r.To)
	}
	if r.Direction == "" {
		r.Direction = Forward
	}
	if r.Direction != Forward && r.Direction != Backward {
		return nil, fmt.Errorf("loki: direction %q is not forward or backward", r.Direction)
	}
	if r.BatchSize <= 0 {
		r.BatchSize = DefaultBatchSize
	}
	if r.MaxBatch <= 0 {
		r.MaxBatch = DefaultMaxBatch
	}
	r.MaxBatch = max(r.MaxBatch, r.BatchSize)
	if r.ParallelMaxWorkers <= 0 {
		r.ParallelMaxWorkers = 1
	}
	ctx, cancel := context.WithCancel(ctx)
	it := &LogIter{cancel: cancel, left: r.Limit}
	parts := splitRange(r.From, r.To, r.ParallelDuration, r.Direction)
	it.parts = make([]*part, len(parts))
	for i, p := range parts {
		it.parts[i] = &part{from: p[0], to: p[1], pages: make(chan Page, 4)}
	}
	go it.dispatch(ctx, c, r)
	return it, nil
}

// splitRange cuts [from, to) into pieces of d (the last may be shorter),
// in the order they are to be emitted.
func splitRange(from, to int64, d time.Duration, dir Direction) [][2]int64 {
	if d <= 0 || int64(d) >= to-from {
		return [][2]int64{{from, to}}
	}
	var out [][2]int64
	for s := from; s < to; s += int64(d) {
		out = append(out, [2]int64{s, min(s+int64(d), to)})
	}
	if dir == Backward {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out
}

// LogIter yields the pages of a Logs query.
type LogIter struct {
	cancel context.CancelFunc
	parts  []*part
	cur    int
	left   int // entries still wanted when a limit is set
	done   bool
	once   sync.Once
}

type part struct {
	from, to int64
	pages    chan Page
	err      error // set before pages is closed
}

// dispatch starts one fetcher per sub-range, at most ParallelMaxWorkers at
// a time, in emission order: the sub-range being read always has a worker,
// and the ones ahead fill bounded channels.
func (it *LogIter) dispatch(ctx context.Context, c *Client, r LogsRequest) {
	sem := make(chan struct{}, r.ParallelMaxWorkers)
	for _, p := range it.parts {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			p.err = ctx.Err()
			close(p.pages)
			continue
		}
		go func(p *part) {
			defer func() { <-sem }()
			p.err = c.paginate(ctx, r, p.from, p.to, p.pages)
			close(p.pages)
		}(p)
	}
}

// Next returns the next page, or io.EOF when the query is exhausted.
func (it *LogIter) Next(ctx context.Context) (Page, error) {
	for !it.done && it.cur < len(it.parts) {
		p := it.parts[it.cur]
		select {
		case pg, ok := <-p.pages:
			if !ok {
				if p.err != nil {
					it.finish()
					return Page{}, p.err
				}
				it.cur++
				continue
			}
			if it.left > 0 {
				if len(pg.Entries) >= it.left {
					pg.Entries = pg.Entries[:it.left]
					it.finish()
				} else {
					it.left -= len(pg.Entries)
				}
			}
			if len(pg.Entries) == 0 {
				continue
			}
			return pg, nil
		case <-ctx.Done():
			return Page{}, ctx.Err()
		}
	}
	it.finish()
	return Page{}, io.EOF
}

func (it *LogIter) finish() {
	it.done = true
	it.once.Do(it.cancel)
}

// Close stops the fetchers.
func (it *LogIter) Close() error {
	it.finish()
	return nil
}

// paginate fetches [from, to) page by page into out.
func (c *Client) paginate(ctx context.Context, r LogsRequest, from, to int64, out chan<- Page) error {
	var p fastjson.Parser
	var buf []byte // response body, reused: parsing copies what it keeps
	sc := newStreamCache()
	left := r.Limit
	batch := r.BatchSize
	for {
		want := batch
		lastPage := false
		if left > 0 && left <= want {
			want, lastPage = left, true
		}
		res, err := c.queryRangePage(ctx, &p, sc, &buf, QueryRangeRequest{Query: r.Query, Start: from, End: to, Limit: want, Direction: r.Direction})
		if err != nil {
			return err
		}
		es := res.Entries
		if len(es) < want || lastPage {
			// The range is exhausted (or the limit reached): emit all.
			return send(ctx, out, es)
		}
		// A full page: hold back the entries at the boundary timestamp.
		bt := es[len(es)-1].Time
		cut := len(es)
		for cut > 0 && es[cut-1].Time == bt {
			cut--
		}
		if cut == 0 {
			// Every entry shares one timestamp: grow the page.
			if batch >= r.MaxBatch {
				return fmt.Errorf("loki: more than %d entries share timestamp %s in %s; they cannot be paginated (raise max_entries_limit_per_query and the batch size)",
					batch, time.Unix(0, bt).UTC().Format(time.RFC3339Nano), r.Query)
			}
			batch = min(batch*2, r.MaxBatch)
			continue
		}
		batch = r.BatchSize
		if err := send(ctx, out, es[:cut]); err != nil {
			return err
		}
		if left > 0 {
			left -= cut
		}
		if r.Direction == Backward {
			to = bt + 1 // end is exclusive: bt is fetched again
		} else {
			from = bt
		}
	}
}

func send(ctx context.Context, out chan<- Page, es []Entry) error {
	if len(es) == 0 {
		return nil
	}
	select {
	case out <- Page{Entries: es}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// queryRangePage is QueryRange with a caller-owned parser and stream cache.
func (c *Client) queryRangePage(ctx context.Context, p *fastjson.Parser, sc *streamCache, buf *[]byte, r QueryRangeRequest) (*Result, error) {
	q := queryRangeParams(r)
	body, err := c.getInto(ctx, PathQueryRange, q, *buf)
	if err != nil {
		return nil, err
	}
	*buf = body
	res, err := parseQueryResponse(p, body, r.Direction, sc)
	if err != nil {
		return nil, fmt.Errorf("loki: query_range: %w", err)
	}
	if res.Type != ResultStreams {
		return nil, fmt.Errorf("loki: %q is a metric query (result %s); use it with query or query_range --step, not as a log source", r.Query, res.Type)
	}
	return res, nil
}

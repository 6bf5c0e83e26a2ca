package loki

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
)

// DefaultSelector is the query used when none is given: the stream Fluent
// Bit's loki output writes audit events to in the reference pipeline.
const DefaultSelector = `{job="audit"}`

// DefaultLag is the margin fetched on each side of a window
// (SourceOptions.Lag).
const DefaultLag = 5 * time.Minute

// SourceOptions tune a Loki source.
type SourceOptions struct {
	// DefaultQuery is read when ReadOptions.Query is nil (default
	// DefaultSelector). NewSource parses it.
	DefaultQuery string
	// Since is the range read when ReadOptions.From is 0 (default 1h, as
	// logcli's --since).
	Since time.Duration
	// Lag is the margin fetched on each side of a window (ReadOptions
	// From/To) that is kept on the events' own time. Loki selects
	// entries by their timestamp, which shippers set when they read the
	// line (Fluent Bit's loki output, promtail and Alloy without a
	// timestamp stage): after the event's own time (stageTimestamp) by
	// their batch wait (1 s by default), retries and any backlog after a
	// restart or backpressure; a timestamp stage on
	// requestReceivedTimestamp stamps entries before it instead. 0 means
	// DefaultLag; negative, none.
	Lag time.Duration
	// BatchSize, MaxBatch, ParallelDuration and ParallelMaxWorkers are
	// passed to Logs (see LogsRequest).
	BatchSize          int
	MaxBatch           int
	ParallelDuration   time.Duration
	ParallelMaxWorkers int
	// DelayFor is the tail's delay_for (0..5 s).
	DelayFor int
	// Now returns the current time (tests); nil = time.Now.
	Now func() time.Time
	// Logger gets debug logs (nil = discard).
	Logger *slog.Logger
}

// Source is a data.Source reading audit events from Loki. The log query
// (ReadOptions.Query, parsed by the caller) is pushed down to the server,
// rendered with the logql formatter; each returned line goes through the
// same decoder as files, and a line that is not an audit event becomes a
// data.Reject with its reason. Stream labels become SourceInfo.Labels.
type Source struct {
	c    *Client
	opts SourceOptions
	def  *logql.LogQuery // DefaultQuery, parsed
}

// NewSource returns a source over c. It fails when DefaultQuery is not a
// log query.
func NewSource(c *Client, opts SourceOptions) (*Source, error) {
	if opts.DefaultQuery == "" {
		opts.DefaultQuery = DefaultSelector
	}
	e, err := logql.Parse(opts.DefaultQuery)
	if err != nil {
		return nil, fmt.Errorf("loki selector %q: %w", opts.DefaultQuery, err)
	}
	def, ok := e.(*logql.LogQuery)
	if !ok {
		return nil, fmt.Errorf("loki selector %q is a metric query, not a log query", opts.DefaultQuery)
	}
	if opts.Since <= 0 {
		opts.Since = time.Hour
	}
	switch {
	case opts.Lag == 0:
		opts.Lag = DefaultLag
	case opts.Lag < 0:
		opts.Lag = 0
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Source{c: c, opts: opts, def: def}, nil
}

// query is the log query a read with opts sends.
func (s *Source) query(opts data.ReadOptions) *logql.LogQuery {
	if opts.Query != nil {
		return opts.Query
	}
	return s.def
}

// DefaultQuery is the log query a read without ReadOptions.Query sends.
func (s *Source) DefaultQuery() *logql.LogQuery { return s.def }

// String names the source: "loki http://host:3100".
func (s *Source) String() string { return "loki " + s.c.Addr() }

// Client returns the underlying client (for labels/series completion and
// the cost preview).
func (s *Source) Client() *Client { return s.c }

// Range returns the [from, to) a read with opts covers.
func (s *Source) Range(opts data.ReadOptions) (from, to int64) {
	to = opts.To
	if to == 0 {
		to = s.opts.Now().UnixNano()
	}
	from = opts.From
	if from == 0 {
		from = to - int64(s.opts.Since)
	}
	return from, to
}

// fetchRange returns the range of entry timestamps a read with opts
// fetches: Range, widened by Lag on each side the window bounds (the
// window is then kept on the events' own time).
func (s *Source) fetchRange(opts data.ReadOptions) (from, to int64) {
	from, to = s.Range(opts)
	if opts.From != 0 {
		from -= int64(s.opts.Lag)
	}
	if opts.To != 0 {
		to += int64(s.opts.Lag)
	}
	return max(from, 1), to
}

// Preview asks the index how much a read with opts would scan
// (/loki/api/v1/index/stats over the query's stream selector).
func (s *Source) Preview(ctx context.Context, opts data.ReadOptions) (IndexStats, error) {
	from, to := s.fetchRange(opts)
	return s.c.Stats(ctx, Selector(s.query(opts)), from, to)
}

// StreamLabels asks the server which labels the streams a read with opts
// covers carry (data.StreamLabeler): their names (/loki/api/v1/labels) and
// the values of names (/loki/api/v1/label/NAME/values; a name not among
// names counts as any value), over the range the read fetches. A read
// without ReadOptions.Query covers the streams of DefaultQuery's selector
// (--loki-selector); a query's own selector is matched by the server
// against every stream, so all of them count.
func (s *Source) StreamLabels(ctx context.Context, opts data.ReadOptions, names []string) (*data.StreamLabels, error) {
	from, to := s.fetchRange(opts)
	sel := ""
	if opts.Query == nil {
		sel = Selector(s.def)
	}
	all, err := s.c.Labels(ctx, sel, from, to)
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	sl := &data.StreamLabels{}
	for _, n := range all {
		if names != nil && !want[n] || !data.ValidLabelName(n) {
			sl.AddOpen(n)
			continue
		}
		vals, err := s.c.LabelValues(ctx, n, sel, from, to)
		if err != nil {
			return nil, err
		}
		sl.AddValues(n, vals)
	}
	return sl, nil
}

// Selector renders the stream selector of a log query, {a="b", ...}.
func Selector(q *logql.LogQuery) string {
	ms := q.Selector()
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = m.String()
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// SelectorOf parses query text (a log or metric query, as typed on the
// command line) and returns its stream selector.
func SelectorOf(query string) (string, error) {
	e, err := logql.Parse(query)
	if err != nil {
		return "", fmt.Errorf("query %q: %w", query, err)
	}
	switch q := e.(type) {
	case *logql.LogQuery:
		return Selector(q), nil
	case *logql.MetricQuery:
		return Selector(q.LogQuery()), nil
	}
	return "", fmt.Errorf("query %q has no stream selector", query)
}

// Open starts reading: a paginated (and optionally split) query_range
// over [From, To) (To = now, From = To - Since when unset), then, with
// Follow and no To, the live tail from where the range ended. The server
// runs the log query (selector and pipeline) as the formatter renders it;
// for a metric query the caller passes its log query and evaluates the
// metric over the entries.
//
// A window is on the events' own time, as for files and S3: the entries
// of [From-Lag, To+Lag) are fetched (Loki selects by entry timestamp) and
// the events outside [From, To) are dropped here (counted in
// ReadOptions.Tally). An event without a time of its own takes its
// entry's, as an event in a carrier record takes the record's. With a
// Limit and a window, the limit counts events of the window: pages are
// fetched until no entry still to come can be among the oldest (or, with
// Newest, the newest) Limit events. At the end, ReadOptions.Warn is told
// when entries were stamped more than Lag from their events' time (the
// window may then miss events near its edges), and when a read with no
// From found nothing (it covered only the last Since).
func (s *Source) Open(ctx context.Context, opts data.ReadOptions) (data.Stream, error) {
	q := s.query(opts).String()
	from, to := s.Range(opts)
	st := &sourceStream{
		src:      s,
		query:    q,
		follow:   opts.Follow && opts.To == 0,
		progress: opts.Progress,
		limit:    opts.Limit,
		infos:    map[*Stream]*data.SourceInfo{},
		byKey:    map[string]*data.SourceInfo{},
		lines:    map[*data.SourceInfo]int64{},
		slack:    5 * time.Second,
		win:      opts,
		filter:   opts.From != 0 || opts.To != 0,
		lag:      int64(s.opts.Lag),
		from:     from,
		to:       to,
	}
	dir := Forward
	if opts.Newest && opts.Limit > 0 && !st.follow {
		// The newest Limit entries: fetched newest first, then turned
		// back into time order (Next).
		dir, st.newest = Backward, true
	}
	limit := opts.Limit
	if st.filter {
		// The limit counts events of the window, which only decoding
		// tells: the read stops itself (enough).
		limit = 0
		st.best.newest = st.newest
	}
	if ffrom, fto := s.fetchRange(opts); ffrom < fto {
		it, err := s.c.Logs(ctx, LogsRequest{
			Query: q, From: ffrom, To: fto, Limit: limit, Direction: dir,
			BatchSize: s.opts.BatchSize, MaxBatch: s.opts.MaxBatch,
			ParallelDuration: s.opts.ParallelDuration, ParallelMaxWorkers: s.opts.ParallelMaxWorkers,
		})
		if err != nil {
			return nil, err
		}
		st.it = it
	}
	st.tailFrom = to
	return st, nil
}

// sourceStream is the data.Stream of a Loki source.
type sourceStream struct {
	src      *Source
	query    string
	follow   bool
	limit    int
	newest   bool // the history is read newest first (ReadOptions.Newest)
	sent     int
	it       *LogIter
	tail     *Tailer
	tailFrom int64
	slack    time.Duration
	recent   []Entry // history entries within slack of the newest, to seed the tail
	dec      data.Decoder
	infos    map[*Stream]*data.SourceInfo
	byKey    map[string]*data.SourceInfo
	lines    map[*data.SourceInfo]int64
	closed   bool
	progress func(done, total int64)
	done     int64

	// win is the read's options: its window (From/To, on the events'
	// own time), Tally and Warn. filter is set when the window is kept
	// here; lag is Lag; from, to the range without the margin.
	win      data.ReadOptions
	filter   bool
	lag      int64
	from, to int64
	best     extremes // with a limit and a window: the times that decide enough
	entries  int64    // entries read
	skew     skew
	ended    bool // the end was reported (finish)
}

func (st *sourceStream) Next(ctx context.Context) (*data.Batch, error) {
	if st.closed {
		return nil, io.EOF
	}
	if st.it != nil && st.newest {
		if st.filter {
			return st.newestInWindow(ctx)
		}
		// At most limit entries, newest first: gather them all, then
		// yield them oldest first.
		var all []Entry
		for {
			pg, err := st.it.Next(ctx)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, err
			}
			all = append(all, pg.Entries...)
		}
		st.it.Close()
		st.it = nil
		slices.Reverse(all)
		return st.batch(all), nil
	}
	if st.it != nil {
		pg, err := st.it.Next(ctx)
		switch {
		case err == nil:
			if st.follow {
				st.remember(pg.Entries)
			}
			b := st.batch(pg.Entries)
			if st.enough(pg.Entries[len(pg.Entries)-1].Time) {
				st.it.Close()
				st.it = nil
			}
			return b, nil
		case errors.Is(err, io.EOF):
			st.it.Close()
			st.it = nil
		default:
			return nil, err
		}
	}
	if !st.follow || (st.limit > 0 && st.sent >= st.limit) {
		st.finish()
		return nil, io.EOF
	}
	if st.tail == nil {
		start := st.tailFrom
		if n := len(st.recent); n > 0 {
			start = st.recent[n-1].Time - int64(st.slack)
		}
		t, err := st.src.c.Tail(ctx, TailRequest{Query: st.query, Start: start, DelayFor: st.src.opts.DelayFor, Slack: st.slack})
		if err != nil {
			return nil, err
		}
		for _, e := range st.recent {
			t.fresh(e)
		}
		st.recent = nil
		st.tail = t
	}
	for {
		m, err := st.tail.Next(ctx)
		if err != nil {
			return nil, err
		}
		for _, d := range m.Dropped {
			st.src.opts.Logger.Warn("loki dropped tail entries", "labels", FormatLabels(d.Labels), "time", time.Unix(0, d.Time).UTC())
		}
		b := st.batch(m.Entries)
		for _, d := range m.Dropped {
			// Nothing is lost silently: an entry Loki dropped is a reject.
			info := st.info(&Stream{Labels: d.Labels, Key: FormatLabels(d.Labels)})
			b.Rejects = append(b.Rejects, data.Reject{
				Origin: data.Origin{Source: info},
				Reason: fmt.Sprintf("dropped by Loki's tail (reader too slow) at %s", time.Unix(0, d.Time).UTC().Format(time.RFC3339Nano)),
			})
		}
		if len(b.Events) > 0 || len(b.Rejects) > 0 {
			return b, nil
		}
	}
}

// newestInWindow reads the newest Limit events of the window: pages
// newest first, each decoded in time order and kept on the events' own
// time, until enough; then all of them, oldest first, in one batch.
func (st *sourceStream) newestInWindow(ctx context.Context) (*data.Batch, error) {
	var pages []*data.Batch
	for {
		pg, err := st.it.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		oldest := pg.Entries[len(pg.Entries)-1].Time
		slices.Reverse(pg.Entries)
		pages = append(pages, st.batch(pg.Entries))
		if st.enough(oldest) {
			break
		}
	}
	st.it.Close()
	st.it = nil
	out := &data.Batch{}
	for i := len(pages) - 1; i >= 0; i-- {
		b := pages[i]
		out.Events = append(out.Events, b.Events...)
		out.Rejects = append(out.Rejects, b.Rejects...)
		out.Bytes += b.Bytes
	}
	return out, nil
}

// enough reports whether a read with a limit and a window holds what it
// needs once the entries up to cursor (an entry time, in the direction
// of the read) are in: Limit events of the window, and no entry still to
// come can be among the oldest (newest) Limit, since an entry is stamped
// at most Lag from its event's time (skew says when one was not).
func (st *sourceStream) enough(cursor int64) bool {
	if !st.filter || st.limit <= 0 || st.follow || st.best.Len() < st.limit {
		return false
	}
	if st.newest {
		return cursor+st.lag < st.best.t[0]
	}
	return cursor-st.lag > st.best.t[0]
}

// finish tells ReadOptions.Warn, once, at the end of a read what the
// user should know about its window.
func (st *sourceStream) finish() {
	if st.ended {
		return
	}
	st.ended = true
	if st.filter && st.skew.n > 0 {
		st.win.Warnf("%s", st.skew.message(st.src, time.Duration(st.lag)))
	}
	if st.win.From == 0 && st.entries == 0 {
		span := "the last " + data.ShortDuration(st.src.opts.Since)
		if st.win.To != 0 {
			span = "the " + data.ShortDuration(st.src.opts.Since) + " before --to"
		}
		st.win.Warnf("%s: nothing read from %s to %s: without --from or --since, a Loki read covers only %s (--loki-since; logcli's --since defaults to 1h too); for older evidence give --from/--to or --since",
			st.src, stamp(st.from), stamp(st.to), span)
	}
}

// skew counts the entries stamped more than the lag from their event's
// own time, and keeps the furthest.
type skew struct {
	n    int64
	most int64 // entry time minus event time, the largest in absolute value
	cite string
}

func (k *skew) note(d int64, lag int64, e *data.Event) {
	if d <= lag && d >= -lag {
		return
	}
	k.n++
	if abs(d) > abs(k.most) {
		k.most, k.cite = d, e.Origin.Cite()
	}
}

func (k *skew) message(src *Source, lag time.Duration) string {
	way := "after"
	if k.most < 0 {
		way = "before"
	}
	most := time.Duration(abs(k.most))
	n := fmt.Sprintf("%d entries were", k.n)
	if k.n == 1 {
		n = "1 entry was"
	}
	return fmt.Sprintf("%s: %s stamped more than --loki-lag (%s) from their event's own time, the furthest %s %s it (%s): the window is on the events' own time and is fetched by entry time with --loki-lag of margin, so events of the window whose entries are stamped further out were not read; raise --loki-lag above %s",
		src, n, data.ShortDuration(lag), data.ShortDuration(most.Round(time.Second)), way, k.cite, data.ShortDuration(most.Truncate(time.Minute)+time.Minute))
}

func abs(d int64) int64 {
	if d < 0 {
		return -d
	}
	return d
}

// stamp writes a Unix-ns time as the flags take it.
func stamp(ns int64) string { return time.Unix(0, ns).UTC().Format(time.RFC3339) }

// extremes holds the n oldest (or, newest, the n newest) event times
// offered, the least extreme of them at t[0] (a heap).
type extremes struct {
	t      []int64
	newest bool
}

func (h *extremes) Len() int { return len(h.t) }
func (h *extremes) Less(i, j int) bool {
	if h.newest {
		return h.t[i] < h.t[j]
	}
	return h.t[i] > h.t[j]
}
func (h *extremes) Swap(i, j int) { h.t[i], h.t[j] = h.t[j], h.t[i] }
func (h *extremes) Push(x any)    { h.t = append(h.t, x.(int64)) }
func (h *extremes) Pop() any {
	x := h.t[len(h.t)-1]
	h.t = h.t[:len(h.t)-1]
	return x
}

// add offers t, keeping the n most extreme.
func (h *extremes) add(t int64, n int) {
	if h.Len() < n {
		heap.Push(h, t)
		return
	}
	if h.newest && t > h.t[0] || !h.newest && t < h.t[0] {
		h.t[0] = t
		heap.Fix(h, 0)
	}
}

// remember keeps the history entries within slack of the newest one.
func (st *sourceStream) remember(es []Entry) {
	if len(es) == 0 {
		return
	}
	newest := es[len(es)-1].Time
	lo := newest - int64(st.slack)
	k := 0
	for k < len(st.recent) && st.recent[k].Time < lo {
		k++
	}
	st.recent = st.recent[k:]
	for _, e := range es {
		if e.Time >= lo {
			st.recent = append(st.recent, e)
		}
	}
}

// info returns the SourceInfo of a Loki stream.
func (st *sourceStream) info(s *Stream) *data.SourceInfo {
	if si, ok := st.infos[s]; ok {
		return si
	}
	// Each parallel sub-range interns its own *Stream: share by key.
	si, ok := st.byKey[s.Key]
	if !ok {
		si = &data.SourceInfo{Name: "loki" + s.Key, Labels: append(data.Labels(nil), s.Labels...)}
		st.byKey[s.Key] = si
	}
	st.infos[s] = si
	return si
}

// batch decodes entries; lines that are not audit events become rejects.
// An event without a time of its own takes its entry's. With a window,
// the events outside it are dropped (and counted in the read's Tally).
func (st *sourceStream) batch(es []Entry) *data.Batch {
	b := &data.Batch{Events: make([]data.Event, 0, len(es))}
	for _, e := range es {
		si := st.info(e.Stream)
		st.lines[si]++
		// Line counts the stream's entries in this read (for messages);
		// an entry is cited by its stream and timestamp (Origin.Cite).
		o := data.Origin{Source: si, Line: st.lines[si], StreamTime: e.Time}
		b.Bytes += int64(len(e.Line))
		var rej *data.Reject
		n := len(b.Events)
		b.Events, rej = st.dec.Decode(b.Events, e.Line, o)
		if rej != nil {
			b.Rejects = append(b.Rejects, *rej)
			continue
		}
		c, hasCluster := si.Labels.Get("cluster")
		for i := n; i < len(b.Events); i++ {
			ev := &b.Events[i]
			if hasCluster && ev.Cluster == "" {
				ev.Cluster = c
			}
			if ev.Time == 0 {
				ev.Time = e.Time
			} else if st.filter {
				st.skew.note(e.Time-ev.Time, st.lag, ev)
			}
		}
	}
	st.entries += int64(len(es))
	if st.filter {
		data.KeepWindow(b, &st.win)
		if st.limit > 0 && !st.follow {
			for i := range b.Events {
				st.best.add(b.Events[i].Time, st.limit)
			}
		}
		st.sent += len(b.Events) + len(b.Rejects)
	} else {
		st.sent += len(es)
	}
	if st.progress != nil && b.Bytes > 0 {
		st.done += b.Bytes
		st.progress(st.done, -1) // Loki does not say how much is left
	}
	return b
}

func (st *sourceStream) Close() error {
	st.closed = true
	if st.it != nil {
		st.it.Close()
		st.it = nil
	}
	if st.tail != nil {
		st.tail.Close()
		st.tail = nil
	}
	return nil
}

// Metric evaluates a metric query on the server (full push-down), sent as
// the formatter renders it: with a step, a range query over [from, to]
// (query_range, a matrix); without, an instant query at to (query, a
// vector). to = 0 means now; from = 0 means to - Since.
func (s *Source) Metric(ctx context.Context, mq *logql.MetricQuery, from, to int64, step time.Duration) (*Result, error) {
	query := mq.String()
	from, to = s.Range(data.ReadOptions{From: from, To: to})
	if step > 0 {
		return s.c.QueryRange(ctx, QueryRangeRequest{Query: query, Start: from, End: to, Step: step})
	}
	return s.c.Query(ctx, InstantRequest{Query: query, Time: to})
}

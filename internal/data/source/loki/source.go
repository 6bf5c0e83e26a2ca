package loki

import (
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

// SourceOptions tune a Loki source.
type SourceOptions struct {
	// DefaultQuery is read when ReadOptions.Query is nil (default
	// DefaultSelector). NewSource parses it.
	DefaultQuery string
	// Since is the range read when ReadOptions.From is 0 (default 1h, as
	// logcli's --since).
	Since time.Duration
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

// Preview asks the index how much a read with opts would scan
// (/loki/api/v1/index/stats over the query's stream selector).
func (s *Source) Preview(ctx context.Context, opts data.ReadOptions) (IndexStats, error) {
	from, to := s.Range(opts)
	return s.c.Stats(ctx, Selector(s.query(opts)), from, to)
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
	}
	dir := Forward
	if opts.Newest && opts.Limit > 0 && !st.follow {
		// The newest Limit entries: fetched newest first, then turned
		// back into time order (Next).
		dir, st.newest = Backward, true
	}
	if from < to {
		it, err := s.c.Logs(ctx, LogsRequest{
			Query: q, From: from, To: to, Limit: opts.Limit, Direction: dir,
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
}

func (st *sourceStream) Next(ctx context.Context) (*data.Batch, error) {
	if st.closed {
		return nil, io.EOF
	}
	if st.it != nil && st.newest {
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
			return st.batch(pg.Entries), nil
		case errors.Is(err, io.EOF):
			st.it.Close()
			st.it = nil
		default:
			return nil, err
		}
	}
	if !st.follow || (st.limit > 0 && st.sent >= st.limit) {
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
		if c, ok := si.Labels.Get("cluster"); ok {
			for i := n; i < len(b.Events); i++ {
				if b.Events[i].Cluster == "" {
					b.Events[i].Cluster = c
				}
			}
		}
	}
	st.sent += len(es)
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

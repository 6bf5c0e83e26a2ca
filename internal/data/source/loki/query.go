package loki

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fastjson"

	"github.com/audittui/audittui/internal/data"
)

// Direction is the order of log entries in a query.
type Direction string

// Directions as the API spells them.
const (
	Forward  Direction = "forward"
	Backward Direction = "backward"
)

// Result types of query and query_range.
const (
	ResultStreams = "streams"
	ResultMatrix  = "matrix"
	ResultVector  = "vector"
	ResultScalar  = "scalar"
)

// Stream is one stream of a query result: its labels, in canonical text
// form too (Key, as FormatLabels renders them).
type Stream struct {
	Labels data.Labels
	Key    string
}

// Entry is one log entry. Line (and Metadata) belong to the page that
// delivered the entry.
type Entry struct {
	Time     int64 // Unix nanoseconds
	Line     []byte
	Stream   *Stream
	Metadata data.Labels // structured metadata when the server returns it
}

// Sample is one metric point; T is Unix nanoseconds (the API sends
// seconds, possibly fractional).
type Sample struct {
	T int64
	V float64
}

// Series is one metric series of a matrix (Samples) or vector (one sample).
type Series struct {
	Metric  data.Labels
	Samples []Sample
}

// Result is the data of a query or query_range answer.
type Result struct {
	Type string // ResultStreams, ResultMatrix, ResultVector, ResultScalar
	// Entries of a streams result, sorted by time in the requested
	// direction (ties: by stream key, then server order).
	Entries []Entry
	// Series of a matrix or vector result (a scalar is one series with no
	// labels).
	Series []Series
	// Stats is the raw "stats" object (nil when absent).
	Stats []byte
}

// QueryRangeRequest is one query_range call.
type QueryRangeRequest struct {
	Query      string
	Start, End int64 // Unix nanoseconds; Start inclusive, End exclusive; 0 = server default
	Limit      int   // entries (log queries); 0 = server default (100)
	Direction  Direction
	Step       time.Duration // metric queries
	Interval   time.Duration // log queries
}

// QueryRange runs one /loki/api/v1/query_range request (no pagination; see
// Logs for that). Retryable failures are retried per Config.Retry.
func (c *Client) QueryRange(ctx context.Context, r QueryRangeRequest) (*Result, error) {
	q := queryRangeParams(r)
	body, err := c.get(ctx, PathQueryRange, q)
	if err != nil {
		return nil, err
	}
	var p fastjson.Parser
	res, err := parseQueryResponse(&p, body, r.Direction, newStreamCache())
	if err != nil {
		return nil, fmt.Errorf("loki: query_range: %w", err)
	}
	return res, nil
}

func queryRangeParams(r QueryRangeRequest) url.Values {
	q := url.Values{"query": {r.Query}}
	if r.Start != 0 {
		q.Set("start", strconv.FormatInt(r.Start, 10))
	}
	if r.End != 0 {
		q.Set("end", strconv.FormatInt(r.End, 10))
	}
	if r.Limit > 0 {
		q.Set("limit", strconv.Itoa(r.Limit))
	}
	if r.Direction != "" {
		q.Set("direction", string(r.Direction))
	}
	if r.Step > 0 {
		q.Set("step", formatSeconds(r.Step))
	}
	if r.Interval > 0 {
		q.Set("interval", formatSeconds(r.Interval))
	}
	return q
}

// InstantRequest is one /loki/api/v1/query call (metric queries).
type InstantRequest struct {
	Query     string
	Time      int64 // Unix nanoseconds; 0 = now
	Limit     int
	Direction Direction
}

// Query runs an instant query (a vector, or streams for a log query on
// servers that still allow it).
func (c *Client) Query(ctx context.Context, r InstantRequest) (*Result, error) {
	q := url.Values{"query": {r.Query}}
	if r.Time != 0 {
		q.Set("time", strconv.FormatInt(r.Time, 10))
	}
	if r.Limit > 0 {
		q.Set("limit", strconv.Itoa(r.Limit))
	}
	if r.Direction != "" {
		q.Set("direction", string(r.Direction))
	}
	body, err := c.get(ctx, PathQuery, q)
	if err != nil {
		return nil, err
	}
	var p fastjson.Parser
	res, err := parseQueryResponse(&p, body, r.Direction, newStreamCache())
	if err != nil {
		return nil, fmt.Errorf("loki: query: %w", err)
	}
	return res, nil
}

// Labels returns the label names known in [start, end) (0 = server
// defaults), optionally restricted to streams matching selector.
func (c *Client) Labels(ctx context.Context, selector string, start, end int64) ([]string, error) {
	return c.stringList(ctx, PathLabels, selector, start, end)
}

// LabelValues returns the values of label name.
func (c *Client) LabelValues(ctx context.Context, name, selector string, start, end int64) ([]string, error) {
	if !data.ValidLabelName(name) {
		return nil, fmt.Errorf("loki: invalid label name %q", name)
	}
	return c.stringList(ctx, "/loki/api/v1/label/"+name+"/values", selector, start, end)
}

func rangeParams(start, end int64) url.Values {
	q := url.Values{}
	if start != 0 {
		q.Set("start", strconv.FormatInt(start, 10))
	}
	if end != 0 {
		q.Set("end", strconv.FormatInt(end, 10))
	}
	return q
}

func (c *Client) stringList(ctx context.Context, path, selector string, start, end int64) ([]string, error) {
	q := rangeParams(start, end)
	if selector != "" {
		q.Set("query", selector)
	}
	body, err := c.get(ctx, path, q)
	if err != nil {
		return nil, err
	}
	v, err := successData(body)
	if err != nil {
		return nil, fmt.Errorf("loki: %s: %w", path, err)
	}
	arr, err := v.Array()
	if err != nil {
		if v.Type() == fastjson.TypeNull {
			return nil, nil // Loki answers "data": null when nothing matches
		}
		return nil, fmt.Errorf("loki: %s: data: %w", path, err)
	}
	out := make([]string, 0, len(arr))
	for i, x := range arr {
		s, err := x.StringBytes()
		if err != nil {
			return nil, fmt.Errorf("loki: %s: data[%d]: %w", path, i, err)
		}
		out = append(out, string(s))
	}
	return out, nil
}

// Series returns the label sets of the streams matching any of the
// selectors.
func (c *Client) Series(ctx context.Context, selectors []string, start, end int64) ([]data.Labels, error) {
	if len(selectors) == 0 {
		return nil, fmt.Errorf("loki: series needs at least one selector")
	}
	q := rangeParams(start, end)
	for _, s := range selectors {
		q.Add("match[]", s)
	}
	body, err := c.get(ctx, PathSeries, q)
	if err != nil {
		return nil, err
	}
	v, err := successData(body)
	if err != nil {
		return nil, fmt.Errorf("loki: series: %w", err)
	}
	if v.Type() == fastjson.TypeNull {
		return nil, nil
	}
	arr, err := v.Array()
	if err != nil {
		return nil, fmt.Errorf("loki: series: data: %w", err)
	}
	out := make([]data.Labels, 0, len(arr))
	for i, x := range arr {
		ls, err := labelObject(x)
		if err != nil {
			return nil, fmt.Errorf("loki: series: data[%d]: %w", i, err)
		}
		out = append(out, ls)
	}
	return out, nil
}

// IndexStats is the answer of /loki/api/v1/index/stats: an estimate of what
// a selector covers.
type IndexStats struct {
	Streams, Chunks, Entries, Bytes uint64
}

// String reads like "~1.2 GB in 14 streams (3400000 entries, 812 chunks)".
func (s IndexStats) String() string {
	return fmt.Sprintf("~%s in %d streams (%d entries, %d chunks)", HumanBytes(s.Bytes), s.Streams, s.Entries, s.Chunks)
}

// HumanBytes formats a byte count with decimal units, as Grafana does.
func HumanBytes(n uint64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}

// Stats queries the index for the size of what selector matches, for a
// cost preview before a big range.
func (c *Client) Stats(ctx context.Context, selector string, start, end int64) (IndexStats, error) {
	q := rangeParams(start, end)
	q.Set("query", selector)
	body, err := c.get(ctx, PathIndexStats, q)
	if err != nil {
		return IndexStats{}, err
	}
	var p fastjson.Parser
	v, err := p.ParseBytes(body)
	if err != nil {
		return IndexStats{}, fmt.Errorf("loki: index/stats: %w", err)
	}
	var s IndexStats
	for _, f := range []struct {
		name string
		dst  *uint64
	}{{"streams", &s.Streams}, {"chunks", &s.Chunks}, {"entries", &s.Entries}, {"bytes", &s.Bytes}} {
		x := v.Get(f.name)
		if x == nil {
			return IndexStats{}, fmt.Errorf("loki: index/stats: missing %q in %s", f.name, truncate(body, 200))
		}
		n, err := x.Uint64()
		if err != nil {
			return IndexStats{}, fmt.Errorf("loki: index/stats: %s: %w", f.name, err)
		}
		*f.dst = n
	}
	return s, nil
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return sanitize(string(b[:n])) + "..."
	}
	return sanitize(string(b))
}

// successData checks {"status":"success","data":...} and returns data.
func successData(body []byte) (*fastjson.Value, error) {
	v, err := fastjson.ParseBytes(body)
	if err != nil {
		return nil, fmt.Errorf("bad JSON answer: %w", err)
	}
	if st := string(v.GetStringBytes("status")); st != "success" {
		msg := string(v.GetStringBytes("error"))
		if msg == "" {
			msg = truncate(body, 200)
		}
		return nil, fmt.Errorf("status %q: %s", st, sanitize(msg))
	}
	d := v.Get("data")
	if d == nil {
		return nil, fmt.Errorf("answer has no data")
	}
	return d, nil
}

// labelObject reads {"name":"value",...} into sorted Labels.
func labelObject(v *fastjson.Value) (data.Labels, error) {
	if v == nil {
		return nil, fmt.Errorf("missing label object")
	}
	o, err := v.Object()
	if err != nil {
		return nil, err
	}
	out := make(data.Labels, 0, o.Len())
	var ferr error
	o.Visit(func(k []byte, x *fastjson.Value) {
		s, err := x.StringBytes()
		if err != nil && ferr == nil {
			ferr = fmt.Errorf("label %q: %w", k, err)
		}
		out = append(out, data.Label{Name: string(k), Value: string(s)})
	})
	if ferr != nil {
		return nil, ferr
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// streamCache interns streams by their label text, so that every entry of
// a stream shares one *Stream across pages.
type streamCache struct {
	m map[string]*Stream
}

func newStreamCache() *streamCache { return &streamCache{m: map[string]*Stream{}} }

func (sc *streamCache) get(v *fastjson.Value) (*Stream, error) {
	if v == nil {
		return nil, fmt.Errorf("missing stream labels")
	}
	o, err := v.Object()
	if err != nil {
		return nil, err
	}
	// Build the key without allocating labels for streams already seen.
	var kb strings.Builder
	type kv struct{ k, v []byte }
	var pairs []kv
	var ferr error
	o.Visit(func(k []byte, x *fastjson.Value) {
		s, err := x.StringBytes()
		if err != nil && ferr == nil {
			ferr = fmt.Errorf("label %q: %w", k, err)
		}
		pairs = append(pairs, kv{k, s})
	})
	if ferr != nil {
		return nil, ferr
	}
	sort.Slice(pairs, func(i, j int) bool { return string(pairs[i].k) < string(pairs[j].k) })
	kb.WriteByte('{')
	for i, p := range pairs {
		if i > 0 {
			kb.WriteString(", ")
		}
		kb.Write(p.k)
		kb.WriteByte('=')
		kb.WriteString(strconv.Quote(string(p.v)))
	}
	kb.WriteByte('}')
	key := kb.String()
	if s, ok := sc.m[key]; ok {
		return s, nil
	}
	ls := make(data.Labels, len(pairs))
	for i, p := range pairs {
		ls[i] = data.Label{Name: string(p.k), Value: string(p.v)}
	}
	s := &Stream{Labels: ls, Key: key}
	sc.m[key] = s
	return s, nil
}

// parseQueryResponse decodes a query/query_range answer. Log lines are
// copied into one arena per page.
func parseQueryResponse(p *fastjson.Parser, body []byte, dir Direction, sc *streamCache) (*Result, error) {
	v, err := p.ParseBytes(body)
	if err != nil {
		return nil, fmt.Errorf("bad JSON answer: %w", err)
	}
	if st := string(v.GetStringBytes("status")); st != "success" {
		return nil, fmt.Errorf("status %q: %s", st, sanitize(string(v.GetStringBytes("error"))))
	}
	d := v.Get("data")
	if d == nil {
		return nil, fmt.Errorf("answer has no data")
	}
	res := &Result{Type: string(d.GetStringBytes("resultType"))}
	if s := d.Get("stats"); s != nil {
		res.Stats = s.MarshalTo(nil)
	}
	result := d.Get("result")
	if result == nil {
		return nil, fmt.Errorf("answer has no data.result")
	}
	switch res.Type {
	case ResultStreams:
		arr, err := result.Array()
		if err != nil {
			return nil, fmt.Errorf("data.result: %w", err)
		}
		n, size := 0, 0
		for _, st := range arr {
			vals := st.GetArray("values")
			n += len(vals)
			for _, e := range vals {
				if a := e.GetArray(); len(a) > 1 {
					size += len(a[1].GetStringBytes())
				}
			}
		}
		arena := make([]byte, 0, size)
		res.Entries = make([]Entry, 0, n)
		for i, st := range arr {
			sv := st.Get("stream")
			if sv == nil {
				return nil, fmt.Errorf("data.result[%d]: no stream labels", i)
			}
			stream, err := sc.get(sv)
			if err != nil {
				return nil, fmt.Errorf("data.result[%d].stream: %w", i, err)
			}
			for j, e := range st.GetArray("values") {
				a, err := e.Array()
				if err != nil || len(a) < 2 {
					return nil, fmt.Errorf("data.result[%d].values[%d]: want [\"<ns>\", \"<line>\"]", i, j)
				}
				tsb, err := a[0].StringBytes()
				if err != nil {
					return nil, fmt.Errorf("data.result[%d].values[%d][0]: timestamp: %w", i, j, err)
				}
				ts, err := strconv.ParseInt(string(tsb), 10, 64)
				if err != nil {
					return nil, fmt.Errorf("data.result[%d].values[%d][0]: timestamp %q: %w", i, j, tsb, err)
				}
				line, err := a[1].StringBytes()
				if err != nil {
					return nil, fmt.Errorf("data.result[%d].values[%d][1]: line: %w", i, j, err)
				}
				start := len(arena)
				arena = append(arena, line...)
				ent := Entry{Time: ts, Line: arena[start:len(arena):len(arena)], Stream: stream}
				if len(a) > 2 {
					md, err := metadataOf(a[2])
					if err != nil {
						return nil, fmt.Errorf("data.result[%d].values[%d][2]: %w", i, j, err)
					}
					ent.Metadata = md
				}
				res.Entries = append(res.Entries, ent)
			}
		}
		sortEntries(res.Entries, dir)
	case ResultMatrix, ResultVector:
		arr, err := result.Array()
		if err != nil {
			return nil, fmt.Errorf("data.result: %w", err)
		}
		for i, s := range arr {
			ls, err := labelObject(s.Get("metric"))
			if err != nil {
				return nil, fmt.Errorf("data.result[%d].metric: %w", i, err)
			}
			ser := Series{Metric: ls}
			if res.Type == ResultVector {
				smp, err := parseSample(s.Get("value"))
				if err != nil {
					return nil, fmt.Errorf("data.result[%d].value: %w", i, err)
				}
				ser.Samples = []Sample{smp}
			} else {
				for j, x := range s.GetArray("values") {
					smp, err := parseSample(x)
					if err != nil {
						return nil, fmt.Errorf("data.result[%d].values[%d]: %w", i, j, err)
					}
					ser.Samples = append(ser.Samples, smp)
				}
			}
			res.Series = append(res.Series, ser)
		}
	case ResultScalar:
		smp, err := parseSample(result)
		if err != nil {
			return nil, fmt.Errorf("data.result: %w", err)
		}
		res.Series = []Series{{Samples: []Sample{smp}}}
	default:
		return nil, fmt.Errorf("unknown resultType %q", res.Type)
	}
	return res, nil
}

// metadataOf reads structured metadata: {"k":"v"} or, with the
// categorize-labels encoding, {"structuredMetadata":{...},"parsed":{...}}.
func metadataOf(v *fastjson.Value) (data.Labels, error) {
	if sm := v.Get("structuredMetadata"); sm != nil {
		return labelObject(sm)
	}
	if v.Get("parsed") != nil {
		return nil, nil
	}
	return labelObject(v)
}

// parseSample reads [<seconds number>, "<value string>"].
func parseSample(v *fastjson.Value) (Sample, error) {
	if v == nil {
		return Sample{}, fmt.Errorf("missing sample")
	}
	a, err := v.Array()
	if err != nil || len(a) != 2 {
		return Sample{}, fmt.Errorf("want [<seconds>, \"<value>\"]")
	}
	var sec float64
	switch a[0].Type() {
	case fastjson.TypeNumber:
		sec = a[0].GetFloat64()
	case fastjson.TypeString:
		sec, err = strconv.ParseFloat(string(a[0].GetStringBytes()), 64)
		if err != nil {
			return Sample{}, fmt.Errorf("time: %w", err)
		}
	default:
		return Sample{}, fmt.Errorf("time is %s", a[0].Type())
	}
	vs, err := a[1].StringBytes()
	if err != nil {
		return Sample{}, fmt.Errorf("value: %w", err)
	}
	val, err := strconv.ParseFloat(string(vs), 64)
	if err != nil {
		return Sample{}, fmt.Errorf("value %q: %w", vs, err)
	}
	// Seconds with millisecond precision, as Prometheus renders them.
	ns := int64(math.Round(sec*1e3)) * 1e6
	return Sample{T: ns, V: val}, nil
}

// sortEntries orders entries by time (direction), then stream key; equal
// keys keep server order. The server sends each stream's values already
// in order, so this merges those runs rather than sorting.
func sortEntries(es []Entry, dir Direction) {
	back := dir == Backward
	less := func(a, b *Entry) bool {
		if a.Time != b.Time {
			if back {
				return a.Time > b.Time
			}
			return a.Time < b.Time
		}
		return a.Stream.Key < b.Stream.Key
	}
	// Find the runs; fall back to a stable sort if a run is out of order.
	var runs [][2]int
	start := 0
	for i := 1; i <= len(es); i++ {
		if i == len(es) || es[i].Stream != es[i-1].Stream {
			runs = append(runs, [2]int{start, i})
			start = i
			continue
		}
		if less(&es[i], &es[i-1]) {
			sort.SliceStable(es, func(i, j int) bool { return less(&es[i], &es[j]) })
			return
		}
	}
	if len(runs) <= 1 {
		return
	}
	// Merge pairs of runs until one is left (runs stay in order, so ties
	// keep server order).
	tmp := make([]Entry, len(es))
	src, dst := es, tmp
	for len(runs) > 1 {
		var next [][2]int
		for k := 0; k < len(runs); k += 2 {
			if k+1 == len(runs) {
				copy(dst[runs[k][0]:runs[k][1]], src[runs[k][0]:runs[k][1]])
				next = append(next, runs[k])
				continue
			}
			a, b := runs[k], runs[k+1]
			i, j, o := a[0], b[0], a[0]
			for i < a[1] && j < b[1] {
				if less(&src[j], &src[i]) {
					dst[o] = src[j]
					j++
				} else {
					dst[o] = src[i]
					i++
				}
				o++
			}
			o += copy(dst[o:], src[i:a[1]])
			copy(dst[o:], src[j:b[1]])
			next = append(next, [2]int{a[0], b[1]})
		}
		runs = next
		src, dst = dst, src
	}
	if &src[0] != &es[0] {
		copy(es, src)
	}
}

// formatSeconds renders a duration as float seconds for step/interval.
func formatSeconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}

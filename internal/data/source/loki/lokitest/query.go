package lokitest

import (
	"net/http"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
)

// hit is one selected entry.
type hit struct {
	st   *memStream
	i    int
	time int64
}

// selectLogs returns up to limit entries of q in [start, end) in the
// given direction, ordered by time, then stream key, then insertion.
// The caller holds s.mu (read).
func (s *Server) selectLogs(r *http.Request, q *logql.LogQuery, start, end int64, limit int, backward bool) []hit {
	var hits []hit
	for _, st := range s.streamsOf(r) {
		if !st.selectedBy(q) {
			continue
		}
		lo := sort.Search(len(st.times), func(i int) bool { return st.times[i] >= start })
		hi := sort.Search(len(st.times), func(i int) bool { return st.times[i] >= end })
		n := 0
		var je logql.JSONEntry // reused: Matches does not keep it
		match := func(i int) bool {
			je = logql.JSONEntry{Time: st.times[i], Line: st.lines[i], Labels: st.pairs}
			return q.Matches(&je)
		}
		if backward {
			// Newest first; within one timestamp, reverse insertion order.
			for i := hi - 1; i >= lo && n < limit; i-- {
				if match(i) {
					hits = append(hits, hit{st, i, st.times[i]})
					n++
				}
			}
		} else {
			for i := lo; i < hi && n < limit; i++ {
				if match(i) {
					hits = append(hits, hit{st, i, st.times[i]})
					n++
				}
			}
		}
	}
	sort.SliceStable(hits, func(i, j int) bool {
		a, b := hits[i], hits[j]
		if a.time != b.time {
			if backward {
				return a.time > b.time
			}
			return a.time < b.time
		}
		return a.st.key < b.st.key
	})
	if len(hits) > limit {
		hits = hits[:limit]
	}
	return hits
}

func (s *Server) queryFailure(w http.ResponseWriter) bool {
	if f, ok := s.takeFailure(&s.qryFails); ok {
		lokiError(w, f.status, f.body)
		return true
	}
	return false
}

func (s *Server) limitOf(w http.ResponseWriter, v string) (int, bool) {
	limit := min(100, s.opts.MaxEntriesLimitPerQuery)
	if v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			lokiError(w, http.StatusBadRequest, "invalid limit: "+strconv.Quote(v))
			return 0, false
		}
		if n <= 0 {
			lokiError(w, http.StatusBadRequest, "limit must be a positive value")
			return 0, false
		}
		limit = n
	}
	if limit > s.opts.MaxEntriesLimitPerQuery {
		lokiError(w, http.StatusBadRequest, "max entries limit per query exceeded, limit > max_entries_limit_per_query ("+
			strconv.Itoa(limit)+" > "+strconv.Itoa(s.opts.MaxEntriesLimitPerQuery)+")")
		return 0, false
	}
	return limit, true
}

func directionOf(w http.ResponseWriter, v string) (backward, ok bool) {
	switch v {
	case "", "backward", "BACKWARD":
		return true, true
	case "forward", "FORWARD":
		return false, true
	}
	lokiError(w, http.StatusBadRequest, "invalid direction "+strconv.Quote(v))
	return false, false
}

func (s *Server) handleQueryRange(w http.ResponseWriter, r *http.Request) {
	if s.queryFailure(w) || s.refused(w, r) {
		return
	}
	q := r.URL.Query()
	start, end, err := rangeOf(q, time.Hour)
	if err != nil {
		lokiError(w, http.StatusBadRequest, err.Error())
		return
	}
	if end < start {
		lokiError(w, http.StatusBadRequest, "end timestamp must not be before or equal to start time")
		return
	}
	limit, ok := s.limitOf(w, q.Get("limit"))
	if !ok {
		return
	}
	backward, ok := directionOf(w, q.Get("direction"))
	if !ok {
		return
	}
	lq, mq, err := parseQuery(q.Get("query"))
	if err != nil {
		lokiError(w, http.StatusBadRequest, err.Error())
		return
	}
	if lq != nil {
		s.mu.RLock()
		hits := s.selectLogs(r, lq, start, end, limit, backward)
		size := 256
		for _, h := range hits {
			size += len(h.st.lines[h.i]) + len(h.st.key)/4 + 32
		}
		b := successHead(size, "streams")
		b = appendStreams(b, hits)
		s.mu.RUnlock()
		writeJSON(w, successTail(b))
		return
	}
	step := defaultStep(start, end)
	if v := q.Get("step"); v != "" {
		step, err = parseStep(v)
		if err != nil {
			lokiError(w, http.StatusBadRequest, err.Error())
			return
		}
		if step <= 0 {
			lokiError(w, http.StatusBadRequest, "zero or negative query resolution step widths are not accepted. Try a positive integer")
			return
		}
	}
	if (end-start)/int64(step) > 11000 {
		lokiError(w, http.StatusBadRequest, "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)")
		return
	}
	ev, err := mq.NewRangeEvaluator(start, end, step)
	if err != nil {
		lokiError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.mu.RLock()
	s.feed(r, mq, ev)
	s.mu.RUnlock()
	writeSuccess(w, "matrix", appendMatrix(nil, ev.Result()))
}

// defaultStep is Loki's: the range over 250 points, at least 1s.
func defaultStep(start, end int64) time.Duration {
	sec := (end - start + int64(time.Second) - 1) / int64(time.Second) / 250
	return time.Duration(max(sec, 1)) * time.Second
}

func (s *Server) handleQuery(w http.ResponseWriter, r *http.Request) {
	if s.queryFailure(w) {
		return
	}
	q := r.URL.Query()
	t, err := parseTime(q.Get("time"), time.Now().UnixNano())
	if err != nil {
		lokiError(w, http.StatusBadRequest, err.Error())
		return
	}
	if _, ok := s.limitOf(w, q.Get("limit")); !ok {
		return
	}
	if _, ok := directionOf(w, q.Get("direction")); !ok {
		return
	}
	lq, mq, err := parseQuery(q.Get("query"))
	if err != nil {
		lokiError(w, http.StatusBadRequest, err.Error())
		return
	}
	if lq != nil {
		lokiError(w, http.StatusBadRequest, "log queries are not supported as an instant query type, please change your query to a range query type")
		return
	}
	ev := mq.NewInstantEvaluator(t)
	s.mu.RLock()
	s.feed(r, mq, ev)
	s.mu.RUnlock()
	writeSuccess(w, "vector", appendVector(nil, ev.Vector()))
}

// feed gives the evaluator the entries of the selected streams in its
// window, in time order. The caller holds s.mu (read).
func (s *Server) feed(r *http.Request, mq *logql.MetricQuery, ev *logql.Evaluator) {
	from, to := ev.Window()
	var hits []hit
	for _, st := range s.streamsOf(r) {
		if !st.selectedBy(mq.LogQuery()) {
			continue
		}
		lo := sort.Search(len(st.times), func(i int) bool { return st.times[i] > from })
		hi := sort.Search(len(st.times), func(i int) bool { return st.times[i] > to })
		for i := lo; i < hi; i++ {
			hits = append(hits, hit{st, i, st.times[i]})
		}
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].time < hits[j].time })
	for _, h := range hits {
		ev.Add(h.st.entry(h.i))
	}
}

func (s *Server) handleLabels(w http.ResponseWriter, r *http.Request) {
	s.labelList(w, r, "")
}

func (s *Server) handleLabelValues(w http.ResponseWriter, r *http.Request) {
	s.labelList(w, r, r.PathValue("name"))
}

// labelList answers labels (name == "") or label values, over streams
// with entries in the range (default: 6h) matching the optional query.
func (s *Server) labelList(w http.ResponseWriter, r *http.Request, name string) {
	if s.queryFailure(w) {
		return
	}
	q := r.URL.Query()
	start, end, err := rangeOf(q, 6*time.Hour)
	if err != nil {
		lokiError(w, http.StatusBadRequest, err.Error())
		return
	}
	var sel *logql.LogQuery
	if v := q.Get("query"); v != "" {
		lq, _, err := parseQuery(v)
		if err != nil || lq == nil {
			lokiError(w, http.StatusBadRequest, errText(err, "query must be a stream selector"))
			return
		}
		sel = lq
	}
	set := map[string]bool{}
	s.mu.RLock()
	for _, st := range s.streamsOf(r) {
		if sel != nil && !st.selectedBy(sel) {
			continue
		}
		if !st.hasEntries(start, end) {
			continue
		}
		for _, l := range st.labels {
			if name == "" {
				set[l.Name] = true
			} else if l.Name == name {
				set[l.Value] = true
			}
		}
	}
	s.mu.RUnlock()
	vals := make([]string, 0, len(set))
	for v := range set {
		vals = append(vals, v)
	}
	sort.Strings(vals)
	b := []byte(`{"status":"success","data":[`)
	for i, v := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, v)
	}
	b = append(b, "]}"...)
	writeJSON(w, b)
}

func errText(err error, def string) string {
	if err != nil {
		return err.Error()
	}
	return def
}

// hasEntries reports whether the stream has an entry in [start, end].
func (m *memStream) hasEntries(start, end int64) bool {
	i := sort.Search(len(m.times), func(i int) bool { return m.times[i] >= start })
	return i < len(m.times) && m.times[i] <= end
}

func (s *Server) handleSeries(w http.ResponseWriter, r *http.Request) {
	if s.queryFailure(w) {
		return
	}
	if err := r.ParseForm(); err != nil {
		lokiError(w, http.StatusBadRequest, err.Error())
		return
	}
	start, end, err := rangeOf(r.Form, 6*time.Hour)
	if err != nil {
		lokiError(w, http.StatusBadRequest, err.Error())
		return
	}
	matches := r.Form["match[]"]
	if len(matches) == 0 {
		matches = r.Form["match"]
	}
	if len(matches) == 0 {
		lokiError(w, http.StatusBadRequest, "0 matcher groups supplied")
		return
	}
	var sels []*logql.LogQuery
	for _, m := range matches {
		lq, _, err := parseQuery(m)
		if err != nil || lq == nil {
			lokiError(w, http.StatusBadRequest, errText(err, "match[] must be a stream selector"))
			return
		}
		sels = append(sels, lq)
	}
	b := []byte(`{"status":"success","data":[`)
	n := 0
	s.mu.RLock()
	for _, st := range s.streamsOf(r) {
		if !st.hasEntries(start, end) {
			continue
		}
		for _, sel := range sels {
			if st.selectedBy(sel) {
				if n > 0 {
					b = append(b, ',')
				}
				b = appendLabels(b, st.labels)
				n++
				break
			}
		}
	}
	s.mu.RUnlock()
	b = append(b, "]}"...)
	writeJSON(w, b)
}

func (s *Server) handleStats(w http.ResponseWriter, r *http.Request) {
	if s.queryFailure(w) {
		return
	}
	q := r.URL.Query()
	start, end, err := rangeOf(q, time.Hour)
	if err != nil {
		lokiError(w, http.StatusBadRequest, err.Error())
		return
	}
	lq, _, err := parseQuery(q.Get("query"))
	if err != nil || lq == nil {
		lokiError(w, http.StatusBadRequest, errText(err, "query must be a stream selector"))
		return
	}
	var streams, entries, bytes int
	s.mu.RLock()
	for _, st := range s.streamsOf(r) {
		if !st.selectedBy(lq) {
			continue
		}
		lo := sort.Search(len(st.times), func(i int) bool { return st.times[i] >= start })
		hi := sort.Search(len(st.times), func(i int) bool { return st.times[i] >= end })
		if hi <= lo {
			continue
		}
		streams++
		entries += hi - lo
		for i := lo; i < hi; i++ {
			bytes += len(st.lines[i])
		}
	}
	s.mu.RUnlock()
	// One "chunk" per 1000 entries of a stream, a rough model of Loki's.
	chunks := (entries + 999) / 1000
	b := []byte(`{"streams":`)
	b = strconv.AppendInt(b, int64(streams), 10)
	b = append(b, `,"chunks":`...)
	b = strconv.AppendInt(b, int64(chunks), 10)
	b = append(b, `,"entries":`...)
	b = strconv.AppendInt(b, int64(entries), 10)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, int64(bytes), 10)
	b = append(b, '}')
	writeJSON(w, b)
}

// statsJSON is the documented statistics object (zero counters).
const statsJSON = `{"ingester":{"compressedBytes":0,"decompressedBytes":0,"decompressedLines":0,"headChunkBytes":0,"headChunkLines":0,"totalBatches":0,"totalChunksMatched":0,"totalDuplicates":0,"totalLinesSent":0,"totalReached":0},` +
	`"store":{"compressedBytes":0,"decompressedBytes":0,"decompressedLines":0,"chunksDownloadTime":0,"totalChunksRef":0,"totalChunksDownloaded":0,"totalDuplicates":0},` +
	`"summary":{"bytesProcessedPerSecond":0,"execTime":0,"linesProcessedPerSecond":0,"queueTime":0,"totalBytesProcessed":0,"totalLinesProcessed":0}}`

func writeSuccess(w http.ResponseWriter, resultType string, result []byte) {
	b := successHead(len(result), resultType)
	b = append(b, result...)
	writeJSON(w, successTail(b))
}

// successHead starts {"status":"success","data":{"resultType":..,"result":
// with room for size more bytes; successTail closes it with the stats.
func successHead(size int, resultType string) []byte {
	b := make([]byte, 0, size+len(statsJSON)+96)
	b = append(b, `{"status":"success","data":{"resultType":"`...)
	b = append(b, resultType...)
	return append(b, `","result":`...)
}

func successTail(b []byte) []byte {
	b = append(b, `,"stats":`...)
	b = append(b, statsJSON...)
	return append(b, "}}"...)
}

func writeJSON(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
}

// appendStreams renders hits grouped by stream, each stream's values in
// hit order: [{"stream":{...},"values":[["ns","line"],...]},...].
func appendStreams(b []byte, hits []hit) []byte {
	order := []*memStream{}
	groups := map[*memStream][]hit{}
	for _, h := range hits {
		if _, ok := groups[h.st]; !ok {
			order = append(order, h.st)
		}
		groups[h.st] = append(groups[h.st], h)
	}
	b = append(b, '[')
	for i, st := range order {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"stream":`...)
		b = appendLabels(b, st.labels)
		b = append(b, `,"values":[`...)
		for j, h := range groups[st] {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, `["`...)
			b = strconv.AppendInt(b, h.time, 10)
			b = append(b, `",`...)
			b = appendStringBytes(b, st.lines[h.i])
			if st.meta != nil && h.i < len(st.meta) && len(st.meta[h.i]) > 0 {
				b = append(b, ',')
				b = appendLabels(b, st.meta[h.i])
			}
			b = append(b, ']')
		}
		b = append(b, "]}"...)
	}
	return append(b, ']')
}

func appendMatrix(b []byte, m logql.Matrix) []byte {
	b = append(b, '[')
	for i, se := range m {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"metric":`...)
		b = appendLogqlLabels(b, se.Labels)
		b = append(b, `,"values":[`...)
		for j, p := range se.Points {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendSample(b, p.T, p.V)
		}
		b = append(b, "]}"...)
	}
	return append(b, ']')
}

func appendVector(b []byte, v logql.Vector) []byte {
	b = append(b, '[')
	for i, smp := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"metric":`...)
		b = appendLogqlLabels(b, smp.Labels)
		b = append(b, `,"value":`...)
		b = appendSample(b, smp.T, smp.V)
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendLogqlLabels(b []byte, ls logql.Labels) []byte {
	b = append(b, '{')
	for i, l := range ls {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, l.Name)
		b = append(b, ':')
		b = appendString(b, l.Value)
	}
	return append(b, '}')
}

// appendSample renders [<seconds>, "<value>"] as Prometheus does.
func appendSample(b []byte, t int64, v float64) []byte {
	b = append(b, '[')
	b = strconv.AppendFloat(b, float64(t)/1e9, 'f', -1, 64)
	b = append(b, `,"`...)
	b = strconv.AppendFloat(b, v, 'f', -1, 64)
	return append(b, `"]`...)
}

func appendLabels(b []byte, ls data.Labels) []byte {
	b = append(b, '{')
	for i, l := range ls {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, l.Name)
		b = append(b, ':')
		b = appendString(b, l.Value)
	}
	return append(b, '}')
}

func appendString(b []byte, s string) []byte { return appendStringBytes(b, []byte(s)) }

// appendStringBytes writes s as a JSON string; invalid UTF-8 becomes
// U+FFFD, as encoding/json does.
func appendStringBytes(b []byte, s []byte) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

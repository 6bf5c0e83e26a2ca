// Package lokitest is an in-memory server for Loki's HTTP API, for tests:
// push (JSON and protobuf+snappy), query_range, query, labels, label
// values, series, index/stats, the tail websocket and the ruler's rule
// groups and alerts (ruler.go), with the response
// shapes of Loki's API documentation (checked against the documented
// examples in testdata/), max_entries_limit_per_query and Loki's error
// bodies. It can be told to fail pushes and queries, and records requests.
// It implements the documented API; it is not Loki.
package lokitest

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/snappy"
	"github.com/valyala/fastjson"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
	"github.com/audittui/audittui/internal/data/source/loki"
)

// Options configure a Server. The zero value is a single-tenant server
// without auth and Loki's default limits.
type Options struct {
	// MaxEntriesLimitPerQuery is Loki's max_entries_limit_per_query
	// (default 5000): a larger limit is answered with 400.
	MaxEntriesLimitPerQuery int
	// Username/Password require HTTP basic auth; BearerToken requires
	// "Authorization: Bearer". Failures answer 401.
	Username, Password string
	BearerToken        string
	// RequireTenant answers 401 "no org id" when X-Scope-OrgID is missing
	// (Loki with auth_enabled: true).
	RequireTenant bool
	// TLS starts the server with TLS (httptest's certificate unless
	// TLSConfig is set on the returned server before use; see NewUnstarted).
	TLS bool
	// TailMaxDuration closes tail connections after this long with 1011
	// "reached tail max duration limit", as Loki does (0 = never).
	TailMaxDuration time.Duration
	// TailBuffer is how many messages may queue per tail connection
	// before entries are dropped and reported in dropped_entries
	// (default 1024).
	TailBuffer int
	// Now is the ruler's clock (GET /prometheus/api/v1/alerts evaluates
	// the alerting rules at Now); nil = time.Now.
	Now func() time.Time
}

// Request is a recorded HTTP request.
type Request struct {
	Method, Path string
	Query        url.Values
	Header       http.Header
	// Entries is the number of entries of a push request (0 otherwise).
	Entries int
}

// Server is an in-memory Loki.
type Server struct {
	*httptest.Server
	opts Options

	mu        sync.RWMutex
	tenants   map[string]*tenantStore
	requests  []Request
	pushFails []failure
	qryFails  []failure
	refusals  []refusal // RefuseQueries
	tails     map[*tailConn]struct{}
	closing   bool
	hold      chan struct{}          // non-nil while HoldTails is in effect
	rulers    map[string]*rulerStore // by tenant (ruler.go)
}

type failure struct {
	status int
	body   string
}

type tenantStore struct {
	streams map[string]*memStream
}

type memStream struct {
	labels data.Labels
	pairs  [][2]string // labels as logql.JSONEntry wants them
	key    string
	times  []int64
	lines  [][]byte
	meta   []data.Labels
}

// New starts a server.
func New(opts Options) *Server {
	s := NewUnstarted(opts)
	if opts.TLS {
		s.StartTLS()
	} else {
		s.Start()
	}
	return s
}

// NewUnstarted returns a server that is not yet listening (set
// s.Server.TLS, then call Start or StartTLS).
func NewUnstarted(opts Options) *Server {
	if opts.MaxEntriesLimitPerQuery <= 0 {
		opts.MaxEntriesLimitPerQuery = 5000
	}
	if opts.TailBuffer <= 0 {
		opts.TailBuffer = 1024
	}
	s := &Server{opts: opts, tenants: map[string]*tenantStore{}, tails: map[*tailConn]struct{}{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /loki/api/v1/push", s.handlePush)
	mux.HandleFunc("POST /insert/loki/api/v1/push", s.handlePush) // VictoriaLogs' path
	mux.HandleFunc("GET /loki/api/v1/query_range", s.handleQueryRange)
	mux.HandleFunc("GET /loki/api/v1/query", s.handleQuery)
	mux.HandleFunc("GET /loki/api/v1/labels", s.handleLabels)
	mux.HandleFunc("GET /loki/api/v1/label/{name}/values", s.handleLabelValues)
	mux.HandleFunc("GET /loki/api/v1/series", s.handleSeries)
	mux.HandleFunc("POST /loki/api/v1/series", s.handleSeries)
	mux.HandleFunc("GET /loki/api/v1/index/stats", s.handleStats)
	mux.HandleFunc("GET /loki/api/v1/tail", s.handleTail)
	mux.HandleFunc("GET /loki/api/v1/rules", s.handleListRules)
	mux.HandleFunc("GET /loki/api/v1/rules/{namespace}", s.handleNamespaceRules)
	mux.HandleFunc("GET /loki/api/v1/rules/{namespace}/{group}", s.handleGetGroup)
	mux.HandleFunc("POST /loki/api/v1/rules/{namespace}", s.handleSetGroup)
	mux.HandleFunc("DELETE /loki/api/v1/rules/{namespace}/{group}", s.handleDeleteGroup)
	mux.HandleFunc("DELETE /loki/api/v1/rules/{namespace}", s.handleDeleteNamespace)
	mux.HandleFunc("GET /prometheus/api/v1/alerts", s.handleAlerts)
	mux.HandleFunc("GET /ready", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ready\n") })
	s.Server = httptest.NewUnstartedServer(s.wrap(mux))
	return s
}

// Close closes tail connections, then the server.
func (s *Server) Close() {
	s.mu.Lock()
	s.closing = true
	if s.hold != nil {
		close(s.hold)
		s.hold = nil
	}
	for t := range s.tails {
		t.stop()
	}
	s.mu.Unlock()
	s.Server.Close()
}

// Requests returns the recorded requests so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// FailPushes makes the next n pushes fail with status and body (for
// example 429 "Ingestion rate limit exceeded", 400 "entry too far behind",
// 500 "internal error").
func (s *Server) FailPushes(n, status int, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.pushFails = append(s.pushFails, failure{status, body})
	}
}

// FailQueries makes the next n query requests (query_range, query, labels,
// series, stats) fail with status and body.
func (s *Server) FailQueries(n, status int, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.qryFails = append(s.qryFails, failure{status, body})
	}
}

// refusal answers the query_range requests whose query contains match:
// with status and body after delay (status 0: the answer after delay).
type refusal struct {
	match  string
	status int
	body   string
	delay  time.Duration
}

// RefuseQueries makes every query_range request whose LogQL contains
// match fail with status and body, as Loki refuses a query it will not
// run (400 "max entries limit per query exceeded", 400 "the query time
// range exceeds the limit", 504 "timeout"), until Close: other queries
// (a source reading its events) are answered as usual.
func (s *Server) RefuseQueries(match string, status int, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refusals = append(s.refusals, refusal{match: match, status: status, body: body})
}

// DelayQueries makes every query_range request whose LogQL contains match
// wait d (or until the client gives up) before it is answered: a query
// that outlasts the client's timeout.
func (s *Server) DelayQueries(match string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refusals = append(s.refusals, refusal{match: match, delay: d})
}

// refused applies RefuseQueries and DelayQueries to a query_range
// request: true when it was answered.
func (s *Server) refused(w http.ResponseWriter, r *http.Request) bool {
	q := r.URL.Query().Get("query")
	s.mu.Lock()
	var hit []refusal
	for _, f := range s.refusals {
		if strings.Contains(q, f.match) {
			hit = append(hit, f)
		}
	}
	s.mu.Unlock()
	for _, f := range hit {
		if f.delay > 0 {
			select {
			case <-time.After(f.delay):
			case <-r.Context().Done():
				return true
			}
		}
		if f.status != 0 {
			lokiError(w, f.status, f.body)
			return true
		}
	}
	return false
}

func (s *Server) takeFailure(list *[]failure) (failure, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(*list) == 0 {
		return failure{}, false
	}
	f := (*list)[0]
	*list = (*list)[1:]
	return f, true
}

// wrap records requests and checks auth and tenant.
func (s *Server) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone()})
		// The handler finds its own record by this (another request
		// may be recorded while it reads its body).
		r = r.WithContext(context.WithValue(r.Context(), requestKey{}, len(s.requests)-1))
		s.mu.Unlock()
		if s.opts.Username != "" || s.opts.Password != "" {
			u, p, ok := r.BasicAuth()
			if !ok || u != s.opts.Username || p != s.opts.Password {
				w.Header().Set("WWW-Authenticate", `Basic realm="loki"`)
				lokiError(w, http.StatusUnauthorized, "invalid credentials")
				return
			}
		}
		if s.opts.BearerToken != "" && r.Header.Get("Authorization") != "Bearer "+s.opts.BearerToken {
			lokiError(w, http.StatusUnauthorized, "invalid bearer token")
			return
		}
		if s.opts.RequireTenant && r.Header.Get("X-Scope-OrgID") == "" && r.URL.Path != "/ready" {
			lokiError(w, http.StatusUnauthorized, "no org id")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// lokiError answers as Loki does: the status and a plain-text message.
func lokiError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	io.WriteString(w, msg+"\n")
}

// tenantsOf returns the tenant IDs of a request ("fake" without a header,
// as Loki with auth disabled).
func tenantsOf(r *http.Request) []string {
	h := r.Header.Get("X-Scope-OrgID")
	if h == "" {
		return []string{"fake"}
	}
	return strings.Split(h, "|")
}

// Push stores entries directly (test setup), as a push by tenant would.
func (s *Server) Push(tenant string, req loki.PushRequest) {
	if tenant == "" {
		tenant = "fake"
	}
	s.store(tenant, req)
}

func (s *Server) store(tenant string, req loki.PushRequest) {
	s.mu.Lock()
	ts := s.tenants[tenant]
	if ts == nil {
		ts = &tenantStore{streams: map[string]*memStream{}}
		s.tenants[tenant] = ts
	}
	var tails []*tailConn
	for t := range s.tails {
		if t.tenantOK(tenant) {
			tails = append(tails, t)
		}
	}
	type added struct {
		st *memStream
		e  loki.PushEntry
	}
	// Entries are matched against tail queries after the lock is released.
	var news []added
	for _, ps := range req.Streams {
		ls := sortedLabels(ps.Labels)
		key := loki.FormatLabels(ls)
		st := ts.streams[key]
		if st == nil {
			st = &memStream{labels: ls, key: key}
			for _, l := range ls {
				st.pairs = append(st.pairs, [2]string{l.Name, l.Value})
			}
			ts.streams[key] = st
		}
		for _, e := range ps.Entries {
			if st.add(e) && len(tails) > 0 {
				news = append(news, added{st, e})
			}
		}
	}
	s.mu.Unlock()
	for _, t := range tails {
		var msg tailMsg
		for _, a := range news {
			if t.q.Matches(&logql.JSONEntry{Time: a.e.Time, Line: a.e.Line, Labels: a.st.pairs}) {
				msg.add(a.st, a.e.Time, a.e.Line)
			}
		}
		if len(msg.entries) > 0 {
			t.offer(msg)
		}
	}
}

func sortedLabels(ls data.Labels) data.Labels {
	out := append(data.Labels(nil), ls...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// add inserts e in time order (after entries with the same time); an exact
// duplicate (same time and line) is ignored, as Loki does.
func (m *memStream) add(e loki.PushEntry) bool {
	i := sort.Search(len(m.times), func(i int) bool { return m.times[i] > e.Time })
	for j := i - 1; j >= 0 && m.times[j] == e.Time; j-- {
		if string(m.lines[j]) == string(e.Line) {
			return false
		}
	}
	m.times = append(m.times, 0)
	copy(m.times[i+1:], m.times[i:])
	m.times[i] = e.Time
	m.lines = append(m.lines, nil)
	copy(m.lines[i+1:], m.lines[i:])
	m.lines[i] = e.Line
	if e.Metadata != nil || m.meta != nil {
		for len(m.meta) < len(m.times)-1 {
			m.meta = append(m.meta, nil)
		}
		m.meta = append(m.meta, nil)
		copy(m.meta[i+1:], m.meta[i:])
		m.meta[i] = e.Metadata
	}
	return true
}

// Count returns how many entries the server holds for tenant ("" = fake).
func (s *Server) Count(tenant string) int {
	if tenant == "" {
		tenant = "fake"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	if ts := s.tenants[tenant]; ts != nil {
		for _, st := range ts.streams {
			n += len(st.times)
		}
	}
	return n
}

// Stored is one stored entry, for assertions.
type Stored struct {
	Labels   data.Labels
	Time     int64
	Line     string
	Metadata data.Labels
}

// Entries returns every entry of tenant ("" = fake), ordered by time then
// stream labels.
func (s *Server) Entries(tenant string) []Stored {
	if tenant == "" {
		tenant = "fake"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Stored
	if ts := s.tenants[tenant]; ts != nil {
		for _, st := range ts.streams {
			for i := range st.times {
				e := Stored{Labels: st.labels, Time: st.times[i], Line: string(st.lines[i])}
				if st.meta != nil && i < len(st.meta) {
					e.Metadata = st.meta[i]
				}
				out = append(out, e)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Time != out[j].Time {
			return out[i].Time < out[j].Time
		}
		return loki.FormatLabels(out[i].Labels) < loki.FormatLabels(out[j].Labels)
	})
	return out
}

// requestKey is the context key of a request's index in Server.requests.
type requestKey struct{}

func (s *Server) handlePush(w http.ResponseWriter, r *http.Request) {
	if f, ok := s.takeFailure(&s.pushFails); ok {
		lokiError(w, f.status, f.body)
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			lokiError(w, http.StatusBadRequest, "gzip: "+err.Error())
			return
		}
		body = zr
	}
	raw, err := io.ReadAll(io.LimitReader(body, 64<<20))
	if err != nil {
		lokiError(w, http.StatusBadRequest, err.Error())
		return
	}
	var req loki.PushRequest
	ct := r.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "application/json"):
		req, err = decodePushJSON(raw)
	case ct == "" || strings.HasPrefix(ct, "application/x-protobuf"):
		var pb []byte
		pb, err = snappy.Decode(nil, raw)
		if err == nil {
			req, err = loki.DecodePushProtobuf(pb)
		} else {
			err = fmt.Errorf("snappy: %w", err)
		}
	default:
		err = fmt.Errorf("unsupported Content-Type %q", ct)
	}
	if err != nil {
		lokiError(w, http.StatusBadRequest, err.Error())
		return
	}
	n := 0
	for _, st := range req.Streams {
		if len(st.Labels) == 0 {
			lokiError(w, http.StatusBadRequest, "error at least one label pair is required per stream")
			return
		}
		n += len(st.Entries)
	}
	if i, ok := r.Context().Value(requestKey{}).(int); ok {
		s.mu.Lock()
		s.requests[i].Entries = n
		s.mu.Unlock()
	}
	s.store(tenantsOf(r)[0], req)
	w.WriteHeader(http.StatusNoContent)
}

// decodePushJSON reads the documented JSON push body.
func decodePushJSON(b []byte) (loki.PushRequest, error) {
	var req loki.PushRequest
	v, err := fastjson.ParseBytes(b)
	if err != nil {
		return req, fmt.Errorf("loghttp.PushRequest: %w", err)
	}
	for i, st := range v.GetArray("streams") {
		var ps loki.PushStream
		o, err := st.Get("stream").Object()
		if err != nil {
			return req, fmt.Errorf("streams[%d].stream: %w", i, err)
		}
		o.Visit(func(k []byte, x *fastjson.Value) {
			ps.Labels = append(ps.Labels, data.Label{Name: string(k), Value: string(x.GetStringBytes())})
		})
		for j, val := range st.GetArray("values") {
			a, err := val.Array()
			if err != nil || len(a) < 2 || len(a) > 3 {
				return req, fmt.Errorf("streams[%d].values[%d]: want [\"<ns>\", \"<line>\"(, {metadata})]", i, j)
			}
			if a[0].Type() != fastjson.TypeString {
				return req, fmt.Errorf("streams[%d].values[%d]: timestamp must be a string of nanoseconds, not %s", i, j, a[0].Type())
			}
			ts, err := strconv.ParseInt(string(a[0].GetStringBytes()), 10, 64)
			if err != nil {
				return req, fmt.Errorf("streams[%d].values[%d]: timestamp: %w", i, j, err)
			}
			line, err := a[1].StringBytes()
			if err != nil {
				return req, fmt.Errorf("streams[%d].values[%d]: line: %w", i, j, err)
			}
			e := loki.PushEntry{Time: ts, Line: append([]byte(nil), line...)}
			if len(a) == 3 {
				mo, err := a[2].Object()
				if err != nil {
					return req, fmt.Errorf("streams[%d].values[%d]: structured metadata: %w", i, j, err)
				}
				mo.Visit(func(k []byte, x *fastjson.Value) {
					e.Metadata = append(e.Metadata, data.Label{Name: string(k), Value: string(x.GetStringBytes())})
				})
			}
			ps.Entries = append(ps.Entries, e)
		}
		req.Streams = append(req.Streams, ps)
	}
	return req, nil
}

// parseTime reads a timestamp as Loki does: integer = Unix nanoseconds,
// float = Unix seconds, else RFC3339(Nano).
func parseTime(s string, def int64) (int64, error) {
	if s == "" {
		return def, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return int64(math.Round(f * 1e9)), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, fmt.Errorf("cannot parse %q to a valid timestamp", s)
	}
	return t.UnixNano(), nil
}

// parseStep reads a step/interval: a duration or float seconds.
func parseStep(s string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return time.Duration(f * float64(time.Second)), nil
	}
	d, err := parseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("cannot parse %q to a valid duration", s)
	}
	return d, nil
}

// rangeOf reads start/end/since with Loki's defaults (def before end).
func rangeOf(q url.Values, def time.Duration) (start, end int64, err error) {
	now := time.Now().UnixNano()
	end, err = parseTime(q.Get("end"), now)
	if err != nil {
		return 0, 0, err
	}
	if since := q.Get("since"); since != "" {
		d, err := parseDuration(since)
		if err != nil {
			return 0, 0, fmt.Errorf("cannot parse %q to a valid duration", since)
		}
		def = d
	}
	start, err = parseTime(q.Get("start"), end-int64(def))
	return start, end, err
}

// streamsOf returns the streams of the request's tenants, sorted by key.
// The caller holds s.mu (read).
func (s *Server) streamsOf(r *http.Request) []*memStream {
	var out []*memStream
	for _, t := range tenantsOf(r) {
		if ts := s.tenants[t]; ts != nil {
			for _, st := range ts.streams {
				out = append(out, st)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out
}

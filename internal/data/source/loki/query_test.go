package loki_test

import (
	"context"
	"encoding/pem"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/loki"
	"github.com/audittui/audittui/internal/data/source/loki/lokitest"
)

type got struct {
	Key  string
	Time int64
	Line string
}

func collect(t *testing.T, it *loki.LogIter) []got {
	t.Helper()
	var out []got
	for {
		pg, err := it.Next(context.Background())
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("next: %v", err)
		}
		for _, e := range pg.Entries {
			out = append(out, got{e.Stream.Key, e.Time, string(e.Line)})
		}
	}
}

func expected(s *lokitest.Server, from, to int64, dir loki.Direction) []got {
	var out []got
	for _, e := range s.Entries("") {
		if e.Time >= from && e.Time < to {
			out = append(out, got{loki.FormatLabels(e.Labels), e.Time, e.Line})
		}
	}
	if dir == loki.Backward {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
		sort.SliceStable(out, func(i, j int) bool {
			if out[i].Time != out[j].Time {
				return out[i].Time > out[j].Time
			}
			return out[i].Key < out[j].Key
		})
	}
	return out
}

// seed stores n entries per stream in 3 streams; groups of `same`
// consecutive entries share a timestamp (and the streams share them too).
func seed(s *lokitest.Server, base int64, n, same int) {
	var req loki.PushRequest
	for _, app := range []string{"a", "b", "c"} {
		st := loki.PushStream{Labels: data.Labels{{Name: "job", Value: "audit"}, {Name: "app", Value: app}}}
		for i := range n {
			st.Entries = append(st.Entries, loki.PushEntry{
				Time: base + int64(i/same)*int64(time.Millisecond),
				Line: []byte(app + " entry " + strconv.Itoa(i)),
			})
		}
		req.Streams = append(req.Streams, st)
	}
	s.Push("", req)
}

func newClient(t *testing.T, s *lokitest.Server, cfg loki.Config) *loki.Client {
	t.Helper()
	cfg.Addr = s.URL
	cfg.Retry = loki.Backoff{Min: time.Millisecond, Max: 5 * time.Millisecond, MaxRetries: 3}
	c, err := loki.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func sameList(t *testing.T, what string, a, b []got) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%s: %d entries, want %d", what, len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("%s: entry %d = %+v, want %+v", what, i, a[i], b[i])
		}
	}
}

func TestPaginationEqualTimestampsAtPageBoundaries(t *testing.T) {
	s := lokitest.New(lokitest.Options{})
	defer s.Close()
	base := time.Now().Add(-time.Hour).UnixNano()
	seed(s, base, 700, 7) // 2100 entries, 21 per timestamp across streams
	from, to := base, base+int64(time.Hour)
	c := newClient(t, s, loki.Config{})
	for _, dir := range []loki.Direction{loki.Forward, loki.Backward} {
		for _, batch := range []int{10, 13, 21, 50, 1000} {
			t.Run(string(dir)+"/"+strconv.Itoa(batch), func(t *testing.T) {
				it, err := c.Logs(context.Background(), loki.LogsRequest{Query: `{job="audit"}`, From: from, To: to, Direction: dir, BatchSize: batch})
				if err != nil {
					t.Fatal(err)
				}
				sameList(t, "paged", collect(t, it), expected(s, from, to, dir))
			})
		}
	}
	// Many pages were really requested.
	pages := 0
	for _, r := range s.Requests() {
		if r.Path == "/loki/api/v1/query_range" {
			pages++
		}
	}
	if pages < 200 {
		t.Errorf("only %d query_range requests", pages)
	}
}

func TestPaginationGrowsPastLargeEqualTimestampGroup(t *testing.T) {
	s := lokitest.New(lokitest.Options{MaxEntriesLimitPerQuery: 200})
	defer s.Close()
	base := time.Now().Add(-time.Hour).UnixNano()
	seed(s, base, 100, 40) // 120 entries per timestamp across the 3 streams
	c := newClient(t, s, loki.Config{})
	req := loki.LogsRequest{Query: `{job="audit"}`, From: base, To: base + int64(time.Hour), BatchSize: 25, MaxBatch: 200}
	it, err := c.Logs(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	sameList(t, "grown", collect(t, it), expected(s, req.From, req.To, loki.Forward))

	// A page cannot grow past MaxBatch: a clear error, nothing skipped.
	req.MaxBatch = 100
	it, err = c.Logs(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	for {
		_, err = it.Next(context.Background())
		if err != nil {
			break
		}
	}
	if errors.Is(err, io.EOF) || !strings.Contains(err.Error(), "share timestamp") {
		t.Fatalf("err = %v, want the equal-timestamp error", err)
	}
}

func TestParallelSplitSameAsOneRange(t *testing.T) {
	s := lokitest.New(lokitest.Options{})
	defer s.Close()
	base := time.Now().Add(-2 * time.Hour).UnixNano()
	seed(s, base, 3000, 3) // 1000 ms of timestamps
	from, to := base-int64(time.Second), base+int64(2*time.Second)
	c := newClient(t, s, loki.Config{})
	for _, dir := range []loki.Direction{loki.Forward, loki.Backward} {
		one, err := c.Logs(context.Background(), loki.LogsRequest{Query: `{job="audit"} |= "entry"`, From: from, To: to, Direction: dir, BatchSize: 500})
		if err != nil {
			t.Fatal(err)
		}
		want := collect(t, one)
		if len(want) != 9000 {
			t.Fatalf("one range: %d entries", len(want))
		}
		for _, d := range []time.Duration{37 * time.Millisecond, 400 * time.Millisecond, time.Second} {
			par, err := c.Logs(context.Background(), loki.LogsRequest{Query: `{job="audit"} |= "entry"`, From: from, To: to, Direction: dir, BatchSize: 100,
				ParallelDuration: d, ParallelMaxWorkers: 4})
			if err != nil {
				t.Fatal(err)
			}
			sameList(t, string(dir)+" split "+d.String(), collect(t, par), want)
		}
	}
}

func TestLogsLimit(t *testing.T) {
	s := lokitest.New(lokitest.Options{})
	defer s.Close()
	base := time.Now().Add(-time.Hour).UnixNano()
	seed(s, base, 400, 1)
	c := newClient(t, s, loki.Config{})
	all := expected(s, base, base+int64(time.Hour), loki.Forward)
	for _, tc := range []struct {
		limit, batch int
		par          time.Duration
	}{{1, 10, 0}, {25, 10, 0}, {1000, 100, 0}, {37, 10, 50 * time.Millisecond}, {5000, 100, 0}} {
		it, err := c.Logs(context.Background(), loki.LogsRequest{Query: `{job="audit"}`, From: base, To: base + int64(time.Hour), Limit: tc.limit, BatchSize: tc.batch,
			ParallelDuration: tc.par, ParallelMaxWorkers: 3})
		if err != nil {
			t.Fatal(err)
		}
		want := all[:min(tc.limit, len(all))]
		sameList(t, "limit "+strconv.Itoa(tc.limit), collect(t, it), want)
	}
}

func TestLogsRejectsBadRequests(t *testing.T) {
	c, _ := loki.NewClient(loki.Config{Addr: "http://127.0.0.1:1"})
	for name, r := range map[string]loki.LogsRequest{
		"no query":  {From: 1, To: 2},
		"no range":  {Query: `{a="b"}`},
		"inverted":  {Query: `{a="b"}`, From: 5, To: 2},
		"direction": {Query: `{a="b"}`, From: 1, To: 2, Direction: "sideways"},
	} {
		if _, err := c.Logs(context.Background(), r); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestMetricQueries(t *testing.T) {
	s := lokitest.New(lokitest.Options{})
	defer s.Close()
	now := time.Now().Truncate(time.Second)
	base := now.Add(-10 * time.Minute).UnixNano()
	seed(s, base, 60, 1) // 60 entries per stream, one per ms
	c := newClient(t, s, loki.Config{})
	res, err := c.Query(context.Background(), loki.InstantRequest{Query: `sum by (app) (count_over_time({job="audit"}[1h]))`, Time: now.UnixNano()})
	if err != nil {
		t.Fatal(err)
	}
	if res.Type != loki.ResultVector || len(res.Series) != 3 {
		t.Fatalf("result = %+v", res)
	}
	for _, se := range res.Series {
		if v, _ := se.Metric.Get("app"); v == "" || se.Samples[0].V != 60 || se.Samples[0].T != now.UnixNano() {
			t.Errorf("series %v = %+v", se.Metric, se.Samples)
		}
	}
	res, err = c.QueryRange(context.Background(), loki.QueryRangeRequest{Query: `sum(count_over_time({job="audit"}[1m]))`,
		Start: now.Add(-15 * time.Minute).UnixNano(), End: now.UnixNano(), Step: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if res.Type != loki.ResultMatrix || len(res.Series) != 1 {
		t.Fatalf("matrix = %+v", res)
	}
	var total float64
	for _, smp := range res.Series[0].Samples {
		total += smp.V
	}
	if total != 180 {
		t.Errorf("sum over steps = %v, want 180", total)
	}
	// A metric query is refused as a log source, with a clear message.
	it, err := c.Logs(context.Background(), loki.LogsRequest{Query: `count_over_time({job="audit"}[1m])`, From: base, To: now.UnixNano()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = it.Next(context.Background())
	if err == nil || !strings.Contains(err.Error(), "metric query") {
		t.Errorf("err = %v", err)
	}
}

func TestLabelsSeriesStats(t *testing.T) {
	s := lokitest.New(lokitest.Options{})
	defer s.Close()
	base := time.Now().Add(-time.Hour).UnixNano()
	seed(s, base, 10, 1)
	c := newClient(t, s, loki.Config{})
	ctx := context.Background()
	end := time.Now().UnixNano()
	names, err := c.Labels(ctx, "", base, end)
	if err != nil || strings.Join(names, ",") != "app,job" {
		t.Errorf("labels = %v, %v", names, err)
	}
	vals, err := c.LabelValues(ctx, "app", `{job="audit"}`, base, end)
	if err != nil || strings.Join(vals, ",") != "a,b,c" {
		t.Errorf("values = %v, %v", vals, err)
	}
	if _, err := c.LabelValues(ctx, "bad name", "", 0, 0); err == nil {
		t.Error("bad label name accepted")
	}
	ser, err := c.Series(ctx, []string{`{app="a"}`, `{app="c"}`}, base, end)
	if err != nil || len(ser) != 2 {
		t.Fatalf("series = %v, %v", ser, err)
	}
	if v, _ := ser[1].Get("app"); v != "c" {
		t.Errorf("series[1] = %v", ser[1])
	}
	st, err := c.Stats(ctx, `{job="audit"}`, base, end)
	if err != nil {
		t.Fatal(err)
	}
	if st.Streams != 3 || st.Entries != 30 || st.Bytes == 0 {
		t.Errorf("stats = %+v", st)
	}
	if !strings.Contains(st.String(), "in 3 streams") {
		t.Errorf("stats text = %s", st)
	}
}

func TestLokiErrorsSurfaceClearly(t *testing.T) {
	s := lokitest.New(lokitest.Options{MaxEntriesLimitPerQuery: 100})
	defer s.Close()
	c := newClient(t, s, loki.Config{})
	ctx := context.Background()
	now := time.Now().UnixNano()

	_, err := c.QueryRange(ctx, loki.QueryRangeRequest{Query: `{job="audit"`, Start: now - 1e9, End: now})
	var he *loki.HTTPError
	if !errors.As(err, &he) || he.Status != 400 || !strings.Contains(err.Error(), "parse error at line 1") {
		t.Errorf("parse error: %v", err)
	}
	it, _ := c.Logs(ctx, loki.LogsRequest{Query: `{job="audit"}`, From: now - 1e9, To: now, BatchSize: 500})
	_, err = it.Next(ctx)
	if err == nil || !strings.Contains(err.Error(), "max_entries_limit_per_query (500 > 100)") {
		t.Errorf("limit error: %v", err)
	}

	// 429 and 5xx are retried; the query then succeeds.
	s.FailQueries(2, 429, "too many outstanding requests")
	if _, err := c.Labels(ctx, "", 0, 0); err != nil {
		t.Errorf("after 2 retryable failures: %v", err)
	}
	// Retries run out: the last error is reported.
	s.FailQueries(10, 503, "service unavailable")
	_, err = c.Labels(ctx, "", 0, 0)
	if !errors.As(err, &he) || he.Status != 503 || !strings.Contains(err.Error(), "service unavailable") {
		t.Errorf("503: %v", err)
	}
	// Auth failures name the settings to check.
	sa := lokitest.New(lokitest.Options{BearerToken: "right"})
	defer sa.Close()
	ca := newClient(t, sa, loki.Config{BearerToken: "wrong"})
	_, err = ca.Labels(ctx, "", 0, 0)
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "LOKI_BEARER_TOKEN") {
		t.Errorf("auth: %v", err)
	}
}

func TestQueriesSendAuthAndTenant(t *testing.T) {
	s := lokitest.New(lokitest.Options{Username: "alice", Password: "s3cret", RequireTenant: true})
	defer s.Close()
	now := time.Now().UnixNano()
	s.Push("team-a", loki.PushRequest{Streams: []loki.PushStream{{Labels: data.Labels{{Name: "job", Value: "audit"}}, Entries: []loki.PushEntry{{Time: now - 1000, Line: []byte("x")}}}}})
	c := newClient(t, s, loki.Config{Username: "alice", Password: "s3cret", TenantID: "team-a", UserAgent: "audittui/test"})
	it, err := c.Logs(context.Background(), loki.LogsRequest{Query: `{job="audit"}`, From: now - int64(time.Minute), To: now})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(collect(t, it)); n != 1 {
		t.Errorf("entries = %d", n)
	}
	tl, err := c.Tail(context.Background(), loki.TailRequest{Query: `{job="audit"}`, Start: now - int64(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	tl.Close()
	for _, r := range s.Requests() {
		if r.Header.Get("X-Scope-OrgID") != "team-a" || r.Header.Get("User-Agent") != "audittui/test" || !strings.HasPrefix(r.Header.Get("Authorization"), "Basic ") {
			t.Errorf("%s %s: headers %v", r.Method, r.Path, r.Header)
		}
	}
	// Without the tenant: 401 "no org id", not retried.
	c2 := newClient(t, s, loki.Config{Username: "alice", Password: "s3cret"})
	_, err = c2.Labels(context.Background(), "", 0, 0)
	if err == nil || !strings.Contains(err.Error(), "no org id") {
		t.Errorf("no tenant: %v", err)
	}
	// The hint names the tenant setting, not the credentials, which are
	// right (review G finding 9).
	if msg := err.Error(); !strings.Contains(msg, "LOKI_ORG_ID") || !strings.Contains(msg, "--loki-org-id") || strings.Contains(msg, "LOKI_PASSWORD") {
		t.Errorf("no tenant: hint of %q", msg)
	}
}

// A transport failure names the request once (net/http's *url.Error
// repeats the method and URL, which NetError names already).
func TestNetErrorNamesURLOnce(t *testing.T) {
	s := lokitest.New(lokitest.Options{})
	addr := s.URL
	c := newClient(t, s, loki.Config{})
	s.Close() // nothing listens there now
	_, err := c.Labels(context.Background(), "", 0, 0)
	var ne *loki.NetError
	if !errors.As(err, &ne) {
		t.Fatalf("want a NetError, got %v", err)
	}
	if n := strings.Count(err.Error(), addr+"/loki/api/v1/labels"); n != 1 {
		t.Errorf("the URL is named %d times: %v", n, err)
	}
}

func TestQueryOverTLS(t *testing.T) {
	s := lokitest.New(lokitest.Options{TLS: true})
	defer s.Close()
	caPath := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(caPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw}), 0o600)
	now := time.Now().UnixNano()
	seed(s, now-int64(time.Minute), 5, 1)
	c := newClient(t, s, loki.Config{CACertPath: caPath})
	if _, err := c.Labels(context.Background(), "", 0, 0); err != nil {
		t.Fatalf("https with CA: %v", err)
	}
	tl, err := c.Tail(context.Background(), loki.TailRequest{Query: `{job="audit"}`, Start: now - int64(time.Hour)})
	if err != nil {
		t.Fatalf("wss with CA: %v", err)
	}
	m, err := tl.Next(context.Background())
	if err != nil || len(m.Entries) != 15 {
		t.Errorf("tail history over TLS: %d entries, %v", len(m.Entries), err)
	}
	tl.Close()
	c2 := newClient(t, s, loki.Config{})
	if _, err := c2.Labels(context.Background(), "", 0, 0); err == nil || loki.IsRetryable(err) {
		t.Errorf("without CA: %v", err)
	}
}

func TestTailReconnectLosesNothingDuplicatesNothing(t *testing.T) {
	s := lokitest.New(lokitest.Options{TailMaxDuration: 40 * time.Millisecond})
	defer s.Close()
	c := newClient(t, s, loki.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now().UnixNano()
	// Slack covers pushes that a loaded machine delays between taking a
	// timestamp and storing the entry.
	tl, err := c.Tail(ctx, loki.TailRequest{Query: `{job="audit"} |= "tail"`, Start: start, Slack: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer tl.Close()

	const total = 3000
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		// Pushes in small batches while the server keeps closing tails
		// (max duration 40ms) and the test also drops them by hand.
		for i := 0; i < total; i += 10 {
			var req loki.PushRequest
			for _, app := range []string{"a", "b"} {
				st := loki.PushStream{Labels: data.Labels{{Name: "job", Value: "audit"}, {Name: "app", Value: app}}}
				for k := i; k < i+10 && k < total; k += 2 {
					idx := k
					if app == "b" {
						idx = k + 1
					}
					// Some entries share a timestamp, in and across streams.
					st.Entries = append(st.Entries, loki.PushEntry{Time: time.Now().UnixNano() / 1000 * 1000, Line: []byte("tail " + strconv.Itoa(idx))})
				}
				req.Streams = append(req.Streams, st)
			}
			s.Push("", req)
			if i%500 == 0 {
				s.DisconnectTails(websocket.StatusInternalError, "reached tail max duration limit")
			}
			time.Sleep(200 * time.Microsecond)
		}
	}()
	seen := map[string]int{}
	for len(seen) < total {
		m, err := tl.Next(ctx)
		if err != nil {
			t.Fatalf("next after %d entries: %v", len(seen), err)
		}
		for _, e := range m.Entries {
			seen[string(e.Line)]++
		}
	}
	wg.Wait()
	for line, n := range seen {
		if n != 1 {
			t.Errorf("%s delivered %d times", line, n)
		}
	}
	for i := range total {
		if seen["tail "+strconv.Itoa(i)] == 0 {
			t.Errorf("entry %d lost", i)
		}
	}
	if tl.Reconnects() == 0 {
		t.Error("the tail never reconnected; the test did not test reconnection")
	}
	t.Logf("%d reconnects", tl.Reconnects())
}

func TestTailReportsDroppedEntries(t *testing.T) {
	s := lokitest.New(lokitest.Options{TailBuffer: 1})
	defer s.Close()
	c := newClient(t, s, loki.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tl, err := c.Tail(ctx, loki.TailRequest{Query: `{job="audit"}`})
	if err != nil {
		t.Fatal(err)
	}
	defer tl.Close()
	now := time.Now().UnixNano()
	push := func(i int) {
		s.Push("", loki.PushRequest{Streams: []loki.PushStream{{Labels: data.Labels{{Name: "job", Value: "audit"}}, Entries: []loki.PushEntry{{Time: now + int64(i), Line: []byte("e" + strconv.Itoa(i))}}}}})
	}
	if err := s.WaitTails(ctx, 1); err != nil {
		t.Fatal(err)
	}
	// A slow reader: the server's buffer fills and entries are dropped.
	s.HoldTails()
	for i := range 100 {
		push(i)
	}
	s.ReleaseTails()
	push(100)
	live := 0
	for live+tl.DroppedCount() < 101 {
		m, err := tl.Next(ctx)
		if err != nil {
			t.Fatalf("live %d dropped %d: %v", live, tl.DroppedCount(), err)
		}
		live += len(m.Entries)
		for _, d := range m.Dropped {
			if v, _ := d.Labels.Get("job"); v != "audit" || d.Time < now || d.Time > now+100 {
				t.Errorf("dropped = %+v", d)
			}
		}
	}
	if tl.DroppedCount() < 97 {
		t.Errorf("dropped %d, live %d: want most of 100 dropped", tl.DroppedCount(), live)
	}
}

func TestTailBadQueryIsPermanent(t *testing.T) {
	s := lokitest.New(lokitest.Options{})
	defer s.Close()
	c := newClient(t, s, loki.Config{})
	_, err := c.Tail(context.Background(), loki.TailRequest{Query: `{job=`})
	var he *loki.HTTPError
	if !errors.As(err, &he) || he.Status != 400 || !strings.Contains(err.Error(), "parse error") {
		t.Errorf("err = %v", err)
	}
}

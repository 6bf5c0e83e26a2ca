package loki_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
	"github.com/audittui/audittui/internal/data/source/loki"
	"github.com/audittui/audittui/internal/data/source/loki/lokitest"
	"github.com/audittui/audittui/internal/testutil"
)

// pushLines stores lines in one stream, 1ms apart from base.
func pushLines(s *lokitest.Server, labels data.Labels, base int64, lines [][]byte) {
	st := loki.PushStream{Labels: labels}
	for i, l := range lines {
		st.Entries = append(st.Entries, loki.PushEntry{Time: base + int64(i)*int64(time.Millisecond), Line: l})
	}
	s.Push("", loki.PushRequest{Streams: []loki.PushStream{st}})
}

func fixtureLines(t *testing.T) [][]byte {
	t.Helper()
	b, err := os.ReadFile("testdata/events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Split(bytes.TrimSpace(b), []byte("\n"))
}

func readAll(t *testing.T, st data.Stream) ([]data.Event, []data.Reject) {
	t.Helper()
	var evs []data.Event
	var rejs []data.Reject
	for {
		b, err := st.Next(context.Background())
		if errors.Is(err, io.EOF) {
			return evs, rejs
		}
		if err != nil {
			t.Fatalf("next: %v", err)
		}
		for i := range b.Events {
			evs = append(evs, b.Events[i].Clone())
		}
		rejs = append(rejs, b.Rejects...)
	}
}

var auditLabels = data.Labels{{Name: "job", Value: "audit"}, {Name: "cluster", Value: "c1"}}

func newSource(t testing.TB, c *loki.Client, o loki.SourceOptions) *loki.Source {
	t.Helper()
	src, err := loki.NewSource(c, o)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func logQuery(t testing.TB, q string) *logql.LogQuery {
	t.Helper()
	e, err := logql.Parse(q)
	if err != nil {
		t.Fatal(err)
	}
	return e.(*logql.LogQuery)
}

func metricQuery(t testing.TB, q string) *logql.MetricQuery {
	t.Helper()
	e, err := logql.Parse(q)
	if err != nil {
		t.Fatal(err)
	}
	return e.(*logql.MetricQuery)
}

func TestSourceDefaultQuery(t *testing.T) {
	c, _ := loki.NewClient(loki.Config{Addr: "http://127.0.0.1:1"})
	for q, want := range map[string]string{`{job=`: "loki selector", `count_over_time({job="audit"}[5m])`: "metric query"} {
		if _, err := loki.NewSource(c, loki.SourceOptions{DefaultQuery: q}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", q, err)
		}
	}
}

func TestSourcePushDownAndDecode(t *testing.T) {
	s := lokitest.New(lokitest.Options{})
	defer s.Close()
	// The fixture's events are of 2026-11-25 10:00:00-10:00:05; a
	// shipper stamps their entries when it reads them, 2 s later.
	base := time.Date(2026, 11, 25, 10, 0, 2, 0, time.UTC).UnixNano()
	now := time.Unix(0, base).Add(10 * time.Minute)
	lines := append(fixtureLines(t), []byte("hello, not json"), []byte(`{"msg":"a JSON line that is not an audit event"}`))
	pushLines(s, auditLabels, base, lines)
	pushLines(s, data.Labels{{Name: "job", Value: "other"}}, base, [][]byte{[]byte("other stream")})
	c := newClient(t, s, loki.Config{})
	src := newSource(t, c, loki.SourceOptions{BatchSize: 3, Now: func() time.Time { return now }})
	if !strings.HasPrefix(src.String(), "loki http://127.0.0.1:") {
		t.Errorf("String() = %q", src.String())
	}

	t.Run("push-down filter", func(t *testing.T) {
		// The query is parsed once, by the caller; the source renders it.
		st, err := src.Open(context.Background(), data.ReadOptions{Query: logQuery(t, "{job=`audit`}|json   |verb = `delete`")})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		evs, rejs := readAll(t, st)
		// As in Loki, a line `| json` cannot parse carries __error__ and
		// passes string label filters: it comes back and is a reject.
		if len(evs) != 2 || len(rejs) != 1 || !strings.Contains(rejs[0].Reason, "malformed JSON") {
			t.Fatalf("events %d rejects %v, want 2 events and the non-JSON line as a reject", len(evs), rejs)
		}
		for _, e := range evs {
			if e.Verb != "delete" {
				t.Errorf("verb = %s", e.Verb)
			}
			if v, _ := e.Origin.Source.Labels.Get("job"); v != "audit" {
				t.Errorf("labels = %v", e.Origin.Source.Labels)
			}
			if e.Cluster != "c1" {
				t.Errorf("cluster = %q", e.Cluster)
			}
		}
		if evs[0].User != "mallory" || evs[1].User != "alice" {
			t.Errorf("users %s, %s", evs[0].User, evs[1].User)
		}
		// The filter ran on the server: only matching lines were sent.
		for _, r := range s.Requests() {
			if r.Path == "/loki/api/v1/query_range" && r.Query.Get("query") != `{job="audit"} | json | verb="delete"` {
				t.Errorf("query sent = %q", r.Query.Get("query"))
			}
		}
	})

	t.Run("non-audit lines are rejects", func(t *testing.T) {
		var done, total int64
		st, err := src.Open(context.Background(), data.ReadOptions{Progress: func(d, t int64) { done, total = d, t }})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		evs, rejs := readAll(t, st)
		var want int64
		for _, l := range lines {
			want += int64(len(l))
		}
		if done != want || total != -1 {
			t.Errorf("progress = %d/%d, want %d/-1", done, total, want)
		}
		if len(evs) != 6 || len(rejs) != 2 {
			t.Fatalf("events %d rejects %d, want 6 and 2", len(evs), len(rejs))
		}
		for _, r := range rejs {
			if r.Reason == "" || r.Origin.Source == nil || !strings.Contains(r.Error(), `loki{cluster="c1", job="audit"}:`) {
				t.Errorf("reject = %q", r.Error())
			}
		}
		for i := 1; i < len(evs); i++ {
			if evs[i].Time < evs[i-1].Time {
				t.Errorf("events out of order at %d", i)
			}
		}
	})

	t.Run("limit and window", func(t *testing.T) {
		st, err := src.Open(context.Background(), data.ReadOptions{Limit: 4})
		if err != nil {
			t.Fatal(err)
		}
		evs, _ := readAll(t, st)
		st.Close()
		if len(evs) != 4 {
			t.Errorf("limit 4: %d events", len(evs))
		}
		// Newest: the last 4 of every event (logcli's backward direction),
		// still yielded oldest first.
		st, err = src.Open(context.Background(), data.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		every, _ := readAll(t, st)
		st.Close()
		st, err = src.Open(context.Background(), data.ReadOptions{Limit: 4, Newest: true})
		if err != nil {
			t.Fatal(err)
		}
		var rejs []data.Reject
		evs, rejs = readAll(t, st)
		st.Close()
		// The newest 4 entries are the last two events and the two lines
		// that are not audit events (pushed last): Loki's limit counts
		// entries.
		if len(evs) != 2 || len(rejs) != 2 || len(every) < 5 {
			t.Fatalf("newest 4: %d events and %d rejects of %d events", len(evs), len(rejs), len(every))
		}
		for i, e := range evs {
			if w := every[len(every)-2+i]; e.Time != w.Time || e.AuditID != w.AuditID {
				t.Errorf("newest 4: event %d is %s at %d, want %s at %d", i, e.AuditID, e.Time, w.AuditID, w.Time)
			}
		}
		var backward bool
		for _, r := range s.Requests() {
			backward = backward || r.Path == "/loki/api/v1/query_range" && r.Query.Get("direction") == "backward" && r.Query.Get("limit") != ""
		}
		if !backward {
			t.Error("newest: no backward query_range with a limit was sent")
		}
		// A window is on the events' own time (stageTimestamp), as for
		// files: 10:00:02 to 10:00:04 holds the list and the create.
		st, err = src.Open(context.Background(), data.ReadOptions{From: time.Date(2026, 11, 25, 10, 0, 2, 0, time.UTC).UnixNano(), To: time.Date(2026, 11, 25, 10, 0, 4, 0, time.UTC).UnixNano()})
		if err != nil {
			t.Fatal(err)
		}
		evs, _ = readAll(t, st)
		st.Close()
		if len(evs) != 2 || evs[0].Verb != "list" {
			t.Errorf("window: %d events", len(evs))
		}
	})

	t.Run("metric query pushes its log query down", func(t *testing.T) {
		mq := metricQuery(t, `sum by (user_username) (count_over_time({job="audit"} | json | verb="delete" [5m]))`)
		st, err := src.Open(context.Background(), data.ReadOptions{Query: mq.LogQuery()})
		if err != nil {
			t.Fatal(err)
		}
		evs, _ := readAll(t, st)
		st.Close()
		if len(evs) != 2 {
			t.Errorf("%d events, want the 2 deletes", len(evs))
		}
		reqs := s.Requests()
		if q := reqs[len(reqs)-1].Query.Get("query"); q != `{job="audit"} | json | verb="delete"` {
			t.Errorf("pushed query = %q", q)
		}
	})

	t.Run("metric on the server", func(t *testing.T) {
		res, err := src.Metric(context.Background(), metricQuery(t, `sum by (verb) (count_over_time({job="audit"} | json | __error__="" [1h]))`), 0, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		counts := map[string]float64{}
		for _, se := range res.Series {
			v, _ := se.Metric.Get("verb")
			counts[v] = se.Samples[0].V
		}
		if res.Type != loki.ResultVector || counts["delete"] != 2 || counts["get"] != 1 || counts[""] != 1 || len(counts) != 6 { // "": the JSON line without a verb
			t.Errorf("vector %s: %v", res.Type, counts)
		}
		res, err = src.Metric(context.Background(), metricQuery(t, `count_over_time({job="audit"}[10m])`), now.Add(-30*time.Minute).UnixNano(), now.UnixNano(), 10*time.Minute)
		if err != nil || res.Type != loki.ResultMatrix || len(res.Series) != 1 {
			t.Fatalf("matrix: %+v %v", res, err)
		}
		reqs := s.Requests()
		if q := reqs[len(reqs)-1].Query.Get("query"); q != `count_over_time({job="audit"} [10m])` { // as the formatter renders it
			t.Errorf("metric sent as %q", q)
		}
	})

	t.Run("preview", func(t *testing.T) {
		st, err := src.Preview(context.Background(), data.ReadOptions{Query: logQuery(t, `{job="audit"} | json | verb="delete"`)})
		if err != nil {
			t.Fatal(err)
		}
		if st.Streams != 1 || st.Entries != 8 {
			t.Errorf("preview = %+v", st)
		}
	})
}

func TestSourceFollow(t *testing.T) {
	s := lokitest.New(lokitest.Options{})
	defer s.Close()
	lines := fixtureLines(t)
	now := time.Now()
	pushLines(s, auditLabels, now.Add(-time.Minute).UnixNano(), lines[:3])
	c := newClient(t, s, loki.Config{})
	src := newSource(t, c, loki.SourceOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := src.Open(ctx, data.ReadOptions{Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var verbs []string
	pushed := false
	for len(verbs) < 6 {
		b, err := st.Next(ctx)
		if err != nil {
			t.Fatalf("after %v: %v", verbs, err)
		}
		for _, e := range b.Events {
			verbs = append(verbs, e.Verb)
		}
		if len(verbs) == 3 && !pushed {
			pushed = true
			go pushLines(s, auditLabels, time.Now().UnixNano(), lines[3:])
		}
	}
	if strings.Join(verbs, ",") != "get,delete,list,create,delete,patch" {
		t.Errorf("verbs = %v", verbs)
	}
}

func TestSourceRealAuditData(t *testing.T) {
	files := testutil.RealAuditFiles(t)
	s := lokitest.New(lokitest.Options{})
	defer s.Close()
	base := time.Now().Add(-30 * time.Minute).UnixNano()
	total := 0
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		var lines [][]byte
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() && len(lines) < 2000 {
			if len(bytes.TrimSpace(sc.Bytes())) > 0 {
				lines = append(lines, append([]byte(nil), sc.Bytes()...))
			}
		}
		fh.Close()
		pushLines(s, data.Labels{{Name: "job", Value: "audit"}, {Name: "filename", Value: f}}, base, lines)
		total += len(lines)
	}
	c := newClient(t, s, loki.Config{})
	src := newSource(t, c, loki.SourceOptions{BatchSize: 500, ParallelDuration: 10 * time.Minute, ParallelMaxWorkers: 2})
	st, err := src.Open(context.Background(), data.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	evs, rejs := readAll(t, st)
	// EventList lines hold several events, so count lines through origins.
	lines := map[string]bool{}
	for _, e := range evs {
		lines[e.Origin.Where()] = true
	}
	for _, r := range rejs {
		lines[r.Origin.Where()] = true
	}
	if len(lines) != total {
		t.Errorf("%d lines accounted for (events %d, rejects %d), %d pushed", len(lines), len(evs), len(rejs), total)
	}
	t.Logf("%d lines: %d events, %d rejects", total, len(evs), len(rejs))
}

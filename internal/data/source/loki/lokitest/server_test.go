package lokitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/klauspost/compress/snappy"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/loki"
)

// shapeErr compares the JSON shape of got with the documented example
// want: same types; objects whose values are all strings are label sets
// (any keys); other objects have exactly the documented keys; arrays whose
// items share one shape are lists (every item checked against the first
// documented one), other arrays are tuples (checked position by position).
func shapeErr(path string, want, got any) error {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: got %T, want object", path, got)
		}
		if isLabelSet(w) {
			for k, v := range g {
				if _, ok := v.(string); !ok {
					return fmt.Errorf("%s.%s: label value is %T, want string", path, k, v)
				}
			}
			return nil
		}
		for k := range w {
			if _, ok := g[k]; !ok {
				return fmt.Errorf("%s: missing key %q", path, k)
			}
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				return fmt.Errorf("%s: undocumented key %q", path, k)
			}
		}
		for k := range w {
			if err := shapeErr(path+"."+k, w[k], g[k]); err != nil {
				return err
			}
		}
		return nil
	case []any:
		if got == nil && len(w) > 0 {
			return nil // Loki writes null for empty lists in places
		}
		g, ok := got.([]any)
		if !ok {
			return fmt.Errorf("%s: got %T, want array", path, got)
		}
		if len(w) == 0 {
			return nil
		}
		if homogeneous(w) {
			for i := range g {
				if err := shapeErr(fmt.Sprintf("%s[%d]", path, i), w[0], g[i]); err != nil {
					return err
				}
			}
			return nil
		}
		if len(g) != len(w) {
			return fmt.Errorf("%s: tuple of %d, want %d", path, len(g), len(w))
		}
		for i := range w {
			if err := shapeErr(fmt.Sprintf("%s[%d]", path, i), w[i], g[i]); err != nil {
				return err
			}
		}
		return nil
	default:
		if fmt.Sprintf("%T", want) != fmt.Sprintf("%T", got) {
			return fmt.Errorf("%s: got %T (%v), want %T (%v)", path, got, got, want, want)
		}
		return nil
	}
}

func isLabelSet(m map[string]any) bool {
	for _, v := range m {
		if _, ok := v.(string); !ok {
			return false
		}
	}
	return true
}

func homogeneous(a []any) bool {
	for _, x := range a[1:] {
		if shapeErr("", a[0], x) != nil || shapeErr("", x, a[0]) != nil {
			return false
		}
	}
	return true
}

func fixture(t *testing.T, name string) any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

func getJSON(t *testing.T, s *Server, path string, q url.Values) any {
	t.Helper()
	resp, err := http.Get(s.URL + path + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v: %s", path, err, b)
	}
	return v
}

func pushFixture(t *testing.T, s *Server, name string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(s.URL+"/loki/api/v1/push", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("push %s: %d", name, resp.StatusCode)
	}
}

// seedVarlogs stores data like the documentation's examples.
func seedVarlogs(s *Server, base int64) {
	var req loki.PushRequest
	for _, level := range []string{"info", "warn"} {
		st := loki.PushStream{Labels: data.Labels{{Name: "job", Value: "varlogs"}, {Name: "level", Value: level}, {Name: "filename", Value: "/var/log/myproject.log"}}}
		for i := range 20 {
			st.Entries = append(st.Entries, loki.PushEntry{Time: base + int64(i)*int64(time.Second), Line: []byte(level + " line " + strconv.Itoa(i))})
		}
		req.Streams = append(req.Streams, st)
	}
	s.Push("", req)
}

func TestResponsesMatchDocumentedShapes(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	base := time.Now().Add(-10 * time.Minute).UnixNano()
	seedVarlogs(s, base)
	pushFixture(t, s, "push.json")
	pushFixture(t, s, "push_metadata.json")
	rng := url.Values{"start": {strconv.FormatInt(base-int64(time.Minute), 10)}, "end": {strconv.FormatInt(time.Now().UnixNano(), 10)}}
	with := func(kv ...string) url.Values {
		q := url.Values{}
		for k, v := range rng {
			q[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			q.Add(kv[i], kv[i+1])
		}
		return q
	}
	cases := []struct {
		fixture, path string
		q             url.Values
	}{
		{"query_vector.json", "/loki/api/v1/query", url.Values{"query": {`sum(rate({job="varlogs"}[10m])) by (level)`}}},
		{"query_range_matrix.json", "/loki/api/v1/query_range", with("query", `sum(rate({job="varlogs"}[10m])) by (level)`, "step", "300")},
		{"query_range_streams.json", "/loki/api/v1/query_range", with("query", `{job="varlogs"}`)},
		{"labels.json", "/loki/api/v1/labels", with()},
		{"label_values.json", "/loki/api/v1/label/level/values", with()},
		{"series.json", "/loki/api/v1/series", with("match[]", `{job="varlogs"}`, "match[]", `{foo="bar2"}`)},
		{"index_stats.json", "/loki/api/v1/index/stats", with("query", `{job="varlogs"}`)},
	}
	for _, tc := range cases {
		t.Run(tc.fixture, func(t *testing.T) {
			got := getJSON(t, s, tc.path, tc.q)
			if err := shapeErr("$", fixture(t, tc.fixture), got); err != nil {
				t.Errorf("%s: %v\ngot: %v", tc.path, err, got)
			}
		})
	}
}

func TestShapeCheckerCatchesDifferences(t *testing.T) {
	want := fixture(t, "query_range_streams.json")
	for name, bad := range map[string]string{
		"number timestamp": `{"status":"success","data":{"resultType":"streams","result":[{"stream":{"a":"b"},"values":[[1569266497240578000,"foo"]]}],"stats":{}}}`,
		"missing stats":    `{"status":"success","data":{"resultType":"streams","result":[]}}`,
		"extra key":        `{"status":"success","extra":1,"data":{"resultType":"streams","result":[],"stats":{}}}`,
	} {
		var got any
		json.Unmarshal([]byte(bad), &got)
		if shapeErr("$", want, got) == nil {
			t.Errorf("%s: not detected", name)
		}
	}
}

func TestPushFormats(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	pushFixture(t, s, "push_metadata.json")
	es := s.Entries("")
	if len(es) != 1 || es[0].Line != "fizzbuzz" || es[0].Time != 1570818238000000000 {
		t.Fatalf("entries = %+v", es)
	}
	if v, _ := es[0].Metadata.Get("trace_id"); v != "0242ac120002" {
		t.Errorf("metadata = %v", es[0].Metadata)
	}
	// Protobuf + snappy, with the same entry again: Loki ignores exact duplicates.
	raw, _ := loki.EncodePushProtobuf(nil, loki.PushRequest{Streams: []loki.PushStream{{
		Labels:  data.Labels{{Name: "foo", Value: "bar2"}},
		Entries: []loki.PushEntry{{Time: 1570818238000000000, Line: []byte("fizzbuzz")}, {Time: 1570818239000000000, Line: []byte("second")}},
	}}})
	resp, err := http.Post(s.URL+"/loki/api/v1/push", "application/x-protobuf", bytes.NewReader(snappy.Encode(nil, raw)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if n := s.Count(""); n != 2 {
		t.Errorf("count = %d, want 2 (duplicate ignored)", n)
	}
	reqs := s.Requests()
	if reqs[len(reqs)-1].Entries != 2 {
		t.Errorf("recorded entries = %d", reqs[len(reqs)-1].Entries)
	}
}

func TestPushErrors(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	post := func(ct, body string) (int, string) {
		resp, err := http.Post(s.URL+"/loki/api/v1/push", ct, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if st, body := post("application/json", `{"streams":[{"stream":{"a":"b"},"values":[[1570818238000000000,"x"]]}]}`); st != 400 || !strings.Contains(body, "timestamp must be a string") {
		t.Errorf("number timestamp: %d %s", st, body)
	}
	if st, body := post("application/json", `{"streams":[{"stream":{},"values":[["1","x"]]}]}`); st != 400 || !strings.Contains(body, "at least one label pair") {
		t.Errorf("no labels: %d %s", st, body)
	}
	if st, _ := post("application/x-protobuf", "not snappy"); st != 400 {
		t.Errorf("bad snappy: %d", st)
	}
	s.FailPushes(2, 429, "Ingestion rate limit exceeded")
	for range 2 {
		if st, body := post("application/json", `{"streams":[{"stream":{"a":"b"},"values":[["1","x"]]}]}`); st != 429 || !strings.Contains(body, "rate limit") {
			t.Errorf("injected failure: %d %s", st, body)
		}
	}
	if st, _ := post("application/json", `{"streams":[{"stream":{"a":"b"},"values":[["1","x"]]}]}`); st != 204 {
		t.Errorf("after failures: %d", st)
	}
}

func TestQueryErrorsAreLokis(t *testing.T) {
	s := New(Options{MaxEntriesLimitPerQuery: 50})
	defer s.Close()
	for name, tc := range map[string]struct {
		path, query, limit, want string
	}{
		"limit":        {"/loki/api/v1/query_range", `{a="b"}`, "51", "max entries limit per query exceeded, limit > max_entries_limit_per_query (51 > 50)"},
		"parse":        {"/loki/api/v1/query_range", `{a="b"`, "", "parse error at line 1, col"},
		"empty match":  {"/loki/api/v1/query_range", `{a=~".*"}`, "", "queries require at least one"},
		"instant logs": {"/loki/api/v1/query", `{a="b"}`, "", "log queries are not supported as an instant query type"},
	} {
		t.Run(name, func(t *testing.T) {
			q := url.Values{"query": {tc.query}}
			if tc.limit != "" {
				q.Set("limit", tc.limit)
			}
			resp, err := http.Get(s.URL + tc.path + "?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 400 || !strings.Contains(string(b), tc.want) {
				t.Errorf("%d %q, want 400 %q", resp.StatusCode, b, tc.want)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
				t.Errorf("Content-Type = %q", ct)
			}
		})
	}
}

func TestAuthAndTenant(t *testing.T) {
	s := New(Options{Username: "u", Password: "p", RequireTenant: true})
	defer s.Close()
	get := func(user, pass, tenant string) int {
		req, _ := http.NewRequest("GET", s.URL+"/loki/api/v1/labels", nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		if tenant != "" {
			req.Header.Set("X-Scope-OrgID", tenant)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := get("", "", "t"); st != 401 {
		t.Errorf("no auth: %d", st)
	}
	if st := get("u", "bad", "t"); st != 401 {
		t.Errorf("bad password: %d", st)
	}
	if st := get("u", "p", ""); st != 401 {
		t.Errorf("no tenant: %d", st)
	}
	if st := get("u", "p", "t"); st != 200 {
		t.Errorf("ok: %d", st)
	}
}

func TestTenantsAreSeparate(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	now := time.Now().UnixNano()
	for _, tn := range []string{"a", "b"} {
		s.Push(tn, loki.PushRequest{Streams: []loki.PushStream{{Labels: data.Labels{{Name: "job", Value: "audit"}}, Entries: []loki.PushEntry{{Time: now - 1000, Line: []byte("from " + tn)}}}}})
	}
	count := func(tenant string) int {
		req, _ := http.NewRequest("GET", s.URL+"/loki/api/v1/query_range?query="+url.QueryEscape(`{job="audit"}`), nil)
		req.Header.Set("X-Scope-OrgID", tenant)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.Count(string(b), `"from `)
	}
	if n := count("a"); n != 1 {
		t.Errorf("tenant a sees %d", n)
	}
	if n := count("a|b"); n != 2 {
		t.Errorf("tenants a|b see %d", n)
	}
	if n := count("c"); n != 0 {
		t.Errorf("tenant c sees %d", n)
	}
}

func TestTailShapeAndDropped(t *testing.T) {
	s := New(Options{TailBuffer: 1})
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	now := time.Now().UnixNano()
	s.Push("", loki.PushRequest{Streams: []loki.PushStream{{Labels: data.Labels{{Name: "job", Value: "varlogs"}}, Entries: []loki.PushEntry{{Time: now - 10, Line: []byte("history")}}}}})
	u := strings.Replace(s.URL, "http://", "ws://", 1) + "/loki/api/v1/tail?" + url.Values{"query": {`{job="varlogs"}`}, "start": {strconv.FormatInt(now-int64(time.Minute), 10)}}.Encode()
	c, _, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	_, b, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got any
	json.Unmarshal(b, &got)
	want := fixture(t, "tail.json")
	if err := shapeErr("$", want, got); err != nil {
		t.Errorf("history message: %v: %s", err, b)
	}
	if !strings.Contains(string(b), `"history"`) {
		t.Errorf("history not sent: %s", b)
	}
	// A slow reader: while tails are held the one-message buffer fills
	// and further entries are dropped, then reported with the next message.
	if err := s.WaitTails(ctx, 1); err != nil {
		t.Fatal(err)
	}
	s.HoldTails()
	for i := range 50 {
		s.Push("", loki.PushRequest{Streams: []loki.PushStream{{Labels: data.Labels{{Name: "job", Value: "varlogs"}}, Entries: []loki.PushEntry{{Time: now + int64(i), Line: []byte("live " + strconv.Itoa(i))}}}}})
	}
	s.ReleaseTails()
	s.Push("", loki.PushRequest{Streams: []loki.PushStream{{Labels: data.Labels{{Name: "job", Value: "varlogs"}}, Entries: []loki.PushEntry{{Time: now + 1000, Line: []byte("flush")}}}}})
	var dropped, live int
	for live+dropped < 50 {
		_, b, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("read: %v (live %d dropped %d)", err, live, dropped)
		}
		var m struct {
			Streams []struct {
				Values [][]string `json:"values"`
			} `json:"streams"`
			Dropped []struct {
				Timestamp string `json:"timestamp"`
			} `json:"dropped_entries"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		for _, st := range m.Streams {
			for _, v := range st.Values {
				if strings.HasPrefix(v[1], "live ") {
					live++
				}
			}
		}
		for _, d := range m.Dropped {
			if ts, _ := strconv.ParseInt(d.Timestamp, 10, 64); ts < now+1000 {
				dropped++
			}
		}
		if len(m.Dropped) > 0 {
			json.Unmarshal(b, &got)
			if err := shapeErr("$", want, got); err != nil {
				t.Errorf("message with drops: %v", err)
			}
		}
	}
	if dropped == 0 {
		t.Errorf("no dropped entries reported (live %d)", live)
	}
}

func TestTailMaxDurationCloses1011(t *testing.T) {
	s := New(Options{TailMaxDuration: 50 * time.Millisecond})
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	u := s.URL + "/loki/api/v1/tail?" + url.Values{"query": {`{job="x"}`}}.Encode()
	c, _, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	_, _, err = c.Read(ctx)
	if websocket.CloseStatus(err) != websocket.StatusInternalError {
		t.Fatalf("err = %v, want close 1011", err)
	}
	if !strings.Contains(err.Error(), "reached tail max duration limit") {
		t.Errorf("reason: %v", err)
	}
}

// TestPushEntriesCountedOnTheirOwnRequest: a push whose body is still
// arriving while another push is handled records its entries on its own
// request (Requests), not on the last one recorded.
func TestPushEntriesCountedOnTheirOwnRequest(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	body := func(n int, line string) []byte {
		var es []loki.PushEntry
		for i := range n {
			es = append(es, loki.PushEntry{Time: int64(1570818238000000000 + i), Line: []byte(line + strconv.Itoa(i))})
		}
		raw, _ := loki.EncodePushProtobuf(nil, loki.PushRequest{Streams: []loki.PushStream{{Labels: data.Labels{{Name: "job", Value: "x"}}, Entries: es}}})
		return snappy.Encode(nil, raw)
	}
	push := func(r io.Reader) {
		resp, err := http.Post(s.URL+"/loki/api/v1/push", "application/x-protobuf", r)
		if err != nil {
			t.Error(err)
			return
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Errorf("status %d", resp.StatusCode)
		}
	}
	// The first push's request is recorded, its body held back.
	pr, pw := io.Pipe()
	slow := body(3, "slow")
	done := make(chan struct{})
	go func() {
		defer close(done)
		push(pr)
	}()
	if _, err := pw.Write(slow[:1]); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); len(s.Requests()) < 1; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the first push was not recorded")
		}
	}
	push(bytes.NewReader(body(5, "fast")))
	pw.Write(slow[1:])
	pw.Close()
	<-done
	reqs := s.Requests()
	if len(reqs) != 2 || reqs[0].Entries != 3 || reqs[1].Entries != 5 {
		var got []int
		for _, r := range reqs {
			got = append(got, r.Entries)
		}
		t.Errorf("entries recorded per request %v, want [3 5]", got)
	}
}

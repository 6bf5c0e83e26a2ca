package gen

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"regexp"
	"testing"
	"time"

	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"
)

// decodeStrict decodes one line into k8s.io/apiserver's audit.Event,
// rejecting unknown fields and trailing data.
func decodeStrict(line []byte) (*auditv1.Event, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	var ev auditv1.Event
	if err := dec.Decode(&ev); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data")
	}
	return &ev, nil
}

var microRE = regexp.MustCompile(`"(requestReceivedTimestamp|stageTimestamp)":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z"`)

// topKeys returns the top-level keys of a JSON object in order.
func topKeys(t *testing.T, line []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(line))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// The apiserver's field order (audit.k8s.io/v1 Event struct order).
var fieldOrder = []string{"kind", "apiVersion", "level", "auditID", "stage", "requestURI", "verb", "user",
	"impersonatedUser", "sourceIPs", "userAgent", "objectRef", "responseStatus", "requestObject",
	"responseObject", "requestReceivedTimestamp", "stageTimestamp", "annotations"}

func TestGeneratedEventsDecodeStrictly(t *testing.T) {
	g := New(Config{Seed: 7, Nodes: 3, Rate: 1, Stories: true, RequestReceived: 0.05})
	last := make([]int64, 3)
	rank := map[string]int{}
	for i, k := range fieldOrder {
		rank[k] = i
	}
	stages := map[string]int{}
	for i := range 6500 {
		rec := g.Next()
		line := rec.Line
		if len(line) == 0 || line[len(line)-1] != '\n' || bytes.Count(line, []byte{'\n'}) != 1 {
			t.Fatalf("event %d: not one newline-terminated line: %q", i, line)
		}
		ev, err := decodeStrict(line)
		if err != nil {
			t.Fatalf("event %d: strict decode: %v\n%s", i, err, line)
		}
		if ev.Kind != "Event" || ev.APIVersion != "audit.k8s.io/v1" {
			t.Fatalf("event %d: kind/apiVersion = %q/%q", i, ev.Kind, ev.APIVersion)
		}
		if ev.StageTimestamp.UnixNano() != rec.Time {
			t.Fatalf("event %d: Record.Time %d != stageTimestamp %s", i, rec.Time, ev.StageTimestamp.Format(time.RFC3339Nano))
		}
		if ev.StageTimestamp.Before(&ev.RequestReceivedTimestamp) {
			t.Fatalf("event %d: stageTimestamp before requestReceivedTimestamp", i)
		}
		if rec.Time < last[rec.Node] {
			t.Fatalf("event %d: stageTimestamp goes back on node %d", i, rec.Node)
		}
		last[rec.Node] = rec.Time
		if n := len(microRE.FindAll(line, -1)); n != 2 {
			t.Fatalf("event %d: want 2 microsecond timestamps, found %d\n%s", i, n, line)
		}
		keys := topKeys(t, line)
		for j := 1; j < len(keys); j++ {
			if rank[keys[j-1]] >= rank[keys[j]] {
				t.Fatalf("event %d: field %q before %q\n%s", i, keys[j-1], keys[j], line)
			}
		}
		if ev.Level == auditv1.LevelMetadata && (ev.RequestObject != nil || ev.ResponseObject != nil) {
			t.Fatalf("event %d: Metadata level with a body\n%s", i, line)
		}
		if ev.ResponseObject != nil && ev.Level != auditv1.LevelRequestResponse {
			t.Fatalf("event %d: responseObject below RequestResponse\n%s", i, line)
		}
		switch ev.Stage {
		case auditv1.StageRequestReceived:
			if ev.ResponseStatus != nil || ev.Annotations != nil {
				t.Fatalf("event %d: RequestReceived with a response or annotations\n%s", i, line)
			}
		default:
			if ev.ResponseStatus == nil || ev.ResponseStatus.Code == 0 {
				t.Fatalf("event %d: no response code\n%s", i, line)
			}
			code := ev.ResponseStatus.Code
			if code == 401 {
				if ev.User.Username != "" || ev.Annotations != nil || ev.Stage != auditv1.StageResponseStarted {
					t.Fatalf("event %d: 401 must have no user, no annotations, stage ResponseStarted\n%s", i, line)
				}
			} else if d := ev.Annotations["authorization.k8s.io/decision"]; (code == 403) != (d == "forbid") {
				t.Fatalf("event %d: code %d with decision %q\n%s", i, code, d, line)
			}
		}
		stages[string(ev.Stage)]++
	}
	for _, s := range []string{"RequestReceived", "ResponseStarted", "ResponseComplete"} {
		if stages[s] == 0 {
			t.Errorf("no %s events in 6500", s)
		}
	}
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	cases := []string{"", "plain", `quote " and \ backslash`, "<script>&amp;</script>", "tab\tnl\ncr\r\b\f",
		"\x00\x01\x1f\x7f", EscapeUserAgent, EscapeObjectName, "line\u2028sep\u2029", "bad\xffutf8\xc3", "日本語 ✓ 🚀",
		"/api/v1/pods?a=1&b=2", "\xed\xa0\x80"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		b := make([]byte, rng.IntN(24))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("appendString(%q) = %s, encoding/json = %s", s, got, want)
		}
	}
}

func TestAppendMicroTime(t *testing.T) {
	for _, ts := range []time.Time{DefaultStart, time.Date(2026, 11, 20, 8, 0, 0, 123456789, time.UTC), time.Date(1999, 1, 2, 3, 4, 5, 6000, time.UTC)} {
		want, _ := json.Marshal(ts.Truncate(time.Microsecond).Format("2006-01-02T15:04:05.000000Z07:00"))
		if got := appendMicroTime(nil, ts.UnixNano()); !bytes.Equal(got, want) {
			t.Errorf("appendMicroTime(%s) = %s, want %s", ts, got, want)
		}
	}
}

func TestDeterministic(t *testing.T) {
	gen := func(seed int64) []byte {
		var buf bytes.Buffer
		g := New(Config{Seed: seed, Nodes: 2, Stories: true, RequestReceived: 0.02})
		if _, err := g.Write(context.Background(), []io.Writer{&buf}, Limit{Events: 3000}); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	a, b, c := gen(5), gen(5), gen(6)
	if !bytes.Equal(a, b) {
		t.Fatal("same seed, different output")
	}
	if bytes.Equal(a, c) {
		t.Fatal("different seeds, same output")
	}
}

func TestRateAndLimits(t *testing.T) {
	for _, rate := range []float64{0.5, 200} {
		g := New(Config{Seed: 3, Rate: rate})
		var buf bytes.Buffer
		dur := time.Duration(float64(8000) / rate * float64(time.Second))
		st, err := g.Write(context.Background(), []io.Writer{&buf}, Limit{Until: DefaultStart.Add(dur)})
		if err != nil {
			t.Fatal(err)
		}
		if st.Events < 7200 || st.Events > 8800 {
			t.Errorf("rate %g/s over %s: %d events, want about 8000", rate, dur, st.Events)
		}
		if int64(buf.Len()) != st.Bytes || int64(bytes.Count(buf.Bytes(), []byte{'\n'})) != st.Events {
			t.Errorf("stats %+v do not match the %d bytes written", st, buf.Len())
		}
	}
	var buf bytes.Buffer
	st, err := New(Config{Seed: 3}).Write(context.Background(), []io.Writer{&buf}, Limit{Bytes: 100_000})
	if err != nil {
		t.Fatal(err)
	}
	if st.Bytes < 100_000 || st.Bytes > 100_000+64<<10 {
		t.Errorf("byte limit 100000: wrote %d", st.Bytes)
	}
	if _, err := New(Config{}).Write(context.Background(), []io.Writer{&buf}, Limit{}); err == nil {
		t.Error("no limit: want an error")
	}
}

func TestParseRateAndSize(t *testing.T) {
	rates := map[string]float64{"200/s": 200, "60/m": 1, "3600/h": 1, "0.5": 0.5}
	for in, want := range rates {
		if got, err := ParseRate(in); err != nil || got != want {
			t.Errorf("ParseRate(%q) = %g, %v; want %g", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "x/s", "-1/s", "5/d", "0", "NaN/s", "Inf"} {
		if _, err := ParseRate(bad); err == nil {
			t.Errorf("ParseRate(%q): want an error", bad)
		}
	}
	sizes := map[string]int64{"1GB": 1e9, "500MB": 500e6, "64KiB": 65536, "4096": 4096, "1.5GiB": 3 << 29, "2g": 2e9}
	for in, want := range sizes {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "GB", "-5MB", "1TB"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q): want an error", bad)
		}
	}
}

func TestNodeFile(t *testing.T) {
	cases := []struct {
		in   string
		i, n int
		want string
	}{
		{"audit.log", 0, 1, "audit.log"},
		{"out/audit.log", 1, 3, "out/audit-cp2.log"},
		{"audit.log.gz", 0, 2, "audit-cp1.log.gz"},
		{"events", 2, 3, "events-cp3"},
	}
	for _, c := range cases {
		if got := NodeFile(c.in, c.i, c.n); got != c.want {
			t.Errorf("NodeFile(%q, %d, %d) = %q, want %q", c.in, c.i, c.n, got, c.want)
		}
	}
}

// scanLines calls fn for every line of data.
func scanLines(t *testing.T, data []byte, fn func(n int, line []byte)) {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		fn(n, sc.Bytes())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}

func TestDisorder(t *testing.T) {
	const d = 5 * time.Millisecond
	g := New(Config{Seed: 8, Disorder: d})
	var maxTime int64
	inversions := 0
	for range 5000 {
		rec := g.Next()
		if rec.Time < maxTime {
			inversions++
			if maxTime-rec.Time > int64(d) {
				t.Fatalf("event %s is %s behind an earlier one, more than the %s disorder", time.Unix(0, rec.Time).UTC(), time.Duration(maxTime-rec.Time), d)
			}
		}
		maxTime = max(maxTime, rec.Time)
	}
	if inversions == 0 {
		t.Error("Disorder 5ms at 200/s: no event out of order")
	}
	t.Logf("%d of 5000 events out of order", inversions)
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "a<b>&c", EscapeUserAgent, EscapeObjectName, "\u2028\xff", "\"\\\t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("appendString(%q) = %s, encoding/json = %s", s, got, want)
		}
	})
}

func TestExtremeRates(t *testing.T) {
	for _, rate := range []float64{1e-12, 1e9} {
		g := New(Config{Seed: 1, Rate: rate})
		var last int64
		for range 2000 {
			rec := g.Next()
			if rec.Time < last || rec.Time < DefaultStart.UnixNano() {
				t.Fatalf("rate %g: time went backwards to %s", rate, time.Unix(0, rec.Time).UTC())
			}
			last = rec.Time
		}
	}
}

func TestOpenWatchesBounded(t *testing.T) {
	g := New(Config{Seed: 2, Rate: MaxRate})
	most := 0
	for range 200_000 {
		g.Next()
		most = max(most, g.openWatches)
	}
	if most > maxOpenWatches || most < maxOpenWatches/2 {
		t.Errorf("at %d events/s up to %d watches were open, want about %d and never more", MaxRate, most, maxOpenWatches)
	}
	if n := len(g.pending); n > 2*maxOpenWatches {
		t.Errorf("%d events pending, want the in-flight set bounded", n)
	}
}

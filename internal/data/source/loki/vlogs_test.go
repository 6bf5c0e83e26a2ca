package loki_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/loki"
	"github.com/audittui/audittui/internal/testutil"
)

// vlRecord is one line of VictoriaLogs' /select/logsql/query answer.
type vlRecord map[string]string

func vlQuery(t *testing.T, base, query string) []vlRecord {
	t.Helper()
	resp, err := http.PostForm(base+"/select/logsql/query", url.Values{"query": {query}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("logsql query: %d %s", resp.StatusCode, b)
	}
	var out []vlRecord
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var r vlRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("logsql line %q: %v", sc.Text(), err)
		}
		out = append(out, r)
	}
	return out
}

// TestPushToVictoriaLogs checks the hand-written protobuf+snappy and JSON
// encodings against an independent implementation of Loki's push API
// (VictoriaLogs, started by scripts/victorialogs.sh).
func TestPushToVictoriaLogs(t *testing.T) {
	base := testutil.Env(t, "AUDITTUI_VLOGS_URL", "VictoriaLogs (scripts/victorialogs.sh start)")
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	now := time.Now().UnixNano() / 1000 * 1000 // VictoriaLogs keeps ns; stay exact anyway
	lines := map[string]int64{
		`{"kind":"Event","verb":"get","user":{"username":"ålice \"q\""}}`: now - 3e9 + 123,
		"plain line with tab\tand unicode ✓":                              now - 2e9 + 456,
	}
	var pb loki.PushRequest
	st := loki.PushStream{Labels: data.Labels{{Name: "job", Value: "audittui-test"}, {Name: "run", Value: run}, {Name: "enc", Value: "protobuf"}}}
	for l, ts := range lines {
		st.Entries = append(st.Entries, loki.PushEntry{Time: ts, Line: []byte(l), Metadata: data.Labels{{Name: "audit_id", Value: "id-" + strconv.FormatInt(ts, 10)}}})
	}
	pb.Streams = append(pb.Streams, st)
	js := loki.PushRequest{Streams: []loki.PushStream{{
		Labels:  data.Labels{{Name: "job", Value: "audittui-test"}, {Name: "run", Value: run}, {Name: "enc", Value: "json"}},
		Entries: []loki.PushEntry{{Time: now - 1e9 + 789, Line: []byte("json pushed")}},
	}}}
	c, err := loki.NewClient(loki.Config{Addr: base + "/insert/loki/api/v1/push"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Push(context.Background(), pb); err != nil {
		t.Fatalf("protobuf push: %v", err)
	}
	if err := c.PushAs(context.Background(), js, loki.PushJSON); err != nil {
		t.Fatalf("JSON push: %v", err)
	}
	// VictoriaLogs makes data searchable within about a second.
	var recs []vlRecord
	deadline := time.Now().Add(30 * time.Second)
	for len(recs) < 3 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		recs = vlQuery(t, base, `_stream:{job="audittui-test",run="`+run+`"}`)
	}
	if len(recs) != 3 {
		t.Fatalf("VictoriaLogs holds %d records, want 3: %v", len(recs), recs)
	}
	for _, r := range recs {
		ts, err := time.Parse(time.RFC3339Nano, r["_time"])
		if err != nil {
			t.Fatalf("_time %q: %v", r["_time"], err)
		}
		switch r["enc"] {
		case "protobuf":
			want, ok := lines[r["_msg"]]
			if !ok {
				t.Errorf("unexpected line %q", r["_msg"])
				continue
			}
			if ts.UnixNano() != want {
				t.Errorf("%q: time %d, want %d", r["_msg"], ts.UnixNano(), want)
			}
			if r["audit_id"] != "id-"+strconv.FormatInt(want, 10) {
				t.Errorf("structured metadata lost: %v", r)
			}
		case "json":
			if r["_msg"] != "json pushed" || ts.UnixNano() != now-1e9+789 {
				t.Errorf("json record %v", r)
			}
		default:
			t.Errorf("record without stream labels: %v", r)
		}
	}
}

package data

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/testutil"
)

// The fixtures in testdata/shapes are written by the project (see its
// README). plain.jsonl (16 events of the bundled sample) and
// gke-sink.jsonl (Cloud Logging entries written from the GKE audit log
// documentation) are the sources; every other file is derived from them
// here, in the layout each vendor documents. `go test ./internal/data -run
// TestShapeFixtures -update` rewrites them; without -update the test fails
// when a file differs from what this code derives.

var updateFixtures = flag.Bool("update", false, "rewrite the derived fixtures in testdata/shapes")

func shapesDir() string { return filepath.Join(testutil.RepoRoot(), "testdata", "shapes") }

func shapePath(name string) string { return filepath.Join(shapesDir(), name) }

// plainLines returns the 16 events of plain.jsonl.
func plainLines(t testing.TB) [][]byte {
	t.Helper()
	b, err := os.ReadFile(shapePath("plain.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSuffix(b, []byte{'\n'}), []byte{'\n'})
	if len(lines) != 16 {
		t.Fatalf("plain.jsonl has %d lines, want 16", len(lines))
	}
	return lines
}

type plainInfo struct {
	line     []byte
	ms       int64 // stageTimestamp in milliseconds
	ts       time.Time
	auditID  string
	username string
}

func plainInfos(t testing.TB) []plainInfo {
	var out []plainInfo
	for _, l := range plainLines(t) {
		var e struct {
			AuditID string `json:"auditID"`
			Stage   string `json:"stageTimestamp"`
			User    struct {
				Username string `json:"username"`
			} `json:"user"`
		}
		if err := json.Unmarshal(l, &e); err != nil {
			t.Fatal(err)
		}
		ts, err := time.Parse(time.RFC3339Nano, e.Stage)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, plainInfo{line: l, ms: ts.UnixMilli(), ts: ts, auditID: e.AuditID, username: e.User.Username})
	}
	return out
}

// encodeJSON encodes v as the AWS CLI and most tools do: no HTML escaping;
// indent "" means compact.
func encodeJSON(t testing.TB, v any, indent string) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if indent != "" {
		enc.SetIndent("", indent)
	}
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	out := b.Bytes()
	if indent == "" {
		out = bytes.TrimSuffix(out, []byte{'\n'})
	}
	return out
}

const eksStream = "kube-apiserver-audit-7f3c2a9b0d1e4f5a6b7c8d9e0f1a2b3c"

// cwEventID is a 56-digit CloudWatch Logs event ID.
func cwEventID(i int, ms int64) string {
	return fmt.Sprintf("%037d%019d", ms, i)
}

func deriveFixtures(t testing.TB) map[string][]byte {
	ps := plainInfos(t)
	out := map[string][]byte{}

	// aws logs filter-log-events --log-group-name /aws/eks/demo/cluster
	// --log-stream-name-prefix kube-apiserver-audit (AWS CLI v2, JSON output:
	// four-space indentation).
	type cwEvent struct {
		LogStreamName string `json:"logStreamName"`
		Timestamp     int64  `json:"timestamp"`
		Message       string `json:"message"`
		IngestionTime int64  `json:"ingestionTime"`
		EventID       string `json:"eventId"`
	}
	type searched struct {
		LogStreamName      string `json:"logStreamName"`
		SearchedCompletely bool   `json:"searchedCompletely"`
	}
	var fle struct {
		Events   []cwEvent  `json:"events"`
		Searched []searched `json:"searchedLogStreams"`
	}
	for i, p := range ps {
		fle.Events = append(fle.Events, cwEvent{LogStreamName: eksStream, Timestamp: p.ms, Message: string(p.line),
			IngestionTime: p.ms + 812, EventID: cwEventID(i, p.ms)})
	}
	fle.Searched = []searched{{LogStreamName: eksStream, SearchedCompletely: true}}
	out["eks-filter-log-events.json"] = encodeJSON(t, fle, "    ")

	// A CloudWatch Logs subscription to Kinesis Data Firehose, delivered to
	// S3: each record is a gzip member holding one compact JSON message;
	// Firehose writes the records back to back (no separator). The first is
	// the health check CloudWatch sends when the subscription is created.
	type logEvent struct {
		ID        string `json:"id"`
		Timestamp int64  `json:"timestamp"`
		Message   string `json:"message"`
	}
	type subMsg struct {
		MessageType         string     `json:"messageType"`
		Owner               string     `json:"owner"`
		LogGroup            string     `json:"logGroup"`
		LogStream           string     `json:"logStream"`
		SubscriptionFilters []string   `json:"subscriptionFilters"`
		LogEvents           []logEvent `json:"logEvents"`
	}
	var fh bytes.Buffer
	gz := func(b []byte) {
		zw := gzip.NewWriter(&fh)
		zw.Write(b)
		zw.Close()
	}
	gz(encodeJSON(t, subMsg{MessageType: "CONTROL_MESSAGE", Owner: "CloudwatchLogs", SubscriptionFilters: []string{},
		LogEvents: []logEvent{{ID: "", Timestamp: ps[0].ms - 60000, Message: "CWL CONTROL MESSAGE: Checking health of destination Firehose."}}}, ""))
	for _, part := range [][2]int{{0, 6}, {6, 11}, {11, 16}} {
		m := subMsg{MessageType: "DATA_MESSAGE", Owner: "123456789012", LogGroup: "/aws/eks/demo/cluster", LogStream: eksStream,
			SubscriptionFilters: []string{"audit-to-firehose"}}
		for i := part[0]; i < part[1]; i++ {
			m.LogEvents = append(m.LogEvents, logEvent{ID: cwEventID(i, ps[i].ms), Timestamp: ps[i].ms, Message: string(ps[i].line)})
		}
		gz(encodeJSON(t, m, ""))
	}
	out["eks-firehose.gz"] = fh.Bytes()

	// CloudWatch Logs Insights, "fields @timestamp, @message | sort
	// @timestamp desc", exported as CSV from the console.
	var cb bytes.Buffer
	cw := csv.NewWriter(&cb)
	cw.Write([]string{"@timestamp", "@message"})
	byTime := append([]plainInfo(nil), ps...)
	sort.SliceStable(byTime, func(i, j int) bool { return byTime[i].ms > byTime[j].ms })
	for _, p := range byTime {
		cw.Write([]string{time.UnixMilli(p.ms).UTC().Format("2006-01-02 15:04:05.000"), string(p.line)})
	}
	cw.Flush()
	out["eks-insights.csv"] = cb.Bytes()

	// Multi-line JSON: jq . output of five events (two-space indent, one
	// after the other), an array of six, five objects back to back with no
	// separator, a pretty EventList of four.
	indent := func(b []byte) []byte {
		var o bytes.Buffer
		if err := json.Indent(&o, b, "", "  "); err != nil {
			t.Fatal(err)
		}
		return o.Bytes()
	}
	var pretty bytes.Buffer
	for _, p := range ps[:5] {
		pretty.Write(indent(p.line))
		pretty.WriteByte('\n')
	}
	out["pretty.json"] = pretty.Bytes()
	var arr [][]byte
	for _, p := range ps[5:11] {
		arr = append(arr, p.line)
	}
	out["array.json"] = append(indent(append(append([]byte("["), bytes.Join(arr, []byte(","))...), ']')), '\n')
	var cat []byte
	for _, p := range ps[11:16] {
		cat = append(cat, p.line...)
	}
	out["concatenated.json"] = cat
	var items [][]byte
	for _, p := range ps[:4] {
		items = append(items, p.line)
	}
	el := `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[` + string(bytes.Join(items, []byte(","))) + `]}`
	out["eventlist-pretty.json"] = append(indent([]byte(el)), '\n')

	// Shipper wrappers, one per line: Vector / generic (message as a
	// string), Logs Insights JSON export (@message), Fluent Bit tail without
	// a parser (log as a string), Fluent Bit with the JSON parser nested
	// under log, the Cloud Logging agent (jsonPayload).
	var w bytes.Buffer
	wl := func(v any) {
		w.Write(encodeJSON(t, v, ""))
		w.WriteByte('\n')
	}
	raw := func(i int) json.RawMessage { return json.RawMessage(ps[i].line) }
	wl(map[string]any{"message": string(ps[0].line), "source_type": "file", "host": "cp-1", "timestamp": ps[0].ts.Format(time.RFC3339Nano)})
	wl(map[string]any{"@timestamp": ps[1].ts.Format("2006-01-02 15:04:05.000"), "@message": string(ps[1].line), "@logStream": eksStream})
	wl(map[string]any{"log": string(ps[2].line), "stream": "stdout", "time": ps[2].ts.Format(time.RFC3339Nano)})
	wl(map[string]any{"date": float64(ps[3].ms) / 1000, "log": raw(3), "cluster": "prod-eu"})
	wl(map[string]any{"insertId": "1k9x2a3b4c5d6", "jsonPayload": raw(4), "logName": "projects/demo-project/logs/kube-apiserver-audit",
		"resource":  map[string]any{"type": "gce_instance", "labels": map[string]string{"instance_id": "4861230001", "zone": "europe-west1-b"}},
		"timestamp": ps[4].ts.Format(time.RFC3339Nano), "receiveTimestamp": ps[4].ts.Add(time.Second).Format(time.RFC3339Nano)})
	out["wrappers.jsonl"] = w.Bytes()

	// AKS diagnostic records (Azure resource logs): a storage account's
	// PT1H.json holds one record per line; Event Hubs delivers
	// {"records":[...]}. The event is properties.log, a JSON string (as
	// AKS writes it) or, after some forwarders, an object. Records of other
	// categories are rejected.
	aks := func(cat string, i int, log any) map[string]any {
		return map[string]any{
			"operationName": "Microsoft.ContainerService/managedClusters/diagnosticLogs/Read",
			"category":      cat,
			"ccpNamespace":  "6123a4b5c6d7e8f9a0b1c2d3",
			"resourceId":    "/SUBSCRIPTIONS/00000000-1111-2222-3333-444444444444/RESOURCEGROUPS/RG-DEMO/PROVIDERS/MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/AKS-DEMO",
			"properties":    map[string]any{"log": log, "stream": "stdout", "pod": "kube-apiserver-7c9d8b6f5-q2w3e", "containerID": "0f1e2d3c4b5a69788796a5b4c3d2e1f0"},
			"time":          ps[i].ts.Format("2006-01-02T15:04:05.0000000Z"),
			"Cloud":         "AzureCloud",
			"Environment":   "prod",
		}
	}
	var pt bytes.Buffer
	for i := 5; i < 11; i++ {
		cat := "kube-audit"
		if i%2 == 0 {
			cat = "kube-audit-admin"
		}
		pt.Write(encodeJSON(t, aks(cat, i, string(ps[i].line)), ""))
		pt.WriteByte('\n')
	}
	guard := aks("guard", 11, `{"level":"info","msg":"token review allowed","user":"alice@example.com"}`)
	pt.Write(encodeJSON(t, guard, ""))
	pt.WriteByte('\n')
	apisrv := aks("kube-apiserver", 11, "I1120 02:03:26.198075       1 controller.go:624] quota admission added evaluator for: leases.coordination.k8s.io")
	pt.Write(encodeJSON(t, apisrv, ""))
	pt.WriteByte('\n')
	out["aks-pt1h.json"] = pt.Bytes()
	recs := []any{aks("kube-audit", 11, string(ps[11].line)), aks("kube-audit", 12, raw(12)), aks("kube-audit-admin", 13, string(ps[13].line))}
	out["aks-eventhub.json"] = append(encodeJSON(t, map[string]any{"records": recs}, ""), '\n')

	// gcloud logging read --format=json: the entries as a pretty array
	// (two-space indent, keys sorted).
	gb, err := os.ReadFile(shapePath("gke-sink.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var entries []any
	for _, l := range bytes.Split(bytes.TrimSpace(gb), []byte{'\n'}) {
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatal(err)
		}
		entries = append(entries, m)
	}
	out["gke-gcloud.json"] = encodeJSON(t, entries, "  ")
	return out
}

func TestShapeFixtures(t *testing.T) {
	for name, want := range deriveFixtures(t) {
		p := shapePath(name)
		if *updateFixtures {
			if err := os.WriteFile(p, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("%v (run go test ./internal/data -run TestShapeFixtures -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what its generator writes (run go test ./internal/data -run TestShapeFixtures -update)", name)
		}
	}
	if !strings.HasSuffix(shapesDir(), filepath.Join("testdata", "shapes")) {
		t.Fatal(shapesDir())
	}
}

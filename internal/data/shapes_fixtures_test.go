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
	out["shippers.jsonl"] = shipperRecords(t, ps)
	out["fluentd-out_file.log"] = fluentdOutFile(t, ps)
	out["filebeat-json.jsonl"] = filebeatJSON(t, ps)

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

// kv is one member of an ordered object.
type kv struct {
	k string
	v any
}

// ordered is a JSON object written with its keys in the order given, as
// the shippers that do not sort them write it (encoding/json sorts a
// map's keys, as Vector's BTreeMap and gcloud do).
type ordered []kv

func (o ordered) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		for _, v := range []any{m.k, m.v} {
			var vb bytes.Buffer
			enc := json.NewEncoder(&vb)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(v); err != nil {
				return nil, err
			}
			b.Write(bytes.TrimSuffix(vb.Bytes(), []byte{'\n'}))
			if v == any(m.k) {
				b.WriteByte(':')
			}
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// shipperRecords writes events 6-13 of plain.jsonl (ps[5:13]) as the
// shippers write them to a file, one record per line, in each one's key
// order, then a Filebeat record of a line that is not an audit event (the
// API server's own log, harvested by mistake: rejected). The sources each
// follows are in testdata/shapes/README.md.
func shipperRecords(t testing.TB, ps []plainInfo) []byte {
	const auditLog = "/var/log/kubernetes/audit/audit.log"
	// Filebeat's log.offset: where the line starts in the audit log (the
	// lines of plain.jsonl taken for it).
	offset := func(i int) int {
		n := 0
		for _, p := range ps[:i] {
			n += len(p.line) + 1
		}
		return n
	}
	after := func(i int, d time.Duration) time.Time { return ps[i].ts.Add(d).UTC() }
	beatsTime := func(tm time.Time) string { return tm.Format("2006-01-02T15:04:05.000Z") } // yyyy-MM-dd'T'HH:mm:ss.SSS'Z'
	line := func(i int) string { return string(ps[i].line) }
	agent := ordered{{"ephemeral_id", "5d7f3a9e-2b41-4c6f-9e0a-8b1c2d3e4f50"}, {"id", "b2c4e6f8-1a3b-4c5d-8e9f-0a1b2c3d4e5f"},
		{"name", "cp-1"}, {"type", "filebeat"}, {"version", "8.15.3"}}
	meta := ordered{{"beat", "filebeat"}, {"type", "_doc"}, {"version", "8.15.3"}}
	k8sPod := "kube-apiserver-cp-1"
	podUID := "6f1d3c2b-8a9e-4b7c-9d0e-1f2a3b4c5d6e"
	containerID := "3c9e1f7a5b2d4c6e8f0a1b3c5d7e9f1a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e"
	image := "registry.k8s.io/kube-apiserver:v1.31.2"

	var b bytes.Buffer
	rec := func(v any) {
		b.Write(encodeJSON(t, v, ""))
		b.WriteByte('\n')
	}
	// Filebeat 8, filestream input, output.file (the Beats JSON codec:
	// @timestamp and @metadata first, then the event's fields in Go map
	// order, here log before message).
	rec(ordered{{"@timestamp", beatsTime(after(5, 412*time.Millisecond))}, {"@metadata", meta},
		{"log", ordered{{"offset", offset(5)}, {"file", ordered{{"path", auditLog}}}}}, {"message", line(5)},
		{"input", ordered{{"type", "filestream"}}}, {"ecs", ordered{{"version", "8.0.0"}}}, {"host", ordered{{"name", "cp-1"}}}, {"agent", agent}})
	// Elastic Agent 8 (a Custom Logs integration over the audit log), as
	// its Kafka output writes it (the same codec): data_stream,
	// elastic_agent and event beside Filebeat's fields.
	rec(ordered{{"@timestamp", beatsTime(after(6, 230*time.Millisecond))}, {"@metadata", meta},
		{"agent", agent}, {"data_stream", ordered{{"dataset", "kube_audit"}, {"namespace", "default"}, {"type", "logs"}}},
		{"ecs", ordered{{"version", "8.0.0"}}}, {"elastic_agent", ordered{{"id", "b2c4e6f8-1a3b-4c5d-8e9f-0a1b2c3d4e5f"}, {"snapshot", false}, {"version", "8.15.3"}}},
		{"event", ordered{{"dataset", "kube_audit"}}}, {"host", ordered{{"name", "cp-1"}}}, {"input", ordered{{"type", "filestream"}}},
		{"log", ordered{{"file", ordered{{"path", auditLog}}}, {"offset", offset(6)}}}, {"message", line(6)}})
	// Logstash 8, file input (ECS v8: log.file.path, host.name, and the
	// plain codec's event.original), file output (json_lines). Its keys
	// come in no set order.
	rec(ordered{{"log", ordered{{"file", ordered{{"path", auditLog}}}}}, {"@version", "1"}, {"event", ordered{{"original", line(7)}}},
		{"message", line(7)}, {"host", ordered{{"name", "cp-1"}}}, {"@timestamp", after(7, 95*time.Millisecond).Format("2006-01-02T15:04:05.000000Z")}})
	// Vector, file source, file sink with the json codec (keys sorted).
	vectorTime := func(tm time.Time) string { return tm.Format("2006-01-02T15:04:05.000000000Z") }
	rec(map[string]any{"file": auditLog, "host": "cp-1", "message": line(8), "source_type": "file", "timestamp": vectorTime(after(8, 57123457*time.Nanosecond))})
	// Vector, kubernetes_logs source (the API server writing its audit
	// log to stdout: --audit-log-path=-).
	rec(map[string]any{
		"file": "/var/log/pods/kube-system_" + k8sPod + "_" + podUID + "/kube-apiserver/0.log",
		"kubernetes": map[string]any{
			"container_id": "containerd://" + containerID, "container_image": image, "container_name": "kube-apiserver",
			"namespace_labels": map[string]string{"kubernetes.io/metadata.name": "kube-system"},
			"pod_ip":           "10.0.0.11", "pod_ips": []string{"10.0.0.11"},
			"pod_labels": map[string]string{"component": "kube-apiserver", "tier": "control-plane"},
			"pod_name":   k8sPod, "pod_namespace": "kube-system", "pod_node_name": "cp-1", "pod_owner": "Node/cp-1", "pod_uid": podUID,
		},
		"message": line(9), "source_type": "kubernetes_logs", "stream": "stdout", "timestamp": vectorTime(after(9, 1234567*time.Nanosecond)),
	})
	// Fluent Bit, tail input (multiline.parser cri) and kubernetes filter
	// (Merge_Log off), an output that writes JSON lines with its date
	// key (stdout or s3, json_date_format double).
	fbRead := after(10, 8*time.Millisecond)
	rec(ordered{{"date", json.Number(fmt.Sprintf("%d.%06d", fbRead.Unix(), fbRead.Nanosecond()/1000))},
		{"time", after(10, 1432109*time.Nanosecond).Format(time.RFC3339Nano)}, {"stream", "stdout"}, {"_p", "F"}, {"log", line(10)},
		{"kubernetes", ordered{{"pod_name", k8sPod}, {"namespace_name", "kube-system"}, {"pod_id", podUID},
			{"labels", ordered{{"component", "kube-apiserver"}, {"tier", "control-plane"}}},
			{"annotations", ordered{{"kubernetes.io/config.source", "file"}}}, {"host", "cp-1"}, {"container_name", "kube-apiserver"},
			{"docker_id", containerID}, {"container_hash", "registry.k8s.io/kube-apiserver@sha256:9d1a3c5e7f90b2d4f6a8c0e2a4c6e8f0b2d4f6a8c0e2a4c6e8f0b2d4f6a8c0e2"},
			{"container_image", image}}}})
	// Fluentd (td-agent), in_tail of the audit log with the none parser
	// (the line under message), out_file with the json formatter.
	rec(ordered{{"message", line(11)}})
	// Fluentd's Kubernetes DaemonSet: in_tail of /var/log/containers
	// (Docker's json-file: the line keeps its newline; its time becomes
	// the event time), the kubernetes_metadata filter, out_file json.
	rec(ordered{{"log", line(12) + "\n"}, {"stream", "stdout"}, {"docker", ordered{{"container_id", containerID}}},
		{"kubernetes", ordered{{"container_name", "kube-apiserver"}, {"namespace_name", "kube-system"}, {"pod_name", k8sPod},
			{"pod_id", podUID}, {"labels", ordered{{"component", "kube-apiserver"}, {"tier", "control-plane"}}}, {"host", "cp-1"},
			{"master_url", "https://10.96.0.1:443/api"}, {"namespace_id", "0b9e4c1d-7f3a-4e2b-9c8d-5a6b7c8d9e0f"}}}})
	// Filebeat harvesting the API server's own log by mistake: rejected.
	klog := after(12, 3*time.Second)
	rec(ordered{{"@timestamp", beatsTime(klog.Add(180 * time.Millisecond))}, {"@metadata", meta},
		{"log", ordered{{"offset", 48213}, {"file", ordered{{"path", "/var/log/kube-apiserver.log"}}}}},
		{"message", klog.Format("I0102 15:04:05.000000") + "       1 controller.go:624] quota admission added evaluator for: leases.coordination.k8s.io"},
		{"input", ordered{{"type", "filestream"}}}, {"ecs", ordered{{"version", "8.0.0"}}}, {"host", ordered{{"name", "cp-1"}}}, {"agent", agent}})
	return b.Bytes()
}

// reserialized is an audit line as a shipper that parsed it writes it
// again: the same keys in the same order, with what Go's encoder escapes
// for HTML (\u0026, \u003c, \u003e) written as it is (Ruby's JSON and
// Yajl, the Beats codec with escape_html false). It fails unless the
// result is the same JSON.
func reserialized(t testing.TB, line []byte) []byte {
	t.Helper()
	out := line
	for esc, c := range map[string]string{`\u0026`: "&", `\u003c`: "<", `\u003e`: ">"} {
		out = bytes.ReplaceAll(out, []byte(esc), []byte(c))
	}
	if !jsonEqual(out, line) {
		t.Fatalf("reserialized line is not the same JSON: %.80s", out)
	}
	return out
}

// fluentdOutFile writes events 14 and 15 of plain.jsonl (ps[13:15]) as
// Fluentd's out_file writes them in its default format (the out_file
// formatter: time, tag and record separated by tabs, the time in ISO 8601
// with its zone, here a node in UTC; https://docs.fluentd.org/formatter/out_file),
// then the lines it rejects. The sources each line follows are in
// testdata/shapes/README.md.
func fluentdOutFile(t testing.TB, ps []plainInfo) []byte {
	const tag = "kube.audit"
	at := func(i int, d time.Duration) string { return ps[i].ts.Add(d).UTC().Format("2006-01-02T15:04:05-07:00") }
	var b bytes.Buffer
	line := func(tm, tag string, rec []byte) {
		b.WriteString(tm + "\t" + tag + "\t")
		b.Write(rec)
		b.WriteByte('\n')
	}
	// in_tail of the audit log with the none parser (the line under
	// message, https://docs.fluentd.org/parser/none), out_file with no
	// <format>: the time is when in_tail read the line.
	line(at(13, 800*time.Millisecond), tag, encodeJSON(t, ordered{{"message", string(ps[13].line)}}, ""))
	// in_tail with the json parser (https://docs.fluentd.org/parser/json:
	// the record is the line's object; an audit event has no time key, so
	// the time is when it was read), out_file with no <format>: the event
	// written again by Ruby's JSON, \u0026 as &.
	line(at(14, 1200*time.Millisecond), tag, reserialized(t, ps[14].line))
	// Lines that are rejected, each naming why: a record cut short (the
	// disk filled up), a time_format that is not the default
	// (https://docs.fluentd.org/formatter: 2014-08-25 00:00:00 +0000), and
	// a line of the API server's own log tailed by mistake.
	cut := encodeJSON(t, ordered{{"message", string(ps[15].line)}}, "")
	line(at(15, 500*time.Millisecond), tag, cut[:len(cut)/2])
	line(ps[15].ts.Add(700*time.Millisecond).UTC().Format("2006-01-02 15:04:05 -0700"), tag, encodeJSON(t, ordered{{"message", string(ps[15].line)}}, ""))
	klog := ps[15].ts.Add(3 * time.Second).UTC()
	line(at(15, 3*time.Second), "kube.apiserver", encodeJSON(t, ordered{{"message", klog.Format("I0102 15:04:05.000000") + "       1 controller.go:624] quota admission added evaluator for: leases.coordination.k8s.io"}}, ""))
	return b.Bytes()
}

// filebeatJSON writes events 14 and 15 of plain.jsonl (ps[13:15]) as
// Filebeat 8 writes them with its log input decoding JSON lines
// (json.add_error_key true, json.keys_under_root false, the default: the
// decoded line under json; https://www.elastic.co/guide/en/beats/filebeat/current/filebeat-input-log.html)
// and output.file (the Beats JSON codec: @timestamp and @metadata first,
// then the fields in Go map order; the decoded object's keys too, here
// sorted), then the records it rejects. The sources are in
// testdata/shapes/README.md.
func filebeatJSON(t testing.TB, ps []plainInfo) []byte {
	const auditLog = "/var/log/kubernetes/audit/audit.log"
	offset := func(i int) int {
		n := 0
		for _, p := range ps[:i] {
			n += len(p.line) + 1
		}
		return n
	}
	beatsTime := func(tm time.Time) string { return tm.UTC().Format("2006-01-02T15:04:05.000Z") }
	decoded := func(line []byte) any {
		// libbeat's readjson: numbers kept as written (integers here),
		// HTML characters as they are.
		var v map[string]any
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	meta := ordered{{"beat", "filebeat"}, {"type", "_doc"}, {"version", "8.15.3"}}
	agent := ordered{{"ephemeral_id", "5d7f3a9e-2b41-4c6f-9e0a-8b1c2d3e4f50"}, {"id", "b2c4e6f8-1a3b-4c5d-8e9f-0a1b2c3d4e5f"},
		{"name", "cp-1"}, {"type", "filebeat"}, {"version", "8.15.3"}}
	rec := func(at time.Time, off int, path string, extra ...kv) []byte {
		r := ordered{{"@timestamp", beatsTime(at)}, {"@metadata", meta}, {"log", ordered{{"offset", off}, {"file", ordered{{"path", path}}}}}}
		r = append(r, extra...)
		r = append(r, kv{"input", ordered{{"type", "log"}}}, kv{"ecs", ordered{{"version", "8.0.0"}}}, kv{"host", ordered{{"name", "cp-1"}}}, kv{"agent", agent})
		return encodeJSON(t, r, "")
	}
	var b bytes.Buffer
	for i := 13; i < 15; i++ {
		b.Write(rec(ps[i].ts.Add(341*time.Millisecond), offset(i), auditLog, kv{"json", decoded(ps[i].line)}))
		b.WriteByte('\n')
	}
	// Rejected: a line cut short, which Filebeat could not decode (its
	// error under json, the line under message), and a line of the API
	// server's own log in JSON (--logging-format=json) harvested by
	// mistake.
	cut := string(ps[15].line[:len(ps[15].line)/2])
	b.Write(rec(ps[15].ts.Add(341*time.Millisecond), offset(15), auditLog,
		kv{"json", ordered{{"error", ordered{{"message", "Error decoding JSON: unexpected EOF"}, {"type", "json"}}}}}, kv{"message", cut}))
	b.WriteByte('\n')
	klog := ps[15].ts.Add(3 * time.Second)
	b.Write(rec(klog.Add(180*time.Millisecond), 48213, "/var/log/kube-apiserver.log",
		kv{"json", ordered{{"ts", json.Number(fmt.Sprintf("%d.%03d", klog.Unix(), klog.Nanosecond()/1e6))}, {"caller", "controller.go:624"},
			{"msg", "quota admission added evaluator for"}, {"resource", "leases.coordination.k8s.io"}, {"v", 0}}}))
	b.WriteByte('\n')
	return b.Bytes()
}

package data

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf16"

	"github.com/audittui/audittui/internal/data/logql"
)

// readShape decodes a file (decompressing by magic bytes) through the
// reader every file, stdin and S3 source uses.
func readShape(t *testing.T, name string, opts ReadOptions) ([]Event, []Reject, *SourceInfo) {
	t.Helper()
	fh, err := os.Open(shapePath(name))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	r, kind, done, err := Decompress(fh)
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	info := &SourceInfo{Name: name, Labels: Labels{{Name: "job", Value: "audit"}}, Seekable: kind == ""}
	evs, rejs := drain(t, NewReaderStream(context.Background(), r, info, opts, nil))
	return evs, rejs, info
}

func drain(t *testing.T, st Stream) ([]Event, []Reject) {
	t.Helper()
	var evs []Event
	var rejs []Reject
	for {
		b, err := st.Next(context.Background())
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for i := range b.Events {
			evs = append(evs, b.Events[i].Clone())
		}
		rejs = append(rejs, b.Rejects...)
	}
	st.Close()
	return evs, rejs
}

func eventKey(e *Event) string { return e.AuditID + "/" + e.Stage }

// answers is everything a query can ask of an event: the decoder's
// columns, every field `| json` flattens from its line, a few JSON paths
// and the time.
func answers(e *Event) map[string]string {
	m := map[string]string{}
	for _, f := range KnownFields {
		v, ok, _ := e.Field(f)
		if ok {
			m["field:"+f] = v
		}
	}
	e.RangeJSONFields(func(n, v string) {
		if _, dup := m["json:"+n]; !dup {
			m["json:"+n] = v
		}
	})
	for _, p := range []string{"requestObject.kind", `annotations["authorization.k8s.io/decision"]`, "user.groups[0]", "sourceIPs[0]", "responseStatus"} {
		if v, ok := e.JSONPath(p); ok {
			m["path:"+p] = v
		}
	}
	m["time"] = fmt.Sprint(e.Time)
	m["received"] = fmt.Sprint(e.Received)
	m["groups"] = strings.Join(e.Groups, ",")
	m["sourceIPs"] = strings.Join(e.SourceIPs, ",")
	m["bodies"] = fmt.Sprint(e.HasRequestObject, e.HasResponseObject)
	return m
}

var shapeQueries = []string{
	`{job="audit"} | json | objectRef_resource="secrets" | verb=~"get|list"`,
	`{job="audit"} | json | responseStatus_code >= 400`,
	`{job="audit"} | json | annotations_authorization_k8s_io_decision="forbid"`,
	`{job="audit"} |= "system:serviceaccount" | json | user_username=~".*cert-manager.*"`,
	`{job="audit"} |~ "\"impersonatedUser\":\\s*\\{" | json`,
	`{job="audit"} | json | requestObject_kind="ClusterRoleBinding"`,
	`{job="audit"} | json g="user.groups[0]" | g=~"system:.*"`,
}

// TestShapesSameAnswers reads the same 16 events as JSON lines, as `aws
// logs filter-log-events` prints them, as Firehose writes a CloudWatch Logs
// subscription to S3, and as a Logs Insights CSV export: every field, JSON
// path, query and time answers the same.
func TestShapesSameAnswers(t *testing.T) {
	plain, rejs, _ := readShape(t, "plain.jsonl", ReadOptions{})
	if len(plain) != 16 || len(rejs) != 0 {
		t.Fatalf("plain: %d events, rejects %v", len(plain), rejs)
	}
	want := map[string]*Event{}
	for i := range plain {
		want[eventKey(&plain[i])] = &plain[i]
	}
	var qs []*logql.LogQuery
	for _, q := range shapeQueries {
		lq, err := logql.ParseLog(q)
		if err != nil {
			t.Fatal(err)
		}
		qs = append(qs, lq)
	}
	matched := make([]int, len(qs))
	for _, tc := range []struct {
		file string
		n    int
	}{
		{"eks-filter-log-events.json", 16}, {"eks-firehose.gz", 16}, {"eks-insights.csv", 16},
		{"pretty.json", 5}, {"array.json", 6}, {"concatenated.json", 5}, {"eventlist-pretty.json", 4},
		{"wrappers.jsonl", 5}, {"aks-pt1h.json", 6}, {"aks-eventhub.json", 3}, {"shippers.jsonl", 8},
	} {
		evs, rejs, _ := readShape(t, tc.file, ReadOptions{})
		wantRejects := 0
		switch tc.file {
		case "aks-pt1h.json":
			wantRejects = 2 // the guard and kube-apiserver records
		case "shippers.jsonl":
			wantRejects = 1 // Filebeat's record of the API server's own log
		}
		if len(evs) != tc.n || len(rejs) != wantRejects {
			t.Errorf("%s: %d events (want %d), rejects %v", tc.file, len(evs), tc.n, rejs)
			continue
		}
		for i := range evs {
			e := &evs[i]
			p := want[eventKey(e)]
			if p == nil {
				t.Errorf("%s: event %s is not in plain.jsonl", tc.file, eventKey(e))
				continue
			}
			if !bytes.Equal(e.EntryLine(), p.Raw) {
				t.Errorf("%s: %s: LogQL line differs from the API server's line:\n%s", tc.file, eventKey(e), e.EntryLine())
			}
			ga, wa := answers(e), answers(p)
			if strings.HasPrefix(tc.file, "aks-") {
				// The cluster comes from the record's resourceId.
				if ga["field:cluster"] != "AKS-DEMO" && e.Cluster != "AKS-DEMO" {
					t.Errorf("%s: cluster %q", tc.file, e.Cluster)
				}
			}
			if tc.file == "wrappers.jsonl" && e.Cluster == "prod-eu" {
				// The Fluent Bit record adds cluster.
			} else if e.Cluster != "" && !strings.HasPrefix(tc.file, "aks-") {
				t.Errorf("%s: unexpected cluster %q", tc.file, e.Cluster)
			}
			delete(ga, "field:cluster") // checked above: the record's, not the event's
			for k, v := range wa {
				if ga[k] != v {
					t.Errorf("%s: %s: %s = %q, plain %q", tc.file, eventKey(e), k, ga[k], v)
				}
			}
			for k := range ga {
				if _, ok := wa[k]; !ok {
					t.Errorf("%s: %s: extra answer %s = %q", tc.file, eventKey(e), k, ga[k])
				}
			}
			for qi, q := range qs {
				got, exp := q.Matches(e), q.Matches(p)
				if got != exp {
					t.Errorf("%s: %s: %s matches %v, plain %v", tc.file, eventKey(e), shapeQueries[qi], got, exp)
				}
				if got && tc.file == "eks-firehose.gz" {
					matched[qi]++
				}
			}
			if len(e.Raw) == 0 || e.Origin.Line == 0 {
				t.Errorf("%s: %s: no Raw or line", tc.file, eventKey(e))
			}
		}
	}
	for qi, n := range matched {
		if n == 0 {
			t.Errorf("query %s matched nothing: the comparison proves little", shapeQueries[qi])
		}
	}
}

// TestShapesRawIsTheRecord checks that each event's Raw is the record as
// read, at its offset, for the shapes whose records are slices of the
// input; CSV rows give the @message field (and the source is then not
// seekable).
func TestShapesRawIsTheRecord(t *testing.T) {
	for _, name := range []string{"plain.jsonl", "eks-filter-log-events.json", "pretty.json", "array.json", "concatenated.json",
		"eventlist-pretty.json", "wrappers.jsonl", "shippers.jsonl", "fluentd-out_file.log", "filebeat-json.jsonl", "aks-pt1h.json", "aks-eventhub.json", "gke-sink.jsonl", "gke-gcloud.json"} {
		file, err := os.ReadFile(shapePath(name))
		if err != nil {
			t.Fatal(err)
		}
		evs, _, info := readShape(t, name, ReadOptions{})
		if !info.Seekable {
			t.Errorf("%s: not seekable", name)
		}
		for _, e := range evs {
			if got := file[e.Origin.Offset : e.Origin.Offset+int64(len(e.Raw))]; !bytes.Equal(got, e.Raw) {
				t.Errorf("%s:%d: Raw is not the bytes at its offset", name, e.Origin.Line)
			}
			if l := int64(bytes.Count(file[:e.Origin.Offset], []byte{'\n'})) + 1; l != e.Origin.Line {
				t.Errorf("%s: event at offset %d says line %d, is on line %d", name, e.Origin.Offset, e.Origin.Line, l)
			}
			// Raw decodes again to the same event (the TUI re-reads Raw).
			var d Decoder
			again, rej := d.Decode(nil, e.Raw, e.Origin)
			if rej != nil || len(again) != 1 || again[0].AuditID != e.AuditID || !bytes.Equal(again[0].EntryLine(), e.EntryLine()) {
				t.Errorf("%s:%d: Raw does not decode to the same event (%v)", name, e.Origin.Line, rej)
			}
		}
	}
	evs, _, info := readShape(t, "eks-insights.csv", ReadOptions{})
	if info.Seekable || len(evs) != 16 || !bytes.Equal(evs[0].Raw, evs[0].EntryLine()) {
		t.Errorf("csv: seekable %v, %d events", info.Seekable, len(evs))
	}
}

func TestGKELogEntries(t *testing.T) {
	type want struct {
		user, verb, res, sub, ns, name, group, ver, decision, level, uri, ip, ua string
		code                                                                     int
	}
	wants := map[string]want{
		"8f0c2b9e-1d4a-4c36-9a51-6e2f0b7c1a01": {"alice@example.com", "create", "pods", "exec", "payments", "api-7d9f8b6c5-x2k4p", "", "v1", "allow", "Metadata",
			"/api/v1/namespaces/payments/pods/api-7d9f8b6c5-x2k4p/exec", "203.0.113.10", "kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46", 101},
		"2b7e4d1c-9f3a-4e8b-b6d2-0c5a8e9f3b02": {"system:serviceaccount:payments:reporting", "get", "secrets", "", "payments", "db-credentials", "", "v1", "forbid", "Metadata",
			"/api/v1/namespaces/payments/secrets/db-credentials", "10.8.0.17", "reporting/1.4.0", 403},
		"5c1d9e2a-7b4f-4a0e-8d3c-2f6b1a9e4c03": {"bob@example.com", "update", "configmaps", "", "kube-system", "coredns", "", "v1", "allow", "RequestResponse",
			"/api/v1/namespaces/kube-system/configmaps/coredns", "198.51.100.7", "kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46", 200},
		"a4e6f8b0-2c1d-4e3f-9a8b-7c6d5e4f3a04": {"alice@example.com", "create", "clusterrolebindings", "", "", "backdoor-admin", "rbac.authorization.k8s.io", "v1", "allow", "Request",
			"/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/backdoor-admin", "203.0.113.10", "kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46", 201},
		"c9b8a7d6-5e4f-4a3b-8c2d-1e0f9a8b7c05": {"system:serviceaccount:monitoring:prometheus", "list", "pods", "", "payments", "", "", "v1", "allow", "Metadata",
			"/api/v1/namespaces/payments/pods", "10.8.0.23", "Prometheus/2.54.1", 200},
		"e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a06": {"alice@example.com", "create", "pods", "", "payments", "debug-root", "", "v1", "allow", "RequestResponse",
			"/api/v1/namespaces/payments/pods/debug-root", "203.0.113.10", "kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46", 201},
		"f0e1d2c3-b4a5-4968-8776-5a4b3c2d1e07": {"carol@example.com", "create", "pods", "", "restricted", "nginx", "", "v1", "allow", "RequestResponse",
			"/api/v1/namespaces/restricted/pods/nginx", "198.51.100.22", "kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46", 403},
	}
	priv, err := logql.ParseLog(`{job="audit"} | json p="requestObject.spec.containers[0].securityContext.privileged" | p="true"`)
	if err != nil {
		t.Fatal(err)
	}
	var first []Event
	for _, name := range []string{"gke-sink.jsonl", "gke-gcloud.json"} {
		evs, rejs, _ := readShape(t, name, ReadOptions{})
		if len(evs) != len(wants) {
			t.Fatalf("%s: %d events, want %d", name, len(evs), len(wants))
		}
		var reasons []string
		for _, r := range rejs {
			reasons = append(reasons, r.Reason)
		}
		if len(rejs) != 2 || !strings.Contains(reasons[0], `Cloud Audit Logs entry of service "container.googleapis.com" (method "google.container.v1.ClusterManager.SetMasterAuth"): not a Kubernetes API audit event`) ||
			!strings.Contains(reasons[1], "GKE LogEntry without protoPayload (it has textPayload instead)") {
			t.Errorf("%s: rejects %q", name, reasons)
		}
		privileged := 0
		for i := range evs {
			e := &evs[i]
			w, ok := wants[e.AuditID]
			if !ok {
				t.Errorf("%s: unexpected auditID %q", name, e.AuditID)
				continue
			}
			got := want{e.User, e.Verb, e.Resource, e.Subresource, e.Namespace, e.Name, e.APIGroup, e.ObjAPIVer, e.Decision, e.Level, e.RequestURI,
				strings.Join(e.SourceIPs, ","), e.UserAgent, e.Code}
			if got != w {
				t.Errorf("%s: %s:\n got  %+v\n want %+v", name, e.AuditID, got, w)
			}
			if e.Cluster != "gke-demo" || e.Time == 0 || e.Stage != "ResponseComplete" || e.APIVersion != "audit.k8s.io/v1" {
				t.Errorf("%s: %s: cluster %q time %d stage %q", name, e.AuditID, e.Cluster, e.Time, e.Stage)
			}
			// LogQL sees the Kubernetes names, Raw keeps the LogEntry.
			if v, _ := e.JSONField("user_username"); v != w.user {
				t.Errorf("%s: user_username = %q", name, v)
			}
			if !bytes.Contains(e.Raw, []byte(`"protoPayload"`)) {
				t.Errorf("%s: Raw is not the LogEntry", name)
			}
			if priv.Matches(e) {
				privileged++
			}
		}
		if privileged != 2 {
			t.Errorf("%s: %d privileged pod creates, want 2", name, privileged)
		}
		if first == nil {
			first = evs
			continue
		}
		// The sink file and gcloud's pretty array give the same answers.
		for i := range evs {
			ga, fa := answers(&evs[i]), answers(&first[i])
			for k, v := range fa {
				if ga[k] != v {
					t.Errorf("gcloud vs sink: %s: %s = %q vs %q", evs[i].AuditID, k, ga[k], v)
				}
			}
		}
	}
}

func TestAKSRecords(t *testing.T) {
	evs, rejs, _ := readShape(t, "aks-pt1h.json", ReadOptions{})
	if len(evs) != 6 || len(rejs) != 2 {
		t.Fatalf("%d events, rejects %v", len(evs), rejs)
	}
	for i, cat := range []string{"guard", "kube-apiserver"} {
		if w := fmt.Sprintf("AKS record of category %q: not an audit log", cat); !strings.Contains(rejs[i].Reason, w) || rejs[i].Origin.Line != int64(7+i) {
			t.Errorf("reject %d: %s, want line %d with %q", i, rejs[i].Error(), 7+i, w)
		}
	}
	for _, e := range evs {
		if e.Cluster != "AKS-DEMO" || !bytes.Contains(e.Raw, []byte(`"category":"kube-audit`)) {
			t.Errorf("%s: cluster %q", e.AuditID, e.Cluster)
		}
	}
	var d Decoder
	for _, tc := range []struct{ in, want string }{
		{`{"category":"kube-audit","resourceId":"/x/managedClusters/c","properties":{"stream":"stdout"}}`, `AKS record of category "kube-audit" without properties.log`},
		{`{"category":"kube-audit","properties":{"log":"I1120 started"}}`, "field properties.log holds text, not a JSON audit event"},
		{`{"category":"kube-audit","properties":{"log":"{\"kind\":\"Pod\"}"}}`, `properties.log: JSON object of kind "Pod" is not an audit event`},
		{`{"records":[{"category":"kube-audit","properties":{"log":"{\"kind\":\"Event\",\"verb\":\"get\"}"}},{"category":"cluster-autoscaler","properties":{"log":"x"}}]}`, `records[1]: AKS record of category "cluster-autoscaler"`},
	} {
		_, rej := d.Decode(nil, []byte(tc.in), Origin{Line: 1})
		if rej == nil || !strings.Contains(rej.Reason, tc.want) {
			t.Errorf("%s: reject %v, want %q", tc.in, rej, tc.want)
		}
	}
}

func TestCloudWatchMessages(t *testing.T) {
	ev := string(plainLines(t)[0])
	var d Decoder
	// A health check holds no events and is not a reject.
	evs, rej := d.Decode(nil, []byte(`{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1,"message":"CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}`), Origin{Line: 1})
	if len(evs) != 0 || rej != nil {
		t.Fatalf("control message: %d events, %v", len(evs), rej)
	}
	// filter-log-events over the whole EKS log group also returns the
	// other control plane logs: each is rejected naming its log stream.
	doc := `{"events":[{"logStreamName":"authenticator-0b1c","timestamp":1795140008000,"message":"time=\"2026-11-20T02:00:08Z\" level=info msg=\"access granted\"","eventId":"1"},` +
		`{"logStreamName":"kube-apiserver-audit-1","timestamp":1795140008000,"message":` + strconvQuote(ev) + `,"eventId":"2"}]}`
	var b Batch
	d.DecodeTo(&b, []byte(doc), Origin{Line: 1})
	if len(b.Events) != 1 || len(b.Rejects) != 1 || !strings.Contains(b.Rejects[0].Reason, `events[0]: CloudWatch Logs event of log stream "authenticator-0b1c": message holds text, not a JSON audit event`) {
		t.Fatalf("events %d rejects %v", len(b.Events), b.Rejects)
	}
	// An event without any timestamp of its own takes the CloudWatch
	// event's time.
	undated := `{"kind":"Event","auditID":"u1","verb":"get"}`
	evs, rej = d.Decode(nil, []byte(`{"logStreamName":"kube-apiserver-audit-1","timestamp":1795140008123,"message":`+strconvQuote(undated)+`}`), Origin{Line: 1})
	if rej != nil || len(evs) != 1 || evs[0].Time != 1795140008123*1e6 {
		t.Fatalf("carrier time: %v %v", evs, rej)
	}
}

func TestWrapperShapes(t *testing.T) {
	evs, rejs, _ := readShape(t, "wrappers.jsonl", ReadOptions{})
	if len(evs) != 5 || len(rejs) != 0 {
		t.Fatalf("%d events, %v", len(evs), rejs)
	}
	var d Decoder
	for _, tc := range []struct{ in, want string }{
		{`{"message":"GET /healthz 200"}`, "field message holds text, not a JSON audit event"},
		{`{"log":"{\"kind\":\"Event\",\"verb\":"}`, "field log: malformed JSON"},
		{`{"insertId":"x","logName":"projects/p/logs/stdout","textPayload":"hello"}`, "GKE LogEntry without protoPayload"},
		{`{"insertId":"x","protoPayload":{"@type":"type.googleapis.com/google.cloud.audit.AuditLog","serviceName":"k8s.io"}}`, "GKE audit LogEntry without protoPayload.methodName"},
		{`{"insertId":"x","protoPayload":{"@type":"type.googleapis.com/google.appengine.logging.v1.RequestLog"}}`, "protoPayload is a type.googleapis.com/google.appengine.logging.v1.RequestLog, not an audit log"},
	} {
		_, rej := d.Decode(nil, []byte(tc.in), Origin{Line: 1})
		if rej == nil || !strings.Contains(rej.Reason, tc.want) {
			t.Errorf("%s: reject %v, want %q", tc.in, rej, tc.want)
		}
	}
}

// TestMultiLineErrors: a syntax error in a multi-line document is one
// reject at the line where the bad value starts (naming the line of the
// error), and reading goes on with the next value.
func TestMultiLineErrors(t *testing.T) {
	lines := plainLines(t)
	arr, err := os.ReadFile(shapePath("array.json"))
	if err != nil {
		t.Fatal(err)
	}
	// Break the third element: drop the colon after its "verb" key.
	els := bytes.SplitAfter(arr, []byte("\n  {\n"))
	if len(els) != 7 {
		t.Fatalf("array layout: %d parts", len(els))
	}
	third := bytes.Replace(els[3], []byte(`"verb": `), []byte(`"verb" `), 1)
	broken := bytes.Join([][]byte{els[0], els[1], els[2], third, els[4], els[5], els[6]}, nil)
	startLine := int64(bytes.Count(bytes.Join(els[:3], nil), []byte{'\n'}))
	evs, rejs := readBytes(t, broken, 0)
	if len(evs) != 5 || len(rejs) != 1 {
		t.Fatalf("%d events, rejects %v", len(evs), rejs)
	}
	if rejs[0].Origin.Line != startLine || !strings.Contains(rejs[0].Reason, "malformed JSON at line") || !strings.Contains(rejs[0].Reason, "up to the next value") {
		t.Errorf("reject %s, want line %d", rejs[0].Error(), startLine)
	}
	// jq . output with a truncated object in the middle.
	pretty, _ := os.ReadFile(shapePath("pretty.json"))
	objs := bytes.SplitAfter(pretty, []byte("\n}\n"))
	cut := objs[1][:len(objs[1])/2]
	evs, rejs = readBytes(t, bytes.Join([][]byte{objs[0], cut, []byte("\n"), objs[2], objs[3]}, nil), 0)
	if len(evs) != 3 || len(rejs) != 1 || rejs[0].Origin.Line != int64(bytes.Count(objs[0], []byte{'\n'})+1) {
		t.Errorf("cut object: %d events, rejects %v", len(evs), rejs)
	}
	// Concatenated compact objects with a broken one in the middle.
	cat := append(append(append([]byte(nil), lines[0]...), lines[1][:100]...), lines[2]...)
	evs, rejs = readBytes(t, append([]byte("{\"x\":1}"), cat...), 0)
	if len(evs) != 2 || len(rejs) != 2 {
		t.Errorf("concatenated: %d events, rejects %v", len(evs), rejs)
	}
	// A file that ends inside the array.
	evs, rejs = readBytes(t, arr[:len(arr)-20], 0)
	if len(evs) != 5 || len(rejs) != 1 || !strings.Contains(rejs[0].Reason, "could not be read") && !strings.Contains(rejs[0].Reason, "unexpected end of input") {
		t.Errorf("truncated array: %d events, rejects %v", len(evs), rejs)
	}
}

// TestPrettyGarbageResyncs: text that is not JSON between concatenated
// pretty-printed objects costs its own lines, not the objects after it;
// a tail that cannot be read is counted line by line.
func TestPrettyGarbageResyncs(t *testing.T) {
	pretty, err := os.ReadFile(shapePath("pretty.json"))
	if err != nil {
		t.Fatal(err)
	}
	objs := bytes.SplitAfter(pretty, []byte("\n}\n"))
	if len(objs) != 6 || len(objs[5]) != 0 {
		t.Fatalf("pretty.json: %d objects", len(objs)-1)
	}
	first := int64(bytes.Count(objs[0], []byte{'\n'}))
	for _, tc := range []struct {
		name, garbage string
		lines         int64
	}{
		{"text", "THIS IS NOT JSON\n", 1},
		{"text lines", "THIS IS NOT JSON\nnor this\n\n", 3},
		{"a scalar cut", "\"a string that never ends\n", 1},
		{"a stray brace", "}\n", 1},
	} {
		in := bytes.Join([][]byte{objs[0], []byte(tc.garbage), objs[1], objs[2], objs[3], objs[4]}, nil)
		evs, rejs := readBytes(t, in, 0)
		if len(evs) != 5 || len(rejs) != 1 {
			t.Errorf("%s: %d events (want 5), rejects %v", tc.name, len(evs), rejs)
			continue
		}
		if rejs[0].Origin.Line != first+1 || rejs[0].LineCount() != tc.lines || !strings.Contains(rejs[0].Reason, "up to the next value") {
			t.Errorf("%s: reject %s standing for %d lines, want line %d and %d lines", tc.name, rejs[0].Error(), rejs[0].LineCount(), first+1, tc.lines)
		}
		if evs[1].Origin.Line != first+1+tc.lines {
			t.Errorf("%s: the next object read at line %d, want %d", tc.name, evs[1].Origin.Line, first+1+tc.lines)
		}
	}
	// A tail that cannot be read: the reject counts its lines.
	in := append(append([]byte(nil), pretty...), objs[1][:len(objs[1])/2]...)
	evs, rejs := readBytes(t, in, 0)
	total := int64(bytes.Count(in, []byte{'\n'})) + 1
	from := int64(bytes.Count(pretty, []byte{'\n'})) + 1
	if len(evs) != 5 || len(rejs) != 1 || rejs[0].Origin.Line != from || rejs[0].LineCount() != total-from+1 ||
		!strings.Contains(rejs[0].Reason, fmt.Sprintf("(lines %d-%d) could not be read", from, total)) {
		t.Errorf("cut tail: %d events, rejects %v (%d lines)", len(evs), rejs, RejectedLines(rejs))
	}
}

// TestByteOrderMarks: a UTF-8 byte order mark at the start of a line or
// between documents (`cat a b` where b starts with one) is skipped; Raw
// and its offset are the event's own bytes.
func TestByteOrderMarks(t *testing.T) {
	lines := plainLines(t)
	bom := "\xef\xbb\xbf"
	in := []byte(bom + string(lines[0]) + "\n" + string(lines[1]) + "\n" + bom + string(lines[2]) + "\n" + bom + "  " + string(lines[3]) + "\n")
	evs, rejs := readBytes(t, in, 0)
	if len(evs) != 4 || len(rejs) != 0 {
		t.Fatalf("BOM lines: %d events, rejects %v", len(evs), rejs)
	}
	for i, e := range evs[:3] {
		if !bytes.Equal(e.Raw, lines[i]) || !bytes.Equal(in[e.Origin.Offset:e.Origin.Offset+int64(len(e.Raw))], e.Raw) {
			t.Errorf("event %d: Raw %.30q at offset %d", i, e.Raw, e.Origin.Offset)
		}
	}
	// The decoder alone (a followed file decodes its lines with it).
	var d Decoder
	if evs, rej := d.Decode(nil, []byte(bom+string(lines[0])), Origin{Offset: 100}); len(evs) != 1 || rej != nil || evs[0].Origin.Offset != 103 {
		t.Errorf("Decode with a BOM: %d events, %v", len(evs), rej)
	}
	// A run of them is rejected (and never recursed into); the event
	// after it is read on its own, as after a run of NUL bytes.
	if evs, rej := d.Decode(nil, []byte(strings.Repeat(bom, 1<<20)+string(lines[0])), Origin{}); len(evs) != 1 || rej == nil {
		t.Errorf("a run of BOMs: %d events, %v", len(evs), rej)
	}
	pretty, _ := os.ReadFile(shapePath("pretty.json"))
	in = append(append(append([]byte(nil), pretty...), bom...), pretty...)
	if evs, rejs := readBytes(t, in, 0); len(evs) != 10 || len(rejs) != 0 {
		t.Errorf("pretty + BOM + pretty: %d events, rejects %v", len(evs), rejs)
	}
}

// TestUTF16Input: UTF-16 input (Windows PowerShell's >), either byte
// order, with or without a byte order mark, is read as UTF-8; UTF-16
// lines inside a UTF-8 file are rejected as UTF-16.
func TestUTF16Input(t *testing.T) {
	lines := plainLines(t)
	var plain bytes.Buffer
	for _, l := range lines {
		plain.Write(l)
		plain.WriteByte('\n')
	}
	// Read in small pieces: a surrogate pair is split across reads.
	text := strings.Replace(plain.String(), `"verb":"`, "\"verb\":\"\U0001F600", 1)
	for _, tc := range []struct {
		name string
		be   bool
		bom  bool
	}{{"LE", false, true}, {"BE", true, true}, {"LE no BOM", false, false}, {"BE no BOM", true, false}} {
		enc := utf16Encode(text, tc.be, tc.bom)
		var got []Event
		var rejs []Reject
		info := &SourceInfo{Name: "u16", Seekable: true}
		DecodeReader(context.Background(), iotest.OneByteReader(bytes.NewReader(enc)), info, ReadOptions{}, 0, func(b *Batch) bool {
			for i := range b.Events {
				got = append(got, b.Events[i].Clone())
			}
			rejs = append(rejs, b.Rejects...)
			return true
		})
		if len(got) != len(lines) || len(rejs) != 0 {
			t.Errorf("UTF-16 %s: %d events of %d, rejects %v", tc.name, len(got), len(lines), rejs)
			continue
		}
		if info.Seekable {
			t.Errorf("UTF-16 %s: seekable (Raw is not the file's bytes)", tc.name)
		}
		if !strings.Contains(string(got[0].Raw), "\U0001F600") || got[0].Origin.Line != 1 || got[len(got)-1].Origin.Line != int64(len(lines)) {
			t.Errorf("UTF-16 %s: first Raw %.80q, lines %d..%d", tc.name, got[0].Raw, got[0].Origin.Line, got[len(got)-1].Origin.Line)
		}
	}
	// UTF-16 lines appended to a UTF-8 file are named as such.
	in := append([]byte(string(lines[0])+"\n"), utf16Encode(string(lines[1])+"\n"+string(lines[2])+"\n", false, true)...)
	evs, rejs := readBytes(t, in, 0)
	if len(evs) != 1 || len(rejs) < 2 {
		t.Fatalf("UTF-16 appended: %d events, rejects %v", len(evs), rejs)
	}
	for _, r := range rejs[:2] {
		if !strings.Contains(r.Reason, "UTF-16") {
			t.Errorf("UTF-16 appended: %s", r.Error())
		}
	}
}

// utf16Encode encodes s as UTF-16, with a byte order mark if bom.
func utf16Encode(s string, be, bom bool) []byte {
	var out []byte
	put := func(u uint16) {
		if be {
			out = append(out, byte(u>>8), byte(u))
		} else {
			out = append(out, byte(u), byte(u>>8))
		}
	}
	if bom {
		put(0xfeff)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		put(u)
	}
	return out
}

// TestPrettyDamageCostsOnlyTheDamagedObjects: concatenated pretty
// objects, some cut, some with a stray character, some after a line of
// text: every undamaged object is read, at its line.
func TestPrettyDamageCostsOnlyTheDamagedObjects(t *testing.T) {
	pretty, err := os.ReadFile(shapePath("pretty.json"))
	if err != nil {
		t.Fatal(err)
	}
	objs := bytes.SplitAfter(pretty, []byte("\n}\n"))
	objs = objs[:len(objs)-1]
	rng := rand.New(rand.NewPCG(3, 4))
	for iter := 0; iter < 300; iter++ {
		var b bytes.Buffer
		line := int64(1)
		type obj struct {
			line    int64
			id      string
			damaged bool
		}
		var placed []obj
		for n := 0; n < 8; n++ {
			o := objs[rng.IntN(len(objs))]
			id := string(regexpAuditID.FindSubmatch(o)[1])
			damaged := false
			damage := rng.IntN(5)
			if n == 0 {
				damage = 4 // the first line tells the shape
			}
			switch damage {
			case 0:
				o = append(bytes.Clone(o[:rng.IntN(len(o)-1)]), '\n')
				damaged = true
			case 1:
				k := rng.IntN(len(o) - 1)
				o = append(append(bytes.Clone(o[:k]), "#@!"[rng.IntN(3)]), o[k:]...)
				damaged = true
			case 2:
				// (no stray closing bracket: with one, a cut object can
				// close over the next, a valid document of its own)
				g := []string{"THIS IS NOT JSON\n", "\"cut string\n", "null,\n", "{\"not\": \"closed\"\n"}[rng.IntN(4)]
				b.WriteString(g)
				line += int64(strings.Count(g, "\n"))
			}
			placed = append(placed, obj{line, id, damaged})
			b.Write(o)
			line += int64(bytes.Count(o, []byte{'\n'}))
		}
		evs, rejs := readBytes(t, b.Bytes(), 0)
		read := map[int64]string{}
		for _, e := range evs {
			read[e.Origin.Line] = e.AuditID
		}
		for _, o := range placed {
			if !o.damaged && read[o.line] != o.id {
				t.Fatalf("iteration %d: undamaged object at line %d (%s) not read (read %q); rejects %v\n%s", iter, o.line, o.id, read[o.line], rejs, b.Bytes())
			}
		}
	}
}

var regexpAuditID = regexp.MustCompile(`"auditID": "([^"]+)"`)

func readBytes(t *testing.T, in []byte, maxLine int) ([]Event, []Reject) {
	t.Helper()
	var evs []Event
	var rejs []Reject
	info := &SourceInfo{Name: "in", Seekable: true}
	_, err := DecodeReader(context.Background(), bytes.NewReader(in), info, ReadOptions{}, maxLine, func(b *Batch) bool {
		for i := range b.Events {
			evs = append(evs, b.Events[i].Clone())
		}
		rejs = append(rejs, b.Rejects...)
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return evs, rejs
}

// TestBigDocumentsStream: a document bigger than the limit is read one
// batch element at a time, never held whole; a single value over the limit
// is rejected and skipped.
func TestBigDocumentsStream(t *testing.T) {
	fle, _ := os.ReadFile(shapePath("eks-filter-log-events.json"))
	evs, rejs := readBytes(t, fle, 4096) // the document is ~25 KB, each event under 4 KB
	if len(evs) != 16 || len(rejs) != 0 {
		t.Fatalf("filter-log-events as a stream: %d events, %v", len(evs), rejs)
	}
	for _, e := range evs {
		if !bytes.Equal(fle[e.Origin.Offset:e.Origin.Offset+int64(len(e.Raw))], e.Raw) {
			t.Fatal("Raw is not the element at its offset")
		}
	}
	el, _ := os.ReadFile(shapePath("eventlist-pretty.json"))
	if evs, rejs = readBytes(t, el, 3000); len(evs) != 4 || len(rejs) != 0 {
		t.Fatalf("EventList as a stream: %d events, %v", len(evs), rejs)
	}
	pretty, _ := os.ReadFile(shapePath("pretty.json"))
	evs, rejs = readBytes(t, pretty, 1000)
	if len(rejs) == 0 || !strings.Contains(rejs[0].Reason, "JSON object of more than 1000 bytes") {
		t.Fatalf("over-long object: %d events, %v", len(evs), rejs)
	}
	arr, _ := os.ReadFile(shapePath("array.json"))
	evs, rejs = readBytes(t, arr, 1400)
	long := 0
	for _, r := range rejs {
		if strings.Contains(r.Reason, "is longer than the 1400 bytes limit; skipped") {
			long++
		}
	}
	if long == 0 || len(evs)+long != 6 {
		t.Fatalf("over-long elements: %d events, %v", len(evs), rejs)
	}
}

// TestRejectsDoNotDependOnTheQuery: the lines a prefilter skips are checked,
// so a query's literals never hide bad input.
func TestRejectsDoNotDependOnTheQuery(t *testing.T) {
	lines := plainLines(t)
	good := string(lines[3])
	bad := []string{
		good[:len(good)-40],       // cut short
		good[:300] + good,         // two lines joined after a partial write
		"\x00\x00\x00\x00" + good, // NUL padding
		strings.Replace(good, `"verb":"`, "\"verb\":\"\x01", 1), // a control character
		strings.Replace(good, `"level"`, "\"l\xffvel\"", 1),     // invalid UTF-8
		"not json at all",
		`{"log":"{\"kind\":\"Event\"`, // a cut wrapper
	}
	var in bytes.Buffer
	for i, l := range lines {
		in.Write(l)
		in.WriteByte('\n')
		if i < len(bad) {
			in.WriteString(bad[i])
			in.WriteByte('\n')
		}
	}
	where := func(rs []Reject) string {
		var s []string
		for _, r := range rs {
			s = append(s, r.Error())
		}
		sort.Strings(s)
		return strings.Join(s, "\n")
	}
	read := func(pf *Prefilter) ([]Event, []Reject) {
		var evs []Event
		var rejs []Reject
		DecodeReader(context.Background(), bytes.NewReader(in.Bytes()), &SourceInfo{Name: "f.log"}, ReadOptions{Prefilter: pf}, 0, func(b *Batch) bool {
			evs = append(evs, b.Events...)
			rejs = append(rejs, b.Rejects...)
			return true
		})
		return evs, rejs
	}
	// 16 good lines, and the whole events of the joined and the
	// NUL-padded lines, read on their own.
	evsAll, all := read(nil)
	if len(all) != len(bad) || len(evsAll) != 18 {
		t.Fatalf("without a query: %d events, %d rejects:\n%s", len(evsAll), len(all), where(all))
	}
	for _, lit := range []string{`"nothing-has-this"`, `"get"`, `"secrets"`} {
		evs, some := read(&Prefilter{All: [][]byte{[]byte(lit)}})
		if where(some) != where(all) {
			t.Errorf("prefilter %s: rejects\n%s\nwant\n%s", lit, where(some), where(all))
		}
		if len(evs) > 18 {
			t.Errorf("prefilter %s: %d events", lit, len(evs))
		}
	}
}

// TestUndatedEvents: an event with no time at all is kept when no window
// applies, and counted (not dropped silently) when one does.
func TestUndatedEvents(t *testing.T) {
	in := `{"kind":"Event","auditID":"u1","verb":"get","objectRef":{"resource":"pods"}}` + "\n" + string(plainLines(t)[0]) + "\n"
	var all, windowed Batch
	DecodeReader(context.Background(), strings.NewReader(in), &SourceInfo{Name: "u"}, ReadOptions{}, 0, func(b *Batch) bool {
		all.Events = append(all.Events, b.Events...)
		all.Undated += b.Undated
		return true
	})
	DecodeReader(context.Background(), strings.NewReader(in), &SourceInfo{Name: "u"}, ReadOptions{From: 1}, 0, func(b *Batch) bool {
		windowed.Events = append(windowed.Events, b.Events...)
		windowed.Undated += b.Undated
		return true
	})
	if len(all.Events) != 2 || all.Undated != 0 || len(windowed.Events) != 1 || windowed.Undated != 1 {
		t.Fatalf("no window: %d events %d undated; window: %d events %d undated", len(all.Events), all.Undated, len(windowed.Events), windowed.Undated)
	}
	// The prefilter never skips an undated line unread: the count does not
	// depend on the query.
	n := 0
	DecodeReader(context.Background(), strings.NewReader(in), &SourceInfo{Name: "u"}, ReadOptions{From: 1, Prefilter: &Prefilter{All: [][]byte{[]byte(`"nope"`)}}}, 0, func(b *Batch) bool {
		n += b.Undated
		return true
	})
	if n != 1 {
		t.Fatalf("undated with a prefilter: %d", n)
	}
}

func TestDetectShape(t *testing.T) {
	ev := string(plainLines(t)[0])
	for _, tc := range []struct {
		head string
		want inputShape
	}{
		{ev + "\n" + ev + "\n", shapeLines},
		{"\n\n  " + ev + "\n", shapeLines},
		{ev[:50] + "\n" + ev + "\n", shapeLines}, // a cut first line
		{"{\n  \"kind\": \"Event\",\n", shapeDocs},
		{"[\n", shapeDocs},
		{ev + ev + "\n", shapeDocs},
		{"@timestamp,@message\n", shapeCSV},
		{"\"@timestamp\",\"@message\",\"@logStream\"\n", shapeCSV},
		{"hello\n", shapeLines},
		{"", shapeLines},
	} {
		if got := detectShape([]byte(tc.head), false); got != tc.want {
			t.Errorf("%.40q: shape %d, want %d", tc.head, got, tc.want)
		}
	}
}

func TestCSVRows(t *testing.T) {
	ev := string(plainLines(t)[0])
	q := strconvQuote(ev) // a JSON string, not CSV quoting: rows built by hand below
	_ = q
	csvq := `"` + strings.ReplaceAll(ev, `"`, `""`) + `"`
	in := "@timestamp,@message\n" +
		"2026-11-20 02:00:08.789," + csvq + "\n" +
		"2026-11-20 02:00:09.000,\n" +
		"2026-11-20 02:00:10.000,\"{\"\"kind\"\":\"\"Event\"\",\"\"verb\"\":\"\"get\"\",\"\"auditID\"\":\"\"c1\"\"}\"\n" +
		"2026-11-20 02:00:11.000,\"unterminated\n"
	evs, rejs := readBytes(t, []byte(in), 0)
	if len(evs) != 2 || len(rejs) != 2 {
		t.Fatalf("%d events, rejects %v", len(evs), rejs)
	}
	if evs[1].Time == 0 || evs[1].Origin.Line != 4 {
		t.Errorf("undated row: time %d line %d (wants the @timestamp and line 4)", evs[1].Time, evs[1].Origin.Line)
	}
	if rejs[0].Origin.Line != 3 || !strings.Contains(rejs[0].Reason, "without @message") || rejs[1].Origin.Line != 5 || !strings.Contains(rejs[1].Reason, "malformed CSV row") {
		t.Errorf("rejects %v", rejs)
	}
}

// TestCSVBadRowKeepsTheNext: a row whose quoted field does not close (a
// cut row) makes encoding/csv read on into the next line; that line is a
// row of its own and is read, the bad row is rejected at its own line, and
// no other line is lost. A row over the limit is rejected with the lines
// it spans and reading goes on after it.
func TestCSVBadRowKeepsTheNext(t *testing.T) {
	in, err := os.ReadFile(shapePath("eks-insights.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows := bytes.SplitAfter(in, []byte("\n"))
	if len(rows) != 18 || len(rows[17]) != 0 {
		t.Fatalf("eks-insights.csv: %d lines", len(rows)-1)
	}
	// lines (1-based) 3 and 9 cut inside their @message (line 9 before a
	// row whose @message quote comes first); line 12 ends its @message
	// early and goes on with a stray quote.
	cut := func(r []byte) []byte { return append(append([]byte(nil), r[:len(r)/3]...), '\n') }
	var b bytes.Buffer
	for i, r := range rows {
		switch i + 1 {
		case 3, 9:
			b.Write(cut(r))
		case 12:
			b.Write(bytes.Replace(r, []byte(`""verb""`), []byte(`"verb"`), 1))
		default:
			b.Write(r)
		}
	}
	evs, rejs := readBytes(t, b.Bytes(), 0)
	if len(evs) != 13 || len(rejs) != 3 {
		t.Fatalf("%d events (want 13 of 16), rejects %v", len(evs), rejs)
	}
	for i, want := range []int64{3, 9, 12} {
		if rejs[i].Origin.Line != want || !strings.Contains(rejs[i].Reason, "malformed CSV row") || rejs[i].LineCount() != 1 {
			t.Errorf("reject %d: %s (%d lines), want line %d", i, rejs[i].Error(), rejs[i].LineCount(), want)
		}
	}
	lines := map[int64]bool{}
	for _, e := range evs {
		lines[e.Origin.Line] = true
		if e.Time == 0 {
			t.Errorf("line %d: no time", e.Origin.Line)
		}
	}
	for l := int64(2); l <= 17; l++ {
		if bad := l == 3 || l == 9 || l == 12; lines[l] == bad {
			t.Errorf("line %d: read %v", l, lines[l])
		}
	}
	// Every event is the one on its line.
	for _, e := range evs {
		if !bytes.Contains(rows[e.Origin.Line-1], []byte(strings.ReplaceAll(e.AuditID, `"`, `""`))) {
			t.Errorf("line %d: event %s is not that row's", e.Origin.Line, e.AuditID)
		}
	}
	// The parser reads two lines on (the first holds no quote): both are
	// read again.
	b.Reset()
	b.Write(rows[0])
	b.Write(cut(rows[1]))
	b.WriteString("2026-11-20 02:00:09.000,\n")
	for _, r := range rows[2:5] {
		b.Write(r)
	}
	evs, rejs = readBytes(t, b.Bytes(), 0)
	if len(evs) != 3 || len(rejs) != 2 || rejs[0].Origin.Line != 2 || !strings.Contains(rejs[0].Reason, "lines 3-4 read again") ||
		rejs[1].Origin.Line != 3 || !strings.Contains(rejs[1].Reason, "without @message") || evs[0].Origin.Line != 4 {
		t.Fatalf("two lines read on: %d events, rejects %v", len(evs), rejs)
	}
	// A row over the limit: rejected with its lines, the next rows read.
	// Where a row of several lines goes over it, the lines after are read
	// as rows (each rejected in its own terms when it is not one).
	b.Reset()
	b.Write(rows[0])
	b.Write(rows[1])
	b.WriteString("2026-11-20 02:00:09.000,\"" + strings.Repeat("x", 5000) + "\"\n")
	b.Write(rows[2])
	b.WriteString("2026-11-20 02:00:09.000,\"" + strings.Repeat("x\n", 1000) + strings.Repeat("x", 600) + "\ny\"\n")
	b.Write(rows[3])
	evs, rejs = readBytes(t, b.Bytes(), 2500)
	if len(evs) != 3 || len(rejs) != 3 || rejs[0].Origin.Line != 3 || rejs[0].LineCount() != 1 ||
		rejs[1].Origin.Line != 5 || rejs[1].LineCount() != 1001 || !strings.Contains(rejs[1].Reason, "CSV row of more than 2500 bytes (lines 5-1005); skipped") ||
		rejs[2].Origin.Line != 1006 || !strings.Contains(rejs[2].Reason, "bare") {
		t.Fatalf("over-long rows: %d events, rejects %v", len(evs), rejs)
	}
	if evs[2].Origin.Line != 1007 {
		t.Errorf("row after the long one: line %d, want 1007", evs[2].Origin.Line)
	}
}

// TestCSVDamageCostsOnlyTheDamagedRows: whatever damage rows take (cut
// anywhere, a quote added or removed anywhere), every undamaged row is
// read, at its line, and every damaged row is read or named.
func TestCSVDamageCostsOnlyTheDamagedRows(t *testing.T) {
	in, err := os.ReadFile(shapePath("eks-insights.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows := bytes.SplitAfter(in, []byte("\n"))
	rows = rows[:len(rows)-1]
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := 0; iter < 300; iter++ {
		var b bytes.Buffer
		damaged := map[int64]bool{}
		for i, r := range rows {
			if i > 0 && rng.IntN(3) == 0 {
				r = bytes.Clone(r)
				k := rng.IntN(len(r) - 1)
				switch rng.IntN(3) {
				case 0:
					r = append(r[:k], '\n')
				case 1:
					r = append(r[:k], append([]byte{'"'}, r[k:]...)...)
				default:
					if j := bytes.IndexByte(r[k:], '"'); j >= 0 {
						r = append(r[:k+j], r[k+j+1:]...)
					}
				}
				// (a row cut to nothing is a blank line: nothing to read)
				damaged[int64(i+1)] = len(bytes.TrimSpace(r)) > 0
			}
			b.Write(r)
		}
		evs, rejs := readBytes(t, b.Bytes(), 0)
		read := map[int64]bool{}
		for _, e := range evs {
			read[e.Origin.Line] = true
			if !bytes.Contains(rows[e.Origin.Line-1], []byte(e.AuditID)) {
				t.Fatalf("iteration %d: line %d: event %s is not that row's", iter, e.Origin.Line, e.AuditID)
			}
		}
		named := map[int64]bool{}
		for _, r := range rejs {
			for l := r.Origin.Line; l < r.Origin.Line+r.LineCount(); l++ {
				named[l] = true
			}
		}
		for l := int64(2); l <= int64(len(rows)); l++ {
			_, touched := damaged[l]
			switch {
			case !touched && !read[l]:
				t.Fatalf("iteration %d: undamaged line %d not read; rejects %v", iter, l, rejs)
			case damaged[l] && !read[l] && !named[l]:
				t.Fatalf("iteration %d: damaged line %d neither read nor named; rejects %v", iter, l, rejs)
			}
		}
	}
}

// FuzzReadShapes feeds arbitrary input to the reader of every shape: it
// must not panic or hang, every event's Raw must be the bytes at its
// offset (unless the source says it cannot be read back), and rejects must
// have reasons.
func FuzzReadShapes(f *testing.F) {
	for _, name := range []string{"plain.jsonl", "pretty.json", "array.json", "concatenated.json", "eventlist-pretty.json", "wrappers.jsonl", "shippers.jsonl", "fluentd-out_file.log", "filebeat-json.jsonl", "aks-eventhub.json", "gke-gcloud.json", "eks-insights.csv"} {
		b, err := os.ReadFile(shapePath(name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b[:min(len(b), 3000)])
	}
	f.Add([]byte("[{\"kind\":\"Event\"},\n  {\"kind\":\n  {\"kind\":\"Event\"}]"))
	f.Add([]byte("@timestamp,@message\n1,\"{\"\"a\n2,\"{\"\"kind\"\":1}\"\n"))
	f.Add([]byte("{\n \"a\": 1\n}\nNOT JSON\n\xef\xbb\xbf{\n \"b\": 2\n}\n"))
	f.Add(utf16Encode("{\"kind\":\"Event\"}\n{\"a\":\"\U0001F600\"}\n", false, true))
	f.Fuzz(func(t *testing.T, in []byte) {
		info := &SourceInfo{Name: "fuzz", Seekable: true}
		_, err := DecodeReader(context.Background(), bytes.NewReader(in), info, ReadOptions{}, 512, func(b *Batch) bool {
			for _, e := range b.Events {
				if info.Seekable && (e.Origin.Offset < 0 || e.Origin.Offset+int64(len(e.Raw)) > int64(len(in)) ||
					!bytes.Equal(in[e.Origin.Offset:e.Origin.Offset+int64(len(e.Raw))], e.Raw)) {
					t.Fatalf("Raw %q is not at offset %d", e.Raw, e.Origin.Offset)
				}
			}
			for _, r := range b.Rejects {
				if r.Reason == "" {
					t.Fatal("reject without a reason")
				}
			}
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// TestShapesCarrier: the decoder records what carried each event (the
// shape it decoded), the same when Raw is decoded again on its own, as
// the TUI does: a record's kind depends on the key that held the event,
// not on which other keys it has (a Vector record with a log key, a
// Fluent Bit record with an eventId).
func TestShapesCarrier(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []Carrier // one for all events, or one per event
	}{
		{"plain.jsonl", []Carrier{CarrierNone}},
		{"pretty.json", []Carrier{CarrierNone}},
		{"array.json", []Carrier{CarrierNone}},
		{"concatenated.json", []Carrier{CarrierNone}},
		{"eventlist-pretty.json", []Carrier{CarrierNone}},
		{"eks-insights.csv", []Carrier{CarrierNone}},
		{"eks-filter-log-events.json", []Carrier{CarrierCloudWatch}},
		{"eks-firehose.gz", []Carrier{CarrierSubscription}},
		{"aks-eventhub.json", []Carrier{CarrierAKS}},
		{"aks-pt1h.json", []Carrier{CarrierAKS}},
		{"gke-gcloud.json", []Carrier{CarrierLogEntry}},
		{"gke-sink.jsonl", []Carrier{CarrierLogEntry}},
		{"wrappers.jsonl", []Carrier{CarrierVector, CarrierInsights, CarrierDocker, CarrierFluentBit, CarrierJSONPayload}},
		{"shippers.jsonl", []Carrier{CarrierFilebeat, CarrierFilebeat, CarrierLogstash, CarrierVector, CarrierVector, CarrierFluentBit, CarrierShipper, CarrierFluentd}},
	} {
		evs, _, _ := readShape(t, tc.file, ReadOptions{})
		if len(evs) == 0 || len(tc.want) > 1 && len(tc.want) != len(evs) {
			t.Fatalf("%s: %d events", tc.file, len(evs))
		}
		for i, e := range evs {
			want := tc.want[0]
			if len(tc.want) > 1 {
				want = tc.want[i]
			}
			if e.Carrier != want {
				t.Errorf("%s: event %d carried by %v, want %v", tc.file, i, e.Carrier, want)
			}
			var d Decoder
			if again, _ := d.Decode(nil, e.Raw, Origin{}); len(again) != 1 || again[0].Carrier != want {
				t.Errorf("%s: event %d: Raw decoded again is not carried by %v", tc.file, i, want)
			}
		}
	}
	ev := strconvQuote(string(plainLines(t)[0]))
	var d Decoder
	for _, tc := range []struct {
		in   string
		want Carrier
	}{
		{`{"message":` + ev + `,"log":"kube-apiserver","host":"cp-1"}`, CarrierShipper},
		{`{"log":"kube-apiserver","host":"cp-1","message":` + ev + `,"source_type":"file"}`, CarrierVector},
		{`{"@timestamp":"2026-11-20T02:00:09.001Z","log":{"offset":0,"file":{"path":"/a"}},"message":` + ev + `,"ecs":{"version":"8.0.0"}}`, CarrierFilebeat},
		{`{"log":{"file":{"path":"/a"}},"@version":"1","message":` + ev + `,"ecs":{"version":"8.0.0"}}`, CarrierLogstash},
		{`{"log":` + ev + `,"stream":"stdout","docker":{"container_id":"c1"}}`, CarrierFluentd},
		{`{"date":1795140024.309,"time":"2026-11-20T02:00:19.655594Z","stream":"stdout","_p":"F","log":` + ev + `}`, CarrierFluentBit},
		{`{"log":` + ev + `,"eventId":"1","date":1795140024.309}`, CarrierFluentBit},
		{`{"log":` + ev + `,"stream":"stdout"}`, CarrierFluentBit},
		{`{"log":` + ev + `,"stream":"stdout","time":"2026-11-20T02:00:19.655594Z"}`, CarrierDocker},
		{`{"id":"1","timestamp":1795140008789,"message":` + ev + `}`, CarrierSubscription},
		{`{"id":"1","timestamp":"2026-11-20T02:00:08Z","message":` + ev + `}`, CarrierShipper},
		{`{"eventId":"1","timestamp":1795140008789,"message":` + ev + `}`, CarrierCloudWatch},
		{`{"timestamp":1795140008789,"message":` + ev + `,"ingestionTime":1795140009000,"logStreamName":"kube-apiserver-audit-1"}`, CarrierCloudWatch},
		// Records in records: the outer one is what Raw holds.
		{`{"logStreamName":"s","message":` + strconvQuote(`{"log":`+ev+`,"stream":"stdout","time":"2026-11-20T02:00:19Z"}`) + `}`, CarrierCloudWatch},
		{`{"category":"kube-audit","properties":{"log":` + ev + `}}`, CarrierAKS},
	} {
		evs, rej := d.Decode(nil, []byte(tc.in), Origin{Line: 1})
		if rej != nil || len(evs) != 1 || evs[0].Carrier != tc.want {
			var got []Carrier
			for _, e := range evs {
				got = append(got, e.Carrier)
			}
			t.Errorf("%s: carriers %v (%v), want %v", tc.in, got, rej, tc.want)
		}
	}
}

package data

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/testutil"
)

// refEvent is the reference decoding with encoding/json.
type refEvent struct {
	Kind       string `json:"kind"`
	APIVersion string `json:"apiVersion"`
	Level      string `json:"level"`
	AuditID    string `json:"auditID"`
	Stage      string `json:"stage"`
	RequestURI string `json:"requestURI"`
	Verb       string `json:"verb"`
	User       struct {
		Username string   `json:"username"`
		UID      string   `json:"uid"`
		Groups   []string `json:"groups"`
	} `json:"user"`
	ImpersonatedUser *struct {
		Username string   `json:"username"`
		Groups   []string `json:"groups"`
	} `json:"impersonatedUser"`
	SourceIPs []string `json:"sourceIPs"`
	UserAgent string   `json:"userAgent"`
	ObjectRef *struct {
		Resource    string `json:"resource"`
		Namespace   string `json:"namespace"`
		Name        string `json:"name"`
		APIGroup    string `json:"apiGroup"`
		APIVersion  string `json:"apiVersion"`
		Subresource string `json:"subresource"`
	} `json:"objectRef"`
	ResponseStatus *struct {
		Code    int    `json:"code"`
		Status  string `json:"status"`
		Reason  string `json:"reason"`
		Message string `json:"message"`
	} `json:"responseStatus"`
	RequestObject  json.RawMessage   `json:"requestObject"`
	ResponseObject json.RawMessage   `json:"responseObject"`
	Received       string            `json:"requestReceivedTimestamp"`
	Stage2         string            `json:"stageTimestamp"`
	Legacy         string            `json:"timestamp"`
	Annotations    map[string]string `json:"annotations"`
}

func checkAgainstRef(t *testing.T, where string, line []byte, ev *Event) {
	t.Helper()
	var r refEvent
	if err := json.Unmarshal(line, &r); err != nil {
		t.Fatalf("%s: reference decode: %v", where, err)
	}
	eq := func(field, got, want string) {
		if got != want {
			t.Errorf("%s: %s = %q, want %q", where, field, got, want)
		}
	}
	eq("apiVersion", ev.APIVersion, r.APIVersion)
	eq("level", ev.Level, r.Level)
	eq("auditID", ev.AuditID, r.AuditID)
	eq("stage", ev.Stage, r.Stage)
	eq("requestURI", ev.RequestURI, r.RequestURI)
	eq("verb", ev.Verb, r.Verb)
	eq("user", ev.User, r.User.Username)
	eq("uid", ev.UID, r.User.UID)
	eq("groups", strings.Join(ev.Groups, ","), strings.Join(r.User.Groups, ","))
	eq("sourceIPs", strings.Join(ev.SourceIPs, ","), strings.Join(r.SourceIPs, ","))
	eq("userAgent", ev.UserAgent, r.UserAgent)
	if r.ImpersonatedUser != nil {
		eq("impUser", ev.ImpUser, r.ImpersonatedUser.Username)
		eq("impGroups", strings.Join(ev.ImpGroups, ","), strings.Join(r.ImpersonatedUser.Groups, ","))
	}
	if r.ObjectRef != nil {
		eq("resource", ev.Resource, r.ObjectRef.Resource)
		eq("namespace", ev.Namespace, r.ObjectRef.Namespace)
		eq("name", ev.Name, r.ObjectRef.Name)
		eq("apiGroup", ev.APIGroup, r.ObjectRef.APIGroup)
		eq("subresource", ev.Subresource, r.ObjectRef.Subresource)
	}
	if r.ResponseStatus != nil {
		if ev.Code != r.ResponseStatus.Code {
			t.Errorf("%s: code %d want %d", where, ev.Code, r.ResponseStatus.Code)
		}
		eq("reason", ev.Reason, r.ResponseStatus.Reason)
		eq("message", ev.Message, r.ResponseStatus.Message)
	}
	eq("decision", ev.Decision, r.Annotations["authorization.k8s.io/decision"])
	if ev.HasRequestObject != (len(r.RequestObject) > 0 && string(r.RequestObject) != "null") {
		t.Errorf("%s: HasRequestObject %v", where, ev.HasRequestObject)
	}
	if ev.HasResponseObject != (len(r.ResponseObject) > 0 && string(r.ResponseObject) != "null") {
		t.Errorf("%s: HasResponseObject %v", where, ev.HasResponseObject)
	}
	ts := r.Stage2
	if ts == "" {
		ts = r.Received
	}
	if ts == "" {
		ts = r.Legacy
	}
	if ts != "" {
		want, err := ParseTime(ts)
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		if ev.Time != want {
			t.Errorf("%s: time %d want %d", where, ev.Time, want)
		}
	} else if ev.Time != 0 {
		t.Errorf("%s: time %d for an event without timestamps", where, ev.Time)
	}
}

// TestDecodeAgainstReference: every event of the project's fixtures and
// of the real data decodes to what an encoding/json reference reads from
// the same line, and keeps the line's bytes.
func TestDecodeAgainstReference(t *testing.T) {
	for _, set := range schemaSets {
		t.Run(set.name, func(t *testing.T) { decodeAgainstReference(t, set.files(t)) })
	}
}

func decodeAgainstReference(t *testing.T, files []string) {
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 1<<20)
		var d Decoder
		n := 0
		src := &SourceInfo{Name: f}
		for sc.Scan() {
			n++
			line := append([]byte(nil), sc.Bytes()...)
			evs, rej := d.Decode(nil, line, Origin{Source: src, Line: int64(n)})
			if rej != nil {
				t.Errorf("%s: rejected: %s", rej.Origin.Where(), rej.Reason)
				continue
			}
			if len(evs) != 1 {
				t.Fatalf("%s:%d: %d events", f, n, len(evs))
			}
			if !bytes.Equal(evs[0].Raw, line) {
				t.Errorf("%s:%d: Raw differs from the line", f, n)
			}
			checkAgainstRef(t, evs[0].Where(), line, &evs[0])
		}
		fh.Close()
		if n == 0 {
			t.Errorf("%s: no lines", f)
		}
	}
}

func TestDecodeShapes(t *testing.T) {
	ev1 := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/secrets/db","verb":"get","user":{"username":"alice","groups":["dev","system:authenticated"]},"sourceIPs":["10.0.0.1"],"objectRef":{"resource":"secrets","namespace":"default","name":"db","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":200},"requestReceivedTimestamp":"2026-11-20T08:00:00.100000Z","stageTimestamp":"2026-11-20T08:00:00.250000Z"}`
	ev2 := strings.ReplaceAll(ev1, `"a1"`, `"a2"`)
	cases := []struct {
		name      string
		in        string
		wantIDs   []string
		wantErr   string
		wantClust string
	}{
		{name: "event", in: ev1, wantIDs: []string{"a1"}},
		{name: "eventlist", in: `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[` + ev1 + `,` + ev2 + `]}`, wantIDs: []string{"a1", "a2"}},
		{name: "empty eventlist", in: `{"kind":"EventList","items":[]}`},
		{name: "fluentbit record", in: `{"date":1763625600.1,` + ev1[1:len(ev1)-1] + `,"cluster":"prod-1","source":"k8s-audit"}`, wantIDs: []string{"a1"}, wantClust: "prod-1"},
		{name: "wrapped log string", in: `{"log":` + strconvQuote(ev1) + `,"cluster":"c2"}`, wantIDs: []string{"a1"}, wantClust: "c2"},
		{name: "escaped strings", in: `{"kind":"Event","auditID":"a\u00e9\n","verb":"get","userAgent":"x\u001b]0;pwned\u0007"}`, wantIDs: []string{"a\u00e9\n"}},
		{name: "not an object", in: `[1,2,3]`, wantErr: "not an object"},
		{name: "not an event", in: `{"kind":0}`, wantErr: "field kind: expected a string"},
		{name: "other object", in: `{"foo":"bar"}`, wantErr: "not an audit event"},
		{name: "other kind", in: `{"kind":"Pod","metadata":{}}`, wantErr: `kind "Pod" is not an audit event`},
		{name: "truncated", in: ev1[:len(ev1)-30], wantErr: "unexpected end of input"},
		{name: "garbage", in: `hello world`, wantErr: "malformed JSON"},
		{name: "trailing", in: ev1 + ` x`, wantErr: "unexpected data after"},
		{name: "bad number", in: `{"kind":"Event","responseStatus":{"code":20x}}`, wantErr: "malformed JSON"},
		{name: "bad code type", in: `{"kind":"Event","responseStatus":{"code":"200"}}`, wantErr: "invalid number"},
		{name: "bad time", in: `{"kind":"Event","auditID":"x","stageTimestamp":"yesterday"}`, wantErr: "field stageTimestamp: cannot parse time"},
		{name: "invalid utf8", in: "{\"kind\":\"Event\",\"verb\":\"g\xffet\"}", wantErr: "invalid UTF-8 at byte 25"},
		{name: "control char", in: "{\"kind\":\"Event\",\"verb\":\"g\x01et\"}", wantErr: "control character"},
		{name: "deep nesting", in: `{"kind":"Event","requestObject":` + strings.Repeat("[", 1000) + strings.Repeat("]", 1000) + `}`, wantErr: "nesting too deep"},
		{name: "empty", in: `   `, wantErr: "empty document"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var d Decoder
			evs, rej := d.Decode(nil, []byte(tc.in), Origin{Source: &SourceInfo{Name: "f.log"}, Line: 7})
			if tc.wantErr != "" {
				if rej == nil {
					t.Fatalf("accepted %d events, want error %q", len(evs), tc.wantErr)
				}
				if !strings.Contains(rej.Reason, tc.wantErr) {
					t.Fatalf("reason %q, want it to contain %q", rej.Reason, tc.wantErr)
				}
				if !strings.HasPrefix(rej.Error(), "f.log:7: ") {
					t.Fatalf("reject does not name file:line: %q", rej.Error())
				}
				return
			}
			if rej != nil {
				t.Fatalf("rejected: %s", rej.Reason)
			}
			var ids []string
			for _, e := range evs {
				ids = append(ids, e.AuditID)
				if e.Cluster != tc.wantClust {
					t.Errorf("cluster %q want %q", e.Cluster, tc.wantClust)
				}
			}
			if strings.Join(ids, ",") != strings.Join(tc.wantIDs, ",") {
				t.Fatalf("ids %q want %q", ids, tc.wantIDs)
			}
		})
	}
}

func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestEventListItemRaw(t *testing.T) {
	item := `{"kind":"Event","auditID":"z","verb":"list","stageTimestamp":"2026-01-02T03:04:05Z"}`
	doc := `{"kind":"EventList","items":[ ` + item + ` ]}`
	var d Decoder
	evs, rej := d.Decode(nil, []byte(doc), Origin{Offset: 100})
	if rej != nil || len(evs) != 1 {
		t.Fatalf("rej=%v n=%d", rej, len(evs))
	}
	if string(evs[0].Raw) != item {
		t.Fatalf("Raw = %s", evs[0].Raw)
	}
	if evs[0].Origin.Offset != 100+int64(strings.Index(doc, item)) {
		t.Fatalf("offset %d", evs[0].Origin.Offset)
	}
}

func TestParseTime(t *testing.T) {
	for _, s := range []string{
		"2026-11-20T08:00:00Z", "2026-11-20T08:00:00.123456Z", "2024-02-29T23:59:59.999999999Z",
		"2026-11-20T08:00:00.5+02:00", "1969-12-31T23:59:59Z", "2000-03-01T00:00:00-05:30",
	} {
		want, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseTime(s)
		if err != nil || got != want.UnixNano() {
			t.Errorf("%s: got %d %v want %d", s, got, err, want.UnixNano())
		}
	}
	got, err := ParseTime("2022-11-29 00:09:04.38")
	if err != nil || time.Unix(0, got).UTC().Format(time.RFC3339Nano) != "2022-11-29T00:09:04.38Z" {
		t.Errorf("space layout: %v %v", got, err)
	}
	for _, bad := range []string{"2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "x", ""} {
		if _, err := ParseTime(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestDecimalTime: Fluent Bit's date (seconds) and CloudWatch Logs'
// timestamps (milliseconds) are read exactly; an undated event inside a
// Fluent Bit record takes its date to the millisecond (a float64 made
// 1795140024.309 s into …24.308999936).
func TestDecimalTime(t *testing.T) {
	for _, tc := range []struct {
		s    string
		unit int64
		want int64
		ok   bool
	}{
		{"1795140024.309", 1e9, 1795140024309000000, true},
		{"1795140024", 1e9, 1795140024000000000, true},
		{"1795140024.1234567891", 1e9, 1795140024123456789, true},
		{"1795140008789", 1e6, 1795140008789000000, true},
		{"1.5", 1e6, 1500000, true},
		{"1.7e9", 1e9, 0, false},
		{"-1.5", 1e9, 0, false},
		{"1.-5", 1e9, 0, false},
		{"", 1e9, 0, false},
		{"99999999999999999999", 1e9, 0, false},
	} {
		got, ok := DecimalTime(tc.s, tc.unit)
		if got != tc.want || ok != tc.ok {
			t.Errorf("DecimalTime(%q, %d) = %d %v, want %d %v", tc.s, tc.unit, got, ok, tc.want, tc.ok)
		}
	}
	var d Decoder
	evs, rej := d.Decode(nil, []byte(`{"cluster":"prod","date":1795140024.309,"log":{"kind":"Event","auditID":"a","verb":"get"}}`), Origin{})
	if rej != nil || len(evs) != 1 || evs[0].Time != 1795140024309000000 {
		t.Fatalf("undated event in a Fluent Bit record: %+v %v", evs, rej)
	}
}

// FuzzDecode checks the decoder never panics, agrees with encoding/json on
// what is valid JSON, and names the reason of every reject.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"kind":"Event","auditID":"a","verb":"get","user":{"username":"u","groups":["a"]},"stageTimestamp":"2026-11-20T08:00:00Z"}`))
	f.Add([]byte(`{"kind":"EventList","items":[{"kind":"Event","auditID":"b"}]}`))
	f.Add([]byte(`{"log":"{\"kind\":\"Event\",\"auditID\":\"c\"}"}`))
	f.Add([]byte(`{"kind":"Event","responseStatus":{"code":403},"annotations":{"authorization.k8s.io/decision":"forbid"}}`))
	f.Add([]byte(`{"a":"\ud83d\ude00","verb":"x"}`))
	// Records that carry events (see TestDecode* in shapes_test.go).
	f.Add([]byte(`{"protoPayload":{"@type":"type.googleapis.com/google.cloud.audit.AuditLog","serviceName":"k8s.io","methodName":"io.k8s.core.v1.pods.exec.create","resourceName":"core/v1/namespaces/a/pods/b/exec","authenticationInfo":{"principalEmail":"u"},"status":{"code":7},"authorizationInfo":[{"granted":true}],"request":{"x":1},"response":{"kind":"Status","code":403}},"insertId":"i","resource":{"labels":{"cluster_name":"c"}},"labels":{"authorization.k8s.io/decision":"allow"},"timestamp":"2026-11-20T08:00:00Z"}`))
	f.Add([]byte(`{"category":"kube-audit","resourceId":"/x/MANAGEDCLUSTERS/C","properties":{"log":"{\"kind\":\"Event\",\"auditID\":\"d\"}"},"time":"2026-11-20T08:00:00.0000000Z"}`))
	f.Add([]byte(`{"records":[{"category":"kube-audit-admin","properties":{"log":{"kind":"Event","auditID":"e"}}},{"category":"guard","properties":{"log":"x"}}]}`))
	f.Add([]byte(`{"messageType":"DATA_MESSAGE","logGroup":"/aws/eks/c/cluster","logEvents":[{"id":"1","timestamp":1795140008000,"message":"{\"kind\":\"Event\",\"verb\":\"get\"}"}]}`))
	f.Add([]byte(`{"events":[{"logStreamName":"kube-apiserver-audit-1","timestamp":1,"message":"text"}],"nextToken":"t"}`))
	f.Add([]byte(`{"message":{"kind":"Event","auditID":"f"},"@timestamp":"2026-11-20 08:00:00.000"}`))
	// More than one key that may hold the event (chooseWrapped).
	f.Add([]byte(`{"@timestamp":"2026-11-20T08:00:00.000Z","log":{"offset":1,"file":{"path":"/a"}},"message":"{\"kind\":\"Event\",\"auditID\":\"g\"}","@version":"1"}`))
	f.Add([]byte(`{"log":{"kind":"Event","auditID":"h"},"message":"{\"kind\":\"Event\",\"auditID\":\"i\"}","jsonPayload":{"level":"x"},"@message":"t"}`))
	// Filebeat's json (log input decoding JSON lines); Fluentd's out_file.
	f.Add([]byte(`{"@timestamp":"2026-11-20T08:00:00.000Z","log":{"offset":1,"file":{"path":"/a"}},"json":{"kind":"Event","auditID":"j"},"message":"x"}`))
	f.Add([]byte("2026-11-20T08:00:00+09:00\tkube.audit\t{\"message\":\"{\\\"kind\\\":\\\"Event\\\",\\\"auditID\\\":\\\"k\\\"}\"}"))
	f.Fuzz(func(t *testing.T, line []byte) {
		var d Decoder
		evs, rej := d.Decode(nil, line, Origin{Line: 1})
		if rej != nil {
			if rej.Reason == "" {
				t.Fatal("reject without reason")
			}
			return
		}
		if !json.Valid(line) {
			// Only a Fluentd out_file line, its record JSON.
			if _, _, rec, why, ok := OutFileLine(bytes.TrimSpace(line)); !ok || why != "" || !json.Valid(rec) {
				t.Fatalf("accepted invalid JSON %q", line)
			}
		}
		for i := range evs {
			e := &evs[i]
			c := e.Clone()
			if c.AuditID != e.AuditID || !bytes.Equal(c.Raw, e.Raw) || !bytes.Equal(c.EntryLine(), e.EntryLine()) {
				t.Fatal("clone differs")
			}
			// Raw is the record as read; the line LogQL reads is JSON.
			if !bytes.Contains(line, e.Raw) {
				t.Fatalf("Raw %q is not in the input", e.Raw)
			}
			if !json.Valid(e.EntryLine()) {
				t.Fatalf("the event's line is not JSON: %q", e.EntryLine())
			}
		}
	})
}

// spaceOut puts a space after every '{' and ',' outside strings: the same
// JSON, which the decoder's ordered-key fast path (compact JSON only)
// never takes.
func spaceOut(b []byte) []byte {
	out := make([]byte, 0, len(b)+len(b)/8)
	in, esc := false, false
	for _, c := range b {
		out = append(out, c)
		switch {
		case esc:
			esc = false
		case in && c == '\\':
			esc = true
		case c == '"':
			in = !in
		case !in && (c == '{' || c == ','):
			out = append(out, ' ')
		}
	}
	return out
}

// FuzzOrderedKeys: a document decodes to the same events whether its keys
// are read by the ordered fast path (compact JSON, keys in the API
// server's order) or by the general scanner (the same document with
// spaces).
func FuzzOrderedKeys(f *testing.F) {
	f.Add([]byte(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/a/pods?limit=500\u0026x=1","verb":"list","user":{"username":"system:serviceaccount:a:b","uid":"u","groups":["g1","g2"],"extra":{"authentication.kubernetes.io/pod-name":["p"]}},"impersonatedUser":{"username":"x","groups":["system:masters"]},"sourceIPs":["10.0.0.1"],"userAgent":"kubectl","objectRef":{"resource":"pods","namespace":"a","name":"n","uid":"x","apiGroup":"","apiVersion":"v1","resourceVersion":"1","subresource":"exec"},"responseStatus":{"metadata":{},"status":"Failure","message":"m","reason":"Forbidden","details":{},"code":403},"requestObject":{"a":1},"responseObject":null,"requestReceivedTimestamp":"2026-11-20T08:00:00.000001Z","stageTimestamp":"2026-11-20T08:00:00.000002Z","annotations":{"authorization.k8s.io/decision":"forbid","authorization.k8s.io/reason":"RBAC: \"x\"","pod-security.kubernetes.io/audit-violations":"v"}}`))
	f.Add([]byte(`{"apiVersion":"audit.k8s.io/v1","kind":"Event","verb":"get","user":{"groups":["a"],"username":"u"},"objectRef":{"name":"n","resource":"pods"},"stageTimestamp":"2026-11-20T08:00:00Z"}`))
	f.Add([]byte(`{"kind":"Event","kind":"Event","verb":"get","verb":"list","user":{"username":"a","username":"b"},"stageTimestamp":"2026-11-20T08:00:00Z"}`))
	f.Add([]byte(`{"kind":"Event","apiVersion":"audit.k8s.io/v1beta1","metadata":{"creationTimestamp":null},"level":"Request","timestamp":"2026-11-20T08:00:00Z","auditID":"b","stage":"ResponseComplete","requestURI":"/x","verb":"get","user":{"username":"u"},"sourceIPs":["1.2.3.4"],"objectRef":{"resource":"secrets","namespace":"ns","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":200}}`))
	f.Add([]byte(`{"kind":"Event","verb":"get","user":{"username":"u"},"objectRef":{"resource":"pods"},"stageTimestamp":"2026-11-20T08:00:00Z","kin\u0064":"x"}`))
	f.Add([]byte(`{"kind":"Event","verb":"get","user":{"username":"u"},"stageTimestamp":"2026-11-20T08:00:00Z","annotations":`))
	f.Add([]byte("2026-11-20T08:00:00Z\tkube.var.log.audit_x-1.log\t{\"kind\":\"Event\",\"verb\":\"get\",\"user\":{\"username\":\"u\"}}"))
	f.Fuzz(func(t *testing.T, line []byte) {
		var d Decoder
		a, rejA := d.Decode(nil, line, Origin{Line: 1})
		b, rejB := d.Decode(nil, spaceOut(line), Origin{Line: 1})
		if (rejA == nil) != (rejB == nil) || len(a) != len(b) {
			t.Fatalf("compact: %d events, reject %v; spaced: %d events, reject %v", len(a), rejA, len(b), rejB)
		}
		for i := range a {
			x, y := a[i].Clone(), b[i].Clone()
			// The bodies are where they are in each line: the same values.
			for k := range x.BodyAt {
				ax, ay := x.BodyAt[k], y.BodyAt[k]
				if (ax > 0) != (ay > 0) || ax < 0 != (ay < 0) ||
					ax > 0 && !bytes.Equal(spaceOut(x.Line[ax:]), y.Line[ay:]) {
					t.Fatalf("event %d: BodyAt[%d] %d compact, %d spaced", i, k, ax, ay)
				}
			}
			x.BodyAt, y.BodyAt = [2]int32{}, [2]int32{}
			x.Raw, x.Line, y.Raw, y.Line = nil, nil, nil, nil
			if !reflect.DeepEqual(x, y) {
				t.Fatalf("event %d differs:\n compact %+v\n spaced  %+v", i, x, y)
			}
		}
	})
}

// TestBodyAt: the decoder says where the bodies' values start in the
// event's line, and -1 when it cannot say exactly.
func TestBodyAt(t *testing.T) {
	for _, tc := range []struct {
		doc      string
		req, rsp string // what the line starts with at each offset ("": 0; "-": -1)
	}{
		{`{"kind":"Event","requestObject":{"a":1},"responseObject":{"b":2}}`, `{"a":1},"resp`, `{"b":2}}`},
		{`  {"kind":"Event","responseObject":{"b":2},"requestObject":[1]}`, `[1]}`, `{"b":2},`},
		{`{"kind":"Event","requestObject":null,"responseObject":{"b":2}}`, "", `{"b":2}}`},
		{`{"kind":"Event","verb":"get"}`, "", ""},
		{`{"kind":"Event","requestObject":{"a":1},"requestObject":{"a":2}}`, "-", "-"},
		{`{"kind":"Event","requestObject_x":1,"requestObject":{"a":1}}`, "-", "-"},
		{`{"kind":"Event","responseObject.x":1}`, "-", "-"},
		{"{\"kind\":\"Event\",\n\"requestObject\":{\"a\":1}}", "-", "-"},
		{`{"log":"{\"kind\":\"Event\",\"requestObject\":{\"a\\u0041\":1}}"}`, `{"a\u0041":1}}`, ""},
	} {
		var d Decoder
		evs, rej := d.Decode(nil, []byte(tc.doc), Origin{Line: 1})
		if rej != nil || len(evs) != 1 {
			t.Fatalf("%s: %d events, reject %v", tc.doc, len(evs), rej)
		}
		e := &evs[0]
		for k, want := range []string{tc.req, tc.rsp} {
			at := e.BodyAt[k]
			var got string
			switch {
			case at < 0:
				got = "-"
			case at > 0:
				got = string(e.EntryLine()[at:])
			}
			if want != "" && want != "-" && strings.HasPrefix(got, want) {
				continue
			}
			if got != want {
				t.Errorf("%s: BodyAt[%d] = %d, the line from there %q, want %q", tc.doc, k, at, got, want)
			}
		}
	}
}

// TestIDHash: every event the decoder makes carries its auditID's hash
// (Event.IDHash, what the TUI's index keys rows by), whatever its shape:
// an event, an escaped auditID, an event carried in a record or a batch,
// a GKE LogEntry, one without an auditID.
func TestIDHash(t *testing.T) {
	docs := []string{
		`{"kind":"Event","auditID":"a1","verb":"get"}`,
		`{"kind":"Event","auditID":"a\u0032","verb":"get"}`,
		`{"log":"{\"kind\":\"Event\",\"auditID\":\"a3\",\"verb\":\"get\"}","stream":"stdout"}`,
		`{"kind":"EventList","items":[{"kind":"Event","auditID":"a4","verb":"get"},{"kind":"Event","auditID":"a5","verb":"list"}]}`,
		`{"kind":"Event","verb":"get"}`,
	}
	for _, f := range []string{"gke-sink.jsonl", "shippers.jsonl", "wrappers.jsonl"} {
		b, err := os.ReadFile(filepath.Join(testutil.RepoRoot(), "testdata", "shapes", f))
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, strings.Split(strings.TrimSpace(string(b)), "\n")...)
	}
	var d Decoder
	n, withID := 0, 0
	for _, doc := range docs {
		evs, _ := d.Decode(nil, []byte(doc), Origin{Line: 1})
		for i := range evs {
			e := &evs[i]
			n++
			if e.AuditID != "" {
				withID++
			}
			if want := HashAuditID(e.AuditID); e.IDHash != want || (e.AuditID != "") != (want != 0) {
				t.Errorf("%s: event %d (auditID %q): IDHash %x, want %x", doc, i, e.AuditID, e.IDHash, want)
			}
			if e.AuditIDHash() != HashAuditID(e.AuditID) {
				t.Errorf("%s: event %d: AuditIDHash %x", doc, i, e.AuditIDHash())
			}
		}
	}
	if n < 6 || withID < 5 {
		t.Errorf("%d events, %d with an auditID: the test tests little", n, withID)
	}
	if e := (&Event{AuditID: "a1"}); e.AuditIDHash() != HashAuditID("a1") || HashAuditID("a1") == HashAuditID("a2") {
		t.Error("an event the decoder did not make is hashed when asked")
	}
}

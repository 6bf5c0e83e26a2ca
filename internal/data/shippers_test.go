package data

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// recordMembers returns the top-level members of a JSON object in their
// order, each value as its bytes.
func recordMembers(t *testing.T, rec []byte) ordered {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(rec))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %.80s", rec)
	}
	var out ordered
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, kv{k.(string), v})
	}
	return out
}

// keyOrders returns the record with its members in other orders: reversed,
// and every rotation.
func keyOrders(t *testing.T, rec []byte) [][]byte {
	t.Helper()
	ms := recordMembers(t, rec)
	var out [][]byte
	rev := slices.Clone(ms)
	slices.Reverse(rev)
	out = append(out, encodeJSON(t, rev, ""))
	for i := 1; i < len(ms); i++ {
		rot := append(slices.Clone(ms[i:]), ms[:i]...)
		out = append(out, encodeJSON(t, rot, ""))
	}
	return out
}

// TestShipperRecords reads testdata/shapes/shippers.jsonl (events 6-13 of
// plain.jsonl as Filebeat, Elastic Agent, Logstash, Vector's file and
// kubernetes_logs sources, Fluent Bit with the kubernetes filter, Fluentd
// and Fluentd's Kubernetes DaemonSet write them): every event is read,
// cited at its line, carried by its shipper, timed by its own
// stageTimestamp; the Filebeat record of a line that is not an audit event
// is rejected naming its line and why. The same holds whatever the order
// of each record's keys.
func TestShipperRecords(t *testing.T) {
	ps := plainInfos(t)
	evs, rejs, _ := readShape(t, "shippers.jsonl", ReadOptions{})
	carriers := []Carrier{CarrierFilebeat, CarrierFilebeat, CarrierLogstash, CarrierVector, CarrierVector, CarrierFluentBit, CarrierShipper, CarrierFluentd}
	if len(evs) != len(carriers) || len(rejs) != 1 {
		t.Fatalf("%d events, rejects %v", len(evs), rejs)
	}
	const notAudit = "no audit event under log, message: field log: JSON object is not an audit event (no kind, auditID, verb or stage); field message holds text, not a JSON audit event"
	if r := rejs[0]; r.Origin.Where() != "shippers.jsonl:9" || r.Reason != notAudit {
		t.Errorf("reject %s: %s", r.Origin.Where(), r.Reason)
	}
	file := readShapeFile(t, "shippers.jsonl")
	lines := bytes.Split(bytes.TrimSuffix(file, []byte{'\n'}), []byte{'\n'})
	for i, e := range evs {
		p := ps[5+i]
		if e.AuditID != p.auditID || e.User != p.username || !bytes.Equal(e.EntryLine(), p.line) {
			t.Errorf("line %d: event %s %s, want %s %s (the API server's line)", i+1, e.AuditID, e.User, p.auditID, p.username)
		}
		if e.Carrier != carriers[i] {
			t.Errorf("line %d: carried by %v, want %v", i+1, e.Carrier, carriers[i])
		}
		if e.Time != p.ts.UnixNano() {
			t.Errorf("line %d: time %v, want the event's stageTimestamp %v", i+1, time.Unix(0, e.Time).UTC(), p.ts)
		}
		if e.Origin.Line != int64(i+1) || e.Origin.Col != 0 || !bytes.Equal(e.Raw, lines[i]) {
			t.Errorf("line %d: cited %s, Raw is not the record", i+1, e.Origin.Cite())
		}
	}
	var d Decoder
	for i, l := range lines {
		for _, rec := range keyOrders(t, l) {
			got, rej := d.Decode(nil, rec, Origin{Line: 1})
			if i == len(lines)-1 {
				if len(got) != 0 || rej == nil || rej.Reason != notAudit {
					t.Errorf("line %d, keys reordered: %d events, reject %v", i+1, len(got), rej)
				}
				continue
			}
			if rej != nil || len(got) != 1 || got[0].AuditID != evs[i].AuditID || got[0].Carrier != evs[i].Carrier ||
				got[0].Time != evs[i].Time || !bytes.Equal(got[0].EntryLine(), evs[i].EntryLine()) {
				t.Errorf("line %d, keys reordered: %d events (%v), reject %v\n%.300s", i+1, len(got), carrierOf(got), rej, rec)
			}
		}
	}
}

func carrierOf(evs []Event) []Carrier {
	var out []Carrier
	for _, e := range evs {
		out = append(out, e.Carrier)
	}
	return out
}

func readShapeFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(shapePath(name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestShipperCarrierTime: an event without a timestamp of its own takes
// the time its shipper's record recorded: Filebeat's, Elastic Agent's and
// Logstash's @timestamp, Vector's timestamp, Fluent Bit's date; a Fluentd
// record records none (its time went into the event time Fluentd keeps
// apart from the record), so the event stays undated.
func TestShipperCarrierTime(t *testing.T) {
	file := readShapeFile(t, "shippers.jsonl")
	lines := bytes.Split(bytes.TrimSuffix(file, []byte{'\n'}), []byte{'\n'})
	stamps := regexp.MustCompile(`,"(requestReceivedTimestamp|stageTimestamp)":"[^"]*"`)
	want := []string{"@timestamp", "@timestamp", "@timestamp", "timestamp", "timestamp", "date", "", ""}
	var d Decoder
	for i, key := range want {
		ms := recordMembers(t, lines[i])
		var carrier int64
		for j, m := range ms {
			raw := m.v.(json.RawMessage)
			switch {
			case m.k == key && key == "date":
				ns, ok := DecimalTime(string(raw), 1e9)
				if !ok {
					t.Fatalf("line %d: date %s", i+1, raw)
				}
				carrier = ns
			case m.k == key:
				var s string
				json.Unmarshal(raw, &s)
				tm, err := time.Parse(time.RFC3339Nano, s)
				if err != nil {
					t.Fatal(err)
				}
				carrier = tm.UnixNano()
			case m.k == "message" || m.k == "log":
				var s string
				if json.Unmarshal(raw, &s) != nil || !strings.HasPrefix(s, "{") {
					continue // Filebeat's log: where the line came from
				}
				undated := stamps.ReplaceAllString(s, "")
				if undated == s {
					t.Fatalf("line %d: no timestamps taken out", i+1)
				}
				ms[j].v = undated
			}
		}
		rec := encodeJSON(t, ms, "")
		evs, rej := d.Decode(nil, rec, Origin{Line: 1})
		if rej != nil || len(evs) != 1 || evs[0].Time != carrier {
			var got []int64
			for _, e := range evs {
				got = append(got, e.Time)
			}
			t.Errorf("line %d: undated event timed %v (%v), want the record's %s %d", i+1, got, rej, key, carrier)
		}
	}
}

// TestWrappedEventWhateverTheKeyOrder: when a record has more than one of
// log, message, @message and jsonPayload, the event is the one that holds
// an audit event, in either order: a Filebeat record's log (the file the
// line came from) or a container record's text does not hide the event
// under message. Two keys holding the same event give it once; different
// events are an ambiguity, rejected loudly; none gives the reason of each.
func TestWrappedEventWhateverTheKeyOrder(t *testing.T) {
	ps := plainInfos(t)
	ev, ev2 := strconvQuote(string(ps[0].line)), strconvQuote(string(ps[1].line))
	obj := string(ps[0].line)
	for _, tc := range []struct {
		what    string
		members []string // in the order tried first; then reversed
		auditID string   // the event read ("" for a reject)
		carrier Carrier
		reject  []string // what the reject says
	}{
		{"Filebeat: log is where the line came from", []string{`"log":{"offset":123,"file":{"path":"/var/log/kube-apiserver/audit.log"}}`, `"message":` + ev, `"ecs":{"version":"8.0.0"}`},
			ps[0].auditID, CarrierFilebeat, nil},
		{"ECS log.level is not an audit event beside one", []string{`"log":{"level":"info","file":{"path":"/a"}}`, `"message":` + ev},
			ps[0].auditID, CarrierShipper, nil},
		{"log holds text", []string{`"log":"kube-apiserver"`, `"message":` + ev, `"host":"cp-1"`}, ps[0].auditID, CarrierShipper, nil},
		{"message holds text", []string{`"message":"GET /healthz 200"`, `"log":` + ev, `"stream":"stdout"`}, ps[0].auditID, CarrierFluentBit, nil},
		{"@message beside a log object", []string{`"log":{"file":{"path":"/a"}}`, `"@message":` + ev, `"@timestamp":"2026-11-20 02:00:08.789"`}, ps[0].auditID, CarrierInsights, nil},
		{"jsonPayload beside a message", []string{`"message":"audit"`, `"jsonPayload":` + obj}, ps[0].auditID, CarrierJSONPayload, nil},
		{"the same event as a string and an object: log's", []string{`"message":` + ev, `"log":` + obj}, ps[0].auditID, CarrierShipperLog, nil},
		{"different events: ambiguous", []string{`"log":` + ev, `"message":` + ev2}, "", 0,
			[]string{"log and message hold different audit events", ps[0].auditID, ps[1].auditID, "neither is read"}},
		{"no event under either", []string{`"log":{"offset":1}`, `"message":"I1120 02:00:08.789129 1 controller.go:624] quota"`}, "", 0,
			[]string{"no audit event under log, message: field log: JSON object is not an audit event", "; field message holds text, not a JSON audit event"}},
		{"a damaged event is named", []string{`"log":{"offset":1,"file":{"path":"/a"}}`, `"message":"{\"kind\":\"Event\",\"auditID\":"`}, "", 0,
			[]string{"field log: JSON object is not an audit event", "field message: malformed JSON"}},
	} {
		for _, order := range []string{"as written", "reversed"} {
			ms := slices.Clone(tc.members)
			if order == "reversed" {
				slices.Reverse(ms)
			}
			in := "{" + strings.Join(ms, ",") + "}\n"
			in = "\n" + in // on line 2: the reject names it
			evs, rejs := readBytes(t, []byte(in), 0)
			if tc.auditID != "" {
				if len(rejs) != 0 || len(evs) != 1 || evs[0].AuditID != tc.auditID || evs[0].Carrier != tc.carrier || evs[0].Origin.Cite() != "in:2" {
					t.Errorf("%s (%s): events %d %v, rejects %v", tc.what, order, len(evs), carrierOf(evs), rejs)
				}
				continue
			}
			if len(evs) != 0 || len(rejs) != 1 || rejs[0].Origin.Where() != "in:2" {
				t.Errorf("%s (%s): %d events, rejects %v", tc.what, order, len(evs), rejs)
				continue
			}
			for _, w := range tc.reject {
				if !strings.Contains(rejs[0].Reason, w) {
					t.Errorf("%s (%s): reject %q does not say %q", tc.what, order, rejs[0].Reason, w)
				}
			}
		}
	}
}

// TestBareLogRecordNamesNoShipper: a record with the event under log and
// none of Fluent Bit's keys (date, the stream and time of its docker and
// cri parsers, its kubernetes filter's kubernetes) nor Fluentd's docker
// is a "shipper record (log)", not said to be Fluent Bit's (review F
// finding 12: {"log":EVENT,"message":EVENT} and {"message":5,"log":EVENT}
// were named Fluent Bit records); with one of them, it is Fluent Bit's.
func TestBareLogRecordNamesNoShipper(t *testing.T) {
	ps := plainInfos(t)
	ev := strconvQuote(string(ps[0].line))
	var d Decoder
	for _, tc := range []struct {
		in   string
		want Carrier
	}{
		{`{"log":` + ev + `}`, CarrierShipperLog},
		{`{"log":` + ev + `,"message":` + ev + `}`, CarrierShipperLog},
		{`{"message":5,"log":` + ev + `}`, CarrierShipperLog},
		{`{"log":` + ev + `,"host":"cp-1","cluster":"prod-eu"}`, CarrierShipperLog},
		{`{"log":` + ev + `,"date":1795140024.309}`, CarrierFluentBit},
		{`{"log":` + ev + `,"stream":"stdout"}`, CarrierFluentBit},
		{`{"time":"2026-11-20T02:00:19.655594Z","log":` + ev + `}`, CarrierFluentBit},
		{`{"log":` + ev + `,"kubernetes":{"pod_name":"kube-apiserver-cp-1","namespace_name":"kube-system"}}`, CarrierFluentBit},
		{`{"log":` + ev + `,"stream":"stdout","time":"2026-11-20T02:00:19.655594Z"}`, CarrierDocker},
		{`{"log":` + ev + `,"stream":"stdout","docker":{"container_id":"c1"}}`, CarrierFluentd},
	} {
		evs, rej := d.Decode(nil, []byte(tc.in), Origin{Line: 1})
		if rej != nil || len(evs) != 1 || evs[0].Carrier != tc.want || evs[0].AuditID != ps[0].auditID {
			t.Errorf("%.120s: carriers %v (%v), want %v", tc.in, carrierOf(evs), rej, tc.want)
		}
	}
	if CarrierShipperLog.Key() != "log" {
		t.Errorf("a shipper record (log) holds its event under %q", CarrierShipperLog.Key())
	}
}

// TestAmbiguityRejectNamesWhatDiffers: when two keys of a record hold
// different audit events, the reject names the first field that differs
// and its two values (review F finding 10: it named the same auditID twice
// for two stages of one request, and "" twice for events without one),
// short and escaped.
func TestAmbiguityRejectNamesWhatDiffers(t *testing.T) {
	ps := plainInfos(t)
	var base map[string]any
	if err := json.Unmarshal(ps[0].line, &base); err != nil {
		t.Fatal(err)
	}
	variant := func(edit func(m map[string]any)) string {
		var m map[string]any
		json.Unmarshal(ps[0].line, &m)
		edit(m)
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	orig := variant(func(map[string]any) {}) // the same keys as the variants (sorted)
	stage := base["stage"].(string)
	hostile := "mallory\x1b]0;pwned\x07\u202e" + strings.Repeat("x", 80)
	for _, tc := range []struct {
		what, log, message string
		want               []string
	}{
		{"two stages of one request", variant(func(m map[string]any) { m["stage"] = "RequestReceived" }), orig,
			[]string{`(stage "RequestReceived" vs "` + stage + `")`}},
		{"two requests", orig, variant(func(m map[string]any) { m["auditID"] = "0000-other" }),
			[]string{`(auditID "` + ps[0].auditID + `" vs "0000-other")`}},
		{"a number written otherwise", variant(func(m map[string]any) {
			m["responseObject"] = map[string]any{"spec": map[string]any{"replicas": json.Number("2.0")}}
		}),
			variant(func(m map[string]any) { m["responseObject"] = map[string]any{"spec": map[string]any{"replicas": 2}} }),
			[]string{`(responseObject.spec.replicas 2.0 vs 2)`}},
		{"a field only one has", orig, variant(func(m map[string]any) { delete(m, "annotations") }),
			[]string{`(annotations an object vs absent)`}},
		{"a user's name, hostile and long", variant(func(m map[string]any) { m["user"].(map[string]any)["username"] = hostile }), orig,
			[]string{`(user.username "mallory\x1b]0;pwned\a\u202e` + strings.Repeat("x", 22) + `…" vs "`}},
		{"events without an auditID", `{"kind":"Event","verb":"get"}`, `{"kind":"Event","verb":"list"}`,
			[]string{`(verb "get" vs "list")`}},
		{"a batch and an event", `{"kind":"EventList","items":[` + orig + `,` + orig + `]}`, orig,
			[]string{`(2 events vs 1)`}},
	} {
		in := "\n" + `{"log":` + strconvQuote(tc.log) + `,"message":` + strconvQuote(tc.message) + "}\n"
		evs, rejs := readBytes(t, []byte(in), 0)
		if len(evs) != 0 || len(rejs) != 1 || rejs[0].Origin.Where() != "in:2" {
			t.Errorf("%s: %d events, rejects %v", tc.what, len(evs), rejs)
			continue
		}
		r := rejs[0].Reason
		if !strings.HasPrefix(r, "log and message hold different audit events (") || !strings.HasSuffix(r, "): which one the record carries is ambiguous; neither is read") {
			t.Errorf("%s: reject %q", tc.what, r)
		}
		for _, w := range tc.want {
			if !strings.Contains(r, w) {
				t.Errorf("%s: reject %q does not say %q", tc.what, r, w)
			}
		}
		if strings.Contains(r, `auditID ""`) || strings.ContainsAny(r, "\x1b\x07\u202e") || len(r) > 300 {
			t.Errorf("%s: reject %q: an empty auditID, a raw control character or too long", tc.what, r)
		}
	}
}

// TestFluentdOutFileLines reads testdata/shapes/fluentd-out_file.log,
// Fluentd's out_file in its default format (time, tag and record,
// tab-separated; https://docs.fluentd.org/formatter/out_file), which was
// rejected as malformed JSON (review F finding 11): each event is read,
// cited at its line, its Raw the line as read, carried by the out_file
// line, timed by its own stageTimestamp; a record cut short, a time that
// is not RFC 3339 and a line of another log are rejected naming the line
// and what is wrong. Raw decoded again (as Detail does) gives the same.
func TestFluentdOutFileLines(t *testing.T) {
	ps := plainInfos(t)
	evs, rejs, _ := readShape(t, "fluentd-out_file.log", ReadOptions{})
	file := readShapeFile(t, "fluentd-out_file.log")
	lines := bytes.Split(bytes.TrimSuffix(file, []byte{'\n'}), []byte{'\n'})
	if len(evs) != 2 {
		t.Fatalf("%d events, rejects %v", len(evs), rejs)
	}
	var d Decoder
	for i, e := range evs {
		p := ps[13+i]
		if e.AuditID != p.auditID || e.User != p.username || !jsonEqual(e.EntryLine(), p.line) {
			t.Errorf("line %d: event %s %s, want %s %s (the API server's event)", i+1, e.AuditID, e.User, p.auditID, p.username)
		}
		if e.Carrier != CarrierFluentdFile || e.Time != p.ts.UnixNano() {
			t.Errorf("line %d: carried by %v, time %v (want the stageTimestamp %v)", i+1, e.Carrier, time.Unix(0, e.Time).UTC(), p.ts)
		}
		if e.Origin.Cite() != "fluentd-out_file.log:"+string(rune('1'+i)) || e.Origin.Col != 0 || !bytes.Equal(e.Raw, lines[i]) {
			t.Errorf("line %d: cited %s, Raw is not the line", i+1, e.Origin.Cite())
		}
		again, rej := d.Decode(nil, e.Raw, Origin{})
		if rej != nil || len(again) != 1 || again[0].AuditID != e.AuditID || again[0].Carrier != CarrierFluentdFile || !bytes.Equal(again[0].EntryLine(), e.EntryLine()) {
			t.Errorf("line %d: Raw decoded again: %d events, %v", i+1, len(again), rej)
		}
	}
	want := []struct{ where, reason string }{
		{"fluentd-out_file.log:3", `Fluentd out_file line (tag "kube.audit"), its record from byte 37: malformed JSON: unexpected end of input`},
		{"fluentd-out_file.log:4", `line of Fluentd's out_file format (time, tag, record): its time "2026-11-20 02:32:44 +0000" is not RFC 3339`},
		{"fluentd-out_file.log:5", `Fluentd out_file line (tag "kube.apiserver"), its record from byte 41: field message holds text, not a JSON audit event`},
	}
	if len(rejs) != len(want) {
		t.Fatalf("rejects %v", rejs)
	}
	for i, w := range want {
		if rejs[i].Origin.Where() != w.where || !strings.HasPrefix(rejs[i].Reason, w.reason) {
			t.Errorf("reject %s: %s\nwant %s: %s…", rejs[i].Origin.Where(), rejs[i].Reason, w.where, w.reason)
		}
	}

	// The record's bytes start where the reason says; an event without a
	// time of its own takes the line's; the reviewer's line; bad tags.
	ev := strconvQuote(string(ps[0].line))
	undated := regexp.MustCompile(`,"(requestReceivedTimestamp|stageTimestamp)":"[^"]*"`).ReplaceAllString(string(ps[0].line), "")
	for _, tc := range []struct {
		in      string
		carrier Carrier
		time    string // the event's time, RFC 3339 ("" for its stageTimestamp)
		reject  string
	}{
		{"2026-11-20T02:00:00+00:00\taudit.log\t{\"message\":" + ev + "}", CarrierFluentdFile, "", ""},
		{"2026-11-20T11:00:00+09:00\tkube.audit\t" + undated, CarrierFluentdFile, "2026-11-20T02:00:00Z", ""},
		{"2026-11-20T02:00:00.25Z\tkube.audit\t{\"message\":" + strconvQuote(undated) + "}", CarrierFluentdFile, "2026-11-20T02:00:00.25Z", ""},
		{"2026-11-20T02:00:00Z\tkube audit\t{\"message\":" + ev + "}", 0, "", `line of Fluentd's out_file format (time, tag, record): its tag "kube audit" is not a Fluentd tag`},
		{"2026-11-20T02:00:00Z\tkube.\x1b[2Jaudit\t{\"message\":" + ev + "}", 0, "", `its tag "kube.\x1b[2Jaudit" is not a Fluentd tag`},
		{"2026-11-20T02:00:00Z\t\t{\"message\":" + ev + "}", 0, "", `its tag is empty`},
		{"2026-11-20T02:00:00Z\tkube,\"audit\t{\"message\":" + ev + "}", 0, "", `its tag "kube,\"audit" is not a Fluentd tag`},
		{"2026-11-20T02:00:00+00:00\tkube.var.log.containers.kube-apiserver-cp-1_kube-system_kube-apiserver-0f1e.log\t{\"message\":" + ev + "}", CarrierFluentdFile, "", ""},
		{"1795140000\tkube.audit\t{\"message\":" + ev + "}", 0, "", `its time "1795140000" is not RFC 3339`},
		{"2026-11-20T02:00:00Z\tkube.audit\t{\"message\":" + ev, 0, "", `Fluentd out_file line (tag "kube.audit"), its record from byte 32: malformed JSON`},
		{"2026-11-20T02:00:00Z\tkube.audit\t{\"log\":{\"level\":\"info\"}}", 0, "", `Fluentd out_file line (tag "kube.audit"), its record from byte 32: field log: JSON object is not an audit event`},
	} {
		evs, rejs := readBytes(t, []byte("\n"+tc.in+"\n"), 0)
		if tc.reject != "" {
			if len(evs) != 0 || len(rejs) != 1 || rejs[0].Origin.Where() != "in:2" || !strings.Contains(rejs[0].Reason, tc.reject) {
				t.Errorf("%.60q: %d events, rejects %v; want %q", tc.in, len(evs), rejs, tc.reject)
			} else if strings.ContainsAny(rejs[0].Reason, "\x1b\t") {
				t.Errorf("%.60q: raw control characters in %q", tc.in, rejs[0].Reason)
			}
			continue
		}
		want := ps[0].ts
		if tc.time != "" {
			want, _ = time.Parse(time.RFC3339Nano, tc.time)
		}
		if len(rejs) != 0 || len(evs) != 1 || evs[0].Carrier != tc.carrier || evs[0].AuditID != ps[0].auditID || evs[0].Time != want.UnixNano() ||
			evs[0].Origin.Cite() != "in:2" || string(evs[0].Raw) != tc.in {
			t.Errorf("%.60q: %d events %v, rejects %v", tc.in, len(evs), carrierOf(evs), rejs)
		}
	}
}

// TestFilebeatJSONRecords reads testdata/shapes/filebeat-json.jsonl:
// Filebeat's log input decoding JSON lines puts the line's object under
// json unless json.keys_under_root is set (the default is false;
// https://www.elastic.co/guide/en/beats/filebeat/current/filebeat-input-log.html),
// which was rejected naming only log (review F finding 11). json is read
// as one more key that may hold the event, in a record with Filebeat's
// keys (@metadata, ecs, agent, or @timestamp with log.offset or
// log.file.path), whatever the key order; rejects name json.
func TestFilebeatJSONRecords(t *testing.T) {
	ps := plainInfos(t)
	evs, rejs, _ := readShape(t, "filebeat-json.jsonl", ReadOptions{})
	file := readShapeFile(t, "filebeat-json.jsonl")
	lines := bytes.Split(bytes.TrimSuffix(file, []byte{'\n'}), []byte{'\n'})
	if len(evs) != 2 {
		t.Fatalf("%d events, rejects %v", len(evs), rejs)
	}
	for i, e := range evs {
		p := ps[13+i]
		if e.AuditID != p.auditID || !jsonEqual(e.EntryLine(), p.line) || e.Carrier != CarrierFilebeatJSON || e.Time != p.ts.UnixNano() {
			t.Errorf("line %d: event %s carried by %v at %v, want %s", i+1, e.AuditID, e.Carrier, time.Unix(0, e.Time).UTC(), p.auditID)
		}
		if e.Origin.Line != int64(i+1) || e.Origin.Col != 0 || !bytes.Equal(e.Raw, lines[i]) {
			t.Errorf("line %d: cited %s, Raw is not the record", i+1, e.Origin.Cite())
		}
	}
	want := []struct{ where, reason string }{
		{"filebeat-json.jsonl:3", "no audit event under log, message, json: field log: JSON object is not an audit event (no kind, auditID, verb or stage); field message: malformed JSON: unexpected end of input (truncated line?) at byte 513; field json: JSON object is not an audit event (no kind, auditID, verb or stage)"},
		{"filebeat-json.jsonl:4", "no audit event under log, json: field log: JSON object is not an audit event (no kind, auditID, verb or stage); field json: JSON object is not an audit event (no kind, auditID, verb or stage)"},
	}
	if len(rejs) != len(want) {
		t.Fatalf("rejects %v", rejs)
	}
	for i, w := range want {
		if rejs[i].Origin.Where() != w.where || rejs[i].Reason != w.reason {
			t.Errorf("reject %s: %s\nwant %s: %s", rejs[i].Origin.Where(), rejs[i].Reason, w.where, w.reason)
		}
	}
	var d Decoder
	for i, l := range lines {
		for _, rec := range keyOrders(t, l) {
			got, rej := d.Decode(nil, rec, Origin{Line: 1})
			if i >= len(evs) {
				if len(got) != 0 || rej == nil || !strings.Contains(rej.Reason, "field json: ") {
					t.Errorf("line %d, keys reordered: %d events, reject %v", i+1, len(got), rej)
				}
				continue
			}
			if rej != nil || len(got) != 1 || got[0].AuditID != evs[i].AuditID || got[0].Carrier != CarrierFilebeatJSON || got[0].Time != evs[i].Time {
				t.Errorf("line %d, keys reordered: %d events (%v), reject %v\n%.200s", i+1, len(got), carrierOf(got), rej, rec)
			}
		}
	}

	obj := string(ps[0].line)
	for _, tc := range []struct {
		in     string
		read   bool
		reject string
	}{
		// The reviewer's record: @timestamp and log.offset, log.file.path.
		{`{"@timestamp":"2026-11-20T02:00:00Z","log":{"offset":1,"file":{"path":"/a"}},"json":` + obj + `}`, true, ""},
		{`{"json":` + obj + `,"log":{"file":{"path":"/a"}},"@timestamp":"2026-11-20T02:00:00Z"}`, true, ""},
		{`{"@timestamp":"2026-11-20T02:00:00Z","json":` + obj + `,"agent":{"type":"filebeat"}}`, true, ""},
		{`{"ecs":{"version":"8.0.0"},"json":` + obj + `}`, true, ""},
		// The same event under message and json: read once.
		{`{"@metadata":{"beat":"filebeat"},"message":` + strconvQuote(obj) + `,"json":` + obj + `}`, true, ""},
		// Nothing of Filebeat's: json is not read, and the reject says so.
		{`{"json":` + obj + `}`, false, "its json key is read only in a Filebeat record"},
		{`{"log":{"file":{"path":"/a"}},"json":` + obj + `}`, false, "field log: JSON object is not an audit event"},
		{`{"@timestamp":"2026-11-20T02:00:00Z","log":{"level":"info"},"json":` + obj + `}`, false, "field log: JSON object is not an audit event"},
		// json holding something else.
		{`{"@timestamp":"2026-11-20T02:00:00Z","log":{"offset":1},"json":{"level":"info","msg":"started"}}`, false, "no audit event under log, json: "},
		{`{"ecs":{"version":"8.0.0"},"json":{"level":"info","msg":"started"}}`, false, "field json: JSON object is not an audit event"},
		{`{"ecs":{"version":"8.0.0"},"json":"` + "text" + `"}`, false, "JSON object is not an audit event"},
	} {
		evs, rejs := readBytes(t, []byte("\n"+tc.in+"\n"), 0)
		if tc.read {
			if len(rejs) != 0 || len(evs) != 1 || evs[0].AuditID != ps[0].auditID || evs[0].Origin.Cite() != "in:2" {
				t.Errorf("%.100s: %d events, rejects %v", tc.in, len(evs), rejs)
			}
			continue
		}
		if len(evs) != 0 || len(rejs) != 1 || rejs[0].Origin.Where() != "in:2" || !strings.Contains(rejs[0].Reason, tc.reject) {
			t.Errorf("%.100s: %d events, rejects %v; want %q", tc.in, len(evs), rejs, tc.reject)
		}
	}
	// The same keys name Filebeat when the event is under message.
	ev := strconvQuote(obj)
	for _, tc := range []struct {
		in   string
		want Carrier
	}{
		{`{"@timestamp":"2026-11-20T02:00:00.001Z","log":{"offset":1,"file":{"path":"/a"}},"message":` + ev + `}`, CarrierFilebeat},
		{`{"message":` + ev + `,"agent":{"type":"filebeat"}}`, CarrierFilebeat},
		{`{"@timestamp":"2026-11-20T02:00:00.001Z","log":{"level":"info"},"message":` + ev + `}`, CarrierShipper},
	} {
		evs, rej := d.Decode(nil, []byte(tc.in), Origin{Line: 1})
		if rej != nil || len(evs) != 1 || evs[0].Carrier != tc.want {
			t.Errorf("%.100s: carriers %v (%v), want %v", tc.in, carrierOf(evs), rej, tc.want)
		}
	}
}

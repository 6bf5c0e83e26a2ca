package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/termsafe/termsafetest"
)

// shapesDir holds the evidence shapes (testdata/shapes/README.md).
const shapesDir = "../../testdata/shapes"

// loadShape reads a file of any shape (decompressed by magic bytes, JSON
// documents over lines, arrays, batches, CSV) into a fresh index through
// the reader the file, stdin and S3 sources use.
func loadShape(t testing.TB, path string) *Index {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	r, kind, done, err := data.Decompress(fh)
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	info := &data.SourceInfo{Name: path, Seekable: kind == "", Labels: data.Labels{{Name: "job", Value: "audit"}}}
	ix := NewIndex(t.TempDir(), nil)
	t.Cleanup(func() { ix.Close() })
	st := data.NewReaderStream(context.Background(), r, info, data.ReadOptions{}, nil)
	defer st.Close()
	for {
		b, err := st.Next(context.Background())
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := ix.Add(b); err != nil {
			t.Fatal(err)
		}
	}
	ix.Finish(nil)
	return ix
}

// newShapeApp is newTestAppFile over a file of any shape, in loc.
func newShapeApp(t testing.TB, path string, w, h int, loc *time.Location) *App {
	t.Helper()
	a := New(context.Background(), loadShape(t, path), nil, Options{Title: filepath.Base(path), NoColor: true, Compile: CompileLogQL, Loc: loc})
	a.Update(tea.WindowSizeMsg{Width: w, Height: h})
	return a
}

// openRow opens index row i in Detail, as enter does.
func openRow(t *testing.T, a *App, i int) {
	t.Helper()
	runCmd(t, a, a.detail.Open(i))
	if !a.detail.loaded {
		t.Fatalf("row %d: detail not loaded", i)
	}
}

// summaryValue is the value of Detail's summary line key (continuation
// lines joined), and whether there is one.
func summaryValue(d *Detail, key string) (string, bool) {
	var b strings.Builder
	found := false
	for _, l := range d.plain {
		if l == "" {
			break
		}
		switch {
		case strings.HasPrefix(l, pad(key, 9)+" "):
			if found {
				return b.String(), true
			}
			found = true
			b.WriteString(strings.TrimRight(l[10:], " "))
		case found && strings.HasPrefix(l, strings.Repeat(" ", 10)):
			b.WriteString(strings.TrimRight(l[10:], " "))
		case found:
			return b.String(), true
		}
	}
	return b.String(), found
}

// TestDetailShowsTheCarriedEvent: for every event of every evidence shape
// (plain, pretty, arrays, EventLists, EKS, AKS, GKE, shipper records, the
// Logs Insights CSV), Detail summarises and shows the audit event, not the
// record that carried it: the summary agrees with the Tail's columns, the
// JSON is the event as LogQL reads it (valid JSON, holding nothing a
// terminal interprets), a `carrier` line names what carried it, and the
// citation and sha256 are still those of the record as read.
func TestDetailShowsTheCarriedEvent(t *testing.T) {
	cases := []struct {
		file    string
		carrier string // "" when each record is the event itself
	}{
		{"plain.jsonl", ""},
		{"pretty.json", ""},
		{"array.json", ""},
		{"concatenated.json", ""},
		{"eventlist-pretty.json", ""},
		{"eks-insights.csv", ""},
		{"eks-filter-log-events.json", "CloudWatch Logs event (message) · timestamp 2026-11-20 "},
		{"eks-firehose.gz", "CloudWatch Logs subscription event (message) · timestamp 2026-11-20 "},
		{"aks-eventhub.json", "AKS diagnostic record, category kube-audit"},
		{"aks-pt1h.json", "AKS diagnostic record, category kube-audit"},
		{"gke-gcloud.json", "Cloud Logging LogEntry (GKE): the event below is mapped from its protoPayload · cluster gke-demo · insertId "},
		{"gke-sink.jsonl", "Cloud Logging LogEntry (GKE)"},
		{"wrappers.jsonl", "*"}, // a different shipper on each line
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			a := newShapeApp(t, filepath.Join(shapesDir, tc.file), 120, 40, time.UTC)
			s := a.c.Snap
			if s.Len() == 0 {
				t.Fatal("no events")
			}
			for i := 0; i < s.Len(); i++ {
				openRow(t, a, i)
				a.detail.Action(ActFold) // unfold the request and response objects
				d := a.detail
				where := s.Cite(i)
				get := func(key string) string {
					v, ok := summaryValue(d, key)
					if !ok {
						t.Fatalf("%s: no %q line:\n%s", where, key, strings.Join(d.plain, "\n"))
					}
					return v
				}
				if v := get("verb"); !strings.HasPrefix(v, s.Str(ColVerb, i)+"  /") {
					t.Errorf("%s: verb %q, Tail says %q", where, v, s.Str(ColVerb, i))
				}
				if code := s.Code(i); code != 0 && !strings.HasPrefix(get("status"), strconv.Itoa(code)) {
					t.Errorf("%s: status %q, Tail says %d", where, get("status"), code)
				}
				if ip := s.Str(ColSourceIP, i); !strings.HasPrefix(get("from"), ip) {
					t.Errorf("%s: from %q, want %q", where, get("from"), ip)
				}
				if !strings.Contains(get("stages"), s.Str(ColStage, i)) {
					t.Errorf("%s: stages %q lack %q", where, get("stages"), s.Str(ColStage, i))
				}
				if tm := get("time"); !strings.HasPrefix(tm, time.Unix(0, s.Time(i)).UTC().Format("2006-01-02 15:04:05")) || !strings.Contains(tm, " UTC (") {
					t.Errorf("%s: time %q", where, tm)
				}
				// The JSON is the event, the citation the record.
				line, ok := d.EventLine()
				if !ok {
					t.Fatalf("%s: no event", where)
				}
				var got, want any
				shown := detailJSON(t, d)
				if err := json.Unmarshal([]byte(shown), &got); err != nil {
					t.Fatalf("%s: not JSON: %v\n%s", where, err, shown)
				}
				if err := json.Unmarshal(line, &want); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s: Detail's JSON is not the event:\n%s", where, shown)
				}
				if m, ok := got.(map[string]any); !ok || m["kind"] != "Event" {
					t.Errorf("%s: Detail's JSON is not an audit event:\n%s", where, shown)
				}
				if err := termsafetest.CheckLines(strings.Join(d.plain, "\n")); err != nil {
					t.Errorf("%s: %v", where, err)
				}
				raw, err := s.Raw(i)
				if err != nil {
					t.Fatal(err)
				}
				if get("source") != where || get("sha256") != RawSHA256(raw) {
					t.Errorf("%s: cites %q %q, want the record's %q %q", where, get("source"), get("sha256"), where, RawSHA256(raw))
				}
				if shown, _ := d.RawLine(); string(shown) != string(raw) {
					t.Errorf("%s: y would copy other bytes than the record's", where)
				}
				c, hasC := summaryValue(d, "carrier")
				switch {
				case tc.carrier == "" && hasC:
					t.Errorf("%s: a carrier for an event: %q", where, c)
				case tc.carrier == "*" && !hasC, tc.carrier != "" && tc.carrier != "*" && !strings.HasPrefix(c, tc.carrier):
					t.Errorf("%s: carrier %q, want %q…", where, c, tc.carrier)
				}
			}
		})
	}
}

// TestDetailCarrierFacts: the carrier line of each wrapper names the
// shipper and the record's own time, stream, cluster or host.
func TestDetailCarrierFacts(t *testing.T) {
	a := newShapeApp(t, filepath.Join(shapesDir, "wrappers.jsonl"), 120, 40, time.UTC)
	want := []string{
		"shipper record (message; Vector) · timestamp 2026-11-20 02:00:08.789129 UTC · host cp-1 · source_type file",
		"CloudWatch Logs Insights record (@message) · @timestamp 2026-11-20 02:00:11.688 · log stream kube-apiserver-audit-7f3c2a9b0d1e4f5a6b7c8d9e0f1a2b3c",
		"container log record (log; Docker json-file) · time 2026-11-20 02:00:19.655594 UTC · stream stdout",
		"Fluent Bit record (log) · date 2026-11-20 02:00:24.309 UTC · cluster prod-eu",
		"Cloud Logging entry (jsonPayload) · timestamp 2026-11-20 02:00:47.400066 UTC · logName projects/demo-project/logs/kube-apiserver-audit",
	}
	if a.c.Snap.Len() != len(want) {
		t.Fatalf("%d events", a.c.Snap.Len())
	}
	for i, w := range want {
		openRow(t, a, i)
		if got, _ := summaryValue(a.detail, "carrier"); got != w {
			t.Errorf("line %d: carrier\n %q, want\n %q", i+1, got, w)
		}
	}
	// CloudWatch Logs times are whole milliseconds, read exactly.
	b := newShapeApp(t, filepath.Join(shapesDir, "eks-firehose.gz"), 120, 40, time.UTC)
	openRow(t, b, 0)
	if got, _ := summaryValue(b.detail, "carrier"); !strings.Contains(got, "timestamp 2026-11-20 02:00:08.789 UTC · id 0000") {
		t.Errorf("firehose carrier %q", got)
	}
}

// TestGoldenDetailManaged: Detail of an exec read from an EKS
// filter-log-events export and from a GKE LogEntry (gcloud's pretty
// array), at 80x24 and 120x40, opened as a person would (filter, enter):
// the summary is the event's, the exec command decoded, the carrier named.
func TestGoldenDetailManaged(t *testing.T) {
	for _, tc := range []struct{ name, file, query, want string }{
		{"eks", "eks-filter-log-events.json", `user_username="carol@corp.example" | objectRef_subresource="exec"`, "sh   (container controller) tty"},
		{"gke", "gke-gcloud.json", `objectRef_subresource="exec"`, "not recorded (no command= in the requestURI)"},
	} {
		for _, sz := range sizes {
			a := newShapeApp(t, filepath.Join(shapesDir, tc.file), sz.w, sz.h, time.UTC)
			openEvent(t, a, tc.query)
			s := screen(a)
			checkScreen(t, s, sz.w, sz.h)
			golden(t, fmt.Sprintf("detail_%s_%dx%d.txt", tc.name, sz.w, sz.h), s)
			for _, w := range []string{"status    101", "verb      ", "carrier   ", `"kind": "Event"`, "time      2026-11-20 0"} {
				if !strings.Contains(s, w) {
					t.Errorf("%s %dx%d: %q missing:\n%s", tc.name, sz.w, sz.h, w, s)
				}
			}
			if cmd, _ := summaryValue(a.detail, "command"); cmd != tc.want {
				t.Errorf("%s: command %q, want %q", tc.name, cmd, tc.want)
			}
		}
	}
}

// TestDetailTimeLine: the `time` line has the full date and zone and says
// which timestamp it is: stageTimestamp, requestReceivedTimestamp,
// v1beta1's timestamp, or the carrier's; in another zone (--local-time)
// it names the zone and its offset and gives the instant as the JSON
// holds it, a day apart here.
func TestDetailTimeLine(t *testing.T) {
	est := time.FixedZone("EST", -5*3600)
	lines := []string{
		`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a1","stage":"ResponseComplete","requestURI":"/api/v1/pods","verb":"list","user":{"username":"u"},"requestReceivedTimestamp":"2026-11-20T03:59:59.000000Z","stageTimestamp":"2026-11-20T03:59:59.876543Z"}`,
		`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a2","stage":"RequestReceived","requestURI":"/api/v1/pods","verb":"list","user":{"username":"u"},"requestReceivedTimestamp":"2026-11-20T04:00:00.5Z"}`,
		`{"kind":"Event","apiVersion":"audit.k8s.io/v1beta1","metadata":{"creationTimestamp":"2017-09-11T20:29:04Z"},"level":"Metadata","timestamp":"2017-09-11T20:29:04Z","auditID":"a3","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/ns1/secrets","verb":"list","user":{"username":"system:admin"}}`,
		`{"cluster":"prod","date":1795140024.309,"log":{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a4","stage":"ResponseComplete","requestURI":"/api/v1/pods","verb":"list","user":{"username":"u"}}}`,
		`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a5","stage":"ResponseComplete","requestURI":"/api/v1/pods","verb":"list","user":{"username":"u"}}`,
	}
	p := writeLines(t, "times.jsonl", lines)
	for _, tc := range []struct {
		loc  *time.Location
		want []string
	}{
		{time.UTC, []string{
			"2026-11-20 03:59:59.876543 UTC (stageTimestamp)",
			"2026-11-20 04:00:00.500 UTC (requestReceivedTimestamp)",
			"2017-09-11 20:29:04.000 UTC (timestamp)",
			"2026-11-20 02:00:24.309 UTC (the carrier's time (the event has none))",
			"none (no stageTimestamp, requestReceivedTimestamp or timestamp)",
		}},
		{est, []string{
			"2026-11-19 22:59:59.876543 EST -05:00 (stageTimestamp 2026-11-20T03:59:59.876543Z)",
			"2026-11-19 23:00:00.500 EST -05:00 (requestReceivedTimestamp 2026-11-20T04:00:00.5Z)",
			"2017-09-11 15:29:04.000 EST -05:00 (timestamp 2017-09-11T20:29:04Z)",
			"2026-11-19 21:00:24.309 EST -05:00 (the carrier's time (the event has none) 2026-11-20T02:00:24.309Z)",
			"none (no stageTimestamp, requestReceivedTimestamp or timestamp)",
		}},
	} {
		a := newShapeApp(t, p, 120, 40, tc.loc)
		for i, w := range tc.want {
			openRow(t, a, i)
			if got, _ := summaryValue(a.detail, "time"); got != w {
				t.Errorf("%s line %d: time\n %q, want\n %q", tc.loc, i+1, got, w)
			}
		}
	}
}

// TestDetailCarrierIsTheDecoders: the carrier line names the shape the
// decoder decoded (data.Event.Carrier), not one guessed again from the
// record's keys: a Vector record that also has a log key carried its event
// in message; a Fluent Bit record with an eventId is not a CloudWatch
// Logs event; a record with log and nothing of a shipper's is not said to
// be Fluent Bit's.
func TestDetailCarrierIsTheDecoders(t *testing.T) {
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	ev := func(id, at string) string {
		return q(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"` + id + `","stage":"ResponseComplete","requestURI":"/api/v1/pods","verb":"list","user":{"username":"u"},"stageTimestamp":"2026-11-20T02:00:0` + at + `Z"}`)
	}
	p := writeLines(t, "ambiguous.jsonl", []string{
		`{"message":` + ev("v1", "8") + `,"host":"cp-1","log":"kube-apiserver","source_type":"file","timestamp":"2026-11-20T02:00:08.789129Z"}`,
		`{"cluster":"prod-eu","date":1795140024.309,"eventId":"38211","log":` + ev("f1", "9") + `}`,
		// Nothing of Fluent Bit's (date, stream, time, kubernetes): no
		// shipper is named (review F finding 12).
		`{"message":5,"log":` + ev("s1", "7") + `,"host":"cp-1"}`,
	})
	a := newShapeApp(t, p, 120, 40, time.UTC)
	for i, want := range []string{
		"shipper record (message; Vector) · timestamp 2026-11-20 02:00:08.789129 UTC · host cp-1 · source_type file",
		"Fluent Bit record (log) · date 2026-11-20 02:00:24.309 UTC · cluster prod-eu",
		"shipper record (log) · host cp-1",
	} {
		openRow(t, a, i)
		if got, _ := summaryValue(a.detail, "carrier"); got != want {
			t.Errorf("line %d: carrier\n %q, want\n %q", i+1, got, want)
		}
	}
}

// TestDetailCarrierRecord: `c` in Detail shows the record each event came
// in (the bytes cited and hashed: a CloudWatch Logs event, an AKS record,
// a GKE LogEntry, a shipper's record) as valid JSON that is that record,
// through the sanitising JSON view; `c` again shows the event. An event
// that is its own record says it has no carrier and stays shown.
func TestDetailCarrierRecord(t *testing.T) {
	for _, file := range []string{"eks-filter-log-events.json", "eks-firehose.gz", "aks-eventhub.json", "aks-pt1h.json", "gke-gcloud.json", "gke-sink.jsonl", "wrappers.jsonl", "plain.jsonl"} {
		t.Run(file, func(t *testing.T) {
			a := newShapeApp(t, filepath.Join(shapesDir, file), 120, 40, time.UTC)
			s := a.c.Snap
			for i := 0; i < s.Len(); i++ {
				runCmd(t, a, a.openDetail(i))
				d := a.detail
				where := s.Cite(i)
				raw, err := s.Raw(i)
				if err != nil {
					t.Fatal(err)
				}
				send(t, a, "c")
				if file == "plain.jsonl" {
					if d.showingRecord() || !strings.Contains(screen(a), "no carrier: the event is its own record") {
						t.Fatalf("%s: c on an event that is its own record:\n%s", where, screen(a))
					}
					continue
				}
				send(t, a, "z") // the record, unfolded
				shown := detailJSON(t, d)
				var got, want map[string]any
				if err := json.Unmarshal([]byte(shown), &got); err != nil {
					t.Fatalf("%s: not JSON: %v\n%s", where, err, shown)
				}
				if err := json.Unmarshal(raw, &want); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s: c does not show the record as read:\n%s", where, shown)
				}
				if got["kind"] == "Event" {
					t.Errorf("%s: c shows the event, not its record", where)
				}
				if err := termsafetest.CheckLines(strings.Join(d.plain, "\n")); err != nil {
					t.Errorf("%s: %v", where, err)
				}
				// The citation is still the record's; c again: the event.
				if v, _ := summaryValue(d, "sha256"); v != RawSHA256(raw) {
					t.Errorf("%s: sha256 %q", where, v)
				}
				send(t, a, "c")
				if err := json.Unmarshal([]byte(detailJSON(t, d)), &got); err != nil || got["kind"] != "Event" {
					t.Errorf("%s: c again does not show the event (%v)", where, err)
				}
				send(t, a, "z") // folded again for the next event
			}
		})
	}
}

// TestGoldenDetailCarrierRecord: at 80x24 and 120x40, c on an EKS exec
// scrolls to the CloudWatch Logs event it came in (its message, the
// event as a JSON string, wrapped), the summary above; g goes back up to
// it, and j/G scroll the record.
func TestGoldenDetailCarrierRecord(t *testing.T) {
	for _, sz := range sizes {
		a := newShapeApp(t, filepath.Join(shapesDir, "eks-filter-log-events.json"), sz.w, sz.h, time.UTC)
		openEvent(t, a, `user_username="carol@corp.example" | objectRef_subresource="exec"`)
		send(t, a, "c")
		s := screen(a)
		checkScreen(t, s, sz.w, sz.h)
		golden(t, fmt.Sprintf("detail_carrier_eks_%dx%d.txt", sz.w, sz.h), s)
		// Scrolled to the record, unless all of the detail fits.
		lines := strings.Split(s, "\n")
		top := sz.h < 40 && (!strings.HasPrefix(lines[1], "carrier record as read") || !strings.HasPrefix(lines[2], "{"))
		if top || !strings.Contains(s, "carrier record as read") || !strings.Contains(s, `"logStreamName": "kube-apiserver-audit-`) {
			t.Errorf("%dx%d: c does not show the record from its top:\n%s", sz.w, sz.h, s)
		}
		send(t, a, "G")
		if s := screen(a); !strings.Contains(s, `"eventId": "00000000000000000000000017951401769720000000000000000009"`) {
			t.Errorf("%dx%d: G does not reach the record's end:\n%s", sz.w, sz.h, s)
		}
		send(t, a, "g")
		if s := screen(a); !strings.Contains(s, "user      carol@corp.example") || !strings.Contains(s, "(c: the event)") {
			t.Errorf("%dx%d: g does not show the summary:\n%s", sz.w, sz.h, s)
		}
		send(t, a, "c")
		if s := screen(a); !strings.Contains(s, "(c: the carrier record)") || strings.Contains(s, "carrier record as read") {
			t.Errorf("%dx%d: c again:\n%s", sz.w, sz.h, s)
		}
	}
}

// TestDetailCarrierRecordHostile: a shipper record's own fields (here its
// host: an OSC title sequence, BEL, a CSI clear, a bidi override and a
// C1 CSI)
// reach the screen as JSON escapes, never raw, in colour too, and the
// record still reads back as the same JSON.
func TestDetailCarrierRecordHostile(t *testing.T) {
	event := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"h1","stage":"ResponseComplete","requestURI":"/api/v1/pods","verb":"list","user":{"username":"u"},"stageTimestamp":"2026-11-20T02:00:08Z"}`
	q, _ := json.Marshal(event)
	// JSON must escape C0 controls; a bidi override and a C1 CSI may be
	// written as they are.
	line := `{"host":"cp-1\u001b]0;pwned\u0007\u001b[2J` + "\u202egnp.exe\u009b2J" + `","message":` + string(q) + `,"source_type":"file"}`
	p := writeLines(t, "hostile.jsonl", []string{line})
	for _, sz := range sizes {
		a := New(context.Background(), loadShape(t, p), nil, Options{Compile: CompileLogQL, Loc: time.UTC})
		a.Update(tea.WindowSizeMsg{Width: sz.w, Height: sz.h})
		runCmd(t, a, a.openDetail(0))
		send(t, a, "c")
		frame := sgr.ReplaceAllString(a.View().Content, "")
		if err := termsafetest.CheckLines(frame); err != nil {
			t.Fatalf("%dx%d: %v", sz.w, sz.h, err)
		}
		if !strings.Contains(frame, `"host": "cp-1\u001b]0;pwned\u0007\u001b[2J\u202egnp.exe\u009b2J"`) {
			t.Errorf("%dx%d: the host is not shown as its JSON escapes:\n%s", sz.w, sz.h, frame)
		}
		var got, want any
		if err := json.Unmarshal([]byte(detailJSON(t, a.detail)), &got); err != nil {
			t.Fatal(err)
		}
		_ = json.Unmarshal([]byte(line), &want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("the record shown is not the record")
		}
	}
}

// TestDetailShipperCarriers: the carrier line names the shipper of each
// record of testdata/shapes/shippers.jsonl (Filebeat, Elastic Agent,
// Logstash, Vector's file and kubernetes_logs sources, Fluent Bit with the
// kubernetes filter, Fluentd, Fluentd's Kubernetes DaemonSet) and the
// record's own time, host, file or pod; a record that names no shipper is
// not said to be Vector's.
func TestDetailShipperCarriers(t *testing.T) {
	a := newShapeApp(t, filepath.Join(shapesDir, "shippers.jsonl"), 300, 40, time.UTC) // no line wraps
	want := []string{
		"Filebeat / Elastic Agent record (message) · @timestamp 2026-11-20 02:00:51.636 UTC · host cp-1 · file /var/log/kubernetes/audit/audit.log · offset 6410",
		"Filebeat / Elastic Agent record (message) · @timestamp 2026-11-20 02:01:14.076 UTC · host cp-1 · file /var/log/kubernetes/audit/audit.log · offset 7478",
		"Logstash event (message) · @timestamp 2026-11-20 02:01:16.905411 UTC · host cp-1 · file /var/log/kubernetes/audit/audit.log",
		"shipper record (message; Vector) · timestamp 2026-11-20 02:02:01.900475457 UTC · host cp-1 · source_type file · file /var/log/kubernetes/audit/audit.log",
		"shipper record (message; Vector) · timestamp 2026-11-20 02:02:56.973254567 UTC · source_type kubernetes_logs · file /var/log/pods/kube-system_kube-apiserver-cp-1_6f1d3c2b-8a9e-4b7c-9d0e-1f2a3b4c5d6e/kube-apiserver/0.log · pod kube-system/kube-apiserver-cp-1",
		"Fluent Bit record (log) · date 2026-11-20 02:03:26.206075 UTC · pod kube-system/kube-apiserver-cp-1",
		"shipper record (message)",
		"Fluentd record (log; kubernetes_metadata) · stream stdout · pod kube-system/kube-apiserver-cp-1 · container_id 3c9e1f7a5b2d4c6e8f0a1b3c5d7e9f1a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e",
	}
	if a.c.Snap.Len() != len(want) {
		t.Fatalf("%d events", a.c.Snap.Len())
	}
	for i, w := range want {
		openRow(t, a, i)
		if got, _ := summaryValue(a.detail, "carrier"); got != w {
			t.Errorf("line %d: carrier\n %q, want\n %q", i+1, got, w)
		}
	}
}

// TestCarrierTextNamesEveryKind: Detail describes every kind of carrier
// the decoder records (a kind added to data without a description here
// would be shown as a bare "record").
func TestCarrierTextNamesEveryKind(t *testing.T) {
	empty, err := parseJSON([]byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]data.Carrier{}
	for _, k := range data.Carriers() {
		s := carrierText(k, nil, empty, time.UTC)
		if s == "record" {
			t.Errorf("%v: no description", k)
		}
		if o, dup := seen[s]; dup {
			t.Errorf("%v and %v are both described %q", o, k, s)
		}
		seen[s] = k
	}
}

// TestDetailOutFileAndFilebeatJSON: Detail of an event read from a
// Fluentd out_file line (its default format: time, tag, record) names the
// line's time and tag, and c shows the record after them as JSON, saying
// so; an event read from a Filebeat record's json (its log input decoding
// JSON lines) names Filebeat and the file and offset, and c shows the
// whole record (review F finding 11).
func TestDetailOutFileAndFilebeatJSON(t *testing.T) {
	for _, tc := range []struct {
		file    string
		carrier []string
	}{
		{"fluentd-out_file.log", []string{
			"Fluentd out_file line (time, tag, record) · time 2026-11-20 02:19:51.000 UTC · tag kube.audit",
			"Fluentd out_file line (time, tag, record) · time 2026-11-20 02:30:01.000 UTC · tag kube.audit",
		}},
		{"filebeat-json.jsonl", []string{
			"Filebeat record (json: its log input decoding JSON lines) · @timestamp 2026-11-20 02:19:50.853 UTC · host cp-1 · file /var/log/kubernetes/audit/audit.log · offset 14442",
			"Filebeat record (json: its log input decoding JSON lines) · @timestamp 2026-11-20 02:30:00.348 UTC · host cp-1 · file /var/log/kubernetes/audit/audit.log · offset 15631",
		}},
	} {
		a := newShapeApp(t, filepath.Join(shapesDir, tc.file), 300, 40, time.UTC)
		s := a.c.Snap
		if s.Len() != len(tc.carrier) {
			t.Fatalf("%s: %d events", tc.file, s.Len())
		}
		for i, want := range tc.carrier {
			runCmd(t, a, a.openDetail(i))
			d := a.detail
			if got, _ := summaryValue(d, "carrier"); got != want {
				t.Errorf("%s row %d: carrier\n %q, want\n %q", tc.file, i, got, want)
			}
			raw, err := s.Raw(i)
			if err != nil {
				t.Fatal(err)
			}
			record := raw
			if tc.file == "fluentd-out_file.log" {
				record = raw[bytes.LastIndexByte(raw[:bytes.IndexByte(raw, '{')], '\t')+1:]
			}
			send(t, a, "c")
			send(t, a, "z")
			var got, exp any
			if err := json.Unmarshal([]byte(detailJSON(t, d)), &got); err != nil {
				t.Fatalf("%s row %d: c shows no JSON: %v\n%s", tc.file, i, err, screen(a))
			}
			if err := json.Unmarshal(record, &exp); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, exp) {
				t.Errorf("%s row %d: c does not show the record:\n%s", tc.file, i, detailJSON(t, d))
			}
			title := "carrier record as read, the bytes cited above"
			if tc.file == "fluentd-out_file.log" {
				title = "carrier record as read after its out_file time and tag"
			}
			if !strings.Contains(strings.Join(d.plain, "\n"), title) {
				t.Errorf("%s row %d: no %q:\n%s", tc.file, i, title, screen(a))
			}
			send(t, a, "c")
		}
	}
}

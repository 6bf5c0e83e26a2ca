package shipfaults

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/loki"
)

func TestTagSeqs(t *testing.T) {
	tag := Tag("0a1b2c3d")
	id := tag.ID(42)
	if len(id) != idLen || id != "0a1b2c3d-0000-4000-8000-000000000042" {
		t.Fatalf("ID(42) = %q", id)
	}
	if s, ok := tag.Seq(id); !ok || s != 42 {
		t.Fatalf("Seq(%q) = %d, %v", id, s, ok)
	}
	if _, ok := Tag("ffffffff").Seq(id); ok {
		t.Fatal("another run's ID parsed")
	}
	// Escaped inside a JSON string (the dead-letter file), among others.
	line, _ := json.Marshal(map[string]string{"line": `{"auditID":"` + tag.ID(7) + `","x":"` + Tag("ffffffff").ID(8) + `"}`})
	text := append(line, []byte(" "+tag.ID(9)+" "+tag.ID(1)[:30])...)
	if got := tag.Seqs(text); len(got) != 2 || got[0] != 7 || got[1] != 9 {
		t.Fatalf("Seqs = %v, want [7 9]", got)
	}
}

func TestEventsAreValidAuditEvents(t *testing.T) {
	tag := NewTag()
	src := newEventSource(tag, 1000, 1)
	var buf []byte
	for i := range 500 {
		buf = src.appendEvent(buf, i)
	}
	buf = append(buf, hugeEvent(tag, 500, 300<<10, time.Now())...)
	lines := bytes.Split(bytes.TrimSuffix(buf, []byte("\n")), []byte("\n"))
	if len(lines) != 501 {
		t.Fatalf("%d lines", len(lines))
	}
	for i, l := range lines {
		var ev struct {
			Kind, APIVersion, AuditID, Stage, Verb string
		}
		if err := json.Unmarshal(l, &ev); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		if ev.Kind != "Event" || ev.APIVersion != "audit.k8s.io/v1" || ev.Stage == "" || ev.Verb == "" {
			t.Fatalf("line %d is not an audit event: %+v", i, ev)
		}
		if s, ok := tag.Seq(ev.AuditID); !ok || s != i {
			t.Fatalf("line %d has auditID %q", i, ev.AuditID)
		}
	}
	if n := len(lines[500]); n < 300<<10-1 || n > 300<<10 {
		t.Fatalf("huge event is %d bytes", n)
	}
}

func pushTo(t *testing.T, url string, lines ...string) error {
	t.Helper()
	c, err := loki.NewClient(loki.Config{Addr: url, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var es []loki.PushEntry
	for i, l := range lines {
		es = append(es, loki.PushEntry{Time: int64(1_700_000_000_000_000_000 + i), Line: []byte(l),
			Metadata: data.Labels{{Name: "user_username", Value: "alice"}}})
	}
	return c.Push(context.Background(), loki.PushRequest{Streams: []loki.PushStream{
		{Labels: data.Labels{{Name: "job", Value: "audit"}}, Entries: es[:len(es)/2]},
		{Labels: data.Labels{{Name: "job", Value: "audit"}, {Name: "verb", Value: "get"}}, Entries: es[len(es)/2:]},
	}})
}

func seqsOf(rs []Received) []int {
	var out []int
	for _, r := range rs {
		out = append(out, r.Seq)
	}
	return out
}

func TestStandIn(t *testing.T) {
	tag := NewTag()
	s, err := NewStandIn(tag)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ev := func(i int) string { return `{"auditID":"` + tag.ID(i) + `"}` }

	if err := pushTo(t, s.URL(), ev(0), ev(1), ev(2), ev(3)); err != nil {
		t.Fatal(err)
	}
	if got := seqsOf(s.Received()); len(got) != 4 {
		t.Fatalf("stored %v", got)
	}

	// Every second push fails, storing nothing.
	s.FailEvery(2)
	err = pushTo(t, s.URL(), ev(4), ev(5))
	var he *loki.HTTPError
	if !errors.As(err, &he) || he.Status != 500 {
		t.Fatalf("push 2: %v, want a 500", err)
	}
	if err := pushTo(t, s.URL(), ev(4), ev(5)); err != nil {
		t.Fatal(err)
	}
	s.FailEvery(0)

	// Loki's line limit: the good entries are stored, the push gets a 400.
	s.MaxLine(100)
	err = pushTo(t, s.URL(), ev(6), `{"auditID":"`+tag.ID(7)+`","pad":"`+strings.Repeat("x", 200)+`"}`)
	if !errors.As(err, &he) || he.Status != 400 || !strings.Contains(he.Body, "Max entry size '100' bytes exceeded") {
		t.Fatalf("too-long push: %v", err)
	}
	s.MaxLine(0)
	if got := seqsOf(s.Received()); len(got) != 7 || got[6] != 6 {
		t.Fatalf("stored %v, want 0..6", got)
	}

	// Delayed acknowledgement: stored before the answer.
	s.Delay(300 * time.Millisecond)
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- pushTo(t, s.URL(), ev(8), ev(9)) }()
	for len(s.Received()) < 9 {
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case <-done:
		t.Fatal("acknowledged before the delay")
	default:
	}
	if err := <-done; err != nil || time.Since(start) < 300*time.Millisecond {
		t.Fatalf("delayed push: %v after %v", err, time.Since(start))
	}
	s.Delay(0)

	// Down: connection refused; up again on the same address.
	if err := s.Down(true); err != nil {
		t.Fatal(err)
	}
	if err := pushTo(t, s.URL(), ev(10)); err == nil {
		t.Fatal("push succeeded while down")
	}
	if err := s.Down(false); err != nil {
		t.Fatal(err)
	}
	if err := pushTo(t, s.URL(), ev(10), ev(11)); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.Failed != 1 || st.Rejected != 1 || st.Entries != 11 || st.BadPushes != 0 {
		t.Fatalf("stats %+v", st)
	}
	if n := OutOfOrder(s.Received()); n != 0 {
		t.Fatalf("out of order %d", n)
	}
}

// readAll returns every event in the live file and the backups (gunzipped).
func readAll(t *testing.T, dir string, tag Tag) (map[string][]int, int) {
	t.Helper()
	files := map[string][]int{}
	total := 0
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(e.Name(), ".gz") {
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("%s: %v", e.Name(), err)
			}
			if b, err = io.ReadAll(zr); err != nil {
				t.Fatalf("%s: %v", e.Name(), err)
			}
		}
		files[e.Name()] = tag.Seqs(b)
		total += len(files[e.Name()])
	}
	return files, total
}

func TestWriterRotations(t *testing.T) {
	cases := []struct {
		rot   Rotation
		names string // pattern every file name matches
	}{
		{RenameCreate, `^audit(\.log|-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}\.log(\.gz)?)$`},
		{CopyTruncateNumbered, `^audit\.log(\.1|\.[2-9](\.gz))?$`},
		{CopyTruncateTimed, `^audit(\.log|-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}\.log(\.gz)?)$`},
	}
	for _, c := range cases {
		t.Run(c.rot.String(), func(t *testing.T) {
			dir := t.TempDir()
			tag := NewTag()
			w := NewWriter(WriterOptions{Path: filepath.Join(dir, "audit.log"), Tag: tag, Rotation: c.rot, Compress: true,
				RotateBytes: 64 << 10, MaxBackups: 4, WindowEvery: 2, WindowEvents: 3})
			for range 40 {
				if err := w.Write(25); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			files, total := readAll(t, dir, tag)
			re := regexp.MustCompile(c.names)
			for name := range files {
				if !re.MatchString(name) {
					t.Errorf("file %q does not match %s", name, c.names)
				}
			}
			if len(files) != 5 {
				t.Errorf("%d files, want the live one and 4 backups: %v", len(files), keys(files))
			}
			// Every event kept is in exactly one file, in order, and the
			// files hold exactly the events not deleted and not written in
			// a copytruncate window.
			evs := w.Events()
			want := 0
			for _, ev := range evs {
				if !ev.Deleted && !ev.Window {
					want++
				}
				if ev.Window && c.rot == RenameCreate {
					t.Fatal("window event without copytruncate")
				}
			}
			if total != want {
				t.Fatalf("files hold %d events, want %d (of %d written, %d rotations)", total, want, len(evs), w.Rotations())
			}
			for name, seqs := range files {
				if !sort.IntsAreSorted(seqs) {
					t.Errorf("%s not in order", name)
				}
				for _, s := range seqs {
					if evs[s].Deleted || evs[s].Window {
						t.Errorf("%s holds event %d marked %+v", name, s, evs[s])
					}
				}
			}
			if c.rot != RenameCreate && countEvents(evs, func(e Event) bool { return e.Window }) == 0 {
				t.Error("no window events written")
			}
		})
	}
}

func keys(m map[string][]int) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestTallyAndOrder(t *testing.T) {
	evs := []Event{{Seq: 0}, {Seq: 1}, {Seq: 2, Window: true}, {Seq: 3}, {Seq: 4}}
	c := Tally("x", evs, []int{0, 1, 1, 4, -1, 99}, func(e Event) bool { return e.Window }, map[int]bool{3: true})
	if c.Unique != 3 || c.Duplicates != 1 || c.Missing != 0 || c.Excused != 1 || c.Rejected != 1 || c.Foreign != 2 {
		t.Fatalf("%+v", c)
	}
	c = Tally("x", evs, []int{0, 4}, nil, nil)
	if c.Missing != 3 || len(c.MissingFirst) != 3 {
		t.Fatalf("%+v", c)
	}
	// Push 2 delivers 5..9 (in any order inside), push 3 delivers 3..4
	// (late: 2 out of order), push 4 re-delivers 0 (a duplicate, not late).
	recv := []Received{{Seq: 0, Push: 1}, {Seq: 2, Push: 1}, {Seq: 1, Push: 1},
		{Seq: 9, Push: 2}, {Seq: 5, Push: 2}, {Seq: 3, Push: 3}, {Seq: 4, Push: 3}, {Seq: 0, Push: 4}}
	if n := OutOfOrder(recv); n != 2 {
		t.Fatalf("out of order %d, want 2", n)
	}
}

func TestParseMetrics(t *testing.T) {
	m, err := ParseMetrics(strings.NewReader(`# HELP x y
# TYPE audittui_ship_sink_sent_lines_total counter
audittui_ship_sink_sent_lines_total{sink="loki"} 12
audittui_ship_sink_sent_lines_total{sink="s3"} 1.5e+06
audittui_ship_backpressure 0
`))
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := m.Get("audittui_ship_sink_sent_lines_total", "sink", "s3"); !ok || v != 1.5e6 {
		t.Fatalf("s3 = %v %v", v, ok)
	}
	if _, ok := m.Get("audittui_ship_sink_sent_lines_total", "sink", "kafka"); ok {
		t.Fatal("kafka found")
	}
	if v, ok := m.Get("audittui_ship_backpressure"); !ok || v != 0 {
		t.Fatalf("backpressure = %v %v", v, ok)
	}
}

func TestConfigYAML(t *testing.T) {
	c := Config{Path: "/var/log/audit.log", MetricsAddr: "127.0.0.1:2021", LokiURL: "http://127.0.0.1:3100", S3Bucket: "b",
		S3Prefix: "faults/x", S3Endpoint: "http://127.0.0.1:9000", Extra: map[string]string{"Ready_ack_timeout": "3s"}}
	y := c.YAML()
	for _, want := range []string{`Metrics_addr: "127.0.0.1:2021"`, `URL: "http://127.0.0.1:3100"`,
		`S3_key_format: "/faults/x/%Y/%m/%d/%H/%M/%S-$UUID.json"`, "Ready_ack_timeout: 3s", "Label_keys: $verb,$objectRef['resource']"} {
		if !strings.Contains(y, want) {
			t.Errorf("config lacks %q:\n%s", want, y)
		}
	}
}

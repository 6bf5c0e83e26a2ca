package file

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/testutil"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

func mkEvent(id string, t time.Time) string {
	return fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":%q,"stage":"ResponseComplete","requestURI":"/api/v1/pods","verb":"list","user":{"username":"u"},"objectRef":{"resource":"pods"},"responseStatus":{"code":200},"requestReceivedTimestamp":%q,"stageTimestamp":%q}`,
		id, t.UTC().Format(time.RFC3339Nano), t.UTC().Format(time.RFC3339Nano))
}

func readAllStream(t *testing.T, s data.Stream) ([]data.Event, []data.Reject) {
	t.Helper()
	var evs []data.Event
	var rejs []data.Reject
	ctx := context.Background()
	for {
		b, err := s.Next(ctx)
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
	s.Close()
	return evs, rejs
}

func readSource(t *testing.T, arg string, opts data.ReadOptions) ([]data.Event, []data.Reject) {
	t.Helper()
	src, err := New(arg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := src.Open(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return readAllStream(t, st)
}

func ids(evs []data.Event) string {
	var s []string
	for _, e := range evs {
		s = append(s, e.AuditID)
	}
	return strings.Join(s, ",")
}

var t0 = time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)

func writeLines(t *testing.T, path string, lines []string, compress string) {
	t.Helper()
	var buf bytes.Buffer
	var w io.WriteCloser = nopCloser{&buf}
	switch compress {
	case "gzip":
		w = gzip.NewWriter(&buf)
	case "zstd":
		w, _ = zstd.NewWriter(&buf)
	}
	for _, l := range lines {
		io.WriteString(w, l+"\n")
	}
	w.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

func TestFileFormats(t *testing.T) {
	dir := t.TempDir()
	lines := []string{mkEvent("a", t0), mkEvent("b", t0.Add(time.Second)), mkEvent("c", t0.Add(2*time.Second))}
	for _, c := range []string{"", "gzip", "zstd"} {
		p := filepath.Join(dir, "f"+c+".log")
		writeLines(t, p, lines, c)
		evs, rejs := readSource(t, p, data.ReadOptions{})
		if ids(evs) != "a,b,c" || len(rejs) != 0 {
			t.Errorf("%s: got %s rejects %v", c, ids(evs), rejs)
		}
		if c == "" && !evs[0].Origin.Source.Seekable {
			t.Errorf("plain file should be seekable")
		}
		// Raw can be read back by offset from a plain file.
		if c == "" {
			raw, _ := os.ReadFile(p)
			e := evs[1]
			if got := raw[e.Origin.Offset : e.Origin.Offset+int64(len(e.Raw))]; !bytes.Equal(got, e.Raw) {
				t.Errorf("offset read-back mismatch")
			}
		}
	}
}

func TestBadInputKeepsReading(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "bad.log")
	long := `{"kind":"Event","auditID":"long","requestObject":"` + strings.Repeat("x", 20<<20) + `"}`
	lines := []string{mkEvent("a", t0), `{"kind":"Event",`, "\xff\xfe", long, `[1]`, "", mkEvent("b", t0.Add(time.Second))}
	writeLines(t, p, lines, "")
	evs, rejs := readSource(t, p, data.ReadOptions{})
	if ids(evs) != "a,b" {
		t.Fatalf("events %s", ids(evs))
	}
	want := []string{"bad.log:2: malformed JSON", "bad.log:3: invalid UTF-8", "bad.log:4: line of", "bad.log:5: JSON value is not an object"}
	if len(rejs) != len(want) {
		t.Fatalf("rejects %v", rejs)
	}
	for i, w := range want {
		if got := filepath.Base(rejs[i].Error()); !strings.HasPrefix(got, w) {
			t.Errorf("reject %d = %q, want prefix %q", i, got, w)
		}
	}
}

func TestTruncatedGzip(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "t.log.gz")
	var lines []string
	for i := 0; i < 2000; i++ {
		lines = append(lines, mkEvent(fmt.Sprint(i), t0.Add(time.Duration(i)*time.Second)))
	}
	writeLines(t, p, lines, "gzip")
	raw, _ := os.ReadFile(p)
	os.WriteFile(p, raw[:len(raw)*2/3], 0o644)
	evs, rejs := readSource(t, p, data.ReadOptions{})
	if len(evs) == 0 || len(evs) >= 2000 {
		t.Fatalf("read %d events from a truncated gzip", len(evs))
	}
	var found bool
	for _, r := range rejs {
		if strings.Contains(r.Reason, "compressed stream is truncated") {
			found = true
		}
	}
	if !found {
		t.Fatalf("no truncation reject: %v", rejs)
	}
}

// TestGzipCutInItsHeader: a .gz cut short inside its header (a copy
// interrupted in its first bytes) is one reject at line 1 that says the
// file ends there and nothing was read, naming the file once; the other
// files of the set are read (evidence-review: "t.log.gz:0: t.log.gz:
// gzip header: unexpected EOF").
func TestGzipCutInItsHeader(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "audit-2026-11-20T08-00-00.000.log.gz")
	writeLines(t, p, []string{mkEvent("a1", t0)}, "gzip")
	raw, _ := os.ReadFile(p)
	os.WriteFile(p, raw[:5], 0o644)
	writeLines(t, filepath.Join(dir, "audit.log"), []string{mkEvent("a2", t0.Add(time.Hour))}, "")
	evs, rejs := readSource(t, dir, data.ReadOptions{})
	if len(evs) != 1 || len(rejs) != 1 {
		t.Fatalf("%d events, rejects %v", len(evs), rejs)
	}
	if got := rejs[0].Error(); got != p+":1: gzip header: unexpected EOF (the file ends inside its gzip header: cut short; nothing of it could be read)" {
		t.Errorf("reject %q", got)
	}
}

func TestRotatedSetAndMerge(t *testing.T) {
	dir := t.TempDir()
	// node A: rotated set (backup gz, backup plain, live); node B: one file.
	writeLines(t, filepath.Join(dir, "audit-2026-11-20T08-00-00.000.log.gz"), []string{mkEvent("a1", t0), mkEvent("a2", t0.Add(2*time.Second))}, "gzip")
	writeLines(t, filepath.Join(dir, "audit-2026-11-20T09-00-00.000.log"), []string{mkEvent("a3", t0.Add(4*time.Second))}, "")
	writeLines(t, filepath.Join(dir, "audit.log"), []string{mkEvent("a4", t0.Add(6*time.Second))}, "")
	writeLines(t, filepath.Join(dir, "node-b.log"), []string{mkEvent("b1", t0.Add(time.Second)), mkEvent("b2", t0.Add(5*time.Second))}, "")
	src, err := New(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	groups := src.Files()
	if len(groups) != 2 || len(groups[0]) != 3 || filepath.Base(groups[0][2]) != "audit.log" {
		t.Fatalf("groups %v", groups)
	}
	evs, _ := readSource(t, dir, data.ReadOptions{})
	if got := ids(evs); got != "a1,b1,a2,a3,b2,a4" {
		t.Fatalf("merge order %s", got)
	}
	// Window: from inclusive, to exclusive.
	evs, _ = readSource(t, dir, data.ReadOptions{From: t0.Add(time.Second).UnixNano(), To: t0.Add(5 * time.Second).UnixNano()})
	if got := ids(evs); got != "b1,a2,a3" {
		t.Fatalf("window %s", got)
	}
	// Glob.
	evs, _ = readSource(t, filepath.Join(dir, "node-*.log"), data.ReadOptions{})
	if ids(evs) != "b1,b2" {
		t.Fatalf("glob %s", ids(evs))
	}
	if _, err := New(filepath.Join(dir, "nope-*.log"), Options{}); err == nil {
		t.Fatal("empty glob accepted")
	}
}

func TestPrefilter(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.log")
	writeLines(t, p, []string{mkEvent("a", t0), strings.Replace(mkEvent("b", t0), `"pods"`, `"secrets"`, 1), "not json"}, "")
	evs, rejs := readSource(t, p, data.ReadOptions{Prefilter: &data.Prefilter{All: [][]byte{[]byte(`"secrets"`)}}})
	// The line that is not JSON is rejected although it lacks the literal:
	// rejects do not depend on the query.
	if ids(evs) != "b" || len(rejs) != 1 || !strings.HasSuffix(rejs[0].Origin.Where(), "f.log:3") {
		t.Fatalf("got %s %v", ids(evs), rejs)
	}
}

func TestStdin(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	io.WriteString(zw, mkEvent("s1", t0)+"\n"+mkEvent("s2", t0)) // no final newline
	zw.Close()
	src, _ := New("-", Options{Stdin: &buf})
	st, _ := src.Open(context.Background(), data.ReadOptions{})
	evs, _ := readAllStream(t, st)
	if ids(evs) != "s1,s2" {
		t.Fatalf("stdin %s", ids(evs))
	}
}

func appendLines(t *testing.T, p string, lines ...string) {
	t.Helper()
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		f.WriteString(l + "\n")
	}
	f.Close()
}

func TestFollowRotationAndTruncation(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "audit.log")
	appendLines(t, p, mkEvent("e1", t0), mkEvent("e2", t0))
	src, _ := New(p, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := src.Open(ctx, data.ReadOptions{Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got := []string{}
	want := func(n int) {
		t.Helper()
		for len(got) < n {
			b, err := st.Next(ctx)
			if err != nil {
				t.Fatalf("after %v: %v", got, err)
			}
			for _, e := range b.Events {
				got = append(got, e.AuditID)
			}
			if len(b.Rejects) > 0 {
				t.Fatalf("rejects %v", b.Rejects)
			}
		}
	}
	want(2)
	// A partial line waits for its newline.
	f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	ev3 := mkEvent("e3", t0)
	f.WriteString(ev3[:20])
	f.Close()
	time.Sleep(50 * time.Millisecond)
	f, _ = os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(ev3[20:] + "\n")
	f.Close()
	want(3)
	// Rename rotation: the old file gets one more line after the rename.
	os.Rename(p, filepath.Join(dir, "audit-2026-11-20T08-00-00.000.log"))
	appendLines(t, filepath.Join(dir, "audit-2026-11-20T08-00-00.000.log"), mkEvent("e4", t0))
	appendLines(t, p, mkEvent("e5", t0))
	want(5)
	// copytruncate.
	os.Truncate(p, 0)
	time.Sleep(2 * PollInterval)
	appendLines(t, p, mkEvent("e6", t0))
	want(6)
	if strings.Join(got, ",") != "e1,e2,e3,e4,e5,e6" {
		t.Fatalf("follow got %v", got)
	}
}

// nextBatch returns the next batch with events or rejects.
func nextBatch(t *testing.T, ctx context.Context, st data.Stream) *data.Batch {
	t.Helper()
	for {
		b, err := st.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(b.Events) > 0 || len(b.Rejects) > 0 {
			return b
		}
	}
}

func TestFollowLinesOffsetsAndLongLines(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "audit.log")
	appendLines(t, p, mkEvent("e1", t0), mkEvent("e2", t0))
	src, _ := New(p, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := src.Open(ctx, data.ReadOptions{Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	type seen struct {
		id, name string
		line     int64
		raw      []byte
		off      int64
		reason   string
		src      *data.SourceInfo
	}
	var got []seen
	collect := func(n int) {
		t.Helper()
		for len(got) < n {
			b := nextBatch(t, ctx, st)
			for _, r := range b.Rejects {
				got = append(got, seen{name: r.Origin.Source.Name, line: r.Origin.Line, off: r.Origin.Offset, reason: r.Reason})
			}
			for _, e := range b.Events {
				got = append(got, seen{id: e.AuditID, name: e.Origin.Source.Name, line: e.Origin.Line, raw: append([]byte(nil), e.Raw...),
					off: e.Origin.Offset, src: e.Origin.Source})
			}
		}
	}
	collect(2)
	// A line over the limit is rejected with its number, and the lines
	// after it keep theirs.
	long := `{"kind":"Event","auditID":"long","requestObject":"` + strings.Repeat("x", data.DefaultMaxLineBytes) + `"}`
	appendLines(t, p, long, mkEvent("e3", t0))
	collect(4)
	if got[2].reason == "" || got[2].line != 3 || !strings.Contains(got[2].reason, "exceeds the 16 MiB limit") || got[3].id != "e3" || got[3].line != 4 {
		t.Fatalf("after the long line: %+v %+v", got[2], got[3])
	}
	// After a rename rotation the new file's events name it, count from
	// line 1, and read back by offset from the file their source names.
	backup := filepath.Join(dir, "audit-2026-11-20T08-00-00.000.log")
	os.Rename(p, backup)
	appendLines(t, p, mkEvent("n1", t0), mkEvent("n2", t0))
	collect(6)
	for _, s := range got[4:] {
		// A data.SourceInfo of its own: the TUI keeps one open file per
		// data.SourceInfo to read events back, and the first one is the
		// renamed file.
		if s.line != map[string]int64{"n1": 1, "n2": 2}[s.id] || s.name != p || s.src == got[0].src || s.src != got[4].src {
			t.Fatalf("new file event %+v", s)
		}
	}
	for _, s := range got {
		if s.raw == nil {
			continue
		}
		path := s.name
		if s.line <= 4 && s.id[0] == 'e' {
			path = backup // the first file, renamed since
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		b := make([]byte, len(s.raw))
		f.ReadAt(b, s.off)
		f.Close()
		if !bytes.Equal(b, s.raw) {
			t.Fatalf("%s line %d: %s at offset %d holds %.40q", s.id, s.line, path, s.off, b)
		}
	}
}

// When the tailer stops (here: the context the file was opened with ends;
// a rotated set opens its live file in the Next call that reaches it),
// Next says why, every time, and Close returns.
func TestFollowStopsWithItsContext(t *testing.T) {
	p := filepath.Join(t.TempDir(), "audit.log")
	appendLines(t, p, mkEvent("e1", t0))
	src, _ := New(p, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	st, err := src.Open(ctx, data.ReadOptions{Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	nextBatch(t, ctx, st)
	cancel()
	wait, stop := context.WithTimeout(context.Background(), 10*time.Second)
	defer stop()
	for i := 0; i < 2; i++ {
		if _, err := st.Next(wait); !errors.Is(err, context.Canceled) {
			t.Fatalf("Next %d after the context ended: %v", i, err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestFollowReportsCaughtUpAndPartial: a followed file says when it has
// read everything (CaughtUp) and how much of a last line waits for its
// newline, once per change, so a reader can show "live" and "1 partial
// line pending" instead of "loading" forever.
func TestFollowReportsCaughtUpAndPartial(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "audit.log")
	// Only a line that is not an audit event, then half an event.
	ev := mkEvent("e1", t0)
	if err := os.WriteFile(p, []byte(`{"kind": 0}`+"\n"+ev[:30]), 0o644); err != nil {
		t.Fatal(err)
	}
	src, _ := New(p, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := src.Open(ctx, data.ReadOptions{Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var rejects, events int
	next := func() *data.Batch {
		t.Helper()
		b, err := st.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rejects += len(b.Rejects)
		events += len(b.Events)
		return b
	}
	b := next()
	for !b.CaughtUp {
		b = next()
	}
	if rejects != 1 || events != 0 || b.Partial != 30 {
		t.Fatalf("caught up with %d rejects, %d events, partial %d (want 1, 0, 30)", rejects, events, b.Partial)
	}
	// The rest of the line: the event, then caught up with nothing held.
	f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(ev[30:] + "\n")
	f.Close()
	b = next()
	for !b.CaughtUp {
		b = next()
	}
	if events != 1 || b.Partial != 0 {
		t.Fatalf("after the newline: %d events, partial %d", events, b.Partial)
	}
}

// TestPathsWithGlobCharacters: a file whose name holds glob characters
// ("audit[1].log") is read as named; a pattern still expands, and a bad
// pattern that names no file is an error naming it.
func TestPathsWithGlobCharacters(t *testing.T) {
	dir := t.TempDir()
	odd := filepath.Join(dir, "audit[1].log")
	plain := filepath.Join(dir, "audit1.log")
	for _, p := range []string{odd, plain} {
		if err := os.WriteFile(p, []byte("{}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := ExpandPath(odd); err != nil || len(got) != 1 || got[0] != odd {
		t.Fatalf("%s: %v, %v", odd, got, err)
	}
	// As a pattern, [1] matches audit1.log only.
	if got, err := ExpandPath(filepath.Join(dir, "audit[0-9].log")); err != nil || len(got) != 1 || got[0] != plain {
		t.Fatalf("pattern: %v, %v", got, err)
	}
	if _, err := ExpandPath(filepath.Join(dir, "audit[.log")); err == nil || !strings.Contains(err.Error(), "audit[.log") {
		t.Fatalf("bad pattern: %v", err)
	}
}

// TestDirectoryFilesByContent: a directory's files are read when their
// name says they are logs or their content does (node3.txt holding JSON
// lines, a Firehose object copied without its extension, a UTF-16 file);
// a README or a policy is not. A file named otherwise was skipped without
// a word, and `report` then called its events NOT FOUND.
func TestDirectoryFilesByContent(t *testing.T) {
	dir := t.TempDir()
	line := []byte(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a","verb":"get","stageTimestamp":"2026-11-20T02:00:00Z"}` + "\n")
	firehose, err := os.ReadFile(filepath.Join(testutil.RepoRoot(), "testdata", "shapes", "eks-firehose.gz"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"audit.log":       line,
		"node3.txt":       line,
		"firehose-object": firehose,
		"bom.txt":         append([]byte("\xef\xbb\xbf  "), line...),
		"utf16.out":       {0xff, 0xfe, '{', 0},
		"insights.export": []byte("@timestamp,@message\n"),
		"README.md":       []byte("# evidence\n"),
		"policy.yaml":     []byte("apiVersion: audit.k8s.io/v1\n"),
		"empty":           nil,
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ExpandPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range got {
		names = append(names, filepath.Base(p))
	}
	sort.Strings(names)
	if want := "audit.log bom.txt firehose-object insights.export node3.txt utf16.out"; strings.Join(names, " ") != want {
		t.Errorf("read %q, want %q", strings.Join(names, " "), want)
	}
}

// A binary file (random bytes, a Parquet file, a gzip of one) is rejected
// once, saying what it is, not line by line; a log whose first lines are
// followed by zero bytes (what a crash leaves) is still read line by line
// (review G finding 7).
func TestBinaryFileRejectedOnce(t *testing.T) {
	dir := t.TempDir()
	rnd := make([]byte, 1<<20)
	for i := range rnd {
		rnd[i] = byte(i*7919 + i/13)
	}
	os.WriteFile(filepath.Join(dir, "random.bin"), rnd, 0o644)
	os.WriteFile(filepath.Join(dir, "part-0000.parquet"), append([]byte("PAR1\x15\x04\x15\x00"), rnd[:50000]...), 0o644)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(rnd)
	zw.Close()
	os.WriteFile(filepath.Join(dir, "random.bin.gz"), gz.Bytes(), 0o644)
	for name, want := range map[string]string{
		"random.bin":        "random.bin:1: binary content (a NUL byte at offset 0), not JSON text: not read",
		"part-0000.parquet": "part-0000.parquet:1: binary content (a Parquet file), not JSON text: not read",
		"random.bin.gz":     "random.bin.gz:1: binary content (a NUL byte at offset 0), not JSON text: not read",
	} {
		evs, rejs := readSource(t, filepath.Join(dir, name), data.ReadOptions{})
		if len(evs) != 0 || len(rejs) != 1 || !strings.HasSuffix(rejs[0].Error(), want) {
			t.Fatalf("%s: %d events, %d rejects, want one: %q; got %v", name, len(evs), len(rejs), want, rejs[:min(3, len(rejs))])
		}
	}
	crashed := filepath.Join(dir, "audit.log")
	writeLines(t, crashed, []string{mkEvent("a", t0), mkEvent("b", t0.Add(time.Second))}, "")
	f, _ := os.OpenFile(crashed, os.O_APPEND|os.O_WRONLY, 0)
	f.Write(make([]byte, 100))
	f.Write([]byte("\n" + mkEvent("c", t0.Add(2*time.Second)) + "\n"))
	f.Close()
	evs, rejs := readSource(t, crashed, data.ReadOptions{})
	if ids(evs) != "a,b,c" || len(rejs) != 1 {
		t.Fatalf("a log with a stretch of zero bytes: events %q, rejects %v", ids(evs), rejs)
	}
}

// TestExpandExportAndNestedDirs (review K 12): an export directory (with
// MANIFEST.sha256 and MANIFEST.json) is read as its copies under files/
// and objects/, not as events.jsonl and the manifests; a directory holding
// only subdirectories says so, naming them and a glob.
func TestExpandExportAndNestedDirs(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"MANIFEST.sha256", "MANIFEST.json", "events.jsonl", "events.index.jsonl", "files/var/log/audit.log", "objects/b/k/2026/x.json.gz"} {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755)
		os.WriteFile(filepath.Join(dir, p), []byte("{}\n"), 0o644)
	}
	got, err := ExpandPath(dir)
	want := []string{filepath.Join(dir, "files/var/log/audit.log"), filepath.Join(dir, "objects/b/k/2026/x.json.gz")}
	if err != nil || strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("export dir expands to %q (%v), want the copies %q", got, err, want)
	}
	nested := t.TempDir()
	for _, d := range []string{"node1", "node2"} {
		os.MkdirAll(filepath.Join(nested, d), 0o755)
		os.WriteFile(filepath.Join(nested, d, "audit.log"), []byte("{}\n"), 0o644)
	}
	_, err = ExpandPath(nested)
	if err == nil || !strings.Contains(err.Error(), "2 subdirectories (node1, node2), which are not descended") || !strings.Contains(err.Error(), "glob") {
		t.Fatalf("a folder of folders: %v", err)
	}
}

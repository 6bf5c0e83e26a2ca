package file

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/testutil"
	"github.com/klauspost/compress/gzip"
)

// decompressed returns a file's bytes as the reader sees them.
func decompressed(t *testing.T, path string) []byte {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	r, _, done, err := data.Decompress(fh)
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// lineOf returns the 1-based line n of b without its line ending.
func lineOf(b []byte, n int64) []byte {
	for i := int64(1); i < n; i++ {
		k := bytes.IndexByte(b, '\n')
		if k < 0 {
			return nil
		}
		b = b[k+1:]
	}
	if k := bytes.IndexByte(b, '\n'); k >= 0 {
		b = b[:k]
	}
	return bytes.TrimSuffix(b, []byte("\r"))
}

// checkCitations checks that every event cites the file it came from and
// its true 1-based line there (in the decompressed stream), and that the
// sha256 of its Raw is the sha256 of that line (without the newline).
func checkCitations(t *testing.T, evs []data.Event) map[string]int {
	t.Helper()
	contents := map[string][]byte{}
	per := map[string]int{}
	for _, e := range evs {
		name := e.Origin.Source.Name
		if contents[name] == nil {
			contents[name] = decompressed(t, name)
		}
		line := lineOf(contents[name], e.Origin.Line)
		if want := name + ":" + strconv.FormatInt(e.Origin.Line, 10); e.Origin.Cite() != want {
			t.Errorf("cite %q, want %q", e.Origin.Cite(), want)
		}
		if sha256.Sum256(line) != sha256.Sum256(e.Raw) {
			t.Errorf("%s: the sha256 of the event's raw bytes is not that of the line cited:\nline %q\nraw  %q", e.Origin.Cite(), line, e.Raw)
		}
		if !bytes.Equal(contents[name][e.Origin.Offset:e.Origin.Offset+int64(len(e.Raw))], e.Raw) {
			t.Errorf("%s: offset %d does not hold the event's bytes", e.Origin.Cite(), e.Origin.Offset)
		}
		per[name]++
	}
	return per
}

func gzipBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestCitationsPlainRotatedGzipMerged reads three nodes at once: a plain
// file, a rotated set (a gzip backup then the live file) and a gzip file,
// with blank lines, a CRLF line and a malformed line between events, and
// checks every event's FILE:LINE against the files themselves.
func TestCitationsPlainRotatedGzipMerged(t *testing.T) {
	dir := t.TempDir()
	base := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	n := 0
	ev := func() string {
		n++
		return mkEvent("id-"+strconv.Itoa(n), base.Add(time.Duration(n)*time.Second))
	}
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// cp1: plain, with a blank line, a malformed line and a CRLF line.
	write("cp1.log", []byte(ev()+"\n\n"+"{not json\n"+ev()+"\r\n"+ev()+"\n"))
	// cp2: a rotated set, the gzip backup read before the live file; each
	// file's lines count from 1.
	write("cp2-2026-11-20T07-00-00.000.log.gz", gzipBytes(t, []byte(ev()+"\n"+"\n"+ev()+"\n")))
	write("cp2.log", []byte("\n"+ev()+"\n"+ev()))
	// cp3: gzip only: lines of the decompressed stream.
	write("cp3.log.gz", gzipBytes(t, []byte(strings.Repeat("\n", 3)+ev()+"\n"+ev()+"\n")))

	evs, rejs := readSource(t, dir, data.ReadOptions{})
	if len(evs) != n || len(rejs) != 1 {
		t.Fatalf("%d events (want %d), rejects %v", len(evs), n, rejs)
	}
	if rejs[0].Origin.Where() != filepath.Join(dir, "cp1.log")+":3" {
		t.Errorf("reject at %s, want cp1.log:3", rejs[0].Origin.Where())
	}
	per := checkCitations(t, evs)
	if len(per) != 4 {
		t.Errorf("events came from %d files, want 4: %v", len(per), per)
	}
	// The lines, spelled out for one file of each kind.
	want := map[string]bool{
		filepath.Join(dir, "cp1.log") + ":1":                            true,
		filepath.Join(dir, "cp1.log") + ":4":                            true,
		filepath.Join(dir, "cp1.log") + ":5":                            true,
		filepath.Join(dir, "cp2-2026-11-20T07-00-00.000.log.gz") + ":3": true,
		filepath.Join(dir, "cp2.log") + ":2":                            true,
		filepath.Join(dir, "cp2.log") + ":3":                            true,
		filepath.Join(dir, "cp3.log.gz") + ":4":                         true,
		filepath.Join(dir, "cp3.log.gz") + ":5":                         true,
	}
	for _, e := range evs {
		delete(want, e.Origin.Cite())
	}
	if len(want) > 0 {
		t.Errorf("citations not seen: %v", want)
	}
}

// TestCitationsSampleNodes checks the bundled three-node sample merged in
// time order: each event cites its own node file and line.
func TestCitationsSampleNodes(t *testing.T) {
	dir := filepath.Join(testutil.RepoRoot(), "testdata", "sample", "nodes")
	evs, rejs := readSource(t, dir, data.ReadOptions{})
	if len(rejs) != 0 {
		t.Fatalf("rejects %v", rejs)
	}
	per := checkCitations(t, evs)
	for name, k := range per {
		lines := bytes.Count(decompressed(t, name), []byte{'\n'})
		if k != lines {
			t.Errorf("%s: %d events cited, the file has %d lines", name, k, lines)
		}
	}
	if len(per) != 3 {
		t.Errorf("%d files, want 3", len(per))
	}
}

// TestCitationsRotatedSample checks the bundled rotated set (gzip backups,
// a plain backup, the live file).
func TestCitationsRotatedSample(t *testing.T) {
	evs, rejs := readSource(t, filepath.Join(testutil.RepoRoot(), "testdata", "sample", "rotated"), data.ReadOptions{})
	if len(rejs) != 0 || len(evs) == 0 {
		t.Fatalf("%d events, rejects %v", len(evs), rejs)
	}
	if per := checkCitations(t, evs); len(per) != 5 {
		t.Errorf("%d files cited, want 5: %v", len(per), per)
	}
}

// followAppend writes initial to a new file, follows it, appends more once
// the two events of initial are read, and returns the four events read.
func followAppend(t *testing.T, initial, more string) ([]data.Event, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(path, []byte(initial), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := New(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := src.Open(ctx, data.ReadOptions{Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var evs []data.Event
	appended := false
	for len(evs) < 4 {
		if len(evs) == 2 && !appended {
			f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString(more)
			f.Close()
			appended = true
		}
		b, err := st.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for i := range b.Events {
			evs = append(evs, b.Events[i].Clone())
		}
	}
	return evs, path
}

// TestCitationsFollowed checks lines of a followed file: the initial
// content read in parallel, then lines appended while tailing.
func TestCitationsFollowed(t *testing.T) {
	base := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	evs, _ := followAppend(t, mkEvent("a", base)+"\n\n"+mkEvent("b", base.Add(time.Second))+"\n",
		"\n"+mkEvent("c", base.Add(2*time.Second))+"\n"+mkEvent("d", base.Add(3*time.Second))+"\n")
	checkCitations(t, evs)
	var got []string
	for _, e := range evs {
		got = append(got, e.AuditID+"@"+strconv.FormatInt(e.Origin.Line, 10))
	}
	if strings.Join(got, " ") != "a@1 b@3 c@5 d@6" {
		t.Errorf("lines %v, want a@1 b@3 c@5 d@6", got)
	}
}

// TestCitationsRealData: on the real audit logs, every event's line is the
// line its bytes start on, and its offset holds them (records of several
// events cite the line of the record).
func TestCitationsRealData(t *testing.T) {
	for _, f := range testutil.RealAuditFiles(t) {
		content := decompressed(t, f)
		evs, _ := readSource(t, f, data.ReadOptions{})
		if len(evs) == 0 {
			t.Errorf("%s: no events", f)
		}
		for _, e := range evs {
			if e.Origin.Cite() != f+":"+strconv.FormatInt(e.Origin.Line, 10) {
				t.Errorf("%s: cite %s", f, e.Origin.Cite())
			}
			if l := int64(bytes.Count(content[:e.Origin.Offset], []byte{'\n'})) + 1; l != e.Origin.Line {
				t.Errorf("%s: the event at offset %d cites line %d, starts on line %d", f, e.Origin.Offset, e.Origin.Line, l)
			}
			if !bytes.Equal(content[e.Origin.Offset:e.Origin.Offset+int64(len(e.Raw))], e.Raw) {
				t.Errorf("%s:%d: the offset does not hold the event's bytes", f, e.Origin.Line)
			}
		}
	}
}

// TestCitationsFollowedAfterOddLines: the lines appended to a followed
// file are numbered after every line of the initial content, blank,
// malformed, CRLF-ended or not JSON lines at all (the reader counts them:
// the file is not read a second time), and after a pretty-printed initial
// content (counted again).
func TestCitationsFollowedAfterOddLines(t *testing.T) {
	base := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	for name, initial := range map[string]string{
		"lines":  mkEvent("a", base) + "\r\n\r\n{\"bad\n   \nnot json\n" + mkEvent("b", base.Add(time.Second)) + "\n\n\n",
		"pretty": "{\n  \"kind\": \"Event\",\n  \"apiVersion\": \"audit.k8s.io/v1\",\n  \"auditID\": \"a\",\n  \"verb\": \"get\",\n  \"stageTimestamp\": \"2026-11-20T08:00:00Z\"\n}\n" + mkEvent("b", base.Add(time.Second)) + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			evs, path := followAppend(t, initial, mkEvent("c", base.Add(2*time.Second))+"\n\n"+mkEvent("d", base.Add(3*time.Second))+"\n")
			content, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range evs {
				if l := int64(bytes.Count(content[:e.Origin.Offset], []byte{'\n'})) + 1; l != e.Origin.Line {
					t.Errorf("%s at offset %d cites line %d, starts on line %d", e.AuditID, e.Origin.Offset, e.Origin.Line, l)
				}
			}
		})
	}
}

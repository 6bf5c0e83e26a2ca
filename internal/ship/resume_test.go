package ship

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/ship/checkpoint"
	"github.com/audittui/audittui/internal/ship/metrics"
	"github.com/audittui/audittui/internal/ship/pipe"
	"github.com/audittui/audittui/internal/ship/process"
	"github.com/audittui/audittui/internal/tail"
)

// Tests of where a sink that was ahead of the checkpoint resumes, on real
// files (the sink's file is recognised by its content on disk).

// tagLines returns n lines "<tag>-<i>" padded to 50 bytes with newlines.
func tagLines(tag string, from, n int) []byte {
	var b bytes.Buffer
	for i := from; i < from+n; i++ {
		fmt.Fprintf(&b, "%-49s\n", fmt.Sprintf("%s-%04d", tag, i))
	}
	return b.Bytes()
}

// idOf returns the id the tailer gives path's content (its first bytes,
// decompressed for .gz, with the file's device and inode).
func idOf(t *testing.T, path string) tail.ID {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	h, _, _, ok := read(tail.Backup{Path: path, Gzip: isGzip(path)})
	if !ok {
		t.Fatalf("cannot read %s", path)
	}
	dev, ino := tail.DevIno(fi)
	return tail.ID{Dev: dev, Ino: ino, FPLen: len(h.head), FP: tail.Fingerprint(h.head)}
}

func mtimeOf(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.ModTime().UnixNano()
}

// fileBatch is the batch of content's lines from offset start to end, read
// from path (as the tailer would hand them out).
func fileBatch(t *testing.T, seq uint64, path string, content []byte, start, end int64) *pipe.Batch {
	t.Helper()
	b := &pipe.Batch{Seq: seq}
	off := start
	for _, l := range bytes.SplitAfter(content[start:end], []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		off += int64(len(l))
		b.Records = append(b.Records, process.Record{Line: bytes.TrimSpace(l)})
		b.Ends = append(b.Ends, off)
	}
	b.End = tail.Position{Path: path, ID: idOf(t, path), Offset: end, ModTime: mtimeOf(t, path)}
	b.Raw = end - start
	return b
}

// resumeTracker starts a tracker for live from a state where Loki had
// delivered up to loki and S3 up to s3.
func resumeTracker(t *testing.T, live string, loki, s3 tail.Position) *tracker {
	t.Helper()
	store, err := checkpoint.New(filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}
	st := checkpoint.State{
		Checkpoints: map[string]checkpoint.Position{live: {Position: loki}},
		Sinks:       map[string]map[string]tail.Position{live: {"loki": loki, "s3": s3}},
	}
	return newTracker([]string{"loki", "s3"}, pipe.NewBudget(1<<20), metrics.New(), store, live, st,
		&files{path: live, finder: tail.Standard}, slog.New(slog.DiscardHandler))
}

func firstLast(b *pipe.Batch) string {
	if b == nil {
		return "-"
	}
	return fmt.Sprintf("%s..%s", b.Records[0].Line, b.Records[len(b.Records)-1].Line)
}

// Copytruncate while ship was stopped, S3 ahead of Loki: the truncated
// file keeps the inode, and what is written to it before ship reads it is
// shorter than a fingerprint. It is not the file S3 had reached (its start
// differs, and it is shorter than S3's offset): S3 gets its lines.
func TestAheadSinkGetsAFileTruncatedByCopytruncate(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "audit.log")
	old := tagLines("ev", 0, 60) // 3000 bytes
	if err := os.WriteFile(live, old, 0o600); err != nil {
		t.Fatal(err)
	}
	id := idOf(t, live)
	mt := mtimeOf(t, live)
	loki := tail.Position{Path: live, ID: id, Offset: 1000, ModTime: mt}
	s3 := tail.Position{Path: live, ID: id, Offset: 3000, ModTime: mt}
	// copytruncate, then two short events in the truncated file.
	if err := os.WriteFile(live+".1", old, 0o600); err != nil {
		t.Fatal(err)
	}
	fresh := tagLines("new", 0, 2)
	if err := os.WriteFile(live, fresh, 0o600); err != nil { // truncates: same inode
		t.Fatal(err)
	}
	if idOf(t, live).Ino != id.Ino {
		t.Fatal("the truncated file has another inode")
	}

	tr := resumeTracker(t, live, loki, s3)
	var got []string
	for _, b := range []*pipe.Batch{
		fileBatch(t, 1, live+".1", old, 1000, 3000),
		fileBatch(t, 2, live, fresh, 0, int64(len(fresh))),
	} {
		r := tr.route(b)
		got = append(got, firstLast(r[0])+" | "+firstLast(r[1]))
	}
	want := []string{"ev-0020..ev-0059 | -", "new-0000..new-0001 | new-0000..new-0001"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("routed (loki | s3)\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// The same file with a longer fingerprint than when S3's position was
// taken (it was shorter than a fingerprint then) is still S3's file: S3
// skips what it had.
func TestAheadSinkRecognisesItsFileGrown(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "audit.log")
	first := tagLines("ev", 0, 12) // 600 bytes
	if err := os.WriteFile(live, first, 0o600); err != nil {
		t.Fatal(err)
	}
	id, mt := idOf(t, live), mtimeOf(t, live)
	loki := tail.Position{Path: live, ID: id, Offset: 200, ModTime: mt}
	s3 := tail.Position{Path: live, ID: id, Offset: 600, ModTime: mt}
	all := append(first, tagLines("ev", 12, 48)...)
	if err := os.WriteFile(live, all, 0o600); err != nil {
		t.Fatal(err)
	}
	tr := resumeTracker(t, live, loki, s3)
	b := fileBatch(t, 1, live, all, 200, 3000)
	if b.End.ID.FPLen == id.FPLen {
		t.Fatal("fingerprints of the same length")
	}
	r := tr.route(b)
	if g := firstLast(r[0]) + " | " + firstLast(r[1]); g != "ev-0004..ev-0059 | ev-0012..ev-0059" {
		t.Fatalf("routed %s", g)
	}
}

// logrotate create + compress + delaycompress while ship was stopped, Loki
// in file A, S3 ahead in file B: B becomes audit.log.1, A audit.log.2.gz
// compressed with a new time (gzip -c, lumberjack). S3 does not get A
// again, and gets B from where it was.
func TestAheadSinkSkipsABackupCompressedWithANewTime(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "audit.log")
	a, bb := tagLines("a", 0, 40), tagLines("b", 0, 40) // 2000 bytes each
	if err := os.WriteFile(live+".1", a, 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	os.Chtimes(live+".1", old, old)
	if err := os.WriteFile(live, bb, 0o600); err != nil {
		t.Fatal(err)
	}
	mid := time.Now().Add(-30 * time.Minute)
	os.Chtimes(live, mid, mid)
	loki := tail.Position{Path: live + ".1", ID: idOf(t, live+".1"), Offset: 500, ModTime: mtimeOf(t, live+".1")}
	s3 := tail.Position{Path: live, ID: idOf(t, live), Offset: 1500, ModTime: mtimeOf(t, live)}
	// Stopped: B -> .1, A -> .2 -> .2.gz (now), a new live file.
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(a)
	zw.Close()
	if err := os.WriteFile(live+".2.gz", z.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Remove(live + ".1")
	if err := os.Rename(live, live+".1"); err != nil {
		t.Fatal(err)
	}
	c := tagLines("c", 0, 4)
	if err := os.WriteFile(live, c, 0o600); err != nil {
		t.Fatal(err)
	}

	tr := resumeTracker(t, live, loki, s3)
	var got []string
	for _, b := range []*pipe.Batch{
		fileBatch(t, 1, live+".2.gz", a, 500, 2000),
		fileBatch(t, 2, live+".1", bb, 0, 1000),
		fileBatch(t, 3, live+".1", bb, 1000, 2000),
		fileBatch(t, 4, live, c, 0, int64(len(c))),
	} {
		r := tr.route(b)
		got = append(got, firstLast(r[0])+" | "+firstLast(r[1]))
	}
	want := []string{
		"a-0010..a-0039 | -",
		"b-0000..b-0019 | -",
		"b-0020..b-0039 | b-0030..b-0039",
		"c-0000..c-0003 | c-0000..c-0003",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("routed (loki | s3)\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// lumberjack with --audit-log-compress, all compressed with new times
// while ship was stopped, Loki in A, S3 ahead at the end of B: S3 skips A
// and B, and gets C (compressed, after its file) whole.
func TestAheadSinkGetsTheCompressedBackupsAfterItsFile(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "audit.log")
	name := func(k int) string { return filepath.Join(dir, fmt.Sprintf("audit-2026-11-25T10-00-0%d.000.log", k)) }
	a, bb, c := tagLines("a", 0, 40), tagLines("b", 0, 40), tagLines("c", 0, 40)
	for k, content := range [][]byte{a, bb} {
		if err := os.WriteFile(name(k+1), content, 0o600); err != nil {
			t.Fatal(err)
		}
		tm := time.Now().Add(time.Duration(k-3) * time.Hour)
		os.Chtimes(name(k+1), tm, tm)
	}
	loki := tail.Position{Path: name(1), ID: idOf(t, name(1)), Offset: 500, ModTime: mtimeOf(t, name(1))}
	s3 := tail.Position{Path: name(2), ID: idOf(t, name(2)), Offset: 2000, ModTime: mtimeOf(t, name(2))}
	// Stopped: A and B compressed now, C written and compressed, a new
	// live file.
	for k, content := range [][]byte{a, bb, c} {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(content)
		zw.Close()
		if err := os.WriteFile(name(k+1)+".gz", z.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		os.Remove(name(k + 1))
	}
	d := tagLines("d", 0, 4)
	if err := os.WriteFile(live, d, 0o600); err != nil {
		t.Fatal(err)
	}

	tr := resumeTracker(t, live, loki, s3)
	var got []string
	for _, b := range []*pipe.Batch{
		fileBatch(t, 1, name(1)+".gz", a, 500, 2000),
		fileBatch(t, 2, name(2)+".gz", bb, 0, 2000),
		fileBatch(t, 3, name(3)+".gz", c, 0, 2000),
		fileBatch(t, 4, live, d, 0, int64(len(d))),
	} {
		r := tr.route(b)
		got = append(got, firstLast(r[0])+" | "+firstLast(r[1]))
	}
	want := []string{
		"a-0010..a-0039 | -",
		"b-0000..b-0039 | -",
		"c-0000..c-0039 | c-0000..c-0039",
		"d-0000..d-0003 | d-0000..d-0003",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("routed (loki | s3)\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

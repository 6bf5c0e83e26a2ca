package tail

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

type collector struct {
	mu     sync.Mutex
	lines  []string
	last   Position
	chunks int
}

func (c *collector) emit(_ context.Context, ch Chunk) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, l := range strings.SplitAfter(string(ch.Data), "\n") {
		if l == "" {
			continue
		}
		if !strings.HasSuffix(l, "\n") {
			panic("chunk with a partial line")
		}
		c.lines = append(c.lines, strings.TrimSuffix(l, "\n"))
	}
	c.last = ch.End
	c.chunks++
	return nil
}

func (c *collector) snapshot() ([]string, Position) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.lines...), c.last
}

func (c *collector) waitFor(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		l, _ := c.snapshot()
		if len(l) >= n {
			return l
		}
		time.Sleep(5 * time.Millisecond)
	}
	l, _ := c.snapshot()
	t.Fatalf("got %d lines, want %d: %q", len(l), n, l)
	return nil
}

// start runs a tailer into a new collector (see run).
func start(t *testing.T, o Options) (*collector, func() error) {
	t.Helper()
	c := &collector{}
	return c, run(t, o, c.emit)
}

func appendLines(t *testing.T, path string, from, to int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := from; i < to; i++ {
		fmt.Fprintf(f, `{"auditID":"id-%04d"}`+"\n", i)
	}
}

// readTenAndStop writes lines 0-9 to path, tails them and stops: it
// returns the position reached, the checkpoint a resume starts from.
func readTenAndStop(t *testing.T, path string) Position {
	t.Helper()
	appendLines(t, path, 0, 10)
	c, stop := start(t, Options{Path: path})
	c.waitFor(t, 10)
	stop()
	_, pos := c.snapshot()
	return pos
}

func ids(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf(`{"auditID":"id-%04d"}`, i))
	}
	return out
}

func same(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("lines differ:\ngot  %q\nwant %q", got, want)
	}
}

// OnIdle is called after everything there is has been emitted, with the
// size of the held-back partial line, on every wake-up.
func TestOnIdleReportsThePartialLine(t *testing.T) {
	p := filepath.Join(t.TempDir(), "audit.log")
	os.WriteFile(p, []byte("{\"a\":1}\n{\"b\":"), 0o600)
	idle := make(chan int64, 100)
	c, stop := start(t, Options{Path: p, OnIdle: func(partial int64) {
		select {
		case idle <- partial:
		default: // never block the tailer
		}
	}})
	wait := func(want int64, wantLines int) {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for {
			select {
			case got := <-idle:
				if got != want {
					continue
				}
				// Every complete line was emitted before the tailer idles.
				if l, _ := c.snapshot(); len(l) != wantLines {
					t.Fatalf("idle with %d lines emitted, want %d", len(l), wantLines)
				}
				return
			case <-deadline:
				t.Fatalf("no idle report of a %d-byte partial line", want)
			}
		}
	}
	wait(5, 1)
	f, _ := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString("2}\n")
	f.Close()
	wait(0, 2)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func TestPartialLineWaitsForNewline(t *testing.T) {
	p := filepath.Join(t.TempDir(), "audit.log")
	os.WriteFile(p, []byte("{\"a\":1}\n{\"b\":"), 0o600)
	c, stop := start(t, Options{Path: p})
	c.waitFor(t, 1)
	time.Sleep(50 * time.Millisecond)
	if l, pos := c.snapshot(); len(l) != 1 || pos.Offset != 8 {
		t.Fatalf("partial line emitted: %q at %d", l, pos.Offset)
	}
	f, _ := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString("2}\n")
	f.Close()
	same(t, c.waitFor(t, 2), []string{`{"a":1}`, `{"b":2}`})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, pos := c.snapshot(); pos.Offset != 16 || pos.Path != p || pos.ID.Ino == 0 {
		t.Fatalf("position %+v", pos)
	}
}

func TestFileNotExistingYet(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "audit.log")
	c, stop := start(t, Options{Path: p})
	time.Sleep(30 * time.Millisecond)
	appendLines(t, p, 0, 3)
	same(t, c.waitFor(t, 3), ids(0, 3))
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func TestMissingDirectoryPolls(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "later")
	p := filepath.Join(dir, "audit.log")
	c, stop := start(t, Options{Path: p})
	time.Sleep(30 * time.Millisecond)
	os.MkdirAll(dir, 0o700)
	appendLines(t, p, 0, 2)
	same(t, c.waitFor(t, 2), ids(0, 2))
	stop()
}

// lumberjack: rename to name-<time>.ext, create a new file; optionally
// compress the backup afterwards (gzip then remove).
func rotate(t *testing.T, p string, n int, compress bool) string {
	t.Helper()
	ext := filepath.Ext(p)
	backup := strings.TrimSuffix(p, ext) + fmt.Sprintf("-2026-11-25T10-00-%02d.000", n) + ext
	if err := os.Rename(p, backup); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if compress {
		gzipFile(t, backup, backup+".gz")
	}
	return backup
}

func TestRotation(t *testing.T) {
	for _, compress := range []bool{false, true} {
		t.Run(fmt.Sprintf("compress=%v", compress), func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "audit.log")
			appendLines(t, p, 0, 50)
			c, stop := start(t, Options{Path: p, ReadSize: 64})
			c.waitFor(t, 10)
			// Lines written just before the rename must still be read from the old file.
			appendLines(t, p, 50, 100)
			rotate(t, p, 1, compress)
			appendLines(t, p, 100, 150)
			// A file rotated and compressed before the tailer ever opened
			// it exists only as .gz, which is never read: let the tailer
			// reach the file first, as it does between real rotations.
			c.waitFor(t, 150)
			rotate(t, p, 2, compress)
			appendLines(t, p, 150, 200)
			same(t, c.waitFor(t, 200), ids(0, 200))
			time.Sleep(50 * time.Millisecond)
			if l, _ := c.snapshot(); len(l) != 200 {
				t.Fatalf("%d lines: a backup was re-read", len(l))
			}
			stop()
		})
	}
}

func TestCopyTruncate(t *testing.T) {
	p := filepath.Join(t.TempDir(), "audit.log")
	appendLines(t, p, 0, 20)
	c, stop := start(t, Options{Path: p})
	c.waitFor(t, 20)
	b, _ := os.ReadFile(p)
	os.WriteFile(p+".1", b, 0o600)
	if err := os.Truncate(p, 0); err != nil {
		t.Fatal(err)
	}
	time.Sleep(40 * time.Millisecond)
	appendLines(t, p, 20, 25)
	same(t, c.waitFor(t, 25), ids(0, 25))
	stop()
}

func TestCopyTruncateRegrownPastOffset(t *testing.T) {
	p := filepath.Join(t.TempDir(), "audit.log")
	appendLines(t, p, 0, 5)
	c, stop := start(t, Options{Path: p, Refresh: time.Hour, NoNotify: true})
	c.waitFor(t, 5)
	stop()
	// Truncated and regrown past the old offset while we were not looking:
	// the fingerprint of the first bytes differs, so the file restarts at 0.
	_, pos := c.snapshot()
	os.Truncate(p, 0)
	appendLines(t, p, 100, 110)
	c2, stop2 := start(t, Options{Path: p, Start: &pos})
	same(t, c2.waitFor(t, 10), ids(100, 110))
	stop2()
}

func TestDeleteRecreate(t *testing.T) {
	p := filepath.Join(t.TempDir(), "audit.log")
	appendLines(t, p, 0, 10)
	c, stop := start(t, Options{Path: p})
	c.waitFor(t, 10)
	os.Remove(p)
	time.Sleep(30 * time.Millisecond)
	appendLines(t, p, 10, 20)
	same(t, c.waitFor(t, 20), ids(0, 20))
	stop()
}

func TestLongLines(t *testing.T) {
	p := filepath.Join(t.TempDir(), "audit.log")
	long := `{"big":"` + strings.Repeat("x", 5000) + `"}`
	os.WriteFile(p, []byte("{\"a\":1}\n"+long+"\n{\"b\":2}\n"+long+long+"\n{\"c\":3}\n"), 0o600)
	var over bytes.Buffer
	var mu sync.Mutex
	var seen []int64
	c, stop := start(t, Options{Path: p, ReadSize: 512, MaxLine: 1000, LongLines: &over,
		OnLongLine: func(_ string, off, size int64) { mu.Lock(); seen = append(seen, off, size); mu.Unlock() }})
	same(t, c.waitFor(t, 3), []string{`{"a":1}`, `{"b":2}`, `{"c":3}`})
	stop()
	mu.Lock()
	defer mu.Unlock()
	if over.String() != long+"\n"+long+long+"\n" {
		t.Fatalf("overflow has %d bytes", over.Len())
	}
	want := []int64{8, int64(len(long) + 1), int64(8 + len(long) + 1 + 8), int64(2*len(long) + 1)}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Fatalf("long lines at %v, want %v", seen, want)
	}
	// Lines up to MaxLine are kept whole even across many reads.
	p2 := filepath.Join(t.TempDir(), "audit.log")
	mid := `{"m":"` + strings.Repeat("y", 900) + `"}`
	os.WriteFile(p2, []byte(mid+"\n"), 0o600)
	c2, stop2 := start(t, Options{Path: p2, ReadSize: 64, MaxLine: 1000})
	same(t, c2.waitFor(t, 1), []string{mid})
	stop2()
}

func TestResumeLiveFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "audit.log")
	pos := readTenAndStop(t, p)
	appendLines(t, p, 10, 15)
	c2, stop2 := start(t, Options{Path: p, Start: &pos})
	same(t, c2.waitFor(t, 5), ids(10, 15))
	stop2()
}

func TestResumeAfterRotationWhileStopped(t *testing.T) {
	p := filepath.Join(t.TempDir(), "audit.log")
	pos := readTenAndStop(t, p)
	// While stopped: more lines, rotation, more lines, another rotation
	// (compressed), a third (kept plain), then the live file.
	appendLines(t, p, 10, 20)
	rotate(t, p, 1, false)
	time.Sleep(10 * time.Millisecond)
	appendLines(t, p, 20, 30)
	rotate(t, p, 2, false)
	time.Sleep(10 * time.Millisecond)
	appendLines(t, p, 30, 40)
	c2, stop2 := start(t, Options{Path: p, Start: &pos})
	same(t, c2.waitFor(t, 30), ids(10, 40))
	stop2()
}

func TestResumeCheckpointedFileGone(t *testing.T) {
	p := filepath.Join(t.TempDir(), "audit.log")
	pos := readTenAndStop(t, p)
	rotate(t, p, 1, true) // compressed: not re-read
	appendLines(t, p, 10, 12)
	c2, stop2 := start(t, Options{Path: p, Start: &pos})
	same(t, c2.waitFor(t, 2), ids(10, 12))
	stop2()
}

func TestOnce(t *testing.T) {
	p := filepath.Join(t.TempDir(), "audit.log")
	os.WriteFile(p, []byte("{\"a\":1}\n{\"b\":2}"), 0o600)
	c := &collector{}
	if err := New(Options{Path: p, Once: true}).Run(context.Background(), c.emit); err != nil {
		t.Fatal(err)
	}
	l, _ := c.snapshot()
	same(t, l, []string{`{"a":1}`, `{"b":2}`})
}

func TestSeveralRotationsBetweenLooks(t *testing.T) {
	p := filepath.Join(t.TempDir(), "audit.log")
	appendLines(t, p, 0, 10)
	// Polling only, rarely: three rotations happen between two looks.
	c, stop := start(t, Options{Path: p, NoNotify: true, Refresh: 300 * time.Millisecond})
	c.waitFor(t, 10)
	for i := 1; i <= 3; i++ {
		appendLines(t, p, i*10, i*10+10)
		rotate(t, p, i, false)
		time.Sleep(5 * time.Millisecond)
	}
	appendLines(t, p, 40, 50)
	same(t, c.waitFor(t, 50), ids(0, 50))
	stop()
}

func TestResumeCheckpointedFileCompressedWhileStopped(t *testing.T) {
	p := filepath.Join(t.TempDir(), "audit.log")
	pos := readTenAndStop(t, p)
	// While stopped: lines the checkpoint has not covered, then rotation
	// with compression (twice), then the live file.
	appendLines(t, p, 10, 20)
	rotate(t, p, 1, true)
	appendLines(t, p, 20, 30)
	rotate(t, p, 2, true)
	appendLines(t, p, 30, 35)
	c2, stop2 := start(t, Options{Path: p, Start: &pos})
	same(t, c2.waitFor(t, 25), ids(10, 35))
	time.Sleep(30 * time.Millisecond)
	if l, _ := c2.snapshot(); len(l) != 25 {
		t.Fatalf("%d lines: a backup was read twice", len(l))
	}
	stop2()
}

func TestCheckpointInsideCompressedBackup(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "audit.log")
	appendLines(t, p, 0, 50)
	rotate(t, p, 1, true)
	appendLines(t, p, 50, 60)
	gz := filepath.Join(dir, "audit-2026-11-25T10-00-01.000.log.gz")
	// Read the .gz part way, as if killed there.
	tl := New(Options{Path: p, ReadSize: 100, Logger: nil})
	var got []Position
	var lines, firstLines int
	tl.emit = func(_ context.Context, ch Chunk) error {
		lines += strings.Count(string(ch.Data), "\n")
		if len(got) == 0 {
			firstLines = lines
		}
		got = append(got, ch.End)
		return nil
	}
	cands, _ := candidatesIn([]Backup{{Path: gz, Gzip: true}}, &tl.headCache)
	if len(cands) != 1 {
		t.Fatalf("candidates %v", cands)
	}
	err := tl.readBackup(context.Background(), cands[0], 0, false)
	if err != nil || lines != 50 || len(got) < 2 {
		t.Fatalf("readGz: %v, %d lines, %d chunks", err, lines, len(got))
	}
	// Killed after the first chunk: the rest of the .gz from there, then
	// the live file. (Waiting for 10 lines and counting back from what
	// had come raced with the live file's lines on a loaded machine.)
	mid := got[0]
	if firstLines <= 0 || firstLines >= 50 {
		t.Fatalf("the first chunk held %d lines of the .gz", firstLines)
	}
	c, stop := start(t, Options{Path: p, Start: &mid})
	exactly(t, c, ids(firstLines, 60))
	stop()
}

// event is what a tailer reported, in order: a chunk or an over-long line.
type event struct {
	chunk *Chunk
	long  [2]int64 // offset, size
}

func TestChunksAreContiguousAndLongLinesInOrder(t *testing.T) {
	p := filepath.Join(t.TempDir(), "audit.log")
	long := `{"big":"` + strings.Repeat("x", 3000) + `"}`
	content := "{\"a\":1}\n{\"a\":2}\n" + long + "\n{\"b\":1}\n" + long + "\n" + long + "\n{\"c\":1}\n{\"c\":2}\n"
	os.WriteFile(p, []byte(content), 0o600)
	var mu sync.Mutex
	var evs []event
	o := Options{Path: p, ReadSize: 1 << 20, MaxLine: 1000, Refresh: 10 * time.Millisecond, MinInterval: -1,
		OnLongLine: func(_ string, off, size int64) {
			mu.Lock()
			evs = append(evs, event{long: [2]int64{off, size}})
			mu.Unlock()
		}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		errc <- New(o).Run(ctx, func(_ context.Context, c Chunk) error {
			mu.Lock()
			evs = append(evs, event{chunk: &c})
			mu.Unlock()
			return nil
		})
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(evs)
		mu.Unlock()
		if n >= 6 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-errc
	mu.Lock()
	defer mu.Unlock()
	// One read holds everything: the short runs around each long line are
	// separate chunks, and the long lines come between them, in file order.
	var got []string
	for _, e := range evs {
		if e.chunk == nil {
			got = append(got, fmt.Sprintf("long@%d+%d", e.long[0], e.long[1]))
			continue
		}
		c := e.chunk
		if want := content[c.Start:c.End.Offset]; string(c.Data) != want {
			t.Fatalf("chunk at %d..%d holds %q, the file there %q", c.Start, c.End.Offset, c.Data, want)
		}
		got = append(got, fmt.Sprintf("chunk@%d-%d", c.Start, c.End.Offset))
	}
	l := int64(len(long) + 1)
	want := []string{
		"chunk@0-16", fmt.Sprintf("long@16+%d", l),
		fmt.Sprintf("chunk@%d-%d", 16+l, 16+l+8), fmt.Sprintf("long@%d+%d", 24+l, l), fmt.Sprintf("long@%d+%d", 24+2*l, l),
		fmt.Sprintf("chunk@%d-%d", 24+3*l, 24+3*l+16),
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("events\ngot  %v\nwant %v", got, want)
	}
}

func TestLastLineOfFinishedFileChunk(t *testing.T) {
	p := filepath.Join(t.TempDir(), "audit.log")
	os.WriteFile(p, []byte("{\"a\":1}\n{\"b\":2}"), 0o600)
	var chunks []Chunk
	if err := New(Options{Path: p, Once: true}).Run(context.Background(), func(_ context.Context, c Chunk) error {
		chunks = append(chunks, c)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// The last line gets its newline; Start still says where it begins.
	if len(chunks) != 2 || chunks[1].Start != 8 || chunks[1].End.Offset != 15 || string(chunks[1].Data) != "{\"b\":2}\n" {
		t.Fatalf("chunks %+v", chunks)
	}
}

func TestContinueOpenFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "audit.log")
	appendLines(t, p, 0, 10)
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	// The first 4 lines were read by someone else (the follow source's
	// parallel first read); before the tailer starts, the file gets more
	// lines and is rotated away (under a name no Finder knows), and a new
	// file takes the path.
	id, _ := Identify(f, 4*22)
	appendLines(t, p, 10, 12)
	if err := os.Rename(p, filepath.Join(dir, "elsewhere")); err != nil {
		t.Fatal(err)
	}
	appendLines(t, p, 12, 15)
	c, stop := start(t, Options{Path: p, File: f, Start: &Position{Path: p, ID: id, Offset: 4 * 22}})
	same(t, c.waitFor(t, 11), ids(4, 15))
	stop()
}

func TestCustomFinder(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "audit.log")
	pos := readTenAndStop(t, p)
	// While stopped: more lines, then logrotate-style rotation (audit.log.1),
	// which lumberjack's naming does not cover.
	appendLines(t, p, 10, 20)
	os.Rename(p, p+".1")
	appendLines(t, p, 20, 25)
	logrotate := func(path string) []Backup { return []Backup{{Path: path + ".1", Order: "1"}} }
	c2, stop2 := start(t, Options{Path: p, Start: &pos, Backups: logrotate})
	same(t, c2.waitFor(t, 15), ids(10, 25))
	stop2()
	// The default finder knows logrotate's names too.
	c3, stop3 := start(t, Options{Path: p, Start: &pos})
	same(t, c3.waitFor(t, 15), ids(10, 25))
	stop3()
	// With a finder that does not know the name, the checkpointed file is
	// a gap (reported), and the live file is read from its start.
	var gaps []Gap
	var mu sync.Mutex
	c4, stop4 := start(t, Options{Path: p, Start: &pos, Backups: Lumberjack,
		OnGap: func(g Gap) { mu.Lock(); gaps = append(gaps, g); mu.Unlock() }})
	same(t, c4.waitFor(t, 5), ids(20, 25))
	stop4()
	if len(gaps) != 1 || gaps[0].Offset != pos.Offset || gaps[0].ID != pos.ID {
		t.Fatalf("gaps %+v, want the checkpoint %+v", gaps, pos)
	}
}

func TestContinueOpenFileRewrittenMeanwhile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "audit.log")
	appendLines(t, p, 0, 10)
	f, _ := os.Open(p)
	id, _ := Identify(f, 5*22)
	// copytruncate and new lines past the offset before the tailer starts:
	// the fingerprint differs, so the file is read from the start.
	os.Truncate(p, 0)
	appendLines(t, p, 100, 110)
	c, stop := start(t, Options{Path: p, File: f, Start: &Position{Path: p, ID: id, Offset: 5 * 22}})
	same(t, c.waitFor(t, 10), ids(100, 110))
	stop()
}

// OnIdle counts a held-back line whole also when it is spooled to disk
// (longer than SpoolLine) or going to LongLines (longer than MaxLine).
func TestOnIdleCountsSpooledAndOverlongPartials(t *testing.T) {
	for _, tc := range []struct {
		name string
		size int
	}{{"spooled", 3000}, {"over-long", 9000}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "audit.log")
			os.WriteFile(p, []byte("{\"a\":1}\n"+strings.Repeat("x", tc.size)), 0o600)
			idle := make(chan int64, 100)
			c, stop := start(t, Options{Path: p, ReadSize: 512, SpoolDir: dir, SpoolLine: 1000, MaxLine: 5000,
				OnIdle: func(partial int64) {
					select {
					case idle <- partial:
					default:
					}
				}})
			deadline := time.After(10 * time.Second)
			for {
				select {
				case got := <-idle:
					if got != int64(tc.size) {
						continue
					}
					if l, _ := c.snapshot(); len(l) != 1 {
						t.Fatalf("idle with %d lines emitted, want 1", len(l))
					}
				case <-deadline:
					t.Fatalf("no idle report of the %d-byte partial line", tc.size)
				}
				break
			}
			if err := stop(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

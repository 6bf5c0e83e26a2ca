package tail

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Tests of the mechanics issue 12 is about: copytruncate, retention while
// stopped, catch-up, identity checked before reading, long lines in
// bounded memory, lag.

func gzipFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(b)
	zw.Close()
	if err := os.WriteFile(dst, z.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(src); err != nil {
		t.Fatal(err)
	}
}

// copyTruncate copies p to dst and truncates p in place.
func copyTruncate(t *testing.T, p, dst string) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, 0); err != nil {
		t.Fatal(err)
	}
}

// gate is an emit that can be held (backpressure) and records what it got.
type gate struct {
	collector
	mu   sync.Mutex
	held chan struct{}
}

func (g *gate) hold() { g.mu.Lock(); g.held = make(chan struct{}); g.mu.Unlock() }
func (g *gate) release() {
	g.mu.Lock()
	if g.held != nil {
		close(g.held)
		g.held = nil
	}
	g.mu.Unlock()
}

func (g *gate) emit(ctx context.Context, ch Chunk) error {
	if err := g.collector.emit(ctx, ch); err != nil {
		return err
	}
	g.mu.Lock()
	h := g.held
	g.mu.Unlock()
	if h != nil {
		select {
		case <-h:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// run runs a tailer into emit (Refresh 10 ms and MinInterval 5 ms unless
// set) until the returned stop is called; stop returns Run's error, nil
// for the cancellation.
func run(t *testing.T, o Options, emit Emit) func() error {
	t.Helper()
	if o.Refresh == 0 {
		o.Refresh = 10 * time.Millisecond
	}
	if o.MinInterval == 0 {
		o.MinInterval = 5 * time.Millisecond
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- New(o).Run(ctx, emit) }()
	t.Cleanup(cancel)
	return func() error {
		cancel()
		if err := <-errc; err != context.Canceled {
			return err
		}
		return nil
	}
}

// exactly fails unless got is want: every line once, in order.
func exactly(t *testing.T, c *collector, want []string) {
	t.Helper()
	c.waitFor(t, len(want))
	time.Sleep(50 * time.Millisecond)
	got, _ := c.snapshot()
	same(t, got, want)
}

// A copytruncate while lines were unread: the copy (found by its first
// bytes, whatever its name) is finished from the offset read, then the
// truncated file is read from its start. The copy may already be
// compressed when the tailer looks.
func TestCopyTruncateReadsTheCopy(t *testing.T) {
	cases := []struct {
		name   string
		copyTo func(p string) string
		finder Finder
		gz     bool
	}{
		{"logrotate", func(p string) string { return p + ".1" }, nil, false},
		{"logrotate-gz", func(p string) string { return p + ".1" }, nil, true},
		{"apiserver", func(p string) string {
			return strings.TrimSuffix(p, ".log") + "-2026-11-25T10-00-00.000.log"
		}, nil, false},
		{"apiserver-gz", func(p string) string {
			return strings.TrimSuffix(p, ".log") + "-2026-11-25T10-00-00.000.log"
		}, nil, true},
		{"pattern", func(p string) string { return filepath.Join(filepath.Dir(p), "old", "audit.copy") }, Glob("old/*.copy"), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.Mkdir(filepath.Join(dir, "old"), 0o700)
			p := filepath.Join(dir, "audit.log")
			appendLines(t, p, 0, 40)
			g := &gate{}
			// Small reads: the tailer holds after the first chunk with
			// most of the file unread (held from the start: held after
			// Run started, a busy machine let it read the whole file
			// first, and the copy then vanished under it; that case is
			// TestCopyCompressedBetweenListAndOpen's).
			g.hold()
			stop := run(t, Options{Path: p, ReadSize: 100, Backups: tc.finder}, g.emit)
			g.waitFor(t, 1)
			appendLines(t, p, 40, 60)
			dst := tc.copyTo(p)
			copyTruncate(t, p, dst)
			if tc.gz {
				gzipFile(t, dst, dst+".gz")
			}
			appendLines(t, p, 60, 65)
			g.release()
			exactly(t, &g.collector, ids(0, 65))
			if err := stop(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// compressor compresses a plain backup once armed (gzip to <name>.gz,
// then the plain file removed: what the apiserver's --audit-log-compress
// or logrotate's compress do) at one of two moments: right after the
// tailer listed the backups (find: the plain file is listed, gone when it
// is looked at, its .gz not listed) or right before it opens the one it
// picked (open).
type compressor struct {
	mu    sync.Mutex
	armed string
	t     *testing.T
}

func (c *compressor) arm(p string) { c.mu.Lock(); c.armed = p; c.mu.Unlock() }

func (c *compressor) fire(p string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.armed != "" && c.armed == p {
		gzipFile(c.t, c.armed, c.armed+".gz")
		c.armed = ""
	}
}

// options returns o with the compression at the moment named.
func (c *compressor) options(o Options, at string) Options {
	if at == "find" {
		o.Backups = func(path string) []Backup {
			bs := Standard(path)
			for _, b := range bs {
				c.fire(b.Path)
			}
			return bs
		}
	} else {
		o.beforeOpen = c.fire
	}
	return o
}

// A backup compressed between the listing and the look at it, or between
// the look and the open (the plain file the tailer picked is gone, its .gz
// holds the same content) is read from the .gz: nothing is lost, nothing
// read twice. Both after a copytruncate (the copy finished from the offset
// read) and after renames (a backup not read yet, read whole).
func TestCopyCompressedBetweenListAndOpen(t *testing.T) {
	for _, at := range []string{"find", "open"} {
		for _, name := range []string{"audit.log.1", "audit-2026-11-25T10-00-00.000.log"} {
			t.Run(at+"/copytruncate/"+name, func(t *testing.T) {
				dir := t.TempDir()
				p := filepath.Join(dir, "audit.log")
				appendLines(t, p, 0, 40)
				c := &compressor{t: t}
				g := &gate{}
				g.hold()
				stop := run(t, c.options(Options{Path: p, ReadSize: 100}, at), g.emit)
				g.waitFor(t, 1)
				appendLines(t, p, 40, 60)
				dst := filepath.Join(dir, name)
				copyTruncate(t, p, dst)
				appendLines(t, p, 60, 65)
				c.arm(dst)
				g.release()
				exactly(t, &g.collector, ids(0, 65))
				if err := stop(); err != nil {
					t.Fatal(err)
				}
			})
		}
		t.Run(at+"/rename", func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "audit.log")
			appendLines(t, p, 0, 40)
			c := &compressor{t: t}
			g := &gate{}
			g.hold()
			stop := run(t, c.options(Options{Path: p, ReadSize: 100}, at), g.emit)
			g.waitFor(t, 1)
			// Two rotations while the tailer is held: the first file
			// becomes .2 (its descriptor still open), lines 40-59 are in
			// .1, not read yet, and compressed as the tailer gets to them.
			mustRename(t, p, p+".1")
			appendLines(t, p, 40, 60)
			mustRename(t, p+".1", p+".2")
			mustRename(t, p, p+".1")
			appendLines(t, p, 60, 65)
			c.arm(p + ".1")
			g.release()
			exactly(t, &g.collector, ids(0, 65))
			if err := stop(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// On a restart, the checkpointed file (rotated to .1 while stopped)
// compressed as the tailer is about to resume in it is resumed in its .gz
// at the checkpoint.
func TestResumeInBackupCompressedBeforeOpen(t *testing.T) {
	for _, at := range []string{"find", "open"} {
		t.Run(at, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "audit.log")
			pos := readTenAndStop(t, p)
			appendLines(t, p, 10, 20)
			mustRename(t, p, p+".1")
			appendLines(t, p, 20, 25)
			c := &compressor{t: t}
			c.arm(p + ".1")
			col := &collector{}
			stop := run(t, c.options(Options{Path: p, Start: &pos}, at), col.emit)
			exactly(t, col, ids(10, 25))
			if err := stop(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// The tailer looks at the file's first bytes before it trusts a read: a
// file truncated and rewritten past the offset between two looks is not
// mistaken for the one being read (nothing of the new content is lost,
// nothing of the old one read twice), also while its head is shorter than
// PrefixLen.
func TestTruncatedAndRegrownBetweenLooks(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "audit.log")
	appendLines(t, p, 0, 5) // 110 bytes: a short head
	g := &gate{}
	stop := run(t, Options{Path: p, NoNotify: true, Refresh: 50 * time.Millisecond}, g.emit)
	g.waitFor(t, 5)
	g.hold()
	appendLines(t, p, 5, 7)
	// Wait until the tailer holds inside the emit of lines 5-6.
	g.waitFor(t, 7)
	appendLines(t, p, 7, 9)
	copyTruncate(t, p, p+".1")
	appendLines(t, p, 100, 130) // past the old offset
	g.release()
	exactly(t, &g.collector, append(ids(0, 9), ids(100, 130)...))
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// Bytes the tailer saw in the file (by its size) that the copy does not
// hold (written between the copy and the truncate) and that it had not
// read yet are counted.
func TestUnrecoverableBytesCounted(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "audit.log")
	appendLines(t, p, 0, 20)
	before, _ := os.ReadFile(p)
	appendLines(t, p, 20, 25) // the window: written after the copy was taken
	full, _ := os.ReadFile(p)
	window := int64(len(full) - len(before))
	var mu sync.Mutex
	var lost int64
	g := &gate{}
	g.hold()
	stop := run(t, Options{Path: p, ReadSize: 100, NoNotify: true, Refresh: 20 * time.Millisecond,
		OnUnrecoverable: func(_ string, n int64) { mu.Lock(); lost += n; mu.Unlock() }}, g.emit)
	g.waitFor(t, 1)
	// The copy holds lines 0-19 only; then the truncate.
	os.WriteFile(p+".1", before, 0o600)
	os.Truncate(p, 0)
	appendLines(t, p, 100, 103)
	g.release()
	exactly(t, &g.collector, append(ids(0, 20), ids(100, 103)...))
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if lost != window {
		t.Fatalf("unrecoverable bytes %d, want %d", lost, window)
	}
}

// Without any copy, the loss is a gap (reported once), and the truncated
// file is read from its start.
func TestCopyTruncateWithoutCopyIsAGap(t *testing.T) {
	p := filepath.Join(t.TempDir(), "audit.log")
	appendLines(t, p, 0, 20)
	var gaps []Gap
	var mu sync.Mutex
	g := &gate{}
	g.hold()
	stop := run(t, Options{Path: p, ReadSize: 100, NoNotify: true, Refresh: 20 * time.Millisecond,
		OnGap: func(x Gap) { mu.Lock(); gaps = append(gaps, x); mu.Unlock() }}, g.emit)
	g.waitFor(t, 1)
	os.Truncate(p, 0)
	appendLines(t, p, 100, 103)
	g.release()
	g.waitFor(t, 4)
	time.Sleep(50 * time.Millisecond)
	got, _ := g.snapshot()
	if strings.Join(got[len(got)-3:], ",") != strings.Join(ids(100, 103), ",") {
		t.Fatalf("got %q", got)
	}
	stop()
	mu.Lock()
	defer mu.Unlock()
	if len(gaps) != 1 || gaps[0].Path != p {
		t.Fatalf("gaps %+v", gaps)
	}
}

// Retention while stopped: the checkpointed file was rotated and deleted;
// every newer backup is read, oldest first, then the live file, and the
// lost file is reported as a gap.
func TestResumeAfterRetentionReadsNewerBackups(t *testing.T) {
	p := filepath.Join(t.TempDir(), "audit.log")
	pos := readTenAndStop(t, p)
	appendLines(t, p, 10, 20) // unshipped lines of the file about to be lost
	first := rotate(t, p, 1, true)
	for i := 2; i <= 4; i++ {
		time.Sleep(15 * time.Millisecond)
		appendLines(t, p, i*10, i*10+10)
		rotate(t, p, i, i%2 == 0)
	}
	appendLines(t, p, 50, 55)
	if err := os.Remove(first + ".gz"); err != nil {
		t.Fatal(err)
	}
	var gaps []Gap
	var mu sync.Mutex
	c2 := &collector{}
	stop2 := run(t, Options{Path: p, Start: &pos, OnGap: func(g Gap) { mu.Lock(); gaps = append(gaps, g); mu.Unlock() }}, c2.emit)
	exactly(t, c2, ids(20, 55))
	if err := stop2(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(gaps) != 1 || gaps[0].Offset != pos.Offset {
		t.Fatalf("gaps %+v", gaps)
	}
}

// tokens is an emit that lets through only the chunks allowed so far
// (backpressure, one chunk at a time).
type tokens struct {
	collector
	allowed chan struct{}
}

func newTokens(n int) *tokens {
	t := &tokens{allowed: make(chan struct{}, 1<<16)}
	t.allow(n)
	return t
}

func (t *tokens) allow(n int) {
	for range n {
		t.allowed <- struct{}{}
	}
}

func (t *tokens) emit(ctx context.Context, ch Chunk) error {
	select {
	case <-t.allowed:
	case <-ctx.Done():
		return ctx.Err()
	}
	return t.collector.emit(ctx, ch)
}

func (t *tokens) waitChunks(tb *testing.T, n int) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		t.mu.Lock()
		c := t.chunks
		t.mu.Unlock()
		if c >= n {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	tb.Fatalf("fewer than %d chunks", n)
}

// Catch-up: the tailer falls behind by several rotations, and more happen
// while it reads the backups (the file it would read next is itself
// rotated and compressed meanwhile). Every line comes once, in order.
func TestCatchUpReadsEachFileOnceInOrder(t *testing.T) {
	for _, gz := range []bool{false, true} {
		t.Run(fmt.Sprintf("compress=%v", gz), func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "audit.log")
			appendLines(t, p, 0, 10)
			g := newTokens(1)
			stop := run(t, Options{Path: p, ReadSize: 64}, g.emit)
			g.waitChunks(t, 1)
			n := 10
			rot := 0
			more := func(k int) {
				for range k {
					appendLines(t, p, n, n+10)
					n += 10
					rot++
					rotate(t, p, rot, gz)
				}
				appendLines(t, p, n, n+5)
				n += 5
			}
			more(3)
			// Let chunks through one by one until the tailer is inside the
			// second backup (lines 20-29), and hold it there.
			for chunks := 1; ; {
				if l, _ := g.snapshot(); len(l) > 21 {
					break
				}
				g.allow(1)
				chunks++
				g.waitChunks(t, chunks)
			}
			more(3)
			g.allow(1 << 12)
			exactly(t, &g.collector, ids(0, n))
			if err := stop(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Resuming when the checkpointed live file was copytruncated (and the
// copy compressed) while stopped: the copy is read from the checkpoint.
func TestResumeAfterCopyTruncateWhileStopped(t *testing.T) {
	p := filepath.Join(t.TempDir(), "audit.log")
	pos := readTenAndStop(t, p)
	appendLines(t, p, 10, 20)
	copyTruncate(t, p, p+".1")
	gzipFile(t, p+".1", p+".1.gz")
	appendLines(t, p, 100, 130)
	c2 := &collector{}
	stop2 := run(t, Options{Path: p, Start: &pos}, c2.emit)
	exactly(t, c2, append(ids(10, 20), ids(100, 130)...))
	if err := stop2(); err != nil {
		t.Fatal(err)
	}
}

// A line longer than SpoolLine is never held whole in memory: it is
// spooled to a file and handed out as one; one longer than MaxLine goes
// to LongLines whole, whichever way it was read.
func TestSpooledLines(t *testing.T) {
	dir := t.TempDir()
	spool := filepath.Join(dir, "spool")
	os.Mkdir(spool, 0o700)
	p := filepath.Join(dir, "audit.log")
	mid := `{"m":"` + strings.Repeat("y", 3000) + `"}`
	huge := `{"h":"` + strings.Repeat("z", 9000) + `"}`
	os.WriteFile(p, []byte("{\"a\":1}\n"+mid+"\n{\"b\":2}\n"+huge+"\n{\"c\":3}\n"+mid), 0o600)
	var over bytes.Buffer
	var mu sync.Mutex
	var lines []string
	var spooled []int64
	emit := func(_ context.Context, ch Chunk) error {
		mu.Lock()
		defer mu.Unlock()
		if ch.Spool != nil {
			b, err := io.ReadAll(io.NewSectionReader(ch.Spool.File, 0, ch.Spool.Size))
			ch.Spool.File.Close()
			if err != nil {
				return err
			}
			lines = append(lines, string(b))
			spooled = append(spooled, ch.Start, ch.End.Offset)
			return nil
		}
		for _, l := range strings.Split(strings.TrimSuffix(string(ch.Data), "\n"), "\n") {
			lines = append(lines, l)
		}
		return nil
	}
	err := New(Options{Path: p, ReadSize: 256, MaxLine: 5000, SpoolDir: spool, SpoolLine: 1000, LongLines: &over, Once: true}).
		Run(context.Background(), emit)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`{"a":1}`, mid, `{"b":2}`, `{"c":3}`, mid}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("lines %d %q", len(lines), lines)
	}
	if over.String() != huge+"\n" {
		t.Fatalf("overflow has %d bytes", over.Len())
	}
	// Offsets: the first spooled line at 8, the last one (no newline) ends
	// the file.
	l := int64(len(mid))
	if len(spooled) != 4 || spooled[0] != 8 || spooled[1] != 8+l+1 {
		t.Fatalf("spooled at %v", spooled)
	}
	if ents, _ := os.ReadDir(spool); len(ents) != 0 {
		t.Fatalf("spool files left: %v", ents)
	}
}

// Lag is the bytes not handed out yet, including backups still to read.
func TestLag(t *testing.T) {
	p := filepath.Join(t.TempDir(), "audit.log")
	appendLines(t, p, 0, 10)
	g := &gate{}
	g.hold()
	tl := New(Options{Path: p, ReadSize: 44, Refresh: 10 * time.Millisecond, MinInterval: 5 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- tl.Run(ctx, g.emit) }()
	g.waitFor(t, 2)
	fi, _ := os.Stat(p)
	if lag := tl.Lag(); lag != fi.Size()-44 {
		t.Fatalf("lag %d while held after 44 of %d bytes", lag, fi.Size())
	}
	appendLines(t, p, 10, 12)
	fi2, _ := os.Stat(p)
	if lag := tl.Lag(); lag != fi2.Size()-44 {
		t.Fatalf("lag %d after the file grew to %d", lag, fi2.Size())
	}
	g.release()
	g.waitFor(t, 12)
	deadline := time.Now().Add(5 * time.Second)
	for tl.Lag() != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if lag := tl.Lag(); lag != 0 {
		t.Fatalf("lag %d after everything was read", lag)
	}
	cancel()
	<-done
}

func TestFinders(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "audit.log")
	for _, n := range []string{"audit.log", "audit.log.1", "audit.log.2.gz", "audit.log.10.gz", "audit.log.3", "audit.log.3.gz",
		"audit.log-20260101", "audit.log.x", "audit-2026-01-01T00-00-00.000.log.gz", "audit-2026-01-02T00-00-00.000.log"} {
		os.WriteFile(filepath.Join(dir, n), []byte(n+"\n"), 0o600)
	}
	names := func(bs []Backup) string {
		var s []string
		for _, b := range bs {
			s = append(s, filepath.Base(b.Path))
		}
		return strings.Join(s, " ")
	}
	if got := names(Logrotate(p)); got != "audit.log-20260101 audit.log.10.gz audit.log.3 audit.log.2.gz audit.log.1" {
		t.Errorf("Logrotate: %s", got)
	}
	if got := names(Lumberjack(p)); got != "audit-2026-01-01T00-00-00.000.log.gz audit-2026-01-02T00-00-00.000.log" {
		t.Errorf("Lumberjack: %s", got)
	}
	// Both styles at once: ordered by modification time.
	old := time.Now().Add(-time.Hour)
	os.Chtimes(filepath.Join(dir, "audit-2026-01-01T00-00-00.000.log.gz"), old, old)
	if got := names(Standard(p)); !strings.HasPrefix(got, "audit-2026-01-01T00-00-00.000.log.gz ") || strings.Count(got, " ") != 6 {
		t.Errorf("Standard: %s", got)
	}
	if got := names(Glob("audit.log.x", filepath.Join(dir, "nothing*"))(p)); got != "audit.log.x" {
		t.Errorf("Glob: %s", got)
	}
}

// A name the finder lists that does not exist (a dangling symlink a glob
// matches) is listed again once, not at every one of the relists: the
// same names gone twice are not a compression in progress.
func TestListCandidatesDanglingNameListedTwice(t *testing.T) {
	dir := t.TempDir()
	dangling := filepath.Join(dir, "audit.log.latest")
	if err := os.Symlink(filepath.Join(dir, "gone"), dangling); err != nil {
		t.Fatal(err)
	}
	calls := 0
	var heads map[headKey][]byte
	out := listCandidates(func() []Backup { calls++; return []Backup{{Path: dangling}} }, &heads)
	if len(out) != 0 || calls != 2 {
		t.Fatalf("%d candidates after %d listings, want 0 after 2", len(out), calls)
	}
}

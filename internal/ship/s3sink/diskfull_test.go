package s3sink

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/ship/metrics"
	"github.com/audittui/audittui/internal/ship/pipe"
	"github.com/audittui/audittui/internal/ship/process"
)

// fullWriter writes half of what it is given, then fails with ENOSPC,
// while full is set.
type fullWriter struct {
	w    io.Writer
	full *atomic.Bool
}

func (f fullWriter) Write(p []byte) (int, error) {
	if !f.full.Load() {
		return f.w.Write(p)
	}
	n, _ := f.w.Write(p[:len(p)/2])
	return n, syscall.ENOSPC
}

// A chunk write that finds the disk full is backpressure, like
// Store_dir_limit_size: the torn batch is cut off the chunk, the chunk
// written so far is uploaded, reading pauses (nothing acknowledged,
// backpressure 1), and the write is retried once space is back. Every
// line arrives once and whole.
func TestDiskFullIsBackpressure(t *testing.T) {
	defer func(d time.Duration) { diskFullRetry = d }(diskFullRetry)
	diskFullRetry = 20 * time.Millisecond
	f := newFake(t)
	dir := t.TempDir()
	s := newSink(t, f, dir, nil)
	var full atomic.Bool
	s.wrapWrite = func(w io.Writer) io.Writer { return fullWriter{w, &full} }
	in := make(chan *pipe.Batch, 10)
	var acked atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, in, func(bs ...*pipe.Batch) { acked.Add(int32(len(bs))) }) }()
	in <- batch(1, 0, 5)
	waitFor(t, func() bool { return acked.Load() == 1 })
	full.Store(true)
	in <- batch(2, 5, 5)
	in <- batch(3, 10, 5)
	// The chunk holding batch 1 is uploaded while the disk is full.
	waitFor(t, func() bool { return len(allIDs(f.objects(t))) == 5 })
	time.Sleep(100 * time.Millisecond)
	if n := acked.Load(); n != 1 {
		t.Fatalf("acked %d batches while the disk was full", n)
	}
	if metrics.Value(s.o.Metrics.Backpressure) != 1 {
		t.Error("backpressure metric not set while the disk is full")
	}
	select {
	case err := <-done:
		t.Fatalf("Run ended on a full disk: %v", err)
	default:
	}
	full.Store(false)
	waitFor(t, func() bool { return acked.Load() == 3 })
	if metrics.Value(s.o.Metrics.Backpressure) != 0 {
		t.Error("backpressure metric still set after the disk had space")
	}
	close(in)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ids := allIDs(f.objects(t))
	if len(ids) != 15 {
		t.Fatalf("%d distinct lines uploaded, want 15: %v", len(ids), ids)
	}
	for l, n := range ids {
		if n != 1 || !strings.HasPrefix(l, `{"auditID":"id-`) || !strings.HasSuffix(l, `"}`) {
			t.Errorf("line %q uploaded %d times", l, n)
		}
	}
}

// A gzip chunk is compressed while it is uploaded, as the parts of a
// multipart upload when the compressed bytes exceed the part size; no
// second copy is written to Store_dir.
func TestGzipStreamedMultipart(t *testing.T) {
	f := newFake(t)
	dir := t.TempDir()
	s := newSink(t, f, dir, func(o *Options) { o.PartSize = 5 << 20; o.TotalFileSize = 64 << 20 })
	var created atomic.Int32
	s.wrapWrite = func(w io.Writer) io.Writer { return w }
	// Random base64 lines: ~7.8 MB raw, ~6 MB gzipped, so two parts.
	b := &pipe.Batch{Seq: 1}
	raw := make([]byte, 2250)
	for i := 0; i < 2600; i++ {
		rand.Read(raw)
		line := fmt.Sprintf(`{"auditID":"g-%05d","pad":"%s"}`, i, base64.StdEncoding.EncodeToString(raw))
		b.Records = append(b.Records, process.Record{Line: []byte(line), Time: t0.UnixNano()})
		b.LineBytes += int64(len(line))
	}
	stop := make(chan struct{})
	go func() { // watch Store_dir for anything but chunks
		for {
			select {
			case <-stop:
				return
			default:
			}
			ents, _ := os.ReadDir(dir)
			for _, e := range ents {
				if filepath.Ext(e.Name()) != chunkExt {
					created.Add(1)
				}
			}
			time.Sleep(time.Millisecond)
		}
	}()
	runAll(t, s, b)
	close(stop)
	if n := created.Load(); n != 0 {
		t.Errorf("saw %d files besides chunks in Store_dir during the upload", n)
	}
	objs := f.objects(t)
	if len(objs) != 1 {
		t.Fatalf("%d objects", len(objs))
	}
	for _, body := range objs {
		if strings.Count(body, "\n") != 2600 || !strings.HasPrefix(body, `{"auditID":"g-00000"`) {
			t.Errorf("gzip multipart body has %d lines", strings.Count(body, "\n"))
		}
	}
	// create + 2 parts + complete (PutObject would be 1).
	if n := f.puts.Load(); n < 4 {
		t.Errorf("%d write requests: expected create, two parts and complete", n)
	}
}

// On a real full filesystem (a 1 MiB tmpfs; needs root, skipped
// otherwise) with S3 down, ship neither exits nor writes a second copy to
// compress; once S3 is back every line arrives once.
func TestDiskFullTmpfs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	defer func(d time.Duration) { diskFullRetry = d }(diskFullRetry)
	diskFullRetry = 20 * time.Millisecond
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	f := newFake(t)
	f.fail.Store(1 << 30) // S3 down
	s := newSink(t, f, dir, func(o *Options) { o.TotalFileSize = 256 << 10; o.StoreLimit = 64 << 20 })
	in := make(chan *pipe.Batch, 200)
	var acked atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, in, func(bs ...*pipe.Batch) { acked.Add(int32(len(bs))) }) }()
	const batches, per = 100, 500 // ~1.3 MiB of lines: more than the disk
	for i := 0; i < batches; i++ {
		in <- batch(uint64(i+1), i*per, per)
	}
	waitFor(t, func() bool { return metrics.Value(s.o.Metrics.Backpressure) == 1 })
	if n := acked.Load(); n >= batches {
		t.Fatalf("acked all %d batches with a full disk and S3 down", n)
	}
	f.fail.Store(0) // S3 back: uploads free the disk
	close(in)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ids := allIDs(f.objects(t))
	if acked.Load() != batches || len(ids) != batches*per {
		t.Fatalf("acked %d, %d distinct lines uploaded, want %d", acked.Load(), len(ids), batches*per)
	}
	for l, n := range ids {
		if n != 1 {
			t.Fatalf("line %q uploaded %d times", l, n)
		}
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 20s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

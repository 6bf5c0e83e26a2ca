package s3sink

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/klauspost/compress/gzip"

	"github.com/audittui/audittui/internal/data/source/s3/s3key"
	"github.com/audittui/audittui/internal/ship/metrics"
	"github.com/audittui/audittui/internal/ship/pipe"
	"github.com/audittui/audittui/internal/ship/process"
)

type fakeS3 struct {
	client *s3.Client
	fail   atomic.Int32 // fail this many write requests with 503
	puts   atomic.Int32
}

func newFake(t *testing.T) *fakeS3 {
	t.Helper()
	f := &fakeS3{}
	h := gofakes3.New(s3mem.New(), gofakes3.WithTimeSkewLimit(0)).Server()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut || r.Method == http.MethodPost {
			if f.fail.Add(-1) >= 0 {
				http.Error(w, "<Error><Code>SlowDown</Code></Error>", http.StatusServiceUnavailable)
				return
			}
			f.puts.Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	f.client = s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials:                credentials.NewStaticCredentialsProvider("a", "b", ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
		RetryMaxAttempts:           1,
	})
	if _, err := f.client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("audit")}); err != nil {
		t.Fatal(err)
	}
	return f
}

// objects returns key -> decompressed body.
func (f *fakeS3) objects(t *testing.T) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	res, err := f.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("audit")})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range res.Contents {
		g, err := f.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("audit"), Key: o.Key})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(g.Body)
		g.Body.Close()
		if len(b) > 2 && b[0] == 0x1f && b[1] == 0x8b {
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			b, _ = io.ReadAll(zr)
		}
		out[*o.Key] = string(b)
	}
	return out
}

var t0 = time.Date(2026, 11, 25, 10, 20, 30, 0, time.UTC)

func batch(seq uint64, from, n int) *pipe.Batch {
	b := &pipe.Batch{Seq: seq}
	for i := from; i < from+n; i++ {
		line := fmt.Sprintf(`{"auditID":"id-%05d"}`, i)
		b.Records = append(b.Records, process.Record{Line: []byte(line), Time: t0.Add(time.Duration(i) * time.Second).UnixNano()})
		b.LineBytes += int64(len(line))
	}
	return b
}

func newSink(t *testing.T, f *fakeS3, dir string, mod func(*Options)) *Sink {
	t.Helper()
	format, err := s3key.Parse("/audit-logs/${CLUSTER_NAME}/%Y/%m/%d/%H/%M/%S-$UUID.json", s3key.ParseOptions{
		LookupEnv: func(string) (string, bool) { return "prod", true }})
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Client: f.client, Bucket: "audit", Format: format, StoreDir: dir, Gzip: true,
		MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, Metrics: metrics.New()}
	if mod != nil {
		mod(&o)
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func runAll(t *testing.T, s *Sink, batches ...*pipe.Batch) []uint64 {
	t.Helper()
	in := make(chan *pipe.Batch, len(batches))
	for _, b := range batches {
		in <- b
	}
	close(in)
	var acked []uint64
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.Run(ctx, in, func(bs ...*pipe.Batch) {
		for _, b := range bs {
			acked = append(acked, b.Seq)
		}
	}); err != nil {
		t.Fatal(err)
	}
	return acked
}

func allIDs(objs map[string]string) map[string]int {
	ids := map[string]int{}
	for _, body := range objs {
		for _, l := range strings.Split(strings.TrimSpace(body), "\n") {
			ids[l]++
		}
	}
	return ids
}

func TestUploadKeysAndContent(t *testing.T) {
	f := newFake(t)
	dir := t.TempDir()
	s := newSink(t, f, dir, func(o *Options) { o.TotalFileSize = 100 })
	acked := runAll(t, s, batch(1, 0, 3), batch(2, 3, 3), batch(3, 6, 1))
	if fmt.Sprint(acked) != "[1 2 3]" {
		t.Fatalf("acked %v", acked)
	}
	objs := f.objects(t)
	if len(objs) < 2 {
		t.Fatalf("want chunks rolled at 100 bytes, got %d objects", len(objs))
	}
	for k := range objs {
		if !strings.HasPrefix(k, "audit-logs/prod/2026/11/25/10/20/") || !strings.HasSuffix(k, ".json") {
			t.Errorf("key %q", k)
		}
	}
	ids := allIDs(objs)
	for i := 0; i < 7; i++ {
		if ids[fmt.Sprintf(`{"auditID":"id-%05d"}`, i)] != 1 {
			t.Errorf("id %d seen %d times", i, ids[fmt.Sprintf(`{"auditID":"id-%05d"}`, i)])
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("store dir not empty: %v", ents)
	}
}

func TestUploadTimeoutRollsChunk(t *testing.T) {
	f := newFake(t)
	s := newSink(t, f, t.TempDir(), func(o *Options) { o.UploadTimeout = 30 * time.Millisecond })
	in := make(chan *pipe.Batch, 1)
	in <- batch(1, 0, 2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, in, func(...*pipe.Batch) {}) }()
	deadline := time.Now().Add(10 * time.Second)
	for f.puts.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if f.puts.Load() == 0 {
		t.Fatal("chunk not uploaded after Upload_timeout")
	}
	close(in)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestRetriesAndLeftoverChunks(t *testing.T) {
	f := newFake(t)
	dir := t.TempDir()
	f.fail.Store(3)
	s := newSink(t, f, dir, nil)
	runAll(t, s, batch(1, 0, 5))
	if n := metrics.Value(s.o.Metrics.SinkRetries.WithLabelValues("s3")); n != 3 {
		t.Errorf("retries %v", n)
	}
	if len(allIDs(f.objects(t))) != 5 {
		t.Fatal("not all lines uploaded after retries")
	}

	// A crash left a chunk with a torn last line and a stale temp file.
	f2 := newFake(t)
	dir2 := t.TempDir()
	name := chunkName(t0)
	os.WriteFile(filepath.Join(dir2, name), []byte("{\"auditID\":\"a\"}\n{\"auditID\":\"b\"}\n{\"audi"), 0o600)
	os.WriteFile(filepath.Join(dir2, name+".gz.tmp"), []byte("junk"), 0o600)
	os.WriteFile(filepath.Join(dir2, chunkName(t0.Add(time.Second))), nil, 0o600)
	s2 := newSink(t, f2, dir2, nil)
	runAll(t, s2)
	objs := f2.objects(t)
	if len(objs) != 1 {
		t.Fatalf("objects %v", objs)
	}
	key, _ := s2.Key(name)
	if objs[key] != "{\"auditID\":\"a\"}\n{\"auditID\":\"b\"}\n" {
		t.Errorf("leftover chunk uploaded as %q under %v", objs[key], objs)
	}
	if ents, _ := os.ReadDir(dir2); len(ents) != 0 {
		t.Errorf("store dir not empty: %v", ents)
	}
}

func TestSameChunkSameKey(t *testing.T) {
	f := newFake(t)
	s := newSink(t, f, t.TempDir(), nil)
	a, _ := s.Key("/x/1764066030000000000-abcd1234.chunk")
	b, _ := s.Key("/y/1764066030000000000-abcd1234.chunk")
	if a != b || !strings.HasSuffix(a, "-abcd1234.json") {
		t.Errorf("keys %q %q", a, b)
	}
	if _, err := s.Key("nope.chunk"); err == nil {
		t.Error("bad name accepted")
	}
}

func TestMultipartAndPlain(t *testing.T) {
	f := newFake(t)
	s := newSink(t, f, t.TempDir(), func(o *Options) { o.Gzip = false; o.PartSize = 5 << 20; o.TotalFileSize = 64 << 20 })
	// One batch of ~6 MiB: above the part size, so a multipart upload.
	b := &pipe.Batch{Seq: 1}
	pad := strings.Repeat("x", 1000)
	for i := 0; i < 6200; i++ {
		line := fmt.Sprintf(`{"auditID":"m-%05d","pad":"%s"}`, i, pad)
		b.Records = append(b.Records, process.Record{Line: []byte(line), Time: t0.UnixNano()})
		b.LineBytes += int64(len(line))
	}
	runAll(t, s, b)
	objs := f.objects(t)
	if len(objs) != 1 {
		t.Fatalf("%d objects", len(objs))
	}
	for _, body := range objs {
		if strings.Count(body, "\n") != 6200 || !strings.HasPrefix(body, `{"auditID":"m-00000"`) {
			t.Errorf("multipart body has %d lines", strings.Count(body, "\n"))
		}
	}
	if f.puts.Load() < 3 {
		t.Errorf("%d write requests: expected create+parts+complete", f.puts.Load())
	}
}

func TestDiskLimitBlocksUntilUploaded(t *testing.T) {
	f := newFake(t)
	f.fail.Store(1 << 30) // S3 down
	dir := t.TempDir()
	s := newSink(t, f, dir, func(o *Options) { o.TotalFileSize = 50; o.StoreLimit = 120 })
	in := make(chan *pipe.Batch, 10)
	var acked atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, in, func(bs ...*pipe.Batch) { acked.Add(int32(len(bs))) }) }()
	for i := 0; i < 6; i++ {
		in <- batch(uint64(i+1), i*2, 2) // ~44 bytes each
	}
	time.Sleep(100 * time.Millisecond)
	if n := acked.Load(); n >= 6 || n == 0 {
		t.Fatalf("acked %d batches with the disk buffer full", n)
	}
	if metrics.Value(s.o.Metrics.Backpressure) != 1 {
		t.Error("backpressure metric not set")
	}
	f.fail.Store(0) // S3 back
	close(in)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if acked.Load() != 6 || len(allIDs(f.objects(t))) != 12 {
		t.Fatalf("acked %d, %d lines uploaded", acked.Load(), len(allIDs(f.objects(t))))
	}
}

// While S3 refuses uploads, a chunk waiting in Store_dir makes the sink
// stalled (what /readyz reports) once it has waited longer than the
// timeout; an upload that succeeds again clears it.
func TestStalledWhileUploadsFail(t *testing.T) {
	f := newFake(t)
	f.fail.Store(1 << 30) // S3 down
	s := newSink(t, f, t.TempDir(), func(o *Options) { o.UploadTimeout = 10 * time.Millisecond })
	if err := s.Stalled(time.Now().Add(time.Hour), time.Minute); err != nil {
		t.Fatalf("stalled before anything was queued: %v", err)
	}
	in := make(chan *pipe.Batch, 1)
	in <- batch(1, 0, 3)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, in, func(...*pipe.Batch) {}) }()
	// The chunk is closed (Upload_timeout) and queued; its uploads fail.
	later := func() time.Time { return time.Now().Add(time.Hour) }
	deadline := time.Now().Add(10 * time.Second)
	for s.Stalled(later(), time.Minute) == nil && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	err := s.Stalled(later(), time.Minute)
	if err == nil || !strings.Contains(err.Error(), "no upload succeeded") || !strings.Contains(err.Error(), "1 chunk in Store_dir") {
		t.Fatalf("Stalled during the outage = %v", err)
	}
	// Within the timeout it is not stalled yet.
	if err := s.Stalled(time.Now(), time.Hour); err != nil {
		t.Fatalf("stalled within the timeout: %v", err)
	}
	// S3 back: the chunk is uploaded and the sink is healthy again.
	f.fail.Store(0)
	close(in)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := s.Stalled(later(), time.Minute); err != nil {
		t.Fatalf("stalled after the upload: %v", err)
	}
	if len(allIDs(f.objects(t))) != 3 {
		t.Fatal("lines not uploaded after the outage")
	}
}

// A stop (ship's SIGTERM: StopBy, then in closed) while S3 refuses
// uploads returns at once, not when the grace period ends: the chunks
// are fsynced in Store_dir, acknowledged, and uploaded on the next start.
// With Store_dir full the batch that did not fit is not acknowledged (it
// is read again on restart) instead of waiting for an upload.
func TestStopDuringOutageReturnsBeforeGrace(t *testing.T) {
	for _, full := range []bool{false, true} {
		t.Run(map[bool]string{false: "room", true: "store-full"}[full], func(t *testing.T) {
			f := newFake(t)
			puts := f.puts.Load() // the bucket's creation
			f.fail.Store(1 << 30) // S3 down
			dir := t.TempDir()
			s := newSink(t, f, dir, func(o *Options) {
				o.TotalFileSize = 50
				// The next attempt after the first failure is far away:
				// the stop must not wait for it.
				o.MinBackoff, o.MaxBackoff = time.Hour, time.Hour
				if full {
					o.StoreLimit = 120
				}
			})
			const grace = 30 * time.Second
			in := make(chan *pipe.Batch, 10)
			acks := make(chan uint64, 10)
			// The sink's context ends with the grace period, as ship's does.
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() {
				done <- s.Run(ctx, in, func(bs ...*pipe.Batch) {
					for _, b := range bs {
						acks <- b.Seq
					}
				})
			}()
			for i := uint64(1); i <= 2; i++ {
				in <- batch(i, int(i)*2, 2) // ~44 bytes each
				if a := <-acks; a != i {
					t.Fatalf("acknowledged %d, want %d", a, i)
				}
			}
			deadline := time.Now().Add(10 * time.Second)
			for metrics.Value(s.o.Metrics.SinkErrors.WithLabelValues("s3")) == 0 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			s.StopBy(time.Now().Add(grace))
			graceOver := make(chan struct{})
			tm := time.AfterFunc(grace, func() { close(graceOver); cancel() })
			defer tm.Stop()
			for i := uint64(3); i <= 5; i++ {
				in <- batch(i, int(i)*2, 2)
			}
			close(in)
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
			case <-graceOver:
				t.Fatalf("Run had not returned when the grace period (%s) ended", grace)
			}
			close(acks)
			var after []uint64
			for a := range acks {
				after = append(after, a)
			}
			if !full && len(after) != 3 {
				t.Fatalf("acknowledged %v after the stop, want 3 4 5 (stored)", after)
			}
			if full && len(after) == 3 {
				t.Fatalf("acknowledged %v after the stop with Store_dir full: a batch not stored was acknowledged", after)
			}
			if f.puts.Load() != puts {
				t.Fatal("S3 stored objects while failing")
			}
			// The next start uploads every line acknowledged.
			f.fail.Store(0)
			s2 := newSink(t, f, dir, nil)
			runAll(t, s2)
			want := 2*2 + 2*len(after)
			if n := len(allIDs(f.objects(t))); n != want {
				t.Fatalf("the next start uploaded %d lines, want the %d acknowledged", n, want)
			}
		})
	}
}

package ship

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/klauspost/compress/gzip"

	"github.com/audittui/audittui/internal/data/source/loki/lokitest"
)

// eventLine renders a small but realistic audit event with a unique auditID.
func eventLine(i int, ts time.Time) string {
	verbs := []string{"get", "list", "create", "update", "delete", "watch"}
	res := []string{"pods", "configmaps", "secrets", "deployments"}
	r := res[i%len(res)]
	body := ""
	if r == "secrets" && i%3 == 0 {
		body = `,"requestObject":{"kind":"Secret","apiVersion":"v1","metadata":{"name":"s","managedFields":[{"manager":"kubectl"}]},"data":{"password":"c2VjcmV0"}}`
	}
	return fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"id-%08d","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/ns%d/%s","verb":"%s","user":{"username":"user%d","groups":["system:authenticated"]},"sourceIPs":["10.0.0.%d"],"objectRef":{"resource":"%s","namespace":"ns%d","name":"obj%d","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":200}%s,"requestReceivedTimestamp":"%s","stageTimestamp":"%s"}`,
		i, i%5, r, verbs[i%len(verbs)], i%7, i%250, r, i%5, i, body,
		ts.Add(-time.Millisecond).UTC().Format(time.RFC3339Nano), ts.UTC().Format(time.RFC3339Nano))
}

var idRe = regexp.MustCompile(`"auditID":"(id-\d{8})"`)

// ids extracts auditIDs from text.
func ids(text string) []string {
	var out []string
	for _, m := range idRe.FindAllStringSubmatch(text, -1) {
		out = append(out, m[1])
	}
	return out
}

// writer appends events to an audit log, rotating like lumberjack.
type writer struct {
	t     testing.TB
	path  string
	mu    sync.Mutex
	f     *os.File
	n     int
	base  time.Time
	rot   int
	lines []string
}

func newWriter(t testing.TB, path string) *writer {
	return &writer{t: t, path: path, base: time.Now().Add(-time.Hour).Truncate(time.Second)}
}

func (w *writer) open() {
	if w.f != nil {
		return
	}
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		w.t.Fatal(err)
	}
	w.f = f
}

// write appends n events.
func (w *writer) write(n int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.open()
	var buf bytes.Buffer
	for k := 0; k < n; k++ {
		buf.WriteString(eventLine(w.n, w.base.Add(time.Duration(w.n)*time.Millisecond)))
		buf.WriteByte('\n')
		w.lines = append(w.lines, fmt.Sprintf("id-%08d", w.n))
		w.n++
	}
	if _, err := w.f.Write(buf.Bytes()); err != nil {
		w.t.Fatal(err)
	}
}

// rotate does lumberjack's rename + create, optionally gzipping the
// backup afterwards (--audit-log-compress).
func (w *writer) rotate(compress bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f != nil {
		w.f.Close()
		w.f = nil
	}
	w.rot++
	backup := strings.TrimSuffix(w.path, ".log") + fmt.Sprintf("-2026-11-25T10-00-%02d.%03d.log", w.rot/1000, w.rot%1000)
	if err := os.Rename(w.path, backup); err != nil {
		w.t.Fatal(err)
	}
	w.open()
	if compress {
		go func() {
			// lumberjack compresses in the background after a moment.
			time.Sleep(20 * time.Millisecond)
			b, err := os.ReadFile(backup)
			if err != nil {
				return
			}
			var z bytes.Buffer
			zw := gzip.NewWriter(&z)
			zw.Write(b)
			zw.Close()
			os.WriteFile(backup+".gz", z.Bytes(), 0o600)
			os.Remove(backup)
		}()
	}
}

// copytruncate copies the file aside and truncates it in place.
func (w *writer) copytruncate() {
	w.mu.Lock()
	defer w.mu.Unlock()
	b, err := os.ReadFile(w.path)
	if err != nil {
		w.t.Fatal(err)
	}
	os.WriteFile(w.path+".1", b, 0o600)
	if err := w.f.Truncate(0); err != nil {
		w.t.Fatal(err)
	}
}

// deleteRecreate removes the file; the next write creates it again.
func (w *writer) deleteRecreate() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.f.Close()
	w.f = nil
	os.Remove(w.path)
}

func (w *writer) written() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.lines...)
}

func (w *writer) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f != nil {
		w.f.Close()
		w.f = nil
	}
}

// fakeS3 is an in-process S3 (gofakes3) that can be taken down or made
// to answer writes late.
type fakeS3 struct {
	URL    string
	client *s3.Client
	down   atomic.Bool
	late   lateAcks
}

func newFakeS3(t testing.TB) *fakeS3 {
	t.Helper()
	f := &fakeS3{}
	h := gofakes3.New(s3mem.New(), gofakes3.WithTimeSkewLimit(0)).Server()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.down.Load() {
			http.Error(w, "<Error><Code>ServiceUnavailable</Code></Error>", http.StatusServiceUnavailable)
			return
		}
		f.late.serve(w, r, h)
	}))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	f.client = s3Client(srv.URL, "test", "test")
	createBucket(t, f.client, "audit")
	return f
}

// lateAcks delays the answer to every write request (a Loki push, an S3
// PUT or multipart call) by a random time between max/2 and max: part of
// it before the request reaches the server and the rest after the server
// has stored it, so a client killed in that time has either not delivered
// the request or delivered it without hearing so. Reads (GET, HEAD) are
// answered at once. The zero value answers everything at once.
type lateAcks struct {
	max atomic.Int64 // time.Duration; 0: no delay
	// started counts delayed requests; waiting those not yet handed to
	// the server, answering those stored and not yet answered.
	started, waiting, answering atomic.Int64
}

// set makes every write wait between max/2 and max (0: no delay).
func (l *lateAcks) set(max time.Duration) { l.max.Store(int64(max)) }

func (l *lateAcks) serve(w http.ResponseWriter, r *http.Request, h http.Handler) {
	max := time.Duration(l.max.Load())
	if max <= 0 || r.Method == http.MethodGet || r.Method == http.MethodHead {
		h.ServeHTTP(w, r)
		return
	}
	// Read the whole request first: from then on the server notices a
	// client that goes away (the request's context ends).
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return // the client went away while sending
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	l.started.Add(1)
	d := max/2 + rand.N(max/2+1)
	before := rand.N(d + 1)
	l.waiting.Add(1)
	if !sleepCtx(r.Context(), before) {
		l.waiting.Add(-1)
		return // the client died before the server took the request
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	l.waiting.Add(-1)
	l.answering.Add(1)
	defer l.answering.Add(-1)
	if !sleepCtx(r.Context(), d-before) {
		return // stored; the client died before hearing so
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

// sleepCtx sleeps for d; false when ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func s3Client(endpoint, access, secret string) *s3.Client {
	return s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), UsePathStyle: true,
		Credentials:                               credentials.NewStaticCredentialsProvider(access, secret, ""),
		RequestChecksumCalculation:                aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation:                aws.ResponseChecksumValidationWhenRequired,
		DisableLogOutputChecksumValidationSkipped: true,
	})
}

func createBucket(t testing.TB, c *s3.Client, bucket string) {
	t.Helper()
	_, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	if err != nil && !strings.Contains(err.Error(), "BucketAlready") {
		t.Fatalf("create bucket %s: %v", bucket, err)
	}
}

// s3IDs lists every object under prefix and returns the auditIDs in them.
func s3IDs(t testing.TB, c *s3.Client, bucket, prefix string) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("list s3: %v", err)
		}
		for _, o := range page.Contents {
			g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: o.Key})
			if err != nil {
				t.Fatalf("get %s: %v", *o.Key, err)
			}
			b, _ := io.ReadAll(g.Body)
			g.Body.Close()
			if len(b) > 1 && b[0] == 0x1f && b[1] == 0x8b {
				zr, err := gzip.NewReader(bytes.NewReader(b))
				if err != nil {
					t.Fatalf("gunzip %s: %v", *o.Key, err)
				}
				b, _ = io.ReadAll(zr)
			}
			out = append(out, ids(string(b))...)
		}
	}
	return out
}

func lokiIDs(srv *lokitest.Server) []string {
	var out []string
	for _, e := range srv.Entries("") {
		out = append(out, ids(e.Line)...)
	}
	return out
}

// checkDelivered fails when a written auditID is missing from got, and
// reports duplicates (allowed: delivery is at least once).
func checkDelivered(t testing.TB, sink string, written, got []string) {
	t.Helper()
	seen := map[string]int{}
	for _, id := range got {
		seen[id]++
	}
	var missing []string
	dups := 0
	for _, id := range written {
		switch n := seen[id]; {
		case n == 0:
			missing = append(missing, id)
		case n > 1:
			dups += n - 1
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		show := missing
		if len(show) > 10 {
			show = show[:10]
		}
		t.Errorf("%s: %d of %d auditIDs missing (first: %v)", sink, len(missing), len(written), show)
	}
	t.Logf("%s: %d written, %d received, %d duplicates", sink, len(written), len(got), dups)
}

// waitUntil polls cond for up to 20s.
func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func containsAll(got, want []string) bool {
	seen := make(map[string]bool, len(got))
	for _, g := range got {
		seen[g] = true
	}
	for _, w := range want {
		if !seen[w] {
			return false
		}
	}
	return true
}

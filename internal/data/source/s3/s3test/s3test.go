// Package s3test builds S3 archives for tests: an in-process fake S3
// server (gofakes3) that counts requests, a client for a real
// S3-compatible server (versitygw), and archives of generated audit events
// in the Fluent Bit layout.
package s3test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/audittui/audittui/internal/data/source/s3/s3key"
)

// CountingAPI wraps a client and counts its ListObjectsV2 and GetObject
// calls.
type CountingAPI struct {
	*s3.Client
	mu          sync.Mutex
	Lists, Gets int
}

// ListObjectsV2 counts and forwards.
func (c *CountingAPI) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, fns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	c.mu.Lock()
	c.Lists++
	c.mu.Unlock()
	return c.Client.ListObjectsV2(ctx, in, fns...)
}

// GetObject counts and forwards.
func (c *CountingAPI) GetObject(ctx context.Context, in *s3.GetObjectInput, fns ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	c.mu.Lock()
	c.Gets++
	c.mu.Unlock()
	return c.Client.GetObject(ctx, in, fns...)
}

// Counter counts S3 requests by kind (LIST, GET, HEAD, WRITE).
type Counter struct {
	mu sync.Mutex
	m  map[string]int
}

// Get returns the count of a kind.
func (c *Counter) Get(kind string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[kind]
}

// Reset zeroes the counts.
func (c *Counter) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m = map[string]int{}
}

func (c *Counter) add(r *http.Request) {
	kind := "WRITE"
	switch r.Method {
	case http.MethodGet:
		kind = "GET"
		if r.URL.Query().Has("list-type") || r.URL.Query().Has("prefix") || r.URL.Query().Has("delimiter") {
			kind = "LIST"
		}
	case http.MethodHead:
		kind = "HEAD"
	}
	c.mu.Lock()
	c.m[kind]++
	c.mu.Unlock()
}

// Fake is an in-process S3 server.
type Fake struct {
	URL     string
	Client  *s3.Client
	Counter *Counter
}

// NewFake starts a gofakes3 server for the test's lifetime.
func NewFake(t testing.TB) *Fake {
	t.Helper()
	faker := gofakes3.New(s3mem.New(), gofakes3.WithTimeSkewLimit(0))
	c := &Counter{m: map[string]int{}}
	h := faker.Server()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.add(r)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	return &Fake{URL: ts.URL, Client: Client(ts.URL, "test", "test"), Counter: c}
}

// Client returns a path-style client for an S3-compatible endpoint.
func Client(endpoint, access, secret string) *s3.Client {
	return s3.New(s3.Options{
		Region:                     "us-east-1",
		BaseEndpoint:               aws.String(endpoint),
		UsePathStyle:               true,
		Credentials:                credentials.NewStaticCredentialsProvider(access, secret, ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
		DisableLogOutputChecksumValidationSkipped: true,
	})
}

// EnvClient returns a client for the server named by AUDITTUI_S3_ENDPOINT
// and the AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY that
// scripts/versitygw.sh prints.
func EnvClient(endpoint string) *s3.Client {
	return Client(endpoint, os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"))
}

// CreateBucket creates a bucket (ignoring "already exists").
func CreateBucket(ctx context.Context, t testing.TB, c *s3.Client, bucket string) {
	t.Helper()
	_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	if err != nil && !bytes.Contains([]byte(err.Error()), []byte("BucketAlreadyOwnedByYou")) &&
		!bytes.Contains([]byte(err.Error()), []byte("BucketAlreadyExists")) {
		t.Fatalf("create bucket %s: %v", bucket, err)
	}
}

// Put uploads one object. Like Fluent Bit, it labels gzip and zstd bodies
// with a Content-Encoding (readers must still get the bytes as stored).
func Put(ctx context.Context, t testing.TB, c *s3.Client, bucket, key string, body []byte, class string) {
	t.Helper()
	in := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)}
	switch {
	case bytes.HasPrefix(body, []byte{0x1f, 0x8b}):
		in.ContentEncoding = aws.String("gzip")
	case bytes.HasPrefix(body, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		in.ContentEncoding = aws.String("zstd")
	}
	if class != "" {
		in.StorageClass = types.StorageClass(class)
	}
	if _, err := c.PutObject(ctx, in); err != nil {
		t.Fatalf("put s3://%s/%s: %v", bucket, key, err)
	}
}

// Event is one generated audit event line.
type Event struct {
	Time time.Time
	Line []byte
}

// Archive describes a generated archive.
type Archive struct {
	// Format renders object keys (with CLUSTER_NAME bound).
	Format *s3key.Format
	// Start is the first object's time; Hours the number of hours covered.
	Start time.Time
	Hours int
	// ObjectsPerHour per node; Nodes writers (overlapping objects);
	// EventsPerObject lines in each.
	ObjectsPerHour, Nodes, EventsPerObject int
	// Compression picks each object's encoding by index: "none", "gzip",
	// "zstd" (cycled); nil means all "none".
	Compression []string
	// Pad adds a request body of this many bytes to each event (for
	// benchmarks).
	Pad int
}

// Object is one generated object.
type Object struct {
	Key    string
	Body   []byte // as stored (compressed)
	Events []Event
}

// Build generates the archive's objects. Events are Fluent Bit records
// (the audit event plus "date", "cluster" and "source" keys). Each object
// holds events from its key time to key time plus the object period, as a
// Fluent Bit s3 output with Upload_timeout equal to that period writes.
func (a Archive) Build() []Object {
	var out []Object
	period := time.Hour / time.Duration(a.ObjectsPerHour)
	n := 0
	pad := bytes.Repeat([]byte("x"), a.Pad)
	for h := 0; h < a.Hours; h++ {
		for i := 0; i < a.ObjectsPerHour; i++ {
			for node := 0; node < a.Nodes; node++ {
				kt := a.Start.Add(time.Duration(h)*time.Hour + time.Duration(i)*period + time.Duration(node)*time.Second)
				var lines bytes.Buffer
				var evs []Event
				for e := 0; e < a.EventsPerObject; e++ {
					et := kt.Add(time.Duration(e) * period / time.Duration(a.EventsPerObject))
					line := eventLine(et, n, node, pad)
					n++
					lines.Write(line)
					lines.WriteByte('\n')
					evs = append(evs, Event{Time: et, Line: line})
				}
				comp := "none"
				if len(a.Compression) > 0 {
					comp = a.Compression[len(out)%len(a.Compression)]
				}
				body := compress(lines.Bytes(), comp)
				key := a.Format.Render(kt, s3key.Vars{UUID: fmt.Sprintf("n%dx%05d", node, len(out)%100000)[:8]})
				out = append(out, Object{Key: key, Body: body, Events: evs})
			}
		}
	}
	return out
}

var verbs = []string{"get", "list", "watch", "create", "update", "patch", "delete"}
var users = []string{"system:admin", "alice@example.com", "system:serviceaccount:kube-system:deployment-controller", "bob"}
var resources = []string{"pods", "secrets", "configmaps", "deployments", "nodes"}

func eventLine(t time.Time, n, node int, pad []byte) []byte {
	ts := t.UTC().Format("2006-01-02T15:04:05.000000Z")
	body := ""
	if len(pad) > 0 {
		body = fmt.Sprintf(`,"requestObject":{"kind":"ConfigMap","data":{"blob":"%s"}}`, pad)
	}
	return fmt.Appendf(nil, `{"date":"%s","kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"%08d-0000-4000-8000-%012d","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/ns%d/%s","verb":"%s","user":{"username":"%s","groups":["system:authenticated"]},"sourceIPs":["10.0.%d.%d"],"userAgent":"kubectl/v1.31.0","objectRef":{"resource":"%s","namespace":"ns%d","name":"obj-%d","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":%d}%s,"requestReceivedTimestamp":"%s","stageTimestamp":"%s","annotations":{"authorization.k8s.io/decision":"allow"},"cluster":"prod-eu","source":"k8s-audit"}`,
		ts, n, n, n%5, resources[n%len(resources)], verbs[n%len(verbs)], users[n%len(users)], node, n%250,
		resources[n%len(resources)], n%5, n, []int{200, 201, 403, 404}[n%4], body, ts, ts)
}

func compress(b []byte, kind string) []byte {
	var buf bytes.Buffer
	switch kind {
	case "gzip":
		zw := gzip.NewWriter(&buf)
		zw.Write(b)
		zw.Close()
	case "zstd":
		zw, _ := zstd.NewWriter(&buf)
		zw.Write(b)
		zw.Close()
	default:
		return b
	}
	return buf.Bytes()
}

// Upload puts every object into the bucket.
func Upload(ctx context.Context, t testing.TB, c *s3.Client, bucket string, objs []Object) {
	t.Helper()
	CreateBucket(ctx, t, c, bucket)
	for _, o := range objs {
		Put(ctx, t, c, bucket, o.Key, o.Body, "")
	}
}

// Expected returns the events of objs in [from, to), sorted by time.
func Expected(objs []Object, from, to time.Time) []Event {
	var out []Event
	for _, o := range objs {
		for _, e := range o.Events {
			if (from.IsZero() || !e.Time.Before(from)) && (to.IsZero() || e.Time.Before(to)) {
				out = append(out, e)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out
}

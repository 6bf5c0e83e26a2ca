package s3

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/s3/s3key"
	"github.com/audittui/audittui/internal/data/source/s3/s3test"
)

const bucket = "kubernetes-audit-logs"

func testFormat(t testing.TB, cluster string) *s3key.Format {
	t.Helper()
	f, err := s3key.Parse(s3key.DefaultFormat, s3key.ParseOptions{
		LookupEnv: func(n string) (string, bool) {
			if n == "CLUSTER_NAME" && cluster != "" {
				return cluster, true
			}
			return "", false
		},
		UnsetAsWildcard: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

var start = time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)

// threeDays is an archive of three days, one object every 30 minutes (so
// Span must be 30m), plain, gzip and zstd objects. (Overlapping objects
// from several nodes are tested in TestOverlappingObjectsMerge.)
func threeDays(t testing.TB) []s3test.Object {
	return s3test.Archive{Format: testFormat(t, "prod-eu"), Start: start, Hours: 72,
		ObjectsPerHour: 2, Nodes: 1, EventsPerObject: 5, Compression: []string{"none", "gzip", "zstd"}}.Build()
}

func readAll(t testing.TB, st data.Stream) ([]data.Event, []data.Reject) {
	t.Helper()
	var evs []data.Event
	var rejs []data.Reject
	for {
		b, err := st.Next(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		for i := range b.Events {
			evs = append(evs, b.Events[i].Clone())
		}
		rejs = append(rejs, b.Rejects...)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return evs, rejs
}

func checkSame(t *testing.T, got []data.Event, want []s3test.Event) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d", len(got), len(want))
	}
	for i := range got {
		if i > 0 && got[i].Time < got[i-1].Time {
			t.Fatalf("event %d (%v) is before event %d (%v): not in time order", i, got[i].Timestamp(), i-1, got[i-1].Timestamp())
		}
	}
	// Same multiset of lines (events with equal times may come in any order).
	count := map[string]int{}
	for _, w := range want {
		count[string(w.Line)]++
	}
	for _, g := range got {
		if count[string(g.Raw)] == 0 {
			t.Fatalf("unexpected event %s", g.Raw)
		}
		count[string(g.Raw)]--
	}
}

func TestReadWindow(t *testing.T) {
	ctx := context.Background()
	fake := s3test.NewFake(t)
	objs := threeDays(t)
	s3test.Upload(ctx, t, fake.Client, bucket, objs)

	src, err := New(ctx, "s3://"+bucket+"/audit-logs/prod-eu/", Options{Client: fake.Client, KeyFormat: testFormat(t, ""),
		Span: 30 * time.Minute, Skew: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	from := start.Add(30*time.Hour + 20*time.Minute)
	to := from.Add(3 * time.Hour)
	fake.Counter.Reset()
	st, err := src.Open(ctx, data.ReadOptions{From: from.UnixNano(), To: to.UnixNano()})
	if err != nil {
		t.Fatal(err)
	}
	got, rejs := readAll(t, st)
	if len(rejs) != 0 {
		t.Fatalf("rejects: %v", rejs)
	}
	checkSame(t, got, s3test.Expected(objs, from, to))
	// 3 hours from 06:20 (less the 30m span) to 09:20: hour prefixes 05..09.
	if n := fake.Counter.Get("LIST"); n != 5 {
		t.Fatalf("LIST calls = %d, want 5 (one per hour prefix)", n)
	}
	// Only objects keyed from 05:50 (may hold events up to 06:20) to 09:35
	// (events up to the 15m key lag older than their key may be in the
	// window) are downloaded: 06:00 .. 09:30.
	if n := fake.Counter.Get("GET"); n != 8 {
		t.Fatalf("GET calls = %d, want 8", n)
	}
	if n := fake.Counter.Get("WRITE") + fake.Counter.Get("HEAD"); n != 0 {
		t.Fatalf("reading made %d write/head requests", n)
	}
	for _, e := range got {
		if !strings.HasPrefix(e.Origin.Source.Name, "s3://"+bucket+"/audit-logs/prod-eu/2026/03/06/") {
			t.Fatalf("origin %s", e.Where())
		}
		if e.Cluster != "prod-eu" || e.Verb == "" || e.User == "" {
			t.Fatalf("event not decoded: %+v", e)
		}
	}
}

func TestListCallsForWindows(t *testing.T) {
	ctx := context.Background()
	fake := s3test.NewFake(t)
	objs := threeDays(t)
	s3test.Upload(ctx, t, fake.Client, bucket, objs)
	src, err := New(ctx, "s3://"+bucket+"/", Options{Client: fake.Client, KeyFormat: testFormat(t, "prod-eu"),
		Span: 30 * time.Minute, Skew: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		from, to time.Time
		lists    int
	}{
		// From the bucket's root, two delimiter LISTs (of the root and of
		// audit-logs/) find what lies beside the format's prefix, then the
		// window's prefixes are listed.
		{"one hour inside", start.Add(10*time.Hour + 30*time.Minute), start.Add(11*time.Hour + 30*time.Minute), 2 + 3},
		{"two days -> day prefixes", start.Add(12 * time.Hour), start.Add(60 * time.Hour), 2 + 3},
		{"open start -> the prefix itself", time.Time{}, start.Add(40 * time.Hour), 2 + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var from, to int64
			if !tt.from.IsZero() {
				from = tt.from.UnixNano()
			}
			if !tt.to.IsZero() {
				to = tt.to.UnixNano()
			}
			l, err := src.List(ctx, from, to)
			if err != nil {
				t.Fatal(err)
			}
			if l.ListCalls != tt.lists {
				t.Fatalf("ListCalls = %d (prefixes %q), want %d", l.ListCalls, l.Prefixes, tt.lists)
			}
			for _, o := range l.Objects {
				if ok, _ := src.mayHold(o, from, to); !ok {
					t.Fatalf("listed %s outside the window", o.Key)
				}
			}
		})
	}
}

func TestOverlappingObjectsMerge(t *testing.T) {
	ctx := context.Background()
	fake := s3test.NewFake(t)
	// Three nodes writing one object each per hour: each object covers an
	// hour, so they overlap almost entirely.
	objs := s3test.Archive{Format: testFormat(t, "c1"), Start: start, Hours: 4, ObjectsPerHour: 1, Nodes: 3,
		EventsPerObject: 40, Compression: []string{"gzip"}}.Build()
	s3test.Upload(ctx, t, fake.Client, bucket, objs)
	src, err := New(ctx, "s3://"+bucket+"/audit-logs/c1/", Options{Client: fake.Client, KeyFormat: testFormat(t, ""),
		Span: time.Hour, Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	st, err := src.Open(ctx, data.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := readAll(t, st)
	checkSame(t, got, s3test.Expected(objs, time.Time{}, time.Time{}))
}

// archiving wraps an API and reports some keys as GLACIER.
type archiving struct {
	API
	glacier map[string]bool
}

func (a archiving) ListObjectsV2(ctx context.Context, in *awss3.ListObjectsV2Input, fns ...func(*awss3.Options)) (*awss3.ListObjectsV2Output, error) {
	out, err := a.API.ListObjectsV2(ctx, in, fns...)
	if err != nil {
		return nil, err
	}
	for i, c := range out.Contents {
		if a.glacier[*c.Key] {
			out.Contents[i].StorageClass = types.ObjectStorageClassGlacier
		}
	}
	return out, nil
}

func (a archiving) GetObject(ctx context.Context, in *awss3.GetObjectInput, fns ...func(*awss3.Options)) (*awss3.GetObjectOutput, error) {
	if a.glacier[*in.Key] {
		return nil, &smithy.GenericAPIError{Code: "InvalidObjectState", Message: "The operation is not valid for the object's storage class"}
	}
	return a.API.GetObject(ctx, in, fns...)
}

func TestArchivedCorruptAndBadLines(t *testing.T) {
	ctx := context.Background()
	fake := s3test.NewFake(t)
	f := testFormat(t, "c1")
	objs := s3test.Archive{Format: f, Start: start, Hours: 1, ObjectsPerHour: 4, Nodes: 1, EventsPerObject: 3}.Build()
	s3test.Upload(ctx, t, fake.Client, bucket, objs)
	// A corrupt gzip object and an object with a bad line.
	corrupt := f.Render(start.Add(5*time.Minute), s3key.Vars{UUID: "corrupt0"})
	gz := []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 1, 2, 3}
	s3test.Put(ctx, t, fake.Client, bucket, corrupt, gz, "")
	badKey := f.Render(start.Add(6*time.Minute), s3key.Vars{UUID: "badlines"})
	bad := append(append([]byte(nil), objs[0].Events[0].Line...), []byte("\nnot json\n")...)
	s3test.Put(ctx, t, fake.Client, bucket, badKey, bad, "")

	api := archiving{API: fake.Client, glacier: map[string]bool{objs[1].Key: true}}
	src, err := New(ctx, "s3://"+bucket+"/audit-logs/c1/", Options{Client: api, KeyFormat: f})
	if err != nil {
		t.Fatal(err)
	}
	st, err := src.Open(ctx, data.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, rejs := readAll(t, st)
	want := len(objs[0].Events) + 1 + len(objs[2].Events) + len(objs[3].Events)
	if len(got) != want {
		t.Fatalf("got %d events, want %d", len(got), want)
	}
	var msgs []string
	for _, r := range rejs {
		msgs = append(msgs, r.Error())
	}
	all := strings.Join(msgs, "\n")
	for _, w := range []string{
		objs[1].Key + ":0: object is in storage class GLACIER: restore it first",
		corrupt + ":0: object read stopped at line 0: read gzip stream: truncated",
		badKey + ":2: malformed JSON",
	} {
		if !strings.Contains(all, w) {
			t.Errorf("rejects do not mention %q:\n%s", w, all)
		}
	}
	if len(rejs) != 3 {
		t.Errorf("%d rejects, want 3:\n%s", len(rejs), all)
	}
}

// failing answers every call with an S3 error code.
type failing struct{ code string }

func (f failing) ListObjectsV2(context.Context, *awss3.ListObjectsV2Input, ...func(*awss3.Options)) (*awss3.ListObjectsV2Output, error) {
	return nil, &smithy.GenericAPIError{Code: f.code, Message: "from the test"}
}

func (f failing) GetObject(context.Context, *awss3.GetObjectInput, ...func(*awss3.Options)) (*awss3.GetObjectOutput, error) {
	return nil, &smithy.GenericAPIError{Code: f.code, Message: "from the test"}
}

func TestErrorMessages(t *testing.T) {
	ctx := context.Background()
	fake := s3test.NewFake(t)
	src, err := New(ctx, "s3://no-such-bucket/x/", Options{Client: fake.Client})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Open(ctx, data.ReadOptions{}); err == nil || !strings.Contains(err.Error(), `bucket "no-such-bucket" does not exist`) {
		t.Fatalf("missing bucket error = %v", err)
	}
	for code, want := range map[string]string{
		"AccessDenied":          "access denied",
		"InvalidAccessKeyId":    "bad credentials: the access key ID is not known",
		"SignatureDoesNotMatch": "bad credentials: the secret key does not match",
		"ExpiredToken":          "session token is expired",
	} {
		src, _ := New(ctx, "s3://b/p/", Options{Client: failing{code}})
		_, err := src.Open(ctx, data.ReadOptions{})
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "list s3://b/p/") {
			t.Errorf("%s: error = %v, want it to say %q", code, err, want)
		}
		var ae smithy.APIError
		if !errors.As(err, &ae) {
			t.Errorf("%s: error does not wrap the API error", code)
		}
	}
}

func TestParseURL(t *testing.T) {
	for in, want := range map[string][2]string{
		"s3://b/":          {"b", ""},
		"s3://b":           {"b", ""},
		"s3://b/a/c/":      {"b", "a/c/"},
		"s3://b/a/c/d.log": {"b", "a/c/d.log"},
	} {
		b, p, err := ParseURL(in)
		if err != nil || b != want[0] || p != want[1] {
			t.Errorf("ParseURL(%q) = %q %q %v", in, b, p, err)
		}
	}
	for _, in := range []string{"s3://", "http://b/", "s3:///x"} {
		if _, _, err := ParseURL(in); err == nil {
			t.Errorf("ParseURL(%q) should fail", in)
		}
	}
}

func TestProgressAndDigests(t *testing.T) {
	ctx := context.Background()
	fake := s3test.NewFake(t)
	objs := s3test.Archive{Format: testFormat(t, "c1"), Start: start, Hours: 2, ObjectsPerHour: 3, Nodes: 1,
		EventsPerObject: 20, Compression: []string{"gzip", "none"}}.Build()
	s3test.Upload(ctx, t, fake.Client, bucket, objs)
	var mu sync.Mutex
	var last Progress
	var rawDone, rawTotal int64
	digests := map[string]Digest{}
	src, err := New(ctx, "s3://"+bucket+"/", Options{Client: fake.Client, KeyFormat: testFormat(t, "c1"),
		Progress: func(p Progress) { mu.Lock(); last = p; mu.Unlock() },
		OnObject: func(d Digest) { mu.Lock(); digests[d.Object.Key] = d; mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	st, err := src.Open(ctx, data.ReadOptions{Progress: func(done, total int64) { mu.Lock(); rawDone, rawTotal = done, total; mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, st)
	var total int64
	for _, o := range objs {
		total += int64(len(o.Body))
		d, ok := digests[o.Key]
		if !ok {
			t.Fatalf("no digest for %s", o.Key)
		}
		if d.Bytes != int64(len(o.Body)) || d.SHA256 != sha256hex(o.Body) {
			t.Fatalf("digest of %s = %+v", o.Key, d)
		}
		if wantComp := map[bool]string{true: "gzip", false: "none"}[bytes.HasPrefix(o.Body, []byte{0x1f, 0x8b})]; d.Compression != wantComp {
			t.Fatalf("compression of %s = %s", o.Key, d.Compression)
		}
	}
	if last.Objects != len(objs) || last.ObjectsTotal != len(objs) || last.Bytes != total || last.BytesTotal != total {
		t.Fatalf("last progress = %+v, want %d objects %d bytes", last, len(objs), total)
	}
	if rawDone != total || rawTotal != total {
		t.Fatalf("ReadOptions.Progress = %d/%d, want %d", rawDone, rawTotal, total)
	}
	if !strings.Contains(last.String(), "6/6 objects") {
		t.Fatalf("progress string %q", last.String())
	}
}

func TestLongLineAndOffsets(t *testing.T) {
	ctx := context.Background()
	fake := s3test.NewFake(t)
	f := testFormat(t, "c1")
	objs := s3test.Archive{Format: f, Start: start, Hours: 1, ObjectsPerHour: 1, Nodes: 1, EventsPerObject: 3}.Build()
	var body bytes.Buffer
	body.Write(objs[0].Events[0].Line)
	body.WriteString("\n")
	const maxLine = 300 << 10
	body.Write(bytes.Repeat([]byte("y"), maxLine+10))
	body.WriteString("\n")
	body.Write(objs[0].Events[1].Line)
	body.WriteString("\r\n")
	body.Write(objs[0].Events[2].Line) // no final newline
	key := objs[0].Key
	s3test.CreateBucket(ctx, t, fake.Client, bucket)
	s3test.Put(ctx, t, fake.Client, bucket, key, body.Bytes(), "")
	src, _ := New(ctx, "s3://"+bucket+"/", Options{Client: fake.Client, KeyFormat: f, MaxLine: maxLine})
	st, err := src.Open(ctx, data.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, rejs := readAll(t, st)
	if len(got) != 3 || len(rejs) != 1 {
		t.Fatalf("got %d events %d rejects %v", len(got), len(rejs), rejs)
	}
	if rejs[0].Origin.Line != 2 || !strings.Contains(rejs[0].Reason, "longer than") {
		t.Fatalf("reject = %v", rejs[0].Error())
	}
	raw := body.Bytes()
	for i, e := range got {
		if e.Origin.Line != []int64{1, 3, 4}[i] {
			t.Errorf("event %d line %d", i, e.Origin.Line)
		}
		if !bytes.Equal(raw[e.Origin.Offset:e.Origin.Offset+int64(len(e.Raw))], e.Raw) {
			t.Errorf("event %d offset %d does not point at its bytes", i, e.Origin.Offset)
		}
	}
}

func sha256hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func TestRangedReads(t *testing.T) {
	ctx := context.Background()
	fake := s3test.NewFake(t)
	f := testFormat(t, "c1")
	// One big object (about 1.2 MB), plain, and a gzip one.
	objs := s3test.Archive{Format: f, Start: start, Hours: 1, ObjectsPerHour: 2, Nodes: 1, EventsPerObject: 2500,
		Compression: []string{"none", "gzip"}}.Build()
	s3test.Upload(ctx, t, fake.Client, bucket, objs)
	src, err := New(ctx, "s3://"+bucket+"/", Options{Client: fake.Client, KeyFormat: f, Span: 30 * time.Minute,
		RangeThreshold: 64 << 10, PartSize: 50 << 10, RangeConcurrency: 3})
	if err != nil {
		t.Fatal(err)
	}
	fake.Counter.Reset()
	st, err := src.Open(ctx, data.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, rejs := readAll(t, st)
	if len(rejs) > 0 {
		t.Fatal(rejs)
	}
	checkSame(t, got, s3test.Expected(objs, time.Time{}, time.Time{}))
	parts := 0
	for _, o := range objs {
		parts += (len(o.Body) + 50<<10 - 1) / (50 << 10)
	}
	if n := fake.Counter.Get("GET"); n != parts || parts <= len(objs) {
		t.Fatalf("GET calls = %d, want %d range requests", n, parts)
	}
	// Download (export) gets the same bytes as stored.
	l, err := src.List(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range l.Objects {
		var buf bytes.Buffer
		d, err := src.Download(ctx, o, &buf)
		if err != nil {
			t.Fatal(err)
		}
		var want []byte
		for _, g := range objs {
			if g.Key == o.Key {
				want = g.Body
			}
		}
		if !bytes.Equal(buf.Bytes(), want) || d.SHA256 != sha256hex(want) || d.Bytes != int64(len(want)) {
			t.Fatalf("Download(%s) differs from the object (%d vs %d bytes)", o.Key, buf.Len(), len(want))
		}
	}
}

// Without CLUSTER_NAME, a bucket of several clusters is planned cluster by
// cluster after one delimiter listing, not listed key by key.
func TestDiscoverClusters(t *testing.T) {
	ctx := context.Background()
	fake := s3test.NewFake(t)
	var all []s3test.Object
	for _, c := range []string{"prod-eu", "prod-us", "staging"} {
		objs := s3test.Archive{Format: testFormat(t, c), Start: start, Hours: 24, ObjectsPerHour: 2, Nodes: 1,
			EventsPerObject: 2}.Build()
		all = append(all, objs...)
	}
	s3test.Upload(ctx, t, fake.Client, bucket, all)
	s3test.Put(ctx, t, fake.Client, bucket, "audit-logs/README", []byte("not audit events\n"), "")
	src, err := New(ctx, "s3://"+bucket+"/", Options{Client: fake.Client, KeyFormat: testFormat(t, ""), Span: 30 * time.Minute, Skew: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	from := start.Add(10*time.Hour + 40*time.Minute)
	to := from.Add(2 * time.Hour)
	fake.Counter.Reset()
	st, err := src.Open(ctx, data.ReadOptions{From: from.UnixNano(), To: to.UnixNano()})
	if err != nil {
		t.Fatal(err)
	}
	got, rejs := readAll(t, st)
	checkSame(t, got, s3test.Expected(all, from, to))
	// One delimiter listing of the root (what lies beside audit-logs/),
	// one of audit-logs/ (the clusters), then hours 10..12 for each of
	// three clusters, plus the README listed (and rejected: it is not an
	// audit event).
	if n := fake.Counter.Get("LIST"); n != 2+3*3+1 {
		t.Fatalf("LIST calls = %d, want %d", n, 2+3*3+1)
	}
	if len(rejs) != 1 || !strings.Contains(rejs[0].Error(), "audit-logs/README:1") {
		t.Fatalf("rejects = %v", rejs)
	}
}

package s3

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/klauspost/compress/gzip"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/s3/s3key"
	"github.com/audittui/audittui/internal/data/source/s3/s3test"
)

// store is the S3 server a test reads: the in-process fake, or with real
// the S3-compatible server AUDITTUI_S3_ENDPOINT names (versitygw).
type store struct {
	client *awss3.Client
	bucket string
	// opts sets how a source reaches the server: the real client from
	// the environment's credentials, or the fake's client.
	opts func(Options) Options
}

func newStore(t *testing.T, real bool) store {
	if !real {
		fake := s3test.NewFake(t)
		s3test.CreateBucket(context.Background(), t, fake.Client, bucket)
		return store{client: fake.Client, bucket: bucket, opts: func(o Options) Options { o.Client = fake.Client; return o }}
	}
	endpoint, b := realBucket(t)
	client := s3test.EnvClient(endpoint)
	s3test.CreateBucket(context.Background(), t, client, b)
	return store{client: client, bucket: b, opts: func(o Options) Options { o.Config = ClientConfig{Endpoint: endpoint}; return o }}
}

// plainEvent is an audit event line at t.
func plainEvent(id string, t time.Time) string {
	ts := t.UTC().Format(time.RFC3339Nano)
	return fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":%q,"stage":"ResponseComplete","requestURI":"/api/v1/namespaces/ns/pods","verb":"list","user":{"username":"u"},"objectRef":{"resource":"pods","namespace":"ns"},"responseStatus":{"code":200},"requestReceivedTimestamp":%q,"stageTimestamp":%q}`, id, ts, ts)
}

// firehoseObject is what an EKS control plane log subscription delivers
// through Firehose: back-to-back gzip members, each a CloudWatch Logs
// DATA_MESSAGE of one log stream, no newline anywhere.
func firehoseObject(t *testing.T, msgs [][]string, times [][]time.Time) []byte {
	t.Helper()
	var out bytes.Buffer
	for i, lines := range msgs {
		type logEvent struct {
			ID        string `json:"id"`
			Timestamp int64  `json:"timestamp"`
			Message   string `json:"message"`
		}
		m := struct {
			MessageType         string     `json:"messageType"`
			Owner               string     `json:"owner"`
			LogGroup            string     `json:"logGroup"`
			LogStream           string     `json:"logStream"`
			SubscriptionFilters []string   `json:"subscriptionFilters"`
			LogEvents           []logEvent `json:"logEvents"`
		}{MessageType: "DATA_MESSAGE", Owner: "123456789012", LogGroup: "/aws/eks/c1/cluster",
			LogStream: "kube-apiserver-audit-0123456789abcdef", SubscriptionFilters: []string{"audit"}}
		for j, l := range lines {
			m.LogEvents = append(m.LogEvents, logEvent{ID: fmt.Sprint(i*1000 + j), Timestamp: times[i][j].UnixMilli(), Message: l})
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		zw := gzip.NewWriter(&out)
		zw.Write(b)
		zw.Close()
	}
	return out.Bytes()
}

// firstEventsAfter reads st to its end and returns the events, and how
// many objects (onObject counts) had been read whole when the first
// events came out.
func firstEventsAfter(t *testing.T, st data.Stream, done *atomic.Int64) (evs []data.Event, readBefore int64) {
	t.Helper()
	readBefore = -1
	for {
		b, err := st.Next(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(b.Events) > 0 && readBefore < 0 {
			readBefore = done.Load()
		}
		for _, r := range b.Rejects {
			t.Fatalf("rejected: %v", r)
		}
		for i := range b.Events {
			if n := len(evs); n > 0 && b.Events[i].Time < evs[n-1].Time {
				t.Fatalf("out of time order: %s", b.Events[i].Where())
			}
			evs = append(evs, b.Events[i].Clone())
		}
	}
	st.Close()
	return evs, readBefore
}

// Objects whose keys carry no time (Firehose's own layout) are read in
// turn, by the time of their first event, not held until the last is
// read: review G finding 1 (96 such objects, 49 MB stored, took 2.3 GB).
func TestUndatedObjectsReadInTurn(t *testing.T)            { testUndatedObjectsReadInTurn(t, false) }
func TestIntegrationUndatedObjectsReadInTurn(t *testing.T) { testUndatedObjectsReadInTurn(t, true) }

func testUndatedObjectsReadInTurn(t *testing.T, real bool) {
	st0 := newStore(t, real)
	ctx := context.Background()
	client, b := st0.client, st0.bucket
	base := time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)
	const objects, perMsg, msgs = 24, 500, 4
	var want []string
	for o := 0; o < objects; o++ {
		var ls [][]string
		var ts [][]time.Time
		for m := 0; m < msgs; m++ {
			var l []string
			var tt []time.Time
			for e := 0; e < perMsg; e++ {
				at := base.Add(time.Duration(o)*10*time.Minute + time.Duration(m*perMsg+e)*250*time.Millisecond)
				id := fmt.Sprintf("%02d-%d-%04d", o, m, e)
				l = append(l, plainEvent(id, at))
				tt = append(tt, at)
				want = append(want, id)
			}
			ls, ts = append(ls, l), append(ts, tt)
		}
		// Keys sort apart from time: the object listed first is the last.
		at := base.Add(time.Duration(o) * 10 * time.Minute)
		key := fmt.Sprintf("eks-audit/%s/eks-audit-1-%s-%02d-uuid", at.Format("2006/01/02/15"), at.Format("2006-01-02-15-04-05"), objects-o)
		s3test.Put(ctx, t, client, b, key, firehoseObject(t, ls, ts), "")
	}
	var done atomic.Int64
	src, err := New(ctx, "s3://"+b+"/eks-audit/", st0.opts(Options{KeyFormat: testFormat(t, ""),
		Concurrency: 2, OnObject: func(Digest) { done.Add(1) }}))
	if err != nil {
		t.Fatal(err)
	}
	st, err := src.Open(ctx, data.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	evs, before := firstEventsAfter(t, st, &done)
	var got []string
	for _, e := range evs {
		got = append(got, e.AuditID)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("got %d events, want the %d in time order", len(got), len(want))
	}
	// Only the objects the merge had reached (a merged batch holds 4096
	// events: three objects), and those fetched ahead (Concurrency), were
	// read when the first events came out.
	if before > 3+2 {
		t.Fatalf("%d of %d objects read before the first event came out: they are held in memory", before, objects)
	}
}

// Objects that overlap in time (node files copied into a bucket, a writer
// that keyed every object with one time) are merged as they are read:
// review G finding 1 (three node files: 1.25 GB; six 100 MB objects:
// 1.8 GB). Before, nothing came out until the last object was being read.
func TestOverlappingObjectsReadTogether(t *testing.T) { testOverlappingObjectsReadTogether(t, false) }
func TestIntegrationOverlappingObjectsReadTogether(t *testing.T) {
	testOverlappingObjectsReadTogether(t, true)
}

func testOverlappingObjectsReadTogether(t *testing.T, real bool) {
	st0 := newStore(t, real)
	ctx := context.Background()
	client, b := st0.client, st0.bucket
	// Four nodes' objects keyed within seconds of each other, each
	// covering the same hour, 6000 events (5 MB) each.
	objs := s3test.Archive{Format: testFormat(t, "c1"), Start: start, Hours: 1, ObjectsPerHour: 1, Nodes: 4,
		EventsPerObject: 6000, Pad: 300, Compression: []string{"gzip", "none"}}.Build()
	s3test.Upload(ctx, t, client, b, objs)
	var done atomic.Int64
	src, err := New(ctx, "s3://"+b+"/", st0.opts(Options{KeyFormat: testFormat(t, ""),
		Span: time.Hour, OnObject: func(Digest) { done.Add(1) }}))
	if err != nil {
		t.Fatal(err)
	}
	st, err := src.Open(ctx, data.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, before := firstEventsAfter(t, st, &done)
	checkSame(t, got, s3test.Expected(objs, time.Time{}, time.Time{}))
	if before != 0 {
		t.Fatalf("%d of %d objects read whole before the first event came out: they were held in memory", before, len(objs))
	}
}

// notices collects what a source says on stderr.
type notices struct {
	mu  sync.Mutex
	all []string
}

func (n *notices) add(s string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.all = append(n.all, s)
}

func (n *notices) String() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return strings.Join(n.all, "\n")
}

// An object uploaded minutes after its events (Fluent Bit keys carry the
// time its tail read the first record: after a restart or a Mem_Buf_Limit
// pause, later than the events) is read for a window that ends before its
// key time, up to --s3-key-lag; the keys a window leaves out are said, and
// an object read that is later than the lag is warned about: review G
// finding 3 (such objects were dropped silently beyond 2 minutes).
func TestKeyLag(t *testing.T)            { testKeyLag(t, false) }
func TestIntegrationKeyLag(t *testing.T) { testKeyLag(t, true) }

func testKeyLag(t *testing.T, real bool) {
	st0 := newStore(t, real)
	ctx := context.Background()
	client, b := st0.client, st0.bucket
	f := testFormat(t, "c1")
	objs := s3test.Archive{Format: f, Start: start, Hours: 1, ObjectsPerHour: 60, Nodes: 1, EventsPerObject: 3}.Build()
	s3test.Upload(ctx, t, client, b, objs)
	// 30 events of 00:10:30-00:11:00, uploaded in an object keyed 00:14:00.
	var late bytes.Buffer
	var lateIDs []string
	for i := 0; i < 30; i++ {
		id := fmt.Sprintf("late-%02d", i)
		late.WriteString(plainEvent(id, start.Add(10*time.Minute+30*time.Second+time.Duration(i)*time.Second)) + "\n")
		lateIDs = append(lateIDs, id)
	}
	lateKey := "audit-logs/c1/" + start.Add(14*time.Minute).Format("2006/01/02/15/04/05") + "-LAG3MIN1.json"
	s3test.Put(ctx, t, client, b, lateKey, late.Bytes(), "")

	read := func(opts Options, from, to time.Time) ([]string, string) {
		var n notices
		opts.KeyFormat, opts.Notice = testFormat(t, ""), n.add
		src, err := New(ctx, "s3://"+b+"/", st0.opts(opts))
		if err != nil {
			t.Fatal(err)
		}
		st, err := src.Open(ctx, data.ReadOptions{From: from.UnixNano(), To: to.UnixNano()})
		if err != nil {
			t.Fatal(err)
		}
		evs, _ := readAll(t, st)
		var ids []string
		for _, e := range evs {
			if strings.HasPrefix(e.AuditID, "late-") {
				ids = append(ids, e.AuditID)
			}
		}
		return ids, n.String()
	}
	from, to := start.Add(10*time.Minute), start.Add(12*time.Minute)
	// The default lag (15m) reads it.
	ids, said := read(Options{}, from, to)
	if strings.Join(ids, " ") != strings.Join(lateIDs, " ") {
		t.Fatalf("window %s-%s: %d of the late object's %d events (%s)", from.Format("15:04"), to.Format("15:04"), len(ids), len(lateIDs), said)
	}
	// The keys left out, and why.
	if !strings.Contains(said, "keys listed were not read, by the time in their key") ||
		!strings.Contains(said, "keyed --s3-key-lag 15m or more after its end (2026-03-05T00:12:00Z)") {
		t.Fatalf("no word of the keys left out by their time:\n%s", said)
	}
	// A lag shorter than the writer's: the object is left out, and said
	// to be; within the lag but later than it: read, and warned about.
	ids, said = read(Options{KeyLag: 2 * time.Minute}, from, to)
	if len(ids) != 0 || !strings.Contains(said, "keyed --s3-key-lag 2m or more after its end") {
		t.Fatalf("--s3-key-lag 2m: %d late events read; notices:\n%s", len(ids), said)
	}
	ids, said = read(Options{KeyLag: 2 * time.Minute}, from, start.Add(13*time.Minute))
	if len(ids) != len(lateIDs) || !strings.Contains(said, "warning: s3://"+b+"/"+lateKey+" holds events up to 3m30s older than the time in its key") {
		t.Fatalf("--s3-key-lag 2m, window to 00:13: %d late events; notices:\n%s", len(ids), said)
	}
}

// s3://bucket/ reads the whole bucket: the objects the key format dates
// and, whole, those beside them (node files copied as evidence, another
// writer's layout). A prefix that holds nothing is said to be empty:
// review G finding 6 (s3://bucket/ read only audit-logs/, and anything
// else gave an empty answer, exit 0, nothing on stderr).
func TestBucketRootAndEmptyPrefix(t *testing.T)            { testBucketRootAndEmptyPrefix(t, false) }
func TestIntegrationBucketRootAndEmptyPrefix(t *testing.T) { testBucketRootAndEmptyPrefix(t, true) }

func testBucketRootAndEmptyPrefix(t *testing.T, real bool) {
	st0 := newStore(t, real)
	ctx := context.Background()
	client, b := st0.client, st0.bucket
	objs := s3test.Archive{Format: testFormat(t, "c1"), Start: start, Hours: 2, ObjectsPerHour: 4, Nodes: 1, EventsPerObject: 5}.Build()
	s3test.Upload(ctx, t, client, b, objs)
	var node bytes.Buffer
	for i := 0; i < 40; i++ {
		node.WriteString(plainEvent(fmt.Sprintf("copy-%02d", i), start.Add(time.Duration(i)*time.Minute)) + "\n")
	}
	s3test.Put(ctx, t, client, b, "case-4711/node-cp1/audit.log", node.Bytes(), "")
	s3test.Put(ctx, t, client, b, "README.txt", []byte(plainEvent("beside", start)+"\n"), "")

	open := func(url string) ([]data.Event, string) {
		var n notices
		src, err := New(ctx, url, st0.opts(Options{KeyFormat: testFormat(t, ""), Notice: n.add}))
		if err != nil {
			t.Fatal(err)
		}
		st, err := src.Open(ctx, data.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		evs, rejs := readAll(t, st)
		if len(rejs) > 0 {
			t.Fatalf("%s: rejects %v", url, rejs)
		}
		return evs, n.String()
	}
	evs, said := open("s3://" + b + "/")
	if want := len(s3test.Expected(objs, time.Time{}, time.Time{})) + 40 + 1; len(evs) != want {
		t.Fatalf("s3://%s/: %d events, want %d (the archive's, the node file's, the one beside); notices: %s", b, len(evs), want, said)
	}
	for i := 1; i < len(evs); i++ {
		if evs[i].Time < evs[i-1].Time {
			t.Fatalf("out of time order: %s", evs[i].Where())
		}
	}
	evs, said = open("s3://" + b + "/nonexistent/")
	if len(evs) != 0 || !strings.Contains(said, "s3://"+b+"/nonexistent/: no object found: s3://"+b+"/nonexistent/ holds 0 keys") {
		t.Fatalf("empty prefix: %d events; notices: %q", len(evs), said)
	}
}

// A binary object (Parquet from a Firehose format conversion, random
// bytes) is rejected once, saying what it is, not line by line: review G
// finding 7 (a 5 MB random object: 19,320 rejects).
func TestBinaryObjectRejectedOnce(t *testing.T)            { testBinaryObjectRejectedOnce(t, false) }
func TestIntegrationBinaryObjectRejectedOnce(t *testing.T) { testBinaryObjectRejectedOnce(t, true) }

func testBinaryObjectRejectedOnce(t *testing.T, real bool) {
	st0 := newStore(t, real)
	ctx := context.Background()
	client, b := st0.client, st0.bucket
	rnd := make([]byte, 2<<20)
	rand.NewChaCha8([32]byte{'a', 'u', 'd', 'i', 't', 't', 'u', 'i'}).Read(rnd)
	nul := checkNoise(t, rnd)
	kt := "audit-logs/c1/" + start.Format("2006/01/02/15/04/05")
	s3test.Put(ctx, t, client, b, kt+"-RANDOM01.json", rnd, "")
	s3test.Put(ctx, t, client, b, kt+"-PARQUET1.parquet", append([]byte("PAR1\x15\x04\x15\x00"), rnd[:200000]...), "")
	s3test.Put(ctx, t, client, b, kt+"-GOOD0001.json", []byte(plainEvent("good", start)+"\n"), "")
	src, err := New(ctx, "s3://"+b+"/", st0.opts(Options{KeyFormat: testFormat(t, "")}))
	if err != nil {
		t.Fatal(err)
	}
	st, err := src.Open(ctx, data.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	evs, rejs := readAll(t, st)
	if len(evs) != 1 || len(rejs) != 2 {
		t.Fatalf("%d events and %d rejects, want 1 and 2 (one per binary object): %v", len(evs), len(rejs), rejs[:min(len(rejs), 3)])
	}
	for _, r := range rejs {
		msg := r.Error()
		switch {
		case strings.Contains(msg, "-PARQUET1.parquet:1: binary content (a Parquet file), not JSON text"):
		case strings.Contains(msg, fmt.Sprintf("-RANDOM01.json:1: binary content (a NUL byte at offset %d)", nul)):
		default:
			t.Fatalf("reject %q does not name the object and why", msg)
		}
	}
}

// checkNoise asserts what the binary-object test needs of its noise: read
// as it is (no gzip or zstd magic: it would be decompressed), not taken
// for UTF-16 (no byte order mark, no NUL among its first four bytes) or
// for JSON ('{' or '[' first, after blanks or a UTF-8 byte order mark:
// read line by line then), not a named format (PAR1, ORC, PK, BZh, ...:
// told by name), and a NUL byte within the 8000 bytes the reader sniffs.
// It returns the offset of that NUL, which the reject names.
func checkNoise(t *testing.T, b []byte) int {
	t.Helper()
	for _, magic := range []string{"\x1f\x8b", "\x28\xb5\x2f\xfd", "\xff\xfe", "\xfe\xff", "\xef\xbb\xbf",
		"PAR1", "ORC", "Obj\x01", "PK\x03\x04", "BZh", "\xfd7zXZ\x00", "\x04\x22\x4d\x18", "\xff\x06\x00\x00sNaPpY", "\x7fELF"} {
		if bytes.HasPrefix(b, []byte(magic)) {
			t.Fatalf("the noise starts with the magic %q: another seed", magic)
		}
	}
	if len(b) < 8000 || bytes.ContainsAny(b[:1], "{[ \t\r\n") || bytes.IndexByte(b[:4], 0) >= 0 || string(b[257:262]) == "ustar" {
		t.Fatalf("the noise starts as JSON, UTF-16 or tar would (% x): another seed", b[:4])
	}
	nul := bytes.IndexByte(b[:8000], 0)
	if nul < 0 {
		t.Fatal("the noise holds no NUL byte in its first 8000 bytes: another seed")
	}
	return nul
}

// getCounter counts whole-object GETs (not the ranged GETs of a peek).
type getCounter struct {
	API
	whole atomic.Int64
}

func (g *getCounter) GetObject(ctx context.Context, in *awss3.GetObjectInput, fns ...func(*awss3.Options)) (*awss3.GetObjectOutput, error) {
	if in.Range == nil {
		g.whole.Add(1)
	}
	return g.API.GetObject(ctx, in, fns...)
}

func TestCoarseKeysReadInTurn(t *testing.T)            { testCoarseKeysReadInTurn(t, false) }
func TestIntegrationCoarseKeysReadInTurn(t *testing.T) { testCoarseKeysReadInTurn(t, true) }

// Objects whose keys tell only the hour (a --key-format such as
// /eks-audit/%Y/%m/%d/%H/$UUID) are read in turn by the first event of
// their head, not all of an hour at once (review G: 635 MB for Firehose
// objects with hour-dated keys).
func testCoarseKeysReadInTurn(t *testing.T, real bool) {
	st0 := newStore(t, real)
	ctx := context.Background()
	f, err := s3key.Parse("/coarse/%Y/%m/%d/%H/$UUID", s3key.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Six objects an hour, ten minutes each, 3 MB each.
	objs := s3test.Archive{Format: f, Start: start, Hours: 2, ObjectsPerHour: 6, Nodes: 1, EventsPerObject: 3000, Pad: 600}.Build()
	s3test.Upload(ctx, t, st0.client, st0.bucket, objs)
	api := &getCounter{API: st0.client}
	opts := st0.opts(Options{KeyFormat: f, Span: time.Hour, Concurrency: 1})
	opts.Client = api
	src, err := New(ctx, "s3://"+st0.bucket+"/", opts)
	if err != nil {
		t.Fatal(err)
	}
	st, err := src.Open(ctx, data.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, fetched := firstEventsAfter(t, st, &api.whole)
	checkSame(t, got, s3test.Expected(objs, time.Time{}, time.Time{}))
	// The first 4096 events are the first two objects'; one more is
	// fetched ahead (Concurrency 1).
	if fetched > 3 {
		t.Fatalf("%d objects fetched before the first event came out: the hour's objects were read at once", fetched)
	}
}

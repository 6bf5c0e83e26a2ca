package loki

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/snappy"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
	_ "google.golang.org/protobuf/types/known/timestamppb"

	"github.com/audittui/audittui/internal/data"
)

// pushDescriptor builds logproto.PushRequest from a hand-written
// descriptor that mirrors Loki's push.proto, so the hand encoder is checked
// against the protobuf library's own decoder.
func pushDescriptor(t *testing.T) protoreflect.MessageDescriptor {
	t.Helper()
	str := descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum()
	msg := descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum()
	u64 := descriptorpb.FieldDescriptorProto_TYPE_UINT64.Enum()
	opt := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()
	rep := descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum()
	field := func(name string, num int32, typ *descriptorpb.FieldDescriptorProto_Type, label *descriptorpb.FieldDescriptorProto_Label, typeName string) *descriptorpb.FieldDescriptorProto {
		f := &descriptorpb.FieldDescriptorProto{Name: proto.String(name), Number: proto.Int32(num), Type: typ, Label: label, JsonName: proto.String(name)}
		if typeName != "" {
			f.TypeName = proto.String(typeName)
		}
		return f
	}
	fd := &descriptorpb.FileDescriptorProto{
		Name:       proto.String("push.proto"),
		Package:    proto.String("logproto"),
		Syntax:     proto.String("proto3"),
		Dependency: []string{"google/protobuf/timestamp.proto"},
		MessageType: []*descriptorpb.DescriptorProto{
			{Name: proto.String("PushRequest"), Field: []*descriptorpb.FieldDescriptorProto{
				field("streams", 1, msg, rep, ".logproto.StreamAdapter")}},
			{Name: proto.String("StreamAdapter"), Field: []*descriptorpb.FieldDescriptorProto{
				field("labels", 1, str, opt, ""),
				field("entries", 2, msg, rep, ".logproto.EntryAdapter"),
				field("hash", 3, u64, opt, "")}},
			{Name: proto.String("LabelPairAdapter"), Field: []*descriptorpb.FieldDescriptorProto{
				field("name", 1, str, opt, ""),
				field("value", 2, str, opt, "")}},
			{Name: proto.String("EntryAdapter"), Field: []*descriptorpb.FieldDescriptorProto{
				field("timestamp", 1, msg, opt, ".google.protobuf.Timestamp"),
				field("line", 2, str, opt, ""),
				field("structuredMetadata", 3, msg, rep, ".logproto.LabelPairAdapter")}},
		},
	}
	f, err := protodesc.NewFile(fd, protoregistryFiles())
	if err != nil {
		t.Fatalf("build descriptor: %v", err)
	}
	return f.Messages().ByName("PushRequest")
}

func samplePush() PushRequest {
	return PushRequest{Streams: []PushStream{
		{
			Labels: data.Labels{{Name: "job", Value: "audit"}, {Name: "cluster", Value: `a"b\c`}},
			Entries: []PushEntry{
				{Time: 1700000000123456789, Line: []byte(`{"kind":"Event","verb":"get"}`)},
				{Time: 1700000001000000000, Line: []byte("line two"), Metadata: data.Labels{{Name: "auditID", Value: "x-1"}}},
			},
		},
		{
			Labels:  data.Labels{{Name: "job", Value: "other"}},
			Entries: []PushEntry{{Time: 5, Line: []byte("tiny")}},
		},
	}}
}

func TestEncodePushProtobufMatchesProtobufLibrary(t *testing.T) {
	raw, err := EncodePushProtobuf(nil, samplePush())
	if err != nil {
		t.Fatal(err)
	}
	md := pushDescriptor(t)
	m := dynamicpb.NewMessage(md)
	if err := (proto.UnmarshalOptions{DiscardUnknown: false}).Unmarshal(raw, m); err != nil {
		t.Fatalf("protobuf library cannot decode our encoding: %v", err)
	}
	if len(m.GetUnknown()) != 0 {
		t.Fatalf("unknown fields in PushRequest: %x", m.GetUnknown())
	}
	streams := m.Get(md.Fields().ByName("streams")).List()
	if streams.Len() != 2 {
		t.Fatalf("streams = %d, want 2", streams.Len())
	}
	s0 := streams.Get(0).Message()
	sd := s0.Descriptor()
	if got := s0.Get(sd.Fields().ByName("labels")).String(); got != `{cluster="a\"b\\c", job="audit"}` {
		t.Errorf("labels = %s", got)
	}
	entries := s0.Get(sd.Fields().ByName("entries")).List()
	if entries.Len() != 2 {
		t.Fatalf("entries = %d", entries.Len())
	}
	e1 := entries.Get(1).Message()
	ed := e1.Descriptor()
	ts := e1.Get(ed.Fields().ByName("timestamp")).Message()
	tsd := ts.Descriptor()
	if sec := ts.Get(tsd.Fields().ByName("seconds")).Int(); sec != 1700000001 {
		t.Errorf("seconds = %d", sec)
	}
	if got := e1.Get(ed.Fields().ByName("line")).String(); got != "line two" {
		t.Errorf("line = %q", got)
	}
	md0 := e1.Get(ed.Fields().ByName("structuredMetadata")).List().Get(0).Message()
	if n := md0.Get(md0.Descriptor().Fields().ByName("name")).String(); n != "auditID" {
		t.Errorf("metadata name = %q", n)
	}
	e0 := entries.Get(0).Message()
	ts0 := e0.Get(ed.Fields().ByName("timestamp")).Message()
	if n := ts0.Get(tsd.Fields().ByName("nanos")).Int(); n != 123456789 {
		t.Errorf("nanos = %d", n)
	}

	// And our own decoder round-trips.
	back, err := DecodePushProtobuf(raw)
	if err != nil {
		t.Fatal(err)
	}
	if back.Streams[0].Entries[0].Time != 1700000000123456789 || string(back.Streams[1].Entries[0].Line) != "tiny" {
		t.Errorf("round trip: %+v", back)
	}
	if v, _ := back.Streams[0].Labels.Get("cluster"); v != `a"b\c` {
		t.Errorf("round trip cluster = %q", v)
	}
}

func TestEncodePushJSON(t *testing.T) {
	b, err := EncodePushJSON(samplePush())
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Streams []struct {
			Stream map[string]string `json:"stream"`
			Values [][]json.RawMessage
		} `json:"streams"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.Streams[0].Stream["cluster"] != `a"b\c` {
		t.Errorf("stream = %v", got.Streams[0].Stream)
	}
	if string(got.Streams[0].Values[0][0]) != `"1700000000123456789"` {
		t.Errorf("timestamp = %s (want a string of ns)", got.Streams[0].Values[0][0])
	}
	if string(got.Streams[0].Values[1][2]) != `{"auditID":"x-1"}` {
		t.Errorf("metadata = %s", got.Streams[0].Values[1][2])
	}
}

func TestPushRejectsBadStreams(t *testing.T) {
	for name, s := range map[string]PushStream{
		"no labels":  {},
		"bad name":   {Labels: data.Labels{{Name: "1x", Value: "v"}}},
		"duplicate":  {Labels: data.Labels{{Name: "a", Value: "1"}, {Name: "a", Value: "2"}}},
		"empty name": {Labels: data.Labels{{Name: "", Value: "v"}}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := EncodePushProtobuf(nil, PushRequest{Streams: []PushStream{s}}); err == nil {
				t.Error("no error")
			}
		})
	}
}

// pushRecorder is a minimal push endpoint for client tests.
type pushRecorder struct {
	mu      sync.Mutex
	reqs    []*http.Request
	bodies  [][]byte
	status  []int // statuses to answer in order, then 204
	message string
}

func (p *pushRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	p.mu.Lock()
	p.reqs = append(p.reqs, r)
	p.bodies = append(p.bodies, b)
	st := http.StatusNoContent
	if len(p.status) > 0 {
		st, p.status = p.status[0], p.status[1:]
	}
	p.mu.Unlock()
	if st != http.StatusNoContent {
		http.Error(w, p.message, st)
		return
	}
	w.WriteHeader(st)
}

func TestPushSendsSnappyProtobufWithHeaders(t *testing.T) {
	rec := &pushRecorder{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	for _, addr := range []string{srv.URL, srv.URL + "/loki/api/v1/push", srv.URL + "/"} {
		c, err := NewClient(Config{Addr: addr, TenantID: "team-a", Username: "u", Password: "p", UserAgent: "audittui-test/1"})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Push(context.Background(), samplePush()); err != nil {
			t.Fatalf("%s: %v", addr, err)
		}
	}
	if len(rec.reqs) != 3 {
		t.Fatalf("requests = %d", len(rec.reqs))
	}
	r := rec.reqs[0]
	if r.URL.Path != "/loki/api/v1/push" || r.Method != http.MethodPost {
		t.Errorf("request = %s %s", r.Method, r.URL.Path)
	}
	for h, want := range map[string]string{
		"Content-Type":  "application/x-protobuf",
		"X-Scope-OrgID": "team-a",
		"User-Agent":    "audittui-test/1",
		"Authorization": "Basic dTpw",
	} {
		if got := r.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	raw, err := snappy.Decode(nil, rec.bodies[0])
	if err != nil {
		t.Fatalf("body is not snappy block format: %v", err)
	}
	got, err := DecodePushProtobuf(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Streams) != 2 || len(got.Streams[0].Entries) != 2 {
		t.Errorf("decoded = %+v", got)
	}
}

func TestPushVictoriaLogsPath(t *testing.T) {
	rec := &pushRecorder{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	c, err := NewClient(Config{Addr: srv.URL + "/insert/loki/api/v1/push", BearerToken: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.PushAs(context.Background(), samplePush(), PushJSON); err != nil {
		t.Fatal(err)
	}
	r := rec.reqs[0]
	if r.URL.Path != "/insert/loki/api/v1/push" {
		t.Errorf("path = %s", r.URL.Path)
	}
	if r.Header.Get("Authorization") != "Bearer tok" || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("headers = %v", r.Header)
	}
}

func TestPushErrorsAreTyped(t *testing.T) {
	cases := []struct {
		status    int
		retryable bool
	}{
		{http.StatusTooManyRequests, true},
		{http.StatusInternalServerError, true},
		{http.StatusServiceUnavailable, true},
		{http.StatusBadRequest, false},
		{http.StatusUnauthorized, false},
		{http.StatusRequestEntityTooLarge, false},
	}
	for _, tc := range cases {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			rec := &pushRecorder{status: []int{tc.status}, message: "entry for stream '{job=\"audit\"}' has timestamp too old\x1b[31m"}
			srv := httptest.NewServer(rec)
			defer srv.Close()
			c, _ := NewClient(Config{Addr: srv.URL})
			err := c.Push(context.Background(), samplePush())
			var he *HTTPError
			if !errors.As(err, &he) {
				t.Fatalf("err = %v (%T), want *HTTPError", err, err)
			}
			if he.Status != tc.status || he.Retryable() != tc.retryable || IsRetryable(err) != tc.retryable {
				t.Errorf("status %d retryable %v", he.Status, he.Retryable())
			}
			if !strings.Contains(err.Error(), "has timestamp too old") || strings.Contains(err.Error(), "\x1b") {
				t.Errorf("message = %q (want Loki's text, sanitised)", err.Error())
			}
		})
	}
}

func TestNetworkErrorRetryable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close()
	c, _ := NewClient(Config{Addr: addr, Timeout: time.Second})
	err := c.Push(context.Background(), samplePush())
	if err == nil || !IsRetryable(err) {
		t.Fatalf("err = %v, retryable = %v", err, IsRetryable(err))
	}
}

func TestBackoffRetriesThenSucceeds(t *testing.T) {
	rec := &pushRecorder{status: []int{429, 503, 500}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	c, _ := NewClient(Config{Addr: srv.URL})
	b := Backoff{Min: time.Millisecond, Max: 2 * time.Millisecond, MaxRetries: 5}
	err := b.Do(context.Background(), nil, "push", func(ctx context.Context) error { return c.Push(ctx, samplePush()) })
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.reqs) != 4 {
		t.Errorf("attempts = %d, want 4", len(rec.reqs))
	}
}

func TestBackoffStopsOnPermanentError(t *testing.T) {
	rec := &pushRecorder{status: []int{400, 400}, message: "bad"}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	c, _ := NewClient(Config{Addr: srv.URL})
	b := Backoff{Min: time.Millisecond, MaxRetries: 5}
	err := b.Do(context.Background(), nil, "push", func(ctx context.Context) error { return c.Push(ctx, samplePush()) })
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != 400 {
		t.Fatalf("err = %v", err)
	}
	if len(rec.reqs) != 1 {
		t.Errorf("attempts = %d, want 1", len(rec.reqs))
	}
}

func TestBackoffGivesUp(t *testing.T) {
	n := 0
	b := Backoff{Min: time.Microsecond, Max: time.Microsecond, MaxRetries: 2}
	err := b.Do(context.Background(), nil, "x", func(context.Context) error {
		n++
		return &HTTPError{Status: 503}
	})
	if err == nil || n != 3 {
		t.Errorf("err = %v, calls = %d (want 3)", err, n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = Backoff{MaxRetries: -1}.Do(ctx, nil, "x", func(context.Context) error { return &HTTPError{Status: 503} })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestBackoffDelayGrowsAndIsCapped(t *testing.T) {
	b := Backoff{Min: 100 * time.Millisecond, Max: time.Second}
	for n := range 10 {
		d := b.Delay(n)
		base := min(100*time.Millisecond<<n, time.Second)
		if d < base/2 || d > base {
			t.Errorf("Delay(%d) = %v, want in [%v, %v]", n, d, base/2, base)
		}
	}
}

func TestParseAddr(t *testing.T) {
	cases := map[string]string{
		"localhost:3100":                         "http://localhost:3100",
		"loki://loki:3100":                       "http://loki:3100",
		"lokis://loki.example:443/prefix/":       "https://loki.example:443/prefix",
		"https://h/loki/api/v1/push":             "https://h",
		"http://vl:9428/insert/loki/api/v1/push": "http://vl:9428/insert",
		"http://user:pw@h:3100":                  "http://user:pw@h:3100",
	}
	for in, want := range cases {
		u, _, err := parseAddr(in)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if u.String() != want {
			t.Errorf("%s -> %s, want %s", in, u, want)
		}
	}
	for _, bad := range []string{"", "ftp://h", "http://", "http://h/?x=1"} {
		if _, _, err := parseAddr(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestRequestTimeoutIsRetryableAndClear(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	c, _ := NewClient(Config{Addr: srv.URL, Timeout: 20 * time.Millisecond})
	err := c.Push(context.Background(), samplePush())
	if err == nil || !IsRetryable(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, retryable %v", err, IsRetryable(err))
	}
	if !strings.Contains(err.Error(), "POST http://127.0.0.1:") {
		t.Errorf("message does not say what timed out: %v", err)
	}
}

func TestBackoffHonoursRetryAfter(t *testing.T) {
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "Ingestion rate limit exceeded", http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	c, _ := NewClient(Config{Addr: srv.URL})
	err := c.Push(context.Background(), samplePush())
	var he *HTTPError
	if !errors.As(err, &he) || he.RetryAfter != time.Second {
		t.Fatalf("err = %v, RetryAfter = %v", err, he)
	}
	// The policy waits for Retry-After when it is longer than its own
	// delay, capped at Max.
	b := Backoff{Min: time.Millisecond, Max: 10 * time.Second}
	if w := b.wait(0, he); w != time.Second {
		t.Errorf("wait = %v, want Retry-After 1s", w)
	}
	if w := b.wait(0, &HTTPError{Status: 429, RetryAfter: time.Hour}); w != 10*time.Second {
		t.Errorf("wait = %v, want Max", w)
	}
	if w := b.wait(0, &HTTPError{Status: 503}); w > time.Millisecond {
		t.Errorf("wait = %v without Retry-After", w)
	}
	// And a retry after it succeeds.
	if err := (Backoff{Min: time.Microsecond, Max: time.Millisecond}).Do(context.Background(), nil, "push", func(ctx context.Context) error { return c.Push(ctx, samplePush()) }); err != nil || n != 2 {
		t.Errorf("retry: %v after %d requests", err, n)
	}
}

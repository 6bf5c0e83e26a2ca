package s3

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
	"github.com/audittui/audittui/internal/data/source/file"
	"github.com/audittui/audittui/internal/data/source/s3/s3test"
	"github.com/audittui/audittui/internal/testutil"
)

// The integration tests run against the S3-compatible server that
// scripts/versitygw.sh starts (AUDITTUI_S3_ENDPOINT and the AWS_* keys it
// prints).

func realBucket(t *testing.T) (endpoint, name string) {
	endpoint = testutil.Env(t, "AUDITTUI_S3_ENDPOINT", "versitygw (scripts/versitygw.sh start)")
	return endpoint, fmt.Sprintf("audittui-s3src-%d", time.Now().UnixNano())
}

// query runs a log query over a stream and returns the matching raw lines.
func query(t *testing.T, src data.Source, q string, from, to time.Time) []string {
	t.Helper()
	lq, err := logql.ParseLog(q)
	if err != nil {
		t.Fatal(err)
	}
	st, err := src.Open(context.Background(), data.ReadOptions{From: from.UnixNano(), To: to.UnixNano(), Prefilter: data.PrefilterFor(lq)})
	if err != nil {
		t.Fatal(err)
	}
	evs, rejs := readAll(t, st)
	if len(rejs) > 0 {
		t.Fatalf("rejects from %s: %v", src, rejs)
	}
	var out []string
	var last int64
	for i := range evs {
		if evs[i].Time < last {
			t.Fatalf("%s: events out of time order at %s", src, evs[i].Where())
		}
		last = evs[i].Time
		if lq.Matches(&evs[i]) {
			out = append(out, string(evs[i].Raw))
		}
	}
	return out
}

func TestIntegrationSameAsLocalFiles(t *testing.T) {
	endpoint, b := realBucket(t)
	ctx := context.Background()
	client := s3test.EnvClient(endpoint)
	objs := s3test.Archive{Format: testFormat(t, "prod-eu"), Start: start, Hours: 72,
		ObjectsPerHour: 2, Nodes: 2, EventsPerObject: 4, Compression: []string{"gzip", "none"}}.Build()
	s3test.Upload(ctx, t, client, b, objs)

	// The same events as plain local files, one per object.
	dir := t.TempDir()
	for i, o := range objs {
		var lines []byte
		for _, e := range o.Events {
			lines = append(append(lines, e.Line...), '\n')
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("node-%04d.log", i)), lines, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	files, err := file.New(filepath.Join(dir, "*.log"), file.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Through the real client: default credential chain from the environment.
	src, err := New(ctx, "s3://"+b+"/audit-logs/prod-eu/", Options{Config: ClientConfig{Endpoint: endpoint}, KeyFormat: testFormat(t, ""), Span: 30 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	from := start.Add(26*time.Hour + 40*time.Minute)
	to := from.Add(3 * time.Hour)
	for _, q := range []string{
		`{job="audit"}`,
		`{job="audit"} | json | verb="delete"`,
		`{job="audit"} | json | objectRef_resource="secrets" | responseStatus_code >= 400`,
	} {
		got := query(t, src, q, from, to)
		want := query(t, files, q, from, to)
		if len(got) == 0 || lineDiff(got, want) != "" {
			t.Fatalf("%s: S3 gave %d lines, files %d:\n%s", q, len(got), len(want), lineDiff(got, want))
		}
	}
}

func TestIntegrationListCalls(t *testing.T) {
	endpoint, b := realBucket(t)
	ctx := context.Background()
	client := s3test.EnvClient(endpoint)
	objs := s3test.Archive{Format: testFormat(t, "prod-eu"), Start: start, Hours: 72,
		ObjectsPerHour: 2, Nodes: 1, EventsPerObject: 2, Compression: []string{"gzip", "none"}}.Build()
	s3test.Upload(ctx, t, client, b, objs)
	api := &s3test.CountingAPI{Client: client}
	src, err := New(ctx, "s3://"+b+"/audit-logs/prod-eu/", Options{Client: api, KeyFormat: testFormat(t, ""), Span: 30 * time.Minute, Skew: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		from, to    time.Time
		lists, gets int
	}{
		// 10:40-13:40 less the 30m span: hours 10..13; objects 10:30 .. 13:30.
		{"3 hours", start.Add(10*time.Hour + 40*time.Minute), start.Add(13*time.Hour + 40*time.Minute), 4, 7},
		// Two days: day prefixes 03/05 .. 03/07; objects 11:30 (may hold events
		// up to 12:00:01) to 12:00 two days later.
		{"2 days", start.Add(12 * time.Hour), start.Add(60 * time.Hour), 3, 98},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api.Lists, api.Gets = 0, 0
			st, err := src.Open(ctx, data.ReadOptions{From: tt.from.UnixNano(), To: tt.to.UnixNano()})
			if err != nil {
				t.Fatal(err)
			}
			evs, _ := readAll(t, st)
			if n := len(s3test.Expected(objs, tt.from, tt.to)); len(evs) != n {
				t.Fatalf("%d events, want %d", len(evs), n)
			}
			if api.Lists != tt.lists || api.Gets != tt.gets {
				t.Fatalf("LIST %d, GET %d; want %d and %d", api.Lists, api.Gets, tt.lists, tt.gets)
			}
		})
	}
}

// lineDiff describes the lines only one of a and b holds ("" if none).
func lineDiff(a, b []string) string {
	count := map[string]int{}
	for _, l := range a {
		count[l]++
	}
	for _, l := range b {
		count[l]--
	}
	out := ""
	for l, n := range count {
		if n != 0 {
			out += fmt.Sprintf("%+d %s\n", n, l)
		}
	}
	return out
}

func TestIntegrationRangedReads(t *testing.T) {
	endpoint, b := realBucket(t)
	ctx := context.Background()
	client := s3test.EnvClient(endpoint)
	f := testFormat(t, "c1")
	objs := s3test.Archive{Format: f, Start: start, Hours: 1, ObjectsPerHour: 2, Nodes: 1, EventsPerObject: 2500,
		Compression: []string{"none", "gzip"}}.Build()
	s3test.Upload(ctx, t, client, b, objs)
	api := &s3test.CountingAPI{Client: client}
	src, err := New(ctx, "s3://"+b+"/", Options{Client: api, KeyFormat: f, Span: 30 * time.Minute,
		RangeThreshold: 64 << 10, PartSize: 50 << 10, RangeConcurrency: 3})
	if err != nil {
		t.Fatal(err)
	}
	st, err := src.Open(ctx, data.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, rejs := readAll(t, st)
	if len(rejs) > 0 {
		t.Fatal(rejs)
	}
	checkSame(t, got, s3test.Expected(objs, time.Time{}, time.Time{}))
	if api.Gets <= len(objs) {
		t.Fatalf("%d GETs for %d objects: no range requests", api.Gets, len(objs))
	}
}

// An object replaced between listing and reading fails the ranged read
// (If-Match on the listed ETag) instead of mixing two versions.
func TestIntegrationObjectReplacedDuringRead(t *testing.T) {
	endpoint, b := realBucket(t)
	ctx := context.Background()
	client := s3test.EnvClient(endpoint)
	f := testFormat(t, "c1")
	objs := s3test.Archive{Format: f, Start: start, Hours: 1, ObjectsPerHour: 1, Nodes: 1, EventsPerObject: 2000}.Build()
	s3test.Upload(ctx, t, client, b, objs)
	src, err := New(ctx, "s3://"+b+"/", Options{Client: client, KeyFormat: f, RangeThreshold: 64 << 10, PartSize: 50 << 10})
	if err != nil {
		t.Fatal(err)
	}
	l, err := src.List(ctx, 0, 0)
	if err != nil || len(l.Objects) != 1 {
		t.Fatalf("list: %v %d", err, len(l.Objects))
	}
	changed := append([]byte("{}\n"), objs[0].Body...)
	s3test.Put(ctx, t, client, b, objs[0].Key, changed, "")
	_, err = src.Download(ctx, l.Objects[0], io.Discard)
	if err == nil || !strings.Contains(err.Error(), "changed while it was being read") {
		t.Fatalf("Download of a replaced object: %v", err)
	}
}

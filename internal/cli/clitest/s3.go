package clitest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/audittui/audittui/internal/data/source/s3/s3key"
	"github.com/audittui/audittui/internal/data/source/s3/s3test"
	"github.com/audittui/audittui/internal/testutil"
)

// S3World is an S3 server with a small Fluent Bit style archive of one
// cluster: plain and gzip objects, two nodes, 30 hours.
type S3World struct {
	Endpoint string
	Client   *s3.Client
	Bucket   string
	Objects  []s3test.Object
	Start    time.Time
	Counter  *s3test.Counter // nil on a real server
}

// NewS3World uploads the archive to an in-process fake, or with real to
// the S3-compatible server AUDITTUI_S3_ENDPOINT names (skipping without
// it, failing in CI). It points the AWS SDK's environment at the server.
func NewS3World(t *testing.T, real bool) *S3World {
	t.Helper()
	w := &S3World{Start: time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC)}
	if real {
		w.Endpoint = testutil.Env(t, "AUDITTUI_S3_ENDPOINT", "versitygw (scripts/versitygw.sh start)")
		w.Client = s3test.EnvClient(w.Endpoint)
		w.Bucket = fmt.Sprintf("audittui-cli-%d", time.Now().UnixNano())
	} else {
		fake := s3test.NewFake(t)
		w.Endpoint, w.Client, w.Counter, w.Bucket = fake.URL, fake.Client, fake.Counter, "kubernetes-audit-logs"
		t.Setenv("AWS_ACCESS_KEY_ID", "test")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	}
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	f, err := s3key.Parse(s3key.DefaultFormat, s3key.ParseOptions{LookupEnv: func(string) (string, bool) { return "c1", true }})
	if err != nil {
		t.Fatal(err)
	}
	// One object per node every 15 minutes: the default --s3-object-span.
	w.Objects = s3test.Archive{Format: f, Start: w.Start, Hours: 30, ObjectsPerHour: 4, Nodes: 2, EventsPerObject: 3,
		Compression: []string{"gzip", "none"}}.Build()
	s3test.Upload(context.Background(), t, w.Client, w.Bucket, w.Objects)
	return w
}

// LocalCopy writes the archive's events as plain local files, one per
// object (what a reviewer would have on disk), and returns their directory.
func (w *S3World) LocalCopy(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for i, o := range w.Objects {
		var b bytes.Buffer
		for _, e := range o.Events {
			b.Write(e.Line)
			b.WriteByte('\n')
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("obj%04d.log", i)), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// LineDiff describes the lines only one of a and b holds ("" if none).
func LineDiff(a, b string) string {
	count := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(a), "\n") {
		count[l]++
	}
	for _, l := range strings.Split(strings.TrimSpace(b), "\n") {
		count[l]--
	}
	var out []string
	for l, n := range count {
		if n > 0 {
			out = append(out, "only in the first: "+l)
		} else if n < 0 {
			out = append(out, "only in the second: "+l)
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

var stageRE = regexp.MustCompile(`"stageTimestamp":"([^"]+)"`)

// StageTimes returns the stage timestamps of the output lines, or nil when
// they are not in order.
func StageTimes(t *testing.T, out string) []string {
	t.Helper()
	var ts []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		m := stageRE.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("no stageTimestamp in %q", l)
		}
		if len(ts) > 0 && m[1] < ts[len(ts)-1] {
			return nil
		}
		ts = append(ts, m[1])
	}
	return ts
}

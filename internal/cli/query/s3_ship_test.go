package query

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/cli/clitest"
	"github.com/audittui/audittui/internal/data/source/s3/s3key"
	"github.com/audittui/audittui/internal/data/source/s3/s3test"
	"github.com/audittui/audittui/internal/ship/pipe"
	"github.com/audittui/audittui/internal/ship/process"
	"github.com/audittui/audittui/internal/ship/s3sink"
)

// Archives written by audittui's own ship S3 sink (gzip, keys from the
// seed's S3_key_format) next to objects written by hand in Fluent Bit's
// layout are read back by `audittui query s3://...` exactly as the same
// events from local files.
func TestS3ReadsShipSinkArchives(t *testing.T) { testShipSinkArchives(t, false) }

func TestS3IntegrationReadsShipSinkArchives(t *testing.T) { testShipSinkArchives(t, true) }

func testShipSinkArchives(t *testing.T, real bool) {
	w := clitest.NewS3World(t, real) // node objects written by hand, cluster c1
	ctx := context.Background()
	format, err := s3key.Parse(s3key.DefaultFormat, s3key.ParseOptions{LookupEnv: func(string) (string, bool) { return "c1", true }})
	if err != nil {
		t.Fatal(err)
	}
	// A third node ships through the sink: the same kind of events, a
	// chunk per 15 minutes (one batch each; TotalFileSize 1 closes a chunk
	// after every batch).
	shipped := s3test.Archive{Format: format, Start: w.Start.Add(7 * time.Second), Hours: 30, ObjectsPerHour: 4, Nodes: 1,
		EventsPerObject: 3}.Build()
	sink, err := s3sink.New(s3sink.Options{Client: w.Client, Bucket: w.Bucket, Format: format, StoreDir: t.TempDir(),
		TotalFileSize: 1, UploadTimeout: time.Hour, Gzip: true, MinBackoff: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	in := make(chan *pipe.Batch, len(shipped))
	acked := 0
	for i, o := range shipped {
		b := &pipe.Batch{Seq: uint64(i + 1)}
		for _, e := range o.Events {
			b.Records = append(b.Records, process.Record{Line: e.Line, Time: e.Time.UnixNano()})
			b.LineBytes += int64(len(e.Line))
		}
		in <- b
	}
	close(in)
	if err := sink.Run(ctx, in, func(bs ...*pipe.Batch) { acked += len(bs) }); err != nil {
		t.Fatalf("sink: %v", err)
	}
	if acked != len(shipped) {
		t.Fatalf("sink acknowledged %d of %d batches", acked, len(shipped))
	}

	// The same events, all nodes, as local files.
	local := w.LocalCopy(t)
	for i, o := range shipped {
		var b []byte
		for _, e := range o.Events {
			b = append(append(b, e.Line...), '\n')
		}
		if err := os.WriteFile(filepath.Join(local, fmt.Sprintf("shipped%04d.log", i)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	from := w.Start.Add(20 * time.Hour).Format(time.RFC3339)
	to := w.Start.Add(23*time.Hour + 30*time.Minute).Format(time.RFC3339)
	q := `{job="audit"} | json | verb=~"delete|create"`
	code, s3out, s3err := queryCLI(t, "-o", "raw", "--from", from, "--to", to, "--s3-endpoint", w.Endpoint, q,
		"s3://"+w.Bucket+"/audit-logs/c1/")
	if code != 0 {
		t.Fatalf("query over S3: exit %d: %s", code, s3err)
	}
	code, fileOut, fileErr := queryCLI(t, "-o", "raw", "--from", from, "--to", to, q, local)
	if code != 0 {
		t.Fatalf("query over files: exit %d: %s", code, fileErr)
	}
	if s3out == "" {
		t.Fatal("no events selected")
	}
	if d := clitest.LineDiff(s3out, fileOut); d != "" {
		t.Fatalf("S3 (first) and local files (second) differ:\n%s", d)
	}
	if clitest.StageTimes(t, s3out) == nil {
		t.Fatal("S3 output not in time order")
	}
}

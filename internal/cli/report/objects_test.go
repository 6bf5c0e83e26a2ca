package report

import (
	"context"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/audittui/audittui/internal/casefile"
	"github.com/audittui/audittui/internal/cli/clitest"
	"github.com/audittui/audittui/internal/cli/cmdutil"
	s3src "github.com/audittui/audittui/internal/data/source/s3"
	"github.com/audittui/audittui/internal/data/source/s3/s3key"
	"github.com/audittui/audittui/internal/data/source/s3/s3test"
)

// TestReportS3Objects: the case records each S3 object a session read
// (ETag, size, LastModified, sha256 as stored); the report judges each
// again: unchanged, CHANGED when it was overwritten, GONE when deleted,
// and an object uploaded under the prefix since is NEW: each a problem,
// exit 1, for a session whose window had ended (review K3: S3 objects
// were hashed but compared with nothing). Against gofakes3.
func TestReportS3Objects(t *testing.T) { testReportS3Objects(t, false) }

// TestReportS3IntegrationObjects is TestReportS3Objects against versitygw
// (scripts/versitygw.sh start).
func TestReportS3IntegrationObjects(t *testing.T) { testReportS3Objects(t, true) }

func testReportS3Objects(t *testing.T, real bool) {
	w := clitest.NewS3World(t, real)
	ctx := context.Background()
	format, err := s3key.Parse(s3key.DefaultFormat, s3key.ParseOptions{UnsetAsWildcard: true, LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	arg := "s3://" + w.Bucket + "/audit-logs/c1/"
	src, err := s3src.New(ctx, arg, s3src.Options{Client: w.Client, KeyFormat: format})
	if err != nil {
		t.Fatal(err)
	}
	from, to := w.Start.Add(2*time.Hour), w.Start.Add(3*time.Hour)
	prints, err := src.Prints(ctx, from.UnixNano(), to.UnixNano(), true)
	if err != nil || len(prints) < 4 {
		t.Fatalf("%d prints: %v", len(prints), err)
	}
	dir := filepath.Join(t.TempDir(), "case")
	c, err := casefile.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	c.Author = "alice"
	add(t, c, casefile.Record{Kind: casefile.KindOpen, Sources: []string{arg}, From: &from, To: &to})
	for _, p := range prints {
		if p.SHA256 == "" || p.ETag == "" || p.LastModified.IsZero() {
			t.Fatalf("print %+v", p)
		}
		add(t, c, casefile.Record{Kind: casefile.KindObject, Object: &casefile.SourceObject{URL: p.URL, Source: p.Source, ETag: p.ETag,
			Size: p.Size, LastModified: p.LastModified, SHA256: p.SHA256}})
	}
	report := func() (int, string, string) {
		return reportCmd(t, "--s3-endpoint", w.Endpoint, "--no-alerts", dir)
	}
	code, md, errOut := report()
	if code != 0 || strings.Count(md, " | unchanged since the case recorded it at ") != len(prints) || strings.Contains(md, "NEW") {
		t.Fatalf("as recorded: exit %d %s\n%s", code, errOut, md)
	}

	keyOf := func(url string) string { return strings.TrimPrefix(url, "s3://"+w.Bucket+"/") }
	body := func(url string) []byte {
		for _, o := range w.Objects {
			if o.Key == keyOf(url) {
				return o.Body
			}
		}
		t.Fatalf("no object %s", url)
		return nil
	}
	// Overwritten with another object's bytes; deleted; one planted
	// beside them.
	changed, gone := prints[0].URL, prints[2].URL
	s3test.Put(ctx, t, w.Client, w.Bucket, keyOf(changed), body(prints[1].URL), "")
	if _, err := w.Client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(w.Bucket), Key: aws.String(keyOf(gone))}); err != nil {
		t.Fatal(err)
	}
	planted := "s3://" + w.Bucket + "/" + path.Dir(keyOf(prints[3].URL)) + "/planted.log"
	s3test.Put(ctx, t, w.Client, w.Bucket, keyOf(planted), body(prints[3].URL), "")

	code, md, errOut = report()
	for _, want := range []string{
		"| " + mdCode(changed) + " | `",
		"| **CHANGED: the object changed since the case recorded it at ",
		"by alice (ETag " + prints[0].ETag + ", ",
		"| " + mdCode(gone) + " | **GONE** | 0 | **the object is gone: the case recorded it at ",
		"| " + mdCode(planted) + " | `",
		"**NEW: not read by the investigation: no record of the case names this object under " + mdText(arg) + ", and its sessions' windows had ended",
		"- source file " + mdText(changed) + ": the object changed since the case recorded it at ",
		"- source file " + mdText(gone) + ": the object is gone",
		"- source file " + mdText(planted) + ": NEW: not read by the investigation",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if code != cmdutil.ExitInputError || !strings.Contains(errOut, "2 source files changed or gone since the case recorded them; 1 source file or object new") ||
		strings.Count(md, " | unchanged since the case recorded it at ") != len(prints)-2 {
		t.Errorf("exit %d %s", code, errOut)
	}
	if t.Failed() {
		t.Log(md)
	}
}

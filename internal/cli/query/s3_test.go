package query

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/audittui/audittui/internal/cli/clitest"
	"github.com/audittui/audittui/internal/cli/cmdutil"
)

// queryCLI runs `audittui query ARGS...` (stdin a terminal: no events
// there) and returns the exit code and output.
func queryCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ios, out, errOut := clitest.Streams("")
	ios.InTTY = true
	code := clitest.Exec(context.Background(), ios, func(f *cmdutil.Factory) *cobra.Command { return NewCmdQuery(f, nil) }, args...)
	return code, out.String(), errOut.String()
}

func TestS3QueryEqualsLocalFiles(t *testing.T) { testQueryEqualsLocal(t, false) }

func TestS3IntegrationQueryEqualsLocalFiles(t *testing.T) { testQueryEqualsLocal(t, true) }

func testQueryEqualsLocal(t *testing.T, real bool) {
	w := clitest.NewS3World(t, real)
	local := w.LocalCopy(t)
	from := w.Start.Add(5*time.Hour + 17*time.Minute).Format(time.RFC3339)
	to := w.Start.Add(8*time.Hour + 3*time.Minute).Format(time.RFC3339)
	queries := []string{
		`{job="audit"}`,
		`{job="audit"} | json | verb="delete"`,
		`{job="audit"} | json | objectRef_resource="secrets" | user_username=~"alice.*|bob"`,
		`{job="audit"} |= "deployments" | json | responseStatus_code >= 400`,
	}
	for _, q := range queries {
		t.Run(q, func(t *testing.T) {
			if w.Counter != nil {
				w.Counter.Reset()
			}
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
				t.Fatalf("no events selected by %s", q)
			}
			if d := clitest.LineDiff(s3out, fileOut); d != "" {
				t.Fatalf("S3 and local results differ:\n%s", d)
			}
			if clitest.StageTimes(t, s3out) == nil {
				t.Fatal("S3 output not in time order")
			}
			// 05:17 less the object span (15m) .. 08:03 plus skew: hours 05..08.
			if w.Counter != nil {
				if n := w.Counter.Get("LIST"); n != 4 {
					t.Fatalf("LIST calls = %d, want 4 hour prefixes", n)
				}
				if n := w.Counter.Get("WRITE"); n != 0 {
					t.Fatalf("a query made %d write requests", n)
				}
			}
		})
	}
}

func TestS3IntegrationErrors(t *testing.T) {
	w := clitest.NewS3World(t, true)
	code, _, errOut := queryCLI(t, "--s3-endpoint", w.Endpoint, `{job="audit"}`, "s3://no-such-bucket-audittui/x/")
	if code == 0 || !strings.Contains(errOut, `bucket "no-such-bucket-audittui" does not exist`) {
		t.Fatalf("missing bucket: exit %d: %s", code, errOut)
	}
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret")
	code, _, errOut = queryCLI(t, "--s3-endpoint", w.Endpoint, `{job="audit"}`, "s3://"+w.Bucket+"/")
	if code == 0 || !strings.Contains(errOut, "bad credentials") {
		t.Fatalf("bad secret: exit %d: %s", code, errOut)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "nobody")
	code, _, errOut = queryCLI(t, "--s3-endpoint", w.Endpoint, `{job="audit"}`, "s3://"+w.Bucket+"/")
	if code == 0 || !strings.Contains(errOut, "bad credentials") {
		t.Fatalf("unknown access key: exit %d: %s", code, errOut)
	}
	code, _, errOut = queryCLI(t, "--s3-anonymous", "--s3-endpoint", w.Endpoint, `{job="audit"}`, "s3://"+w.Bucket+"/")
	if code == 0 || !strings.Contains(errOut, "access denied") {
		t.Fatalf("anonymous: exit %d: %s", code, errOut)
	}
}

// TestS3QueryQuietLeavesOutListingNotice: -q ("do not print notices")
// keeps the listing's informational notice (keys a window left out by the
// time in their key, as asked) off stderr; without -q it is said.
func TestS3QueryQuietLeavesOutListingNotice(t *testing.T) {
	w := clitest.NewS3World(t, false)
	from := w.Start.Add(5 * time.Hour).Format(time.RFC3339)
	to := w.Start.Add(6 * time.Hour).Format(time.RFC3339)
	const notice = "keys listed were not read, by the time in their key"
	for _, quiet := range []bool{false, true} {
		args := []string{"-o", "raw", "--from", from, "--to", to, "--s3-endpoint", w.Endpoint}
		if quiet {
			args = append(args, "-q")
		}
		args = append(args, `{job="audit"}`, "s3://"+w.Bucket+"/audit-logs/c1/")
		code, out, errOut := queryCLI(t, args...)
		if code != 0 || out == "" {
			t.Fatalf("-q=%v: exit %d, %d bytes out: %s", quiet, code, len(out), errOut)
		}
		if said := strings.Contains(errOut, notice); said == quiet {
			t.Fatalf("-q=%v: the listing notice said=%v:\n%s", quiet, said, errOut)
		}
	}
}

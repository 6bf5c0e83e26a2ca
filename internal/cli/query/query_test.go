package query

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/audittui/audittui/internal/cli/clitest"
	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/termsafe/termsafetest"
	"github.com/audittui/audittui/internal/testutil"
)

func TestQueryFlagsToOptions(t *testing.T) {
	var got *QueryOptions
	code, _, errOut := clitest.Run(t, func(f *cmdutil.Factory) *cobra.Command {
		return NewCmdQuery(f, func(o *QueryOptions) error { got = o; return nil })
	}, "", "-o", "csv", "--from", "2026-11-20", "--to", "2026-11-21", "--limit", "5", "--step", "1m", "-f", "-q", `{job="audit"}`, "a.log", "s3://b/p/")
	if code != 0 || got.Query != `{job="audit"}` || strings.Join(got.Args, ",") != "a.log,s3://b/p/" || got.Output != "csv" || got.Limit != 5 ||
		got.Step != time.Minute || !got.Follow || !got.Quiet || got.Window != (cmdutil.WindowFlags{From: "2026-11-20", To: "2026-11-21"}) {
		t.Fatalf("exit %d (%s), options %+v", code, errOut, got)
	}
	if code, _, errOut := queryCLI(t, "-o", "xml", `{job="audit"}`, "a.log"); code != cmdutil.ExitUsage || !strings.Contains(errOut, "want raw, jsonl, table or csv") {
		t.Fatalf("-o xml: exit %d, stderr %q", code, errOut)
	}
	if code, _, errOut := queryCLI(t, "--limit", "-1", `{job="audit"}`, "a.log"); code != cmdutil.ExitUsage || !strings.Contains(errOut, "--limit -1") {
		t.Fatalf("--limit -1: exit %d, stderr %q", code, errOut)
	}
	if code, _, errOut := queryCLI(t, `{job="audit"} | json | verb=`, "a.log"); code != cmdutil.ExitUsage || !strings.Contains(errOut, "^") {
		t.Fatalf("bad query: exit %d, stderr %q", code, errOut)
	}
}

const hostileLine = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"x-1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/web/pods/p1","verb":"get","user":{"username":"mallory\u001b]52;c;Y3VybA==\u0007\u202e\u009b2J"},"objectRef":{"resource":"pods","namespace":"web","name":"p1\u2066x\u2069"},"sourceIPs":["10.0.0.9"],"responseStatus":{"code":200},"stageTimestamp":"2026-11-20T02:00:00Z"}`

// Table cells and reject messages never carry raw controls; a rejected
// line sets exit status 1 after the results.
func TestQueryTableAndRejects(t *testing.T) {
	code, out, errOut := clitest.Run(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdQuery(f, nil) },
		hostileLine+"\n{\"bad\x1b[2J\n", "-o", "table", `{job="audit"}`)
	if code != cmdutil.ExitInputError {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, s := range []string{out, errOut} {
		if err := termsafetest.CheckLines(s); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(out, `mallory\x1b]52;c;Y3VybA==\x07<U+202E><U+009B>2J`) || !strings.Contains(out, "web/p1<U+2066>x<U+2069>") {
		t.Fatalf("table does not show the hostile text visibly:\n%s", out)
	}
	if !strings.Contains(errOut, "audittui: skipped -:2: ") || !strings.Contains(errOut, "1 input line rejected") {
		t.Fatalf("stderr %q", errOut)
	}
	// -q counts without printing.
	code, _, errOut = clitest.Run(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdQuery(f, nil) }, "{\"bad\n", "-q", `{job="audit"}`)
	if code != cmdutil.ExitInputError || strings.Contains(errOut, "skipped") {
		t.Fatalf("-q: exit %d, stderr %q", code, errOut)
	}
}

func TestQueryMetric(t *testing.T) {
	sample := filepath.Join(testutil.RepoRoot(), "testdata", "sample", "audit.log")
	if _, err := os.Stat(sample); err != nil {
		t.Fatal(err)
	}
	q := `sum by (verb) (count_over_time({job="audit"} | json [1h]))`
	code, out, errOut := queryCLI(t, "-o", "jsonl", q, sample)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var prev float64 = -1
	n := 0
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var s struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		}
		if err := json.Unmarshal([]byte(l), &s); err != nil || s.Metric["verb"] == "" {
			t.Fatalf("line %q (%v)", l, err)
		}
		var v float64
		if err := json.Unmarshal([]byte(s.Value[1].(string)), &v); err != nil {
			t.Fatal(err)
		}
		if prev >= 0 && v > prev {
			t.Fatalf("not highest first: %s", out)
		}
		prev = v
		n++
	}
	if n < 3 {
		t.Fatalf("%d series", n)
	}
	// Over stdin a metric query needs a window: stdin cannot be read twice.
	code, _, errOut = clitest.Run(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdQuery(f, nil) }, hostileLine+"\n", q)
	if code != cmdutil.ExitUsage || !strings.Contains(errOut, "needs a window") {
		t.Fatalf("stdin: exit %d, stderr %q", code, errOut)
	}
}

// Raw lines go to pipes exactly as read; on a terminal each line is
// sanitised (json escapes C0 controls but not C1 or bidi controls).
func TestQueryRawOnATerminal(t *testing.T) {
	// The C1 CSI and the bidi controls raw in the JSON, as JSON allows.
	raw := strings.NewReplacer(`\u202e`, "\u202e", `\u009b`, "\u009b", `\u2066`, "\u2066", `\u2069`, "\u2069").Replace(hostileLine)
	run := func(tty bool) (int, string) {
		ios, out, errOut := clitest.Streams(raw + "\n")
		ios.OutTTY = tty
		code := clitest.Exec(context.Background(), ios, func(f *cmdutil.Factory) *cobra.Command { return NewCmdQuery(f, nil) }, `{job="audit"}`)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		return code, out.String()
	}
	if _, out := run(false); out != raw+"\n" {
		t.Fatalf("piped output changed:\n%q", out)
	}
	_, out := run(true)
	if err := termsafetest.CheckLines(out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `mallory\u001b]52;c;Y3VybA==\u0007<U+202E><U+009B>2J`) || !strings.Contains(out, `p1<U+2066>x<U+2069>`) {
		t.Fatalf("terminal output %q", out)
	}
}

// TestQueryTableMarksForwardedAddresses: the table's SOURCE IP is the
// first address (the sourceIP field, which csv prints), and "via" the
// others when the API server recorded more: the first is X-Forwarded-For's,
// the client's to set; the last is where the connection came from.
func TestQueryTableMarksForwardedAddresses(t *testing.T) {
	line := func(id string, ips string) string {
		return `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"` + id + `","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/payments/secrets","verb":"list","user":{"username":"system:serviceaccount:payments:api"},"sourceIPs":` + ips + `,"objectRef":{"resource":"secrets","namespace":"payments"},"responseStatus":{"code":200},"stageTimestamp":"2026-11-20T02:00:00Z"}`
	}
	in := line("fwd-1", `["10.0.0.7","172.16.4.4","198.51.100.23"]`) + "\n" + line("direct-1", `["10.0.0.7"]`) + "\n"
	code, out, errOut := clitest.Run(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdQuery(f, nil) }, in, "-o", "table", `{job="audit"}`)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	rows := strings.Split(strings.TrimSpace(out), "\n")
	if len(rows) != 3 || !strings.Contains(rows[1], " 10.0.0.7 via 172.16.4.4, 198.51.100.23 ") || !strings.Contains(rows[2], " 10.0.0.7 ") || strings.Contains(rows[2], "via") {
		t.Fatalf("table:\n%s", out)
	}
	_, out, _ = clitest.Run(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdQuery(f, nil) }, in, "-o", "csv", `{job="audit"}`)
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(recs) != 3 || recs[0][11] != "sourceIP" || recs[1][11] != "10.0.0.7" || recs[2][11] != "10.0.0.7" {
		t.Fatalf("csv's sourceIP is not sourceIPs[0] (%v):\n%s", err, out)
	}
}

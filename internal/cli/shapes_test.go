package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/file"
	"github.com/audittui/audittui/internal/data/source/s3/s3test"
	"github.com/audittui/audittui/internal/testutil"
	"github.com/audittui/audittui/internal/ui"
)

// The evidence shapes of testdata/shapes (see its README) through the real
// commands: `audittui query`, `audittui alerts` and the TUI's loader, from
// files, stdin and S3.

func shapeFile(name string) string {
	return filepath.Join(testutil.RepoRoot(), "testdata", "shapes", name)
}

// shapeCases: every fixture, how many events it holds and how many of its
// records are rejected (with a reason naming what they are).
var shapeCases = []struct {
	file            string
	events, rejects int
}{
	{"plain.jsonl", 16, 0},
	{"eks-filter-log-events.json", 16, 0},
	{"eks-firehose.gz", 16, 0},
	{"eks-insights.csv", 16, 0},
	{"pretty.json", 5, 0},
	{"array.json", 6, 0},
	{"concatenated.json", 5, 0},
	{"eventlist-pretty.json", 4, 0},
	{"wrappers.jsonl", 5, 0},
	{"shippers.jsonl", 8, 1},
	{"fluentd-out_file.log", 2, 3},
	{"filebeat-json.jsonl", 2, 2},
	{"aks-pt1h.json", 6, 2},
	{"aks-eventhub.json", 3, 0},
	{"gke-sink.jsonl", 7, 2},
	{"gke-gcloud.json", 7, 2},
}

func shapeCLI(t *testing.T, stdin []byte, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	ios := &cmdutil.IOStreams{In: bytes.NewReader(stdin), Out: &out, ErrOut: &errb, InTTY: stdin == nil}
	code := Main(context.Background(), args, ios)
	return out.String(), errb.String(), code
}

type jsonlRec struct {
	Timestamp *string           `json:"timestamp"`
	Labels    map[string]string `json:"labels"`
	Line      string            `json:"line"`
}

func parseJSONL(t *testing.T, out string) []jsonlRec {
	t.Helper()
	var recs []jsonlRec
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var r jsonlRec
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("bad jsonl line %q: %v", sc.Text(), err)
		}
		recs = append(recs, r)
	}
	return recs
}

func sortedLines(recs []jsonlRec) string {
	var ls []string
	for _, r := range recs {
		ls = append(ls, r.Line)
	}
	sort.Strings(ls)
	return strings.Join(ls, "\n")
}

// TestQueryEveryShape: `audittui query` opens every shape; the four EKS
// forms of the same 16 events give the same answers as the plain log.
func TestQueryEveryShape(t *testing.T) {
	const secrets = `{job="audit"} | json | objectRef_resource="secrets" | verb=~"get|list"`
	var plainAll, plainSecrets string
	for _, tc := range shapeCases {
		out, errOut, code := shapeCLI(t, nil, "query", "-o", "jsonl", `{job="audit"} | json`, shapeFile(tc.file))
		recs := parseJSONL(t, out)
		wantCode := cmdutil.ExitOK
		if tc.rejects > 0 {
			wantCode = cmdutil.ExitInputError
		}
		if len(recs) != tc.events || code != wantCode || strings.Count(errOut, "audittui: skipped ") != tc.rejects {
			t.Errorf("%s: %d events (want %d), exit %d (want %d), stderr:\n%s", tc.file, len(recs), tc.events, code, wantCode, errOut)
			continue
		}
		for _, r := range recs {
			// (Filebeat writes the object it decoded in Go map order.)
			event := strings.HasPrefix(r.Line, `{"kind":"Event"`) || tc.file == "filebeat-json.jsonl" && strings.Contains(r.Line, `,"kind":"Event",`)
			if r.Timestamp == nil || *r.Timestamp == "" || *r.Timestamp == "-" || !event {
				t.Errorf("%s: record %+v", tc.file, r)
			}
		}
		sec, _, _ := shapeCLI(t, nil, "query", "-o", "jsonl", secrets, shapeFile(tc.file))
		switch tc.file {
		case "plain.jsonl":
			plainAll, plainSecrets = sortedLines(recs), sortedLines(parseJSONL(t, sec))
			if len(parseJSONL(t, sec)) < 3 {
				t.Fatalf("the secrets query selects %d plain events: the comparison proves little", len(parseJSONL(t, sec)))
			}
		case "eks-filter-log-events.json", "eks-firehose.gz", "eks-insights.csv":
			if sortedLines(recs) != plainAll {
				t.Errorf("%s: lines differ from plain.jsonl", tc.file)
			}
			if sortedLines(parseJSONL(t, sec)) != plainSecrets {
				t.Errorf("%s: the secrets query answers differently from plain.jsonl", tc.file)
			}
		}
	}
}

// TestQueryShapesFromStdinAndS3 reads the Firehose object and the GKE
// array from stdin and from S3: the same events as from files.
func TestQueryShapesFromStdinAndS3(t *testing.T) {
	fake := s3test.NewFake(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	ctx := context.Background()
	bucket := "evidence"
	s3test.CreateBucket(ctx, t, fake.Client, bucket)
	keys := map[string]string{
		"eks-firehose.gz":   "firehose/2026/11/20/02/audit-stream-1-2026-11-20-02-00-00-7f9e2c4a-1b3d-4e5f-8a6b-9c0d1e2f3a4b",
		"gke-gcloud.json":   "gke/gcloud-export.json",
		"aks-eventhub.json": "aks/eventhub/0/2026/11/20/02/00/capture.json",
	}
	for file, key := range keys {
		b, err := os.ReadFile(shapeFile(file))
		if err != nil {
			t.Fatal(err)
		}
		s3test.Put(ctx, t, fake.Client, bucket, key, b, "")
		fromFile, _, _ := shapeCLI(t, nil, "query", "-o", "jsonl", `{job="audit"} | json`, shapeFile(file))
		fromStdin, _, _ := shapeCLI(t, b, "query", "-o", "jsonl", `{job="audit"} | json`, "-")
		prefix := "s3://" + bucket + "/" + key[:strings.IndexByte(key, '/')+1]
		fromS3, errOut, _ := shapeCLI(t, nil, "query", "-o", "jsonl", "--s3-endpoint", fake.URL, `{job="audit"} | json`, prefix)
		want := sortedLines(parseJSONL(t, fromFile))
		if want == "" {
			t.Fatalf("%s: no events from the file", file)
		}
		if got := sortedLines(parseJSONL(t, fromStdin)); got != want {
			t.Errorf("%s: stdin gives other events than the file", file)
		}
		if got := sortedLines(parseJSONL(t, fromS3)); got != want {
			t.Errorf("%s: S3 (%s) gives other events than the file:\n%s", file, prefix, errOut)
		}
	}
}

// TestAlertsEveryShape: `audittui alerts` (the built-in pack) fires the same
// alerts on the four EKS forms as on the plain log, and the detections
// that read request bodies fire on GKE entries.
func TestAlertsEveryShape(t *testing.T) {
	alerts := func(file string) (string, int) {
		out, errOut, code := shapeCLI(t, nil, "alerts", "-o", "jsonl", shapeFile(file))
		if strings.Contains(errOut, "without a timestamp") {
			t.Errorf("%s: %s", file, errOut)
		}
		return out, code
	}
	plain, code := alerts("plain.jsonl")
	if code != cmdutil.ExitOK || strings.Count(plain, "\n") < 5 {
		t.Fatalf("plain: exit %d, %d alerts", code, strings.Count(plain, "\n"))
	}
	for _, f := range []string{"eks-filter-log-events.json", "eks-firehose.gz", "eks-insights.csv"} {
		if got, code := alerts(f); got != plain || code != cmdutil.ExitOK {
			t.Errorf("%s: exit %d, alerts differ from plain.jsonl:\n%s\nwant\n%s", f, code, got, plain)
		}
	}
	for _, f := range []string{"gke-sink.jsonl", "gke-gcloud.json"} {
		got, code := alerts(f)
		if code != cmdutil.ExitInputError { // two entries are not Kubernetes audit events
			t.Errorf("%s: exit %d", f, code)
		}
		for _, name := range []string{"PrivilegedPodCreated", "HostPIDPodCreated", "ClusterAdminBindingCreated", "PodExecDetected", "SecretAccessed"} {
			if !strings.Contains(got, `"alert":"`+name+`"`) {
				t.Errorf("%s: %s did not fire:\n%s", f, name, got)
			}
		}
	}
	for _, f := range []string{"aks-pt1h.json", "aks-eventhub.json", "wrappers.jsonl", "pretty.json", "array.json", "concatenated.json", "eventlist-pretty.json"} {
		if got, _ := alerts(f); !strings.Contains(got, `"alert":"`) {
			t.Errorf("%s: no alert fired", f)
		}
	}
}

// TestTUILoaderEveryShape loads each shape the way the TUI does (index,
// feed, raw bytes read back for line filters) and checks that its filters
// select what `audittui query` selects.
func TestTUILoaderEveryShape(t *testing.T) {
	queries := []string{
		`{job="audit"} | json | objectRef_resource="secrets"`,
		`{job="audit"} |= "exec" | json`,
		`{job="audit"} | json | responseStatus_code >= 400`,
	}
	for _, tc := range shapeCases {
		src, err := file.New(shapeFile(tc.file), file.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		st, err := data.OpenAll(ctx, []data.Source{src}, data.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		log := slog.New(slog.DiscardHandler)
		ix := ui.NewIndex(t.TempDir(), log)
		feed := ui.NewFeed(ix, log)
		go feed.Run(ctx, st)
		<-feed.Done()
		snap := ix.Snapshot()
		_, reasons := ix.Rejects()
		nrej := 0
		for _, n := range reasons {
			nrej += int(n)
		}
		if snap.Len() != tc.events || nrej != tc.rejects {
			t.Errorf("%s: TUI indexed %d events and %d rejects, want %d and %d", tc.file, snap.Len(), nrej, tc.events, tc.rejects)
		}
		for _, q := range queries {
			f, err := ui.CompileLogQL(q)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := f.Eval(ctx, snap, 0, nil)
			if err != nil {
				t.Fatalf("%s: %s: %v", tc.file, q, err)
			}
			out, _, _ := shapeCLI(t, nil, "query", "-o", "jsonl", q, shapeFile(tc.file))
			if n := len(parseJSONL(t, out)); len(rows) != n {
				t.Errorf("%s: %s: the TUI selects %d events, audittui query %d", tc.file, q, len(rows), n)
			}
		}
		ix.Close()
		cancel()
	}
}

// TestQueryHonestRejects is the example: a literal prefilter must
// not hide broken lines.
func TestQueryHonestRejects(t *testing.T) {
	b, err := os.ReadFile(shapeFile("plain.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	broken := lines[0] + lines[1][:200] + "\n" + lines[2] + "\x00\x00\x00" + lines[3] + strings.Join(lines[4:], "")
	p := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(p, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`{job="audit"}`, `{job="audit"} | json | verb="get"`, `{job="audit"} | json | objectRef_resource="nothing"`, `{job="audit"} |= "no such text"`} {
		out, errOut, code := shapeCLI(t, nil, "query", "-o", "raw", q, p)
		if code != cmdutil.ExitInputError || !strings.Contains(errOut, "audit.log:2: malformed JSON") || !strings.Contains(errOut, "audit.log:4: 3 NUL bytes") {
			t.Errorf("%s: exit %d, stderr:\n%s", q, code, errOut)
		}
		// The event after the NUL bytes is read (evidence-review).
		if q == `{job="audit"}` && !strings.Contains(out, lines[3]) {
			t.Errorf("%s: the event after the NUL bytes is not read:\n%s", q, out)
		}
	}
}

// TestJSONLLineFormatAndUndated: -o jsonl prints the line as line_format
// left it, and no timestamp for an event that has none; a time window, a
// metric query and the alerts say how many undated events they left out,
// name the first, and exit 1 (a gate must not pass on input it could not
// place in time).
func TestJSONLLineFormatAndUndated(t *testing.T) {
	b, err := os.ReadFile(shapeFile("plain.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	undated := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"no-time","verb":"create","user":{"username":"mallory"},"objectRef":{"resource":"pods"}}` + "\n"
	p := filepath.Join(t.TempDir(), "audit.log")
	os.WriteFile(p, append(b, undated...), 0o644)

	out, _, code := shapeCLI(t, nil, "query", "-o", "jsonl", `{job="audit"} | json | line_format "{{.verb}} {{.user_username}}"`, p)
	recs := parseJSONL(t, out)
	if code != cmdutil.ExitOK || len(recs) != 17 {
		t.Fatalf("exit %d, %d records", code, len(recs))
	}
	var sawUndated bool
	for _, r := range recs {
		if strings.HasPrefix(r.Line, "{") {
			t.Fatalf("line_format ignored: %q", r.Line)
		}
		if r.Line == "create mallory" {
			sawUndated = true
			if r.Timestamp != nil {
				t.Errorf("undated event printed with timestamp %q", *r.Timestamp)
			}
		} else if r.Timestamp == nil {
			t.Errorf("dated event %q without timestamp", r.Line)
		}
	}
	if !sawUndated {
		t.Fatal("the undated event is not listed without a window")
	}
	// With a window, and in a metric query (always windowed), it is left
	// out, counted and cited.
	first := "(the first: " + p + ":17)"
	for _, args := range [][]string{
		{"query", "-o", "jsonl", "--from", "2026-11-20T00:00:00Z", "--to", "2026-11-21T00:00:00Z", `{job="audit"} | json`, p},
		{"query", `sum(count_over_time({job="audit"} | json [1h]))`, p},
		{"policy", "check", "--policy", "../../testdata/seed/audit-policy.yaml", "--from", "2026-11-20T00:00:00Z", p},
	} {
		out, errOut, code := shapeCLI(t, nil, args...)
		if code != cmdutil.ExitInputError || strings.Contains(out, "mallory") || !strings.Contains(errOut, "1 event without a timestamp could not be placed in the time window and was left out "+first) {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
	}
	for _, args := range [][]string{
		{"alerts", "--since", "720h", "--to", "2026-11-21T00:00:00Z", p},
		{"alerts", p},
	} {
		_, errOut, code := shapeCLI(t, nil, args...)
		if code != cmdutil.ExitInputError || !strings.Contains(errOut, "1 event without a timestamp was not evaluated: no rule can place it in time "+first) {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
	}
}

// TestTUIGKEExportsOnce: the TUI indexes the sink's and gcloud's exports
// of the same GKE entries, read together, as the sink alone, as query
// counts them (evidence-review): each entry once, the other a duplicate.
func TestTUIGKEExportsOnce(t *testing.T) {
	var srcs []data.Source
	for _, f := range []string{"gke-gcloud.json", "gke-sink.jsonl"} {
		src, err := file.New(shapeFile(f), file.Options{})
		if err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, src)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := data.OpenAll(ctx, srcs, data.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	ix := ui.NewIndex(t.TempDir(), log)
	defer ix.Close()
	feed := ui.NewFeed(ix, log)
	go feed.Run(ctx, st)
	<-feed.Done()
	out, _, _ := shapeCLI(t, nil, "query", "-o", "jsonl", `{job="audit"}`, shapeFile("gke-sink.jsonl"), shapeFile("gke-gcloud.json"))
	if _, n := ix.Duplicates(); ix.Snapshot().Len() != 7 || n != 7 || len(parseJSONL(t, out)) != 7 {
		t.Errorf("the TUI indexed %d events, %d duplicates; query %d events; want 7, 7 and 7", ix.Snapshot().Len(), n, len(parseJSONL(t, out)))
	}
}

package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/spf13/pflag"

	"github.com/audittui/audittui/internal/data/source"
	s3src "github.com/audittui/audittui/internal/data/source/s3"
	"github.com/audittui/audittui/internal/data/source/s3/s3key"
	"github.com/audittui/audittui/internal/data/source/s3/s3test"
	"github.com/audittui/audittui/internal/testutil"
)

// exportCLI runs audittui with args and returns the exit code and output.
func exportCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, &IO{In: strings.NewReader(""), Out: &out, Err: &errb, InTTY: true})
	return code, out.String(), errb.String()
}

// s3World is an S3 server with a small Fluent Bit style archive of one
// cluster: plain and gzip objects, two nodes, 30 hours.
type s3World struct {
	endpoint string
	client   *s3.Client
	bucket   string
	objs     []s3test.Object
	start    time.Time
	counter  *s3test.Counter // nil on a real server
}

func newS3World(t *testing.T, real bool) *s3World {
	t.Helper()
	w := &s3World{start: time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC)}
	if real {
		w.endpoint = testutil.Env(t, "AUDITTUI_S3_ENDPOINT", "versitygw (scripts/versitygw.sh start)")
		w.client = s3test.EnvClient(w.endpoint)
		w.bucket = fmt.Sprintf("audittui-cli-%d", time.Now().UnixNano())
	} else {
		fake := s3test.NewFake(t)
		w.endpoint, w.client, w.counter, w.bucket = fake.URL, fake.Client, fake.Counter, "kubernetes-audit-logs"
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
	w.objs = s3test.Archive{Format: f, Start: w.start, Hours: 30, ObjectsPerHour: 4, Nodes: 2, EventsPerObject: 3,
		Compression: []string{"gzip", "none"}}.Build()
	s3test.Upload(context.Background(), t, w.client, w.bucket, w.objs)
	return w
}

// localCopy writes the archive's events as plain local files, one per
// object (what a reviewer would have on disk).
func (w *s3World) localCopy(t *testing.T) string {
	dir := t.TempDir()
	for i, o := range w.objs {
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

func TestS3QueryEqualsLocalFiles(t *testing.T) { testQueryEqualsLocal(t, false) }

func TestS3IntegrationQueryEqualsLocalFiles(t *testing.T) { testQueryEqualsLocal(t, true) }

func testQueryEqualsLocal(t *testing.T, real bool) {
	if c, _, err := NewRootCmd(&IO{}).Find([]string{"query"}); err != nil || c.Name() != "query" {
		t.Skip("the query command is not registered in this build")
	}
	w := newS3World(t, real)
	local := w.localCopy(t)
	from := w.start.Add(5*time.Hour + 17*time.Minute).Format(time.RFC3339)
	to := w.start.Add(8*time.Hour + 3*time.Minute).Format(time.RFC3339)
	queries := []string{
		`{job="audit"}`,
		`{job="audit"} | json | verb="delete"`,
		`{job="audit"} | json | objectRef_resource="secrets" | user_username=~"alice.*|bob"`,
		`{job="audit"} |= "deployments" | json | responseStatus_code >= 400`,
	}
	for _, q := range queries {
		t.Run(q, func(t *testing.T) {
			if w.counter != nil {
				w.counter.Reset()
			}
			code, s3out, s3err := exportCLI(t, "query", "-o", "raw", "--from", from, "--to", to, "--s3-endpoint", w.endpoint, q,
				"s3://"+w.bucket+"/audit-logs/c1/")
			if code != 0 {
				t.Fatalf("query over S3: exit %d: %s", code, s3err)
			}
			code, fileOut, fileErr := exportCLI(t, "query", "-o", "raw", "--from", from, "--to", to, q, local)
			if code != 0 {
				t.Fatalf("query over files: exit %d: %s", code, fileErr)
			}
			if s3out == "" {
				t.Fatalf("no events selected by %s", q)
			}
			if d := lineDiff(s3out, fileOut); d != "" {
				t.Fatalf("S3 and local results differ:\n%s", d)
			}
			if times(t, s3out) == nil {
				t.Fatal("S3 output not in time order")
			}
			// 05:17 less the object span (15m) .. 08:03 plus skew: hours 05..08.
			if w.counter != nil {
				if n := w.counter.Get("LIST"); n != 4 {
					t.Fatalf("LIST calls = %d, want 4 hour prefixes", n)
				}
				if n := w.counter.Get("WRITE"); n != 0 {
					t.Fatalf("a query made %d write requests", n)
				}
			}
		})
	}
}

// lineDiff describes the lines only one of a and b holds ("" if none).
func lineDiff(a, b string) string {
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

// times returns the stage timestamps of the output lines, or nil when they
// are not in order.
func times(t *testing.T, out string) []string {
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

func TestS3ExportAndVerify(t *testing.T) { testExportVerify(t, false) }

func TestS3IntegrationExportAndVerify(t *testing.T) { testExportVerify(t, true) }

func testExportVerify(t *testing.T, real bool) {
	w := newS3World(t, real)
	dir := filepath.Join(t.TempDir(), "case")
	fromT := w.start.Add(10 * time.Hour)
	toT := w.start.Add(12 * time.Hour)
	q := `{job="audit"} | json | verb="delete"`
	code, _, errOut := exportCLI(t, "export", "s3://"+w.bucket+"/audit-logs/c1/", "--s3-endpoint", w.endpoint,
		"--from", fromT.Format(time.RFC3339), "--until", toT.Format(time.RFC3339), "--to", dir, q)
	if code != 0 {
		t.Fatalf("export: exit %d: %s", code, errOut)
	}
	man, err := os.ReadFile(filepath.Join(dir, manifestSHA))
	if err != nil {
		t.Fatal(err)
	}
	// Every object whose key time may hold events in the window (from 09:45
	// with the 15-minute span, before 12:05 with the skew) was copied as stored.
	byKey := map[string]s3test.Object{}
	for _, o := range w.objs {
		byKey[o.Key] = o
	}
	objects := 0
	for _, line := range strings.Split(strings.TrimSpace(string(man)), "\n") {
		sum, path, err := parseShaLine(line)
		if err != nil {
			t.Fatalf("manifest line %q: %v", line, err)
		}
		if path == eventsFile {
			continue
		}
		key := strings.TrimPrefix(path, "objects/"+w.bucket+"/")
		o, ok := byKey[key]
		if !ok {
			t.Fatalf("manifest lists %s, not an archive object", path)
		}
		got, err := os.ReadFile(filepath.Join(dir, path))
		if err != nil || !bytes.Equal(got, o.Body) {
			t.Fatalf("%s: copy differs from the object as stored (%v)", path, err)
		}
		if sum != sha256hex(o.Body) {
			t.Fatalf("%s: manifest sha256 %s", path, sum)
		}
		objects++
	}
	// Key times 09:45 (may hold events up to 10:00) to 12:00 (skew), two nodes.
	if objects != 2*10 {
		t.Fatalf("%d objects exported for a 2-hour window, want 20", objects)
	}
	// events.jsonl: the deletes of the window, in time order.
	ev, err := os.ReadFile(filepath.Join(dir, eventsFile))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, e := range s3test.Expected(w.objs, fromT, toT) {
		if bytes.Contains(e.Line, []byte(`"verb":"delete"`)) {
			want = append(want, string(e.Line))
		}
	}
	if d := lineDiff(string(ev), strings.Join(want, "\n")); len(want) == 0 || d != "" || times(t, string(ev)) == nil {
		t.Fatalf("events.jsonl (first) differs from the expected events (second), or is out of order:\n%s", d)
	}
	js, err := os.ReadFile(filepath.Join(dir, manifestJSON))
	if err != nil || !bytes.Contains(js, []byte(`"etag"`)) || !bytes.Contains(js, []byte(`"exported_at"`)) ||
		!bytes.Contains(js, []byte(`"s3://`+w.bucket+`/audit-logs/c1/2026/02/10/10/`)) {
		t.Fatalf("MANIFEST.json lacks keys, ETags or the export time (%v):\n%.600s", err, js)
	}

	// verify: clean, then tampered.
	code, out, errOut := exportCLI(t, "verify", dir)
	if code != 0 || !strings.Contains(errOut, fmt.Sprintf("%d ok, 0 mismatched, 0 missing", objects+1)) {
		t.Fatalf("verify clean: exit %d\n%s%s", code, out, errOut)
	}
	if sha, err := exec.LookPath("sha256sum"); err == nil {
		cmd := exec.Command(sha, "--quiet", "--strict", "-c", manifestSHA)
		cmd.Dir = dir
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("sha256sum -c: %v\n%s", err, b)
		}
	}
	var firstObj string
	filepath.WalkDir(filepath.Join(dir, "objects"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && firstObj == "" {
			firstObj = p
		}
		return nil
	})
	b, _ := os.ReadFile(firstObj)
	b[len(b)/2] ^= 0x01
	os.WriteFile(firstObj, b, 0o644)
	os.Remove(filepath.Join(dir, eventsFile))
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("added later\n"), 0o644)
	code, out, _ = exportCLI(t, "verify", dir)
	if code != ExitInputError {
		t.Fatalf("verify tampered: exit %d, want 1\n%s", code, out)
	}
	for _, w := range []string{"MISMATCH  objects/", "MISSING  events.jsonl", "EXTRA  notes.txt"} {
		if !strings.Contains(out, w) {
			t.Errorf("verify output lacks %q:\n%s", w, out)
		}
	}
	// A second export into the same directory is refused.
	code, _, errOut = exportCLI(t, "export", "s3://"+w.bucket+"/audit-logs/c1/", "--s3-endpoint", w.endpoint, "--since", "1h", "--to", dir)
	if code != ExitUsage || !strings.Contains(errOut, "already holds an export") {
		t.Fatalf("re-export: exit %d: %s", code, errOut)
	}
}

func TestS3IntegrationErrors(t *testing.T) {
	w := newS3World(t, true)
	code, _, errOut := exportCLI(t, "query", "--s3-endpoint", w.endpoint, `{job="audit"}`, "s3://no-such-bucket-audittui/x/")
	if code == 0 || !strings.Contains(errOut, `bucket "no-such-bucket-audittui" does not exist`) {
		t.Fatalf("missing bucket: exit %d: %s", code, errOut)
	}
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret")
	code, _, errOut = exportCLI(t, "query", "--s3-endpoint", w.endpoint, `{job="audit"}`, "s3://"+w.bucket+"/")
	if code == 0 || !strings.Contains(errOut, "bad credentials") {
		t.Fatalf("bad secret: exit %d: %s", code, errOut)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "nobody")
	code, _, errOut = exportCLI(t, "query", "--s3-endpoint", w.endpoint, `{job="audit"}`, "s3://"+w.bucket+"/")
	if code == 0 || !strings.Contains(errOut, "bad credentials") {
		t.Fatalf("unknown access key: exit %d: %s", code, errOut)
	}
	code, _, errOut = exportCLI(t, "query", "--s3-anonymous", "--s3-endpoint", w.endpoint, `{job="audit"}`, "s3://"+w.bucket+"/")
	if code == 0 || !strings.Contains(errOut, "access denied") {
		t.Fatalf("anonymous: exit %d: %s", code, errOut)
	}
}

func TestExportLocalFilesAndShaLines(t *testing.T) {
	src := t.TempDir()
	line := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a1","stage":"ResponseComplete","verb":"get","user":{"username":"alice"},"stageTimestamp":"2026-02-10T10:00:00.000000Z"}`
	os.WriteFile(filepath.Join(src, "audit.log"), []byte(line+"\n"), 0o644)
	dir := filepath.Join(t.TempDir(), "out")
	code, _, errOut := exportCLI(t, "export", filepath.Join(src, "audit.log"), "--to", dir, `{job="audit"} | json | user_username="alice"`)
	if code != 0 {
		t.Fatalf("export: exit %d: %s", code, errOut)
	}
	ev, _ := os.ReadFile(filepath.Join(dir, eventsFile))
	if string(ev) != line+"\n" {
		t.Fatalf("events.jsonl = %q", ev)
	}
	if code, out, errOut := exportCLI(t, "verify", dir); code != 0 {
		t.Fatalf("verify: %d %s %s", code, out, errOut)
	}
	for _, p := range []string{"a/b.json", "we\\ird\nname", "x\r"} {
		sum, got, err := parseShaLine(strings.TrimSuffix(shaLine(strings.Repeat("ab", 32), p), "\n"))
		if err != nil || got != p || sum != strings.Repeat("ab", 32) {
			t.Errorf("sha line round trip of %q = %q %v", p, got, err)
		}
	}
	for in, want := range map[string]string{"/a/../b": "a/%2E%2E/b", "../../etc/passwd": "%2E%2E/%2E%2E/etc/passwd", "//x//y/": "x/y", "": "_",
		"a/[b]*?.json": "a/%5Bb]%2A%3F.json", "100%/x": "100%25/x"} {
		if got := safeRel(in); got != want {
			t.Errorf("safeRel(%q) = %q, want %q", in, got, want)
		}
	}
	if code, _, errOut := exportCLI(t, "verify", t.TempDir()); code != ExitUsage || !strings.Contains(errOut, "no MANIFEST.sha256") {
		t.Fatalf("verify of an empty dir: %d %s", code, errOut)
	}
}

func sha256hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// glacierAPI reports every other listed object as GLACIER (test servers
// do not keep storage classes) and refuses to get those.
type glacierAPI struct {
	*s3.Client
	glacier map[string]bool
}

func (g *glacierAPI) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, fns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	out, err := g.Client.ListObjectsV2(ctx, in, fns...)
	if err != nil {
		return nil, err
	}
	for i := range out.Contents {
		if i%2 == 1 {
			out.Contents[i].StorageClass = types.ObjectStorageClassDeepArchive
			g.glacier[*out.Contents[i].Key] = true
		}
	}
	return out, nil
}

func (g *glacierAPI) GetObject(ctx context.Context, in *s3.GetObjectInput, fns ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	if g.glacier[*in.Key] {
		return nil, &smithy.GenericAPIError{Code: "InvalidObjectState", Message: "restore first"}
	}
	return g.Client.GetObject(ctx, in, fns...)
}

func TestExportSkipsArchivedObjects(t *testing.T) {
	w := newS3World(t, false)
	api := &glacierAPI{Client: w.client, glacier: map[string]bool{}}
	set := source.New(pflag.NewFlagSet("x", pflag.ContinueOnError), source.Options{S3Client: api})
	srcs, _, err := set.Resolve(context.Background(), []string{"s3://" + w.bucket + "/audit-logs/c1/"})
	if err != nil {
		t.Fatal(err)
	}
	src := srcs[0].(*s3src.Source)
	var errb bytes.Buffer
	ex := &exporter{io: &IO{Err: &errb}, dir: t.TempDir()}
	from, to := w.start.Add(time.Hour), w.start.Add(2*time.Hour)
	paths, err := ex.copyS3(context.Background(), src, from.UnixNano(), to.UnixNano())
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 || len(ex.man.Skipped) == 0 || ex.problems != len(ex.man.Skipped) {
		t.Fatalf("%d copied, %d skipped, %d problems", len(paths), len(ex.man.Skipped), ex.problems)
	}
	for _, s := range ex.man.Skipped {
		if !api.glacier[strings.TrimPrefix(s.Source, "s3://"+w.bucket+"/")] || !strings.Contains(s.Reason, "DEEP_ARCHIVE: restore it first") {
			t.Fatalf("skipped entry %+v", s)
		}
	}
	if !strings.Contains(errb.String(), "not exported: archived in storage class DEEP_ARCHIVE") {
		t.Fatalf("stderr: %s", errb.String())
	}
}

package evidence

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/spf13/cobra"

	"github.com/audittui/audittui/internal/cli/clitest"
	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/cli/query"
	s3src "github.com/audittui/audittui/internal/data/source/s3"
	"github.com/audittui/audittui/internal/data/source/s3/s3key"
	"github.com/audittui/audittui/internal/data/source/s3/s3test"
	"github.com/audittui/audittui/internal/evidence"
)

func exportCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return clitest.Run(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdExport(f, nil) }, "", args...)
}

func verifyCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return clitest.Run(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdVerify(f, nil) }, "", args...)
}

func TestS3ExportAndVerify(t *testing.T) { testExportVerify(t, false) }

func TestS3IntegrationExportAndVerify(t *testing.T) { testExportVerify(t, true) }

func testExportVerify(t *testing.T, real bool) {
	w := clitest.NewS3World(t, real)
	dir := filepath.Join(t.TempDir(), "case")
	fromT := w.Start.Add(10 * time.Hour)
	toT := w.Start.Add(12 * time.Hour)
	q := `{job="audit"} | json | verb="delete"`
	code, _, errOut := exportCmd(t, "s3://"+w.Bucket+"/audit-logs/c1/", "--s3-endpoint", w.Endpoint,
		"--from", fromT.Format(time.RFC3339), "--to", toT.Format(time.RFC3339), "--dir", dir, q)
	if code != 0 {
		t.Fatalf("export: exit %d: %s", code, errOut)
	}
	man, err := os.ReadFile(filepath.Join(dir, evidence.ManifestSHA))
	if err != nil {
		t.Fatal(err)
	}
	// Every object whose key time may hold events in the window (from 09:45
	// with the 15-minute span, before 12:05 with the skew) was copied as stored.
	byKey := map[string]s3test.Object{}
	for _, o := range w.Objects {
		byKey[o.Key] = o
	}
	objects := 0
	for _, line := range strings.Split(strings.TrimSpace(string(man)), "\n") {
		sum, path, err := evidence.ParseShaLine(line)
		if err != nil {
			t.Fatalf("manifest line %q: %v", line, err)
		}
		if path == evidence.EventsFile || path == evidence.EventsIndexFile || path == evidence.ManifestJSON {
			continue
		}
		key := strings.TrimPrefix(path, "objects/"+w.Bucket+"/")
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
	ev, err := os.ReadFile(filepath.Join(dir, evidence.EventsFile))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, e := range s3test.Expected(w.Objects, fromT, toT) {
		if bytes.Contains(e.Line, []byte(`"verb":"delete"`)) {
			want = append(want, string(e.Line))
		}
	}
	if d := clitest.LineDiff(string(ev), strings.Join(want, "\n")); len(want) == 0 || d != "" || clitest.StageTimes(t, string(ev)) == nil {
		t.Fatalf("events.jsonl (first) differs from the expected events (second), or is out of order:\n%s", d)
	}
	js, err := os.ReadFile(filepath.Join(dir, evidence.ManifestJSON))
	if err != nil || !bytes.Contains(js, []byte(`"etag"`)) || !bytes.Contains(js, []byte(`"exported_at"`)) ||
		!bytes.Contains(js, []byte(`"s3://`+w.Bucket+`/audit-logs/c1/2026/02/10/10/`)) {
		t.Fatalf("MANIFEST.json lacks keys, ETags or the export time (%v):\n%.600s", err, js)
	}

	// verify: clean, then tampered.
	code, out, errOut := verifyCmd(t, dir)
	if code != 0 || !strings.Contains(errOut, fmt.Sprintf("%d ok, 0 mismatched, 0 missing", objects+3)) {
		t.Fatalf("verify clean: exit %d\n%s%s", code, out, errOut)
	}
	if sha, err := exec.LookPath("sha256sum"); err == nil {
		cmd := exec.Command(sha, "--quiet", "--strict", "-c", evidence.ManifestSHA)
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
	os.Remove(filepath.Join(dir, evidence.EventsFile))
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("added later\n"), 0o644)
	code, out, _ = verifyCmd(t, dir)
	if code != cmdutil.ExitInputError {
		t.Fatalf("verify tampered: exit %d, want 1\n%s", code, out)
	}
	for _, w := range []string{"MISMATCH  objects/", "MISSING  events.jsonl", "EXTRA  notes.txt"} {
		if !strings.Contains(out, w) {
			t.Errorf("verify output lacks %q:\n%s", w, out)
		}
	}
	// A second export into the same directory is refused.
	code, _, errOut = exportCmd(t, "s3://"+w.Bucket+"/audit-logs/c1/", "--s3-endpoint", w.Endpoint, "--since", "1h", "--dir", dir)
	if code != cmdutil.ExitUsage || !strings.Contains(errOut, "already holds an export") {
		t.Fatalf("re-export: exit %d: %s", code, errOut)
	}
}

func TestExportLocalFilesAndShaLines(t *testing.T) {
	src := t.TempDir()
	line := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a1","stage":"ResponseComplete","verb":"get","user":{"username":"alice"},"stageTimestamp":"2026-02-10T10:00:00.000000Z"}`
	os.WriteFile(filepath.Join(src, "audit.log"), []byte(line+"\n"), 0o644)
	dir := filepath.Join(t.TempDir(), "out")
	code, _, errOut := exportCmd(t, filepath.Join(src, "audit.log"), "-d", dir, `{job="audit"} | json | user_username="alice"`)
	if code != 0 {
		t.Fatalf("export: exit %d: %s", code, errOut)
	}
	ev, _ := os.ReadFile(filepath.Join(dir, evidence.EventsFile))
	if string(ev) != line+"\n" {
		t.Fatalf("events.jsonl = %q", ev)
	}
	if code, out, errOut := verifyCmd(t, dir); code != 0 {
		t.Fatalf("verify: %d %s %s", code, out, errOut)
	}
	for _, p := range []string{"a/b.json", "we\\ird\nname", "x\r"} {
		sum, got, err := evidence.ParseShaLine(strings.TrimSuffix(evidence.ShaLine(strings.Repeat("ab", 32), p), "\n"))
		if err != nil || got != p || sum != strings.Repeat("ab", 32) {
			t.Errorf("sha line round trip of %q = %q %v", p, got, err)
		}
	}
	for in, want := range map[string]string{"/a/../b": "a/%2E%2E/b", "../../etc/passwd": "%2E%2E/%2E%2E/etc/passwd", "//x//y/": "x/y", "": "_",
		"a/[b]*?.json": "a/%5Bb]%2A%3F.json", "100%/x": "100%25/x"} {
		if got := evidence.SafeRel(in); got != want {
			t.Errorf("evidence.SafeRel(%q) = %q, want %q", in, got, want)
		}
	}
	if code, _, errOut := verifyCmd(t, t.TempDir()); code != cmdutil.ExitUsage || !strings.Contains(errOut, "no MANIFEST.sha256") {
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
	w := clitest.NewS3World(t, false)
	api := &glacierAPI{Client: w.Client, glacier: map[string]bool{}}
	format, err := s3key.Parse(s3key.DefaultFormat, s3key.ParseOptions{UnsetAsWildcard: true, LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	src, err := s3src.New(context.Background(), "s3://"+w.Bucket+"/audit-logs/c1/", s3src.Options{KeyFormat: format, Client: api})
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	dir, err := evidence.Create(t.TempDir(), evidence.Manifest{}, false)
	if err != nil {
		t.Fatal(err)
	}
	ex := &exporter{errOut: &errb, dir: dir}
	from, to := w.Start.Add(time.Hour), w.Start.Add(2*time.Hour)
	paths, err := ex.copyS3(context.Background(), src, from.UnixNano(), to.UnixNano())
	if err != nil {
		t.Fatal(err)
	}
	skipped := dir.Manifest().Skipped
	if len(paths) == 0 || len(skipped) == 0 || ex.problems != len(skipped) {
		t.Fatalf("%d copied, %d skipped, %d problems", len(paths), len(skipped), ex.problems)
	}
	for _, s := range skipped {
		if !api.glacier[strings.TrimPrefix(s.Source, "s3://"+w.Bucket+"/")] || !strings.Contains(s.Reason, "DEEP_ARCHIVE: restore it first") {
			t.Fatalf("skipped entry %+v", s)
		}
	}
	if !strings.Contains(errb.String(), "not exported: archived in storage class DEEP_ARCHIVE") {
		t.Fatalf("stderr: %s", errb.String())
	}
}

func TestExportFlagsToOptions(t *testing.T) {
	run := func(args ...string) (*ExportOptions, int, string) {
		var got *ExportOptions
		ios, _, errOut := clitest.Streams("")
		code := cmdutil.Execute(context.Background(), NewCmdExport(clitest.Factory(ios), func(o *ExportOptions) error { got = o; return nil }), args, ios)
		return got, code, errOut.String()
	}
	q := `{job="audit"} | json | verb="delete"`
	o, code, _ := run("s3://b/p/", "audit.log", "--dir", "case", "--since", "6h", "--to", "2026-11-20T12:00:00Z", "--force", q)
	if code != 0 || o.Dir != "case" || o.Query != q || strings.Join(o.Args, ",") != "s3://b/p/,audit.log" || !o.Force ||
		o.Window != (cmdutil.WindowFlags{Since: 6 * time.Hour, To: "2026-11-20T12:00:00Z"}) {
		t.Fatalf("exit %d, options %+v", code, o)
	}
	if o, _, _ := run("audit.log", "-d", "case"); o.Dir != "case" || o.Query != "" {
		t.Fatalf("-d: %+v", o)
	}
	// --until still sets the end of the window, with a hint on stderr.
	o, code, errOut := run("audit.log", "-d", "case", "--until", "2026-11-20T12:00:00Z")
	if code != 0 || o.Window.To != "2026-11-20T12:00:00Z" || !strings.Contains(errOut, "--until has been deprecated, use --to") {
		t.Fatalf("--until: exit %d, %+v, stderr %q", code, o, errOut)
	}
	// An old command line (--to naming the directory) is told what changed.
	code, _, errOut = exportCmd(t, "audit.log", "--to", "./case-4711")
	if code != cmdutil.ExitUsage || !strings.Contains(errOut, `--to "./case-4711" is not a time`) || !strings.Contains(errOut, "--dir") {
		t.Fatalf("old --to DIR: exit %d, stderr %q", code, errOut)
	}
	if code, _, errOut = exportCmd(t, "audit.log"); code != cmdutil.ExitUsage || !strings.Contains(errOut, "--dir DIR is required") {
		t.Fatalf("no --dir: exit %d, stderr %q", code, errOut)
	}
}

func TestVerifyFlagsToOptions(t *testing.T) {
	var got *VerifyOptions
	code, _, errOut := clitest.Run(t, func(f *cmdutil.Factory) *cobra.Command {
		return NewCmdVerify(f, func(o *VerifyOptions) error { got = o; return nil })
	}, "", "-q", "./case-4711")
	if code != 0 || got.Dir != "./case-4711" || !got.Quiet {
		t.Fatalf("exit %d (%s), options %+v", code, errOut, got)
	}
	if code, _, _ := verifyCmd(t); code != cmdutil.ExitUsage {
		t.Fatalf("verify without DIR: exit %d", code)
	}
}

// TestExportSaysPagedInput: an export of a filter-log-events page (it has
// a nextToken: one page of a longer answer) says so, as query does: the
// copy of the evidence is short of the rest of the answer.
func TestExportSaysPagedInput(t *testing.T) {
	doc, err := os.ReadFile("../../../testdata/shapes/eks-filter-log-events.json")
	if err != nil {
		t.Fatal(err)
	}
	d := bytes.TrimSpace(doc)
	page := append(bytes.Clone(d[:len(d)-1]), "    ,\"nextToken\": \"Bxkq6kVGFtq2y_MoigeqscPOdhXVbhiVtLoAmXb5jCrI\"\n}\n"...)
	p := filepath.Join(t.TempDir(), "fle-next.json")
	if err := os.WriteFile(p, page, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := exportCmd(t, p, "--dir", filepath.Join(t.TempDir(), "case"), `{job="audit"} | json`)
	if code != 0 {
		t.Fatalf("export: exit %d: %s", code, errOut)
	}
	if strings.Count(errOut, "output has nextToken: it is one page of a longer answer") != 1 {
		t.Fatalf("export does not say its input is one page of a longer answer:\n%s", errOut)
	}
}

// TestExportWritesJSONLines (review K 4): events from a pretty-printed
// array and a one-line log are written one per line, compacted, and read
// back by audittui without rejects; events.index.jsonl cites each line's
// original bytes in the copies, with their sha256.
func TestExportWritesJSONLines(t *testing.T) {
	src := t.TempDir()
	ev := func(id, verb string) string {
		return `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"` + id + `","stage":"ResponseComplete","verb":"` + verb +
			`","user":{"username":"alice"},"stageTimestamp":"2026-02-10T10:00:0` + id[1:] + `.000000Z"}`
	}
	os.WriteFile(filepath.Join(src, "audit.log"), []byte(ev("a1", "get")+"\n"), 0o644)
	pretty := "[\n  " + strings.ReplaceAll(ev("a2", "delete"), `","`, "\",\n    \"") + ",\n  " + strings.ReplaceAll(ev("a3", "delete"), `","`, "\",\n    \"") + "\n]\n"
	os.WriteFile(filepath.Join(src, "pretty.json"), []byte(pretty), 0o644)
	dir := filepath.Join(t.TempDir(), "out")
	code, _, errOut := exportCmd(t, filepath.Join(src, "audit.log"), filepath.Join(src, "pretty.json"), "-d", dir, `{job="audit"} | json | user_username="alice"`)
	if code != 0 {
		t.Fatalf("export: exit %d: %s", code, errOut)
	}
	b, _ := os.ReadFile(filepath.Join(dir, evidence.EventsFile))
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 3 || lines[0] != ev("a1", "get") || lines[1] != ev("a2", "delete") || lines[2] != ev("a3", "delete") {
		t.Fatalf("events.jsonl is not one compact event per line:\n%s", b)
	}
	ix, _ := os.ReadFile(filepath.Join(dir, evidence.EventsIndexFile))
	ixl := strings.Split(strings.TrimSuffix(string(ix), "\n"), "\n")
	if len(ixl) != 3 {
		t.Fatalf("events.index.jsonl: %d lines, want 3:\n%s", len(ixl), ix)
	}
	rel, _ := evidence.FilesRel(filepath.Join(src, "pretty.json"))
	var e evidence.IndexEntry
	if err := json.Unmarshal([]byte(ixl[1]), &e); err != nil || e.Line != 2 || !e.Compacted || !strings.HasPrefix(e.Cite, rel+":") {
		t.Fatalf("index line 2 = %s (%v), want line 2 compacted, cited in %s", ixl[1], err, rel)
	}
	// The sha256 is that of the original (pretty) bytes in the copy.
	copyB, _ := os.ReadFile(filepath.Join(dir, rel))
	orig := strings.ReplaceAll(ev("a2", "delete"), `","`, "\",\n    \"")
	if !bytes.Contains(copyB, []byte(orig)) || e.SHA256 != sha256hex([]byte(orig)) || e.Size != len(orig) {
		t.Fatalf("index sha256 %s size %d, want those of the original bytes %s", e.SHA256, e.Size, sha256hex([]byte(orig)))
	}
	// audittui reads its export back: 3 events, no reject.
	code, out, errOut := clitest.Run(t, func(f *cmdutil.Factory) *cobra.Command { return query.NewCmdQuery(f, nil) }, "", "-o", "raw", `{job="audit"} | json`, filepath.Join(dir, evidence.EventsFile))
	if code != 0 || strings.Count(out, "\n") != 3 || strings.Contains(errOut, "rejected") {
		t.Fatalf("query of events.jsonl: exit %d, %d lines:\n%s%s", code, strings.Count(out, "\n"), out, errOut)
	}
	if code, out, errOut := verifyCmd(t, dir); code != 0 {
		t.Fatalf("verify: %d %s %s", code, out, errOut)
	}
}

// TestExportDropsDuplicates (review K 5): over a folder and its copy,
// export writes each event once, as query counts them, and MANIFEST.json
// counts and lists the copies left out (where each was, and where the
// event kept was), the undated events the window left out and the rejects.
func TestExportDropsDuplicates(t *testing.T) {
	root := t.TempDir()
	lines := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"d1","stage":"ResponseComplete","verb":"delete","user":{"username":"alice"},"stageTimestamp":"2026-02-10T10:00:01.000000Z"}
{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"d2","stage":"ResponseComplete","verb":"delete","user":{"username":"alice"},"stageTimestamp":"2026-02-10T10:00:02.000000Z"}
{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"d3","stage":"ResponseComplete","verb":"delete","user":{"username":"alice"}}
not json
`
	for _, d := range []string{"node1", "node1 (copy)"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
		os.WriteFile(filepath.Join(root, d, "audit.log"), []byte(lines), 0o644)
	}
	dir := filepath.Join(t.TempDir(), "out")
	code, _, errOut := exportCmd(t, filepath.Join(root, "node1")+"/", filepath.Join(root, "node1 (copy)")+"/", "--from", "2026-02-10T09:00:00Z", "--to", "2026-02-10T11:00:00Z",
		"-d", dir, `{job="audit"} | json | verb="delete"`)
	if code != cmdutil.ExitInputError || !strings.Contains(errOut, "2 of the matching events were duplicates") {
		t.Fatalf("export: exit %d (want 1: rejects), no word of the duplicates:\n%s", code, errOut)
	}
	b, _ := os.ReadFile(filepath.Join(dir, evidence.EventsFile))
	if n := strings.Count(string(b), "\n"); n != 2 {
		t.Fatalf("events.jsonl holds %d events, want 2 (each once):\n%s", n, b)
	}
	m, err := evidence.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Events != 2 || m.DuplicatesDropped != 2 || len(m.Duplicates) != 2 || m.Undated != 2 || m.Rejected != 2 || len(m.RejectedLines) != 2 {
		t.Fatalf("manifest: events %d, duplicates %d (%d listed), undated %d, rejected %d (%d listed); want 2 each",
			m.Events, m.DuplicatesDropped, len(m.Duplicates), m.Undated, m.Rejected, len(m.RejectedLines))
	}
	c := m.Duplicates[0]
	if !strings.Contains(c.Cite, "node1 (copy)/audit.log:") || !strings.Contains(c.Of, "/node1/audit.log:") || c.Line == 0 || strings.HasPrefix(c.Cite, dir) {
		t.Fatalf("duplicate listed as %+v: want the copy's citation in files/, the kept event's and its line", c)
	}
	if !strings.Contains(m.RejectedLines[0], "audit.log:4: ") || m.UndatedAt == "" {
		t.Fatalf("rejects %q, undated at %q", m.RejectedLines, m.UndatedAt)
	}
}

// TestVerifyCoversManifestAndEvents (review K 7): MANIFEST.sha256 covers
// MANIFEST.json (edited or deleted: exit 1); export and verify print the
// same digest and --digest compares it; an events.jsonl rewritten with its
// hash in both manifests differs from the recorded query re-run over the
// copies, and its count from MANIFEST.json's; export --force clears the
// old export's files and refuses a directory holding others.
func TestVerifyCoversManifestAndEvents(t *testing.T) {
	src := t.TempDir()
	var lines []string
	for i := 1; i <= 3; i++ {
		lines = append(lines, fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"v%d","stage":"ResponseComplete","verb":"delete","user":{"username":"alice"},"stageTimestamp":"2026-02-10T10:00:0%d.000000Z"}`, i, i))
	}
	os.WriteFile(filepath.Join(src, "audit.log"), []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	os.WriteFile(filepath.Join(src, "other.log"), []byte(lines[0]+"\n"), 0o644)
	dir := filepath.Join(t.TempDir(), "out")
	code, _, errOut := exportCmd(t, filepath.Join(src, "audit.log"), "-d", dir, `{job="audit"} | json | verb="delete"`)
	if code != 0 {
		t.Fatalf("export: %d %s", code, errOut)
	}
	digest, err := evidence.Digest(dir)
	if err != nil || !strings.Contains(errOut, "digest of the export") || !strings.Contains(errOut, digest) {
		t.Fatalf("export does not print the digest %s (%v):\n%s", digest, err, errOut)
	}
	if code, out, errOut := verifyCmd(t, "--digest", digest, dir); code != 0 || !strings.Contains(errOut, digest) {
		t.Fatalf("verify clean: %d %s %s", code, out, errOut)
	}
	// MANIFEST.json as export wrote it is covered: its query edited, verify fails.
	mjs := filepath.Join(dir, evidence.ManifestJSON)
	orig, _ := os.ReadFile(mjs)
	os.WriteFile(mjs, bytes.Replace(orig, []byte(`verb=\"delete\"`), []byte(`verb=\"get\"`), 1), 0o644)
	if code, out, _ := verifyCmd(t, "-q", dir); code != cmdutil.ExitInputError || !strings.Contains(out, "MISMATCH  MANIFEST.json") {
		t.Fatalf("verify of an export whose MANIFEST.json was edited: exit %d\n%s", code, out)
	}
	os.WriteFile(mjs, orig, 0o644)
	// A consistent rewrite of events.jsonl (a line dropped, both manifests
	// updated, even the count): the re-run query tells.
	evPath := filepath.Join(dir, evidence.EventsFile)
	b, _ := os.ReadFile(evPath)
	kept := strings.SplitAfter(string(b), "\n")
	os.WriteFile(evPath, []byte(kept[0]+kept[2]), 0o644)
	m, _ := evidence.ReadManifest(dir)
	sum, size, _ := evidence.HashFile(evPath)
	for i := range m.Entries {
		if m.Entries[i].Path == evidence.EventsFile {
			m.Entries[i].SHA256, m.Entries[i].Size = sum, size
		}
	}
	m.Events = 2
	js, _ := json.MarshalIndent(m, "", "  ")
	os.WriteFile(filepath.Join(dir, evidence.ManifestJSON), append(js, '\n'), 0o644)
	jsum, _, _ := evidence.HashFile(filepath.Join(dir, evidence.ManifestJSON))
	var sha strings.Builder
	for _, e := range m.Entries {
		sha.WriteString(evidence.ShaLine(e.SHA256, e.Path))
	}
	sha.WriteString(evidence.ShaLine(jsum, evidence.ManifestJSON))
	os.WriteFile(filepath.Join(dir, evidence.ManifestSHA), []byte(sha.String()), 0o644)
	code, out, errOut := verifyCmd(t, dir)
	if code != cmdutil.ExitInputError || !strings.Contains(out, "differs from what the recorded query selects") || !strings.Contains(out, "events.index.jsonl holds 3 lines") {
		t.Fatalf("verify of a consistent rewrite: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, _ := verifyCmd(t, "--digest", digest, dir); code != cmdutil.ExitInputError || !strings.Contains(out, "DIGEST") {
		t.Fatalf("verify --digest of a rewrite: exit %d\n%s", code, out)
	}
	// MANIFEST.json edited or removed.
	os.WriteFile(filepath.Join(dir, evidence.ManifestJSON), []byte(strings.Replace(string(js), "delete", "get", 1)+"\n"), 0o644)
	if code, out, _ := verifyCmd(t, "-q", dir); code != cmdutil.ExitInputError || !strings.Contains(out, "MISMATCH  MANIFEST.json") {
		t.Fatalf("verify of an edited MANIFEST.json: exit %d\n%s", code, out)
	}
	os.Remove(filepath.Join(dir, evidence.ManifestJSON))
	if code, out, errOut := verifyCmd(t, "-q", dir); code != cmdutil.ExitInputError || !strings.Contains(out, "MISSING  MANIFEST.json") || !strings.Contains(errOut, "warning") {
		t.Fatalf("verify without MANIFEST.json: exit %d\n%s%s", code, out, errOut)
	}
	// --force clears the old export: the next verify is clean.
	if code, _, errOut := exportCmd(t, filepath.Join(src, "other.log"), "-d", dir, "--force"); code != 0 {
		t.Fatalf("export --force: %d %s", code, errOut)
	}
	if code, out, errOut := verifyCmd(t, dir); code != 0 {
		t.Fatalf("verify after --force: %d\n%s%s", code, out, errOut)
	}
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine\n"), 0o644)
	if code, _, errOut := exportCmd(t, filepath.Join(src, "other.log"), "-d", dir, "--force"); code != cmdutil.ExitUsage || !strings.Contains(errOut, "notes.txt") {
		t.Fatalf("export --force over a foreign file: %d %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "notes.txt")); err != nil {
		t.Fatal("export --force removed a file its manifest did not list")
	}
}

// TestQueryReadsExportDir (review K 12): an export directory given back
// as a SOURCE is read from its copies (files/), as the sources were:
// the same answer, no reject for MANIFEST.json.
func TestQueryReadsExportDir(t *testing.T) {
	src := t.TempDir()
	line := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"q1","stage":"ResponseComplete","verb":"delete","user":{"username":"alice"},"stageTimestamp":"2026-02-10T10:00:01.000000Z"}`
	os.WriteFile(filepath.Join(src, "audit.log"), []byte(line+"\n"+strings.Replace(line, "q1", "q2", 1)+"\n"), 0o644)
	dir := filepath.Join(t.TempDir(), "out")
	if code, _, errOut := exportCmd(t, filepath.Join(src, "audit.log"), "-d", dir, `{job="audit"} | json | auditID="q1"`); code != 0 {
		t.Fatalf("export: %d %s", code, errOut)
	}
	run := func(arg string) (int, string, string) {
		return clitest.Run(t, func(f *cmdutil.Factory) *cobra.Command { return query.NewCmdQuery(f, nil) }, "", "-o", "raw", `{job="audit"} | json`, arg)
	}
	code, out, errOut := run(dir)
	if code != 0 || strings.Count(out, "\n") != 2 || strings.Contains(errOut, "reject") {
		t.Fatalf("query of the export dir: exit %d, want the 2 events of the copy:\n%s%s", code, out, errOut)
	}
}

// TestVerifyReadsWithExportLabels: verify re-runs the recorded query over
// the copies with the stream labels export read them with (--label,
// --cluster, a job among the labels), recorded in MANIFEST.json: an
// export whose selector names those labels verifies clean, and a copy
// tampered with still fails, named.
func TestVerifyReadsWithExportLabels(t *testing.T) {
	src := t.TempDir()
	var lines []string
	for i := 1; i <= 3; i++ {
		lines = append(lines, fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"l%d","stage":"ResponseComplete","verb":"delete","user":{"username":"alice"},"stageTimestamp":"2026-02-10T10:00:0%d.000000Z"}`, i, i))
	}
	os.WriteFile(filepath.Join(src, "audit.log"), []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	for _, tc := range []struct {
		name  string
		flags []string
		query string
	}{
		{"label", []string{"--label", "team=x"}, `{team="x"} | json | verb="delete"`},
		{"job and cluster", []string{"--label", "job=kube-audit", "--cluster", "prod", "--label", "team=x"}, `{job="kube-audit",cluster="prod",team="x"} | json | verb="delete"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			args := append(append([]string{filepath.Join(src, "audit.log"), "-d", dir}, tc.flags...), tc.query)
			if code, _, errOut := exportCmd(t, args...); code != 0 {
				t.Fatalf("export: %d %s", code, errOut)
			}
			m, err := evidence.ReadManifest(dir)
			if err != nil || m.Events != 3 {
				t.Fatalf("export with %v selected %d event(s), want 3 (%v)", tc.flags, m.Events, err)
			}
			if code, out, errOut := verifyCmd(t, dir); code != 0 {
				t.Fatalf("verify of an export made with %v: exit %d\n%s%s", tc.flags, code, out, errOut)
			}
			var copyRel string
			for _, e := range m.Entries {
				if strings.HasPrefix(e.Path, "files/") {
					copyRel = e.Path
				}
			}
			cp := filepath.Join(dir, filepath.FromSlash(copyRel))
			b, _ := os.ReadFile(cp)
			os.WriteFile(cp, bytes.Replace(b, []byte(`"l2"`), []byte(`"l9"`), 1), 0o644)
			code, out, errOut := verifyCmd(t, "-q", dir)
			if code != cmdutil.ExitInputError || !strings.Contains(out, "MISMATCH  "+copyRel) {
				t.Fatalf("verify of a tampered copy: exit %d, want MISMATCH  %s\n%s%s", code, copyRel, out, errOut)
			}
		})
	}
}

// TestExportRecursive (review K12): export -r copies a case tree's files
// (every level), selects from the copies with a selector naming a node's
// subdirectory, and verify agrees; without -r the subdirectories not read
// are named.
func TestExportRecursive(t *testing.T) {
	root := filepath.Join(t.TempDir(), "case")
	for i, rel := range []string{"top.log", "node-a/audit.log.1", "node-a/audit.log", "node-b/audit.log"} {
		p := filepath.Join(root, filepath.FromSlash(rel))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"r%d","stage":"ResponseComplete","verb":"delete","user":{"username":"alice"},"stageTimestamp":"2026-02-10T10:00:0%d.000000Z"}`, i, i)+"\n"), 0o644)
	}
	q := `{job="audit", filename=~".*/node-a/.*"} | json | verb="delete"`
	flat := filepath.Join(t.TempDir(), "flat")
	if code, _, errOut := exportCmd(t, root, "-d", flat, q); code != 0 || !strings.Contains(errOut, "2 subdirectories not read: node-a, node-b; use -r") {
		t.Fatalf("export without -r: exit %d, want the subdirectories named: %s", code, errOut)
	}
	// The manifest records the subdirectories left out, each one, and
	// verify lists them (review M 14: only stderr said so).
	fm, err := evidence.ReadManifest(flat)
	if err != nil {
		t.Fatal(err)
	}
	want := []evidence.NotRead{{Path: filepath.Join(root, "node-a"), Reason: "a subdirectory: not read without -r (--recursive)"},
		{Path: filepath.Join(root, "node-b"), Reason: "a subdirectory: not read without -r (--recursive)"}}
	if fmt.Sprint(fm.NotRead) != fmt.Sprint(want) {
		t.Errorf("MANIFEST.json not_read = %v, want %v", fm.NotRead, want)
	}
	if raw, _ := os.ReadFile(filepath.Join(flat, evidence.ManifestJSON)); !strings.Contains(string(raw), `"not_read"`) {
		t.Errorf("MANIFEST.json has no not_read:\n%s", raw)
	}
	code, out, errOut := verifyCmd(t, "-q", flat)
	if code != 0 || !strings.Contains(out, "NOTREAD  "+filepath.Join(root, "node-a")+"  (a subdirectory: not read without -r (--recursive): nothing under it was exported)") || !strings.Contains(out, "NOTREAD  "+filepath.Join(root, "node-b")) {
		t.Errorf("verify of an export without -r: exit %d, want the subdirectories not read listed:\n%s%s", code, out, errOut)
	}
	// A glob's directories likewise.
	globbed := filepath.Join(t.TempDir(), "glob")
	if code, _, errOut := exportCmd(t, filepath.Join(root, "*"), "-d", globbed, q); code != 0 {
		t.Fatalf("export of a glob: %d %s", code, errOut)
	}
	if gm, err := evidence.ReadManifest(globbed); err != nil || len(gm.NotRead) != 2 || !strings.Contains(gm.NotRead[0].Reason, "the glob matched") {
		t.Errorf("export of a glob: not_read %v (%v)", gm.NotRead, err)
	}
	dir := filepath.Join(t.TempDir(), "out")
	if code, _, errOut := exportCmd(t, "-r", root, "-d", dir, q); code != 0 {
		t.Fatalf("export -r: %d %s", code, errOut)
	}
	m, err := evidence.ReadManifest(dir)
	if err != nil || m.Events != 2 || len(m.Entries) != 4+2 || !m.Recursive {
		t.Fatalf("export -r: %d event(s), %d entries, recursive %v, want 2 events of node-a, 4 copies, -r recorded (%v)", m.Events, len(m.Entries), m.Recursive, err)
	}
	if len(m.NotRead) != 0 {
		t.Errorf("export -r: not_read %v, want none", m.NotRead)
	}
	if code, out, errOut := verifyCmd(t, dir); code != 0 {
		t.Fatalf("verify of export -r: exit %d\n%s%s", code, out, errOut)
	}
}

// TestExportSelectsByOriginalFilename: export selects from its copies
// under the filename label of the originals (the path as given, the
// object's s3:// URL), so a selector naming a file selects what query
// selects over it, and verify re-runs it the same way (MANIFEST.json
// records each copy's filename).
func TestExportSelectsByOriginalFilename(t *testing.T) {
	src := t.TempDir()
	for i, name := range []string{"a.log", "b.log"} {
		os.WriteFile(filepath.Join(src, name), []byte(fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"f%d","stage":"ResponseComplete","verb":"delete","user":{"username":"alice"},"stageTimestamp":"2026-02-10T10:00:0%d.000000Z"}`, i, i)+"\n"), 0o644)
	}
	t.Chdir(src)
	dir := filepath.Join(t.TempDir(), "out")
	if code, _, errOut := exportCmd(t, "a.log", "b.log", "-d", dir, `{filename="a.log"} | json`); code != 0 {
		t.Fatalf("export: %d %s", code, errOut)
	}
	ev, _ := os.ReadFile(filepath.Join(dir, evidence.EventsFile))
	if !strings.Contains(string(ev), `"f0"`) || strings.Count(string(ev), "\n") != 1 {
		t.Fatalf("export {filename=\"a.log\"}: events.jsonl %q, want a.log's one event", ev)
	}
	if code, out, errOut := verifyCmd(t, dir); code != 0 {
		t.Fatalf("verify: exit %d\n%s%s", code, out, errOut)
	}
	// The export read again as a SOURCE, with -r through a folder above
	// it too: its copies carry the originals' names.
	for _, args := range [][]string{{dir}, {"-r", filepath.Dir(dir)}} {
		code, out, errOut := clitest.Run(t, func(f *cmdutil.Factory) *cobra.Command { return query.NewCmdQuery(f, nil) }, "",
			append([]string{"-o", "raw", `{filename="a.log"}`}, args...)...)
		if code != 0 || !strings.Contains(out, `"f0"`) || strings.Count(out, "\n") != 1 {
			t.Fatalf("query {filename=\"a.log\"} %v: exit %d, want a.log's one event:\n%s%s", args, code, out, errOut)
		}
	}

	w := clitest.NewS3World(t, false)
	sdir := filepath.Join(t.TempDir(), "s3")
	fromT := w.Start.Add(10 * time.Hour)
	toT := w.Start.Add(11 * time.Hour)
	q := `{filename=~"s3://` + w.Bucket + `/audit-logs/c1/.*"} | json | verb="delete"`
	code, _, errOut := exportCmd(t, "s3://"+w.Bucket+"/audit-logs/c1/", "--s3-endpoint", w.Endpoint,
		"--from", fromT.Format(time.RFC3339), "--to", toT.Format(time.RFC3339), "--dir", sdir, q)
	m, err := evidence.ReadManifest(sdir)
	if code != 0 || err != nil || m.Events == 0 {
		t.Fatalf("export of S3 objects by their URL: exit %d, %v, %+v: %s", code, err, m, errOut)
	}
	if code, out, errOut := verifyCmd(t, sdir); code != 0 {
		t.Fatalf("verify of the S3 export: exit %d\n%s%s", code, out, errOut)
	}
}

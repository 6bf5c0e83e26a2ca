package report

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/audittui/audittui/internal/casefile"
	"github.com/audittui/audittui/internal/cli/clitest"
	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/cli/query"
	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/file"
	"github.com/audittui/audittui/internal/data/source/loki"
	"github.com/audittui/audittui/internal/data/source/loki/lokitest"
	s3src "github.com/audittui/audittui/internal/data/source/s3"
	"github.com/audittui/audittui/internal/data/source/s3/s3key"
	"github.com/audittui/audittui/internal/evidence"
	"github.com/audittui/audittui/internal/testutil"
)

func reportCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return clitest.Run(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdReport(f, nil) }, "", args...)
}

func hexSHA(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// refOf names an event as the TUI does when it is bookmarked.
func refOf(e *data.Event) casefile.EventRef {
	ref := casefile.EventRef{SHA256: hexSHA(e.Raw), Cite: e.Origin.Cite(), Length: int64(len(e.Raw)), Source: e.Origin.Source.Name,
		AuditID: e.AuditID, Stage: e.Stage, User: e.User, Verb: e.Verb, Object: e.Resource + " " + e.Namespace + "/" + e.Name, Code: e.Code}
	if e.Origin.StreamTime != 0 {
		ref.StreamTime = e.Origin.StreamTime
	} else {
		ref.Line = e.Origin.Line
	}
	if e.Time != 0 {
		ref.Time = time.Unix(0, e.Time).UTC()
	}
	return ref
}

// pickEvents reads src in [from, to) and names the events pick accepts.
func pickEvents(t *testing.T, src data.Source, ro data.ReadOptions, pick func(e *data.Event) bool) []casefile.EventRef {
	t.Helper()
	st, err := data.OpenAll(context.Background(), []data.Source{src}, ro)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var out []casefile.EventRef
	for {
		b, err := st.Next(context.Background())
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		for i := range b.Events {
			if pick(&b.Events[i]) {
				out = append(out, refOf(&b.Events[i]))
			}
		}
	}
}

func add(t *testing.T, c *casefile.Case, r casefile.Record) casefile.Record {
	t.Helper()
	r, err := c.Add(r)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

type nodesCase struct {
	dir    string
	refs   []casefile.EventRef
	notes  []string
	export string
	nodes  string
}

// newNodesCase records, over a copy of the three-node sample, what an
// investigator's session would: the session, one bookmarked event of
// each node file with a note (and a tag), a case note, a saved filter, an
// applied view, a silence and an export.
func newNodesCase(t *testing.T) nodesCase {
	t.Helper()
	nodes := filepath.Join(t.TempDir(), "nodes")
	os.MkdirAll(nodes, 0o755)
	for _, n := range []string{"audit-cp1.log", "audit-cp2.log", "audit-cp3.log"} {
		b, err := os.ReadFile(filepath.Join(testutil.RepoRoot(), "testdata", "sample", "nodes", n))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(nodes, n), b, 0o644)
	}
	from, to := time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC), time.Date(2026, 11, 20, 4, 0, 0, 0, time.UTC)
	src, err := file.New(nodes, file.Options{})
	if err != nil {
		t.Fatal(err)
	}
	perFile := map[string]bool{}
	refs := pickEvents(t, src, data.ReadOptions{From: from.UnixNano(), To: to.UnixNano()}, func(e *data.Event) bool {
		name := e.Origin.Source.Name
		if perFile[name] || e.Origin.Line < 100 || strings.HasPrefix(e.User, "system:") || e.User == "" || e.AuditID == "" {
			return false
		}
		perFile[name] = true
		return true
	})
	if len(refs) != 3 {
		t.Fatalf("picked %d events", len(refs))
	}
	dir := filepath.Join(t.TempDir(), "case-4711")
	c, err := casefile.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	c.Author = "alice"
	add(t, c, casefile.Record{Kind: casefile.KindOpen, Sources: []string{nodes}, Dir: "/nowhere", From: &from, To: &to})
	nc := nodesCase{dir: dir, refs: refs, nodes: nodes}
	for k := range refs {
		ref := refs[k]
		b := add(t, c, casefile.Record{Kind: casefile.KindBookmark, Event: &ref})
		if k == 2 {
			// Bookmarked, then not: in the timeline for its note only.
			add(t, c, casefile.Record{Kind: casefile.KindUnbookmark, Refs: []string{b.ID}, Event: &ref})
		}
		note := fmt.Sprintf("finding %d: %s did this from the wrong place", k+1, ref.User)
		nc.notes = append(nc.notes, note)
		add(t, c, casefile.Record{Kind: casefile.KindNote, Event: &ref, Text: note})
	}
	add(t, c, casefile.Record{Kind: casefile.KindTag, Event: &refs[0], Tag: "initial-access"})
	add(t, c, casefile.Record{Kind: casefile.KindNote, Text: "paged at 03:10 by the SOC"})
	add(t, c, casefile.Record{Kind: casefile.KindFilter, Name: "humans", Query: `{job="audit"} | json | user_username!~"system:.*"`, Filter: `user_username!~"system:.*"`, From: &from, To: &to})
	add(t, c, casefile.Record{Kind: casefile.KindView, Query: `{job="audit"} | json | verb="delete"`, Filter: `verb="delete"`, Negate: true, From: &from})
	add(t, c, casefile.Record{Kind: casefile.KindSilence, Silence: &casefile.Silence{Group: "x.yaml:1 Noise {}", Rule: "Noise", Note: "known scanner"}})
	// An export of the three events, as :export writes it.
	nc.export = filepath.Join(t.TempDir(), "export")
	d, err := evidence.Create(nc.export, evidence.Manifest{Sources: []string{nodes}}, false)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := d.Events()
	w.Write([]byte(`{"auditID":"x"}`))
	w.Close()
	m, err := d.WriteManifests()
	if err != nil {
		t.Fatal(err)
	}
	msum, _, _ := evidence.HashFile(filepath.Join(nc.export, evidence.ManifestSHA))
	add(t, c, casefile.Record{Kind: casefile.KindExport, Query: `{job="audit"} | json`, Export: &casefile.Export{Dir: nc.export, Events: m.Events, ManifestSHA256: msum,
		Entries: []casefile.ExportEntry{{Path: m.Entries[0].Path, SHA256: m.Entries[0].SHA256, Size: m.Entries[0].Size}}}})
	return nc
}

// mdCode is how the Markdown report writes a value in a code span.
func mdCode(s string) string { return "`" + strings.ReplaceAll(s, "|", `\|`) + "`" }

// TestReportMarkdownAndHTML: both reports name each cited event's
// auditID, note, citation and sha256, checked against the re-read
// sources; the HTML is one self-contained file that a real browser
// renders (a screenshot is kept in the test artifacts) with the same
// text.
func TestReportMarkdownAndHTML(t *testing.T) {
	nc := newNodesCase(t)
	code, md, errOut := reportCmd(t, nc.dir)
	if code != 0 {
		t.Fatalf("report: exit %d\n%s\n%s", code, errOut, md)
	}
	for k, ref := range nc.refs {
		for _, want := range []string{mdCode(ref.AuditID), nc.notes[k], mdCode(ref.Cite), mdCode(ref.SHA256)} {
			if !strings.Contains(md, want) {
				t.Errorf("markdown lacks %q", want)
			}
		}
		if !strings.Contains(ref.Cite, filepath.Join(nc.nodes, "audit-cp")) {
			t.Errorf("citation %s", ref.Cite)
		}
	}
	for _, want := range []string{
		"- Events in the timeline: 3 (bookmarked: 2); notes: 4;", "(annotated, not bookmarked)",
		"## Timeline of bookmarked events", "OK: the bytes at the citation have this sha256", "`#initial-access`",
		"paged at 03:10 by the SOC", "| humans |", "audittui query -o raw --from 2026-11-20T02:00:00Z --to 2026-11-20T04:00:00Z",
		"the events NOT matching", "## Alerts that fired in the window", "known scanner",
		"OK: 3 files match MANIFEST.sha256", "sha256 (whole file, as stored)", "Generated ",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	// Whole-file hashes of the three node files.
	for _, n := range []string{"audit-cp1.log", "audit-cp2.log", "audit-cp3.log"} {
		b, _ := os.ReadFile(filepath.Join(nc.nodes, n))
		if !strings.Contains(md, mdCode(hexSHA(b))) {
			t.Errorf("markdown lacks the sha256 of %s", n)
		}
	}
	// The sample's stories make alerts fire in these two hours.
	alerts := md[strings.Index(md, "## Alerts that fired"):strings.Index(md, "## Silences")]
	if !strings.Contains(alerts, "| severity | alert |") || strings.Count(alerts, "\n| ") < 3 {
		t.Errorf("no alert groups:\n%s", alerts)
	}
	// Groups whose every event failed say so (the sample's refused
	// requests: 403s by suspicious-user and ci-bot).
	if !strings.Contains(alerts, " (all failed) |") {
		t.Errorf("no group says its events all failed:\n%s", alerts)
	}
	// Timeline order: by event time.
	if i, j := strings.Index(md, nc.refs[0].SHA256), strings.Index(md, nc.refs[1].SHA256); nc.refs[0].Time.Before(nc.refs[1].Time) != (i < j) {
		t.Errorf("timeline out of time order")
	}

	code, html, errOut := reportCmd(t, "-o", "html", nc.dir)
	if code != 0 {
		t.Fatalf("report -o html: exit %d\n%s", code, errOut)
	}
	for _, bad := range []string{"<script", "<link", "<img", "<iframe", "@import", "url(", `src="`, `href="http`} {
		if strings.Contains(strings.ToLower(html), bad) {
			t.Errorf("the HTML is not self-contained: it has %q", bad)
		}
	}
	if !strings.Contains(html, "@media print") {
		t.Errorf("no print stylesheet")
	}
	if !strings.Contains(html, "Events in the timeline: 3 (bookmarked: 2)") {
		t.Errorf("the HTML summary does not count the bookmarks")
	}
	art := testutil.ArtifactsDir(t)
	page := filepath.Join(art, "report.html")
	if err := os.WriteFile(page, []byte(html), 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(art, "report.md"), []byte(md), 0o644)
	browser := testutil.Chromium(t)
	testutil.Screenshot(t, browser, page, filepath.Join(art, "report.png"), 1280, 2400)
	dom := testutil.RenderDOM(t, browser, page)
	for k, ref := range nc.refs {
		for _, want := range []string{ref.AuditID, nc.notes[k], ref.Cite, ref.SHA256} {
			if !strings.Contains(dom, want) {
				t.Errorf("the rendered page lacks %q", want)
			}
		}
	}
	t.Logf("report rendered: %s", filepath.Join(art, "report.png"))
}

// TestReportFindsTampering: a cited line changed after the bookmark, and
// an export file changed: the report says so and exits 1.
func TestReportFindsTampering(t *testing.T) {
	nc := newNodesCase(t)
	ref := nc.refs[1]
	path := ref.Source
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	lines[ref.Line-1] = strings.Replace(lines[ref.Line-1], `"verb":"`, `"verb":"x`, 1)
	os.WriteFile(path, []byte(strings.Join(lines, "")), 0o644)
	os.WriteFile(filepath.Join(nc.export, evidence.EventsFile), []byte("changed\n"), 0o644)
	code, md, _ := reportCmd(t, nc.dir)
	if code != cmdutil.ExitInputError {
		t.Fatalf("exit %d, want %d", code, cmdutil.ExitInputError)
	}
	if !strings.Contains(md, "**MISMATCH: the bytes at the citation now have sha256 ") || !strings.Contains(md, "MISMATCH events.jsonl") {
		t.Errorf("report does not flag the changes:\n%s", md)
	}
	if strings.Count(md, "OK: the bytes at the citation") != 2 {
		t.Errorf("the other two events should check out")
	}
}

// TestReportWithoutSources: --no-verify writes the report from the case
// alone.
func TestReportWithoutSources(t *testing.T) {
	nc := newNodesCase(t)
	code, md, errOut := reportCmd(t, "--no-verify", nc.dir)
	if code != 0 || !strings.Contains(md, "not re-read") || !strings.Contains(md, "Not evaluated: --no-verify") {
		t.Fatalf("exit %d %s\n%s", code, errOut, md)
	}
	if code, _, errOut := reportCmd(t, t.TempDir()); code != cmdutil.ExitUsage || !strings.Contains(errOut, "holds no case records") {
		t.Errorf("empty directory: %d %s", code, errOut)
	}
}

// TestReportS3: events cited as s3://bucket/key:LINE (gzip objects: the
// decompressed line) check out, and the objects are hashed as stored.
func TestReportS3(t *testing.T) {
	w := clitest.NewS3World(t, false)
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
	n := 0
	refs := pickEvents(t, src, data.ReadOptions{From: from.UnixNano(), To: to.UnixNano()}, func(e *data.Event) bool { n++; return n%4 == 1 })
	if len(refs) < 3 {
		t.Fatalf("%d refs", len(refs))
	}
	dir := filepath.Join(t.TempDir(), "case")
	c, _ := casefile.Open(dir)
	add(t, c, casefile.Record{Kind: casefile.KindOpen, Sources: []string{arg}, From: &from, To: &to})
	gz := false
	for k := range refs {
		add(t, c, casefile.Record{Kind: casefile.KindBookmark, Event: &refs[k]})
		if !strings.HasPrefix(refs[k].Cite, "s3://"+w.Bucket+"/audit-logs/c1/") {
			t.Errorf("citation %s", refs[k].Cite)
		}
		for _, o := range w.Objects {
			if strings.HasPrefix(refs[k].Cite, "s3://"+w.Bucket+"/"+o.Key+":") && strings.HasPrefix(string(o.Body), "\x1f\x8b") {
				gz = true
			}
		}
	}
	if !gz {
		t.Fatalf("no event cited from a gzip object")
	}
	code, md, errOut := reportCmd(t, "--s3-endpoint", w.Endpoint, "--no-alerts", dir)
	if code != 0 {
		t.Fatalf("exit %d %s\n%s", code, errOut, md)
	}
	if strings.Count(md, "OK: the bytes at the citation have this sha256") != len(refs) {
		t.Errorf("not every event checked out:\n%s", md)
	}
	hashed := 0
	for _, o := range w.Objects {
		if strings.Contains(md, mdCode("s3://"+w.Bucket+"/"+o.Key)+" | "+mdCode(hexSHA(o.Body))) {
			hashed++
		}
	}
	if hashed < 4 {
		t.Errorf("%d objects hashed as stored in the report:\n%s", hashed, md)
	}
}

// TestReportLoki: Loki entries are cited by stream labels and nanosecond
// time, and check out when read back.
func TestReportLoki(t *testing.T) {
	srv := lokitest.New(lokitest.Options{})
	defer srv.Close()
	now := time.Now().UTC().Truncate(time.Second)
	labels := data.Labels{{Name: "job", Value: "audit"}, {Name: "cluster", Value: "prod"}}
	var entries []loki.PushEntry
	for i := range 5 {
		ts := now.Add(-time.Duration(5-i) * time.Minute).Add(time.Duration(i*1234567 + 89))
		line := fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"loki-%d","stage":"ResponseComplete","verb":"delete","user":{"username":"eve"},"objectRef":{"resource":"secrets","namespace":"prod","name":"s%d"},"responseStatus":{"code":200},"requestReceivedTimestamp":%q,"stageTimestamp":%q}`,
			i, i, ts.Format(time.RFC3339Nano), ts.Format(time.RFC3339Nano))
		entries = append(entries, loki.PushEntry{Time: ts.UnixNano(), Line: []byte(line)})
	}
	srv.Push("", loki.PushRequest{Streams: []loki.PushStream{{Labels: labels, Entries: entries}}})
	cl, err := loki.NewClient(loki.Config{Addr: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	src, err := loki.NewSource(cl, loki.SourceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	from, to := now.Add(-time.Hour), now.Add(time.Minute)
	refs := pickEvents(t, src, data.ReadOptions{From: from.UnixNano(), To: to.UnixNano()}, func(e *data.Event) bool { return e.AuditID != "loki-2" })
	if len(refs) != 4 {
		t.Fatalf("%d refs", len(refs))
	}
	dir := filepath.Join(t.TempDir(), "case")
	c, _ := casefile.Open(dir)
	add(t, c, casefile.Record{Kind: casefile.KindOpen, Sources: []string{srv.URL}, From: &from, To: &to})
	for k := range refs {
		add(t, c, casefile.Record{Kind: casefile.KindBookmark, Event: &refs[k]})
		want := fmt.Sprintf(`{cluster="prod", job="audit"} @%d`, refs[k].StreamTime)
		if refs[k].Cite != want || refs[k].StreamTime == 0 {
			t.Errorf("citation %s, want %s", refs[k].Cite, want)
		}
	}
	code, md, errOut := reportCmd(t, "--no-alerts", dir)
	if code != 0 {
		t.Fatalf("exit %d %s\n%s", code, errOut, md)
	}
	if strings.Count(md, "OK: the bytes at the citation have this sha256") != 4 || !strings.Contains(md, "no files to hash") {
		t.Errorf("report:\n%s", md)
	}
	for _, r := range refs {
		if !strings.Contains(md, mdCode(r.Cite)) {
			t.Errorf("no citation %s", r.Cite)
		}
	}
}

func TestReportFlags(t *testing.T) {
	var got *ReportOptions
	ios, _, _ := clitest.Streams("")
	cmd := NewCmdReport(clitest.Factory(ios), func(o *ReportOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"-o", "html", "--from", "2026-11-20", "--no-alerts", "--rules", "r.yaml", "case", "/mnt/copy/", "-"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Case != "case" || len(got.Args) != 2 || got.Args[0] != "/mnt/copy/" || got.Args[1] != "-" || got.Output != "html" || got.Window.From != "2026-11-20" || !got.NoAlerts || got.RuleFiles[0] != "r.yaml" {
		t.Errorf("options %+v", got)
	}
	code, _, errOut := reportCmd(t, "-o", "pdf", "x")
	if code != cmdutil.ExitUsage || !strings.Contains(errOut, "pdf") {
		t.Errorf("-o pdf: %d %s", code, errOut)
	}
}

// TestReportStdinCase: a case whose source was stdin is re-checked
// against what is piped in, and never against a terminal: with stdin a
// terminal (or empty) its events are "not re-read", with how to pipe the
// evidence in, never NOT FOUND.
func TestReportStdinCase(t *testing.T) {
	evidence, err := os.ReadFile(filepath.Join(testutil.RepoRoot(), "testdata", "sample", "nodes", "audit-cp1.log"))
	if err != nil {
		t.Fatal(err)
	}
	src, err := file.New("-", file.Options{Stdin: strings.NewReader(string(evidence))})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	refs := pickEvents(t, src, data.ReadOptions{}, func(e *data.Event) bool { n++; return n == 40 || n == 200 })
	if len(refs) != 2 || refs[0].Source != "-" || !strings.HasPrefix(refs[0].Cite, "-:") {
		t.Fatalf("refs %+v", refs)
	}
	dir := filepath.Join(t.TempDir(), "case")
	c, _ := casefile.Open(dir)
	add(t, c, casefile.Record{Kind: casefile.KindOpen, Sources: []string{"-"}, Dir: "/srv"})
	for k := range refs {
		add(t, c, casefile.Record{Kind: casefile.KindBookmark, Event: &refs[k]})
	}
	mk := func(f *cmdutil.Factory) *cobra.Command { return NewCmdReport(f, nil) }
	noNotFound := func(md string) {
		t.Helper()
		if strings.Contains(md, "NOT FOUND") || strings.Contains(md, "OK: ") {
			t.Errorf("an event was checked against what was not read:\n%s", md)
		}
	}

	// Stdin is a terminal (here holding the evidence, as a person could
	// type it): it is not read.
	ios, out, errOut := clitest.Streams(string(evidence))
	ios.InTTY = true
	code := clitest.Exec(context.Background(), ios, mk, "--no-alerts", dir)
	md := out.String()
	if code != cmdutil.ExitInputError || strings.Count(md, "**not re-read: the case's source was stdin, which is a terminal here; pipe it in again (cat FILE \\| audittui report ") != 2 {
		t.Errorf("stdin a terminal: exit %d %s\n%s", code, errOut, md)
	}
	noNotFound(md)
	if in := ios.In.(*strings.Reader); in.Len() != len(evidence) {
		t.Errorf("the terminal was read: %d of %d bytes left", in.Len(), len(evidence))
	}
	if !strings.Contains(errOut.String(), "2 cited events could not be re-read") {
		t.Errorf("stderr: %s", errOut)
	}

	// Nothing comes on stdin (closed, /dev/null).
	code, md, errStr := reportCmd(t, "--no-alerts", dir)
	if code != cmdutil.ExitInputError || strings.Count(md, "**not re-read: the case's source was stdin, and nothing came on stdin; pipe it in again (cat FILE \\| audittui report ") != 2 {
		t.Errorf("empty stdin: exit %d %s\n%s", code, errStr, md)
	}
	noNotFound(md)

	// The evidence piped in again: checked.
	code, md, errStr = clitest.Run(t, mk, string(evidence), dir)
	if code != 0 || strings.Count(md, "OK: the bytes at the citation have this sha256") != 2 || !strings.Contains(md, "the case's source was stdin: this command's stdin was read as that source") {
		t.Errorf("piped: exit %d %s\n%s", code, errStr, md)
	}

	// SOURCE - given while stdin is a terminal: a usage error.
	ios, _, errOut = clitest.Streams("")
	ios.InTTY = true
	if code := clitest.Exec(context.Background(), ios, mk, dir, "-"); code != cmdutil.ExitUsage || !strings.Contains(errOut.String(), "pipe the evidence in (cat FILE | audittui report ") {
		t.Errorf("SOURCE - on a terminal: exit %d %s", code, errOut)
	}
}

// TestReportMovedEvidence: the evidence moved (the case's path is gone):
// SOURCEs given on the command line replace the case's, and events are
// found in them by content; a source that cannot be opened is named and
// does not stop the others from being checked.
func TestReportMovedEvidence(t *testing.T) {
	nc := newNodesCase(t)
	moved := filepath.Join(t.TempDir(), "copy")
	if err := os.Rename(nc.nodes, moved); err != nil {
		t.Fatal(err)
	}
	gone := "open " + nc.nodes + ": no such file or directory"

	// Nothing given: the case's source is gone. Its events are not
	// re-read (not "NOT FOUND"), and the report says why.
	code, md, errOut := reportCmd(t, nc.dir)
	if code != cmdutil.ExitInputError || strings.Count(md, "**not re-read: a source could not be opened ("+gone+")**") != 3 || strings.Contains(md, "NOT FOUND") {
		t.Errorf("source gone: exit %d %s\n%s", code, errOut, md)
	}
	if !strings.Contains(md, "Not evaluated: no source could be opened ("+gone+")") || !strings.Contains(md, "**not read: "+gone+"**") {
		t.Errorf("source gone: alerts or source section\n%s", md)
	}
	if !strings.Contains(errOut, "3 cited events could not be re-read; 1 source could not be opened") {
		t.Errorf("stderr: %s", errOut)
	}

	// The copy given on the command line: every event is found by
	// content, the files are hashed, the alerts evaluated, and the report
	// says what the case recorded.
	code, md, errOut = reportCmd(t, nc.dir, moved)
	if code != 0 {
		t.Fatalf("copy given: exit %d %s\n%s", code, errOut, md)
	}
	for _, ref := range nc.refs {
		at := filepath.Join(moved, filepath.Base(ref.Source)) + ":" + fmt.Sprint(ref.Line)
		if !strings.Contains(md, "OK: the same bytes were found at "+at+" (in the sources given on the command line)") {
			t.Errorf("event %s not found at %s:\n%s", ref.Cite, at, md)
		}
		b, _ := os.ReadFile(filepath.Join(moved, filepath.Base(ref.Source)))
		if !strings.Contains(md, mdCode(hexSHA(b))) {
			t.Errorf("no sha256 of %s", ref.Source)
		}
	}
	for _, want := range []string{
		"- Sources: " + mdCode(moved) + "\n- Re-checked against the sources above, given on the command line; the case recorded " + mdCode(nc.nodes),
		"given on the command line, in place of the case's sources", "| severity | alert |",
		"audittui query -o raw --from 2026-11-20T02:00:00Z --to 2026-11-20T04:00:00Z '{job=\"audit\"} \\| json \\| user_username!~\"system:.*\"' " + moved,
	} {
		if !strings.Contains(md, want) {
			t.Errorf("copy given: the report lacks %q:\n%s", want, md)
		}
	}

	// A copy of two of the three files, opened in a later session: the
	// case now names the old place and the copy. The copy is checked;
	// the third event (its file only in the old place) is not re-read.
	part := filepath.Join(t.TempDir(), "part")
	os.MkdirAll(part, 0o755)
	for _, ref := range nc.refs[:2] {
		b, _ := os.ReadFile(filepath.Join(moved, filepath.Base(ref.Source)))
		os.WriteFile(filepath.Join(part, filepath.Base(ref.Source)), b, 0o644)
	}
	c, err := casefile.Open(nc.dir)
	if err != nil {
		t.Fatal(err)
	}
	from, to := time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC), time.Date(2026, 11, 20, 4, 0, 0, 0, time.UTC)
	add(t, c, casefile.Record{Kind: casefile.KindOpen, Sources: []string{part}, From: &from, To: &to})
	code, md, errOut = reportCmd(t, nc.dir)
	if code != cmdutil.ExitInputError {
		t.Errorf("partial: exit %d %s", code, errOut)
	}
	for _, ref := range nc.refs[:2] {
		if !strings.Contains(md, "OK: the same bytes were found at "+filepath.Join(part, filepath.Base(ref.Source))+":") {
			t.Errorf("partial: event %s not checked in the copy", ref.Cite)
		}
	}
	if strings.Count(md, "**not re-read: a source could not be opened ("+gone+"), and the sources read do not hold these bytes**") != 1 || strings.Contains(md, "NOT FOUND") {
		t.Errorf("partial: the third event\n%s", md)
	}
	if !strings.Contains(md, "**Evaluated over the sources that could be opened only; not read: "+gone+".**") || !strings.Contains(md, "| severity | alert |") {
		t.Errorf("partial: alerts\n%s", md)
	}
	if !strings.Contains(errOut, "1 cited event could not be re-read; 1 source could not be opened") {
		t.Errorf("partial: stderr %s", errOut)
	}

	// The partial copy given on the command line: the third event is
	// not in it.
	code, md, errOut = reportCmd(t, "--no-alerts", nc.dir, part)
	if code != cmdutil.ExitInputError || strings.Count(md, "**NOT FOUND in the sources given on the command line, read in the window**") != 1 || !strings.Contains(errOut, "1 cited event did not check out") {
		t.Errorf("partial copy given: exit %d %s\n%s", code, errOut, md)
	}
}

// TestReportFirehoseCitations: the events of a Firehose object (gzip
// members of subscription messages back to back, no newline) are cited
// FILE:1:COL, each its own; bookmarked, they re-check OK at their
// citations, and one whose record was changed is flagged with the sha256
// of its own changed bytes (not of another event on the same line).
func TestReportFirehoseCitations(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "eks-firehose.gz")
	zb, err := os.ReadFile(filepath.Join(testutil.RepoRoot(), "testdata", "shapes", "eks-firehose.gz"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, zb, 0o644)
	src, err := file.New(path, file.Options{})
	if err != nil {
		t.Fatal(err)
	}
	type picked struct {
		ref      casefile.EventRef
		off, len int64
	}
	var all []picked
	pickEvents(t, src, data.ReadOptions{}, func(e *data.Event) bool {
		all = append(all, picked{refOf(e), e.Origin.Offset, int64(len(e.Raw))})
		return false
	})
	if len(all) < 8 {
		t.Fatalf("%d events", len(all))
	}
	seen := map[string]bool{}
	from, to := all[0].ref.Time, all[0].ref.Time
	for _, p := range all {
		if seen[p.ref.Cite] || !strings.HasPrefix(p.ref.Cite, path+":1:") {
			t.Errorf("citation %s: not FILE:1:COL, or not its own", p.ref.Cite)
		}
		seen[p.ref.Cite] = true
		if p.ref.Time.Before(from) {
			from = p.ref.Time
		}
		if p.ref.Time.After(to) {
			to = p.ref.Time
		}
	}
	to = to.Add(time.Second)
	c, err := casefile.Open(filepath.Join(dir, "case"))
	if err != nil {
		t.Fatal(err)
	}
	add(t, c, casefile.Record{Kind: casefile.KindOpen, Sources: []string{path}, From: &from, To: &to})
	ok, changed := all[2], all[7]
	add(t, c, casefile.Record{Kind: casefile.KindBookmark, Event: &ok.ref})
	add(t, c, casefile.Record{Kind: casefile.KindBookmark, Event: &changed.ref})
	code, md, errOut := reportCmd(t, "--no-alerts", filepath.Join(dir, "case"))
	if code != 0 || strings.Count(md, "OK: the bytes at the citation have this sha256") != 2 {
		t.Fatalf("exit %d %s\n%s", code, errOut, md)
	}
	for _, p := range []picked{ok, changed} {
		if !strings.Contains(md, mdCode(p.ref.Cite)) {
			t.Errorf("the report does not cite %s", p.ref.Cite)
		}
	}

	// One byte of the eighth event's record changed (its auditID and
	// time kept), the object written again.
	zr, err := gzip.NewReader(bytes.NewReader(zb))
	if err != nil {
		t.Fatal(err)
	}
	stream, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	rec := stream[changed.off : changed.off+changed.len]
	i := bytes.Index(rec, []byte(`\"verb\":\"`))
	if i < 0 {
		t.Fatalf("no verb in %s", rec)
	}
	rec[i+len(`\"verb\":\"`)] ^= 0x20 // get -> Get
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(stream)
	zw.Close()
	os.WriteFile(path, out.Bytes(), 0o644)
	code, md, _ = reportCmd(t, "--no-alerts", filepath.Join(dir, "case"))
	if code != cmdutil.ExitInputError || strings.Count(md, "OK: the bytes at the citation have this sha256") != 1 ||
		!strings.Contains(md, "MISMATCH: the bytes at the citation now have sha256 "+hexSHA(rec)) {
		t.Errorf("changed record: exit %d, want the mismatch with sha256 %s:\n%s", code, hexSHA(rec), md)
	}
}

// cutRecord is the README's recipe, sed -n 'LINE,$p' | tail -c +COL |
// head -c LEN, over a file's (decompressed) bytes.
func cutRecord(t *testing.T, stream []byte, line, col, n int64) []byte {
	t.Helper()
	start := 0
	for l := int64(1); l < line; l++ {
		i := bytes.IndexByte(stream[start:], '\n')
		if i < 0 {
			t.Fatalf("no line %d", line)
		}
		start += i + 1
	}
	rest := stream[start:]
	if col-1+n > int64(len(rest)) {
		t.Fatalf("line %d col %d len %d: past the end", line, col, n)
	}
	return rest[col-1 : col-1+n]
}

var mdCitation = regexp.MustCompile("\\| citation \\| `([^`]+)` \\|\n\\| sha256 \\| `([0-9a-f]{64})` \\|\n\\| length \\| ([^|]+) \\|\n")

// TestReportCitesLength: each cited event's length is in the report, under
// its sha256, as the Detail shows it, and the README's recipe (sed -n
// 'LINE,$p' FILE | tail -c +COL | head -c LEN | sha256sum) on the printed
// citation and length gives the printed sha256: for an event of an EKS
// Firehose object (FILE:1:COL, in the gzip's stream), an EventList item
// whose bytes span lines (FILE:LINE:5), and a line of a real log. A case
// written before lengths were recorded gets them from the re-read, and
// says "unknown" when it is not re-read.
func TestReportCitesLength(t *testing.T) {
	dir := t.TempDir()
	shapes := filepath.Join(testutil.RepoRoot(), "testdata", "shapes")
	var paths []string
	var refs []casefile.EventRef
	for k, f := range []string{filepath.Join(shapes, "eks-firehose.gz"), filepath.Join(shapes, "eventlist-pretty.json"),
		filepath.Join(testutil.RealData(t), "audit", "falco-legacy-k8s-audit-traces.jsonl")} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.Base(f))
		os.WriteFile(p, b, 0o644)
		paths = append(paths, p)
		src, err := file.New(p, file.Options{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		got := pickEvents(t, src, data.ReadOptions{}, func(e *data.Event) bool { n++; return n == 3 })
		if len(got) != 1 || got[0].Length == 0 {
			t.Fatalf("%s: %v", f, got)
		}
		if wantCol := k < 2; strings.Count(strings.TrimPrefix(got[0].Cite, p), ":") != map[bool]int{true: 2, false: 1}[wantCol] {
			t.Fatalf("%s: citation %s", f, got[0].Cite)
		}
		refs = append(refs, got[0])
	}
	newCase := func(name string, refs []casefile.EventRef) string {
		c, err := casefile.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		add(t, c, casefile.Record{Kind: casefile.KindOpen, Sources: paths})
		for k := range refs {
			add(t, c, casefile.Record{Kind: casefile.KindBookmark, Event: &refs[k]})
		}
		return filepath.Join(dir, name)
	}
	// check finds each event's citation, sha256 and length in md and cuts
	// its bytes out of the file with them.
	check := func(md string) {
		t.Helper()
		ms := mdCitation.FindAllStringSubmatch(md, -1)
		if len(ms) != len(refs) {
			t.Fatalf("%d citations with sha256 and length, want %d:\n%s", len(ms), len(refs), md)
		}
		for _, m := range ms {
			cite, sum, length := m[1], m[2], m[3]
			var path string
			for _, p := range paths {
				if strings.HasPrefix(cite, p+":") {
					path = p
				}
			}
			lc := strings.Split(strings.TrimPrefix(cite, path+":"), ":")
			line, _ := strconv.ParseInt(lc[0], 10, 64)
			col := int64(1)
			if len(lc) == 2 {
				col, _ = strconv.ParseInt(lc[1], 10, 64)
			}
			n, err := strconv.ParseInt(strings.TrimSuffix(length, " bytes"), 10, 64)
			if path == "" || line < 1 || col < 1 || err != nil {
				t.Errorf("citation %q, length %q", cite, length)
				continue
			}
			var stream []byte
			if b, _ := os.ReadFile(path); bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
				zr, err := gzip.NewReader(bytes.NewReader(b))
				if err != nil {
					t.Fatal(err)
				}
				stream, _ = io.ReadAll(zr)
			} else {
				stream = b
			}
			if got := hexSHA(cutRecord(t, stream, line, col, n)); got != sum {
				t.Errorf("%s, %d bytes: sha256 %s, the report says %s", cite, n, got, sum)
			}
		}
	}

	c := newCase("case", refs)
	code, md, errOut := reportCmd(t, "--no-alerts", c)
	if code != 0 || strings.Count(md, "OK: the bytes at the citation have this sha256") != 3 {
		t.Fatalf("exit %d %s\n%s", code, errOut, md)
	}
	check(md)
	code, html, _ := reportCmd(t, "--no-alerts", "-o", "html", c)
	for _, r := range refs {
		if want := fmt.Sprintf("<tr><td>length</td><td>%d bytes</td></tr>", r.Length); code != 0 || !strings.Contains(html, want) {
			t.Errorf("html: exit %d, lacks %s", code, want)
		}
	}
	// Not re-read: the lengths the case recorded.
	if code, md, _ = reportCmd(t, "--no-verify", c); code != 0 {
		t.Fatalf("--no-verify: exit %d", code)
	}
	check(md)

	// A case recorded without lengths: found again, the bytes say it.
	old := append([]casefile.EventRef(nil), refs...)
	for k := range old {
		old[k].Length = 0
	}
	oc := newCase("old", old)
	code, md, _ = reportCmd(t, "--no-alerts", oc)
	if code != 0 {
		t.Fatalf("old case: exit %d", code)
	}
	check(md)
	if _, md, _ = reportCmd(t, "--no-verify", oc); strings.Count(md, "| length | unknown (not recorded by the case, and not re-read) |") != 3 {
		t.Errorf("old case, --no-verify:\n%s", md)
	}
}

// TestReportRejectedLinesAndExitStatus: lines of the sources that cannot
// be read as audit events are listed with FILE:LINE and the reason (they
// were one count, "audittui query names them"), and the exit status is 1
// exactly when the Problems section is not empty: rejected lines were a
// problem with exit 0, a broken export exit 1 with no problem listed
// (review K6). Both with the alerts evaluated and with --no-alerts, and
// in HTML.
func TestReportRejectedLinesAndExitStatus(t *testing.T) {
	nc := newNodesCase(t)
	agree := func(what string, code int, md string) {
		t.Helper()
		if problems := strings.Contains(md, "## Problems"); problems != (code != 0) {
			t.Errorf("%s: exit %d, Problems section: %v", what, code, problems)
		}
	}
	code, md, errOut := reportCmd(t, "--no-alerts", nc.dir)
	agree("untouched", code, md)
	if code != 0 || strings.Contains(md, "Lines not read") {
		t.Fatalf("untouched: exit %d %s\n%s", code, errOut, md)
	}

	// Two lines no decoder reads, appended to a node file.
	p := filepath.Join(nc.nodes, "audit-cp3.log")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	n := bytes.Count(b, []byte("\n"))
	os.WriteFile(p, append(b, "{\"kind\":\"Event\",\"auditID\":\n\x01not an event\n"...), 0o644)
	for _, args := range [][]string{{"--no-alerts"}, nil, {"-o", "html"}} {
		code, out, errOut := reportCmd(t, append(args, nc.dir)...)
		what := fmt.Sprintf("rejected lines %q", args)
		if args == nil || args[0] != "-o" {
			agree(what, code, out)
		}
		if code != cmdutil.ExitInputError || !strings.Contains(errOut, "2 lines of the sources could not be read as audit events") {
			t.Errorf("%s: exit %d %s", what, code, errOut)
		}
		for k := 1; k <= 2; k++ {
			where := fmt.Sprintf("%s:%d", p, n+k)
			if !strings.Contains(out, "- "+mdCode(where)+": ") && !strings.Contains(out, "<li><code>"+where+"</code>: ") {
				t.Errorf("%s: %s is not listed:\n%s", what, where, out)
			}
		}
		if !strings.Contains(out, "2 lines of the sources could not be read as audit events (listed under Lines not read as audit events)") {
			t.Errorf("%s: not a problem:\n%s", what, out)
		}
	}
	os.WriteFile(p, b, 0o644)

	// An export that no longer matches its manifest, alone: a problem.
	os.WriteFile(filepath.Join(nc.export, evidence.EventsFile), []byte("changed\n"), 0o644)
	for _, args := range [][]string{{"--no-alerts"}, {"--no-verify"}} {
		code, md, errOut := reportCmd(t, append(args, nc.dir)...)
		agree(fmt.Sprintf("export changed %q", args), code, md)
		if code != cmdutil.ExitInputError || !strings.Contains(md, "- export "+mdText(nc.export)+": does not match its manifest: MISMATCH events.jsonl") ||
			!strings.Contains(errOut, "1 export did not match its manifest") {
			t.Errorf("export changed %q: exit %d %s\n%s", args, code, errOut, md)
		}
	}
}

// TestReportReadsAsRecorded: a session read a reviewer's tree
// (ev/node-a/audit.log, ev/node-b/audit.log) with -r and --label; the case
// records both, so `report CASE`, without SOURCE or -r, reads the tree as
// the session did and the events bookmarked in it check out (the
// directory holds only subdirectories: read without -r it is refused).
func TestReportReadsAsRecorded(t *testing.T) {
	ev := t.TempDir()
	for n, node := range []string{"node-a", "node-b"} {
		var lines []string
		for i := range 5 {
			lines = append(lines, rotEvent(fmt.Sprintf("%s-%d", node, i), "get", "/api/v1/namespaces/payments/secrets/k", "secrets", "payments", "k", "", 200, 10*n+i))
		}
		os.MkdirAll(filepath.Join(ev, node), 0o755)
		if err := os.WriteFile(filepath.Join(ev, node, "audit.log"), []byte(strings.Join(lines, "")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	src, err := file.New(ev, file.Options{Recursive: true})
	if err != nil {
		t.Fatal(err)
	}
	refs := pickEvents(t, src, data.ReadOptions{}, func(e *data.Event) bool { return e.Origin.Line == 3 })
	if len(refs) != 2 {
		t.Fatalf("%d events picked", len(refs))
	}
	c, err := casefile.Open(filepath.Join(t.TempDir(), "case"))
	if err != nil {
		t.Fatal(err)
	}
	add(t, c, casefile.Record{Kind: casefile.KindOpen, Sources: []string{ev}, Recursive: true, Labels: []string{"job=kube-audit"}})
	for _, r := range refs {
		add(t, c, casefile.Record{Kind: casefile.KindBookmark, Event: &r})
	}
	code, md, errOut := reportCmd(t, "--no-alerts", c.Dir())
	if code != 0 || strings.Count(md, "OK: the bytes at the citation") != 2 {
		t.Errorf("exit %d %s\n%s", code, errOut, md)
	}
}

// TestReportReadsTheRecordedCluster: a session read a managed cluster's
// export with --cluster prod; its view and a rule select cluster="prod".
// The case records --cluster, so `report CASE` reads the file with it:
// the rule fires, the view's query command line carries it (run, it
// lists the events), and the Sources section says it was the case's. The
// same with the evidence copied elsewhere (SOURCE given: the case's
// flags still apply); --cluster given on the command line replaces the
// case's, and the report says so.
func TestReportReadsTheRecordedCluster(t *testing.T) {
	ev := filepath.Join(t.TempDir(), "eks-export.log")
	var lines []string
	for i := range 4 {
		lines = append(lines, rotEvent(fmt.Sprintf("c-%d", i), "get", "/api/v1/namespaces/payments/secrets/k", "secrets", "payments", "k", "", 200, i))
	}
	if err := os.WriteFile(ev, []byte(strings.Join(lines, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := file.New(ev, file.Options{Cluster: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	refs := pickEvents(t, src, data.ReadOptions{}, func(e *data.Event) bool { return e.Origin.Line == 2 })
	c, err := casefile.Open(filepath.Join(t.TempDir(), "case"))
	if err != nil {
		t.Fatal(err)
	}
	const q = `{cluster="prod"} | json | objectRef_resource="secrets"`
	add(t, c, casefile.Record{Kind: casefile.KindOpen, Sources: []string{ev}, Cluster: "prod"})
	add(t, c, casefile.Record{Kind: casefile.KindView, Query: q})
	add(t, c, casefile.Record{Kind: casefile.KindBookmark, Event: &refs[0]})
	rules := filepath.Join(t.TempDir(), "r.yaml")
	os.WriteFile(rules, []byte(`groups:
  - name: prod
    rules:
      - alert: ProdSecretRead
        expr: sum by (cluster) (count_over_time({cluster="prod"} | json | objectRef_resource="secrets" [5m])) > 0
`), 0o644)
	copied := filepath.Join(t.TempDir(), "copy.log")
	os.WriteFile(copied, []byte(strings.Join(lines, "")), 0o644)

	for _, tc := range []struct {
		name  string
		args  []string
		fires bool
		flag  string
	}{
		{"the case's sources", nil, true, "- `--cluster prod` (recorded by the case)"},
		{"SOURCE given", []string{copied}, true, "- `--cluster prod` (recorded by the case)"},
		{"--cluster given", []string{"--cluster", "staging"}, false, "- `--cluster staging` (given on the command line, in place of the case's --cluster prod)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"--no-builtin", "--rules", rules}, tc.args[:len(tc.args)-len(tc.args)%2]...)
			args = append(args, c.Dir())
			if len(tc.args)%2 == 1 {
				args = append(args, tc.args[0])
			}
			code, md, errOut := reportCmd(t, args...)
			if fired := strings.Contains(md, "ProdSecretRead"); fired != tc.fires || !strings.Contains(md, tc.flag) {
				t.Errorf("fired %v, want %v; exit %d %s\n%s", fired, tc.fires, code, errOut, md)
			}
			hargs := append([]string{"-o", "html"}, args...)
			if _, html, _ := reportCmd(t, hargs...); !strings.Contains(html, "<li><code>"+strings.TrimSuffix(strings.TrimPrefix(strings.SplitN(tc.flag, "` (", 2)[0], "- `"), "`")+"</code> (") {
				t.Errorf("html does not say %s:\n%s", tc.flag, html)
			}
			if !tc.fires {
				return
			}
			if code != 0 || (tc.args == nil && !strings.Contains(md, "OK: the bytes at the citation")) {
				t.Errorf("exit %d %s\n%s", code, errOut, md)
			}
			// The view's command line lists the events read with the flag.
			m := regexp.MustCompile("(?m)`(audittui query -o raw .*)` \\|$").FindStringSubmatch(md)
			if m == nil {
				t.Fatalf("no command line:\n%s", md)
			}
			words := shellWords(strings.ReplaceAll(m[1], `\|`, "|"))
			if len(words) < 5 || !strings.Contains(m[1], "--cluster prod") {
				t.Fatalf("command line %q", m[1])
			}
			qcode, out, qerr := clitest.Run(t, func(f *cmdutil.Factory) *cobra.Command { return query.NewCmdQuery(f, nil) }, "", words[2:]...)
			if qcode != 0 || strings.Count(out, "\n") != len(lines) {
				t.Errorf("%s: exit %d, %d lines %s", m[1], qcode, strings.Count(out, "\n"), qerr)
			}
		})
	}
}

// shellWords splits a command line ShellQuote wrote into its words.
func shellWords(s string) []string {
	var out []string
	var w strings.Builder
	in, has := false, false
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case ch == '\'':
			in, has = !in, true
		case ch == ' ' && !in:
			if has {
				out = append(out, w.String())
			}
			w.Reset()
			has = false
		case ch == '\\' && !in && i+1 < len(s):
			i++
			w.WriteByte(s[i])
			has = true
		default:
			w.WriteByte(ch)
			has = true
		}
	}
	if has {
		out = append(out, w.String())
	}
	return out
}

// TestReportShowsExportNotRead: an export whose sources held directories
// it did not read (MANIFEST.json's not_read) says so under the export, in
// Markdown and HTML (review M 14).
func TestReportShowsExportNotRead(t *testing.T) {
	nc := newNodesCase(t)
	dir := filepath.Join(t.TempDir(), "flat")
	sub := filepath.Join(nc.nodes, "node-x")
	d, err := evidence.Create(dir, evidence.Manifest{Sources: []string{nc.nodes},
		NotRead: []evidence.NotRead{{Path: sub, Reason: "a subdirectory: not read without -r (--recursive)"}}}, false)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := d.Events()
	w.Write([]byte(`{"auditID":"y"}`))
	w.Close()
	m, err := d.WriteManifests()
	if err != nil {
		t.Fatal(err)
	}
	msum, _, _ := evidence.HashFile(filepath.Join(dir, evidence.ManifestSHA))
	c, err := casefile.Open(nc.dir)
	if err != nil {
		t.Fatal(err)
	}
	add(t, c, casefile.Record{Kind: casefile.KindExport, Query: `{job="audit"} | json`, Export: &casefile.Export{Dir: dir, Events: m.Events, ManifestSHA256: msum,
		Entries: []casefile.ExportEntry{{Path: m.Entries[0].Path, SHA256: m.Entries[0].SHA256, Size: m.Entries[0].Size}}}})
	want := "not read, so not exported: " + sub + " (a subdirectory: not read without -r (--recursive))"
	code, md, errOut := reportCmd(t, "--no-verify", nc.dir)
	if code != 0 || !strings.Contains(md, "- not read, so not exported: "+mdText(sub+" (a subdirectory: not read without -r (--recursive))")) {
		t.Errorf("markdown: exit %d %s, want %q under the export:\n%s", code, errOut, want, md)
	}
	if strings.Count(md, "not read, so not exported") != 1 {
		t.Errorf("markdown: the other export read everything, yet:\n%s", md)
	}
	code, html, errOut := reportCmd(t, "--no-verify", "-o", "html", nc.dir)
	if code != 0 || !strings.Contains(html, "<li>"+want+"</li>") {
		t.Errorf("html: exit %d %s, want %q:\n%s", code, errOut, want, html)
	}
}

// TestReportExportGoneIsAProblem: an export that left out events whose
// bytes were gone (MANIFEST.json's events_gone: :export after a
// copytruncate) is a problem: listed under Problems with the export and
// the count, and the exit status is 1, though its files match their
// manifest.
func TestReportExportGoneIsAProblem(t *testing.T) {
	nc := newNodesCase(t)
	dir := filepath.Join(t.TempDir(), "cut")
	gone := []evidence.GoneEvents{{Source: "audit.log", Events: 1, Unsearched: 2, First: "audit.log:7", Reason: "cut in place"},
		{Source: "other.log", Events: 1, First: "other.log:3", Reason: "cut in place"}}
	d, err := evidence.Create(dir, evidence.Manifest{Sources: []string{nc.nodes}}, false)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := d.Events()
	w.Write([]byte(`{"auditID":"y"}`))
	w.Close()
	d.Update(func(m *evidence.Manifest) { m.EventsGone, m.Gone = 4, gone })
	m, err := d.WriteManifests()
	if err != nil {
		t.Fatal(err)
	}
	msum, _, _ := evidence.HashFile(filepath.Join(dir, evidence.ManifestSHA))
	c, err := casefile.Open(nc.dir)
	if err != nil {
		t.Fatal(err)
	}
	ex := &casefile.Export{Dir: dir, Events: m.Events, ManifestSHA256: msum, EventsGone: m.EventsGone,
		Entries: []casefile.ExportEntry{{Path: m.Entries[0].Path, SHA256: m.Entries[0].SHA256, Size: m.Entries[0].Size}}}
	for _, g := range m.Gone {
		ex.Gone = append(ex.Gone, casefile.ExportGone{Source: g.Source, Events: g.Events, Unsearched: g.Unsearched, First: g.First})
	}
	add(t, c, casefile.Record{Kind: casefile.KindExport, Query: `{job="audit"} | json`, Export: ex})
	want := "export " + dir + ": 4 events NOT exported, their bytes were gone (3 of audit.log, 1 of other.log; listed under the export)"
	code, md, errOut := reportCmd(t, "--no-verify", nc.dir)
	if code != cmdutil.ExitInputError || !strings.Contains(md, "## Problems") || !strings.Contains(md, "- "+mdText(want)+"\n") ||
		!strings.Contains(errOut, "1 export left out events whose bytes were gone") {
		t.Errorf("markdown: exit %d %s, want the problem %q:\n%s", code, errOut, want, md)
	}
	if !strings.Contains(md, "checked now: OK") {
		t.Errorf("the export's files match their manifest, yet:\n%s", md)
	}
	code, html, errOut := reportCmd(t, "--no-verify", "-o", "html", nc.dir)
	if code != cmdutil.ExitInputError || !strings.Contains(html, `<li class="bad">`+want+"</li>") {
		t.Errorf("html: exit %d %s, want %q:\n%s", code, errOut, want, html)
	}
}

// TestReportShowsSourceNotRead: a directory SOURCE of the case holding a
// subdirectory the sessions did not read (no -r) says so in the report,
// under that source and in the Summary, not only on stderr: the report is
// what the reader gets, and evidence there was not examined
// (report-review 3: a case over ev/ with ev/node-a/audit.log made a
// report that never named node-a).
func TestReportShowsSourceNotRead(t *testing.T) {
	ev := t.TempDir()
	sub := filepath.Join(ev, "node-a")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(ev, "audit.log"), []byte(rotEvent("n-1", "get", "/api/v1/namespaces/x/secrets/s", "secrets", "x", "s", "", 200, 1)), 0o644)
	os.WriteFile(filepath.Join(sub, "audit.log"), []byte(rotEvent("n-2", "delete", "/api/v1/namespaces/x/secrets/s", "secrets", "x", "s", "", 200, 2)), 0o644)
	c, err := casefile.Open(filepath.Join(t.TempDir(), "case"))
	if err != nil {
		t.Fatal(err)
	}
	add(t, c, casefile.Record{Kind: casefile.KindOpen, Sources: []string{ev}})
	why := "a subdirectory: not read without -r (--recursive)"
	code, md, errOut := reportCmd(t, "--no-alerts", c.Dir())
	if code != 0 || !strings.Contains(md, "- "+mdCode(sub)+": "+mdText(why)+"\n") ||
		!strings.Contains(md, "- Not read: 1 directory the sources hold (listed under Sources)\n") {
		t.Errorf("markdown: exit %d %s\n%s", code, errOut, md)
	}
	code, html, errOut := reportCmd(t, "--no-alerts", "-o", "html", c.Dir())
	if code != 0 || !strings.Contains(html, "<li><code>"+sub+"</code>: "+why+"</li>") ||
		!strings.Contains(html, "<li>Not read: 1 directory the sources hold (listed under Sources)</li>") {
		t.Errorf("html: exit %d %s\n%s", code, errOut, html)
	}
	// Read with -r, nothing is left out, and nothing is said.
	code, md, _ = reportCmd(t, "--no-alerts", "-r", c.Dir())
	if code != 0 || strings.Contains(md, why) || strings.Contains(md, "Not read:") {
		t.Errorf("-r: exit %d\n%s", code, md)
	}
}

// TestReportSaysWhenTheEventsRead: the Summary says how many events the
// sources hold in the window (an exact copy once, as `query` counts;
// those without a time said) and the times of the first and the last, as
// the TUI's header does ("all 02:00:00 → 03:59:59 UTC"): "all events read
// (no window)" alone told the reader nothing of when (report-review 4),
// nor how much. Nothing read, nothing said.
func TestReportSaysWhenTheEventsRead(t *testing.T) {
	ev := filepath.Join(t.TempDir(), "audit.log")
	undated := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"u-0","stage":"ResponseComplete","verb":"get","requestURI":"/api","user":{"username":"x"}}` + "\n"
	w1 := rotEvent("w-1", "get", "/api/v1/namespaces/x/secrets/s", "secrets", "x", "s", "", 200, 3)
	os.WriteFile(ev, []byte(rotEvent("w-2", "get", "/api/v1/namespaces/x/secrets/s", "secrets", "x", "s", "", 200, 7)+undated+
		w1+rotEvent("w-3", "get", "/api/v1/namespaces/x/secrets/s", "secrets", "x", "s", "", 200, 12)+w1), 0o644)
	c, err := casefile.Open(filepath.Join(t.TempDir(), "case"))
	if err != nil {
		t.Fatal(err)
	}
	add(t, c, casefile.Record{Kind: casefile.KindOpen, Sources: []string{ev}})
	want := "4 events (1 without a time), 2026-03-14 09:00:03.000000 UTC → 2026-03-14 09:00:12.000000 UTC (the times of the first and the last event); 1 exact copy of an event counted once"
	code, md, errOut := reportCmd(t, c.Dir())
	if code != 0 || !strings.Contains(md, "- Window: all events read (no window)\n- Events read: "+want+"\n") {
		t.Errorf("markdown: exit %d %s\n%s", code, errOut, md)
	}
	code, html, _ := reportCmd(t, "--no-alerts", "-o", "html", c.Dir())
	if code != 0 || !strings.Contains(html, "<li>Events read: "+want+"</li>") {
		t.Errorf("html: exit %d\n%s", code, html)
	}
	code, md, _ = reportCmd(t, "--no-alerts", "--from", "2026-03-14T09:00:04Z", c.Dir())
	if code != 0 || !strings.Contains(md, "- Events read: 2 events, 2026-03-14 09:00:07.000000 UTC → 2026-03-14 09:00:12.000000 UTC (the times of the first and the last event)\n") {
		t.Errorf("--from: exit %d\n%s", code, md)
	}
	code, md, _ = reportCmd(t, "--no-alerts", "--from", "2026-03-15T00:00:00Z", c.Dir())
	if code != 0 || strings.Contains(md, "- Events read:") {
		t.Errorf("nothing in the window: exit %d\n%s", code, md)
	}
}

// TestReportJoinedLineCitation: an event read from the rest of a line
// that holds an event cut short before it (an API server that crashed
// mid-write, then appended its next event) is cited FILE:LINE:COL; a case
// that bookmarked it re-checks OK at that citation, in the file and in a
// gzipped rotation of it, and the README's recipe cuts its bytes there
// (evidence-review, on the real audit2rbac log).
func TestReportJoinedLineCitation(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testutil.RealData(t), "audit", "audit2rbac-demo-v1.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(b, []byte("\n"))
	var in []byte
	for i, l := range lines {
		if i == 5 {
			l = l[:len(l)/2] // cut short; the next line appended to it
		}
		in = append(in, l...)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	os.WriteFile(path, in, 0o644)
	src, err := file.New(path, file.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var joined []casefile.EventRef
	n := 0
	refs := pickEvents(t, src, data.ReadOptions{}, func(e *data.Event) bool {
		n++
		return e.Origin.Line == 6
	})
	joined = refs
	if n != len(lines)-2 || len(joined) != 1 || joined[0].Cite != fmt.Sprintf("%s:6:%d", path, len(lines[5])/2+1) {
		t.Fatalf("%d events of %d lines; on line 6: %+v", n, len(lines)-1, joined)
	}
	ref := joined[0]
	if got := cutRecord(t, in, 6, int64(len(lines[5])/2+1), ref.Length); hexSHA(got) != ref.SHA256 || !bytes.Equal(got, bytes.TrimSuffix(lines[6], []byte("\n"))) {
		t.Fatalf("the recipe cuts %q", got)
	}
	c, err := casefile.Open(filepath.Join(dir, "case"))
	if err != nil {
		t.Fatal(err)
	}
	add(t, c, casefile.Record{Kind: casefile.KindOpen, Sources: []string{path}})
	add(t, c, casefile.Record{Kind: casefile.KindBookmark, Event: &ref})
	code, md, errOut := reportCmd(t, "--no-alerts", filepath.Join(dir, "case"))
	if !strings.Contains(md, mdCode(ref.Cite)) || strings.Count(md, "OK: the bytes at the citation have this sha256") != 1 {
		t.Fatalf("exit %d %s\n%s", code, errOut, md)
	}
	// Rotated and gzipped: the same line and column of the backup.
	gzipFile(t, path)
	code, md, errOut = reportCmd(t, "--no-alerts", filepath.Join(dir, "case"), path+".gz")
	if !strings.Contains(md, "OK: the same bytes were found at "+path+".gz:6:"+fmt.Sprint(len(lines[5])/2+1)) {
		t.Fatalf("gzipped: exit %d %s\n%s", code, errOut, md)
	}
}

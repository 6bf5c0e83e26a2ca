package report

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/casefile"
	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/file"
	"github.com/audittui/audittui/internal/evidence"
	"github.com/audittui/audittui/internal/testutil"
)

// fpCase is a case over a directory holding copies of two real audit
// logs (the falco traces and the audit2rbac demo), with the 20th event of
// the falco traces bookmarked, and, unless old, the fingerprints the TUI
// records of the files when it opens them.
type fpCase struct {
	dir, evidence, falco, demo string
	ref                        casefile.EventRef
	lines                      []string // the falco copy's lines, with their line endings
}

func newFingerprintCase(t *testing.T, old bool) fpCase {
	t.Helper()
	ev := filepath.Join(t.TempDir(), "evidence")
	os.MkdirAll(ev, 0o755)
	fc := fpCase{evidence: ev, falco: filepath.Join(ev, "falco.jsonl"), demo: filepath.Join(ev, "demo.jsonl")}
	for src, dst := range map[string]string{"falco-legacy-k8s-audit-traces.jsonl": fc.falco, "audit2rbac-demo-v1.jsonl": fc.demo} {
		b, err := os.ReadFile(filepath.Join(testutil.RealData(t), "audit", src))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(dst, b, 0o644)
		if dst == fc.falco {
			fc.lines = strings.SplitAfter(string(b), "\n")
		}
	}
	src, err := file.New(fc.falco, file.Options{})
	if err != nil {
		t.Fatal(err)
	}
	refs := pickEvents(t, src, data.ReadOptions{}, func(e *data.Event) bool { return e.Origin.Line == 20 })
	if len(refs) != 1 {
		t.Fatalf("%d events at line 20", len(refs))
	}
	fc.ref = refs[0]
	fc.dir = filepath.Join(t.TempDir(), "case")
	c, err := casefile.Open(fc.dir)
	if err != nil {
		t.Fatal(err)
	}
	c.Author = "alice"
	add(t, c, casefile.Record{Kind: casefile.KindOpen, Sources: []string{ev}})
	if !old {
		for _, p := range []string{fc.demo, fc.falco} {
			fp, err := evidence.FingerprintFile(p)
			if err != nil {
				t.Fatal(err)
			}
			add(t, c, casefile.Record{Kind: casefile.KindFingerprint, File: &casefile.SourceFile{Path: p, Size: fp.Size, SHA256: fp.SHA256, ModTime: fp.ModTime}})
		}
	}
	add(t, c, casefile.Record{Kind: casefile.KindBookmark, Event: &fc.ref})
	return fc
}

// write replaces the falco copy's lines.
func (fc fpCase) write(t *testing.T, lines []string) {
	t.Helper()
	if err := os.WriteFile(fc.falco, []byte(strings.Join(lines, "")), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestReportSourceChangedInPlace: the case records each source file's
// size and sha256 when it is opened; a report after a line was inserted
// at the top of the evidence (the cited bytes one line down) says the
// file changed since, that the cited line moved from 20 to 21, and exits
// 1 (it said "OK ... the sources were opened from elsewhere", exit 0).
// The cited line removed: another event's bytes are at the citation. The
// file cut before it: the bytes are gone. A line appended (a live
// audit.log) is growth: the recorded bytes are unchanged, exit 0. A file
// of the directory deleted is gone.
func TestReportSourceChangedInPlace(t *testing.T) {
	fc := newFingerprintCase(t, false)
	code, md, errOut := reportCmd(t, "--no-alerts", fc.dir)
	if code != 0 || !strings.Contains(md, "OK: the bytes at the citation have this sha256") || strings.Count(md, "| unchanged since the case recorded it at ") != 2 {
		t.Fatalf("untouched: exit %d %s\n%s", code, errOut, md)
	}

	// A line inserted at the top.
	fc.write(t, append([]string{fc.lines[0]}, fc.lines...))
	code, md, errOut = reportCmd(t, "--no-alerts", fc.dir)
	if code != cmdutil.ExitInputError {
		t.Errorf("line inserted: exit %d, want %d", code, cmdutil.ExitInputError)
	}
	for _, want := range []string{
		"**MOVED: the cited line moved from 20 to 21 (the same bytes are at " + fc.falco + ":21): the file changed since the case recorded it at ",
		fmt.Sprintf("by alice (%d bytes, sha256 ", len(strings.Join(fc.lines, ""))),
		fmt.Sprintf("it has %d bytes now, and its first %d bytes are not those recorded", len(strings.Join(fc.lines, ""))+len(fc.lines[0]), len(strings.Join(fc.lines, ""))),
		"| **CHANGED: the file changed since the case recorded it at ",
		"- source file " + fc.falco + ": the file changed since the case recorded it at ",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("line inserted: the report lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "opened from elsewhere") || !strings.Contains(md, "| unchanged since the case recorded it at ") {
		t.Errorf("line inserted: %s", md)
	}
	if !strings.Contains(errOut, "1 cited event did not check out; 1 source file changed or gone since the case recorded it") {
		t.Errorf("line inserted: stderr %s", errOut)
	}

	// The cited line removed: another event is at line 20.
	fc.write(t, append(append([]string{}, fc.lines[:19]...), fc.lines[20:]...))
	code, md, _ = reportCmd(t, "--no-alerts", fc.dir)
	if code != cmdutil.ExitInputError || !strings.Contains(md, "**MISMATCH: the bytes at the citation now have sha256 "+hexSHA([]byte(strings.TrimSuffix(fc.lines[20], "\n")))+
		"; the file changed since the case recorded it at ") {
		t.Errorf("line removed: exit %d\n%s", code, md)
	}
	// The file cut before the cited line: the bytes are gone.
	fc.write(t, fc.lines[:19])
	code, md, _ = reportCmd(t, "--no-alerts", fc.dir)
	if code != cmdutil.ExitInputError || !strings.Contains(md, "**NOT FOUND: the bytes are gone: the file changed since the case recorded it at ") ||
		!strings.Contains(md, "bytes now, ") {
		t.Errorf("file cut: exit %d\n%s", code, md)
	}

	// A line appended to a file no session followed (the directory of
	// two files is read once): a change, not growth (review K1).
	grown := append(append([]string{}, fc.lines...), strings.Replace(fc.lines[0], `"auditID":"`, `"auditID":"appended-`, 1))
	fc.write(t, grown)
	code, md, errOut = reportCmd(t, "--no-alerts", fc.dir)
	if code != cmdutil.ExitInputError || !strings.Contains(md, fmt.Sprintf("| **CHANGED: the file grew by %d bytes since the case recorded it at ", len(grown[len(grown)-1]))) ||
		!strings.Contains(md, "- source file "+mdText(fc.falco)+": the file grew by ") || strings.Contains(md, "| grew by ") {
		t.Errorf("line appended: exit %d %s\n%s", code, errOut, md)
	}

	// The other file deleted.
	fc.write(t, fc.lines)
	os.Remove(fc.demo)
	code, md, _ = reportCmd(t, "--no-alerts", fc.dir)
	if code != cmdutil.ExitInputError || !strings.Contains(md, "| "+mdCode(fc.demo)+" | **GONE** | 0 | **the file is gone: the case recorded it at ") {
		t.Errorf("file deleted: exit %d\n%s", code, md)
	}
}

// TestReportSourceChangedOldCase: a case written before fingerprints were
// recorded reads as before ("not recorded"); a cited line that moved
// within its file still shows the file changed: MOVED, exit 1.
func TestReportSourceChangedOldCase(t *testing.T) {
	fc := newFingerprintCase(t, true)
	code, md, errOut := reportCmd(t, "--no-alerts", fc.dir)
	if code != 0 || strings.Count(md, "| not recorded (the case holds no fingerprint of its sources") != 2 {
		t.Fatalf("untouched: exit %d %s\n%s", code, errOut, md)
	}
	fc.write(t, append([]string{fc.lines[0]}, fc.lines...))
	code, md, _ = reportCmd(t, "--no-alerts", fc.dir)
	if code != cmdutil.ExitInputError || !strings.Contains(md, "**MOVED: the cited line moved from 20 to 21 (the same bytes are at "+fc.falco+":21): the case recorded no fingerprint of the file, so how it changed cannot be told**") {
		t.Errorf("line inserted: exit %d\n%s", code, md)
	}
}

// TestReportGivenSourcesMatchFingerprints: evidence copied elsewhere and
// given on the command line is matched with the case's fingerprints by
// content.
func TestReportGivenSourcesMatchFingerprints(t *testing.T) {
	fc := newFingerprintCase(t, false)
	cp := filepath.Join(t.TempDir(), "copy.jsonl")
	b, _ := os.ReadFile(fc.falco)
	os.WriteFile(cp, b, 0o644)
	code, md, errOut := reportCmd(t, "--no-alerts", fc.dir, cp)
	if code != 0 || !strings.Contains(md, "| the same bytes the case recorded for "+fc.falco+" at ") {
		t.Errorf("exit %d %s\n%s", code, errOut, md)
	}
}

// TestReportChangedAfterRead: the case fingerprints a followed file at
// open; the bookmarked event came later (line 20, past the 10 lines
// recorded). Cut back past it, the file's recorded bytes are unchanged,
// but the report must not call it unchanged: its row says the cited line
// is beyond its lines (cut after the session read it), and the failed
// citation is listed under Problems and counted in the Summary (review
// F finding 4: "unchanged", NOT FOUND, no Problems). An edit of the
// cited line past the recorded bytes is a change after the read too.
func TestReportChangedAfterRead(t *testing.T) {
	fc := newFingerprintCase(t, true)
	c, err := casefile.Open(fc.dir)
	if err != nil {
		t.Fatal(err)
	}
	fc.write(t, fc.lines[:10])
	fp, err := evidence.FingerprintFile(fc.falco)
	if err != nil {
		t.Fatal(err)
	}
	// The session followed the file (one plain file: followed by default).
	add(t, c, casefile.Record{Kind: casefile.KindOpen, Sources: []string{fc.falco}})
	add(t, c, casefile.Record{Kind: casefile.KindFingerprint, File: &casefile.SourceFile{Path: fc.falco, Size: fp.Size, SHA256: fp.SHA256, ModTime: fp.ModTime}})

	fc.write(t, fc.lines) // the session read on: line 20 is bookmarked
	code, md, errOut := reportCmd(t, "--no-alerts", fc.dir)
	if code != 0 || !strings.Contains(md, "| grew by ") || strings.Contains(md, "## Problems") {
		t.Fatalf("grown: exit %d %s\n%s", code, errOut, md)
	}

	fc.write(t, fc.lines[:15]) // cut back, past the recorded bytes
	code, md, _ = reportCmd(t, "--no-alerts", fc.dir)
	cut := fmt.Sprintf("the cited line 20 is beyond the file's 15 lines: cut after the session read it (its first %d bytes, sha256 %s, are those the case recorded at ", fp.Size, fp.SHA256)
	for _, want := range []string{
		"| **CHANGED: " + cut,
		"**NOT FOUND: the bytes are gone: " + cut,
		"- **Problems: 2** (listed at the end)",
		"- cited event 1 (" + strings.ReplaceAll(fc.ref.Cite, "_", `\_`) + "): NOT FOUND: the bytes are gone: " + cut,
		"- source file " + strings.ReplaceAll(fc.falco, "_", `\_`) + ": " + cut,
	} {
		if !strings.Contains(md, want) {
			t.Errorf("cut back: the report lacks %q", want)
		}
	}
	if code != cmdutil.ExitInputError || strings.Contains(md, "unchanged since the case recorded it") {
		t.Errorf("cut back: exit %d\n%s", code, md)
	}

	// The cited line edited, the file as long as the session read it.
	edited := append([]string{}, fc.lines...)
	edited[19] = strings.Replace(edited[19], `"auditID":"`, `"auditID":"x`, 1)
	fc.write(t, edited)
	code, md, _ = reportCmd(t, "--no-alerts", fc.dir)
	if code != cmdutil.ExitInputError || !strings.Contains(md, "| **CHANGED: the cited line 20 does not hold the cited bytes: the file changed after the session read it (its first ") ||
		!strings.Contains(md, "- cited event 1 (") || !strings.Contains(md, "): MISMATCH: the bytes at the citation now have sha256 ") {
		t.Errorf("cited line edited: exit %d\n%s", code, md)
	}
}

// gzipFile compresses the file at p to p.gz and removes p, as gzip does.
func gzipFile(t *testing.T, p string) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	if err := os.WriteFile(p+".gz", buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Remove(p)
}

// TestReportAfterRotation: the evidence was rotated after the case
// recorded it (falco.jsonl -> falco.jsonl.1, a new falco.jsonl begun). A
// file read that holds the recorded bytes (size and sha256; a .gz one
// decompressed) means the recorded file is found, not changed: the file
// at its path is a new one, and the report exits 0 when every citation
// checks (it said CHANGED, exit 1; review F finding 5). Without SOURCE, a
// case whose source is the file itself reads the new file and, in the
// source's place, the file beside it that holds the recorded bytes (it
// read the new file only and said CHANGED, or GONE: review I finding 3).
func TestReportAfterRotation(t *testing.T) {
	fc := newFingerprintCase(t, false)
	rotated := fc.falco + ".1"
	if err := os.Rename(fc.falco, rotated); err != nil {
		t.Fatal(err)
	}
	fc.write(t, fc.lines[:5])
	newFile := "| a new file at this path, not one the case recorded: the bytes the case recorded for it at "
	for _, args := range [][]string{{fc.dir}, {fc.dir, fc.evidence}, {fc.dir, fc.falco, rotated, fc.demo}} {
		code, md, errOut := reportCmd(t, append([]string{"--no-alerts"}, args...)...)
		if code != 0 || !strings.Contains(md, newFile) || !strings.Contains(md, " are in "+rotated+" (rotated or moved there) |") ||
			!strings.Contains(md, "| "+mdCode(rotated)+" | `") || !strings.Contains(md, "| the same bytes the case recorded for "+fc.falco+" at ") ||
			!strings.Contains(md, "OK: the same bytes were found at "+rotated+":20") {
			t.Errorf("report %q: exit %d %s\n%s", args, code, errOut, md)
		}
	}
	gzipFile(t, rotated)
	code, md, errOut := reportCmd(t, "--no-alerts", fc.dir)
	if code != 0 || !strings.Contains(md, " are in "+rotated+".gz (rotated or moved there) |") ||
		!strings.Contains(md, "| the bytes the case recorded for "+fc.falco+" at ") || !strings.Contains(md, "gzip-compressed: decompressed, the same bytes |") {
		t.Errorf("rotated and compressed: exit %d %s\n%s", code, errOut, md)
	}

	// A case whose source is the file: the report reads the new file,
	// and the file beside it that holds the bytes the case recorded, in
	// the source's place (the apiserver rotated it while it was
	// followed): the citation is found there, the new file is not a
	// change (review I finding 3).
	c, err := casefile.Open(filepath.Join(t.TempDir(), "case"))
	if err != nil {
		t.Fatal(err)
	}
	add(t, c, casefile.Record{Kind: casefile.KindOpen, Sources: []string{fc.falco}})
	orig := []byte(strings.Join(fc.lines, ""))
	add(t, c, casefile.Record{Kind: casefile.KindFingerprint, File: &casefile.SourceFile{Path: fc.falco, Size: int64(len(orig)), SHA256: hexSHA(orig), ModTime: time.Now()}})
	ref := fc.ref
	add(t, c, casefile.Record{Kind: casefile.KindBookmark, Event: &ref})
	beside := "beside the case's source " + fc.falco + ", which a rotation moved here: this file holds the bytes the case recorded for it, read in its place"
	code, md, errOut = reportCmd(t, "--no-alerts", c.Dir())
	if code != 0 || !strings.Contains(md, "### "+mdCode(rotated+".gz")+"\n\n"+mdText(beside)) || !strings.Contains(md, newFile) ||
		!strings.Contains(md, "OK: the same bytes were found at "+rotated+".gz:20 (not at the citation: "+fc.falco+" is a new file, the one the case recorded was rotated or moved)") {
		t.Errorf("the case's own source, rotated: exit %d %s\n%s", code, errOut, md)
	}
	// Rotated away and not recreated: found where it went, not gone.
	os.Remove(fc.falco)
	code, md, errOut = reportCmd(t, "--no-alerts", c.Dir())
	if code != 0 || !strings.Contains(md, "| "+mdCode(fc.falco)+" | - | 0 | gone from this path: the bytes the case recorded for it at ") ||
		!strings.Contains(md, " are in "+rotated+".gz (rotated or moved there) |") || !strings.Contains(md, "OK: the same bytes were found at "+rotated+".gz:20") {
		t.Errorf("the case's own source, rotated away: exit %d %s\n%s", code, errOut, md)
	}
	// The bytes gone from beside it too: GONE, a problem.
	os.Remove(rotated + ".gz")
	code, md, _ = reportCmd(t, "--no-alerts", c.Dir())
	if code != cmdutil.ExitInputError || !strings.Contains(md, "| **GONE** | 0 | **the file is gone: the case recorded it at ") {
		t.Errorf("the case's own source, gone: exit %d\n%s", code, md)
	}
}

// mdText escapes s as the Markdown report does.
func mdText(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("\\`*_[]<>|~&", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// TestReportAlsoAtCopy: with a file and a copy a file manager named
// ("... (copy).log.gz") among the sources, in either order or as their
// directory, the cited event is found at the file the apiserver's
// rotation named, and the report says where the same bytes are also
// (review D finding 10). Real data (the falco traces).
func TestReportAlsoAtCopy(t *testing.T) {
	fc := newFingerprintCase(t, true)
	dir := t.TempDir()
	orig := filepath.Join(dir, "audit-2026-11-20T02-40-20.120.log.gz")
	cp := filepath.Join(dir, "audit-2026-11-20T02-40-20.120 (copy).log.gz")
	for _, p := range []string{orig, cp} {
		os.WriteFile(p, []byte(strings.Join(fc.lines, "")), 0o644)
		gzipFile(t, p)
		os.Rename(p+".gz", p)
	}
	for _, args := range [][]string{{orig, cp}, {cp, orig}, {dir}} {
		code, md, errOut := reportCmd(t, append([]string{"--no-alerts", fc.dir}, args...)...)
		if code != 0 || !strings.Contains(md, "| checked | OK: the same bytes were found at "+orig+":20 (in the sources given on the command line) |") ||
			!strings.Contains(md, "| also at | "+mdCode(cp+":20")+" (the same bytes) |") {
			t.Errorf("%q: exit %d %s\n%s", args, code, errOut, md)
		}
		code, html, _ := reportCmd(t, append([]string{"--no-alerts", "-o", "html", fc.dir}, args...)...)
		if code != 0 || !strings.Contains(html, "<tr><td>also at</td><td><code>"+cp+":20</code> (the same bytes)</td></tr>") {
			t.Errorf("%q: html: exit %d", args, code)
		}
	}
}

// rotEvent is an audit event at t (seconds after 2026-03-14 09:00:00Z).
func rotEvent(id, verb, uri, resource, ns, name, sub string, code, sec int) string {
	ts := time.Date(2026, 3, 14, 9, 0, sec, 0, time.UTC).Format("2006-01-02T15:04:05.000000Z")
	return fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":%q,"stage":"ResponseComplete","requestURI":%q,"verb":%q,"user":{"username":"mallory@corp.example","groups":["system:authenticated"]},"sourceIPs":["203.0.113.66"],"userAgent":"kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46","objectRef":{"resource":%q,"namespace":%q,"name":%q,"apiVersion":"v1","subresource":%q},"responseStatus":{"metadata":{},"code":%d},"requestReceivedTimestamp":%q,"stageTimestamp":%q}`+"\n",
		id, uri, verb, resource, ns, name, sub, code, ts, ts)
}

// TestReportFollowedFileRotated: a session followed audit.log with a
// case; after it opened (and the case recorded the file), an exec into a
// kube-system pod was appended; the apiserver then rotated the file
// (audit-<time>.log, a new audit.log, the backup gzipped), twice. The
// bookmarks cite what the TUI cited: audit.log:N before the rotation
// (other bytes there now), the plain backup's name before it was gzipped,
// the .gz after. `report CASE`, without SOURCE, reads the backups that
// hold what the session read in the source's place: every cited event is
// OK, the exec's alert fires, exit 0 (it said MISMATCH, NOT FOUND: the
// bytes are gone, and "none fired", re-reading only the new audit.log:
// review I finding 3).
func TestReportFollowedFileRotated(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "audit.log")
	first := rotEvent("r-1", "list", "/api/v1/namespaces/payments/secrets", "secrets", "payments", "", "", 200, 0) +
		rotEvent("r-2", "get", "/api/v1/namespaces/payments/secrets/stripe-api-key", "secrets", "payments", "stripe-api-key", "", 200, 1)
	if err := os.WriteFile(live, []byte(first), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := casefile.Open(filepath.Join(t.TempDir(), "case"))
	if err != nil {
		t.Fatal(err)
	}
	add(t, c, casefile.Record{Kind: casefile.KindOpen, Sources: []string{live}, Dir: dir, Files: []string{live}})
	fp, err := evidence.FingerprintFile(live)
	if err != nil {
		t.Fatal(err)
	}
	add(t, c, casefile.Record{Kind: casefile.KindFingerprint, File: &casefile.SourceFile{Path: live, Size: fp.Size, SHA256: fp.SHA256, ModTime: fp.ModTime}})
	// Appended while the session followed the file.
	exec := rotEvent("r-3", "create", "/api/v1/namespaces/kube-system/pods/etcd-cp-1/exec?command=sh&container=etcd&stdin=true&stdout=true&tty=true", "pods", "kube-system", "etcd-cp-1", "exec", 101, 2)
	f, err := os.OpenFile(live, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(exec)
	f.Close()
	read, err := file.New(live, file.Options{})
	if err != nil {
		t.Fatal(err)
	}
	refs := pickEvents(t, read, data.ReadOptions{}, func(*data.Event) bool { return true })
	// The first rotation: bookmarks made before it cite audit.log.
	backup := filepath.Join(dir, "audit-2026-03-14T09-05-00.000.log")
	if err := os.Rename(live, backup); err != nil {
		t.Fatal(err)
	}
	second := rotEvent("r-4", "delete", "/api/v1/namespaces/payments/secrets/stripe-api-key", "secrets", "payments", "stripe-api-key", "", 200, 10)
	os.WriteFile(live, []byte(second), 0o644)
	// Bookmarked after the rename, before the gzip: the plain name.
	cited := refs[1]
	cited.Source, cited.Cite = backup, backup+":2"
	gzipFile(t, backup)
	// The second rotation: the event of the second file bookmarked after
	// its gzip.
	backup2 := filepath.Join(dir, "audit-2026-03-14T09-10-00.000.log")
	if err := os.Rename(live, backup2); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(live, []byte(rotEvent("r-5", "get", "/api/v1/namespaces/default/pods", "pods", "default", "", "", 200, 20)), 0o644)
	gzipFile(t, backup2)
	read2, err := file.New(backup2+".gz", file.Options{})
	if err != nil {
		t.Fatal(err)
	}
	refs2 := pickEvents(t, read2, data.ReadOptions{}, func(*data.Event) bool { return true })
	for _, ref := range []casefile.EventRef{refs[0], cited, refs[2], refs2[0]} {
		add(t, c, casefile.Record{Kind: casefile.KindBookmark, Event: &ref})
	}
	code, md, errOut := reportCmd(t, c.Dir())
	for _, want := range []string{
		"OK: the same bytes were found at " + backup + ".gz:1 (not at the citation: " + live + " is a new file, the one the case recorded was rotated or moved)",
		"OK: the cited file was compressed since; the bytes at the same line of " + backup + ".gz have this sha256",
		"OK: the same bytes were found at " + backup + ".gz:3 (not at the citation: " + live + " is a new file",
		"| checked | OK: the bytes at the citation have this sha256 (sources re-read) |",
		"### " + mdCode(backup+".gz") + "\n\n" + mdText("beside the case's source "+live+", which a rotation moved here: this file holds the bytes the case recorded for it, read in its place"),
		"### " + mdCode(backup2+".gz") + "\n\n" + mdText("rotated after "+backup+".gz (the case's source "+live+" followed through its rotations): read too"),
		"ExecIntoKubeSystem",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the report does not say %q", want)
		}
	}
	if code != 0 || t.Failed() {
		t.Fatalf("exit %d %s\n%s", code, errOut, md)
	}
}

// TestReportGrowthOnlyWhenFollowed: bytes appended to a source file after
// the case recorded it are benign growth only for the live file of a
// session that followed its sources (the active audit.log); a rotated
// backup that grew, or a file a session read once, was altered: CHANGED,
// a problem, exit 1 (review K1: every file's growth was benign).
func TestReportGrowthOnlyWhenFollowed(t *testing.T) {
	no, yes := false, true
	for _, tc := range []struct {
		name    string
		open    func(dir, live, backup string) casefile.Record
		grow    string // "live" or "backup"
		changed bool
	}{
		{"directory followed, live file grew", func(dir, live, backup string) casefile.Record {
			return casefile.Record{Kind: casefile.KindOpen, Sources: []string{dir}}
		}, "live", false},
		{"directory followed, rotated backup grew", func(dir, live, backup string) casefile.Record {
			return casefile.Record{Kind: casefile.KindOpen, Sources: []string{dir}}
		}, "backup", true},
		{"directory read once (--follow=false), live file grew", func(dir, live, backup string) casefile.Record {
			return casefile.Record{Kind: casefile.KindOpen, Sources: []string{dir}, Follow: &no}
		}, "live", true},
		{"one file followed (default), grew", func(dir, live, backup string) casefile.Record {
			return casefile.Record{Kind: casefile.KindOpen, Sources: []string{"audit.log"}, Dir: dir, Files: []string{"audit.log"}}
		}, "live", false},
		{"two files read once (not followed by default), one grew", func(dir, live, backup string) casefile.Record {
			return casefile.Record{Kind: casefile.KindOpen, Sources: []string{live, backup}}
		}, "live", true},
		{"two files with --follow, the live one grew", func(dir, live, backup string) casefile.Record {
			return casefile.Record{Kind: casefile.KindOpen, Sources: []string{live, backup}, Follow: &yes}
		}, "live", false},
		{"the backup alone followed, grew", func(dir, live, backup string) casefile.Record {
			return casefile.Record{Kind: casefile.KindOpen, Sources: []string{backup}, Follow: &yes}
		}, "backup", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			live, backup := filepath.Join(dir, "audit.log"), filepath.Join(dir, "audit.log.1")
			os.WriteFile(backup, []byte(rotEvent("b-1", "get", "/api/v1/namespaces/payments/secrets/k", "secrets", "payments", "k", "", 200, 0)), 0o644)
			os.WriteFile(live, []byte(rotEvent("l-1", "list", "/api/v1/namespaces/payments/secrets", "secrets", "payments", "", "", 200, 5)), 0o644)
			c, err := casefile.Open(filepath.Join(t.TempDir(), "case"))
			if err != nil {
				t.Fatal(err)
			}
			add(t, c, tc.open(dir, live, backup))
			for _, p := range []string{backup, live} {
				fp, err := evidence.FingerprintFile(p)
				if err != nil {
					t.Fatal(err)
				}
				add(t, c, casefile.Record{Kind: casefile.KindFingerprint, File: &casefile.SourceFile{Path: p, Size: fp.Size, SHA256: fp.SHA256, ModTime: fp.ModTime}})
			}
			grown := map[string]string{"live": live, "backup": backup}[tc.grow]
			extra := rotEvent("x-1", "delete", "/api/v1/namespaces/payments/secrets/k", "secrets", "payments", "k", "", 200, 9)
			f, err := os.OpenFile(grown, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString(extra)
			f.Close()
			code, md, errOut := reportCmd(t, "--no-alerts", c.Dir())
			grew := fmt.Sprintf("| grew by %d bytes since the case last recorded it at ", len(extra))
			changed := fmt.Sprintf("| **CHANGED: the file grew by %d bytes since the case recorded it at ", len(extra))
			if tc.changed {
				if code != cmdutil.ExitInputError || !strings.Contains(md, changed) || !strings.Contains(md, "no session followed it live") ||
					!strings.Contains(md, "- source file "+mdText(grown)+": the file grew by ") || strings.Contains(md, grew) {
					t.Errorf("exit %d %s\n%s", code, errOut, md)
				}
			} else if code != 0 || !strings.Contains(md, grew) || strings.Contains(md, "CHANGED") {
				t.Errorf("exit %d %s\n%s", code, errOut, md)
			}
		})
	}
}

// TestReportNewFileInDirectory: a file that appeared in a directory SOURCE
// after the case's sessions read it is listed as NEW (not read by the
// investigation), so the reader knows the evidence set differs: a problem,
// exit 1, when no session followed the directory; expected (exit 0) in a
// directory a session followed, where a rotation adds files. A file the
// case fingerprinted, or that holds bytes it recorded (a rotated copy), is
// not new. (Review K2: such files read as "not recorded", exit 0.)
func TestReportNewFileInDirectory(t *testing.T) {
	yes := true
	for _, tc := range []struct {
		name    string
		follow  *bool
		live    bool // the directory holds one rotated set (audit.log), else two sets
		problem bool
	}{
		{"read once", nil, false, true},
		{"followed (by default: one rotated set)", nil, true, false},
		{"followed (--follow)", &yes, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			names := []string{"node-a.log", "node-b.log"}
			if tc.live {
				names = []string{"audit.log.1", "audit.log"}
			}
			var files []string
			for i, n := range names {
				p := filepath.Join(dir, n)
				os.WriteFile(p, []byte(rotEvent(fmt.Sprintf("e-%d", i), "get", "/api/v1/namespaces/payments/secrets/k", "secrets", "payments", "k", "", 200, i)), 0o644)
				files = append(files, p)
			}
			c, err := casefile.Open(filepath.Join(t.TempDir(), "case"))
			if err != nil {
				t.Fatal(err)
			}
			add(t, c, casefile.Record{Kind: casefile.KindOpen, Sources: []string{dir}, Files: files, Follow: tc.follow})
			for _, p := range files {
				fp, err := evidence.FingerprintFile(p)
				if err != nil {
					t.Fatal(err)
				}
				add(t, c, casefile.Record{Kind: casefile.KindFingerprint, File: &casefile.SourceFile{Path: p, Size: fp.Size, SHA256: fp.SHA256, ModTime: fp.ModTime}})
			}
			code, md, errOut := reportCmd(t, "--no-alerts", c.Dir())
			if code != 0 || strings.Contains(md, "NEW") {
				t.Fatalf("as read: exit %d %s\n%s", code, errOut, md)
			}
			// A copy of a file read (the same bytes) is not new.
			b, _ := os.ReadFile(files[0])
			os.WriteFile(filepath.Join(dir, names[0]+".bak"), b, 0o644)
			added := filepath.Join(dir, "node-c.log")
			if tc.live {
				added = filepath.Join(dir, "audit.log.2")
			}
			os.WriteFile(added, []byte(rotEvent("n-1", "delete", "/api/v1/namespaces/payments/secrets/k", "secrets", "payments", "k", "", 200, 30)), 0o644)
			code, md, errOut = reportCmd(t, "--no-alerts", c.Dir())
			row := "| " + mdCode(added) + " | `"
			isNew := "NEW: not read by the investigation: it appeared in " + dir + " after the case's sessions read it"
			if !strings.Contains(md, row) || !strings.Contains(md, mdText(isNew)) || strings.Count(md, "NEW: not read") != map[bool]int{true: 2, false: 1}[tc.problem] ||
				!strings.Contains(md, "| "+mdCode(filepath.Join(dir, names[0]+".bak"))+" | `"+hexSHA(b)+"` | "+fmt.Sprint(len(b))+" | the same bytes the case recorded for ") {
				t.Errorf("exit %d %s\n%s", code, errOut, md)
			}
			if tc.problem {
				if code != cmdutil.ExitInputError || !strings.Contains(md, "- source file "+mdText(added)+": "+mdText(isNew)+", and no session followed") ||
					!strings.Contains(errOut, "1 source file or object new since the case's sessions read their SOURCE") {
					t.Errorf("not followed: exit %d %s\n%s", code, errOut, md)
				}
			} else if code != 0 || !strings.Contains(md, "a session followed "+mdText(dir)+": new files are expected there") || strings.Contains(md, "## Problems") {
				t.Errorf("followed: exit %d %s\n%s", code, errOut, md)
			}
		})
	}
}

// TestReportRecompressedGzip: a .gz source recompressed since the case
// recorded it (other stored bytes, the same content decompressed) is
// "recompressed: same content", not a problem, exit 0; the case's record
// holds the sha256 of its content (evidence.Fingerprint). Its content
// changed is CHANGED, saying so; a record without the content's sha256
// cannot tell, and says that (review K13: CHANGED, no explanation).
func TestReportRecompressedGzip(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "audit-2026-03-14T09-05-00.000.log.gz")
	var lines []string
	for i := range 5 {
		lines = append(lines, rotEvent(fmt.Sprintf("z-%d", i), "get", "/api/v1/namespaces/payments/secrets/k", "secrets", "payments", "k", "", 200, i))
	}
	write := func(content, name string) {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Name = name // another header: other stored bytes
		zw.Write([]byte(content))
		zw.Close()
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	content := strings.Join(lines, "")
	write(content, "")
	src, err := file.New(p, file.Options{})
	if err != nil {
		t.Fatal(err)
	}
	refs := pickEvents(t, src, data.ReadOptions{}, func(e *data.Event) bool { return e.Origin.Line == 3 })
	fp, err := evidence.FingerprintFile(p)
	if err != nil || fp.ContentSHA256 != hexSHA([]byte(content)) {
		t.Fatalf("%+v %v", fp, err)
	}
	newCase := func(withContent bool) string {
		c, err := casefile.Open(filepath.Join(t.TempDir(), "case"))
		if err != nil {
			t.Fatal(err)
		}
		add(t, c, casefile.Record{Kind: casefile.KindOpen, Sources: []string{p}})
		rec := &casefile.SourceFile{Path: p, Size: fp.Size, SHA256: fp.SHA256, ModTime: fp.ModTime}
		if withContent {
			rec.ContentSHA256 = fp.ContentSHA256
		}
		add(t, c, casefile.Record{Kind: casefile.KindFingerprint, File: rec})
		add(t, c, casefile.Record{Kind: casefile.KindBookmark, Event: &refs[0]})
		return c.Dir()
	}
	withContent, without := newCase(true), newCase(false)

	write(content, "audit.log") // recompressed
	code, md, errOut := reportCmd(t, "--no-alerts", withContent)
	if code != 0 || !strings.Contains(md, "| recompressed: same content: its bytes as stored are not those the case recorded at ") ||
		!strings.Contains(md, "but decompressed they have the sha256 it recorded, "+fp.ContentSHA256+" |") ||
		!strings.Contains(md, "OK: the bytes at the citation have this sha256") || strings.Contains(md, "## Problems") {
		t.Errorf("recompressed: exit %d %s\n%s", code, errOut, md)
	}
	code, md, _ = reportCmd(t, "--no-alerts", without)
	if code != cmdutil.ExitInputError || !strings.Contains(md, "| **CHANGED: the file changed since the case recorded it at ") ||
		!strings.Contains(md, "; decompressed, its sha256 is "+fp.ContentSHA256+" (the case recorded no sha256 of its content, so a recompression cannot be told from a change)") {
		t.Errorf("recompressed, no content recorded: exit %d\n%s", code, md)
	}

	edited := strings.Replace(content, `"auditID":"z-4"`, `"auditID":"z-9"`, 1)
	write(edited, "")
	code, md, _ = reportCmd(t, "--no-alerts", withContent)
	if code != cmdutil.ExitInputError || !strings.Contains(md, "| **CHANGED: the file changed since the case recorded it at ") ||
		!strings.Contains(md, "; decompressed, its sha256 is "+hexSHA([]byte(edited))+", not the "+fp.ContentSHA256+" recorded: the content changed") ||
		strings.Contains(md, "recompressed: same content") {
		t.Errorf("content changed: exit %d\n%s", code, md)
	}
}

// TestFollowedLive: the rule the TUI's status bar takes from the report:
// a plain file a session followed (its record's follow, else the TUI's
// default for one plain file) may grow; one read with --follow=false may
// not.
func TestFollowedLive(t *testing.T) {
	p := filepath.Join(t.TempDir(), "audit.log")
	os.WriteFile(p, []byte(rotEvent("f-0", "get", "/api/v1/pods", "pods", "default", "p", "", 200, 0)), 0o644)
	on, off := true, false
	for _, c := range []struct {
		follow *bool
		want   bool
	}{{&on, true}, {&off, false}, {nil, true}} {
		st := casefile.Apply([]casefile.Record{{ID: "1", Kind: casefile.KindOpen, Time: time.Now(), Sources: []string{p}, Files: []string{p}, Follow: c.follow}})
		if got := FollowedLive(st, p); got != c.want {
			t.Errorf("follow %v: FollowedLive %v, want %v", c.follow, got, c.want)
		}
	}
}

// TestReportDecompressedCopy: the evidence copied elsewhere with a .gz
// decompressed (gunzip, a reviewer's habit) or compressed again (other
// stored bytes) holds the content the case recorded for the .gz
// (content_sha256): the Sources row says whose, instead of "not
// recorded", as it does for a byte-for-byte copy (report-review 1: a
// gunzipped copy of a cited backup was "not recorded (the case holds no
// fingerprint of this path)" although its sha256 was the recorded
// content's). A copy with other content is still not recorded.
func TestReportDecompressedCopy(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "audit-2026-03-14T09-05-00.000.log.gz")
	var lines []string
	for i := range 5 {
		lines = append(lines, rotEvent(fmt.Sprintf("d-%d", i), "get", "/api/v1/namespaces/payments/secrets/k", "secrets", "payments", "k", "", 200, i))
	}
	content := strings.Join(lines, "")
	gz := func(path, name, content string) {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Name = name
		zw.Write([]byte(content))
		zw.Close()
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gz(p, "", content)
	src, err := file.New(p, file.Options{})
	if err != nil {
		t.Fatal(err)
	}
	refs := pickEvents(t, src, data.ReadOptions{}, func(e *data.Event) bool { return e.Origin.Line == 3 })
	fp, err := evidence.FingerprintFile(p)
	if err != nil || fp.ContentSHA256 != hexSHA([]byte(content)) {
		t.Fatalf("%+v %v", fp, err)
	}
	c, err := casefile.Open(filepath.Join(t.TempDir(), "case"))
	if err != nil {
		t.Fatal(err)
	}
	add(t, c, casefile.Record{Kind: casefile.KindOpen, Sources: []string{p}})
	add(t, c, casefile.Record{Kind: casefile.KindFingerprint, File: &casefile.SourceFile{Path: p, Size: fp.Size, SHA256: fp.SHA256, ModTime: fp.ModTime, ContentSHA256: fp.ContentSHA256}})
	add(t, c, casefile.Record{Kind: casefile.KindBookmark, Event: &refs[0]})

	copyDir := t.TempDir()
	plain := filepath.Join(copyDir, "audit-2026-03-14T09-05-00.000.log")
	if err := os.WriteFile(plain, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	code, md, errOut := reportCmd(t, "--no-alerts", c.Dir(), plain)
	want := "| " + mdCode(plain) + " | `" + fp.ContentSHA256 + "` | " + fmt.Sprint(len(content)) + " | the content the case recorded for " + mdText(p) + " at "
	if code != 0 || !strings.Contains(md, want) || !strings.Contains(md, "decompressed: its sha256 is that of the content the case recorded") ||
		!strings.Contains(md, "| checked | OK: the same bytes were found at "+plain+":3 (in the sources given on the command line) |") {
		t.Errorf("decompressed copy: exit %d %s\nwant %s\n%s", code, errOut, want, md)
	}

	again := filepath.Join(copyDir, "again.log.gz")
	os.Remove(plain)
	gz(again, "audit.log", content)
	code, md, errOut = reportCmd(t, "--no-alerts", c.Dir(), again)
	if code != 0 || !strings.Contains(md, " | the content the case recorded for "+mdText(p)+" at ") ||
		!strings.Contains(md, "compressed again: decompressed, its sha256 is that of the content the case recorded") {
		t.Errorf("recompressed copy: exit %d %s\n%s", code, errOut, md)
	}

	other := strings.Replace(content, `"auditID":"d-4"`, `"auditID":"d-9"`, 1)
	os.Remove(again)
	os.WriteFile(plain, []byte(other), 0o644)
	code, md, _ = reportCmd(t, "--no-alerts", c.Dir(), plain)
	if !strings.Contains(md, "not recorded (the case holds no fingerprint of this path)") || strings.Contains(md, "the content the case recorded") {
		t.Errorf("other content: exit %d\n%s", code, md)
	}
}

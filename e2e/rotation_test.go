package e2e

import (
	"bytes"
	"compress/gzip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/testutil"
)

// sampleHead is the first n lines of the bundled sample.
func sampleHead(t *testing.T, from, to int) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testutil.RepoRoot(), "testdata", "sample", "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(b, []byte("\n"))
	return bytes.Join(lines[from:to], nil)
}

// rotateAway does what kube-apiserver's --audit-log-maxsize with
// --audit-log-compress does to a full audit.log: renamed to
// audit-<time>.log, a new audit.log begun (with next in it), the backup
// gzipped and the plain one removed.
func rotateAway(t *testing.T, live, backup string, next []byte) {
	t.Helper()
	if err := os.Rename(live, backup); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(live, next, 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	if err := os.WriteFile(backup+".gz", buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(backup); err != nil {
		t.Fatal(err)
	}
}

// TestFollowedFileRotatedCaseAndReport: the on-call follows audit.log with
// a case; an exec into kube-system is appended; the apiserver rotates and
// gzips the file. The Detail of an event read before the rotation cites
// the .gz that holds its bytes (the same line), the bookmark records that
// citation, and `audittui report CASE` without SOURCE checks it OK, reads
// the rotated file for its alerts (the exec fires) and exits 0 (review I
// finding 3: the Detail said audit.log:1, which held another event; the
// report said MISMATCH and "none fired").
func TestFollowedFileRotatedCaseAndReport(t *testing.T) {
	tmux := requireTmux(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	live := filepath.Join(dir, "audit.log")
	if err := os.WriteFile(live, sampleHead(t, 0, 20), 0o644); err != nil {
		t.Fatal(err)
	}
	caseDir := filepath.Join(t.TempDir(), "case")
	s := startSession(t, tmux, 150, 40, bin+" --case "+caseDir+" "+live)
	s.waitFor("open", "loaded 20 ")
	f, err := os.OpenFile(live, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(execKubeSystem)
	f.Close()
	s.waitFor("the exec is read", "loaded 21 ")
	backup := filepath.Join(dir, "audit-2026-11-20T02-05-00.000.log")
	rotateAway(t, live, backup, sampleHead(t, 20, 40))
	s.waitFor("the new file is read", "loaded 41 ")
	s.keys("/")
	s.text("mallory")
	s.keys("Enter")
	s.waitFor("the exec found", "matching 1 ")
	s.keys("Enter")
	s.waitFor("the Detail cites the .gz", "source    "+backup+".gz:21", "read as "+live+":21, rotated since")
	s.keys("m")
	s.waitFor("bookmarked", "bookmarked "+backup+".gz:21")
	s.keys("q")
	s.waitFor("quit", "audittui-exit=0")

	cmd := exec.Command(bin, "report", caseDir)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("report: %v\n%s\n%s", err, errb.String(), out.String())
	}
	md := out.String()
	for _, want := range []string{
		"| citation | `" + backup + ".gz:21` |",
		"| checked | OK: the bytes at the citation have this sha256 (sources re-read) |",
		"ExecIntoKubeSystem",
		"### `" + backup + ".gz`",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(md)
	}
}

// TestDirectoryFollowedByDefault: `audittui /var/log/kubernetes/audit/`,
// as the README says on a node: the backups are read, audit.log is
// followed (lines appended come in), as a single file is; a directory of
// two nodes' files is read once and the status says it is not followed
// (review I finding 7: the directory was read once, with no word of it).
func TestDirectoryFollowedByDefault(t *testing.T) {
	tmux := requireTmux(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(sampleHead(t, 0, 20))
	zw.Close()
	os.WriteFile(filepath.Join(dir, "audit-2026-11-20T02-05-00.000.log.gz"), gz.Bytes(), 0o644)
	live := filepath.Join(dir, "audit.log")
	os.WriteFile(live, sampleHead(t, 20, 40), 0o644)
	s := startSession(t, tmux, 100, 30, bin+" "+dir+"/")
	s.waitFor("open", "loaded 40 ", "following")
	f, err := os.OpenFile(live, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(sampleHead(t, 40, 60))
	f.Close()
	s.waitFor("appended lines come in", "loaded 60 ")
	s.keys("q")
	s.waitFor("quit", "audittui-exit=0")

	nodes := t.TempDir()
	os.WriteFile(filepath.Join(nodes, "cp1.log"), sampleHead(t, 0, 20), 0o644)
	os.WriteFile(filepath.Join(nodes, "cp2.log"), sampleHead(t, 20, 40), 0o644)
	s = startSession(t, tmux, 100, 30, bin+" "+nodes)
	s.waitFor("read once, said", "loaded 40 ", "not following (--follow)")
	s.keys("q")
	s.waitFor("quit", "audittui-exit=0")
}

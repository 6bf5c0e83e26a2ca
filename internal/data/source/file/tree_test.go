package file

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/data"
)

// caseTree writes a forensic reviewer's archive: case/node-a and
// case/node-b, each an apiserver's rotated set (gzipped lumberjack
// backups, logrotate's .N), a deeper level, a file at the top, a README
// that is not a log, and a symbolic link back to the top (a loop). It
// returns the root and the audit IDs in time order per set.
func caseTree(t *testing.T) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "case")
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	for _, f := range []struct {
		rel      string
		ids      []string
		secs     []int
		compress string
	}{
		{"top.log", []string{"t1"}, []int{5}, ""},
		{"node-a/audit-2026-11-20T08-00-02.000.log.gz", []string{"a1", "a2"}, []int{0, 2}, "gzip"},
		{"node-a/audit.log", []string{"a3"}, []int{4}, ""},
		{"node-b/audit.log.1", []string{"b1"}, []int{1}, ""},
		{"node-b/audit.log", []string{"b2"}, []int{3}, ""},
		{"node-b/old/2026/audit.json.zst", []string{"c1"}, []int{6}, "zstd"},
	} {
		p := filepath.Join(root, filepath.FromSlash(f.rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var lines []string
		for i, id := range f.ids {
			lines = append(lines, mkEvent(id, at(f.secs[i])))
		}
		writeLines(t, p, lines, f.compress)
	}
	os.WriteFile(filepath.Join(root, "node-a", "README"), []byte("collected by ops\n"), 0o644)
	if err := os.Symlink("..", filepath.Join(root, "node-a", "up")); err != nil {
		t.Fatal(err)
	}
	return root
}

func rel(root string, paths []string) string {
	var out []string
	for _, p := range paths {
		r, _ := filepath.Rel(root, p)
		out = append(out, filepath.ToSlash(r))
	}
	return strings.Join(out, " ")
}

// TestRecursiveTree (review K12): a directory read without -r reads its
// own files and names the subdirectories it did not read; with -r every
// level is read, rotated sets grouped per directory (backups oldest first,
// .gz and .zst decompressed), each file's filename label naming its
// subdirectory, a link back up (a loop) not followed and said.
func TestRecursiveTree(t *testing.T) {
	root := caseTree(t)

	flat, err := New(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := rel(root, flat.Files()[0]); len(flat.Files()) != 1 || got != "top.log" {
		t.Fatalf("without -r: sets %q, want top.log only", flat.Files())
	}
	if n := flat.Notices(); len(n) != 1 || !strings.Contains(n[0], "2 subdirectories not read: node-a, node-b") || !strings.Contains(n[0], "-r") {
		t.Fatalf("without -r: notices %q, want one naming node-a, node-b and -r", n)
	}

	src, err := New(root, Options{Recursive: true})
	if err != nil {
		t.Fatal(err)
	}
	var sets []string
	for _, g := range src.Files() {
		sets = append(sets, rel(root, g))
	}
	want := []string{
		"node-a/audit-2026-11-20T08-00-02.000.log.gz node-a/audit.log",
		"node-b/audit.log.1 node-b/audit.log",
		"node-b/old/2026/audit.json.zst",
		"top.log",
	}
	if strings.Join(sets, "|") != strings.Join(want, "|") {
		t.Fatalf("with -r: rotated sets\n%q\nwant\n%q", sets, want)
	}
	if n := src.Notices(); len(n) != 1 || !strings.Contains(n[0], filepath.Join("node-a", "up")) || !strings.Contains(n[0], "loop") {
		t.Fatalf("with -r: notices %q, want the loop node-a/up named", n)
	}
	st, err := src.Open(context.Background(), data.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	evs, rejs := readAllStream(t, st)
	if got := ids(evs); got != "a1,b1,a2,b2,a3,t1,c1" || len(rejs) != 0 {
		t.Fatalf("with -r: events %q, rejects %v; want every level's, in time order", got, rejs)
	}
	for _, e := range evs {
		fn, _ := e.Origin.Source.Labels.Get("filename")
		sub := map[byte]string{'a': "node-a", 'b': "node-b", 'c': "node-b/old/2026", 't': ""}[e.AuditID[0]]
		if filepath.ToSlash(filepath.Dir(fn)) != filepath.ToSlash(filepath.Join(root, sub)) {
			t.Errorf("event %s: filename label %q, want a file in %s", e.AuditID, fn, filepath.Join(root, sub))
		}
	}

	// A link to a directory elsewhere is followed; a second link to the
	// same directory is read once.
	other := t.TempDir()
	writeLines(t, filepath.Join(other, "audit.log"), []string{mkEvent("o1", t0)}, "")
	os.Symlink(other, filepath.Join(root, "linked"))
	os.Symlink(other, filepath.Join(root, "node-b", "again"))
	src, err = New(root, Options{Recursive: true})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range src.Files() {
		for _, p := range g {
			if filepath.Base(filepath.Dir(p)) == "linked" || filepath.Base(filepath.Dir(p)) == "again" {
				n++
			}
		}
	}
	if n != 1 || !strings.Contains(strings.Join(src.Notices(), "\n"), "read once") {
		t.Fatalf("two links to one directory: its file listed %d time(s), notices %q", n, src.Notices())
	}

	// A folder of folders: without -r an error that names -r; with it,
	// read.
	only := t.TempDir()
	os.MkdirAll(filepath.Join(only, "n1"), 0o755)
	writeLines(t, filepath.Join(only, "n1", "audit.log"), []string{mkEvent("x", t0)}, "")
	if _, err := New(only, Options{}); err == nil || !strings.Contains(err.Error(), "-r") {
		t.Fatalf("a folder of folders without -r: %v, want an error naming -r", err)
	}
	if s, err := New(only, Options{Recursive: true}); err != nil || len(s.Files()) != 1 {
		t.Fatalf("a folder of folders with -r: %v", err)
	}
	// An empty tree is an error naming it.
	empty := t.TempDir()
	os.MkdirAll(filepath.Join(empty, "a", "b"), 0o755)
	if _, err := New(empty, Options{Recursive: true}); err == nil || !strings.Contains(err.Error(), "subdirectories") {
		t.Fatalf("an empty tree with -r: %v", err)
	}
}

// TestRecursiveExportAndGlob: with -r an export directory met in a tree,
// or matched by a glob, is read as its copies (not events.jsonl, a
// selection of them); without -r the directories a glob matches are
// named, not skipped silently.
func TestRecursiveExportAndGlob(t *testing.T) {
	root := t.TempDir()
	for _, p := range []string{"ex/MANIFEST.sha256", "ex/MANIFEST.json", "ex/events.jsonl", "ex/files/var/log/audit.log", "node-a/audit.log"} {
		os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755)
		writeLines(t, filepath.Join(root, p), []string{mkEvent(p, t0)}, "")
	}
	want := "ex/files/var/log/audit.log node-a/audit.log"
	for _, arg := range []string{root, filepath.Join(root, "*")} {
		src, err := New(arg, Options{Recursive: true})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, g := range src.Files() {
			got = append(got, rel(root, g))
		}
		if strings.Join(got, " ") != want || len(src.Notices()) != 0 {
			t.Fatalf("-r %s: files %q, notices %q; want %q", arg, got, src.Notices(), want)
		}
	}
	if _, err := New(filepath.Join(root, "*"), Options{}); err == nil || !strings.Contains(err.Error(), "-r") {
		t.Fatalf("a glob of directories without -r: %v, want an error naming -r", err)
	}
	os.WriteFile(filepath.Join(root, "top.log"), []byte(mkEvent("t", t0)+"\n"), 0o644)
	src, err := New(filepath.Join(root, "*"), Options{})
	if err != nil || len(src.Files()) != 1 || len(src.Notices()) != 1 || !strings.Contains(src.Notices()[0], "2 directories matched, not read") {
		t.Fatalf("a glob of a file and directories without -r: %v, notices %q", err, src.Notices())
	}
}

package evidence

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWriteAndCheck writes events and a copied file, then checks the
// directory as `audittui verify` does: clean, then a changed, a missing and
// an added file each reported.
func TestWriteAndCheck(t *testing.T) {
	src := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(src, []byte("{\"a\":1}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "export")
	d, err := Create(dir, Manifest{Sources: []string{src}, Query: `{job="audit"} | json`}, false)
	if err != nil {
		t.Fatal(err)
	}
	w, err := d.Events()
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range []string{`{"auditID":"x"}`, `{"auditID":"y"}`} {
		if err := w.Write([]byte(raw)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rel, err := FilesRel(src)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.CopyFile(src, rel); err != nil {
		t.Fatal(err)
	}
	m, err := d.WriteManifests()
	if err != nil {
		t.Fatal(err)
	}
	// Entries sorted by path: events.index.jsonl, events.jsonl, files/.
	if m.Events != 2 || len(m.Entries) != 3 || m.Entries[1].Path != EventsFile || m.Entries[0].Path != EventsIndexFile {
		t.Fatalf("manifest %+v", m)
	}
	sum := sha256.Sum256([]byte("{\"auditID\":\"x\"}\n{\"auditID\":\"y\"}\n"))
	if m.Entries[1].SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("events.jsonl sha256 %s", m.Entries[1].SHA256)
	}
	res, err := Check(dir)
	if err != nil || !res.Clean() || res.OK != 4 {
		t.Fatalf("check: %+v %v", res, err)
	}
	if _, err := Create(dir, Manifest{}, false); !errors.Is(err, ErrExists) {
		t.Fatalf("second export into the directory: %v", err)
	}
	// Tamper: change the copy, remove events.jsonl, add a file.
	if err := os.WriteFile(d.Local(rel), []byte("changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Remove(d.Local(EventsFile))
	os.WriteFile(filepath.Join(dir, "extra.txt"), []byte("x"), 0o644)
	res, err = Check(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range res.Files {
		got = append(got, f.Status+" "+f.Path)
	}
	want := "OK events.index.jsonl,MISSING events.jsonl,MISMATCH " + rel + ",OK MANIFEST.json,EXTRA extra.txt"
	if strings.Join(got, ",") != want || res.Clean() {
		t.Fatalf("check after tampering: %v, want %s", got, want)
	}
	if _, err := Check(t.TempDir()); !errors.Is(err, ErrNoManifest) {
		t.Fatalf("empty directory: %v", err)
	}
}

func TestSafeRel(t *testing.T) {
	for in, want := range map[string]string{"/a/../b": "a/%2E%2E/b", "../../etc/passwd": "%2E%2E/%2E%2E/etc/passwd", "//x//y/": "x/y", "": "_",
		"a/[b]*?.json": "a/%5Bb]%2A%3F.json", "100%/x": "100%25/x"} {
		if got := SafeRel(in); got != want {
			t.Errorf("SafeRel(%q) = %q, want %q", in, got, want)
		}
	}
}

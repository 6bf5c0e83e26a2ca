package evidence

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// exportOf writes a clean export with one events file and returns its
// directory and manifest.
func exportOf(t *testing.T) (string, Manifest) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "export")
	d, err := Create(dir, Manifest{Query: `{job="audit"}`}, false)
	if err != nil {
		t.Fatal(err)
	}
	w, err := d.Events()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]byte(`{"auditID":"x"}`)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	m, err := d.WriteManifests()
	if err != nil {
		t.Fatal(err)
	}
	if res, err := Check(dir); err != nil || !res.Clean() {
		t.Fatalf("fresh export: %+v %v", res, err)
	}
	return dir, m
}

// TestCheckManifestJSONDisagrees: MANIFEST.json naming another sha256, an
// entry MANIFEST.sha256 lacks, or missing one it has, makes the check
// unclean, each said.
func TestCheckManifestJSONDisagrees(t *testing.T) {
	cases := []struct {
		name string
		edit func(m *Manifest)
		want string
	}{
		{"other sha256", func(m *Manifest) { m.Entries[0].SHA256 = strings.Repeat("0", 64) }, "disagree on the sha256 of " + EventsIndexFile},
		{"extra entry", func(m *Manifest) {
			m.Entries = append(m.Entries, ManifestEntry{Path: "more.jsonl", SHA256: strings.Repeat("1", 64)})
		}, ManifestJSON + " lists more.jsonl"},
		{"entry dropped", func(m *Manifest) { m.Entries = m.Entries[1:] }, ManifestSHA + " lists " + EventsIndexFile},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir, m := exportOf(t)
			c.edit(&m)
			b, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, ManifestJSON), b, 0o644); err != nil {
				t.Fatal(err)
			}
			res, err := Check(dir)
			if err != nil {
				t.Fatal(err)
			}
			if res.Clean() || len(res.JSONProblems) != 1 || !strings.Contains(res.JSONProblems[0], c.want) {
				t.Fatalf("problems %q (clean %v), want one saying %q", res.JSONProblems, res.Clean(), c.want)
			}
		})
	}
}

// TestCheckRefusesPathsOutside: a MANIFEST.sha256 line naming a file
// outside the export (../, an absolute path) is an error naming the line,
// and the file is never read.
func TestCheckRefusesPathsOutside(t *testing.T) {
	for _, p := range []string{"../outside.jsonl", "/etc/passwd", "a/../../outside.jsonl"} {
		t.Run(p, func(t *testing.T) {
			dir, _ := exportOf(t)
			mpath := filepath.Join(dir, ManifestSHA)
			b, err := os.ReadFile(mpath)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Count(string(b), "\n")
			b = append(b, ShaLine(strings.Repeat("2", 64), p)...)
			if err := os.WriteFile(mpath, b, 0o644); err != nil {
				t.Fatal(err)
			}
			res, err := Check(dir)
			want := mpath + ":" + strconv.Itoa(lines+1) + ": path"
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "leaves the export directory") {
				t.Fatalf("check: %+v, %v; want an error at %s", res, err, want)
			}
		})
	}
}

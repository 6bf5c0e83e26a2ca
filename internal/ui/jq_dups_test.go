package ui

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/testutil"
)

// TestJQExportIndexedOnce: the sample and every real log, read beside
// its `jq .` export (pretty, and with & < > raw where the apiserver wrote
// \u0026 \u003c \u003e: 1,012 of the sample's events), in either order
// or as one file holding the export then the log (`(jq . S; cat S)`,
// review H finding 10), index the events of the log alone: the same
// rows (as their lines, data.RawDupLine), and every event of the export
// counted a duplicate. R says how the first copy is the same.
func TestJQExportIndexedOnce(t *testing.T) {
	testutil.Tool(t, "jq", "jq")
	files := []string{filepath.Join(testutil.RepoRoot(), "testdata", "sample", "audit.log")}
	files = append(files, testutil.RealAuditFiles(t)...)
	lines := func(ix *Index) []string {
		rows := rowsOf(t, ix)
		for i, r := range rows {
			rows[i] = string(data.RawDupLine([]byte(r)))
		}
		slices.Sort(rows)
		return rows
	}
	for _, f := range files {
		export, err := exec.Command("jq", ".", f).Output()
		if err != nil {
			t.Fatalf("jq . %s: %v", f, err)
		}
		log, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		real, pretty, both := filepath.Join(dir, "audit.log"), filepath.Join(dir, "export.json"), filepath.Join(dir, "both.log")
		os.WriteFile(real, log, 0o644)
		os.WriteFile(pretty, export, 0o644)
		os.WriteFile(both, append(export, log...), 0o644)
		alone := readIndex(t, real)
		want, wantDups := lines(alone), alone.Snapshot().Duplicates
		n := int64(strings.Count(string(log), "\n"))
		for _, paths := range [][]string{{real, pretty}, {pretty, real}, {both}} {
			ix := readIndex(t, paths...)
			s := ix.Snapshot()
			if got := lines(ix); !slices.Equal(got, want) || s.Rejected != 0 {
				t.Errorf("%s %v: %d rows (want the %d of the log alone), %d rejected", filepath.Base(f), paths, len(got), len(want), s.Rejected)
			}
			if s.Duplicates != wantDups+n {
				t.Errorf("%s %v: %d duplicates, want %d", filepath.Base(f), paths, s.Duplicates, wantDups+n)
			}
			if samples, _ := ix.Duplicates(); len(samples) == 0 || !strings.Contains(samples[0], " (once compacted") {
				t.Errorf("%s %v: R names %q", filepath.Base(f), paths, samples[:min(1, len(samples))])
			}
		}
	}
}

// TestSameHow: R says how a copy is the same event when its bytes differ:
// spans lines, other escapes, or both.
func TestSameHow(t *testing.T) {
	line := `{"kind":"Event","requestURI":"/a?x=1\u0026y=2"}`
	for _, tc := range []struct{ copy, want string }{
		{line, ""},
		{`{"kind":"Event","requestURI":"/a?x=1&y=2"}`, " (once JSON escapes are read: one writes \\u0026 where the other writes &, say)"},
		{"{\n  \"kind\": \"Event\",\n  \"requestURI\": \"/a?x=1\\u0026y=2\"\n}", " (once compacted: one of them spans lines)"},
		{"{\n  \"kind\": \"Event\",\n  \"requestURI\": \"/a?x=1&y=2\"\n}", " (once compacted and JSON escapes read: one of them spans lines)"},
	} {
		if got := sameHow(&data.Event{Raw: []byte(tc.copy)}, []byte(line)); got != tc.want {
			t.Errorf("%q: %q, want %q", tc.copy, got, tc.want)
		}
	}
}

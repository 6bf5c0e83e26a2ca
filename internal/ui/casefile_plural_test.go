package ui

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/casefile"
	"github.com/audittui/audittui/internal/evidence"
)

// TestSinceRecordedCounts: what a session says of a file changed since the
// case recorded it counts its bytes as words do: 1 byte, 2 bytes.
func TestSinceRecordedCounts(t *testing.T) {
	p := filepath.Join(t.TempDir(), "audit.log")
	recorded := []byte("{\"a\":1}\n{\"b\":2}\n")
	if err := os.WriteFile(p, recorded, 0o644); err != nil {
		t.Fatal(err)
	}
	fp0, err := evidence.FingerprintFile(p)
	if err != nil {
		t.Fatal(err)
	}
	st := casefile.Apply([]casefile.Record{{ID: "1", Kind: casefile.KindFingerprint, File: &casefile.SourceFile{Path: p, Size: fp0.Size, SHA256: fp0.SHA256}}})
	for _, c := range []struct {
		content  string
		followed bool
		want     string
	}{
		{string(recorded) + "x", true, "grew by 1 byte since the case recorded it (the recorded bytes are unchanged)"},
		{string(recorded) + "xy", true, "grew by 2 bytes since the case recorded it (the recorded bytes are unchanged)"},
		{string(recorded) + "x", false, "CHANGED since the case recorded it: 1 byte appended, and no session of the case followed it live (audittui report says more)"},
		{string(recorded) + "xy", false, "CHANGED since the case recorded it: 2 bytes appended, and no session of the case followed it live (audittui report says more)"},
		{string(recorded[:len(recorded)-1]), false, "CHANGED since the case recorded it: 15 bytes now, 1 fewer (audittui report says more)"},
		{"x", false, "CHANGED since the case recorded it: 1 byte now, 15 fewer (audittui report says more)"},
	} {
		if err := os.WriteFile(p, []byte(c.content), 0o644); err != nil {
			t.Fatal(err)
		}
		fp, err := evidence.FingerprintFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := sinceRecorded(st, p, fp, c.followed); got != c.want {
			t.Errorf("%q (followed %v): %q, want %q", c.content, c.followed, got, c.want)
		}
	}
}

// TestCaseStatusCountsAsWords: the status counts read right at 1 and 2:
// the bookmarks the events read do not hold ("1 of 1 bookmark is not",
// "2 of 2 bookmarks are not").
func TestCaseStatusCountsAsWords(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "case")
	c, err := casefile.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for n, want := range []string{1: "no next bookmark (1 of 1 bookmark is not in the events read)", 2: "no next bookmark (2 of 2 bookmarks are not in the events read)"} {
		if n == 0 {
			continue
		}
		if _, err := c.Add(casefile.Record{Kind: casefile.KindBookmark, Event: &casefile.EventRef{SHA256: fmt.Sprintf("%064d", len(c.State().Bookmarks)+1), Cite: "gone.log:1"}}); err != nil {
			t.Fatal(err)
		}
		if got := len(c.State().Bookmarks); got != n {
			t.Fatalf("%d bookmarks, want %d", got, n)
		}
		a := newWorkbenchApp(t, 160, 30, Options{Case: dir})
		send(t, a, "]")
		if !strings.Contains(a.status, want) {
			t.Errorf("status %q, want %q", a.status, want)
		}
	}
}

// TestSinceRecordedRecompressed: a .gz recompressed since the case
// recorded it (other stored bytes, larger or smaller, the same content
// decompressed) is not a change, as the report judges it ("recompressed:
// same content"); its content changed is (report-review 2: the status bar
// said "CHANGED since the case recorded it" for a backup `gzip -1` had
// recompressed, the first of the files it named, while the report said
// it was not a problem).
func TestSinceRecordedRecompressed(t *testing.T) {
	p := filepath.Join(t.TempDir(), "audit-2026-11-20T02-20-00.000.log.gz")
	content := []byte(strings.Repeat("{\"kind\":\"Event\",\"auditID\":\"r\"}\n", 50))
	gz := func(level int, name string, b []byte) evidence.Fingerprint {
		var z bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&z, level)
		zw.Name = name
		zw.Write(b)
		zw.Close()
		if err := os.WriteFile(p, z.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		fp, err := evidence.FingerprintFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return fp
	}
	fp0 := gz(gzip.BestCompression, "", content)
	st := casefile.Apply([]casefile.Record{{ID: "1", Kind: casefile.KindFingerprint, File: &casefile.SourceFile{Path: p, Size: fp0.Size, SHA256: fp0.SHA256, ContentSHA256: fp0.ContentSHA256}}})
	for _, c := range []struct {
		level   int
		name    string
		content []byte
		changed bool
	}{
		{gzip.NoCompression, "", content, false},             // larger stored bytes
		{gzip.BestCompression, "audit.log", content, false},  // a longer header
		{gzip.BestSpeed, "", content[:len(content)-1], true}, // content cut
		{gzip.NoCompression, "", append(content, 'x'), true}, // content appended
	} {
		fp := gz(c.level, c.name, c.content)
		if fp.SHA256 == fp0.SHA256 {
			t.Fatalf("level %d %q: the same stored bytes", c.level, c.name)
		}
		for _, followed := range []bool{false, true} {
			got := sinceRecorded(st, p, fp, followed)
			if c.changed != strings.HasPrefix(got, "CHANGED") || (!c.changed && got != "") {
				t.Errorf("level %d %q, %d bytes of content (followed %v): %q", c.level, c.name, len(c.content), followed, got)
			}
		}
	}
}

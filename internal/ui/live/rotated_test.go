package live

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/file"
	"github.com/audittui/audittui/internal/testutil"
	"github.com/audittui/audittui/internal/ui"
)

// TestFollowedRotationEveryEventCitable: the sample followed as the TUI
// follows audit.log, through two apiserver rotations (renamed to
// audit-<time>.log, a new audit.log, the backup gzipped and the plain one
// removed): once the moves are seen, every event the index holds is cited
// FILE:LINE at a file that holds its bytes on that line (decompressed for
// a .gz), as `zcat FILE | sed -n LINEp | sha256sum` checks a citation,
// and reads back the same bytes. None is cited at audit.log unless it is
// there (review I finding 3).
func TestFollowedRotationEveryEventCitable(t *testing.T) {
	sample, err := os.ReadFile(filepath.Join(testutil.RepoRoot(), "testdata", "sample", "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(sample), "\n")
	dir := t.TempDir()
	live := filepath.Join(dir, "audit.log")
	if err := os.WriteFile(live, []byte(strings.Join(lines[:1000], "")), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := file.New(live, file.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lv, err := Open(ctx, Options{Sources: []data.Source{src}, Read: data.ReadOptions{Follow: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer lv.Close()
	waitLen := func(n int) *ui.Snapshot {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			if s := lv.Index.Snapshot(); s.Len() >= n {
				return s
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d events indexed, want %d", lv.Index.Snapshot().Len(), n)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitLen(1000)
	rotate := func(backup string, next []string) {
		t.Helper()
		if err := os.Rename(live, backup); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(live, []byte(strings.Join(next, "")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b1 := filepath.Join(dir, "audit-2026-11-20T02-05-00.000.log")
	b2 := filepath.Join(dir, "audit-2026-11-20T02-40-00.000.log")
	rotate(b1, lines[1000:2000])
	waitLen(2000)
	gzipAway(t, b1)
	rotate(b2, lines[2000:3000])
	s := waitLen(3000)
	gzipAway(t, b2)

	contents := map[string][]string{}
	content := func(name string) []string {
		if c, ok := contents[name]; ok {
			return c
		}
		f, err := os.Open(name)
		if err != nil {
			return nil
		}
		defer f.Close()
		r, _, done, err := data.Decompress(f)
		if err != nil {
			t.Fatal(err)
		}
		defer done()
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		contents[name] = strings.SplitAfter(string(b), "\n")
		return contents[name]
	}
	per := map[string]int{}
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; i < s.Len(); i++ {
		o := s.Origin(i)
		name := o.Source.CiteName()
		c := content(name)
		raw, err := s.Raw(i)
		if err != nil {
			t.Fatal(err)
		}
		if o.Line < 1 || int(o.Line) > len(c) || strings.TrimRight(c[o.Line-1], "\r\n") != string(raw) {
			if time.Now().Before(deadline) {
				// The move is not seen yet (the tracker looks every
				// half second): look again.
				time.Sleep(50 * time.Millisecond)
				delete(contents, name)
				i--
				continue
			}
			t.Fatalf("row %d cited %s: that line does not hold its bytes", i, o.Cite())
		}
		per[name]++
	}
	if per[b1+".gz"] != 1000 || per[b2+".gz"] != 1000 || per[live] != 1000 || len(per) != 3 {
		t.Errorf("cited at %v, want 1000 at each of the two .gz and audit.log", per)
	}
}

// gzipAway compresses path to path.gz and removes path, as the apiserver
// does with --audit-log-compress.
func gzipAway(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	if err := os.WriteFile(path+".gz", buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

package testutil

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestSeedCopiesUpToDate: testdata/seed holds copies of the seed
// pipeline; beside the real data, each equals its original in
// ../shared/seed (a changed original means the copy, and the tests that
// read it, need updating).
func TestSeedCopiesUpToDate(t *testing.T) {
	copies, _ := filepath.Glob(filepath.Join(SeedDir(t), "*"))
	var names []string
	for _, c := range copies {
		if filepath.Base(c) != "README.md" {
			names = append(names, filepath.Base(c))
		}
	}
	if len(names) != 4 {
		t.Fatalf("testdata/seed has %d files (%v), want the 4 of testdata/seed/README.md", len(names), names)
	}
	shared := SharedSeedDir(t)
	for _, name := range names {
		mine, err := os.ReadFile(filepath.Join(SeedDir(t), name))
		if err != nil {
			t.Fatal(err)
		}
		orig, err := os.ReadFile(filepath.Join(shared, name))
		if err != nil {
			t.Errorf("testdata/seed/%s has no original: %v", name, err)
			continue
		}
		if !bytes.Equal(mine, orig) {
			t.Errorf("testdata/seed/%s differs from %s: cp %[2]s testdata/seed/", name, filepath.Join(shared, name))
		}
	}
}

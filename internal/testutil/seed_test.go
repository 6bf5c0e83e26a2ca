package testutil

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestSeedCopiesUpToDate: testdata/seed holds copies of two of the seed
// pipeline's files (for the README's examples, which run from a fresh
// clone); they must equal the originals in ../shared/seed.
func TestSeedCopiesUpToDate(t *testing.T) {
	seed := SeedDir(t)
	for _, name := range []string{"audit-policy.yaml", "loki-audit-rules.yaml"} {
		orig, err := os.ReadFile(filepath.Join(seed, name))
		if err != nil {
			t.Fatal(err)
		}
		cp, err := os.ReadFile(filepath.Join(RepoRoot(), "testdata", "seed", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(orig, cp) {
			t.Errorf("testdata/seed/%s differs from %s: copy it again", name, filepath.Join(seed, name))
		}
	}
}

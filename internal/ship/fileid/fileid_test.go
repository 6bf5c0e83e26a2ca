package fileid

import (
	"os"
	"path/filepath"
	"testing"
)

func TestIdentitySurvivesRenameNotRewrite(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "audit.log")
	if err := os.WriteFile(p, []byte("line one\nline two\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	id, err := Of(f, 9)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if id.FPLen != 9 || id.Ino == 0 {
		t.Fatalf("id = %v", id)
	}
	moved := filepath.Join(dir, "audit-2026.log")
	if err := os.Rename(p, moved); err != nil {
		t.Fatal(err)
	}
	if ok, err := MatchesPath(moved, id); err != nil || !ok {
		t.Fatalf("renamed file not matched: %v %v", ok, err)
	}
	if ok, _ := MatchesPath(p, id); ok {
		t.Fatal("missing path matched")
	}
	// Same inode, different first bytes (a copytruncate that was rewritten).
	if err := os.WriteFile(moved, []byte("LINE ONE\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if ok, _ := MatchesPath(moved, id); ok {
		t.Fatal("rewritten file matched")
	}
	// Shorter than the fingerprint.
	if err := os.WriteFile(moved, []byte("li"), 0o600); err != nil {
		t.Fatal(err)
	}
	if ok, _ := MatchesPath(moved, id); ok {
		t.Fatal("truncated file matched")
	}
	// Another file never matches.
	other := filepath.Join(dir, "other")
	os.WriteFile(other, []byte("line one\n"), 0o600)
	if ok, _ := MatchesPath(other, id); ok {
		t.Fatal("other inode matched")
	}
}

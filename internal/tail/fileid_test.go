package tail

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
	id, err := Identify(f, 9)
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
	if ok, err := id.MatchesPath(moved); err != nil || !ok {
		t.Fatalf("renamed file not matched: %v %v", ok, err)
	}
	if ok, _ := id.MatchesPath(p); ok {
		t.Fatal("missing path matched")
	}
	// Same inode, different first bytes (a copytruncate that was rewritten).
	if err := os.WriteFile(moved, []byte("LINE ONE\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if ok, _ := id.MatchesPath(moved); ok {
		t.Fatal("rewritten file matched")
	}
	// Shorter than the fingerprint.
	if err := os.WriteFile(moved, []byte("li"), 0o600); err != nil {
		t.Fatal(err)
	}
	if ok, _ := id.MatchesPath(moved); ok {
		t.Fatal("truncated file matched")
	}
	// Another file never matches.
	other := filepath.Join(dir, "other")
	os.WriteFile(other, []byte("line one\n"), 0o600)
	if ok, _ := id.MatchesPath(other); ok {
		t.Fatal("other inode matched")
	}
}

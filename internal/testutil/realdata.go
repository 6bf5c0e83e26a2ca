// Package testutil holds helpers shared by tests.
package testutil

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// RealData returns the directory of ../shared/realdata (audit/ and policy/).
// AUDITTUI_REALDATA overrides the location; when it is set the data is
// required (CI sets it), otherwise a missing folder skips the test with a
// clear message.
func RealData(t testing.TB) string {
	t.Helper()
	if dir := os.Getenv("AUDITTUI_REALDATA"); dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "audit")); err != nil {
			t.Fatalf("AUDITTUI_REALDATA=%s is set but unusable: %v", dir, err)
		}
		return dir
	}
	dir := filepath.Join(RepoRoot(), "..", "shared", "realdata")
	if _, err := os.Stat(filepath.Join(dir, "audit")); err != nil {
		t.Skipf("skipped: this test needs the real audit logs and policies of ../shared/realdata, beside the repository, not found at %s (set AUDITTUI_REALDATA to require them)", dir)
	}
	return dir
}

// RealAuditFiles returns the real audit .jsonl files.
func RealAuditFiles(t testing.TB) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(RealData(t), "audit", "*.jsonl"))
	if len(files) == 0 {
		t.Fatalf("no real audit files under %s", RealData(t))
	}
	return files
}

// RealPolicyFiles returns the real audit policy files.
func RealPolicyFiles(t testing.TB) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(RealData(t), "policy", "*.yaml"))
	if len(files) == 0 {
		t.Fatalf("no real policy files under %s", RealData(t))
	}
	return files
}

// SeedDir returns ../shared/seed (skips when absent, unless AUDITTUI_REALDATA is set).
func SeedDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(RepoRoot(), "..", "shared", "seed")
	if rd := os.Getenv("AUDITTUI_REALDATA"); rd != "" {
		dir = filepath.Join(rd, "..", "seed")
	}
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("AUDITTUI_REALDATA") != "" {
			t.Fatalf("seed folder %s missing: %v", dir, err)
		}
		t.Skipf("skipped: this test needs the seed pipeline's files in ../shared/seed, beside the repository, not found at %s (set AUDITTUI_REALDATA to require them)", dir)
	}
	return dir
}

// RepoRoot returns the repository root (the folder holding go.mod).
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Env returns os.Getenv(name); when it is empty the test is skipped, unless
// CI=true, where the variable is required (the test server must be running).
func Env(t testing.TB, name, what string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: %s must be started by make test (CI=true)", name, what)
		}
		t.Skipf("%s not set: %s not running (make test starts it)", name, what)
	}
	return v
}

// Package testutil holds helpers shared by tests.
package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// The skip messages below start with a category ("realdata:", "server:",
// "tool:") that scripts/test.sh's summary groups skips by.

// Strict reports whether a missing prerequisite fails the test instead of
// skipping it: CI=true, which scripts/test.sh (make test, .ci/run) sets
// after installing every tool and starting every server.
func Strict() bool { return os.Getenv("CI") == "true" }

// RealData returns the directory of ../shared/realdata (audit/ and policy/).
// AUDITTUI_REALDATA overrides the location; when it is set the data is
// required (scripts/test.sh sets it whenever ../shared/realdata exists),
// otherwise a missing folder skips the test with a clear message. Only
// comparisons with real data call it: the project's own fixtures are in
// the repository.
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
		t.Skipf("realdata: this test needs the real audit logs and policies of ../shared/realdata, beside the repository, not found at %s (set AUDITTUI_REALDATA to require them)", dir)
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

// SeedDir returns testdata/seed: the repository's copies of the seed
// pipeline (audit policy, Loki rules, investigation and dashboard queries;
// testdata/seed/README.md). It never skips.
func SeedDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(RepoRoot(), "testdata", "seed")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("seed fixtures missing: %v", err)
	}
	return dir
}

// SharedSeedDir returns ../shared/seed, the originals testdata/seed copies,
// beside the real data (skips like RealData when that is absent).
func SharedSeedDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(RealData(t), "..", "seed")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("seed folder %s missing beside the real data: %v", dir, err)
	}
	return dir
}

// Tool returns the path of an external program a test drives (tmux, jq,
// ssh, ...). When it is not on PATH the test is skipped, or fails when
// Strict (scripts/deps.sh installs every one of them).
func Tool(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if Strict() {
		t.Fatalf("%s is required (CI=true: scripts/deps.sh installs the Debian package %s) but was not found on PATH", name, pkg)
	}
	t.Skipf("tool: %s not found (apt-get install %s, or run make test)", name, pkg)
	return ""
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
		if Strict() {
			t.Fatalf("%s is not set: %s must be started by make test (CI=true)", name, what)
		}
		t.Skipf("server: %s not set: %s not running (make test starts it)", name, what)
	}
	return v
}

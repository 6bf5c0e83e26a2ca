package ship

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/ship/config"
)

// The disk limits are compared with the free space of State_dir's
// filesystem (a directory not made yet is measured at its parent), in
// --check-config's report and at start.
func TestDiskWarnings(t *testing.T) {
	dir := t.TempDir()
	c := &config.Config{Path: filepath.Join(dir, "audit.log"), StateDir: filepath.Join(dir, "state", "not-yet"),
		OverlongLimit: 1 << 10, S3: &config.S3{Bucket: "b", StoreDirLimitSize: 1 << 60}}
	c.ApplyDefaults()
	w := DiskWarnings(c)
	if len(w) != 1 || !strings.Contains(w[0], "S3.Store_dir_limit_size 1073741824.0GiB") ||
		!strings.Contains(w[0], "Overlong_lines_limit_size") || !strings.Contains(w[0], "free on the filesystem of "+c.StateDir) {
		t.Fatalf("warnings %q", w)
	}
	r := CheckConfig(c, func(string) (string, bool) { return "", false })
	if !strings.Contains(string(r.Text()), "# WARNING: S3.Store_dir_limit_size") && !strings.Contains(string(r.Text()), "# WARNING: Overlong_lines_limit_size") {
		t.Errorf("--check-config does not print the warning:\n%s", r.Text())
	}
	c.S3.StoreDirLimitSize = 1 << 10
	if w := DiskWarnings(c); len(w) != 0 {
		t.Errorf("warnings for 2 KiB of limits: %q", w)
	}
}

// A symlinked Path is warned about unless Rotated_path matches its target
// (review J, finding 4).
func TestSymlinkWarning(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	if err := os.Mkdir(real, 0o700); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(real, "audit-000001.log")
	if err := os.WriteFile(target, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "audit.log")
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
	c := &config.Config{Path: p, StateDir: filepath.Join(dir, "state"), OverlongLimit: 1}
	c.ApplyDefaults()
	w := SymlinkWarning(c)
	if !strings.Contains(w, "is a symlink to "+target) || !strings.Contains(w, "add Rotated_path: real/*.log") {
		t.Fatalf("warning %q", w)
	}
	r := CheckConfig(c, func(string) (string, bool) { return "", false })
	if !strings.Contains(string(r.Text()), "# WARNING: Path "+p+" is a symlink") {
		t.Errorf("--check-config does not print the warning:\n%s", r.Text())
	}
	c.RotatedPath = config.StringList{"real/audit-*.log"}
	if w := SymlinkWarning(c); w != "" {
		t.Errorf("warning with Rotated_path covering the target: %q", w)
	}
	c.Path = target
	c.RotatedPath = nil
	if w := SymlinkWarning(c); w != "" {
		t.Errorf("warning for a regular file: %q", w)
	}
}

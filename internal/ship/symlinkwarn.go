package ship

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/audittui/audittui/internal/ship/config"
)

// StartWarnings are what ship says at start, and --check-config prints,
// about a config it runs with but should not: disk limits above the free
// space, a symlinked Path whose target no backup pattern names.
func StartWarnings(c *config.Config) []string {
	out := DiskWarnings(c)
	if w := SymlinkWarning(c); w != "" {
		out = append(out, w)
	}
	return out
}

// SymlinkWarning says when Path is a symlink whose target Rotated_path does
// not match. A writer that swaps the link to a new file leaves the old
// target under a name no backup pattern lists: while ship runs it follows
// the swap, but after a restart across two swaps it finds the checkpointed
// target only (recorded in the checkpoint) and not the targets between it
// and the current one, whose lines are then not read.
func SymlinkWarning(c *config.Config) string {
	li, err := os.Lstat(c.Path)
	if err != nil || li.Mode()&os.ModeSymlink == 0 {
		return ""
	}
	target, err := filepath.EvalSymlinks(c.Path)
	if err != nil {
		return ""
	}
	if abs, err := filepath.Abs(target); err == nil {
		target = abs
	}
	base := filepath.Dir(c.Path)
	for _, g := range c.RotatedPath {
		if !filepath.IsAbs(g) {
			g = filepath.Join(base, g)
		}
		if ok, _ := filepath.Match(g, target); ok {
			return ""
		}
		if d, err := filepath.EvalSymlinks(filepath.Dir(g)); err == nil {
			if abs, err := filepath.Abs(d); err == nil {
				if ok, _ := filepath.Match(filepath.Join(abs, filepath.Base(g)), target); ok {
					return ""
				}
			}
		}
	}
	rel, err := filepath.Rel(base, filepath.Dir(target))
	if err != nil {
		rel = filepath.Dir(target)
	}
	return fmt.Sprintf("Path %s is a symlink to %s, which no Rotated_path pattern matches: when the writer swaps the link, the old targets are not backups ship can find after a restart (their lines are lost); add Rotated_path: %s",
		c.Path, target, filepath.Join(rel, "*"+filepath.Ext(target)))
}

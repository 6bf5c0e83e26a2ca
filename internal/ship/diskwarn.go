package ship

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/audittui/audittui/internal/ship/config"
)

// DiskWarnings says where the disk limits ship may fill exceed the space
// free now on their filesystem: S3's and Loki's Store_dir_limit_size and the
// overlong-lines file (Overlong_lines_limit_size) in State_dir. A disk
// that fills before its limit pauses reading (as Store_dir_limit_size
// does) but nothing else frees it, so the limits should fit. A directory
// not created yet is measured at its nearest existing parent.
func DiskWarnings(c *config.Config) []string {
	type need struct {
		what string
		n    int64
	}
	type fsNeed struct {
		dir   string
		free  int64
		needs []need
	}
	var order []any
	byFS := map[any]*fsNeed{}
	add := func(dir, what string, n int64) {
		if dir == "" || n <= 0 {
			return
		}
		d := existingParent(dir)
		free, id, ok := freeSpace(d)
		if !ok {
			return
		}
		f := byFS[id]
		if f == nil {
			f = &fsNeed{dir: dir, free: free}
			byFS[id] = f
			order = append(order, id)
		}
		f.needs = append(f.needs, need{what, n})
	}
	add(c.StateDir, "Overlong_lines_limit_size", int64(c.OverlongLimit))
	if s := c.S3; s != nil {
		add(s.StoreDir, "S3.Store_dir_limit_size", int64(s.StoreDirLimitSize))
	}
	if l := c.Loki; l != nil && l.StoreDir != "" {
		add(l.StoreDir, "Loki.Store_dir_limit_size", int64(l.StoreDirLimitSize))
	}
	if l := c.Loki; l != nil && l.DeadLetterFile != "" {
		add(filepath.Dir(l.DeadLetterFile), "Loki.Dead_letter_limit_size", int64(l.DeadLetterLimit))
	}
	var out []string
	for _, id := range order {
		f := byFS[id]
		var sum int64
		desc := ""
		for i, n := range f.needs {
			sum += n.n
			if i > 0 {
				desc += " + "
			}
			desc += fmt.Sprintf("%s %s", n.what, humanBytes(n.n))
		}
		if sum > f.free {
			out = append(out, fmt.Sprintf("%s (%s) is more than the %s free on the filesystem of %s: when that disk fills first, reading pauses until uploads free space; lower the limits or give the directory more space",
				desc, humanBytes(sum), humanBytes(f.free), f.dir))
		}
	}
	return out
}

func existingParent(dir string) string {
	d := filepath.Clean(dir)
	for {
		if _, err := os.Stat(d); err == nil {
			return d
		}
		p := filepath.Dir(d)
		if p == d {
			return d
		}
		d = p
	}
}

// humanBytes writes n in MiB or GiB (powers of 1024, as the options are).
func humanBytes(n int64) string {
	if n >= 1<<30 {
		return fmt.Sprintf("%.1fGiB", float64(n)/(1<<30))
	}
	return fmt.Sprintf("%.1fMiB", float64(n)/(1<<20))
}

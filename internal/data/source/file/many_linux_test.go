package file

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/data"
)

// openFDs counts the process's open file descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	return len(ents)
}

// manyObjects writes n small files of m events each, as a day of Fluent
// Bit objects synced to disk is: their names do not sort by time (the
// file named first holds the last minute).
func manyObjects(t *testing.T, n, m int) (dir string, paths []string) {
	t.Helper()
	dir = t.TempDir()
	base := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		var lines []string
		for j := 0; j < m; j++ {
			lines = append(lines, mkEvent(fmt.Sprintf("%d-%d", i, j), base.Add(time.Duration(i)*time.Minute+time.Duration(j)*time.Second)))
		}
		p := filepath.Join(dir, fmt.Sprintf("obj-%05d.json", n-1-i))
		comp := []string{"", "gzip", "zstd"}[i%3]
		if comp != "" {
			p += map[string]string{"gzip": ".gz", "zstd": ".zst"}[comp]
		}
		writeLines(t, p, lines, comp)
		paths = append(paths, p)
	}
	return dir, paths
}

// TestManyFilesOpenFewAtOnce: thousands of small files, given as one glob
// or as as many arguments, are read a few at a time in time order (each
// is opened when the merge reaches its first event), so the read holds a
// few file descriptors and buffers, not one per file: with a 256-file
// descriptor limit every event is still read (before, every file was
// opened at once and those past the limit were rejected with "too many
// open files").
func TestManyFilesOpenFewAtOnce(t *testing.T) {
	const n, m = 1500, 4
	dir, paths := manyObjects(t, n, m)
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skip(err)
	}
	low := lim
	low.Cur = 256
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Skip(err)
	}
	defer syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)

	base := openFDs(t)
	var globSrc []data.Source
	s, err := New(filepath.Join(dir, "obj-*"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	globSrc = append(globSrc, s)
	var argSrcs []data.Source
	for _, p := range paths {
		s, err := New(p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		argSrcs = append(argSrcs, s)
	}
	for name, srcs := range map[string][]data.Source{"one glob": globSrc, "one argument per file": argSrcs} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st, err := data.OpenAll(ctx, srcs, data.ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			var got, maxFDs int
			var last int64
			for {
				b, err := st.Next(ctx)
				if err != nil {
					break
				}
				maxFDs = max(maxFDs, openFDs(t)-base)
				for _, r := range b.Rejects {
					t.Fatalf("rejected: %v", r)
				}
				for i := range b.Events {
					if e := b.Events[i].Time; e < last {
						t.Fatalf("out of time order: %s", b.Events[i].Where())
					} else {
						last = e
					}
				}
				got += len(b.Events)
			}
			if got != n*m {
				t.Fatalf("%d events, want %d", got, n*m)
			}
			if maxFDs > 16 {
				t.Fatalf("%d files open at once while reading %d files that follow one another in time", maxFDs, n)
			}
		})
	}
}

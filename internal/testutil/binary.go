package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
)

// built is the audittui binary Audittui made for this test process.
var built struct {
	once     sync.Once
	dir, bin string
	err      error
}

// Audittui returns the audittui binary the tests drive: $AUDITTUI_BIN
// (scripts/test.sh builds one for the whole run), else cmd/audittui built
// once per test process into a temporary directory. Once: go build does
// not cache a link, and each costs ~6 s of CPU. The error carries the
// build's output. A package that calls it removes the directory with
// RemoveAudittui from its TestMain.
func Audittui() (string, error) {
	if bin := os.Getenv("AUDITTUI_BIN"); bin != "" {
		return bin, nil
	}
	built.once.Do(func() {
		built.dir, built.err = os.MkdirTemp("", "audittui-test-bin-")
		if built.err != nil {
			return
		}
		bin := filepath.Join(built.dir, "audittui")
		cmd := exec.Command("go", "build", "-o", bin, "./cmd/audittui")
		cmd.Dir = RepoRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build ./cmd/audittui: %v\n%s", err, out)
			return
		}
		built.bin = bin
	})
	return built.bin, built.err
}

// RemoveAudittui removes the binary Audittui built, if it built one.
func RemoveAudittui() {
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
}

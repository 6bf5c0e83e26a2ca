package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/buildinfo"
	"github.com/audittui/audittui/internal/cli/clitest"
	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/evidence"
	"github.com/audittui/audittui/internal/testutil"
)

// `audittui --version` and `audittui version` print the build information
// (before, "version" was taken for a file to open and --version was unknown).
func TestVersion(t *testing.T) {
	want := buildinfo.Get().Text()
	for _, args := range [][]string{{"--version"}, {"-v"}, {"version"}} {
		ios, out, errb := clitest.Streams("")
		code := Main(context.Background(), args, ios)
		if code != cmdutil.ExitOK || out.String() != want || errb.String() != "" {
			t.Errorf("audittui %v: exit %d\nstdout %q\nstderr %q\nwant stdout %q", args, code, out.String(), errb.String(), want)
		}
	}
	ios, out, errb := clitest.Streams("")
	if code := Main(context.Background(), []string{"version", "--json"}, ios); code != cmdutil.ExitOK {
		t.Fatalf("version --json: exit %d: %s", code, errb.String())
	}
	var in buildinfo.Info
	if err := json.Unmarshal([]byte(out.String()), &in); err != nil {
		t.Fatalf("version --json: %v\n%s", err, out.String())
	}
	if in.Version != buildinfo.Get().Version || in.GoVersion != buildinfo.Get().GoVersion {
		t.Errorf("version --json = %+v", in)
	}
	ios, _, errb = clitest.Streams("")
	if code := Main(context.Background(), []string{"version", "extra"}, ios); code != cmdutil.ExitUsage {
		t.Errorf("version with an argument: exit %d, want %d (%s)", code, cmdutil.ExitUsage, errb.String())
	}
}

// MANIFEST.json names the build that wrote the export.
func TestExportManifestNamesBuild(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "export")
	src := filepath.Join(testutil.RepoRoot(), "testdata", "sample", "audit.log")
	ios, _, errb := clitest.Streams("")
	if code := Main(context.Background(), []string{"export", src, "--dir", dir}, ios); code != cmdutil.ExitOK {
		t.Fatalf("export: exit %d\n%s", code, errb.String())
	}
	b, err := os.ReadFile(filepath.Join(dir, "MANIFEST.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m evidence.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m.Generator != buildinfo.Get().String() || !strings.HasPrefix(m.Generator, "audittui ") {
		t.Errorf("MANIFEST.json generator %q, want %q", m.Generator, buildinfo.Get().String())
	}
}

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/buildinfo"
	"github.com/audittui/audittui/internal/testutil"
)

// `audittui --version` and `audittui version` print the build information
// (before, "version" was taken for a file to open and --version was unknown).
func TestVersion(t *testing.T) {
	want := buildinfo.Get().Text()
	for _, args := range [][]string{{"--version"}, {"-v"}, {"version"}} {
		var out, errb bytes.Buffer
		code := Main(context.Background(), args, &IO{Out: &out, Err: &errb})
		if code != ExitOK || out.String() != want || errb.Len() != 0 {
			t.Errorf("audittui %v: exit %d\nstdout %q\nstderr %q\nwant stdout %q", args, code, out.String(), errb.String(), want)
		}
	}
	var out, errb bytes.Buffer
	if code := Main(context.Background(), []string{"version", "--json"}, &IO{Out: &out, Err: &errb}); code != ExitOK {
		t.Fatalf("version --json: exit %d: %s", code, errb.String())
	}
	var in buildinfo.Info
	if err := json.Unmarshal(out.Bytes(), &in); err != nil {
		t.Fatalf("version --json: %v\n%s", err, out.String())
	}
	if in.Version != buildinfo.Get().Version || in.GoVersion != buildinfo.Get().GoVersion {
		t.Errorf("version --json = %+v", in)
	}
	errb.Reset()
	if code := Main(context.Background(), []string{"version", "extra"}, &IO{Out: &out, Err: &errb}); code != ExitUsage {
		t.Errorf("version with an argument: exit %d, want %d (%s)", code, ExitUsage, errb.String())
	}
}

// MANIFEST.json names the build that wrote the export.
func TestExportManifestNamesBuild(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "export")
	var out, errb bytes.Buffer
	src := filepath.Join(testutil.RepoRoot(), "testdata", "sample", "audit.log")
	if code := Main(context.Background(), []string{"export", src, "--to", dir}, &IO{Out: &out, Err: &errb}); code != ExitOK {
		t.Fatalf("export: exit %d\n%s", code, errb.String())
	}
	b, err := os.ReadFile(filepath.Join(dir, manifestJSON))
	if err != nil {
		t.Fatal(err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m.Generator != buildinfo.Get().String() || !strings.HasPrefix(m.Generator, "audittui ") {
		t.Errorf("MANIFEST.json generator %q, want %q", m.Generator, buildinfo.Get().String())
	}
}

package image

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/testutil"
)

// The Dockerfile (which cannot be built here: no Docker daemon) makes the
// same image as Build: same base, files, user, entrypoint, environment,
// labels and build flags.
func TestDockerfileMatchesBuild(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testutil.RepoRoot(), "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	files, err := rootfs(Options{Binary: os.Args[0]})
	if err != nil {
		t.Fatal(err)
	}
	content := map[string]string{}
	for _, f := range files {
		content[f.name] = string(f.data)
	}
	printf := func(s string) string { return "printf '" + strings.ReplaceAll(s, "\n", `\n`) + "'" }
	want := []string{
		"FROM scratch\n",
		"CGO_ENABLED=0",
		"-trimpath",
		"-s -w",
		printf(content["etc/passwd"]) + " >/out/etc/passwd",
		printf(content["etc/group"]) + " >/out/etc/group",
		"/out" + CABundlePath,
		"-o /out" + BinaryPath + " ./cmd/audittui",
		"chmod 0700 /out" + Home,
		"chmod 1777 /out/tmp",
		"--chown=" + User + " /out" + Home + " " + Home + "\n",
		"USER " + User + "\n",
		`ENTRYPOINT ["` + BinaryPath + `"]`,
		"WORKDIR " + Home + "\n",
		"ENV PATH=/usr/local/bin:/usr/bin:/bin \\\n    HOME=" + Home + "\n",
		LabelVersion + `="${VERSION}"`,
		LabelRevision + `="${COMMIT}"`,
		LabelCreated + `="${COMMIT_TIME}"`,
		LabelSource + `="https://github.com/audittui/audittui"`,
		LabelTitle + `="audittui"`,
	}
	for _, w := range want {
		if !strings.Contains(df, w) {
			t.Errorf("Dockerfile lacks %q", w)
		}
	}
	for _, v := range []string{"version", "commit", "commitTime", "dirty"} {
		if !strings.Contains(df, "-X github.com/audittui/audittui/internal/buildinfo."+v+"=") {
			t.Errorf("Dockerfile does not pass buildinfo.%s", v)
		}
	}
	di, err := os.ReadFile(filepath.Join(testutil.RepoRoot(), ".dockerignore"))
	if err != nil || !strings.Contains(string(di), ".git\n") || !strings.Contains(string(di), "bin/\n") {
		t.Errorf(".dockerignore must keep .git and bin/ out of the context: %v", err)
	}
}

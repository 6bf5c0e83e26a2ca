package image

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/audittui/audittui/internal/buildinfo"
	"github.com/audittui/audittui/internal/testutil"
)

// What the test binary is stamped with (as make image does, through
// -ldflags -X; -buildvcs=false so a git checkout's own stamp does not
// replace them).
var testLD = buildinfo.LDFlags{
	Version: "v1.2.3",
	Commit:  "0123456789abcdef0123456789abcdef01234567",
	Time:    "2026-01-02T03:04:05Z",
	Dirty:   "false",
}

// goBuild builds pkg as make image does: static, -trimpath, stripped,
// stamped with ld (-buildvcs=false so a git checkout's own stamp does not
// replace the values).
func goBuild(t *testing.T, pkg string, ld buildinfo.LDFlags) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), filepath.Base(pkg))
	flags := "-s -w -X " + buildinfo.VarVersion + "=" + ld.Version + " -X " + buildinfo.VarCommit + "=" + ld.Commit +
		" -X " + buildinfo.VarTime + "=" + ld.Time + " -X " + buildinfo.VarDirty + "=" + ld.Dirty
	cmd := exec.Command("go", "build", "-buildvcs=false", "-trimpath", "-ldflags", flags, "-o", out, pkg)
	cmd.Dir = testutil.RepoRoot()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

func caBundle(t *testing.T) string {
	// A stand-in bundle: the test must not depend on the host's.
	p := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(p, []byte("-----BEGIN CERTIFICATE-----\nnot a real certificate\n-----END CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// mkimage runs the real command (as make image does) and returns the
// digest it printed.
func mkimage(t *testing.T, tool, bin, ca, out string) string {
	t.Helper()
	cmd := exec.Command(tool, "-binary", bin, "-out", out, "-ca-bundle", ca,
		"-version", testLD.Version, "-commit", testLD.Commit, "-commit-time", testLD.Time, "-dirty", testLD.Dirty,
		"-repo", "ghcr.io/audittui/audittui", "-source", "https://github.com/audittui/audittui")
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("mkimage: %v\n%s", err, b)
	}
	t.Logf("mkimage:\n%s", b)
	for _, ln := range strings.Split(string(b), "\n") {
		if d, ok := strings.CutPrefix(ln, "digest   "); ok {
			return d
		}
	}
	t.Fatalf("mkimage printed no digest:\n%s", b)
	return ""
}

// The image make image builds: mkimage twice on one binary gives the same
// digest and the same bytes; the archive reads back with
// go-containerregistry's docker-archive and OCI layout readers; entrypoint,
// user and labels are right; the binary inside runs --version and says what
// the labels say.
func TestImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the audittui binary (-short)")
	}
	bin := goBuild(t, "./cmd/audittui", testLD)
	tool := goBuild(t, "./cmd/mkimage", buildinfo.LDFlags{})
	ca := caBundle(t)
	dir := t.TempDir()
	archive := filepath.Join(dir, "image.tar")
	digest := mkimage(t, tool, bin, ca, archive)
	again := mkimage(t, tool, bin, ca, filepath.Join(dir, "again.tar"))
	a, _ := os.ReadFile(archive)
	b, _ := os.ReadFile(filepath.Join(dir, "again.tar"))
	if digest != again || !bytes.Equal(a, b) {
		t.Errorf("two builds of one binary: digests %s and %s, archives equal: %v", digest, again, bytes.Equal(a, b))
	}

	// Docker's manifest.json reader (tarball: what docker load reads).
	t.Run("docker archive", func(t *testing.T) {
		tag, err := name.NewTag("ghcr.io/audittui/audittui:v1.2.3")
		if err != nil {
			t.Fatal(err)
		}
		img, err := tarball.ImageFromPath(archive, &tag)
		if err != nil {
			t.Fatal(err)
		}
		checkConfig(t, img)
		checkLayer(t, img)
	})

	// The OCI layout reader: index.json names the tag; the manifest digest
	// is the one mkimage printed.
	t.Run("oci layout", func(t *testing.T) {
		lay := filepath.Join(dir, "layout")
		untar(t, archive, lay)
		idx, err := layout.ImageIndexFromPath(lay)
		if err != nil {
			t.Fatal(err)
		}
		im, err := idx.IndexManifest()
		if err != nil {
			t.Fatal(err)
		}
		if len(im.Manifests) != 1 {
			t.Fatalf("index lists %d manifests", len(im.Manifests))
		}
		desc := im.Manifests[0]
		if desc.Digest.String() != digest || desc.Annotations["org.opencontainers.image.ref.name"] != "v1.2.3" ||
			desc.Annotations["io.containerd.image.name"] != "ghcr.io/audittui/audittui:v1.2.3" {
			t.Errorf("index entry %+v, want digest %s", desc, digest)
		}
		img, err := idx.Image(desc.Digest)
		if err != nil {
			t.Fatal(err)
		}
		if d, _ := img.Digest(); d.String() != digest {
			t.Errorf("manifest digest %s, mkimage printed %s", d, digest)
		}
		mt, _ := img.MediaType()
		if mt != "application/vnd.oci.image.manifest.v1+json" {
			t.Errorf("manifest media type %s", mt)
		}
		checkConfig(t, img)
		checkLayer(t, img)
		checkBinaryRuns(t, img)
	})
}

// Build in process on a small static program: same digest twice, the
// labels reach the digest, and the archive's OCI layout holds it.
func TestBuildSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go program (-short)")
	}
	bin := goBuild(t, "./internal/image/testdata/hello", testLD)
	opts := Options{Binary: bin, LDFlags: testLD, CABundle: caBundle(t), Repo: "ghcr.io/audittui/audittui",
		Source: "https://github.com/audittui/audittui"}
	r1, err := Build(opts)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := Build(opts)
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := r1.Image.Digest()
	d2, _ := r2.Image.Digest()
	if d1 != d2 {
		t.Errorf("digests %s and %s", d1, d2)
	}
	var w1, w2 bytes.Buffer
	if err := WriteArchive(&w1, r1); err != nil {
		t.Fatal(err)
	}
	if err := WriteArchive(&w2, r2); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(w1.Bytes(), w2.Bytes()) {
		t.Error("archives differ")
	}
	checkConfig(t, r1.Image)
	o3 := opts
	o3.LDFlags.Commit = strings.Repeat("f", 40)
	r3, err := Build(o3)
	if err != nil {
		t.Fatal(err)
	}
	if d3, _ := r3.Image.Digest(); d3 == d1 {
		t.Error("another revision gave the same digest")
	}
	// -trimpath builds do not record -ldflags: without the values the
	// binary cannot be labelled.
	if _, err := Build(Options{Binary: bin, Repo: opts.Repo}); err == nil || !strings.Contains(err.Error(), "no version or commit") {
		t.Errorf("without LDFlags: %v", err)
	}
	o4 := opts
	o4.Tag = "v1.2.3+dirty"
	if _, err := Build(o4); err == nil || !strings.Contains(err.Error(), "image name") {
		t.Errorf("tag with +: %v", err)
	}
}

func checkConfig(t *testing.T, img v1.Image) {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if len(c.Entrypoint) != 1 || c.Entrypoint[0] != "/usr/local/bin/audittui" || len(c.Cmd) != 0 {
		t.Errorf("entrypoint %q cmd %q", c.Entrypoint, c.Cmd)
	}
	if c.User != "65532:65532" {
		t.Errorf("user %q, want the non-root 65532:65532", c.User)
	}
	want := map[string]string{
		"org.opencontainers.image.version":  "v1.2.3",
		"org.opencontainers.image.revision": testLD.Commit,
		"org.opencontainers.image.source":   "https://github.com/audittui/audittui",
		"org.opencontainers.image.created":  testLD.Time,
	}
	for k, v := range want {
		if c.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, c.Labels[k], v)
		}
	}
	commit, _ := time.Parse(time.RFC3339, testLD.Time)
	if !cf.Created.Time.Equal(commit) || len(cf.History) != 1 || !cf.History[0].Created.Time.Equal(commit) {
		t.Errorf("created %v history %+v: want the commit time %v, not now", cf.Created, cf.History, commit)
	}
	if cf.OS != "linux" || cf.Architecture != runtime.GOARCH {
		t.Errorf("platform %s/%s", cf.OS, cf.Architecture)
	}
}

// checkLayer reads the layer's tar: sorted entries, root-owned (the home
// directory excepted), every mtime the commit time, no user names.
func checkLayer(t *testing.T, img v1.Image) {
	t.Helper()
	layers, _ := img.Layers()
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	commit, _ := time.Parse(time.RFC3339, testLD.Time)
	tr := tar.NewReader(rc)
	var names []string
	files := map[string]*tar.Header{}
	contents := map[string]string{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		files[h.Name] = h
		if !h.ModTime.Equal(commit) || h.Uname != "" || h.Gname != "" || !h.AccessTime.IsZero() || !h.ChangeTime.IsZero() {
			t.Errorf("%s: mtime %v atime %v ctime %v uname %q gname %q", h.Name, h.ModTime, h.AccessTime, h.ChangeTime, h.Uname, h.Gname)
		}
		if h.Name != "home/nonroot/" && (h.Uid != 0 || h.Gid != 0) {
			t.Errorf("%s owned by %d:%d", h.Name, h.Uid, h.Gid)
		}
		if h.Size < 1<<20 {
			b, _ := io.ReadAll(tr)
			contents[h.Name] = string(b)
		}
	}
	if !sort.StringsAreSorted(names) {
		t.Errorf("entries not sorted: %q", names)
	}
	if h := files["usr/local/bin/audittui"]; h == nil || h.Mode != 0o755 {
		t.Errorf("binary entry %+v", h)
	}
	if h := files["home/nonroot/"]; h == nil || h.Uid != 65532 || h.Mode != 0o700 {
		t.Errorf("home entry %+v", h)
	}
	if h := files["tmp/"]; h == nil || h.Mode != 0o1777 {
		t.Errorf("tmp entry %+v", h)
	}
	if !strings.Contains(contents["etc/passwd"], "nonroot:x:65532:65532:") || !strings.Contains(contents["etc/group"], "nonroot:x:65532:") {
		t.Errorf("passwd %q group %q", contents["etc/passwd"], contents["etc/group"])
	}
	if !strings.Contains(contents["etc/ssl/certs/ca-certificates.crt"], "not a real certificate") {
		t.Error("CA bundle missing")
	}
}

// checkBinaryRuns extracts the binary from the image and runs --version
// and version --json: they must say what the labels say.
func checkBinaryRuns(t *testing.T, img v1.Image) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the image's binary is a linux binary")
	}
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	bin := filepath.Join(t.TempDir(), "audittui")
	found := false
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Name != "usr/local/bin/audittui" {
			continue
		}
		f, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY, 0o755)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(f, tr); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		found = true
	}
	if !found {
		t.Fatal("no usr/local/bin/audittui in the image")
	}
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("audittui --version: %v\n%s", err, out)
	}
	t.Logf("audittui --version (from the image):\n%s", out)
	for _, want := range []string{"audittui v1.2.3\n", "commit:     " + testLD.Commit + "\n", "built:      " + testLD.Time + " (commit time)\n",
		"dirty:      false\n", "go:         " + runtime.Version() + " linux/" + runtime.GOARCH + "\n"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("--version lacks %q", want)
		}
	}
	js, err := exec.Command(bin, "version", "--json").Output()
	if err != nil {
		t.Fatalf("audittui version --json: %v", err)
	}
	var in buildinfo.Info
	if err := json.Unmarshal(js, &in); err != nil {
		t.Fatal(err)
	}
	cf, _ := img.ConfigFile()
	l := cf.Config.Labels
	if in.Version != l["org.opencontainers.image.version"] || in.Commit != l["org.opencontainers.image.revision"] ||
		in.TimeString() != l["org.opencontainers.image.created"] || in.CGO {
		t.Errorf("binary says %+v; labels say %v", in, l)
	}
}

func untar(t *testing.T, archive, dst string) {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Mode&^0o777 != 0 {
			t.Errorf("archive entry %s: uid %d gid %d uname %q mode %o", h.Name, h.Uid, h.Gid, h.Uname, h.Mode)
		}
		p := filepath.Join(dst, filepath.FromSlash(h.Name))
		if !strings.HasPrefix(p, filepath.Clean(dst)+string(os.PathSeparator)) {
			t.Fatalf("entry %s escapes", h.Name)
		}
		if h.Typeflag == tar.TypeDir {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Inputs that cannot make a working image are refused with the reason.
func TestBuildRefuses(t *testing.T) {
	dir := t.TempDir()
	notBin := filepath.Join(dir, "audittui")
	if err := os.WriteFile(notBin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Build(Options{Binary: notBin, Repo: "x/y"}); err == nil || !strings.Contains(err.Error(), notBin) {
		t.Errorf("not a Go binary: %v", err)
	}
	// This test binary: linked with cgo under -race, and without a
	// version unless stamped.
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	_, err = Build(Options{Binary: exe, Repo: "x/y"})
	if err == nil {
		t.Fatal("the test binary became an image")
	}
	info, _ := buildinfo.ReadFile(exe, buildinfo.LDFlags{})
	switch {
	case info.CGO && !strings.Contains(err.Error(), "CGO_ENABLED=1"):
		t.Errorf("cgo binary: %v", err)
	case !info.CGO && !strings.Contains(err.Error(), "no version or commit"):
		t.Errorf("unstamped binary: %v", err)
	}
}

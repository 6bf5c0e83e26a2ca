package testutil

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ArtifactsDir returns the directory a test keeps what a person may want
// to look at afterwards (screenshots): $AUDITTUI_ARTIFACTS/<test>, else
// .tmp/artifacts/<test> in the repository (ignored by git).
func ArtifactsDir(t testing.TB) string {
	t.Helper()
	base := os.Getenv("AUDITTUI_ARTIFACTS")
	if base == "" {
		base = filepath.Join(RepoRoot(), ".tmp", "artifacts")
	}
	dir := filepath.Join(base, strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Chromium returns Debian's chromium (scripts/deps.sh installs it). Without
// it the test is skipped, except in CI (CI=true), where it fails.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if Strict() {
		t.Fatal("chromium is required in CI (CI=true) but was not found on PATH (scripts/deps.sh installs it)")
	}
	t.Skip("tool: chromium not found: skipping the headless browser test (apt-get install chromium)")
	return ""
}

// headless runs chromium headless on a local file with extra flags and
// returns its standard output. It never reaches the network: background
// networking, component updates and sync are off, and a fresh profile is
// used.
func headless(t testing.TB, browser, page string, extra ...string) []byte {
	t.Helper()
	abs, err := filepath.Abs(page)
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
		"--user-data-dir=" + t.TempDir()}
	args = append(append(args, extra...), "file://"+abs)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", strings.Join(extra, " "), err, errb.String())
	}
	return out.Bytes()
}

// RenderDOM loads page in headless chromium and returns the DOM it built
// (--dump-dom): the text a reader sees, after parsing.
func RenderDOM(t testing.TB, browser, page string) string {
	t.Helper()
	return string(headless(t, browser, page, "--dump-dom"))
}

// Screenshot renders page in headless chromium to png (width x height
// pixels) and checks the picture is not blank: most of it background,
// but enough pixels of other colours to be text and rules.
func Screenshot(t testing.TB, browser, page, pngPath string, width, height int) {
	t.Helper()
	headless(t, browser, page, "--screenshot="+pngPath, "--window-size="+strconv.Itoa(width)+","+strconv.Itoa(height), "--hide-scrollbars")
	f, err := os.Open(pngPath)
	if err != nil {
		t.Fatalf("screenshot not written: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot %s: %v", pngPath, err)
	}
	checkPicture(t, img, width, height, pngPath)
}

func checkPicture(t testing.TB, img image.Image, width, height int, name string) {
	t.Helper()
	b := img.Bounds()
	if b.Dx() != width || b.Dy() != height {
		t.Fatalf("%s is %dx%d, want %dx%d", name, b.Dx(), b.Dy(), width, height)
	}
	colours := map[uint32]int{}
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colours[(r>>11)<<10|(g>>11)<<5|bl>>11]++
		}
	}
	total, bg := 0, 0
	for _, n := range colours {
		total += n
		bg = max(bg, n)
	}
	ink := total - bg
	if len(colours) < 8 || ink*100 < total { // under 1% of the page drawn on
		t.Fatalf("%s looks blank: %d colours, %d of %d sampled pixels not background", name, len(colours), ink, total)
	}
	t.Logf("screenshot %s: %d colours, %.1f%% ink", name, len(colours), float64(ink)*100/float64(total))
}

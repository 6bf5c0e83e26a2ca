package buildinfo

import (
	"encoding/json"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

func settings(kv ...string) []debug.BuildSetting {
	var out []debug.BuildSetting
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
	}
	return out
}

func TestFromBuildInfo(t *testing.T) {
	const rev = "d0f2fc4abcdef0123456789abcdef0123456789a"
	ld := LDFlags{Version: "v9.9.9", Commit: "ffffffffffffffffffffffffffffffffffffffff", Time: "2020-01-02T03:04:05Z", Dirty: "true"}
	cases := []struct {
		name                      string
		bi                        *debug.BuildInfo
		ld                        LDFlags
		version, commit, tm, dirt string
		from                      string
	}{
		{
			name: "git clone: build info wins over ldflags",
			bi: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/audittui/audittui", Version: "v0.1.0"},
				Settings: settings("vcs", "git", "vcs.revision", rev, "vcs.time", "2026-12-06T09:20:00Z", "vcs.modified", "false", "GOOS", "linux", "GOARCH", "arm64", "CGO_ENABLED", "0")},
			ld: ld, version: "v0.1.0", commit: rev, tm: "2026-12-06T09:20:00Z", dirt: "false", from: "build info",
		},
		{
			name: "-buildvcs=false or worktree: ldflags fill the gaps",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/audittui/audittui", Version: Devel}},
			ld:   ld, version: "v9.9.9", commit: ld.Commit, tm: "2020-01-02T03:04:05Z", dirt: "true", from: "ldflags",
		},
		{
			name:    "go install @tag: module zip, clean, no commit",
			bi:      &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/audittui/audittui", Version: "v0.1.0", Sum: "h1:abc="}},
			version: "v0.1.0", commit: "", tm: "unknown", dirt: "false", from: "build info",
		},
		{
			name: "go install @commit: pseudo-version gives commit and time",
			bi: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/audittui/audittui",
				Version: "v0.1.1-0.20261206092000-d0f2fc4abcde", Sum: "h1:abc="}},
			version: "v0.1.1-0.20261206092000-d0f2fc4abcde", commit: "d0f2fc4abcde", tm: "2026-12-06T09:20:00Z", dirt: "false", from: "build info",
		},
		{
			name: "Go-derived version of a modified tree",
			bi: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/audittui/audittui",
				Version: "v0.0.0-20261206092000-d0f2fc4abcde+dirty"}},
			version: "v0.0.0-20261206092000-d0f2fc4abcde+dirty", commit: "d0f2fc4abcde", tm: "2026-12-06T09:20:00Z", dirt: "true", from: "build info",
		},
		{
			name: "nothing known", bi: nil,
			version: Devel, commit: "", tm: "unknown", dirt: "unknown", from: "none",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := FromBuildInfo(c.bi, c.ld)
			if in.Version != c.version || in.Commit != c.commit || in.TimeString() != c.tm || in.DirtyString() != c.dirt || in.From != c.from {
				t.Errorf("got version %q commit %q time %q dirty %q from %q\nwant %q %q %q %q %q",
					in.Version, in.Commit, in.TimeString(), in.DirtyString(), in.From, c.version, c.commit, c.tm, c.dirt, c.from)
			}
		})
	}
	in := FromBuildInfo(cases[0].bi, LDFlags{})
	if in.Platform != "linux/arm64" || in.CGO || in.GoVersion != "go1.26.8" {
		t.Errorf("platform %q cgo %v go %q", in.Platform, in.CGO, in.GoVersion)
	}
}

func TestParseLDFlags(t *testing.T) {
	s := `-s -w -X github.com/audittui/audittui/internal/buildinfo.version=v0.1.0 ` +
		`-X=github.com/audittui/audittui/internal/buildinfo.commit=abc ` +
		`-X 'github.com/audittui/audittui/internal/buildinfo.commitTime=2026-12-06T09:20:00Z' ` +
		`-X "github.com/audittui/audittui/internal/buildinfo.dirty=false" -X other.pkg.version=nope`
	got := ParseLDFlags(s)
	want := LDFlags{Version: "v0.1.0", Commit: "abc", Time: "2026-12-06T09:20:00Z", Dirty: "false"}
	if got != want {
		t.Errorf("ParseLDFlags = %+v, want %+v", got, want)
	}
	if got := ParseLDFlags(""); got != (LDFlags{}) {
		t.Errorf("empty: %+v", got)
	}
}

func TestFormats(t *testing.T) {
	f := false
	in := Info{Version: "v0.1.0", Commit: "d0f2fc4abcdef0123456789abcdef0123456789a", Time: time.Date(2026, 12, 6, 9, 20, 0, 0, time.UTC),
		Dirty: &f, GoVersion: "go1.26.8", Platform: "linux/amd64", From: "build info"}
	if got, want := in.String(), "audittui v0.1.0 (commit d0f2fc4abcde, 2026-12-06T09:20:00Z, go1.26.8 linux/amd64)"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	text := in.Text()
	for _, want := range []string{"audittui v0.1.0\n", "commit:     d0f2fc4abcdef0123456789abcdef0123456789a\n",
		"built:      2026-12-06T09:20:00Z (commit time)\n", "dirty:      false\n", "go:         go1.26.8 linux/amd64\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("Text lacks %q:\n%s", want, text)
		}
	}
	var back Info
	if err := json.Unmarshal(in.JSON(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Version != in.Version || back.Commit != in.Commit || !back.Time.Equal(in.Time) || back.Dirty == nil || *back.Dirty {
		t.Errorf("JSON round trip: %+v", back)
	}
	var sb strings.Builder
	slog.New(slog.NewTextHandler(&sb, nil)).Info("shipping", "build", in)
	if !strings.Contains(sb.String(), "build.version=v0.1.0 build.commit=d0f2fc4abcde build.commit_time=2026-12-06T09:20:00Z build.dirty=false build.go=go1.26.8") {
		t.Errorf("log line: %s", sb.String())
	}
	names, values := in.Labels()
	if len(names) != len(values) || values[0] != "v0.1.0" {
		t.Errorf("labels %v %v", names, values)
	}
	unknown := Info{Version: Devel, GoVersion: "go1.26.8", Platform: "linux/amd64"}
	if got := unknown.String(); got != "audittui (devel) (go1.26.8 linux/amd64)" {
		t.Errorf("unknown String = %q", got)
	}
	if !strings.Contains(unknown.Text(), "commit:     unknown") || !strings.Contains(unknown.Text(), "dirty:      unknown") {
		t.Errorf("unknown Text:\n%s", unknown.Text())
	}
}

// The test binary itself carries build information.
func TestReadFileSelf(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	in, err := ReadFile(exe, LDFlags{Version: "v1.2.3", Dirty: "false"})
	if err != nil {
		t.Fatal(err)
	}
	if in.GoVersion != runtime.Version() || in.Platform != runtime.GOOS+"/"+runtime.GOARCH || in.Version != "v1.2.3" || in.DirtyString() != "false" {
		t.Errorf("ReadFile(self) = %+v", in)
	}
	if _, err := ReadFile(exe+".missing", LDFlags{}); err == nil || !strings.Contains(err.Error(), ".missing") {
		t.Errorf("missing file: %v", err)
	}
	if g := Get(); g.GoVersion != runtime.Version() {
		t.Errorf("Get() = %+v", g)
	}
}

// Package buildinfo tells which build of audittui is running: the module
// version, the commit, the commit time, whether the tree was modified, the Go
// version and the platform.
//
// Everything comes from the build information the Go toolchain embeds
// (runtime/debug.ReadBuildInfo): `go install ...@vX.Y.Z` records the module
// version, and a build inside a git clone records vcs.revision, vcs.time and
// vcs.modified (Go 1.24 and later also derive the version from the tag or
// commit). The build information cannot say these when the binary is built
// with -buildvcs=false, from a git worktree (Go only recognises a .git
// directory), from a module zip, or in a container build context without
// .git. For those cases the Makefile and the Dockerfile pass the values with
//
//	-ldflags "-X github.com/audittui/audittui/internal/buildinfo.version=v0.1.0
//	          -X github.com/audittui/audittui/internal/buildinfo.commit=<sha>
//	          -X github.com/audittui/audittui/internal/buildinfo.commitTime=<RFC 3339>
//	          -X github.com/audittui/audittui/internal/buildinfo.dirty=false"
//
// and they are used only where the build information has nothing.
//
// The time reported is the commit's, never the wall clock at build time, so
// two builds of one commit are byte for byte the same (the container image
// built by `make image` relies on that for its digest).
package buildinfo

import (
	"debug/buildinfo"
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Set with -ldflags -X (see the package doc); empty when not set.
var (
	version    string
	commit     string
	commitTime string
	dirty      string
)

// Devel is the version of a build that carries none.
const Devel = "(devel)"

// Info describes one build.
type Info struct {
	// Version is the module version: a release tag (v0.1.0), a
	// pseudo-version (v0.0.0-20261206092000-d0f2fc4abcde), either with
	// "+dirty" when the tree was modified, or "(devel)".
	Version string `json:"version"`
	// Commit is the full commit hash, or the 12-character prefix a
	// pseudo-version carries; "" when unknown.
	Commit string `json:"commit,omitempty"`
	// Time is the commit time (UTC); zero when unknown.
	Time time.Time `json:"commit_time,omitzero"`
	// Dirty tells whether the working tree had uncommitted changes; nil
	// when unknown.
	Dirty *bool `json:"dirty"`
	// GoVersion is the toolchain that built the binary (go1.26.8).
	GoVersion string `json:"go_version"`
	// Platform is GOOS/GOARCH.
	Platform string `json:"platform"`
	// CGO tells whether the binary links C code (static binaries do not).
	CGO bool `json:"cgo"`
	// Module is the main module path.
	Module string `json:"module,omitempty"`
	// From says where Version and Commit came from: "build info" (the Go
	// toolchain), "ldflags" or "pseudo-version".
	From string `json:"source"`
}

// Get returns the running binary's build information (computed once).
var Get = sync.OnceValue(func() Info {
	bi, _ := debug.ReadBuildInfo()
	return FromBuildInfo(bi, LDFlags{Version: version, Commit: commit, Time: commitTime, Dirty: dirty})
})

// LDFlags are the values passed with -ldflags -X.
type LDFlags struct{ Version, Commit, Time, Dirty string }

// The -X variable names, for building -ldflags strings.
const (
	pkgPath    = "github.com/audittui/audittui/internal/buildinfo"
	VarVersion = pkgPath + ".version"
	VarCommit  = pkgPath + ".commit"
	VarTime    = pkgPath + ".commitTime"
	VarDirty   = pkgPath + ".dirty"
)

// ReadFile returns the Info of another binary (any platform) from the
// build information in its file. The -X values are read from its -ldflags
// build setting; Go does not record that setting for -trimpath builds, so
// ld gives the values the binary was built with (recorded ones win).
func ReadFile(path string, ld LDFlags) (Info, error) {
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		return Info{}, fmt.Errorf("read build info of %s: %w", path, err)
	}
	for _, s := range bi.Settings {
		if s.Key == "-ldflags" {
			rec := ParseLDFlags(s.Value)
			for _, f := range []struct {
				dst *string
				v   string
			}{
				{&ld.Version, rec.Version}, {&ld.Commit, rec.Commit}, {&ld.Time, rec.Time}, {&ld.Dirty, rec.Dirty},
			} {
				if f.v != "" {
					*f.dst = f.v
				}
			}
		}
	}
	return FromBuildInfo(bi, ld), nil
}

// ParseLDFlags extracts this package's -X values from an -ldflags string
// (as recorded in a binary's build settings), so a tool can read them from
// a binary it cannot run (another platform).
func ParseLDFlags(s string) LDFlags {
	var ld LDFlags
	words := splitQuoted(s)
	for i := 0; i < len(words); i++ {
		w := words[i]
		var kv string
		switch {
		case w == "-X" && i+1 < len(words):
			i++
			kv = words[i]
		case strings.HasPrefix(w, "-X="):
			kv = w[3:]
		case strings.HasPrefix(w, "--X="):
			kv = w[4:]
		default:
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		switch k {
		case VarVersion:
			ld.Version = v
		case VarCommit:
			ld.Commit = v
		case VarTime:
			ld.Time = v
		case VarDirty:
			ld.Dirty = v
		}
	}
	return ld
}

// splitQuoted splits s at spaces, keeping '...' and "..." together (the
// quoting cmd/go accepts in -ldflags).
func splitQuoted(s string) []string {
	var out []string
	var cur strings.Builder
	var quote rune
	in := false
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, in = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}

// pseudo matches the time and revision of a pseudo-version
// (v0.0.0-20261206092000-d0f2fc4abcde, v1.2.4-0.2026...-..., v1.2.3-pre.0.2026...-...).
var pseudo = regexp.MustCompile(`[-.](\d{14})-([0-9a-f]{12})(\+[0-9A-Za-z.-]+)?$`)

// FromBuildInfo resolves a build's Info: the build information first, the
// -ldflags values where it has nothing, and a pseudo-version's commit and
// time as a last resort. bi may be nil.
func FromBuildInfo(bi *debug.BuildInfo, ld LDFlags) Info {
	in := Info{Version: Devel, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	set := map[string]string{}
	if bi != nil {
		for _, s := range bi.Settings {
			set[s.Key] = s.Value
		}
		if bi.GoVersion != "" {
			in.GoVersion = bi.GoVersion
		}
		in.Module = bi.Main.Path
		if set["GOOS"] != "" && set["GOARCH"] != "" {
			in.Platform = set["GOOS"] + "/" + set["GOARCH"]
		}
		in.CGO = set["CGO_ENABLED"] == "1"
	}
	from := func(s string) {
		if in.From == "" {
			in.From = s
		}
	}
	if bi != nil && bi.Main.Version != "" && bi.Main.Version != Devel {
		in.Version = bi.Main.Version
		from("build info")
	} else if ld.Version != "" {
		in.Version = ld.Version
		from("ldflags")
	}
	switch {
	case set["vcs.revision"] != "":
		in.Commit = set["vcs.revision"]
		from("build info")
	case ld.Commit != "":
		in.Commit = ld.Commit
		from("ldflags")
	}
	if t, err := time.Parse(time.RFC3339, set["vcs.time"]); err == nil {
		in.Time = t.UTC()
	} else if t, err := time.Parse(time.RFC3339, ld.Time); err == nil {
		in.Time = t.UTC()
	}
	if v, err := strconv.ParseBool(set["vcs.modified"]); err == nil {
		in.Dirty = &v
	} else if v, err := strconv.ParseBool(ld.Dirty); err == nil {
		in.Dirty = &v
	}
	if m := pseudo.FindStringSubmatch(in.Version); m != nil {
		if in.Commit == "" {
			in.Commit = m[2]
			from("pseudo-version")
		}
		if in.Time.IsZero() {
			if t, err := time.Parse("20060102150405", m[1]); err == nil {
				in.Time = t.UTC()
			}
		}
	}
	if in.Dirty == nil {
		switch {
		case strings.HasSuffix(in.Version, "+dirty"):
			t := true
			in.Dirty = &t
		case bi != nil && bi.Main.Sum != "":
			// Built from a module zip (go install ...@version): the
			// checksummed module is exactly the published one.
			f := false
			in.Dirty = &f
		}
	}
	if in.From == "" {
		in.From = "none"
	}
	return in
}

// ShortCommit returns the first 12 characters of the commit ("" when
// unknown).
func (in Info) ShortCommit() string {
	if len(in.Commit) > 12 {
		return in.Commit[:12]
	}
	return in.Commit
}

// DirtyString is "true", "false" or "unknown".
func (in Info) DirtyString() string {
	if in.Dirty == nil {
		return "unknown"
	}
	return strconv.FormatBool(*in.Dirty)
}

// TimeString is the commit time in RFC 3339 (UTC) or "unknown".
func (in Info) TimeString() string {
	if in.Time.IsZero() {
		return "unknown"
	}
	return in.Time.UTC().Format(time.RFC3339)
}

// String is a one-line summary:
// "audittui v0.1.0 (commit d0f2fc4abcde, 2026-12-06T09:20:00Z, go1.26.8 linux/amd64)".
func (in Info) String() string {
	var parts []string
	if c := in.ShortCommit(); c != "" {
		parts = append(parts, "commit "+c)
	}
	if !in.Time.IsZero() {
		parts = append(parts, in.TimeString())
	}
	if in.Dirty != nil && *in.Dirty && !strings.HasSuffix(in.Version, "+dirty") {
		parts = append(parts, "modified")
	}
	parts = append(parts, in.GoVersion+" "+in.Platform)
	return fmt.Sprintf("audittui %s (%s)", in.Version, strings.Join(parts, ", "))
}

// Text is the multi-line form printed by `audittui version`.
func (in Info) Text() string {
	commit := in.Commit
	if commit == "" {
		commit = "unknown"
	}
	return fmt.Sprintf(`audittui %s
  commit:     %s
  built:      %s (commit time)
  dirty:      %s
  go:         %s %s
`, in.Version, commit, in.TimeString(), in.DirtyString(), in.GoVersion, in.Platform)
}

// JSON is the machine-readable form (`audittui version --json`).
func (in Info) JSON() []byte {
	b, _ := json.MarshalIndent(in, "", "  ")
	return append(b, '\n')
}

// LogValue lets a logger print the build as a group:
// build.version, build.commit, build.commit_time, build.dirty, build.go.
func (in Info) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("version", in.Version),
		slog.String("commit", in.ShortCommit()),
		slog.String("commit_time", in.TimeString()),
		slog.String("dirty", in.DirtyString()),
		slog.String("go", in.GoVersion),
	)
}

// Labels are the label names and values of a Prometheus build-info gauge
// (the *_build_info convention: version, revision, goversion, ...).
func (in Info) Labels() (names, values []string) {
	return []string{"version", "revision", "commit_time", "dirty", "goversion", "platform"},
		[]string{in.Version, in.Commit, in.TimeString(), in.DirtyString(), in.GoVersion, in.Platform}
}

package evidence

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ErrNoManifest says a directory holds no MANIFEST.sha256.
var ErrNoManifest = errors.New("no " + ManifestSHA + " (not an audittui export directory?)")

// Status of one file in a Check.
const (
	StatusOK         = "OK"
	StatusMismatch   = "MISMATCH"
	StatusMissing    = "MISSING"
	StatusUnreadable = "UNREADABLE"
	StatusExtra      = "EXTRA"
)

// FileCheck is the result for one file.
type FileCheck struct {
	Path   string // relative, slash-separated
	Status string // StatusOK, ...
	Detail string // why, for anything but OK
	SHA256 string // the manifest's checksum ("" for EXTRA)
}

// CheckResult is what Check found: the manifest's files in its order, then
// the files not in it; and where MANIFEST.json disagrees with
// MANIFEST.sha256.
type CheckResult struct {
	Files        []FileCheck
	JSONProblems []string
	// OK, Bad, Missing and Extra count Files by status (Missing counts
	// unreadable files too).
	OK, Bad, Missing, Extra int
}

// Clean reports whether every file matches and nothing else is there.
func (r *CheckResult) Clean() bool {
	return r.Bad+r.Missing+r.Extra+len(r.JSONProblems) == 0
}

// Check re-hashes every file MANIFEST.sha256 lists and reports files that
// changed, went missing or were added, and whether MANIFEST.json agrees.
// A malformed manifest line is an error naming the file and line; a
// directory without a manifest fails with ErrNoManifest.
func Check(dir string) (*CheckResult, error) {
	want, order, err := readShaManifest(dir)
	if err != nil {
		return nil, err
	}
	res := &CheckResult{}
	for _, p := range order {
		got, size, err := HashFile(filepath.Join(dir, filepath.FromSlash(p)))
		fc := FileCheck{Path: p, SHA256: want[p], Status: StatusOK}
		switch {
		case os.IsNotExist(err):
			res.Missing++
			fc.Status = StatusMissing
		case err != nil:
			res.Missing++
			fc.Status, fc.Detail = StatusUnreadable, err.Error()
		case got != want[p]:
			res.Bad++
			fc.Status, fc.Detail = StatusMismatch, fmt.Sprintf("sha256 %s, manifest %s, %d bytes", got, want[p], size)
		default:
			res.OK++
		}
		res.Files = append(res.Files, fc)
	}
	// Files added since the export.
	var extra []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return nil
		}
		rel = filepath.ToSlash(rel)
		if rel == ManifestSHA || rel == ManifestJSON {
			return nil
		}
		if _, ok := want[rel]; !ok {
			extra = append(extra, rel)
		}
		return nil
	})
	sort.Strings(extra)
	for _, p := range extra {
		res.Extra++
		res.Files = append(res.Files, FileCheck{Path: p, Status: StatusExtra, Detail: "not in the manifest"})
	}
	res.JSONProblems = checkManifestJSON(dir, want)
	return res, nil
}

// readShaManifest reads DIR/MANIFEST.sha256: the checksum of each path,
// and the paths in its order.
func readShaManifest(dir string) (map[string]string, []string, error) {
	mpath := filepath.Join(dir, ManifestSHA)
	f, err := os.Open(mpath)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil, fmt.Errorf("%s: %w", dir, ErrNoManifest)
		}
		return nil, nil, err
	}
	defer f.Close()
	want := map[string]string{}
	var order []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		sum, path, err := ParseShaLine(line)
		if err != nil {
			return nil, nil, fmt.Errorf("%s:%d: %v", mpath, n, err)
		}
		if !localPath(path) {
			return nil, nil, fmt.Errorf("%s:%d: path %q leaves the export directory", mpath, n, path)
		}
		if _, dup := want[path]; !dup {
			order = append(order, path)
		}
		want[path] = sum
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", mpath, err)
	}
	return want, order, nil
}

// ReadManifest reads DIR/MANIFEST.json.
func ReadManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestJSON))
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, ManifestJSON), err)
	}
	return &m, nil
}

// localPath reports whether a manifest path stays inside the directory.
func localPath(p string) bool {
	return p != "" && filepath.IsLocal(filepath.FromSlash(p))
}

// checkManifestJSON compares MANIFEST.json (if present) with the checksums
// of MANIFEST.sha256.
func checkManifestJSON(dir string, want map[string]string) []string {
	m, err := ReadManifest(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return []string{err.Error()}
	}
	var out []string
	seen := map[string]bool{}
	for _, e := range m.Entries {
		seen[e.Path] = true
		if sum, ok := want[e.Path]; !ok {
			out = append(out, fmt.Sprintf("%s lists %s, %s does not", ManifestJSON, e.Path, ManifestSHA))
		} else if sum != e.SHA256 {
			out = append(out, fmt.Sprintf("%s and %s disagree on the sha256 of %s", ManifestJSON, ManifestSHA, e.Path))
		}
	}
	for p := range want {
		if !seen[p] && p != ManifestJSON {
			out = append(out, fmt.Sprintf("%s lists %s, %s does not", ManifestSHA, p, ManifestJSON))
		}
	}
	sort.Strings(out)
	return out
}

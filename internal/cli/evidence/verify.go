package evidence

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/termsafe"
)

// VerifyOptions are `audittui verify`'s options.
type VerifyOptions struct {
	IO    *cmdutil.IOStreams
	Dir   string
	Quiet bool
}

// NewCmdVerify builds `audittui verify`; runF, when not nil, runs instead
// of the check (tests).
func NewCmdVerify(f *cmdutil.Factory, runF func(*VerifyOptions) error) *cobra.Command {
	opts := &VerifyOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "verify [flags] DIR",
		Short: "Check an export directory against its SHA-256 manifest",
		Long: `Re-hash every file listed in DIR/MANIFEST.sha256 (written by audittui export)
and report files that changed, went missing, or were added since the export.
MANIFEST.json, when present, must agree with MANIFEST.sha256.

Exit status: 0 when every file matches; 1 on any mismatch, missing file or
unlisted file; 2 when DIR holds no manifest.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Dir = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runVerify(opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.Quiet, "quiet", "q", false, "print only problems and the summary")
	return cmd
}

type verifyResult struct {
	ok, bad, missing, extra int
}

func runVerify(opts *VerifyOptions) error {
	dir, quiet, out := opts.Dir, opts.Quiet, opts.IO.Out
	mpath := filepath.Join(dir, manifestSHA)
	f, err := os.Open(mpath)
	if err != nil {
		if os.IsNotExist(err) {
			return cmdutil.UsageErrorf("%s: no %s (not an audittui export directory?)", termsafe.String(dir), manifestSHA)
		}
		return err
	}
	defer f.Close()
	want := map[string]string{}
	var order []string
	var res verifyResult
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		sum, path, err := parseShaLine(line)
		if err != nil {
			return &cmdutil.ExitError{Code: cmdutil.ExitInputError, Err: fmt.Errorf("%s:%d: %v", mpath, n, err)}
		}
		if !localPath(path) {
			return &cmdutil.ExitError{Code: cmdutil.ExitInputError, Err: fmt.Errorf("%s:%d: path %q leaves the export directory", mpath, n, termsafe.String(path))}
		}
		if _, dup := want[path]; !dup {
			order = append(order, path)
		}
		want[path] = sum
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s: %w", mpath, err)
	}
	report := func(status, path, detail string) {
		if quiet && status == "OK" {
			return
		}
		line := status + "  " + termsafe.String(path)
		if detail != "" {
			line += "  (" + detail + ")"
		}
		fmt.Fprintln(out, line)
	}
	for _, p := range order {
		got, size, err := hashFile(filepath.Join(dir, filepath.FromSlash(p)))
		switch {
		case os.IsNotExist(err):
			res.missing++
			report("MISSING", p, "")
		case err != nil:
			res.missing++
			report("UNREADABLE", p, err.Error())
		case got != want[p]:
			res.bad++
			report("MISMATCH", p, fmt.Sprintf("sha256 %s, manifest %s, %d bytes", got, want[p], size))
		default:
			res.ok++
			report("OK", p, "")
		}
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
		if rel == manifestSHA || rel == manifestJSON {
			return nil
		}
		if _, ok := want[rel]; !ok {
			extra = append(extra, rel)
		}
		return nil
	})
	sort.Strings(extra)
	for _, p := range extra {
		res.extra++
		report("EXTRA", p, "not in the manifest")
	}
	// MANIFEST.json must tell the same story.
	jsonProblems := checkManifestJSON(dir, want)
	for _, p := range jsonProblems {
		fmt.Fprintln(out, "MANIFEST  "+termsafe.String(p))
	}
	fmt.Fprintf(opts.IO.ErrOut, "audittui: verify %s: %d ok, %d mismatched, %d missing, %d not in the manifest\n",
		termsafe.String(dir), res.ok, res.bad, res.missing, res.extra)
	if res.bad+res.missing+res.extra+len(jsonProblems) > 0 {
		return &cmdutil.ExitError{Code: cmdutil.ExitInputError, Err: fmt.Errorf("%s does not match its manifest", termsafe.String(dir))}
	}
	return nil
}

// localPath reports whether a manifest path stays inside the directory.
func localPath(p string) bool {
	return p != "" && filepath.IsLocal(filepath.FromSlash(p))
}

func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", n, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// checkManifestJSON compares MANIFEST.json (if present) with the checksums
// of MANIFEST.sha256.
func checkManifestJSON(dir string, want map[string]string) []string {
	b, err := os.ReadFile(filepath.Join(dir, manifestJSON))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return []string{fmt.Sprintf("%s: %v", manifestJSON, err)}
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return []string{fmt.Sprintf("%s: %v", manifestJSON, err)}
	}
	var out []string
	seen := map[string]bool{}
	for _, e := range m.Entries {
		seen[e.Path] = true
		if sum, ok := want[e.Path]; !ok {
			out = append(out, fmt.Sprintf("%s lists %s, %s does not", manifestJSON, e.Path, manifestSHA))
		} else if sum != e.SHA256 {
			out = append(out, fmt.Sprintf("%s and %s disagree on the sha256 of %s", manifestJSON, manifestSHA, e.Path))
		}
	}
	for p := range want {
		if !seen[p] {
			out = append(out, fmt.Sprintf("%s lists %s, %s does not", manifestSHA, p, manifestJSON))
		}
	}
	sort.Strings(out)
	return out
}

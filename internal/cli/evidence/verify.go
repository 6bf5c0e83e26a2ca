package evidence

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/spf13/cobra"

	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
	"github.com/audittui/audittui/internal/evidence"
	"github.com/audittui/audittui/internal/plural"
	"github.com/audittui/audittui/internal/termsafe"
)

// VerifyOptions are `audittui verify`'s options.
type VerifyOptions struct {
	IO     *cmdutil.IOStreams
	Ctx    context.Context
	Dir    string
	Quiet  bool
	Digest string // --digest: the export's digest as written down at export time
}

// NewCmdVerify builds `audittui verify`; runF, when not nil, runs instead
// of the check (tests).
func NewCmdVerify(f *cmdutil.Factory, runF func(*VerifyOptions) error) *cobra.Command {
	opts := &VerifyOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "verify [flags] DIR",
		Short: "Check an export directory against its SHA-256 manifest",
		Long: `Re-hash every file listed in DIR/MANIFEST.sha256 (written by audittui export),
MANIFEST.json among them, and report files that changed, went missing, or
were added since the export. MANIFEST.json must agree with MANIFEST.sha256
(a missing one is warned about). The counts of MANIFEST.json are checked
against events.jsonl and events.index.jsonl, and the recorded query is run
again over the copies (files/, objects/) in the recorded window, with the
recorded --label and --cluster and each copy's original filename label, as
export selected: events.jsonl must be exactly what it selects. The
directories the export's SOURCEs held but did not read (a directory's
subdirectories without -r, MANIFEST.json's "not_read") are listed as
NOTREAD lines: not a mismatch, but nothing under them is in the export.

The digest printed (sha256 of MANIFEST.sha256) covers every file and
MANIFEST.json; export prints it too. Nothing here is signed: whoever can
write DIR can rewrite the files and both manifests consistently, and only a
digest kept elsewhere (--digest, case notes, a chain-of-custody form) tells.

Exit status: 0 when every file matches; 1 on any mismatch, missing file or
unlisted file; 2 when DIR holds no manifest.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Dir = args[0]
			opts.Ctx = cmd.Context()
			if opts.Ctx == nil {
				opts.Ctx = context.Background()
			}
			if runF != nil {
				return runF(opts)
			}
			return runVerify(opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.Quiet, "quiet", "q", false, "print only problems and the summary")
	cmd.Flags().StringVar(&opts.Digest, "digest", "", "the digest export printed (sha256 of MANIFEST.sha256), as written down: a rewritten manifest differs")
	return cmd
}

func runVerify(opts *VerifyOptions) error {
	dir, quiet, out := opts.Dir, opts.Quiet, opts.IO.Out
	res, err := evidence.Check(dir)
	if errors.Is(err, evidence.ErrNoManifest) {
		return cmdutil.UsageErrorf("%s: no %s (not an audittui export directory?)", termsafe.String(dir), evidence.ManifestSHA)
	}
	if err != nil {
		return &cmdutil.ExitError{Code: cmdutil.ExitInputError, Err: errors.New(termsafe.String(err.Error()))}
	}
	for _, f := range res.Files {
		if quiet && f.Status == evidence.StatusOK {
			continue
		}
		line := f.Status + "  " + termsafe.String(f.Path)
		if f.Detail != "" {
			line += "  (" + termsafe.String(f.Detail) + ")"
		}
		fmt.Fprintln(out, line)
	}
	// MANIFEST.json must tell the same story.
	for _, p := range res.JSONProblems {
		fmt.Fprintln(out, "MANIFEST  "+termsafe.String(p))
	}
	// What the files say beyond their hashes: the counts, and events.jsonl
	// against the recorded query re-run over the copies.
	problems := 0
	m, merr := evidence.ReadManifest(dir)
	switch {
	case os.IsNotExist(merr):
		fmt.Fprintf(opts.IO.ErrOut, "audittui: warning: %s has no %s: the sources, query, window and counts of the export are unknown and cannot be checked\n", termsafe.String(dir), evidence.ManifestJSON)
	case merr != nil:
		problems++
		fmt.Fprintln(out, "MANIFEST  "+termsafe.String(merr.Error()))
	default:
		// Not a mismatch, but what the export left out: said where the
		// files are listed.
		for _, nr := range m.NotRead {
			fmt.Fprintf(out, "NOTREAD  %s  (%s: nothing under it was exported)\n", termsafe.String(nr.Path), termsafe.String(nr.Reason))
		}
		for _, p := range checkEvents(opts.Ctx, opts.IO, dir, m) {
			problems++
			fmt.Fprintln(out, "EVENTS  "+termsafe.String(p))
		}
	}
	if d, err := evidence.Digest(dir); err == nil {
		fmt.Fprintf(opts.IO.ErrOut, "audittui: digest of the export (sha256 of %s, which covers every file and %s): %s\n", evidence.ManifestSHA, evidence.ManifestJSON, d)
		if opts.Digest != "" && !strings.EqualFold(opts.Digest, d) {
			problems++
			fmt.Fprintf(out, "DIGEST  %s, not %s as given: the manifests were rewritten\n", d, termsafe.String(opts.Digest))
		}
	}
	fmt.Fprintf(opts.IO.ErrOut, "audittui: verify %s: %d ok, %d mismatched, %d missing, %d not in the manifest\n",
		termsafe.String(dir), res.OK, res.Bad, res.Missing, res.Extra)
	if !res.Clean() || problems > 0 {
		return &cmdutil.ExitError{Code: cmdutil.ExitInputError, Err: fmt.Errorf("%s does not match its manifest", termsafe.String(dir))}
	}
	return nil
}

// checkEvents checks MANIFEST.json's counts against events.jsonl and its
// index, and events.jsonl against the recorded query run again over the
// copies in the recorded window (as export selected them: the same code).
func checkEvents(ctx context.Context, ios *cmdutil.IOStreams, dir string, m *evidence.Manifest) []string {
	var out []string
	evPath := filepath.Join(dir, evidence.EventsFile)
	have, err := os.ReadFile(evPath)
	if err != nil {
		if m.Query != "" && !os.IsNotExist(err) {
			out = append(out, err.Error())
		}
		return out
	}
	if n := bytes.Count(have, []byte("\n")); n != m.Events {
		out = append(out, fmt.Sprintf("%s holds %s, %s says \"events\": %d", evidence.EventsFile, plural.Count(n, "line", "lines"), evidence.ManifestJSON, m.Events))
	}
	if ix, err := os.ReadFile(filepath.Join(dir, evidence.EventsIndexFile)); err == nil {
		if n := bytes.Count(ix, []byte("\n")); n != m.Events {
			out = append(out, fmt.Sprintf("%s holds %s, %s says \"events\": %d", evidence.EventsIndexFile, plural.Count(n, "line", "lines"), evidence.ManifestJSON, m.Events))
		}
	}
	if m.Query == "" {
		return out
	}
	if m.Filter != "" {
		// The TUI's :export copies no files: nothing to run it over.
		fmt.Fprintf(ios.ErrOut, "audittui: %s was written by the TUI's :export, which copies no source: not selected again\n", evidence.EventsFile)
		return out
	}
	var paths []copied
	for _, e := range m.Entries {
		if strings.HasPrefix(e.Path, "files/") || strings.HasPrefix(e.Path, "objects/") {
			paths = append(paths, copied{filepath.Join(dir, filepath.FromSlash(e.Path)), e.Filename})
		}
	}
	remote := len(paths) == 0
	for _, src := range m.Sources {
		for _, pre := range []string{"loki://", "lokis://", "http://", "https://"} {
			remote = remote || strings.HasPrefix(src, pre)
		}
	}
	if remote {
		// Events read from Loki have no copy here to select from.
		fmt.Fprintf(ios.ErrOut, "audittui: %s holds events of a source export does not copy (Loki): not selected again\n", evidence.EventsFile)
		return out
	}
	quiet := &cmdutil.IOStreams{In: ios.In, Out: io.Discard, ErrOut: io.Discard}
	ss, err := exportSources(m, quiet)
	if err != nil {
		return append(out, err.Error())
	}
	expr, err := cmdutil.ParseQueryFor(m.Query, ss.Job())
	q, ok := expr.(*logql.LogQuery)
	if err != nil || !ok {
		return append(out, fmt.Sprintf("the recorded query %q is not a log query audittui reads (%v)", m.Query, err))
	}
	var srcs []data.Source
	for _, p := range paths {
		// Under the original's filename label, as export read it (the
		// copy's path when the manifest does not say).
		s, err := ss.FileAs(p.path, p.filename)
		if err != nil {
			return append(out, fmt.Sprintf("%s: %v", p.path, err))
		}
		srcs = append(srcs, s)
	}
	var from, to int64
	if m.From != nil {
		from = m.From.UnixNano()
	}
	if m.To != nil {
		to = m.To.UnixNano()
	}
	tmp, err := os.MkdirTemp("", "audittui-verify-")
	if err != nil {
		return append(out, err.Error())
	}
	defer os.RemoveAll(tmp)
	d, err := evidence.Create(tmp, evidence.Manifest{}, false)
	if err != nil {
		return append(out, err.Error())
	}
	ex := &exporter{errOut: io.Discard, dir: d}
	if err := ex.selectEvents(ctx, srcs, q, from, to); err != nil {
		return append(out, fmt.Sprintf("running the recorded query again over the copies: %v", err))
	}
	again, err := os.ReadFile(filepath.Join(tmp, evidence.EventsFile))
	if err != nil {
		return append(out, err.Error())
	}
	if !bytes.Equal(again, have) {
		out = append(out, fmt.Sprintf("%s differs from what the recorded query selects from the copies (%s there, %d selected again): %s", evidence.EventsFile,
			plural.Count(bytes.Count(have, []byte("\n")), "event", "events"), bytes.Count(again, []byte("\n")), firstDiff(have, again)))
	}
	if again := d.Manifest(); again.Rejected != m.Rejected || again.DuplicatesDropped != m.DuplicatesDropped || again.Undated != m.Undated {
		out = append(out, fmt.Sprintf("%s counts %d rejected, %d duplicates, %d undated; the copies give %d, %d, %d", evidence.ManifestJSON,
			m.Rejected, m.DuplicatesDropped, m.Undated, again.Rejected, again.DuplicatesDropped, again.Undated))
	}
	return out
}

// exportSources is the source set export read the copies with: its
// --label and --cluster as MANIFEST.json records them, parsed as export
// parsed them (a manifest without them: none, as before they were
// recorded).
func exportSources(m *evidence.Manifest, ios *cmdutil.IOStreams) (*cmdutil.SourceSet, error) {
	fs := pflag.NewFlagSet("verify", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	ss := cmdutil.NewSourceSet(fs, ios, func(string) (string, bool) { return "", false })
	var args []string
	for _, l := range m.Labels {
		args = append(args, "--label="+l)
	}
	if m.Cluster != "" {
		args = append(args, "--cluster="+m.Cluster)
	}
	if err := fs.Parse(args); err != nil {
		return nil, fmt.Errorf("%s: the recorded labels %q and cluster %q: %v", evidence.ManifestJSON, m.Labels, m.Cluster, err)
	}
	return ss, nil
}

// firstDiff names the first line where two events files differ.
func firstDiff(have, want []byte) string {
	h := strings.Split(string(have), "\n")
	w := strings.Split(string(want), "\n")
	for i := 0; i < len(h) || i < len(w); i++ {
		switch {
		case i >= len(h):
			return fmt.Sprintf("line %d is missing", i+1)
		case i >= len(w):
			return fmt.Sprintf("line %d is not selected", i+1)
		case h[i] != w[i]:
			return fmt.Sprintf("line %d differs", i+1)
		}
	}
	return "same lines"
}

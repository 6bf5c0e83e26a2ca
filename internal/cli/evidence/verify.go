package evidence

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/evidence"
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
	fmt.Fprintf(opts.IO.ErrOut, "audittui: verify %s: %d ok, %d mismatched, %d missing, %d not in the manifest\n",
		termsafe.String(dir), res.OK, res.Bad, res.Missing, res.Extra)
	if !res.Clean() {
		return &cmdutil.ExitError{Code: cmdutil.ExitInputError, Err: fmt.Errorf("%s does not match its manifest", termsafe.String(dir))}
	}
	return nil
}

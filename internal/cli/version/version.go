// Package version is `audittui version` and the root command's --version.
package version

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/audittui/audittui/internal/buildinfo"
	"github.com/audittui/audittui/internal/cli/cmdutil"
)

// VersionOptions are the flags of `audittui version`.
type VersionOptions struct {
	Out  io.Writer
	JSON bool
}

// NewCmdVersion builds `audittui version`; runF, when not nil, runs
// instead of printing (tests).
func NewCmdVersion(f *cmdutil.Factory, runF func(*VersionOptions) error) *cobra.Command {
	o := &VersionOptions{Out: f.IOStreams.Out}
	cmd := &cobra.Command{
		Use:   "version [--json]",
		Short: "Print the version, commit, build time, dirty flag and Go version of this binary",
		Long: `version prints which build of audittui this is: the module version, the
commit, the commit time (builds are reproducible, so the commit time stands
for the build time), whether the working tree had uncommitted changes, and the
Go version and platform. "audittui --version" prints the same.

To open the TUI on a file called "version", name it as ./version.`,
		Example: `  audittui version
  audittui --version
  audittui version --json | jq -r .commit`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if runF != nil {
				return runF(o)
			}
			return run(o)
		},
	}
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print the build information as JSON")
	return cmd
}

func run(o *VersionOptions) error {
	in := buildinfo.Get()
	if o.JSON {
		_, err := o.Out.Write(in.JSON())
		return err
	}
	_, err := fmt.Fprint(o.Out, in.Text())
	return err
}

// SetRootVersion gives the root command --version (cobra's flag), printing
// the same text as `audittui version`.
func SetRootVersion(root *cobra.Command) {
	root.Version = strings.TrimSuffix(buildinfo.Get().Text(), "\n")
	root.SetVersionTemplate("{{.Version}}\n")
}

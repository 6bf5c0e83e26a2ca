package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/audittui/audittui/internal/buildinfo"
)

// VersionOptions are the flags of `audittui version`.
type VersionOptions struct {
	JSON bool
}

// NewVersionCmd builds `audittui version`; runF runs it (tests pass their
// own).
func NewVersionCmd(s *IO, runF func(s *IO, o *VersionOptions) error) *cobra.Command {
	o := &VersionOptions{}
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
		RunE: func(*cobra.Command, []string) error { return runF(s, o) },
	}
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print the build information as JSON")
	return cmd
}

func runVersion(s *IO, o *VersionOptions) error {
	in := buildinfo.Get()
	if o.JSON {
		_, err := s.Out.Write(in.JSON())
		return err
	}
	_, err := fmt.Fprint(s.Out, in.Text())
	return err
}

// setupVersion gives the root command --version (cobra's flag, printing
// the same text as `audittui version`) and adds the version subcommand.
func setupVersion(root *cobra.Command, s *IO) {
	root.Version = strings.TrimSuffix(buildinfo.Get().Text(), "\n")
	root.SetVersionTemplate("{{.Version}}\n")
	root.AddCommand(NewVersionCmd(s, runVersion))
}

// Package cli wires audittui's commands. cmd/audittui/main.go only calls Main.
package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/audittui/audittui/internal/cli/alerts"
	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/cli/evidence"
	"github.com/audittui/audittui/internal/cli/loki"
	"github.com/audittui/audittui/internal/cli/policy"
	"github.com/audittui/audittui/internal/cli/query"
	"github.com/audittui/audittui/internal/cli/ship"
	"github.com/audittui/audittui/internal/cli/sourcearg"
)

// subcommands lists the constructors of every subcommand. Each lives in its
// own file.
var subcommands = []func(*cmdutil.Factory) *cobra.Command{}

// rootSetup, when set (by the TUI's file), adds the root command's own
// flags and RunE: `audittui [flags] [SOURCE...]` opens the TUI.
var rootSetup func(root *cobra.Command, f *cmdutil.Factory)

// NewRootCmd builds the command tree.
func NewRootCmd(f *cmdutil.Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "audittui [flags] [SOURCE...]",
		Short: "Investigate, alert on and ship Kubernetes API-server audit logs",
		Long: `audittui reads Kubernetes API-server audit events from local files
(audit.log, rotated and gzipped sets, stdin), S3 archives and Loki, and shows
them in a terminal UI, answers LogQL queries, evaluates alert rules, lints
audit policies and ships audit.log to Loki and S3.`,
	}
	if rootSetup != nil {
		rootSetup(root, f)
	}
	for _, mk := range subcommands {
		root.AddCommand(mk(f))
	}
	root.AddCommand(
		alerts.NewCmdAlerts(f, nil),
		evidence.NewCmdExport(f, nil),
		evidence.NewCmdVerify(f, nil),
		loki.NewCmdLoki(f, nil),
		policy.NewCmdPolicy(f),
		query.NewCmdQuery(f, nil),
		ship.NewCmdShip(f, nil),
	)
	return root
}

// NewFactory returns the factory of the process with streams ios.
func NewFactory(ios *cmdutil.IOStreams) *cmdutil.Factory {
	return cmdutil.NewFactory(ios, sourcearg.Kinds)
}

// Main runs audittui with args and returns the process exit code.
func Main(ctx context.Context, args []string, ios *cmdutil.IOStreams) int {
	return cmdutil.Execute(ctx, NewRootCmd(NewFactory(ios)), args, ios)
}

package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/audittui/audittui/internal/cli/alerts"
	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/cli/evidence"
	"github.com/audittui/audittui/internal/cli/history"
	"github.com/audittui/audittui/internal/cli/loki"
	"github.com/audittui/audittui/internal/cli/policy"
	"github.com/audittui/audittui/internal/cli/query"
	"github.com/audittui/audittui/internal/cli/report"
	"github.com/audittui/audittui/internal/cli/serve"
	"github.com/audittui/audittui/internal/cli/ship"
	"github.com/audittui/audittui/internal/cli/tui"
	"github.com/audittui/audittui/internal/cli/version"
)

// NewCmdRoot builds the command tree: the root command opens the TUI, and
// every other command is registered here, explicitly.
func NewCmdRoot(f *cmdutil.Factory) *cobra.Command {
	root := tui.NewCmdTUI(f, nil)
	root.AddCommand(
		query.NewCmdQuery(f, nil),
		history.NewCmdHistory(f, nil),
		alerts.NewCmdAlerts(f, nil),
		policy.NewCmdPolicy(f),
		evidence.NewCmdExport(f, nil),
		evidence.NewCmdVerify(f, nil),
		report.NewCmdReport(f, nil),
		loki.NewCmdLoki(f, nil),
		ship.NewCmdShip(f, nil),
		serve.NewCmdServe(f, nil),
		version.NewCmdVersion(f, nil),
	)
	version.SetRootVersion(root)
	return root
}

// Main runs audittui with args over ios and returns the process exit code.
func Main(ctx context.Context, args []string, ios *cmdutil.IOStreams) int {
	return cmdutil.Execute(ctx, NewCmdRoot(cmdutil.NewFactory(ios)), args, ios)
}

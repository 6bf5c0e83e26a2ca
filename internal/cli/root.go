// Package cli wires audittui's commands. cmd/audittui/main.go only calls Main.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// IO carries the process's standard streams so commands are testable.
type IO struct {
	In       io.Reader
	Out, Err io.Writer
	// InTTY/OutTTY tell whether stdin/stdout are terminals.
	InTTY, OutTTY bool
}

// ExitError carries a process exit code out of a command.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// Exit codes shared by all commands.
const (
	ExitOK         = 0
	ExitInputError = 1 // results printed, but some input was rejected
	ExitUsage      = 2 // bad flags, bad query, bad config
	ExitAlerts     = 3 // alerts at or above --fail-on fired
)

// usageErr marks an error as a usage error (exit 2).
func usageErr(format string, a ...any) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, a...)}
}

// subcommands lists the constructors of every subcommand. Each lives in its
// own file.
var subcommands = []func(*IO) *cobra.Command{}

// rootSetup, when set (by the TUI's file), adds the root command's own
// flags and RunE: `audittui [flags] [SOURCE...]` opens the TUI.
var rootSetup func(root *cobra.Command, s *IO)

// NewRootCmd builds the command tree.
func NewRootCmd(s *IO) *cobra.Command {
	root := &cobra.Command{
		Use:   "audittui [flags] [SOURCE...]",
		Short: "Investigate, alert on and ship Kubernetes API-server audit logs",
		Long: `audittui reads Kubernetes API-server audit events from local files
(audit.log, rotated and gzipped sets, stdin), S3 archives and Loki, and shows
them in a terminal UI, answers LogQL queries, evaluates alert rules, lints
audit policies and ships audit.log to Loki and S3.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	if rootSetup != nil {
		rootSetup(root, s)
	}
	setupVersion(root, s)
	for _, mk := range subcommands {
		root.AddCommand(mk(s))
	}
	return root
}

// Main runs audittui with args and returns the process exit code.
func Main(ctx context.Context, args []string, s *IO) int {
	root := NewRootCmd(s)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		if ee.Err != nil {
			fmt.Fprintln(s.Err, "audittui:", ee.Err)
		}
		return ee.Code
	}
	fmt.Fprintln(s.Err, "audittui:", err)
	// Flag and argument errors from cobra are usage errors.
	return ExitUsage
}

// StdIO returns the process's streams.
func StdIO() *IO {
	return &IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
		InTTY: isTerminal(os.Stdin), OutTTY: isTerminal(os.Stdout)}
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	return fi.Mode()&os.ModeCharDevice != 0
}

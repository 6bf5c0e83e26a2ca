package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/audittui/audittui/internal/termsafe"
)

// Exit codes shared by all commands.
const (
	ExitOK         = 0
	ExitInputError = 1 // results printed, but some input was rejected
	ExitUsage      = 2 // bad flags, bad query, bad config
	ExitAlerts     = 3 // alerts at or above --fail-on fired
	ExitRuntime    = 4 // started with a valid configuration, then failed (a sink, the disk)
)

// ExitError carries a process exit code out of a command. Err, when set,
// is printed as "audittui: <Err>".
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

// UsageErrorf returns a usage error (exit status 2).
func UsageErrorf(format string, a ...any) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, a...)}
}

// UsageError marks err as a usage error (exit status 2).
func UsageError(err error) error {
	return &ExitError{Code: ExitUsage, Err: err}
}

// RuntimeError marks err as a failure at run time (exit status 4).
func RuntimeError(err error) error {
	return &ExitError{Code: ExitRuntime, Err: err}
}

// Execute runs cmd with args over ios, prints the error it returns (if
// any) on ios.ErrOut, and returns the process exit code: the ExitError's
// code, else 2 (cobra's flag and argument errors are usage errors). Main
// runs the root command through it; tests run single commands the same
// way.
func Execute(ctx context.Context, cmd *cobra.Command, args []string, ios *IOStreams) int {
	cmd.SilenceUsage = true
	cmd.SilenceErrors = true
	cmd.SetIn(ios.In)
	cmd.SetOut(ios.Out)
	cmd.SetErr(ios.ErrOut)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	return exitCode(err, ios.ErrOut)
}

func exitCode(err error, w io.Writer) int {
	if err == nil {
		return ExitOK
	}
	code := ExitUsage
	var ee *ExitError
	if errors.As(err, &ee) {
		if code, err = ee.Code, ee.Err; err == nil {
			return code
		}
	}
	// Messages may quote what a server or a file said: each line is
	// sanitised (a query error's caret lines stay lines).
	lines := strings.Split(err.Error(), "\n")
	for i, l := range lines {
		lines[i] = termsafe.String(l)
	}
	fmt.Fprintln(w, "audittui:", strings.Join(lines, "\n"))
	return code
}

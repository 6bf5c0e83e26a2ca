// Package cmdutil holds what audittui's commands share: the Factory each
// command is built from (streams, logger, clock, environment, SOURCE
// resolution), exit codes, the --since/--from/--to window flags, the reject
// reporter, the output writers, the rule-set loader and the check of stream
// selectors against the sources' labels (selectors.go). It is the only
// package the command packages under internal/cli share; see the package
// doc of internal/cli for how a command is built and registered.
package cmdutil

import (
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/pflag"

	"github.com/audittui/audittui/internal/termsafe"
)

// IOStreams are the process's standard streams, so commands are testable.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// InTTY and OutTTY tell whether stdin and stdout are terminals.
	InTTY, OutTTY bool
}

// System returns the process's streams.
func System() *IOStreams {
	return &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		InTTY: isTerminal(os.Stdin), OutTTY: isTerminal(os.Stdout)}
}

// DataOut returns where a command prints its results. When stdout is not a
// terminal that is Out itself: pipes and files get the bytes exactly (raw
// events for jq, csv, ...). On a terminal every line goes through
// termsafe, so no event, policy or server text reaches it raw. done
// writes out a last line without newline; call it when the output ends.
func (s *IOStreams) DataOut() (w io.Writer, done func() error) {
	if !s.OutTTY {
		return s.Out, func() error { return nil }
	}
	tw := termsafe.NewWriter(s.Out)
	return tw, tw.Flush
}

// isTerminal asks the terminal driver (a character device such as
// /dev/null is not a terminal).
func isTerminal(f *os.File) bool { return term.IsTerminal(f.Fd()) }

// Factory is what a command takes from the process. NewCmdX functions read
// it once, when they build their command, and copy what they use into
// their options; nothing else reaches the process's state.
type Factory struct {
	IOStreams *IOStreams
	// Logger takes the warnings of commands that report on stderr (text,
	// level warn). The TUI (whose screen stderr is) and ship (which logs
	// JSON at its configured level) make their own.
	Logger *slog.Logger
	// Now is the clock: the end of a --since window without --to.
	Now func() time.Time
	// LookupEnv reads the environment (LOKI_*, ${ENV} in ship's config,
	// NO_COLOR).
	LookupEnv func(name string) (string, bool)
	// Sources registers the source flags (--cluster, --s3-*, --loki-*) on
	// a command's flag set and returns the resolver of its SOURCE
	// arguments. Each call makes a fresh resolver: flag state is per
	// command.
	Sources func(fs *pflag.FlagSet) *SourceSet
}

// NewFactory returns the factory of a process with streams ios: the
// system clock and environment, warnings on ios.ErrOut, and SOURCE
// arguments resolved by internal/data/source.
func NewFactory(ios *IOStreams) *Factory {
	f := &Factory{
		IOStreams: ios,
		Logger:    slog.New(slog.NewTextHandler(ios.ErrOut, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Now:       time.Now,
		LookupEnv: os.LookupEnv,
	}
	f.Sources = func(fs *pflag.FlagSet) *SourceSet { return NewSourceSet(fs, f.IOStreams, f.LookupEnv) }
	return f
}

// Getenv returns the value of the environment variable name ("" when
// unset).
func (f *Factory) Getenv(name string) string {
	v, _ := f.LookupEnv(name)
	return v
}

// Package cli wires audittui's commands; cmd/audittui/main.go only calls
// Main.
//
// The layout follows github.com/cli/cli. Each command lives in its own
// package under internal/cli (tui is the root command, query, history,
// alerts, policy, evidence for export and verify, report, loki, ship,
// serve, version), so a command
// reaches what it shares with the others only through cmdutil, and a
// command's helpers need no prefix to keep apart from another's:
//
//	cmdutil    Factory, IOStreams, exit codes and Execute, the window flags
//	           (--since/--from/--to), RejectReporter, the output writers,
//	           LoadRules, ParseQuery, SourceSet (the adapter over
//	           internal/data/source, which owns the SOURCE kinds and flags)
//	clitest    running commands in tests; shared fixtures
//
// How a command is built:
//
//  1. An options struct, XOptions, holds everything the command needs:
//     what it takes from the Factory (IO, Now, Logger, ...), the resolver
//     of its SOURCE arguments (f.Sources(flags), which also registers the
//     source flags), and its flags and arguments.
//  2. NewCmdX(f *cmdutil.Factory, runF func(*XOptions) error) builds the
//     cobra command: it binds the flags to the options and its RunE fills
//     in the arguments, then calls runF when it is not nil (tests check
//     flag parsing that way, without running anything), else the
//     command's own run function with cmd.Context(). A group such as
//     policy is NewCmdPolicy(f), which adds its subcommands.
//  3. The run function works only from the options. It reports bad input
//     as cmdutil usage errors (exit status 2) and rejected lines through a
//     RejectReporter (exit status 1); untrusted text goes through
//     internal/termsafe before it reaches the terminal.
//
// How it is registered: NewCmdRoot calls each NewCmdX with the one
// Factory and adds the result to the root command, explicitly. There is no
// init() registration and no package-level mutable state: two command trees
// built from two factories share nothing (root_test.go checks this).
//
// Main builds the Factory over the process's streams (NewFactory: system
// clock and environment, SOURCE arguments resolved by internal/data/source), the tree, and runs it through
// cmdutil.Execute, which prints the error and returns the exit status.
// Tests run single commands the same way (clitest.Run).
package cli

// Package clitest runs audittui's commands in tests as the binary runs
// them, and holds the fixtures several commands' tests share (an S3
// archive, a Loki server with audit events).
package clitest

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/spf13/cobra"

	"github.com/audittui/audittui/internal/cli/cmdutil"
)

// Buffer is a bytes.Buffer safe for one writer and concurrent readers.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *Buffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *Buffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Streams returns streams that read stdin and write into the returned
// buffers. Neither stdin nor stdout is a terminal; set InTTY or OutTTY to
// pretend.
func Streams(stdin string) (*cmdutil.IOStreams, *Buffer, *Buffer) {
	out, errOut := &Buffer{}, &Buffer{}
	return &cmdutil.IOStreams{In: strings.NewReader(stdin), Out: out, ErrOut: errOut}, out, errOut
}

// Factory returns the factory the binary builds, over ios.
func Factory(ios *cmdutil.IOStreams) *cmdutil.Factory {
	return cmdutil.NewFactory(ios)
}

// Exec builds a command with mk over ios and runs it with args as the
// binary would, returning the exit status.
func Exec(ctx context.Context, ios *cmdutil.IOStreams, mk func(*cmdutil.Factory) *cobra.Command, args ...string) int {
	return cmdutil.Execute(ctx, mk(Factory(ios)), args, ios)
}

// Run runs the command mk builds with args and stdin, and returns its exit
// status, stdout and stderr.
func Run(t testing.TB, mk func(*cmdutil.Factory) *cobra.Command, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ios, out, errOut := Streams(stdin)
	code = Exec(context.Background(), ios, mk, args...)
	return code, out.String(), errOut.String()
}

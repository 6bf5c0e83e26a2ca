// Command audittui investigates, alerts on and ships Kubernetes audit logs.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/audittui/audittui/internal/cli"
	"github.com/audittui/audittui/internal/cli/cmdutil"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cmdutil.System())
	stop()
	os.Exit(code)
}

// Command audittui investigates, alerts on and ships Kubernetes audit logs.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"syscall"

	"github.com/audittui/audittui/internal/cli"
	"github.com/audittui/audittui/internal/cli/cmdutil"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	stopProfile := record("AUDITTUI_CPUPROFILE", pprof.StartCPUProfile, pprof.StopCPUProfile)
	stopTrace := record("AUDITTUI_TRACE", trace.Start, trace.Stop)
	code := cli.Main(ctx, os.Args[1:], cmdutil.System())
	stopTrace()
	stopProfile()
	heapProfile(os.Getenv("AUDITTUI_MEMPROFILE"))
	stop()
	os.Exit(code)
}

// record starts a recording of the whole run into the file the
// environment variable env names, when it is set: a CPU profile
// (AUDITTUI_CPUPROFILE, for `go tool pprof`; bench/README.md) or an
// execution trace (AUDITTUI_TRACE, for `go tool trace`: where goroutines
// wait, how busy each core is).
func record(env string, start func(io.Writer) error, end func()) (stop func()) {
	path := os.Getenv(env)
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = start(f)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "audittui: %s: %v\n", env, err)
		return func() {}
	}
	return func() {
		end()
		f.Close()
	}
}

// heapProfile writes the heap profile (what is in use at the end of the
// run, after a collection, and what was allocated) to path when path is
// not empty.
func heapProfile(path string) {
	if path == "" {
		return
	}
	runtime.GC() // the profile reports the heap as of the last collection
	f, err := os.Create(path)
	if err == nil {
		err = pprof.Lookup("heap").WriteTo(f, 0)
		f.Close()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "audittui: AUDITTUI_MEMPROFILE: %v\n", err)
	}
}

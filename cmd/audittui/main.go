// Command audittui investigates, alerts on and ships Kubernetes audit logs.
package main

import (
	"context"
	"fmt"
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
	stopProfile := cpuProfile(os.Getenv("AUDITTUI_CPUPROFILE"))
	stopTrace := execTrace(os.Getenv("AUDITTUI_TRACE"))
	code := cli.Main(ctx, os.Args[1:], cmdutil.System())
	stopTrace()
	stopProfile()
	heapProfile(os.Getenv("AUDITTUI_MEMPROFILE"))
	stop()
	os.Exit(code)
}

// cpuProfile writes a CPU profile of the whole run to path (for `go tool
// pprof`; bench/README.md) when path is not empty.
func cpuProfile(path string) (stop func()) {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "audittui: AUDITTUI_CPUPROFILE: %v\n", err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

// execTrace writes an execution trace of the whole run to path (for `go
// tool trace`: where goroutines wait, how busy each core is) when path is
// not empty.
func execTrace(path string) (stop func()) {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = trace.Start(f)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "audittui: AUDITTUI_TRACE: %v\n", err)
		return func() {}
	}
	return func() {
		trace.Stop()
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

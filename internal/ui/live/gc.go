package live

import (
	"context"
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// GC tuning. The index is the only large live data, and it grows while
// the sources are read: a fixed GOGC either collects very often while the
// heap is small (GOGC=40 starts a cycle every few MiB at first, with the
// write barrier on for much of the read) or lets the heap double (GOGC=100
// peaks at about 1.25x the memory). While the TUI loads, TuneGC instead
// lets the heap grow to a floor before the first collection and then
// keeps it a little above what is live, by the runtime's soft memory
// limit (gcLimit); once loaded, a fixed GOGC keeps a long live tail small.
const (
	// gcFloor is the heap the process may use before it collects at all.
	gcFloor = 150 << 20
	// gcHeadroom is how far above the live heap the limit stands at most
	// (live/gcHeadroom more) ...
	gcHeadroom = 2
	// ... and gcMaxHeadroom caps that while the live heap is under
	// gcMaxHeadroom*gcMinShare: on the 1 GB file 117 MiB are live at the
	// end of the read, and half of it again put the limit at 175 MiB, the
	// peak RSS at 194-199 MiB with the binary's 29 MiB of mapped code.
	// Beyond, live/gcMinShare keeps the collections from running every few
	// MiB over a heap of GiBs.
	gcMaxHeadroom = 32 << 20
	gcMinShare    = 8
	// gcEvery is how often the limit follows the live heap.
	gcEvery = 100 * time.Millisecond
)

// gcLimit is the memory limit TuneGC sets for a live heap of live bytes:
// at least gcFloor, else live plus the headroom above.
func gcLimit(live uint64) uint64 {
	room := min(live/gcHeadroom, max(gcMaxHeadroom, live/gcMinShare))
	return max(gcFloor, live+room)
}

// TuneGC turns the fixed GOGC off and sets the runtime's memory limit to
// gcLimit of the live heap, following the live heap every 100 ms,
// until loaded (nil: never) reports true; then it restores the limit and
// sets GOGC to after. stop ends the tuning (and restores GOGC and the
// limit as they were) when called before. The limit always stands above
// the live heap, so the collector never runs back to back to hold it.
func TuneGC(ctx context.Context, loaded func() bool, after int) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	oldLimit := debug.SetMemoryLimit(gcFloor)
	oldGC := debug.SetGCPercent(-1)
	done := make(chan struct{})
	finished := false // loaded: the goroutine set GOGC to after
	go func() {
		defer close(done)
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		t := time.NewTicker(gcEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if loaded != nil && loaded() {
				// Collect before GOGC takes over: its first goal is
				// measured from the heap the last cycle marked, which
				// still held what the load was done with (the batches,
				// the rules' look-back). On the 1 GB file that cycle
				// marked 110 MiB where 87 MiB stayed live, and the heap
				// peaked at 155 MiB in the next second.
				runtime.GC()
				debug.SetMemoryLimit(oldLimit)
				debug.SetGCPercent(after)
				finished = true
				return
			}
			metrics.Read(sample)
			if sample[0].Value.Kind() != metrics.KindUint64 {
				continue
			}
			live := sample[0].Value.Uint64()
			debug.SetMemoryLimit(int64(min(gcLimit(live), math.MaxInt64)))
		}
	}()
	return func() {
		cancel()
		<-done
		if !finished {
			debug.SetGCPercent(oldGC)
			debug.SetMemoryLimit(oldLimit)
		}
	}
}

package live

import (
	"context"
	"math"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"testing"
	"time"
)

// startGC sets GOGC=77 and no memory limit for a test, and puts back the
// process's settings after it.
func startGC(t *testing.T) {
	oldGC := debug.SetGCPercent(77)
	oldLimit := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() {
		debug.SetGCPercent(oldGC)
		debug.SetMemoryLimit(oldLimit)
	})
}

// TuneGC turns GOGC off for a memory limit of at least the floor that
// follows the live heap, and restores both when stopped.
func TestTuneGCFollowsTheLiveHeapAndRestores(t *testing.T) {
	startGC(t)
	stop := TuneGC(context.Background(), nil, 0)
	if got := debug.SetGCPercent(-1); got != -1 {
		t.Errorf("GOGC while tuning: %d, want off", got)
	}
	if got := debug.SetMemoryLimit(-1); got != gcFloor {
		t.Errorf("limit at start: %d, want the floor %d", got, gcFloor)
	}
	// A live heap above the floor raises the limit above it.
	keep := make([][]byte, 0, 200)
	for i := 0; i < 200; i++ {
		keep = append(keep, make([]byte, 1<<20))
	}
	runtime.GC()
	want := int64(200<<20 + gcMaxHeadroom)
	deadline := time.Now().Add(5 * time.Second)
	// Until a tick after that collection: one during the allocations saw
	// part of it only (296 MiB for 197 MiB live, seen under load).
	for debug.SetMemoryLimit(-1) < want && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := debug.SetMemoryLimit(-1); got < want {
		t.Errorf("limit with 200 MiB live: %d MiB, want at least %d", got>>20, want>>20)
	}
	runtime.KeepAlive(keep)
	stop()
	if got := debug.SetGCPercent(-1); got != 77 {
		t.Errorf("GOGC after stop: %d, want 77 again", got)
	}
	debug.SetGCPercent(77)
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("limit after stop: %d, want none again", got)
	}
}

// Once loaded, the tuning ends: the limit is what it was, GOGC is after.
func TestTuneGCEndsWhenLoaded(t *testing.T) {
	startGC(t)
	var loaded atomic.Bool
	stop := TuneGC(context.Background(), loaded.Load, 40)
	defer stop()
	time.Sleep(3 * gcEvery)
	if got := debug.SetMemoryLimit(-1); got != gcFloor {
		t.Fatalf("limit while loading: %d, want the floor", got)
	}
	loaded.Store(true)
	deadline := time.Now().Add(5 * time.Second)
	for debug.SetMemoryLimit(-1) != math.MaxInt64 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("limit once loaded: %d, want none again", got)
	}
	if got := debug.SetGCPercent(40); got != 40 {
		t.Errorf("GOGC once loaded: %d, want 40", got)
	}
	stop()
	if got := debug.SetGCPercent(40); got != 40 {
		t.Errorf("GOGC after stop once loaded: %d, want 40 still", got)
	}
}

// The limit stands above the live heap by half of it while that is
// small, by gcMaxHeadroom up to live/gcMinShare, and by live/gcMinShare
// beyond; never under the floor.
func TestGCLimit(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct{ live, want uint64 }{
		{0, gcFloor},
		{90 * mib, gcFloor},      // 135 MiB: the floor
		{117 * mib, gcFloor},     // 149 MiB (the 1 GB file's end), not 175
		{130 * mib, 162 * mib},   // capped headroom
		{200 * mib, 232 * mib},   // capped headroom
		{256 * mib, 288 * mib},   // live/8 = 32 MiB
		{1024 * mib, 1152 * mib}, // live/8
		{40 * mib, gcFloor},
	} {
		if got := gcLimit(c.live); got != c.want {
			t.Errorf("gcLimit(%d MiB) = %d MiB, want %d", c.live/mib, got/mib, c.want/mib)
		}
	}
}

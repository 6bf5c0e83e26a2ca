package metrics

import (
	"context"
	"runtime"
	"testing"
	"time"
)

// A buffer held across garbage collections counts in the live heap peak,
// and stays counted once it is dropped (a peak); the gauge exports it.
func TestHeapLivePeak(t *testing.T) {
	m := New()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m.TrackHeap(ctx)
	const size = 64 << 20
	held := make([]byte, size)
	for i := range held {
		held[i] = byte(i)
	}
	var peak int64
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		runtime.GC() // the finalizer of this collection's sentinel reads the live heap
		if peak = m.HeapLivePeak(); peak >= size {
			break
		}
	}
	runtime.KeepAlive(held)
	if peak < size {
		t.Fatalf("live heap peak %d with %d bytes held", peak, size)
	}
	held = nil
	runtime.GC()
	runtime.GC()
	if got := m.HeapLivePeak(); got < peak {
		t.Fatalf("peak fell from %d to %d once the buffer was dropped", peak, got)
	}
	mfs, err := m.Reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "audittui_ship_go_heap_live_peak_bytes" {
			if v := mf.GetMetric()[0].GetGauge().GetValue(); v < float64(peak) {
				t.Fatalf("gauge %v, peak %d", v, peak)
			}
			return
		}
	}
	t.Fatal("audittui_ship_go_heap_live_peak_bytes not exported")
}

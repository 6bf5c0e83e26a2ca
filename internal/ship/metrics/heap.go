package metrics

import (
	"context"
	"runtime"
	rtmetrics "runtime/metrics"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// The Go heap that ship holds: the bytes reachable at the end of each
// garbage collection (runtime/metrics /gc/heap/live:bytes). What ship
// keeps in memory (buffered lines within Mem_Buf_Limit, an S3 part being
// compressed, a push being encoded) is live; the garbage it made, and the
// memory the runtime has not returned to the system yet, are not. The
// resident set follows the Go memory limit set above it, which is soft:
// a collector starved of CPU (a loaded node) lets it overshoot.
// HeapLivePeak is the highest value since TrackHeap started, read after
// every collection, so no peak falls between two scrapes.

// heapSentinel is an object whose finalizer runs once per collection
// (it is unreachable as soon as it is made): larger than the tiny
// allocator's 16 bytes, so it has a finalizer of its own.
type heapSentinel struct {
	next *heapSentinel
	_    [32]byte
}

// TrackHeap records the live heap after every garbage collection until
// ctx ends (audittui_ship_go_heap_live_peak_bytes).
func (m *Metrics) TrackHeap(ctx context.Context) {
	s := []rtmetrics.Sample{{Name: "/gc/heap/live:bytes"}}
	var arm func()
	arm = func() {
		runtime.SetFinalizer(&heapSentinel{}, func(*heapSentinel) {
			rtmetrics.Read(s)
			if s[0].Value.Kind() == rtmetrics.KindUint64 {
				storeMax(&m.heapPeak, int64(s[0].Value.Uint64()))
			}
			if ctx.Err() == nil {
				arm()
			}
		})
	}
	arm()
}

func storeMax(a *atomic.Int64, v int64) {
	for {
		old := a.Load()
		if v <= old || a.CompareAndSwap(old, v) {
			return
		}
	}
}

// HeapLivePeak is the highest live heap recorded (0 before the first
// collection, or without TrackHeap).
func (m *Metrics) HeapLivePeak() int64 { return m.heapPeak.Load() }

func (m *Metrics) registerHeap(r *prometheus.Registry) {
	r.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Name: "go_heap_live_peak_bytes",
		Help: "Highest Go heap reachable at the end of a garbage collection since ship started: what it holds (buffered lines within Mem_Buf_Limit, an S3 part being compressed, pushes being encoded, the runtime's own). The resident set follows the Go memory limit set above it (Mem_Buf_Limit + 12 MiB, + Upload_chunk_size with gzip), a soft limit a CPU-starved collector overshoots."},
		func() float64 { return float64(m.HeapLivePeak()) }))
}

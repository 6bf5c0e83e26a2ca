package rules

import (
	"context"
	"os"
	"runtime"
	"runtime/pprof"
	"testing"
	"time"
)

func TestZZPeakHeap(t *testing.T) {
	path := os.Getenv("ZZ_FILE")
	if path == "" {
		t.Skip()
	}
	runtime.MemProfileRate = 64 << 10
	set, _ := Builtin()
	st := openBench(t, path)
	done := make(chan struct{})
	var peak uint64
	go func() {
		tk := time.NewTicker(200 * time.Millisecond)
		for {
			select {
			case <-done:
				return
			case <-tk.C:
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peak+peak/10 {
					peak = ms.HeapInuse
					f, _ := os.Create("/tmp/alerts-engine/peak.prof")
					pprof.Lookup("heap").WriteTo(f, 0)
					f.Close()
				}
			}
		}
	}()
	var n int
	if os.Getenv("ZZ_LIVE") != "" {
		ev, _ := NewEvaluator(set, Options{})
		for {
			b, err := st.Next(context.Background())
			if err != nil {
				break
			}
			for i := range b.Events {
				ev.Push(&b.Events[i])
			}
		}
		n = len(ev.Finish())
	} else {
		res, err := Replay(context.Background(), st, set, Options{})
		if err != nil {
			t.Fatal(err)
		}
		n = len(res.Alerts)
	}
	close(done)
	t.Logf("alerts %d peak heap inuse %d MB", n, peak>>20)
}

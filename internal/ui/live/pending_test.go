package live

import (
	"testing"
	"time"

	"github.com/audittui/audittui/internal/data"
)

// TestPendingBatchesBounded: while the rules load, the feed hands over at
// most maxPending batches, then waits for them to start (each held batch
// pins its read buffer: unbounded, 140 MB of a 1 GB file piled up); once
// they start, every batch held goes to them and the feed goes on.
func TestPendingBatchesBounded(t *testing.T) {
	l := newAlerts(nil)
	pushed := make(chan int, maxPending+2)
	go func() {
		for i := range maxPending + 2 {
			l.Push(&data.Batch{Events: []data.Event{{Time: int64(i + 1)}}})
			pushed <- i
		}
	}()
	for range maxPending - 1 {
		<-pushed
	}
	select {
	case i := <-pushed:
		t.Fatalf("batch %d was handed over with %d batches waiting for the rules (max %d)", i+1, maxPending, maxPending)
	case <-time.After(300 * time.Millisecond):
	}
	l.mu.Lock()
	n := len(l.pending)
	l.mu.Unlock()
	if n != maxPending {
		t.Fatalf("%d batches wait, want %d", n, maxPending)
	}
	if err := l.start(nil, nil, nil); err != nil { // no rule: the batches held are released
		t.Fatal(err)
	}
	for range 3 {
		select {
		case <-pushed:
		case <-time.After(10 * time.Second):
			t.Fatal("the feed still waits after the rules started")
		}
	}
}

// TestSettled: the collector's tuning (TuneGC, ended by the TUI once the
// index is loaded and the rules have Settled) holds until the rules have
// evaluated what was read: not while they load, and once they have.
func TestSettled(t *testing.T) {
	l := newAlerts(nil)
	if l.Settled() {
		t.Fatal("settled while the rules load")
	}
	if err := l.start(nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	if !l.Settled() {
		t.Fatal("no rule runs here, yet not settled")
	}
}

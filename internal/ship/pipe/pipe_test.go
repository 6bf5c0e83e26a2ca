package pipe

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/ship/process"
)

func TestBudgetBlocksAndReleases(t *testing.T) {
	b := NewBudget(100)
	var blocked []bool
	b.OnBlock = func(v bool) { blocked = append(blocked, v) }
	ctx := context.Background()
	if n, err := b.Acquire(ctx, 60); err != nil || n != 60 {
		t.Fatal(n, err)
	}
	done := make(chan struct{})
	go func() {
		if _, err := b.Acquire(ctx, 60); err != nil {
			t.Error(err)
		}
		close(done)
	}()
	select {
	case <-done:
		t.Fatal("acquired beyond the limit")
	case <-time.After(20 * time.Millisecond):
	}
	b.Release(60)
	<-done
	if b.Used() != 60 || len(blocked) != 2 || !blocked[0] || blocked[1] {
		t.Fatalf("used %d blocked %v", b.Used(), blocked)
	}
	b.Release(60)
	cctx, cancel := context.WithCancel(ctx)
	go func() { time.Sleep(10 * time.Millisecond); cancel() }()
	b.Acquire(ctx, 100)
	if _, err := b.Acquire(cctx, 1); err != context.Canceled {
		t.Fatalf("err = %v", err)
	}
}

// Whatever is asked, no more than the budget is ever in use: an item
// larger than the whole budget takes all of it, once nothing else is in
// flight (it used to be let through on top of everything when the budget
// was empty, so a few huge lines took many times Mem_Buf_Limit).
func TestBudgetNeverExceedsTheLimit(t *testing.T) {
	b := NewBudget(100)
	ctx := context.Background()
	if n, err := b.Acquire(ctx, 1000); err != nil || n != 100 || b.Used() != 100 {
		t.Fatalf("took %d (%v), used %d", n, err, b.Used())
	}
	got := make(chan int64, 1)
	go func() {
		n, _ := b.Acquire(ctx, 5000)
		got <- n
	}()
	select {
	case <-got:
		t.Fatal("a second oversized item was admitted while the first was in flight")
	case <-time.After(20 * time.Millisecond):
	}
	b.Release(100)
	if n := <-got; n != 100 || b.Used() != 100 {
		t.Fatalf("took %d, used %d", n, b.Used())
	}
}

func TestBatchSkip(t *testing.T) {
	b := &Batch{Seq: 3, Records: []process.Record{{Line: []byte("ab")}, {Line: []byte("cde")}, {Line: []byte("f")}}, Ends: []int64{3, 7, 9}, LineBytes: 6}
	d := b.Skip(2)
	if d.Seq != 3 || len(d.Records) != 1 || d.Ends[0] != 9 || d.LineBytes != 1 || len(b.Records) != 3 {
		t.Fatalf("skip: %+v (original %+v)", d, b)
	}
	if b.Skip(0) != b {
		t.Fatal("Skip(0) copied")
	}
}

// WaitCond returns once ready holds (after a Broadcast), or with ctx's
// error once ctx ends, though nothing broadcasts.
func TestWaitCond(t *testing.T) {
	var mu sync.Mutex
	c := sync.NewCond(&mu)
	n := 0
	done := make(chan error, 1)
	go func() {
		mu.Lock()
		defer mu.Unlock()
		done <- WaitCond(context.Background(), c, func() bool { return n >= 3 })
	}()
	for range 3 {
		mu.Lock()
		n++
		c.Broadcast()
		mu.Unlock()
	}
	if err := <-done; err != nil {
		t.Fatalf("ready: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		mu.Lock()
		defer mu.Unlock()
		done <- WaitCond(ctx, c, func() bool { return false })
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("after cancel: %v, want context.Canceled", err)
	}
}

// StopGate closes Done once ship stops while deliveries fail, in either
// order; a success between a failure and the stop keeps it open.
func TestStopGate(t *testing.T) {
	var a StopGate
	a.Failed()
	if a.Stopped() {
		t.Fatal("stopped on a failure alone")
	}
	a.Stopping()
	if !a.Stopped() {
		t.Fatal("failing, then stopping: not stopped")
	}
	var b StopGate
	b.Stopping()
	if b.Stopped() {
		t.Fatal("stopped on the stop alone")
	}
	b.Failed()
	<-b.Done()
	var c StopGate
	c.Failed()
	c.Succeeded()
	c.Stopping()
	if c.Stopped() {
		t.Fatal("stopped though the last attempt succeeded")
	}
	c.Stop()
	c.Stop() // twice is fine
	<-c.Done()
}

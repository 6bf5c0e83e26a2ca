package pipe

import (
	"context"
	"testing"
	"time"
)

func TestBudgetBlocksAndReleases(t *testing.T) {
	b := NewBudget(100)
	var blocked []bool
	b.OnBlock = func(v bool) { blocked = append(blocked, v) }
	ctx := context.Background()
	if err := b.Acquire(ctx, 60); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		if err := b.Acquire(ctx, 60); err != nil {
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
	// Oversized alone is allowed when nothing else is in flight.
	b.Release(60)
	if err := b.Acquire(ctx, 1000); err != nil || b.Used() != 1000 {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	go func() { time.Sleep(10 * time.Millisecond); cancel() }()
	if err := b.Acquire(cctx, 1); err != context.Canceled {
		t.Fatalf("err = %v", err)
	}
}

package data

import "sync"

// WindowTally counts what a read window (ReadOptions From/To) did with
// the dated events decoded: how many it let through, how many it left out
// before From (the newest of them) and at or after To (the oldest), so
// that a command whose answer is empty can say that the window, not the
// query, left everything out ("27,096 events read, all before the
// window"). Lines a prefilter skipped without decoding are not counted.
// Safe for concurrent use (the decode goroutines add to it).
type WindowTally struct {
	mu sync.Mutex
	c  WindowCounts
}

// WindowCounts is what a WindowTally counted.
type WindowCounts struct {
	In            int64 // let through
	Before, After int64 // left out before From, at or after To
	// NewestBefore is the time of the newest event before From,
	// OldestAfter of the oldest at or after To (Unix ns; 0 when none).
	NewestBefore, OldestAfter int64
}

// add merges the counts of one stretch.
func (w *WindowTally) add(c WindowCounts) {
	if w == nil || c == (WindowCounts{}) {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.c.In += c.In
	w.c.Before += c.Before
	w.c.After += c.After
	w.c.NewestBefore = max(w.c.NewestBefore, c.NewestBefore)
	if c.OldestAfter != 0 && (w.c.OldestAfter == 0 || c.OldestAfter < w.c.OldestAfter) {
		w.c.OldestAfter = c.OldestAfter
	}
}

// Counts returns what was counted so far.
func (w *WindowTally) Counts() WindowCounts {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c
}

// KeepWindow drops the events of b that are outside the window of opts
// (From inclusive, To exclusive; 0: open), as the readers of files and
// objects do, and counts in opts.Tally what it let through and left out.
// An event without a time is left out and counted in b.Undated. It is for
// sources whose server selects entries by another time than the events'
// own (Loki: the entry's timestamp).
func KeepWindow(b *Batch, opts *ReadOptions) {
	var wc WindowCounts
	b.Events = window(b, 0, opts, &wc)
	opts.Tally.add(wc)
}

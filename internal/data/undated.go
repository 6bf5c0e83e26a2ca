package data

import (
	"context"
	"hash/maphash"
	"sync"
)

// Undated counts the events a consumer could not place in time: those a
// time window left out (Batch.Undated) and those with no time that went
// on to a consumer that needs one (the alert rules). It keeps where the
// first of them is, so that a command can point at it. Safe for
// concurrent use.
type Undated struct {
	mu sync.Mutex
	n  int64
	at string
}

// Add counts n events without a time, the first of which is at (a
// citation, file:line; "" when unknown).
func (u *Undated) Add(n int64, at string) {
	if n == 0 {
		return
	}
	u.mu.Lock()
	if u.at == "" {
		u.at = at
	}
	u.n += n
	u.mu.Unlock()
}

// Count returns how many were counted and where the first is.
func (u *Undated) Count() (int64, string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.n, u.at
}

// CountUndated wraps st so that every batch's events without a time are
// counted in u: those its window left out (Batch.Undated) and those it
// holds (Time 0), for a consumer that reads the stream to its end and
// cannot place them (the alert engine). A line held twice (the same bytes,
// compacted: DupLine) counts once.
func CountUndated(st Stream, u *Undated) Stream { return &undatedCounter{Stream: st, u: u} }

type undatedCounter struct {
	Stream
	u *Undated
	// seen holds the hashes of the undated lines counted (DupLine's
	// bytes), so that a copy of one (the same file given twice, a `jq .`
	// export beside the log) counts once, as dated copies do in the
	// rules; at most maxUndatedSeen, then every one counts.
	seen map[uint64]struct{}
	seed maphash.Seed
}

// maxUndatedSeen bounds the memory of an undatedCounter's copy filter
// (about 40 bytes an entry).
const maxUndatedSeen = 1 << 20

func (c *undatedCounter) Next(ctx context.Context) (*Batch, error) {
	b, err := c.Stream.Next(ctx)
	if b == nil {
		return b, err
	}
	c.u.Add(int64(b.Undated), b.UndatedAt)
	var n int64
	at := ""
	for i := range b.Events {
		if b.Events[i].Time == 0 {
			if c.seen == nil {
				c.seen, c.seed = map[uint64]struct{}{}, maphash.MakeSeed()
			}
			h := maphash.Bytes(c.seed, DupLine(&b.Events[i]))
			if _, dup := c.seen[h]; dup {
				continue
			}
			if len(c.seen) < maxUndatedSeen {
				c.seen[h] = struct{}{}
			}
			if n == 0 {
				at = b.Events[i].Origin.Cite()
			}
			n++
		}
	}
	c.u.Add(n, at)
	return b, err
}

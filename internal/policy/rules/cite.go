package rules

import (
	"sort"
	"strings"
	"time"
)

// cite is one event an alert instance can cite.
type cite struct {
	t  int64
	id string // auditID
	h  uint64 // content hash: orders events of equal time and auditID
	// failed: the request failed (response status code 400 or more).
	failed bool
}

func (a cite) less(b cite) bool {
	if a.t != b.t {
		return a.t < b.t
	}
	if a.id != b.id {
		return a.id < b.id
	}
	return a.h < b.h
}

// seriesCites holds, for one series of one rule, how many events fell in
// each citation bucket and the first MaxSampleIDs of them in time order
// (ties broken by auditID, then content), whatever order they came in.
// Memory per bucket is bounded; events beyond the first few are counted,
// not kept.
type seriesCites struct {
	b []citeBucket // sorted by r
}

type citeBucket struct {
	r int64 // last instant of the bucket
	n int
	// failed counts those of the n whose request failed (cite.failed).
	failed int
	last   int64  // the latest event's time
	first  []cite // sorted, at most MaxSampleIDs
}

func (sc *seriesCites) add(r int64, c cite) {
	var b *citeBucket
	switch n := len(sc.b); {
	case n > 0 && sc.b[n-1].r == r:
		b = &sc.b[n-1]
	case n == 0 || sc.b[n-1].r < r:
		sc.b = append(sc.b, citeBucket{r: r})
		b = &sc.b[n]
	default:
		i := sort.Search(n, func(i int) bool { return sc.b[i].r >= r })
		if sc.b[i].r != r {
			sc.b = append(sc.b, citeBucket{})
			copy(sc.b[i+1:], sc.b[i:])
			sc.b[i] = citeBucket{r: r}
		}
		b = &sc.b[i]
	}
	b.n++
	if c.failed {
		b.failed++
	}
	b.last = max(b.last, c.t)
	if len(b.first) == MaxSampleIDs && !c.less(b.first[len(b.first)-1]) {
		return
	}
	i := sort.Search(len(b.first), func(i int) bool { return c.less(b.first[i]) })
	if len(b.first) < MaxSampleIDs {
		b.first = append(b.first, cite{})
	}
	copy(b.first[i+1:], b.first[i:])
	c.id = strings.Clone(c.id) // it may point into the reader's buffer
	b.first[i] = c
}

// count adds to a the events of the buckets in (lo, hi] that a has not
// counted yet (those after a.citedTo).
func (sc *seriesCites) count(a *Alert, lo, hi int64) {
	if a.citedTo > lo {
		lo = a.citedTo
	}
	i := sort.Search(len(sc.b), func(i int) bool { return sc.b[i].r > lo })
	for ; i < len(sc.b) && sc.b[i].r <= hi; i++ {
		b := &sc.b[i]
		a.Events += b.n
		a.Failed += b.failed
		if t := time.Unix(0, b.last).UTC(); b.n > 0 && t.After(a.LastEvent) {
			a.LastEvent = t
		}
		for _, c := range b.first {
			if len(a.AuditIDs) == MaxSampleIDs {
				break
			}
			a.AuditIDs = append(a.AuditIDs, c.id)
			a.EventTimes = append(a.EventTimes, time.Unix(0, c.t).UTC())
		}
	}
	if hi > a.citedTo {
		a.citedTo = hi
	}
}

// forget drops the buckets at or before lo; it reports whether none is
// left.
func (sc *seriesCites) forget(lo int64) bool {
	i := sort.Search(len(sc.b), func(i int) bool { return sc.b[i].r > lo })
	if i > 0 {
		n := copy(sc.b, sc.b[i:])
		clear(sc.b[n:])
		sc.b = sc.b[:n]
	}
	return len(sc.b) == 0
}

package ui

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/audittui/audittui/internal/data"
)

// The index's column values are looked up on the goroutines that decode
// (Index.Prepare, a data.ReadOptions.Prepare), while each event's bytes
// are still in that core's caches: there each value of each dictionary
// column is matched to one shared entry (canonEntry), and the goroutine
// that indexes reads the entries instead of the events' strings. On the
// 1 GB benchmark file, the indexing goroutine spent about half its time
// waiting for those strings' bytes (dict.intern: ~1 s of ~2 s), and it is
// the one goroutine of the read that cannot be split.
//
// The dictionaries' ids are still given by the indexing goroutine, in the
// order the rows come (canonEntry.id): they do not depend on which
// decoding goroutine met a value first.

// canonEntry is one value of one column.
type canonEntry struct {
	s    string // its own memory, not an alias of a read buffer
	code int    // the status code, for ColCode's entries
	// id is the value's id in the column's dictionary once done; only
	// the indexing goroutine reads or writes them (Index.Add, under mu).
	id   uint32
	done bool
}

// canonEmpty is every column's "" (dictionary id 0, done from the start:
// it is never written).
var canonEmpty = &canonEntry{done: true}

// canonCols is how many values Prepare looks up per event: the
// dictionary columns and the path of a non-resource request (canonPath).
var canonCols, canonPath = int(numCols) + 1, int(numCols)

// canonMax bounds the entries of a column (a variable for the tests):
// the values past it (a column of mostly distinct values, such as names
// in a big cluster) are interned by the indexing goroutine itself.
var canonMax = 1 << 13

const canonRecent = 64

// canonTable holds the entries of every column, shared by the decoding
// goroutines (sync.Map: read by all without a lock, written once per
// value), and their caches of the last entries met.
type canonTable struct {
	once sync.Once
	// cols are the columns' entries by value, then the codes' by code.
	cols []canonCol
	mu   sync.Mutex
	// caches: one per decoding goroutine at most, lent by cache.
	caches []*canonCache
	// slices are the batches' entry slices, given back by Index.Add.
	slices sync.Pool
}

// canonCol is one column's entries; n counts them, up to canonMax.
type canonCol struct {
	m sync.Map
	n atomic.Int32
}

// canonCache is a decoding goroutine's last entries met, per column (the
// codes last) by a cheap hash of their value: most look-ups end in one
// comparison on bytes in the core's caches, without the shared map's
// hashing. It holds canonRecent entries per column, so that memory does
// not grow with the number of cores.
type canonCache struct {
	recent [][canonRecent]*canonEntry
}

// canonPrep is what Index.Prepare attaches to a batch (data.Batch.Interned):
// canonCols entries per event, nil where the indexing goroutine looks the
// value up itself.
type canonPrep struct {
	by *Index
	h  []*canonEntry
	// first is the batch's first event when last prepared: the entries
	// are used only for the same events.
	first *data.Event
}

// Prepare looks up the column values of the events of b it has not seen
// yet (data.ReadOptions.Prepare: on a decoding goroutine, several at once
// for different batches) and attaches the entries to b for Add.
func (ix *Index) Prepare(b *data.Batch) {
	if len(b.Events) == 0 {
		return
	}
	pr, _ := b.Interned.(*canonPrep)
	if pr == nil || pr.by != ix || pr.first != &b.Events[0] || len(pr.h) > len(b.Events)*canonCols {
		pr = &canonPrep{by: ix}
		if h, ok := ix.canon.slices.Get().(*[]*canonEntry); ok {
			pr.h = (*h)[:0]
		}
		b.Interned = pr
	}
	t := &ix.canon
	cc := t.cache()
	defer t.putCache(cc)
	for i := len(pr.h) / canonCols; i < len(b.Events); i++ {
		e := &b.Events[i]
		for c := range colSpecs {
			if Col(c) == ColCode {
				pr.h = append(pr.h, t.code(cc, e.Code))
				continue
			}
			v, _ := colSpecs[c].Get(e)
			pr.h = append(pr.h, t.get(cc, c, v))
		}
		pr.h = append(pr.h, t.get(cc, canonPath, pathOf(e)))
	}
	pr.first = &b.Events[0]
}

// prepared returns the entries Prepare attached to b for its events, nil
// when it did not (or b's events changed since).
func (ix *Index) prepared(b *data.Batch) *canonPrep {
	pr, ok := b.Interned.(*canonPrep)
	if !ok || pr.by != ix || len(b.Events) == 0 || pr.first != &b.Events[0] || len(pr.h) != len(b.Events)*canonCols {
		return nil
	}
	return pr
}

// release gives pr's entry slice back for the next batches.
func (t *canonTable) release(pr *canonPrep) {
	h := pr.h[:cap(pr.h)]
	clear(h)
	h = h[:0]
	pr.h = nil
	t.slices.Put(&h)
}

// pathOf is the path shown for a non-resource request (Index.paths), ""
// for the others.
func pathOf(e *data.Event) string {
	if e.Resource == "" && e.RequestURI != "" {
		path, _, _ := strings.Cut(e.RequestURI, "?")
		return path
	}
	return ""
}

func (t *canonTable) cache() *canonCache {
	t.once.Do(func() { t.cols = make([]canonCol, canonCols+1) })
	t.mu.Lock()
	defer t.mu.Unlock()
	if n := len(t.caches); n > 0 {
		cc := t.caches[n-1]
		t.caches = t.caches[:n-1]
		return cc
	}
	return &canonCache{recent: make([][canonRecent]*canonEntry, canonCols+1)}
}

func (t *canonTable) putCache(cc *canonCache) {
	t.mu.Lock()
	t.caches = append(t.caches, cc)
	t.mu.Unlock()
}

// get returns column c's entry for v, nil when the column is full.
func (t *canonTable) get(cc *canonCache, c int, v string) *canonEntry {
	if v == "" {
		return canonEmpty
	}
	slot := recentSlot(v) & (canonRecent - 1)
	if h := cc.recent[c][slot]; h != nil && h.s == v {
		return h
	}
	h := lookup(&t.cols[c], v, func() *canonEntry { return &canonEntry{s: strings.Clone(v)} })
	if h == nil {
		return nil
	}
	cc.recent[c][slot] = h
	return h
}

// code returns the entry of a status code, nil when too many codes have
// come.
func (t *canonTable) code(cc *canonCache, code int) *canonEntry {
	slot := code & (canonRecent - 1)
	if h := cc.recent[canonPath+1][slot]; h != nil && h.code == code {
		return h
	}
	h := lookup(&t.cols[canonPath+1], code, func() *canonEntry { return &canonEntry{code: code} })
	if h == nil {
		return nil
	}
	cc.recent[canonPath+1][slot] = h
	return h
}

// lookup returns col's entry for key, made by mk and added when there is
// none and col holds fewer than canonMax; nil when it is full.
func lookup[K comparable](col *canonCol, key K, mk func() *canonEntry) *canonEntry {
	if x, ok := col.m.Load(key); ok {
		return x.(*canonEntry)
	}
	if col.n.Load() >= int32(canonMax) {
		return nil
	}
	h := mk()
	var k any = key
	if h.s != "" {
		k = h.s // the entry's own copy, not the read buffer's bytes
	}
	if x, loaded := col.m.LoadOrStore(k, h); loaded {
		return x.(*canonEntry)
	}
	col.n.Add(1)
	return h
}

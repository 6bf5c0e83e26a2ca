package ui

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/termsafe"
)

// The index keeps compact per-event columns, not the events: a timestamp,
// dictionary ids for the fields that are shown and filtered on, and where
// the original bytes live (a seekable file, or the local spill file for
// stdin, compressed and remote sources). An event's JSON is read back only
// when it is shown.
//
// Columns are stored in fixed-size chunks so that growing never copies, and
// a writer (the loader goroutine) can append while readers work on a
// Snapshot: a snapshot only touches rows below its length, which the writer
// never changes again.

// Col names a dictionary-encoded column: one per field the schema
// (data.Fields) marks Indexed, in table order.
type Col int

// colSpecs are the indexed fields; column c holds colSpecs[c].
var colSpecs = func() []data.FieldSpec {
	var out []data.FieldSpec
	for _, f := range data.Fields() {
		if f.Indexed {
			out = append(out, f)
		}
	}
	return out
}()

// numCols is the number of dictionary columns.
var numCols = Col(len(colSpecs))

// The columns the panes read by meaning, each found in the schema by name
// (TestColumnsFromSchema: a field that stops being indexed fails there).
var (
	ColUser        = mustCol("user_username")
	ColVerb        = mustCol("verb")
	ColResource    = mustCol("objectRef_resource")
	ColSubresource = mustCol("objectRef_subresource")
	ColNamespace   = mustCol("objectRef_namespace")
	ColName        = mustCol("objectRef_name")
	ColCode        = mustCol("responseStatus_code")
	ColStage       = mustCol("stage")
	ColSourceIP    = mustCol("sourceIP")
	ColUserAgent   = mustCol("userAgent")
	ColImpUser     = mustCol("impersonatedUser_username")
	ColAPIGroup    = mustCol("objectRef_apiGroup")
)

func mustCol(name string) Col {
	c, ok := colForLabel(name)
	if !ok {
		panic("ui: schema field " + name + " is not indexed")
	}
	return c
}

// ColField returns the LogQL label name of a column: what `| json`
// produces, or the label of the `| json name="path"` stage that reaches
// an array element (see ColSpec).
func ColField(c Col) string { return colSpecs[c].Name }

// ColSpec returns the schema row of a column.
func ColSpec(c Col) data.FieldSpec { return colSpecs[c] }

// ColForField returns the column holding what `| json` produces under
// name, if any. An expression field's label (sourceIP) is not one: `| json`
// alone never produces it.
func ColForField(name string) (Col, bool) {
	for c := range colSpecs {
		if colSpecs[c].Kind == data.FieldJSON && colSpecs[c].Name == name {
			return Col(c), true
		}
	}
	return 0, false
}

// colForLabel returns the column of a schema name of any kind.
func colForLabel(name string) (Col, bool) {
	for c := range colSpecs {
		if colSpecs[c].Name == name {
			return Col(c), true
		}
	}
	return 0, false
}

// colForPath returns the column holding the value at a JSON expression
// path, spelled as the schema spells it (`| json ip="sourceIPs[0]"`).
func colForPath(path string) (Col, bool) {
	for c := range colSpecs {
		if colSpecs[c].Path == path {
			return Col(c), true
		}
	}
	return 0, false
}

const chunkBits = 16
const chunkSize = 1 << chunkBits

// column is an append-only chunked slice.
type column[T any] struct{ chunks [][]T }

func (c *column[T]) add(n int, v T) {
	ci, off := n>>chunkBits, n&(chunkSize-1)
	if ci == len(c.chunks) {
		c.chunks = append(c.chunks, make([]T, chunkSize))
	}
	c.chunks[ci][off] = v
}

func (c column[T]) at(i int) T { return c.chunks[i>>chunkBits][i&(chunkSize-1)] }

// idChunk holds dictionary ids as uint16 while they fit, else uint32: most
// columns (verb, code, stage, namespace, often user) never need more than
// 16 bits, which halves the index.
type idChunk struct {
	u16 []uint16
	u32 []uint32
}

// idColumn is an append-only chunked column of dictionary ids.
type idColumn struct{ chunks []*idChunk }

// put is add for the common case, inlined: the chunk of row n is there
// and holds id as it is; false when add must do it.
func (c *idColumn) put(n int, id uint32) bool {
	if ci := n >> chunkBits; ci < len(c.chunks) {
		if ch := c.chunks[ci]; ch.u32 == nil && id <= 0xffff {
			ch.u16[n&(chunkSize-1)] = uint16(id)
			return true
		}
	}
	return false
}

func (c *idColumn) add(n int, id uint32) {
	ci, off := n>>chunkBits, n&(chunkSize-1)
	if ci == len(c.chunks) {
		c.chunks = append(c.chunks, &idChunk{u16: make([]uint16, chunkSize)})
	}
	ch := c.chunks[ci]
	if ch.u32 == nil && id > 0xffff {
		// Widen this chunk. Readers only read rows published before this
		// write, through their own snapshot of the chunk (see snapshot()).
		wide := make([]uint32, chunkSize)
		for k, v := range ch.u16[:off] {
			wide[k] = uint32(v)
		}
		c.chunks[ci] = &idChunk{u32: wide}
		ch = c.chunks[ci]
	}
	if ch.u32 != nil {
		ch.u32[off] = id
	} else {
		ch.u16[off] = uint16(id)
	}
}

func (c idColumn) at(i int) uint32 {
	ch := c.chunks[i>>chunkBits]
	if ch.u32 != nil {
		return ch.u32[i&(chunkSize-1)]
	}
	return uint32(ch.u16[i&(chunkSize-1)])
}

// snapshot copies the chunk pointers: a chunk widened later is a new
// chunk, so the snapshot keeps reading the old one, whose published rows
// never change.
func (c idColumn) snapshot() idColumn {
	return idColumn{chunks: append([]*idChunk(nil), c.chunks...)}
}

// dict interns strings to dense ids; id 0 is always "".
type dict struct {
	ids  map[string]uint32
	vals []string
	// recent holds the id of a value recently interned per slot, the slot
	// chosen from the value's length and a few of its bytes: audit fields
	// take few values (verbs, resources, stages, namespaces, clients), so
	// most look-ups end in one comparison, without the map's hashing.
	recent [dictRecent]uint32
}

const dictRecent = 256

func newDict() *dict { return &dict{ids: map[string]uint32{"": 0}, vals: []string{""}} }

// recentSlot is a cheap hash of s for dict.recent.
func recentSlot(s string) int {
	n := len(s)
	if n == 0 {
		return 0
	}
	return (n*31 + int(s[0]) + int(s[n/2])*7 + int(s[n-1])*131) & (dictRecent - 1)
}

func (d *dict) intern(s string) uint32 { return d.add(s, false) }

// add interns s; owned says s has memory of its own (a canonEntry's), not
// an alias of a read buffer that must be copied to be kept.
func (d *dict) add(s string, owned bool) uint32 {
	if s == "" {
		return 0 // most events leave most identity columns empty
	}
	slot := recentSlot(s)
	if id := d.recent[slot]; d.vals[id] == s {
		return id
	}
	id, ok := d.ids[s]
	if !ok {
		if !owned {
			s = string([]byte(s)) // own the memory: event strings alias read buffers
		}
		id = uint32(len(d.vals))
		d.vals = append(d.vals, s)
		d.ids[s] = id
	}
	d.recent[slot] = id
	return id
}

// rawLoc says where an event's bytes are.
type source struct {
	info *data.SourceInfo
	file *os.File // nil: the event was spilled
}

// RejectInfo is a rejected line, sanitised for display.
type RejectInfo struct {
	Where, Reason, Sample string
}

// maxKeptRejects bounds how many rejects are kept for display; all are
// counted.
const maxKeptRejects = 1000

// Index is the in-memory event index. Add is called by one writer; any
// number of readers use Snapshot.
type Index struct {
	log *slog.Logger

	mu       sync.RWMutex
	n        int
	times    column[int64]
	latency  column[int32] // microseconds; -1 unknown
	auditID  column[uint64]
	src      column[uint16]
	off      column[int64]
	length   column[uint32]
	line     column[uint32] // Origin.Line; lineWide holds lines that do not fit
	lineWide map[int]int64
	stime    lateColumn // Origin.StreamTime (Loki entries), allocated when first needed
	// linecol is Origin.Col (records that do not start their line: a
	// Firehose object's, an array's on one line), allocated when first
	// needed.
	linecol lateColumn
	// dryRun marks server-side dry runs (data.Event.DryRun), allocated
	// when the first one comes.
	dryRun lateFlags
	cols   []idColumn
	dicts  []*dict
	// paths is a display column, not a schema field: the path (without
	// the query) of a non-resource request (/healthz, /metrics), shown
	// where a resource request shows its object; id 0 for the others.
	paths    idColumn
	pathDict *dict
	// ipChains is a display column too: the JSON text of sourceIPs
	// (`| json x="sourceIPs"`) of an event whose addresses the sourceIP
	// column (sourceIPs[0]) does not tell, one that came through a proxy
	// (X-Forwarded-For); id 0 for the others, and no memory at all until
	// one comes.
	ipChains lateIDColumn
	ipDict   *dict
	// body: the names `| json` yields under the bodies (bodynames.go).
	body     bodyNames
	codeIDs  map[int]uint32
	codeInts []int // per ColCode dict id
	// canon: the column values as the decoding goroutines looked them up
	// (Prepare, canon.go).
	canon    canonTable
	sources  []source
	srcIDs   map[*data.SourceInfo]uint16
	spill    *os.File
	spillDir string
	// spillGone: the spill file was unlinked right after creation.
	spillGone bool
	spillOff  int64
	bytes     int64
	total     int64 // input size when known (Progress), else 0
	done2     int64 // bytes consumed per Progress
	rejected  int64
	rejects   []RejectInfo
	// dups finds exact duplicates (dups.go); duplicates counts them and
	// dupSamples names the first few (untrusted: sanitise to draw).
	dups       dupTable
	duplicates int64
	dupSamples []string
	// alsoAt is where each duplicate was read, with the row it repeats
	// (Snapshot.AlsoAt); alsoStime the stream times of those that are
	// Loki entries, by position in alsoAt.
	alsoAt    []dupLoc
	alsoStime map[int]int64
	// undated counts the events without a time (shown, never placed in
	// time: README "Time, and events without one").
	undated  int64
	byReason map[string]int64
	minTime  int64
	maxTime  int64
	// lastTime is the time of the last event added; unsorted is set when
	// an event is older than the one before it (see Order).
	lastTime int64
	unsorted bool
	// caughtUp: a followed source has read everything there was (see
	// data.Batch.CaughtUp); partial is its held-back last line's size.
	caughtUp bool
	partial  int
	// order/rank put the first len(order) rows in time order (SetOrder):
	// position -> row and row -> position; nil: index order.
	order, rank []uint32
	done        bool
	err         error
	// opened is when the index was made; took how long until Finish
	// (the read's duration, for the status bar).
	opened time.Time
	took   time.Duration
	// busy is how long Add has taken so far (Busy): the indexing
	// goroutine is the one part of a read that cannot be split.
	busy time.Duration
}

// NewIndex returns an empty index. spillDir is where the spill file for
// non-seekable sources goes ("" = os.TempDir()).
func NewIndex(spillDir string, log *slog.Logger) *Index {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ix := &Index{log: log, spillDir: spillDir, srcIDs: map[*data.SourceInfo]uint16{}, byReason: map[string]int64{}, lineWide: map[int]int64{},
		cols: make([]idColumn, numCols), dicts: make([]*dict, numCols), pathDict: newDict(), ipDict: newDict(), opened: time.Now()}
	for c := range ix.dicts {
		ix.dicts[c] = newDict()
	}
	ix.codeInts = []int{0}
	ix.codeIDs = map[int]uint32{0: 0}
	return ix
}

// Close releases the files the index holds and removes the spill file.
func (ix *Index) Close() error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for _, s := range ix.sources {
		if s.file != nil {
			s.file.Close()
		}
	}
	if ix.spill != nil {
		name := ix.spill.Name()
		ix.spill.Close()
		ix.spill = nil
		if !ix.spillGone {
			return os.Remove(name)
		}
	}
	return nil
}

// Loaded reports whether the sources have been read: to their end, or,
// when followed, up to what there was (now live).
func (ix *Index) Loaded() bool {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.done || ix.caughtUp
}

// Add appends a batch. Events are copied into the columns (the batch may be
// reused by the caller afterwards); non-seekable events are written to the
// spill file.
func (ix *Index) Add(b *data.Batch) error {
	// Work that does I/O or allocates per source happens before taking the
	// write lock, so readers are blocked only for the column appends.
	ix.mu.Lock()
	defer ix.mu.Unlock()
	t0 := time.Now()
	defer func() { ix.busy += time.Since(t0) }()
	ix.bytes += b.Bytes
	if b.CaughtUp {
		ix.caughtUp, ix.partial = true, b.Partial
	}
	for i := range b.Rejects {
		r := &b.Rejects[i]
		ix.rejected += r.LineCount()
		ix.byReason[r.Reason] += r.LineCount()
		if len(ix.rejects) < maxKeptRejects {
			ix.rejects = append(ix.rejects, RejectInfo{
				Where: termsafe.String(r.Origin.Where()), Reason: termsafe.String(r.Reason), Sample: termsafe.String(string(r.Sample)),
			})
		}
	}
	pr := ix.prepared(b)
	if pr != nil {
		defer ix.canon.release(pr)
	}
	for i := range b.Events {
		e := &b.Events[i]
		var hs []*canonEntry
		if pr != nil {
			hs = pr.h[i*canonCols : (i+1)*canonCols : (i+1)*canonCols]
		}
		// (Hashed by the decoder: the auditID's bytes are no longer in
		// this core's caches.)
		id := e.AuditIDHash()
		r, tab, slot, dup := ix.dupOf(e, id)
		// The rules that read the batch next (live.Alerts) count a copy
		// once by this mark instead of a filter of their own.
		e.Repeat = dup
		if dup {
			ix.noteDup(e, r)
			continue
		}
		if err := ix.addEvent(e, id, hs); err != nil {
			return err
		}
		ix.keepDup(tab, slot, ix.n-1)
	}
	return nil
}

// Busy is how long adding batches has taken so far (the benchmarks'
// measure of the indexing goroutine's work).
func (ix *Index) Busy() time.Duration {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.busy
}

// sourceFor is the id of e's source. A seekable source is opened when its
// first event comes, where its bytes are now (a followed file rotated
// since: SourceInfo.Moved), and kept open to read events back: when the
// file opened does not hold e's bytes at e's offset (rotated again since it
// was read, and not seen yet), the source is spilled instead.
func (ix *Index) sourceFor(e *data.Event) (uint16, error) {
	info := e.Origin.Source
	if id, ok := ix.srcIDs[info]; ok {
		return id, nil
	}
	if len(ix.sources) >= 1<<16-1 {
		return 0, fmt.Errorf("too many sources (max %d)", 1<<16-1)
	}
	s := source{info: info}
	if info != nil && info.Seekable {
		f, err := os.Open(info.CiteName())
		switch {
		case err != nil:
			ix.log.Warn("source not re-readable, spilling", "source", info.Name, "err", err)
		case info.Moved != nil && !holdsAt(f, e):
			f.Close()
			ix.log.Warn("source rotated since it was read, spilling", "source", info.Name)
		default:
			s.file = f
		}
	}
	id := uint16(len(ix.sources))
	ix.sources = append(ix.sources, s)
	ix.srcIDs[info] = id
	return id, nil
}

// addEvent adds e as a row; hs, when not nil, are its column values as
// Prepare looked them up (canonCols entries, nil for a value to look up
// here).
func (ix *Index) addEvent(e *data.Event, id uint64, hs []*canonEntry) error {
	sid, err := ix.sourceFor(e)
	if err != nil {
		return err
	}
	off := e.Origin.Offset
	if ix.sources[sid].file == nil {
		if ix.spill == nil {
			f, err := os.CreateTemp(ix.spillDir, "audittui-spill-*.jsonl")
			if err != nil {
				return fmt.Errorf("create spill file: %w", err)
			}
			// Unlinked at once: the open file stays readable, and nothing
			// is left behind however the process ends (on systems that
			// refuse, Close removes it).
			if os.Remove(f.Name()) == nil {
				ix.spillGone = true
			}
			ix.spill = f
		}
		if _, err := ix.spill.Write(e.Raw); err != nil {
			return fmt.Errorf("write spill file %s: %w", ix.spill.Name(), err)
		}
		off = ix.spillOff
		ix.spillOff += int64(len(e.Raw))
	}
	n := ix.n
	ix.times.add(n, e.Time)
	lat := int32(-1)
	if l := e.Latency(); l >= 0 {
		us := l.Microseconds()
		if us > 1<<31-1 {
			us = 1<<31 - 1
		}
		lat = int32(us)
	}
	ix.latency.add(n, lat)
	ix.auditID.add(n, id)
	ix.src.add(n, sid)
	ix.off.add(n, off)
	ix.length.add(n, uint32(len(e.Raw)))
	// Lines fit 32 bits but in files of over four billion lines.
	if l := e.Origin.Line; l >= 0 && l < lineWideMark {
		ix.line.add(n, uint32(l))
	} else {
		ix.line.add(n, lineWideMark)
		ix.lineWide[n] = l
	}
	ix.stime.add(n, e.Origin.StreamTime)
	ix.linecol.add(n, e.Origin.Col)
	ix.dryRun.add(n, e.DryRun)
	for c := range colSpecs {
		var id uint32
		switch h := entryAt(hs, c); {
		case h != nil:
			if !h.done {
				if Col(c) == ColCode {
					h.id = ix.codeID(h.code)
				} else {
					h.id = ix.dicts[c].add(h.s, true)
				}
				h.done = true
			}
			id = h.id
		case Col(c) == ColCode:
			id = ix.codeID(e.Code)
		default:
			v, _ := colSpecs[c].Get(e)
			id = ix.dicts[c].intern(v)
		}
		if !ix.cols[c].put(n, id) {
			ix.cols[c].add(n, id)
		}
	}
	var pathID uint32
	if h := entryAt(hs, canonPath); h != nil {
		if !h.done {
			h.id, h.done = ix.pathDict.add(h.s, true), true
		}
		pathID = h.id
	} else {
		pathID = ix.pathDict.intern(pathOf(e))
	}
	if !ix.paths.put(n, pathID) {
		ix.paths.add(n, pathID)
	}
	ix.ipChains.add(n, ix.ipChainID(e))
	ix.body.add(e)
	if e.Time < ix.lastTime {
		ix.unsorted = true
	}
	ix.lastTime = e.Time
	if e.Time == 0 {
		ix.undated++
	}
	if e.Time != 0 {
		if ix.minTime == 0 || e.Time < ix.minTime {
			ix.minTime = e.Time
		}
		if e.Time > ix.maxTime {
			ix.maxTime = e.Time
		}
	}
	ix.n++
	return nil
}

// entryAt is hs[c], nil when hs is.
func entryAt(hs []*canonEntry, c int) *canonEntry {
	if hs == nil {
		return nil
	}
	return hs[c]
}

// codeID is the ColCode dictionary id of a status code. Codes are kept
// as ints too (Snapshot.Code): interned by int, without formatting each
// one.
func (ix *Index) codeID(code int) uint32 {
	id, ok := ix.codeIDs[code]
	if !ok {
		id = ix.dicts[ColCode].intern(strconv.Itoa(code))
		ix.codeIDs[code] = id
		ix.codeInts = append(ix.codeInts, code)
	}
	return id
}

// ipChainID interns the sourceIPs of e when the sourceIP column does not
// tell them (more than one address, or an empty one); 0 otherwise.
func (ix *Index) ipChainID(e *data.Event) uint32 {
	if len(e.SourceIPs) < 2 && (len(e.SourceIPs) == 0 || e.SourceIPs[0] != "") {
		return 0
	}
	js, _ := data.SourceIPsJSON(e)
	return ix.ipDict.intern(js)
}

// holdsAt reports whether f holds e's bytes at e's offset.
func holdsAt(f *os.File, e *data.Event) bool {
	b := make([]byte, len(e.Raw))
	n, _ := f.ReadAt(b, e.Origin.Offset)
	return n == len(b) && bytes.Equal(b, e.Raw)
}

// lineWideMark in the line column means "see lineWide".
const lineWideMark = 1<<32 - 1

// lateColumn is an int64 column that costs nothing until a value other
// than 0 is added (most sources have no stream time): its chunks start at
// chunk base, rows before it read 0. Chunks are only ever appended, so a
// snapshot's copy of the slice never sees a chunk filled in later.
type lateColumn struct {
	base   int
	chunks [][]int64
}

func (c *lateColumn) add(n int, v int64) {
	ci, off := n>>chunkBits, n&(chunkSize-1)
	if c.chunks == nil {
		if v == 0 {
			return
		}
		c.base = ci
	}
	if ci-c.base == len(c.chunks) {
		c.chunks = append(c.chunks, make([]int64, chunkSize))
	}
	c.chunks[ci-c.base][off] = v
}

func (c lateColumn) at(i int) int64 {
	ci := i>>chunkBits - c.base
	if c.chunks == nil || ci < 0 {
		return 0
	}
	return c.chunks[ci][i&(chunkSize-1)]
}

// lateIDColumn is an idColumn that costs nothing until an id other than
// 0 is added: its chunks start at chunk base, rows before it read 0.
type lateIDColumn struct {
	base int
	col  idColumn
}

func (c *lateIDColumn) add(n int, id uint32) {
	if c.col.chunks == nil {
		if id == 0 {
			return
		}
		c.base = n >> chunkBits
	}
	c.col.add(n-c.base<<chunkBits, id)
}

func (c lateIDColumn) at(i int) uint32 {
	if c.col.chunks == nil || i>>chunkBits < c.base {
		return 0
	}
	return c.col.at(i - c.base<<chunkBits)
}

func (c lateIDColumn) snapshot() lateIDColumn {
	return lateIDColumn{base: c.base, col: c.col.snapshot()}
}

// lateFlags is a bool column that costs nothing until a true is added
// (most inputs have no dry run), as lateColumn; a byte per row from the
// chunk of the first true on. Chunks are only ever appended.
type lateFlags struct {
	base   int
	chunks [][]bool
}

func (c *lateFlags) add(n int, v bool) {
	ci, off := n>>chunkBits, n&(chunkSize-1)
	if c.chunks == nil {
		if !v {
			return
		}
		c.base = ci
	}
	if ci-c.base == len(c.chunks) {
		c.chunks = append(c.chunks, make([]bool, chunkSize))
	}
	c.chunks[ci-c.base][off] = v
}

func (c lateFlags) at(i int) bool {
	ci := i>>chunkBits - c.base
	if c.chunks == nil || ci < 0 {
		return false
	}
	return c.chunks[ci][i&(chunkSize-1)]
}

func (c lateFlags) snapshot() lateFlags {
	return lateFlags{base: c.base, chunks: c.chunks[:len(c.chunks):len(c.chunks)]}
}

// idSeed seeds lineKey: the hashes live in this process only, so any
// seed will do.
var idSeed = maphash.MakeSeed()

// hashID hashes an auditID (0 for none) as the decoder does
// (data.Event.IDHash): the index, the alert and case-file look-ups.
func hashID(s string) uint64 { return data.HashAuditID(s) }

// Finish marks the input as fully read (err: why reading stopped early).
func (ix *Index) Finish(err error) {
	ix.mu.Lock()
	ix.done = true
	ix.err = err
	ix.took = time.Since(ix.opened)
	ix.mu.Unlock()
}

// Progress is a data.ReadOptions.Progress callback: bytes consumed and
// the total when known (-1 otherwise).
func (ix *Index) Progress(done, total int64) {
	ix.mu.Lock()
	ix.done2 = done
	if total > 0 {
		ix.total = total
	}
	ix.mu.Unlock()
}

// Snapshot is a consistent read-only view of the first Len() events.
type Snapshot struct {
	ix       *Index
	n        int
	times    column[int64]
	latency  column[int32]
	auditID  column[uint64]
	src      column[uint16]
	off      column[int64]
	length   column[uint32]
	line     column[uint32]
	stime    lateColumn
	linecol  lateColumn
	dryRun   lateFlags
	cols     []idColumn
	vals     [][]string
	paths    idColumn
	pathVals []string
	ipChains lateIDColumn
	ipVals   []string
	codeInts []int
	sources  []source
	// bodyNames: the body names collected before the snapshot.
	bodyNames []string
	// alsoAt: the duplicates read before the snapshot (AlsoAt);
	// alsoStime is not nil when some of all were Loki entries.
	alsoAt    []dupLoc
	alsoStime map[int]int64
	// Stats at the time of the snapshot.
	Bytes, Rejected int64
	// Duplicates counts the events not added because their bytes equal
	// an earlier event's (dups.go).
	Duplicates int64
	// Undated counts the events without a time.
	Undated int64
	// Consumed/Total are the reader's progress (Total 0: unknown).
	Consumed, Total  int64
	Done             bool
	Err              error
	MinTime, MaxTime int64
	// CaughtUp: a followed input has been read to its end (now live);
	// Partial is the size of a last line waiting for its newline.
	CaughtUp bool
	Partial  int
	// Unsorted: some event is older than the one before it.
	Unsorted bool
	// ReadTook is how long reading took, from the index's creation to the
	// end of the input (0 until then).
	ReadTook time.Duration
	// order/rank: the time order of the first len(order) rows (nil:
	// index order; later rows follow in index order).
	order, rank []uint32
}

// Snapshot returns a view of the index as it is now.
func (ix *Index) Snapshot() *Snapshot {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	s := &Snapshot{
		ix: ix, n: ix.n,
		times:    column[int64]{chunks: ix.times.chunks[:len(ix.times.chunks):len(ix.times.chunks)]},
		latency:  column[int32]{chunks: ix.latency.chunks[:len(ix.latency.chunks):len(ix.latency.chunks)]},
		auditID:  column[uint64]{chunks: ix.auditID.chunks[:len(ix.auditID.chunks):len(ix.auditID.chunks)]},
		src:      column[uint16]{chunks: ix.src.chunks[:len(ix.src.chunks):len(ix.src.chunks)]},
		off:      column[int64]{chunks: ix.off.chunks[:len(ix.off.chunks):len(ix.off.chunks)]},
		length:   column[uint32]{chunks: ix.length.chunks[:len(ix.length.chunks):len(ix.length.chunks)]},
		line:     column[uint32]{chunks: ix.line.chunks[:len(ix.line.chunks):len(ix.line.chunks)]},
		stime:    lateColumn{base: ix.stime.base, chunks: ix.stime.chunks[:len(ix.stime.chunks):len(ix.stime.chunks)]},
		linecol:  lateColumn{base: ix.linecol.base, chunks: ix.linecol.chunks[:len(ix.linecol.chunks):len(ix.linecol.chunks)]},
		dryRun:   ix.dryRun.snapshot(),
		codeInts: ix.codeInts[:len(ix.codeInts):len(ix.codeInts)],
		sources:  ix.sources[:len(ix.sources):len(ix.sources)],
		Bytes:    ix.bytes, Rejected: ix.rejected, Duplicates: ix.duplicates, Undated: ix.undated, Done: ix.done, Err: ix.err,
		Consumed: ix.done2, Total: ix.total,
		MinTime: ix.minTime, MaxTime: ix.maxTime,
		CaughtUp: ix.caughtUp, Partial: ix.partial, Unsorted: ix.unsorted, ReadTook: ix.took,
		cols: make([]idColumn, numCols), vals: make([][]string, numCols),
	}
	s.order, s.rank = ix.order, ix.rank
	s.alsoAt, s.alsoStime = ix.alsoAt[:len(ix.alsoAt):len(ix.alsoAt)], ix.alsoStime
	s.paths = ix.paths.snapshot()
	s.pathVals = ix.pathDict.vals[:len(ix.pathDict.vals):len(ix.pathDict.vals)]
	s.ipChains = ix.ipChains.snapshot()
	s.ipVals = ix.ipDict.vals[:len(ix.ipDict.vals):len(ix.ipDict.vals)]
	s.bodyNames = ix.body.names[:len(ix.body.names):len(ix.body.names)]
	for c := range ix.cols {
		s.cols[c] = ix.cols[c].snapshot()
		v := ix.dicts[c].vals
		s.vals[c] = v[:len(v):len(v)]
	}
	return s
}

// SetOrder installs a time order of the first n rows (order[p] is the row
// shown at position p; see timeOrder). Rows added after them (a followed
// input, live) are shown after them, in the order they came.
func (ix *Index) SetOrder(order []uint32, n int) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if n > ix.n || len(order) != n {
		return fmt.Errorf("order of %d rows for an index of %d", len(order), ix.n)
	}
	rank := make([]uint32, n)
	for p, r := range order {
		rank[r] = uint32(p)
	}
	ix.order, ix.rank = order, rank
	return nil
}

// timeOrder returns the rows of s sorted by time (ties and events without
// a time keep index order): a permutation column, 4 bytes a row; the
// events themselves are not moved, and the times are read from their
// column (a copy would take 8 bytes a row more while sorting).
func timeOrder(s *Snapshot) []uint32 {
	n := s.Len()
	order := make([]uint32, n)
	for i := range n {
		order[i] = uint32(i)
	}
	slices.SortStableFunc(order, func(a, b uint32) int { return cmp.Compare(s.Time(int(a)), s.Time(int(b))) })
	return order
}

// Ordered reports whether the snapshot's rows are shown in a time order
// other than index order (of its first rows, when rows came after the
// order was computed: a followed input).
func (s *Snapshot) Ordered() bool { return s.order != nil }

// Rejects returns the kept rejects and the count per reason.
func (ix *Index) Rejects() ([]RejectInfo, map[string]int64) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	by := make(map[string]int64, len(ix.byReason))
	for k, v := range ix.byReason {
		by[termsafe.String(k)] += v
	}
	return append([]RejectInfo(nil), ix.rejects...), by
}

// Len is the number of events in the snapshot.
func (s *Snapshot) Len() int { return s.n }

// Row returns the index row shown at display position p (time order when
// the snapshot has one, else p itself).
func (s *Snapshot) Row(p int) int {
	if p < len(s.order) {
		return int(s.order[p])
	}
	return p
}

// Pos returns the display position of index row i (Row's inverse).
func (s *Snapshot) Pos(i int) int {
	if i < len(s.rank) {
		return int(s.rank[i])
	}
	return i
}

// Time returns event i's time (Unix ns).
func (s *Snapshot) Time(i int) int64 { return s.times.at(i) }

// Latency returns event i's latency in microseconds, or -1.
func (s *Snapshot) Latency(i int) int32 { return s.latency.at(i) }

// DryRun reports whether event i was a server-side dry run
// (data.Event.DryRun: the API server stored nothing).
func (s *Snapshot) DryRun(i int) bool { return s.dryRun.at(i) }

// ID returns event i's dictionary id in column c.
func (s *Snapshot) ID(c Col, i int) uint32 { return s.cols[c].at(i) }

// Str returns event i's value in column c (untrusted: sanitise to draw).
func (s *Snapshot) Str(c Col, i int) string { return s.vals[c][s.cols[c].at(i)] }

// Value returns the string of dictionary id in column c.
func (s *Snapshot) Value(c Col, id uint32) string { return s.vals[c][id] }

// Values returns column c's dictionary (index = id). Do not modify.
func (s *Snapshot) Values(c Col) []string { return s.vals[c] }

// Path returns the path of event i when it is a non-resource request
// (/healthz), else "" (untrusted: sanitise to draw).
func (s *Snapshot) Path(i int) string { return s.pathVals[s.paths.at(i)] }

// SourceIPs returns event i's sourceIPs, every address the API server
// recorded: X-Forwarded-For's, X-Real-Ip's, then the address its
// connection came from, last (all but the last are whatever the client
// sent); nil when it has none. Untrusted: sanitise to draw.
func (s *Snapshot) SourceIPs(i int) []string {
	if id := s.ipChains.at(i); id != 0 {
		return parseSourceIPs(s.ipVals[id])
	}
	if ip := s.Str(ColSourceIP, i); ip != "" {
		return []string{ip}
	}
	return nil
}

// sourceIPsJSON returns event i's sourceIPs as `| json x="sourceIPs"`
// extracts them (data.SourceIPsJSON), with the column ids it read.
func (s *Snapshot) sourceIPsJSON(i int) (text string, chain, first uint32) {
	if chain = s.ipChains.at(i); chain != 0 {
		return s.ipVals[chain], chain, 0
	}
	first = s.ID(ColSourceIP, i)
	if ip := s.Value(ColSourceIP, first); ip != "" {
		text, _ = data.SourceIPsJSON(&data.Event{SourceIPs: []string{ip}})
	}
	return text, 0, first
}

// parseSourceIPs reads the JSON text of a sourceIPs array (nil when it is
// not an array of strings).
func parseSourceIPs(js string) []string {
	var ips []string
	if json.Unmarshal([]byte(js), &ips) != nil {
		return nil
	}
	return ips
}

// Code returns event i's response code (0 if none).
func (s *Snapshot) Code(i int) int { return s.codeInts[s.cols[ColCode].at(i)] }

// CodeOf returns the integer code of a ColCode dictionary id.
func (s *Snapshot) CodeOf(id uint32) int { return s.codeInts[id] }

// AuditIDHash returns the hash of event i's auditID (0 when it has none).
func (s *Snapshot) AuditIDHash(i int) uint64 { return s.auditID.at(i) }

// Raw reads event i's original bytes back from its file or the spill file.
// It does I/O: call it from a tea.Cmd, never from Update.
func (s *Snapshot) Raw(i int) ([]byte, error) {
	s.ix.mu.RLock()
	spill := s.ix.spill
	s.ix.mu.RUnlock()
	return s.sources[s.src.at(i)].read(spill, s.off.at(i), make([]byte, s.length.at(i)))
}

// read reads len(buf) bytes of an event at off from the source's file, or
// from spill for a source that is spilled.
func (src source) read(spill *os.File, off int64, buf []byte) ([]byte, error) {
	f := src.file
	if f == nil {
		f = spill
	}
	if f == nil {
		return nil, fmt.Errorf("read event at %d: spill file closed", off)
	}
	if _, err := f.ReadAt(buf, off); err != nil {
		name := f.Name()
		if src.info != nil && src.file != nil {
			name = src.info.Name
		}
		return nil, fmt.Errorf("read %s at %d: %w", name, off, err)
	}
	return buf, nil
}

// IsStreamLabel reports whether any source of the snapshot has a stream
// label of this name (job, filename, cluster, or a Loki stream's).
func (s *Snapshot) IsStreamLabel(name string) bool {
	for _, src := range s.sources {
		if src.info == nil {
			continue
		}
		if _, ok := src.info.Labels.Get(name); ok {
			return true
		}
	}
	return name == "job" || name == "filename"
}

// addStreams adds the stream labels of the sources read so far to sl.
func (s *Snapshot) addStreams(sl *data.StreamLabels) {
	for _, src := range s.sources {
		if src.info != nil {
			sl.AddStream(src.info.Labels)
		}
	}
}

// SourceName names the source of event i as it is cited: where its bytes
// are now when a followed file was rotated since it was read (untrusted
// when remote: sanitise).
func (s *Snapshot) SourceName(i int) string {
	return s.sources[s.src.at(i)].info.CiteName()
}

// Stages returns the indexes of the events sharing event i's auditID, in
// index order (i included). Hash collisions are possible; callers that
// read the raw events can confirm by auditID.
func (s *Snapshot) Stages(i int) []int {
	h := s.auditID.at(i)
	if h == 0 {
		return []int{i}
	}
	var out []int
	for ci, ch := range s.auditID.chunks {
		base := ci << chunkBits
		lim := min(chunkSize, s.n-base)
		for j := 0; j < lim; j++ {
			if ch[j] == h {
				out = append(out, base+j)
			}
		}
	}
	return out
}

// Origin returns where event i was read from: its source, its 1-based
// line there (in the decompressed stream) and column when it does not
// start the line, its stream time for a Loki
// entry, and the offset of its bytes where the index reads them back (the
// source file, or the spill file for sources that are not seekable).
func (s *Snapshot) Origin(i int) data.Origin {
	return data.Origin{Source: s.sources[s.src.at(i)].info, Offset: s.off.at(i), Line: s.Line(i), Col: s.linecol.at(i), StreamTime: s.stime.at(i)}
}

// Line returns event i's 1-based line in its source (0 when unknown).
func (s *Snapshot) Line(i int) int64 {
	l := s.line.at(i)
	if l != lineWideMark {
		return int64(l)
	}
	s.ix.mu.RLock()
	defer s.ix.mu.RUnlock()
	return s.ix.lineWide[i]
}

// Cite returns how event i is cited (data.Origin.Cite: FILE:LINE,
// s3://bucket/key:LINE, or a Loki stream and nanosecond time). Untrusted:
// sanitise to draw.
func (s *Snapshot) Cite(i int) string { return s.Origin(i).Cite() }

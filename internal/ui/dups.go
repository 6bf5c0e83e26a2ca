package ui

import (
	"bytes"
	"hash/maphash"
	"time"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/termsafe"
)

// Exact duplicates. An at-least-once shipper sends lines again after a
// crash or a failed upload (Fluent Bit's s3 output uploads a chunk again
// as a new object), and forensic copies get concatenated twice or
// exported with `jq .`; Loki stores such exact duplicates once and the
// rules count them once. The index does too: an event whose line
// (data.DupLine: its bytes, compacted when they span lines, with their
// JSON escapes canonicalised, so that a `jq .` export is a copy) equals
// an earlier event's is not added (its panes, counts and Stats are those
// of the input without the copy); it is counted, and the first few are
// listed with the event they repeat (R).
//
// Candidates are found by auditID and time (by a hash of the line for the
// rare events without an auditID), kept as index rows in open-addressing
// tables (4 bytes a slot, at most half full); a candidate of the same
// stage has its bytes read back and compared, so two different lines are
// never taken for one. The line of an event is only made (DupLine) when
// it has such a candidate, or no auditID: nothing is kept per row but its
// slot. Copies have the same time, so while the input comes in time order
// (a file, merged files or objects, events a little out of order) only
// the rows of the last minute or two of event time are kept in the
// tables, which stay small and in the processor's caches. An event older
// than that (a file concatenated twice, a shuffled one) makes the index
// keep every row from then on: one table of all rows, built from the
// columns once, 8 MB for a million events.
type dupTable struct {
	// cur and prev hold the rows of the windows (of dupWindow of event
	// time) curWin and curWin-1; global, once set, all rows (cur only).
	cur, prev dupSlots
	curWin    int64
	global    bool
	untimed   dupSlots // the rows of events without a time, until global
	buf       []byte   // read-back buffer
}

// dupSlots is an open-addressing table of index rows.
type dupSlots struct {
	slots []uint32 // index row + 1; 0: empty
	used  int
}

// emptied returns t without rows, keeping its slots.
func (t dupSlots) emptied() dupSlots {
	clear(t.slots)
	return dupSlots{slots: t.slots}
}

// dupWindow is the span of event time a table of recent rows covers.
const dupWindow = int64(time.Minute)

// maxDupSamples bounds how many duplicates are listed (all are counted).
const maxDupSamples = 100

// dupKey combines what must be equal for two events to be one, that a
// row's columns hold: the auditID's hash and the time. An event without
// an auditID (id 0) is keyed by its line (lineKey).
func dupKey(id uint64, t int64) uint64 {
	k := id ^ uint64(t)*0x9e3779b97f4a7c15
	return k ^ k>>31
}

// lineKey is the key of an event without an auditID: its line's hash.
func lineKey(line []byte) uint64 { return maphash.Bytes(idSeed, line) }

// dupTableFor returns the table an event at time t belongs to, moving the
// windows forward or going global as needed.
func (ix *Index) dupTableFor(t int64) *dupSlots {
	d := &ix.dups
	if d.global {
		return &d.cur
	}
	if t == 0 {
		return &d.untimed
	}
	w := t / dupWindow
	switch {
	case d.cur.slots == nil:
		d.curWin = w
	case w == d.curWin:
	case w == d.curWin-1:
		return &d.prev
	case w == d.curWin+1:
		// The older table, emptied, takes the new window: sized for a
		// window of events already, it seldom grows.
		d.prev, d.cur, d.curWin = d.cur, d.prev.emptied(), w
	case w > d.curWin:
		d.prev, d.cur, d.curWin = d.prev.emptied(), d.cur.emptied(), w
	default:
		// Older than the windows: the input is not in time order, and a
		// copy may be anywhere before. Keep every row from now on.
		d.global = true
		d.prev, d.cur, d.untimed = dupSlots{}, dupSlots{}, dupSlots{}
		for r := range ix.n {
			ix.placeDup(&d.cur, r)
		}
	}
	return &d.cur
}

// dupOf returns the row event e (auditID hash id) repeats, if any; else
// the table and slot where e's row goes once added (see keepDup). It
// holds ix.mu.
func (ix *Index) dupOf(e *data.Event, id uint64) (row int, tab *dupSlots, slot int, dup bool) {
	tab = ix.dupTableFor(e.Time)
	if 2*(tab.used+1) > len(tab.slots) {
		ix.growDups(tab)
	}
	var line []byte // e's (data.DupLine), made when first needed
	k := dupKey(id, e.Time)
	if id == 0 {
		line = data.DupLine(e)
		k = lineKey(line)
	}
	mask := len(tab.slots) - 1
	j := int(k) & mask
	for ; tab.slots[j] != 0; j = (j + 1) & mask {
		r := int(tab.slots[j] - 1)
		if ix.auditID.at(r) != id || ix.times.at(r) != e.Time || ix.stageOf(r) != e.Stage {
			continue
		}
		if line == nil {
			line = data.DupLine(e)
		}
		other, err := ix.lineLocked(r)
		if err == nil && bytes.Equal(other, line) {
			return r, nil, 0, true
		}
	}
	return 0, tab, j, false
}

// keepDup records row n in the slot dupOf returned.
func (ix *Index) keepDup(tab *dupSlots, slot, n int) {
	tab.slots[slot] = uint32(n + 1)
	tab.used++
}

// stageOf is row r's stage.
func (ix *Index) stageOf(r int) string {
	return ix.dicts[ColStage].vals[ix.cols[ColStage].at(r)]
}

// lineLocked reads row r's line (data.DupLine) back: its bytes
// (rawLocked), compacted when they span lines, escapes canonicalised,
// or an AKS record's event. It holds ix.mu.
func (ix *Index) lineLocked(r int) ([]byte, error) {
	raw, err := ix.rawLocked(r)
	if err != nil {
		return nil, err
	}
	return data.RawDupLine(raw), nil
}

// growDups doubles a table (1024 slots at first), placing its rows again.
func (ix *Index) growDups(tab *dupSlots) {
	old := tab.slots
	tab.slots, tab.used = make([]uint32, max(1024, 2*len(old))), 0
	for _, s := range old {
		if s != 0 {
			ix.placeDup(tab, int(s-1))
		}
	}
}

// placeDup puts row r in tab (which has room), its key made again from
// its columns (or its bytes, read back, when it has no auditID).
func (ix *Index) placeDup(tab *dupSlots, r int) {
	if 2*(tab.used+1) > len(tab.slots) {
		ix.growDups(tab)
	}
	id := ix.auditID.at(r)
	var k uint64
	if id != 0 {
		k = dupKey(id, ix.times.at(r))
	} else if line, err := ix.lineLocked(r); err == nil {
		k = lineKey(line)
	}
	mask := len(tab.slots) - 1
	j := int(k) & mask
	for tab.slots[j] != 0 {
		j = (j + 1) & mask
	}
	tab.slots[j] = uint32(r + 1)
	tab.used++
}

// rawLocked reads row r's bytes back (as Snapshot.Raw) into the table's
// buffer, valid until the next call. It holds ix.mu.
func (ix *Index) rawLocked(r int) ([]byte, error) {
	d := &ix.dups
	n := int(ix.length.at(r))
	if cap(d.buf) < n {
		d.buf = make([]byte, n)
	}
	return ix.sources[ix.src.at(r)].read(ix.spill, ix.off.at(r), d.buf[:n])
}

// dupLoc is where a copy of row's event was read (also at, in the
// Detail): 24 bytes a duplicate; a Loki entry's stream time, rarely
// needed, is kept in Index.alsoStime.
type dupLoc struct {
	line int64
	row  uint32
	col  uint32
	src  uint16
}

// noteDup counts event e, a copy of row r, and keeps where it was read.
func (ix *Index) noteDup(e *data.Event, r int) {
	ix.duplicates++
	if sid, err := ix.sourceFor(e); err == nil {
		if e.Origin.StreamTime != 0 {
			if ix.alsoStime == nil {
				ix.alsoStime = map[int]int64{}
			}
			ix.alsoStime[len(ix.alsoAt)] = e.Origin.StreamTime
		}
		ix.alsoAt = append(ix.alsoAt, dupLoc{line: e.Origin.Line, row: uint32(r), col: uint32(min(e.Origin.Col, 1<<32-1)), src: sid})
	}
	if len(ix.dupSamples) >= maxDupSamples {
		return
	}
	l := int64(ix.line.at(r))
	if l == lineWideMark {
		l = ix.lineWide[r]
	}
	first := data.Origin{Source: ix.sources[ix.src.at(r)].info, Line: l, Offset: ix.off.at(r), Col: ix.linecol.at(r), StreamTime: ix.stime.at(r)}
	s := e.Origin.Cite() + " repeats " + first.Cite()
	if raw, err := ix.rawLocked(r); err == nil {
		s += sameHow(e, raw)
	}
	ix.dupSamples = append(ix.dupSamples, s)
}

// Duplicates returns the first duplicates found, each as "WHERE repeats
// WHERE" (sanitised), and how many there were.
func (ix *Index) Duplicates() ([]string, int64) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	out := make([]string, len(ix.dupSamples))
	for i, s := range ix.dupSamples {
		out[i] = termsafe.String(s)
	}
	return out, ix.duplicates
}

// maxAlsoAt bounds the places AlsoAt returns (all are counted).
const maxAlsoAt = 8

// AlsoAt returns where copies of row i's event were read (the same bytes,
// not added to the index: Duplicates), at most maxAlsoAt, in the order
// they were read, and how many there were. It scans every duplicate
// kept: call it from a tea.Cmd.
func (s *Snapshot) AlsoAt(i int) ([]data.Origin, int) {
	var out []data.Origin
	n := 0
	for k := range s.alsoAt {
		d := &s.alsoAt[k]
		if int(d.row) != i {
			continue
		}
		n++
		if len(out) < maxAlsoAt {
			o := data.Origin{Source: s.sources[d.src].info, Line: d.line, Col: int64(d.col)}
			if s.alsoStime != nil {
				s.ix.mu.RLock()
				o.StreamTime = s.ix.alsoStime[k]
				s.ix.mu.RUnlock()
			}
			out = append(out, o)
		}
	}
	return out, n
}

// sameHow says how copy e is the same as raw, the bytes of the event it
// repeats, when they are not the same bytes: the same event under two
// AKS categories, or the same once compacted (one spans lines: a `jq .`
// export) and once JSON escapes are read (\u0026 and & are one).
func sameHow(e *data.Event, raw []byte) string {
	if e.Carrier == data.CarrierAKS {
		if a, b := data.AKSCategory(raw), data.AKSCategory(e.Raw); a != b {
			return " (the same event under AKS categories " + a + " and " + b + ")"
		}
		return ""
	}
	if bytes.Equal(raw, e.Raw) {
		return ""
	}
	a, b := data.CompactLine(raw), data.CompactLine(e.Raw)
	switch spans, escapes := len(a) != len(raw) || len(b) != len(e.Raw), !bytes.Equal(a, b); {
	case spans && escapes:
		return " (once compacted and JSON escapes read: one of them spans lines)"
	case spans:
		return " (once compacted: one of them spans lines)"
	default:
		return " (once JSON escapes are read: one writes \\u0026 where the other writes &, say)"
	}
}

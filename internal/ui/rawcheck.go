package ui

// Reading an event back as evidence (Detail, y and Y, bookmarks, notes,
// :export): the bytes read at the event's offset must be the event's. A
// followed file cut in place (logrotate's copytruncate) and written again
// holds other events' bytes there: the file handle the index keeps still
// reads it. RawChecked checks what it reads against the index and, when
// it is not the event, reads where the source's bytes are now (the copy
// the tracker found: audit.log.1, or its .gz), or says they are gone.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/audittui/audittui/internal/data"
)

// errCut says an event's bytes are no longer where it was read.
var errCut = errors.New("cut in place")

// RawChecked is Raw for evidence: event i's own bytes, from its file, or
// from where they are now when the file was cut in place since; an error
// that names the file and line when neither holds them.
func (s *Snapshot) RawChecked(i int) ([]byte, error) {
	src := s.sources[s.src.at(i)]
	raw, err := s.Raw(i)
	if src.file == nil || (err == nil && s.holds(i, raw)) {
		return raw, err // spilled: the index's own copy
	}
	// The file held open reads something else there now. Where its bytes
	// are now, if the tracker found a copy of them.
	if b, ok := s.readAt(src.info.CiteName(), i); ok {
		return b, nil
	}
	o := s.Origin(i)
	return nil, fmt.Errorf("%s: the event's bytes are gone: %s was %w (logrotate copytruncate?) after it was read, its offset holds other bytes now, and no copy beside it (%s.1, -YYYYMMDD, .gz) was found holding them: %w",
		o.Cite(), src.info.Name, errCut, src.info.Name, errMismatch(err))
}

// errMismatch is why the read bytes were refused: the read's error, or
// that they are another event's.
func errMismatch(err error) error {
	if err != nil {
		return err
	}
	return errors.New("the bytes at its offset are not this event")
}

// readAt reads event i's bytes at its offset in the file at path (plain,
// or decompressed when gzip or zstd), if they are the event's.
func (s *Snapshot) readAt(path string, i int) ([]byte, bool) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	b := make([]byte, s.length.at(i))
	off := s.off.at(i)
	r, kind, done, err := data.Decompress(f)
	if err != nil {
		return nil, false
	}
	defer done()
	if kind == "" {
		if n, _ := f.ReadAt(b, off); n != len(b) {
			return nil, false
		}
	} else {
		if _, err := io.CopyN(io.Discard, r, off); err != nil {
			return nil, false
		}
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, false
		}
	}
	return b, s.holds(i, b)
}

// holds reports whether raw is event i's record: decoded as its source
// decoded it, it holds an event with i's auditID, stage, time, user and
// verb.
func (s *Snapshot) holds(i int, raw []byte) bool {
	var dec data.Decoder
	evs, _ := dec.Decode(nil, bytes.TrimRight(raw, "\r\n"), s.Origin(i))
	return s.holdsIn(i, evs)
}

// holdsIn reports whether evs (decoded from the bytes read at event i's
// offset, as its source decoded them) hold event i: holds without
// decoding again.
func (s *Snapshot) holdsIn(i int, evs []data.Event) bool {
	for k := range evs {
		e := &evs[k]
		if hashID(e.AuditID) == s.AuditIDHash(i) && e.Time == s.Time(i) && e.Stage == s.Str(ColStage, i) &&
			e.User == s.Str(ColUser, i) && e.Verb == s.Str(ColVerb, i) {
			return true
		}
	}
	return false
}

// cutReader reads events back for a filter (Filter.EvalRange) where
// RawChecked reads them for Detail, but cheaply: only the rows of a source
// that was rotated or cut since it was read (its file moved, or a later
// source has its name: the followed path written again) are checked, on
// the events the filter decodes anyway; a row whose bytes its file no
// longer holds is read from the copy the tracker found (audit.log.1,
// .gz), one open per source and a forward read for a compressed copy.
// Rows whose bytes are in neither are counted (gone), never matched.
type cutReader struct {
	s       *Snapshot
	suspect []int8 // per source: 0 not judged yet, 1 read in place, 2 check
	copies  map[uint16]*cutCopy
	gone    int
	onGone  func(i int) // when set, told each row counted gone (:export names them)
	dec     data.Decoder
}

// cutCopy is an open copy of a cut source's bytes.
type cutCopy struct {
	name string
	f    *os.File
	r    io.Reader // decompressing, at pos; nil for a plain copy
	pos  int64
	done func()
}

func newCutReader(s *Snapshot) *cutReader { return &cutReader{s: s} }

// close closes the copies opened.
func (c *cutReader) close() {
	for _, cp := range c.copies {
		cp.shut()
	}
}

func (cp *cutCopy) shut() {
	if cp.done != nil {
		cp.done()
		cp.done = nil
	}
	if cp.f != nil {
		cp.f.Close()
		cp.f = nil
	}
}

// check reports whether source sid's rows need checking: its file is
// held open, and it moved since (Moved) or the path was read again from
// its start (a later source of the same name).
func (c *cutReader) check(sid uint16) bool {
	if int(sid) >= len(c.suspect) {
		c.suspect = append(c.suspect, make([]int8, int(sid)+1-len(c.suspect))...)
	}
	if v := c.suspect[sid]; v != 0 {
		return v == 2
	}
	src := c.s.sources[sid]
	v := int8(1)
	if src.file != nil && src.info != nil && src.info.Moved != nil {
		if now, gone := src.info.Moved.Now(); now != "" || gone {
			v = 2
		}
		for _, later := range c.s.sources[sid+1:] {
			if later.info != nil && later.info.Name == src.info.Name {
				v = 2
			}
		}
	}
	c.suspect[sid] = v
	return v == 2
}

// read decodes event i's bytes into evs: from its file, or from where
// they are now. ok false: they are gone (counted).
func (c *cutReader) read(i int, evs []data.Event) ([]data.Event, bool, error) {
	s := c.s
	sid := s.src.at(i)
	line, err := s.Raw(i)
	if !c.check(sid) {
		if err != nil {
			return evs, false, err
		}
		evs, _ = c.dec.Decode(evs[:0], line, s.Origin(i))
		return evs, true, nil
	}
	if err == nil {
		evs, _ = c.dec.Decode(evs[:0], line, s.Origin(i))
		if s.holdsIn(i, evs) {
			return evs, true, nil
		}
	}
	if b := c.fromCopy(sid, i); b != nil {
		evs, _ = c.dec.Decode(evs[:0], b, s.Origin(i))
		if s.holdsIn(i, evs) {
			return evs, true, nil
		}
	}
	c.gone++
	if c.onGone != nil {
		c.onGone(i)
	}
	return evs[:0], false, nil
}

// fromCopy reads event i's bytes at its offset in the copy source sid's
// bytes are in now (nil: none, or too short).
func (c *cutReader) fromCopy(sid uint16, i int) []byte {
	src := c.s.sources[sid]
	name := src.info.CiteName()
	if c.copies == nil {
		c.copies = map[uint16]*cutCopy{}
	}
	cp := c.copies[sid]
	off, n := c.s.off.at(i), int64(c.s.length.at(i))
	if cp != nil && (cp.name != name || (cp.r != nil && off < cp.pos)) {
		cp.shut() // moved again, or a compressed copy read backwards
		cp = nil
	}
	if cp == nil {
		cp = &cutCopy{name: name}
		c.copies[sid] = cp
		f, err := os.Open(name)
		if err != nil {
			return nil
		}
		cp.f = f
		r, kind, done, err := data.Decompress(f)
		if err != nil {
			return nil
		}
		cp.done = done
		if kind != "" {
			cp.r = r
		}
	}
	if cp.f == nil {
		return nil
	}
	b := make([]byte, n)
	if cp.r == nil {
		if k, _ := cp.f.ReadAt(b, off); int64(k) != n {
			return nil
		}
		return b
	}
	if k, _ := io.CopyN(io.Discard, cp.r, off-cp.pos); k != off-cp.pos {
		cp.pos += k
		return nil
	}
	k, _ := io.ReadFull(cp.r, b)
	cp.pos = off + int64(k)
	if int64(k) != n {
		return nil
	}
	return b
}

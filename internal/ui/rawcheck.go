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
	return nil, fmt.Errorf("%s: the event's bytes are gone: %s was %w (logrotate copytruncate?) after it was read, its offset holds other bytes now, and no copy beside it (%s.1, .gz) was found holding them: %w",
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
	for k := range evs {
		e := &evs[k]
		if hashID(e.AuditID) == s.AuditIDHash(i) && e.Time == s.Time(i) && e.Stage == s.Str(ColStage, i) &&
			e.User == s.Str(ColUser, i) && e.Verb == s.Str(ColVerb, i) {
			return true
		}
	}
	return false
}

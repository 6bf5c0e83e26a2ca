package ui

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/audittui/audittui/internal/data"
)

// Citations: every event the Detail shows says where it came from, as a
// reviewer cites it: FILE:LINE (the true 1-based line in that file; for a
// .gz the line of the decompressed stream; s3://bucket/key:LINE for an S3
// object), or for a Loki entry its stream labels and nanosecond time
// (data.Origin.Cite), and the sha256 of the event's raw bytes as read,
// without the line ending, and their length. `sha256sum` of that one line
// gives the same. A record that does not start its line (the objects of a
// Firehose object, back to back on one line; the elements of an array or
// an EventList) is cited FILE:LINE:COL, COL the 1-based byte column where
// its bytes start: `sed -n LINEp | cut -b COL-$((COL+LEN-1))` cuts them
// out (LEN the length the Detail shows).

// An event read from a followed file that the apiserver (or logrotate)
// rotated since is cited where its bytes are now (data.SourceInfo.Moved:
// audit-2026-11-20T02-05-00.000.log.gz:1, the same line decompressed), and
// Detail says where it was read (movedNote); when no file beside the path
// holds them any more, it says so.

// movedNote says what Detail shows under the citation of an event whose
// file was rotated since it was read ("" when it was not).
func movedNote(o data.Origin) string {
	if o.Source == nil || o.StreamTime != 0 {
		return ""
	}
	now, gone := o.Source.Moved.Now()
	switch {
	case gone && now != "":
		return "read as " + o.ReadWhere() + ", rotated to the file above, which is gone since (deleted or cut): no file beside it holds these bytes now"
	case gone:
		return "read as " + o.ReadWhere() + "; the file was rotated, cut or deleted since, and no file beside it holds these bytes now: the file at that path holds others"
	case now != "" && now != o.Source.Name:
		return "read as " + o.ReadWhere() + ", rotated since: the file above holds these bytes now"
	}
	return ""
}

// citedText is the citation of an event with what movedNote says of it
// (to tell when it changed).
func citedText(o data.Origin) string { return o.Cite() + "\x00" + movedNote(o) }

// RawSHA256 is the hex sha256 of an event's raw bytes.
func RawSHA256(raw []byte) string {
	h := sha256.Sum256(raw)
	return hex.EncodeToString(h[:])
}

// shownRow is the index row of the stage the Detail shows (before it is
// loaded: the row opened).
func (d *Detail) shownRow() (int, bool) {
	if d.c.Snap == nil || d.row >= d.c.Snap.Len() {
		return 0, false
	}
	if d.loaded && d.err == nil && len(d.stages) > 0 {
		return d.stages[d.cur].row, true
	}
	return d.row, true
}

package ui

import (
	"crypto/sha256"
	"encoding/hex"
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

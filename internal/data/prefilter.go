package data

import (
	"bytes"
	"encoding/binary"
	"unicode/utf8"
)

// Prefilter lets a source skip decoding a line that cannot match a query:
// the line is decoded only if it contains every literal in All. Literals
// must be byte strings that the encoder never escapes (see logql's
// RequiredLiterals), so that a skipped line truly cannot match.
//
// Skipping must not hide bad input (rejects never depend on the query):
// a line without the literals is skipped only when plausibleEvent says it
// is a whole audit event as the API server writes it; any other line is
// decoded, and rejected with the same reason as without a query. That
// also keeps records that wrap an event (a Fluent Bit record carrying it
// as an escaped string, {"log":"{\"verb\":\"get\",...}"}, a cloud
// export) from being skipped for a literal they hold only escaped: they
// are not plain events, so they are always decoded.
type Prefilter struct {
	All [][]byte
}

// Match reports whether line may match.
func (p *Prefilter) Match(line []byte) bool {
	if p == nil {
		return true
	}
	for _, lit := range p.All {
		if !bytes.Contains(line, lit) {
			return false
		}
	}
	return true
}

// Skip reports whether a reader may skip line without decoding it: it
// lacks a literal and is a plain, whole audit event (plausibleEvent), so
// decoding it could neither select it nor reject it.
func (p *Prefilter) Skip(line []byte) bool {
	return p != nil && !p.Match(line) && plausibleEvent(line)
}

var (
	eventPrefix  = []byte(`{"kind":"Event",`)
	eventEnd     = []byte(`Event"`)       // ends "kind":"Event"
	timestampKey = []byte(`Timestamp":"`) // stageTimestamp, requestReceivedTimestamp
	legacyTSKey  = []byte(`"timestamp":"`)
	swarCtrlHigh = uint64(0x8080808080808080)
)

// plausibleEvent is the cheap structural check on a line the prefilter
// would skip: true when the line is one audit event object as the API
// server's log backend writes it, so that decoding it could only yield an
// event the query does not select. It checks, in a few passes at memory
// speed:
//   - it starts with {"kind":"Event", and ends with } (a line cut short,
//     or a wrapper record, fails);
//   - no second "kind":"Event" (two lines joined after a partial write;
//     any other `Event"` after the first also sends the line to the
//     decoder, which only costs time);
//   - it carries a timestamp key (an event without one is decoded, so the
//     undated events a time window leaves out are always counted);
//   - it holds no control character and is valid UTF-8 (binary garbage,
//     NUL runs, a raw newline or tab inside a string).
//
// A line damaged in the middle in a way that keeps all of these (an
// unbalanced brace inside, a wrong type) is only caught when it is decoded,
// that is when it contains the query's literals.
func plausibleEvent(l []byte) bool {
	if !bytes.HasPrefix(l, eventPrefix) {
		return false
	}
	end := len(l)
	for end > 0 && (l[end-1] == ' ' || l[end-1] == '\t') {
		end--
	}
	if end == 0 || l[end-1] != '}' {
		return false
	}
	// (Each pattern starts with a byte that is rare in audit JSON, which
	// keeps bytes.Index on its fast path.)
	if bytes.Index(l[len(eventPrefix):], eventEnd) >= 0 {
		return false
	}
	if bytes.Index(l, timestampKey) < 0 && bytes.Index(l, legacyTSKey) < 0 {
		return false
	}
	return cleanText(l)
}

// cleanText reports whether b has no control character (below 0x20) and is
// valid UTF-8: 64 bytes at a time while they are printable ASCII (an array
// view of each block spares the bounds checks).
func cleanText(b []byte) bool {
	const k = 0x2020202020202020
	i := 0
	for ; i+64 <= len(b); i += 64 {
		a := (*[64]byte)(b[i : i+64])
		x0 := binary.LittleEndian.Uint64(a[0:])
		x1 := binary.LittleEndian.Uint64(a[8:])
		x2 := binary.LittleEndian.Uint64(a[16:])
		x3 := binary.LittleEndian.Uint64(a[24:])
		x4 := binary.LittleEndian.Uint64(a[32:])
		x5 := binary.LittleEndian.Uint64(a[40:])
		x6 := binary.LittleEndian.Uint64(a[48:])
		x7 := binary.LittleEndian.Uint64(a[56:])
		// A byte below 0x20 (the subtraction borrows) or at/above 0x80
		// sets its top bit.
		if ((x0-k)|x0|(x1-k)|x1|(x2-k)|x2|(x3-k)|x3|(x4-k)|x4|(x5-k)|x5|(x6-k)|x6|(x7-k)|x7)&swarCtrlHigh != 0 {
			break
		}
	}
	for ; i < len(b); i++ {
		c := b[i]
		if c < 0x20 {
			return false
		}
		if c >= utf8.RuneSelf {
			return utf8.Valid(b[i:]) && noControl(b[i:])
		}
	}
	return true
}

func noControl(b []byte) bool {
	for _, c := range b {
		if c < 0x20 {
			return false
		}
	}
	return true
}

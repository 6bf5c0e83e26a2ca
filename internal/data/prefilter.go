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
// decoded, and rejected with the same reason as without a query.
type Prefilter struct {
	All [][]byte
}

// Match reports whether line may match.
func (p *Prefilter) Match(line []byte) bool {
	if p == nil {
		return true
	}
	for _, lit := range p.All {
		if bytes.Index(line, lit) < 0 {
			return false
		}
	}
	return true
}

var (
	eventPrefix  = []byte(`{"kind":"Event",`)
	kindEvent    = []byte(`kind":"Event"`)
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
//   - no second "kind":"Event" (two lines joined after a partial write);
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
	if bytes.Index(l[len(eventPrefix):], kindEvent) >= 0 {
		return false
	}
	if bytes.Index(l, timestampKey) < 0 && bytes.Index(l, legacyTSKey) < 0 {
		return false
	}
	return cleanText(l)
}

// cleanText reports whether b has no control character (below 0x20) and is
// valid UTF-8: eight bytes at a time while they are printable ASCII.
func cleanText(b []byte) bool {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		// A byte below 0x20 or at/above 0x80 stops the fast loop.
		if ((x-0x2020202020202020)|x)&swarCtrlHigh != 0 {
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

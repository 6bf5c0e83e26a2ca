package data

import "bytes"

// Prefilter lets a source skip decoding a line that cannot match a query:
// the line is decoded only if it contains every literal in All. Literals
// must be byte strings that the encoder never escapes (see logql's
// RequiredLiterals), so that a skipped line truly cannot match.
//
// A literal that is a JSON string ("secrets") also counts as present in
// its escaped form (\"secrets\"): a record that carries the event as an
// escaped string ({"log":"{\"verb\":\"get\",...}"}, as Fluent Bit writes)
// is decoded into that event, whose fields then hold the value.
type Prefilter struct {
	All [][]byte
}

// Match reports whether line may match.
func (p *Prefilter) Match(line []byte) bool {
	if p == nil {
		return true
	}
	for _, lit := range p.All {
		if !containsLiteral(line, lit) {
			return false
		}
	}
	return true
}

// containsLiteral reports whether line contains lit; a JSON string token
// ("get") also counts in the form it takes inside another JSON string
// (\"get\"). That second search only runs on lines without lit (those a
// selective prefilter skips), and starts from a backslash, which is rare
// in audit lines, so it costs a fraction of the first.
func containsLiteral(line, lit []byte) bool {
	if bytes.Index(line, lit) >= 0 {
		return true
	}
	if len(lit) < 2 || lit[0] != '"' || lit[len(lit)-1] != '"' {
		return false
	}
	var buf [128]byte
	esc := buf[:0]
	if len(lit)+2 > len(buf) {
		esc = make([]byte, 0, len(lit)+2)
	}
	esc = append(esc, '\\')
	esc = append(esc, lit[:len(lit)-1]...)
	esc = append(esc, '\\', '"')
	return bytes.Index(line, esc) >= 0
}

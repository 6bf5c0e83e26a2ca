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
		if bytes.Index(line, lit) >= 0 {
			continue
		}
		if !containsEscapedString(line, lit) {
			return false
		}
	}
	return true
}

// containsEscapedString reports whether lit, a JSON string token such as
// "get", occurs in line in the form it takes inside another JSON string
// (\"get\"). It only scans lines that lack lit itself (most of those a
// selective prefilter skips), and only when lit is a quoted token.
func containsEscapedString(line, lit []byte) bool {
	if len(lit) < 2 || lit[0] != '"' || lit[len(lit)-1] != '"' {
		return false
	}
	inner := lit[1 : len(lit)-1]
	for {
		i := bytes.Index(line, inner)
		if i < 0 {
			return false
		}
		end := i + len(inner)
		if i >= 2 && line[i-2] == '\\' && line[i-1] == '"' && end+1 < len(line) && line[end] == '\\' && line[end+1] == '"' {
			return true
		}
		line = line[i+1:]
	}
}

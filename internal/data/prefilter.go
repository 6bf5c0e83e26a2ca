package data

import "bytes"

// Prefilter lets a source skip decoding a line that cannot match a query:
// the line is decoded only if it contains every literal in All. Literals
// must be byte strings that the encoder never escapes (see logql's
// RequiredLiterals), so that a skipped line truly cannot match.
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

package logql

import (
	"bytes"
	"encoding/binary"
	"regexp/syntax"
	"slices"
	"unicode/utf8"
)

// A line filter's regular expression runs over the whole line (an audit
// event is a kilobyte or more; a ConfigMap write with its body, several).
// Most expressions cannot match unless the line contains one of a few
// literals: `(AKIA|ASIA)[0-9A-Z]{16}|-----BEGIN ` needs "AKIA", "ASIA" or
// "-----BEGIN ". regexPrefilter finds such a set from the expression's
// syntax tree; a line containing none of them is answered "no match"
// without running the expression (a few SIMD substring searches instead
// of an NFA over every byte). The condition is necessary, never
// sufficient: when any literal is there, the expression decides.

// regexPrefilter is a set of literals one of which every match contains.
type regexPrefilter struct {
	lits [][]byte
	// fold: the literals (lower case, ASCII) match case-insensitively.
	fold bool
	// pairs, when there are many literals or they fold, finds them all
	// in one pass over the line (see pairScan).
	pairs *pairScan
}

// manyLiterals is the size of a literal set from which one pass over the
// line (pairScan) beats a SIMD substring search for each literal.
const manyLiterals = 6

const (
	maxPrefilterLits = 64 // a larger set is not worth checking
	minPrefilterLen  = 2  // a set with a shorter literal gates nothing
)

// newRegexPrefilter returns the prefilter of expr (nil when no useful
// one is known).
func newRegexPrefilter(expr string) *regexPrefilter {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	in := litInfo(re.Simplify())
	set := in.best()
	if set == nil || set.minLen() < minPrefilterLen {
		return nil
	}
	p := &regexPrefilter{fold: set.fold}
	for _, s := range set.strs {
		b := []byte(s)
		if p.fold {
			b = bytes.ToLower(b)
		}
		p.lits = append(p.lits, b)
	}
	if p.fold || len(p.lits) >= manyLiterals {
		p.pairs = newPairScan(p.lits, p.fold)
	}
	return p
}

// mayMatch reports whether line contains one of the literals (true: the
// expression must decide).
func (p *regexPrefilter) mayMatch(line []byte) bool {
	if p.pairs != nil {
		return p.pairs.contains(line)
	}
	for _, l := range p.lits {
		if bytes.Contains(line, l) {
			return true
		}
	}
	return false
}

// pairScan finds any of a set of literals (each of two bytes or more) in
// one pass over a line: a bitmap of the literals' first two bytes says
// at which positions one may start, and only those literals are compared
// there. A case-insensitive set (fold) compares ASCII letters without
// case, and says "maybe" on a line with a byte outside ASCII: Unicode
// folding maps a few non-ASCII runes onto ASCII letters (K, the Kelvin
// sign, folds to k; ſ to s), where the expression must decide. A ConfigMap
// write of a kilobyte and a half, against the 34 literals of the
// built-in secret patterns, costs about a tenth of lowering the line and
// searching it 34 times.
type pairScan struct {
	fold   bool
	starts [1 << 16 / 64]uint64 // bit (a<<8 | b): a literal starts with a, b
	lits   [][]byte
	// byPair lists, for a first pair, the literals starting with it
	// (indexes into lits), sorted by pair.
	byPair []pairLits
}

type pairLits struct {
	pair uint16
	idx  []int
}

// lower maps ASCII upper-case letters to lower case, other bytes to
// themselves.
var lower = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
		if 'A' <= i && i <= 'Z' {
			t[i] = byte(i + 'a' - 'A')
		}
	}
	return t
}()

func newPairScan(lits [][]byte, fold bool) *pairScan {
	ps := &pairScan{fold: fold, lits: lits}
	idx := map[uint16][]int{}
	for i, l := range lits {
		pair := uint16(l[0])<<8 | uint16(l[1])
		ps.starts[pair/64] |= 1 << (pair % 64)
		idx[pair] = append(idx[pair], i)
	}
	for pair, is := range idx {
		ps.byPair = append(ps.byPair, pairLits{pair, is})
	}
	slices.SortFunc(ps.byPair, func(a, b pairLits) int { return int(a.pair) - int(b.pair) })
	return ps
}

func (ps *pairScan) contains(line []byte) bool {
	if len(line) < 2 {
		return false
	}
	if ps.fold && !isASCII(line) {
		return true
	}
	tab := &lower
	if !ps.fold {
		tab = &identity
	}
	a := tab[line[0]]
	for i := 1; i < len(line); i++ {
		b := tab[line[i]]
		pair := uint16(a)<<8 | uint16(b)
		a = b
		if ps.starts[pair/64]&(1<<(pair%64)) == 0 {
			continue
		}
		k, _ := slices.BinarySearchFunc(ps.byPair, pair, func(p pairLits, x uint16) int { return int(p.pair) - int(x) })
		for _, li := range ps.byPair[k].idx {
			if hasAt(line, i-1, ps.lits[li], tab) {
				return true
			}
		}
	}
	return false
}

var identity = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
	}
	return t
}()

// hasAt reports whether line holds lit at i, its bytes mapped by tab.
func hasAt(line []byte, i int, lit []byte, tab *[256]byte) bool {
	if len(line)-i < len(lit) {
		return false
	}
	for k, c := range lit {
		if tab[line[i+k]] != c {
			return false
		}
	}
	return true
}

// isASCII reports whether every byte of b is below 0x80, eight at a time.
func isASCII(b []byte) bool {
	for len(b) >= 8 {
		if binary.LittleEndian.Uint64(b)&0x8080808080808080 != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// strSet is a set of strings (fold: matched case-insensitively).
type strSet struct {
	strs []string
	fold bool
}

func (s *strSet) minLen() int {
	if s == nil || len(s.strs) == 0 {
		return 0
	}
	m := len(s.strs[0])
	for _, x := range s.strs[1:] {
		m = min(m, len(x))
	}
	return m
}

// better reports whether a gates more than b: a longer shortest literal,
// then fewer literals.
func better(a, b *strSet) bool {
	if b == nil {
		return a != nil
	}
	if a == nil {
		return false
	}
	if a.minLen() != b.minLen() {
		return a.minLen() > b.minLen()
	}
	return len(a.strs) < len(b.strs)
}

// info is what litInfo knows of an expression: exact, the set of every
// string it matches (nil when unknown or too large); req, a set one of
// which every match contains (nil when none is known).
type info struct {
	exact *strSet
	req   *strSet
}

// best is the set to require of a line: exact when every string in it
// is non-empty, else req, whichever gates more.
func (in info) best() *strSet {
	var e *strSet
	if in.exact != nil && in.exact.minLen() > 0 {
		e = in.exact
	}
	if better(e, in.req) {
		return e
	}
	return in.req
}

func litInfo(re *syntax.Regexp) info {
	switch re.Op {
	case syntax.OpLiteral:
		fold := re.Flags&syntax.FoldCase != 0
		for _, r := range re.Rune {
			if fold && r >= utf8.RuneSelf {
				return info{} // non-ASCII folding: not handled
			}
		}
		return info{exact: &strSet{strs: []string{string(re.Rune)}, fold: fold}}
	case syntax.OpCharClass:
		// A small class is a few one-rune strings ([pousr]).
		var strs []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				if len(strs) == 8 {
					return info{}
				}
				strs = append(strs, string(r))
			}
		}
		if len(strs) == 0 {
			return info{}
		}
		return info{exact: &strSet{strs: strs}}
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return info{exact: &strSet{strs: []string{""}}}
	case syntax.OpCapture:
		return litInfo(re.Sub[0])
	case syntax.OpPlus:
		return info{req: litInfo(re.Sub[0]).best()}
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return info{req: litInfo(re.Sub[0]).best()}
		}
		return info{}
	case syntax.OpQuest:
		sub := litInfo(re.Sub[0])
		if sub.exact != nil {
			return info{exact: union(&strSet{strs: []string{""}}, sub.exact)}
		}
		return info{}
	case syntax.OpConcat:
		return concatInfo(re.Sub)
	case syntax.OpAlternate:
		ex, req := &strSet{}, &strSet{}
		exOK, reqOK := true, true
		for _, sub := range re.Sub {
			in := litInfo(sub)
			if exOK {
				if ex = union(ex, in.exact); ex == nil {
					exOK = false
				}
			}
			if reqOK {
				b := in.best()
				if b == nil || b.minLen() == 0 {
					reqOK = false
				} else if req = union(req, b); req == nil {
					reqOK = false
				}
			}
		}
		var out info
		if exOK {
			out.exact = ex
		}
		if reqOK {
			out.req = req
		}
		return out
	}
	return info{}
}

// concatInfo: the exact set is the product of the parts' exact sets (when
// all are known and it stays small); the required set is the best of the
// parts' required sets and of the products of runs of exact parts.
func concatInfo(subs []*syntax.Regexp) info {
	var best *strSet
	var run *strSet // product of the current run of exact parts
	all := true
	for _, sub := range subs {
		in := litInfo(sub)
		if b := in.best(); better(b, best) {
			best = b
		}
		if in.exact == nil {
			all = false
			if better(run, best) && run.minLen() > 0 {
				best = run
			}
			run = nil
			continue
		}
		if run == nil {
			run = in.exact
		} else if p := product(run, in.exact); p != nil {
			run = p
		} else {
			// Too large: keep what the run gave, start again here.
			if better(run, best) && run.minLen() > 0 {
				best = run
			}
			all = false
			run = in.exact
		}
	}
	if run != nil && better(run, best) && run.minLen() > 0 {
		best = run
	}
	out := info{req: best}
	if all {
		out.exact = run
	}
	return out
}

// union is a ∪ b (nil when too large).
func union(a, b *strSet) *strSet {
	if a == nil || b == nil {
		return nil
	}
	out := &strSet{fold: a.fold || b.fold}
	seen := map[string]bool{}
	for _, s := range append(append([]string(nil), a.strs...), b.strs...) {
		if !seen[s] {
			seen[s] = true
			out.strs = append(out.strs, s)
		}
	}
	if len(out.strs) > maxPrefilterLits {
		return nil
	}
	return out
}

// product is every string of a followed by every string of b (nil when
// too large). Mixing case-sensitive and case-insensitive parts gives a
// case-insensitive set: it matches more, which a necessary condition may.
func product(a, b *strSet) *strSet {
	if len(a.strs)*len(b.strs) > maxPrefilterLits {
		return nil
	}
	out := &strSet{fold: a.fold || b.fold}
	for _, x := range a.strs {
		for _, y := range b.strs {
			out.strs = append(out.strs, x+y)
		}
	}
	return out
}

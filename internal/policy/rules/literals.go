package rules

// literalSet finds, in one pass over a line, which of many byte strings it
// contains (an Aho-Corasick automaton over byte classes). The evaluator
// uses it to skip, per event, every rule one of whose required literals
// (logql's RequiredLiterals: `|=` filters and `"value"` of json equality
// filters) is absent, instead of running 50 pipelines over every line.
type literalSet struct {
	n     int        // number of literals
	words int        // uint64 words in a bitset
	class [256]uint8 // byte -> class
	shift uint       // log2 of the table's row width (>= number of classes)
	// delta maps state<<shift | class to the next state. States are
	// numbered so that those where a literal ends come last (>= outFrom):
	// the scan loop tests one comparison per byte.
	delta   []uint16
	outFrom uint16
	// fast is delta laid out with rows of 64 in a fixed-size array, used
	// when the automaton fits (at most 1024 states and 64 byte classes):
	// a uint16 index needs no bounds check.
	fast *[1 << 16]uint16
	out  [][]uint64 // state-outFrom -> literals ending there
	// disabled when the automaton would not fit uint16 states: every
	// literal then counts as present (no rule is skipped).
	disabled bool
	lits     [][]byte
	maxLen   int // longest literal
	index    map[string]int
}

// add registers a literal and returns its index (the same index for a
// repeated literal). All literals must be added before build.
func (s *literalSet) add(lit []byte) int {
	if s.index == nil {
		s.index = map[string]int{}
	}
	if i, ok := s.index[string(lit)]; ok {
		return i
	}
	i := len(s.lits)
	s.lits = append(s.lits, append([]byte(nil), lit...))
	s.index[string(lit)] = i
	return i
}

// build compiles the automaton.
func (s *literalSet) build() {
	s.n = len(s.lits)
	for _, l := range s.lits {
		s.maxLen = max(s.maxLen, len(l))
	}
	s.words = (s.n + 63) / 64
	// Byte classes: one per distinct byte used by a literal, class 0 for
	// every other byte.
	nc := 1
	for _, l := range s.lits {
		for _, b := range l {
			if s.class[b] == 0 {
				if nc == 256 {
					// 255 distinct bytes at most; beyond that, no gate.
					s.disabled = true
					return
				}
				s.class[b] = uint8(nc)
				nc++
			}
		}
	}
	// Trie.
	type node struct {
		next map[uint8]int32
		out  []int
	}
	nodes := []node{{next: map[uint8]int32{}}}
	for i, l := range s.lits {
		cur := int32(0)
		for _, b := range l {
			c := s.class[b]
			nx, ok := nodes[cur].next[c]
			if !ok {
				nx = int32(len(nodes))
				nodes = append(nodes, node{next: map[uint8]int32{}})
				nodes[cur].next[c] = nx
			}
			cur = nx
		}
		nodes[cur].out = append(nodes[cur].out, i)
	}
	// Breadth-first: failure links folded into a full transition table.
	ns := len(nodes)
	if ns >= 1<<16 {
		s.disabled = true
		return
	}
	full := make([][]int32, ns)
	outs := make([][]uint64, ns)
	fail := make([]int32, ns)
	mkOut := func(lits []int, inherit []uint64) []uint64 {
		if len(lits) == 0 && inherit == nil {
			return nil
		}
		bs := make([]uint64, s.words)
		copy(bs, inherit)
		for _, i := range lits {
			bs[i/64] |= 1 << (i % 64)
		}
		return bs
	}
	for i := range full {
		full[i] = make([]int32, nc)
	}
	outs[0] = mkOut(nodes[0].out, nil)
	var queue []int32
	for c := 0; c < nc; c++ {
		if nx, ok := nodes[0].next[uint8(c)]; ok {
			full[0][c] = nx
			queue = append(queue, nx)
		}
	}
	for len(queue) > 0 {
		st := queue[0]
		queue = queue[1:]
		outs[st] = mkOut(nodes[st].out, outs[fail[st]])
		for c := 0; c < nc; c++ {
			if nx, ok := nodes[st].next[uint8(c)]; ok {
				full[st][c] = nx
				fail[nx] = full[fail[st]][c]
				queue = append(queue, nx)
			} else {
				full[st][c] = full[fail[st]][c]
			}
		}
	}
	// Renumber: states without output first (state 0 keeps 0: the empty
	// literal is never added), then those with output.
	newID := make([]uint16, ns)
	next := uint16(0)
	for st := 0; st < ns; st++ {
		if outs[st] == nil {
			newID[st] = next
			next++
		}
	}
	s.outFrom = next
	for st := 0; st < ns; st++ {
		if outs[st] != nil {
			newID[st] = next
			s.out = append(s.out, outs[st])
			next++
		}
	}
	for s.shift = 0; 1<<s.shift < nc; s.shift++ {
	}
	if nc <= 64 && ns <= 1024 {
		s.shift = 6
		s.fast = new([1 << 16]uint16)
	}
	s.delta = make([]uint16, ns<<s.shift)
	for st := 0; st < ns; st++ {
		row := int(newID[st]) << s.shift
		for c := 0; c < nc; c++ {
			s.delta[row+c] = newID[full[st][c]]
		}
	}
	if s.fast != nil {
		copy(s.fast[:], s.delta)
	}
}

// scan sets in present (len words) the literals that occur in line.
func (s *literalSet) scan(line []byte, present []uint64) {
	if s.disabled {
		for i := range present {
			present[i] = ^uint64(0)
		}
		return
	}
	clear(present)
	if s.n == 0 {
		return
	}
	if s.fast != nil {
		s.scanFast(line, present)
		return
	}
	st := uint16(0)
	delta, class, shift, outFrom := s.delta, &s.class, s.shift, s.outFrom
	for _, b := range line {
		st = delta[int(st)<<shift|int(class[b])]
		if st >= outFrom {
			for i, w := range s.out[st-outFrom] {
				present[i] |= w
			}
		}
	}
}

// scanFast runs the automaton over four parts of the line at once (each
// part but the last extended by the longest literal less one byte, so no
// match across a cut is lost): independent chains of table look-ups keep
// the CPU busy where one chain waits on each load.
func (s *literalSet) scanFast(line []byte, present []uint64) {
	tbl, class, outFrom := s.fast, &s.class, s.outFrom
	q := len(line) / 4
	if q <= 2*s.maxLen {
		st := uint16(0)
		for _, c := range line {
			st = tbl[st<<6|uint16(class[c])]
			if st >= outFrom {
				s.mark(st, present)
			}
		}
		return
	}
	ext := s.maxLen - 1
	var parts [4][]byte
	for k := range parts {
		end := min(len(line), (k+1)*q+ext)
		if k == 3 {
			end = len(line)
		}
		parts[k] = line[k*q : end]
	}
	p0, p1, p2, p3 := parts[0], parts[1], parts[2], parts[3]
	var s0, s1, s2, s3 uint16
	n := q // every part is at least q long
	_, _, _, _ = p0[n-1], p1[n-1], p2[n-1], p3[n-1]
	for i := 0; i < n; i++ {
		s0 = tbl[s0<<6|uint16(class[p0[i]])]
		s1 = tbl[s1<<6|uint16(class[p1[i]])]
		s2 = tbl[s2<<6|uint16(class[p2[i]])]
		s3 = tbl[s3<<6|uint16(class[p3[i]])]
		if max(s0, s1, s2, s3) >= outFrom {
			for _, st := range [4]uint16{s0, s1, s2, s3} {
				if st >= outFrom {
					s.mark(st, present)
				}
			}
		}
	}
	for k, st := range [4]uint16{s0, s1, s2, s3} {
		for _, c := range parts[k][n:] {
			st = tbl[st<<6|uint16(class[c])]
			if st >= outFrom {
				s.mark(st, present)
			}
		}
	}
}

func (s *literalSet) mark(st uint16, present []uint64) {
	for i, w := range s.out[st-s.outFrom] {
		present[i] |= w
	}
}

// has reports whether literal i is set in present.
func has(present []uint64, i int) bool { return present[i/64]&(1<<(i%64)) != 0 }

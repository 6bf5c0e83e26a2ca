package logql

import "bytes"

// finder looks for one literal in lines: it scans for the literal's
// rarest byte (by byteFreq) with bytes.IndexByte, which runs at memory
// speed, and compares the literal where that byte is found. bytes.Index
// scans for the first byte, which in audit JSON is often a common one
// (the 'i' of "impersonatedUser" occurs dozens of times a line).
type finder struct {
	lit  []byte
	rare byte
	off  int // rare's offset in lit
}

func newFinder(lit []byte) finder {
	f := finder{lit: lit}
	for i, b := range lit {
		if byteFreq[b] < byteFreq[f.rare] || i == 0 {
			f.rare, f.off = b, i
		}
	}
	return f
}

// maxFalseHits is how many places with the rare byte but not the literal
// a scan tolerates before it hands the rest of the line to bytes.Index
// (a byte rare in audit logs may be common in a given line).
const maxFalseHits = 8

// in reports whether line contains the literal.
func (f *finder) in(line []byte) bool {
	n := len(f.lit)
	if n <= 1 || len(line) < n {
		return n == 0 || (n == 1 && bytes.IndexByte(line, f.lit[0]) >= 0)
	}
	// The rare byte sits at off in every match: look for it from off to
	// the last place a match could hold it.
	last := len(line) - n + f.off
	i, misses := f.off, 0
	for i <= last {
		j := bytes.IndexByte(line[i:last+1], f.rare)
		if j < 0 {
			return false
		}
		i += j
		start := i - f.off
		if bytes.Equal(line[start:start+n], f.lit) {
			return true
		}
		if misses++; misses > maxFalseHits {
			// Every match starting before start was ruled out.
			return bytes.Contains(line[start+1:], f.lit)
		}
		i++
	}
	return false
}

// byteFreq counts each byte in the real audit logs of ../shared/realdata
// (160 KB from five public projects; see its SOURCES.md): a rank of how
// common a byte is in audit JSON, used to pick the rarest byte of a
// literal.
var byteFreq = [256]uint16{
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 175, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	459, 0, 20912, 0, 0, 9, 15, 1, 5, 5, 56, 1, 4806, 2509, 1661, 1570,
	2278, 2937, 2099, 786, 1050, 833, 820, 1028, 1539, 992, 7586, 0, 0, 102, 0, 14,
	38, 259, 56, 313, 186, 298, 105, 84, 2, 469, 5, 62, 54, 207, 108, 146,
	452, 1, 690, 342, 712, 270, 399, 2, 0, 37, 395, 625, 398, 625, 0, 254,
	0, 8599, 1773, 3982, 3686, 13939, 1087, 1363, 716, 5809, 260, 1171, 2730, 3818, 5731, 6043,
	3463, 350, 5550, 8995, 8551, 4060, 1447, 294, 372, 1109, 285, 1689, 0, 1689, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}

package evidence

import (
	"strings"
	"testing"
)

// FuzzParseShaLine: a manifest line from disk is untrusted; parsing must
// not panic, and what ShaLine writes must parse back to the same path.
func FuzzParseShaLine(f *testing.F) {
	sum := strings.Repeat("0f", 32)
	f.Add(sum + "  objects/b/a.json")
	f.Add("\\" + sum + "  we\\\\ird\\nname")
	f.Add(sum + " *binary.gz")
	f.Add("garbage")
	f.Fuzz(func(t *testing.T, line string) {
		s, p, err := ParseShaLine(line)
		if err != nil {
			return
		}
		if len(s) != 64 {
			t.Fatalf("checksum %q", s)
		}
		if strings.ContainsAny(p, "\n") && !strings.HasPrefix(line, "\\") {
			t.Fatalf("unescaped line gave a path with a newline: %q", p)
		}
		s2, p2, err := ParseShaLine(strings.TrimSuffix(ShaLine(s, p), "\n"))
		if err != nil || s2 != s || p2 != p {
			t.Fatalf("round trip of %q: %q %q %v", p, s2, p2, err)
		}
	})
}

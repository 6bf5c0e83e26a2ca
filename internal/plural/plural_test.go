package plural

import "testing"

func TestCount(t *testing.T) {
	for _, c := range []struct {
		n    int64
		want string
	}{{0, "0 subdirectories"}, {1, "1 subdirectory"}, {2, "2 subdirectories"}, {-1, "-1 subdirectories"}} {
		if got := Count(c.n, "subdirectory", "subdirectories"); got != c.want {
			t.Errorf("Count(%d) = %q, want %q", c.n, got, c.want)
		}
	}
	if Word(uint(1), "it", "them") != "it" || Word(3, "it", "them") != "them" {
		t.Error("Word")
	}
}

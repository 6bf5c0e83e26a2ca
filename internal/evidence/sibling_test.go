package evidence

import "testing"

// TestRotationSiblingDateext: logrotate's dateext copies (audit.log-20261207,
// .gz; RHEL's default) are names the followed file's bytes can be found at
// (review M 6), as ship's tail.Logrotate already takes them; a name that
// only shares the prefix is not.
func TestRotationSiblingDateext(t *testing.T) {
	for _, c := range []struct {
		name string
		want bool
	}{
		{"audit.log-20261207", true},
		{"audit.log-20261207.gz", true},
		{"audit.log-2026120712.zst", true},
		{"audit.log.1", true},
		{"audit-2026-11-20T08-00-00.000.log", true},
		{"audit.log-old", false},
		{"audit.log-", false},
		{"audit.log", false},
		{"other.log-20261207", false},
	} {
		if got := RotationSibling("audit.log", c.name); got != c.want {
			t.Errorf("RotationSibling(audit.log, %s) = %v, want %v", c.name, got, c.want)
		}
	}
}

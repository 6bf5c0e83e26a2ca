package auditpolicy

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/testutil"
)

// TestParseSaysWhatTheFileIs (review L 10): a real audit log given where a
// policy is asked for (policy lint, policy check --policy) is refused in
// words that say it is a log, not "converting (v1.Event) to
// (audit.Policy): unknown conversion"; the seed's Loki ruler file says it
// is a rule file. Every real policy still loads.
func TestParseSaysWhatTheFileIs(t *testing.T) {
	rd := testutil.RealData(t)
	check := func(path, want string) {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Parse(filepath.Base(path), b)
		var le *LoadError
		if !errors.As(err, &le) || len(le.Issues) != 1 || !strings.Contains(le.Issues[0].Msg, want) {
			t.Errorf("%s: %v, want one issue saying %q", filepath.Base(path), err, want)
		}
	}
	for _, f := range testutil.RealAuditFiles(t) {
		check(f, "this is an audit log, not an audit policy")
	}
	check(filepath.Join(testutil.SeedDir(t), "loki-audit-rules.yaml"), "this is a Loki ruler file")
	policies, _ := filepath.Glob(filepath.Join(rd, "policy", "*.yaml"))
	for _, p := range policies {
		if _, err := LoadFile(p); err != nil {
			t.Errorf("%s: %v", filepath.Base(p), err)
		}
	}
}

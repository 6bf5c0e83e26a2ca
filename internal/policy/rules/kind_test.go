package rules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/testutil"
)

// TestParseSaysAnAuditPolicyIsNoRuleFile (review L 10): a real audit
// policy given to --rules is refused in one error at its kind's line that
// says what it is and where it goes, not "unknown top-level key" for each
// of apiVersion, kind and rules and then "missing groups:".
func TestParseSaysAnAuditPolicyIsNoRuleFile(t *testing.T) {
	policies, _ := filepath.Glob(filepath.Join(testutil.RealData(t), "policy", "*.yaml"))
	if len(policies) == 0 {
		t.Fatal("no real policies")
	}
	for _, p := range policies {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Parse(filepath.Base(p), b)
		errs, ok := err.(Errors)
		if !ok || len(errs) != 1 {
			t.Errorf("%s: %v, want one error", filepath.Base(p), err)
			continue
		}
		if !strings.Contains(errs[0].Msg, "kind Policy: this is an audit policy, not a Loki ruler file") || errs[0].Line == 0 {
			t.Errorf("%s: %+v", filepath.Base(p), errs[0])
		}
	}
}

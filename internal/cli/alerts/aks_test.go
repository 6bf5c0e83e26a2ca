package alerts

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/cli/clitest"
)

// TestAlertsAKSBothCategoriesOnce: an AKS export with both kube-audit and
// kube-audit-admin holds every write twice, in records with the same
// properties.log (review G finding 5: ForbiddenBurst 60 -> 84 and
// MassDeletion firing where the audit.log fires none). The alerts are the
// audit.log's, in either order of the records.
func TestAlertsAKSBothCategoriesOnce(t *testing.T) {
	x := clitest.RealAKSExport(t)
	dir := t.TempDir()
	plain := filepath.Join(dir, "audit.log")
	os.WriteFile(plain, x.Plain, 0o644)
	first := filepath.Join(dir, "kube-audit-first.json")
	os.WriteFile(first, append(bytes.Clone(x.Kube), x.Admin...), 0o644)
	adminFirst := filepath.Join(dir, "kube-audit-admin-first.json")
	os.WriteFile(adminFirst, append(bytes.Clone(x.Admin), x.Kube...), 0o644)
	_, want, _ := runCLI(t, "", "-o", "jsonl", plain)
	if strings.Count(want, "\n") < 5 {
		t.Fatalf("the real logs fire %d alerts", strings.Count(want, "\n"))
	}
	for _, f := range []string{first, adminFirst} {
		_, got, errOut := runCLI(t, "", "-o", "jsonl", f)
		if got != want {
			t.Errorf("%s: the alerts differ from the audit.log's:\n%s\nwant\n%s\n%s", filepath.Base(f), got, want, errOut)
		}
	}
}

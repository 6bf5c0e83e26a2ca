package query

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/cli/clitest"
)

// aksBoth writes the real audit logs into dir as audit.log, and as the
// PT1H.json of an AKS diagnostic setting with both kube-audit and
// kube-audit-admin (clitest.RealAKSExport). It returns both paths and how
// many events were written twice.
func aksBoth(t *testing.T, dir string) (plain, aks string, twice int) {
	t.Helper()
	x := clitest.RealAKSExport(t)
	plain, aks = filepath.Join(dir, "audit.log"), filepath.Join(dir, "PT1H.json")
	os.WriteFile(plain, x.Plain, 0o644)
	os.WriteFile(aks, append(bytes.Clone(x.Kube), x.Admin...), 0o644)
	return plain, aks, x.Twice
}

// TestAKSBothCategoriesCountOnce: an AKS export with both kube-audit and
// kube-audit-admin holds every write twice (review G finding 5: 144,936
// counted for 96,244 events, and stderr blamed "another serialisation").
// Log and metric queries answer as over the audit.log, and stderr names
// the cause.
func TestAKSBothCategoriesCountOnce(t *testing.T) {
	plain, aks, twice := aksBoth(t, t.TempDir())
	for _, q := range []string{
		`sum(count_over_time({job="audit"} | json [100w]))`,
		`sum by (verb) (count_over_time({job="audit"} | json | __error__="" [100w]))`,
	} {
		wantCode, want, wantErr := queryCLI(t, q, plain)
		code, got, errOut := queryCLI(t, q, aks)
		if got != want || code != wantCode {
			t.Errorf("%s: exit %d\n%s\nwant (the audit.log) exit %d\n%s\n%s", q, code, got, wantCode, want, errOut)
		}
		// The real logs hold other serialisations of some events
		// (audit2rbac's v1beta1 and v1 logs): said as for the audit.log,
		// and the AKS pairs are said for what they are.
		if !strings.Contains(errOut, "in AKS records of category kube-audit and of kube-audit-admin") || otherBytes(errOut) != otherBytes(wantErr) {
			t.Errorf("%s: stderr does not name the cause:\n%s\nthe audit.log's:\n%s", q, errOut, wantErr)
		}
	}
	_, want, _ := queryCLI(t, "-o", "jsonl", `{job="audit"} | json | verb="create"`, plain)
	_, got, _ := queryCLI(t, "-o", "jsonl", `{job="audit"} | json | verb="create"`, aks)
	if strings.Count(got, "\n") != strings.Count(want, "\n") || strings.Count(want, "\n") == 0 {
		t.Errorf("creates: %d lines, want %d", strings.Count(got, "\n"), strings.Count(want, "\n"))
	}
	t.Logf("%d events written twice", twice)
}

// otherBytes is the line of stderr that counts other serialisations.
func otherBytes(stderr string) string {
	for _, l := range strings.Split(stderr, "\n") {
		if strings.Contains(l, "another serialisation") {
			return l
		}
	}
	return ""
}

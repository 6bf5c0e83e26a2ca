package policy

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/testutil"
)

// TestPolicyCheckCountsCopiesOnce (review L 2): every real log given
// twice (cat audit.log audit.log, an at-least-once shipper's redelivery)
// replays through every real policy as given once: the same events,
// bytes, per-day estimate and alert rules' MATCHED and LOST (as `alerts`
// counts them), with stderr saying how many copies were counted once.
// The two audit2rbac files (the same requests as v1 and v1beta1, other
// bytes) stay two events each.
func TestPolicyCheckCountsCopiesOnce(t *testing.T) {
	rd := testutil.RealData(t)
	files := testutil.RealAuditFiles(t)
	var all []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	dir := t.TempDir()
	once := filepath.Join(dir, "once.jsonl")
	twice := filepath.Join(dir, "twice.jsonl")
	if err := os.WriteFile(once, all, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(twice, append(append([]byte{}, all...), all...), 0o644); err != nil {
		t.Fatal(err)
	}
	lines := int64(strings.Count(string(all), "\n"))
	policies, _ := filepath.Glob(filepath.Join(rd, "policy", "*.yaml"))
	if len(policies) == 0 {
		t.Fatal("no real policies")
	}
	for _, pol := range policies {
		for _, output := range []string{"table", "jsonl"} {
			_, want, _ := runPolicyCLI(t, "", "check", "-o", output, "--policy", pol, once)
			_, got, errOut := runPolicyCLI(t, "", "check", "-o", output, "--policy", pol, twice)
			// The header names the file read.
			got = strings.ReplaceAll(got, "twice.jsonl", "once.jsonl")
			if got != want {
				t.Errorf("%s -o %s: the log given twice differs from once:\n--- once\n%s\n--- twice\n%s", filepath.Base(pol), output, want, got)
			}
			if !strings.Contains(errOut, "duplicates") || !strings.Contains(errOut, strconv.FormatInt(lines, 10)+" of the lines") {
				t.Errorf("%s: stderr does not say the %d copies were counted once: %q", filepath.Base(pol), lines, errOut)
			}
		}
	}
}

package alerts

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/testutil"
)

// TestAlertsSayWhichEventsFailed: the seed's RBACModification fires on
// attempts (it has no status filter); the table says when every event of
// an alert failed and how many did, -o jsonl gives the count.
func TestAlertsSayWhichEventsFailed(t *testing.T) {
	dir := t.TempDir()
	base := time.Date(2026, 5, 4, 12, 0, 5, 0, time.UTC)
	p := writeEvents(t, dir, "audit.log", []string{
		auditLine("m-1", "mallory", "delete", "rolebindings", "prod", "admins", "", 403, base),
		auditLine("m-2", "mallory", "delete", "rolebindings", "prod", "admins", "", 404, base.Add(10*time.Second)),
		auditLine("a-1", "alice", "delete", "rolebindings", "prod", "admins", "", 200, base.Add(20*time.Second)),
		auditLine("a-2", "alice", "delete", "rolebindings", "prod", "admins", "", 404, base.Add(30*time.Second)),
	})
	seed := filepath.Join(testutil.SeedDir(t), "loki-audit-rules.yaml")
	code, out, errOut := runCLI(t, "", "--no-builtin", "--rules", seed, p)
	if code != cmdutil.ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var mallory, alice string
	for _, l := range strings.Split(out, "\n") {
		switch {
		case strings.Contains(l, "RBACModification") && strings.Contains(l, "user_username=mallory"):
			mallory = l
		case strings.Contains(l, "RBACModification") && strings.Contains(l, "user_username=alice"):
			alice = l
		}
	}
	if !strings.Contains(mallory, " 2 (all failed) ") || !strings.Contains(alice, " 2 (1 failed) ") {
		t.Errorf("table:\n%s", out)
	}
	code, out, errOut = runCLI(t, "", "--no-builtin", "--rules", seed, "-o", "jsonl", p)
	if code != cmdutil.ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	failed := map[string]float64{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var a struct {
			Alert  string            `json:"alert"`
			Labels map[string]string `json:"labels"`
			Failed *float64          `json:"failed"`
		}
		if err := json.Unmarshal([]byte(l), &a); err != nil || a.Failed == nil {
			t.Fatalf("jsonl line %q: %v (failed missing?)", l, err)
		}
		if a.Alert == "RBACModification" {
			failed[a.Labels["user_username"]] = *a.Failed
		}
	}
	if failed["mallory"] != 2 || failed["alice"] != 1 {
		t.Errorf("jsonl failed by user: %v", failed)
	}
}

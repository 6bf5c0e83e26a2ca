package alerts

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/cli/cmdutil"
)

// TestAlertsRecursive (review K12): alerts reads a case tree with -r
// (case/node-a/..., case/node-b/...); without it the subdirectories not
// read are named on stderr and their exec does not fire.
func TestAlertsRecursive(t *testing.T) {
	root := t.TempDir()
	rulesFile := filepath.Join(t.TempDir(), "team.yaml")
	os.WriteFile(rulesFile, []byte(teamRules), 0o644)
	base := time.Date(2026, 5, 4, 12, 0, 5, 0, time.UTC)
	os.MkdirAll(filepath.Join(root, "node-a"), 0o755)
	os.MkdirAll(filepath.Join(root, "node-b"), 0o755)
	writeEvents(t, root, "top.log", []string{auditLine("t-1", "alice", "get", "pods", "web", "p1", "", 200, base)})
	writeEvents(t, root, "node-a/audit.log", []string{auditLine("a-1", "alice", "create", "pods", "web", "p1", "exec", 101, base.Add(time.Minute))})
	writeEvents(t, root, "node-b/audit.log.1", []string{auditLine("b-1", "bob", "create", "pods", "db", "pg-0", "exec", 101, base.Add(2*time.Minute))})

	code, out, errOut := runCLI(t, "", "--no-builtin", "--rules", rulesFile, "-o", "jsonl", root)
	if code != 0 || strings.TrimSpace(out) != "" || !strings.Contains(errOut, "2 subdirectories not read: node-a, node-b; use -r") {
		t.Fatalf("alerts without -r: exit %d, want no alert and the subdirectories named:\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, "", "--no-builtin", "--rules", rulesFile, "-o", "jsonl", "--fail-on", "warning", "-r", root)
	if code != cmdutil.ExitAlerts || strings.Count(out, "\n") != 2 || !strings.Contains(out, `"b-1"`) || !strings.Contains(out, `"a-1"`) || strings.Contains(errOut, "not read") {
		t.Fatalf("alerts -r: exit %d, want both nodes' exec:\n%s%s", code, out, errOut)
	}
}

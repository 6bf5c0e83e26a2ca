package alerts

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/testutil"
)

// TestAlertsJSONLAuditIDsOnce: a request logged in two stages is two
// events of one auditID; -o jsonl lists the auditID once (it listed it
// once per stage). The falco traces' real exec (its ResponseStarted
// stage) with its ResponseComplete as the apiserver writes it when the
// session ends.
func TestAlertsJSONLAuditIDsOnce(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testutil.RealData(t), "audit", "falco-legacy-k8s-audit-traces.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	exec := strings.Split(string(b), "\n")[47]
	done := strings.NewReplacer(`"stage":"ResponseStarted"`, `"stage":"ResponseComplete"`,
		`"stageTimestamp":"2018-10-26T13:38:34.902914Z"`, `"stageTimestamp":"2018-10-26T13:40:00.000000Z"`).Replace(exec)
	if done == exec {
		t.Fatal("the falco exec is not its ResponseStarted stage")
	}
	dir := t.TempDir()
	rulesFile := filepath.Join(dir, "team.yaml")
	os.WriteFile(rulesFile, []byte(teamRules), 0o644)
	f := writeEvents(t, dir, "exec.log", []string{exec, done})
	code, out, errOut := runCLI(t, "", "--no-builtin", "--rules", rulesFile, "-o", "jsonl", f)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var a struct {
		Events   int
		AuditIDs []string
		Omitted  int `json:"auditIDsOmitted"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &a); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if a.Events != 2 || len(a.AuditIDs) != 1 || a.AuditIDs[0] != "ca1ed9f4-7bf4-4c85-81a8-1b11253d1ba6" || a.Omitted != 0 {
		t.Errorf("events %d, auditIDs %q, omitted %d:\n%s", a.Events, a.AuditIDs, a.Omitted, out)
	}
}

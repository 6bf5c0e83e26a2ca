package alerts

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/testutil"
)

// TestAlertsAKSBothCategoriesOnce: an AKS export with both kube-audit and
// kube-audit-admin holds every write twice, in records with the same
// properties.log (review G finding 5: ForbiddenBurst 60 -> 84 and
// MassDeletion firing where the audit.log fires none). The alerts are the
// audit.log's, in either order of the records.
func TestAlertsAKSBothCategoriesOnce(t *testing.T) {
	var all bytes.Buffer
	for _, f := range testutil.RealAuditFiles(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all.Write(b)
	}
	record := func(line []byte, category string) []byte {
		rec := map[string]any{
			"category": category, "operationName": "Microsoft.ContainerService/managedClusters/diagnosticLogs/Read",
			"properties": map[string]any{"log": string(line), "stream": "stdout", "pod": "kube-apiserver-7c9d8b6f5-q2w3e"},
			"resourceId": "/SUBSCRIPTIONS/0000/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/AKS-REAL",
		}
		var ev struct{ StageTimestamp, RequestReceivedTimestamp, Timestamp, Verb string }
		json.Unmarshal(line, &ev)
		for _, ts := range []string{ev.StageTimestamp, ev.RequestReceivedTimestamp, ev.Timestamp} {
			if ts != "" {
				rec["time"] = ts
				break
			}
		}
		b, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		return append(b, '\n')
	}
	var kube, admin bytes.Buffer
	for _, l := range bytes.Split(bytes.TrimSuffix(all.Bytes(), []byte{'\n'}), []byte{'\n'}) {
		kube.Write(record(l, "kube-audit"))
		var ev struct{ Verb string }
		json.Unmarshal(l, &ev)
		if ev.Verb != "get" && ev.Verb != "list" {
			admin.Write(record(l, "kube-audit-admin"))
		}
	}
	dir := t.TempDir()
	plain := filepath.Join(dir, "audit.log")
	os.WriteFile(plain, all.Bytes(), 0o644)
	first := filepath.Join(dir, "kube-audit-first.json")
	os.WriteFile(first, append(kube.Bytes(), admin.Bytes()...), 0o644)
	adminFirst := filepath.Join(dir, "kube-audit-admin-first.json")
	os.WriteFile(adminFirst, append(admin.Bytes(), kube.Bytes()...), 0o644)
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

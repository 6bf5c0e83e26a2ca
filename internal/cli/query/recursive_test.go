package query

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/spf13/cobra"

	"github.com/audittui/audittui/internal/cli/clitest"
	"github.com/audittui/audittui/internal/cli/cmdutil"
)

// TestQueryRecursive (review K12): query -r reads a case tree (plain,
// gzipped and rotated files in per-node subdirectories), each event's
// filename naming its subdirectory; without -r the subdirectories not
// read are named on stderr.
func TestQueryRecursive(t *testing.T) {
	root := filepath.Join(t.TempDir(), "case")
	ev := func(id string, s int) string {
		return fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":%q,"stage":"ResponseComplete","verb":"get","user":{"username":"u"},"stageTimestamp":"2026-02-10T10:00:0%d.000000Z"}`, id, s)
	}
	write := func(rel string, gz bool, lines ...string) {
		p := filepath.Join(root, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		b := []byte(strings.Join(lines, "\n") + "\n")
		if gz {
			var buf bytes.Buffer
			w := gzip.NewWriter(&buf)
			w.Write(b)
			w.Close()
			b = buf.Bytes()
		}
		os.WriteFile(p, b, 0o644)
	}
	write("top.log", false, ev("t1", 5))
	write("node-a/audit-2026-02-10T10-00-02.000.log.gz", true, ev("a1", 0), ev("a2", 2))
	write("node-a/audit.log", false, ev("a3", 4))
	write("node-b/audit.log.1", false, ev("b1", 1))
	write("node-b/audit.log", false, ev("b2", 3))
	run := func(args ...string) (int, string, string) {
		return clitest.Run(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdQuery(f, nil) }, "", args...)
	}
	code, out, errOut := run("-o", "raw", `{job="audit"}`, root)
	if code != 0 || strings.Count(out, "\n") != 1 || !strings.Contains(errOut, "2 subdirectories not read: node-a, node-b; use -r") {
		t.Fatalf("query without -r: exit %d, want the top file's event and the subdirectories named:\n%s%s", code, out, errOut)
	}
	code, out, errOut = run("-o", "raw", "-r", `{job="audit", filename=~".*/node-a/.*"} | json | line_format "{{.auditID}}"`, root)
	if code != 0 || out != "a1\na2\na3\n" || strings.Contains(errOut, "not read") {
		t.Fatalf("query -r of node-a: exit %d, want a1 a2 a3 in order:\n%s%s", code, out, errOut)
	}
	code, out, errOut = run("-o", "raw", "--recursive", `{job="audit"} | json | line_format "{{.auditID}}"`, root)
	if code != 0 || out != "a1\nb1\na2\nb2\na3\nt1\n" {
		t.Fatalf("query --recursive: exit %d, want every level in time order:\n%s%s", code, out, errOut)
	}
}

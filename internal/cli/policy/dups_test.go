package policy

import (
	"bytes"
	"encoding/json"
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

// TestPolicyCheckSizesWhateverTheIndentation (review L 3): the real logs
// pretty-printed (`jq .`, as an export or a ticket attachment holds them)
// replay as the apiserver wrote them: BYTES NOW, BYTES AFTER and the
// estimates per day are those of the compact lines, not 34% more (now)
// and 41% more (under the policy) for the indentation.
func TestPolicyCheckSizesWhateverTheIndentation(t *testing.T) {
	rd := testutil.RealData(t)
	var compact, pretty bytes.Buffer
	for _, f := range testutil.RealAuditFiles(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		compact.Write(b)
		for line := range strings.Lines(string(b)) {
			if err := json.Indent(&pretty, []byte(strings.TrimSpace(line)), "", "  "); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			pretty.WriteByte('\n')
		}
	}
	dir := t.TempDir()
	once := filepath.Join(dir, "once.jsonl")
	indented := filepath.Join(dir, "indented.json")
	if err := os.WriteFile(once, compact.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(indented, pretty.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	policies, _ := filepath.Glob(filepath.Join(rd, "policy", "*.yaml"))
	for _, pol := range policies {
		_, want, _ := runPolicyCLI(t, "", "check", "--policy", pol, once)
		_, got, _ := runPolicyCLI(t, "", "check", "--policy", pol, indented)
		got = strings.ReplaceAll(got, "indented.json", "once.jsonl")
		if got != want {
			t.Errorf("%s: the indented log replays other sizes:\n--- compact\n%s\n--- indented\n%s", filepath.Base(pol), want, got)
		}
	}
}

// TestPolicyCheckAgainstNamesBothSizes (review L 10): the --against line
// gave the size under the policy checked as "now"; it names each size by
// its policy, and the one under this policy is the total's BYTES AFTER.
func TestPolicyCheckAgainstNamesBothSizes(t *testing.T) {
	rd := testutil.RealData(t)
	pol := filepath.Join(rd, "policy", "openshift-writerequestbodies.yaml")
	old := filepath.Join(rd, "policy", "openshift-default.yaml")
	_, out, errOut := runPolicyCLI(t, "", append([]string{"check", "--policy", pol, "--against", old}, testutil.RealAuditFiles(t)...)...)
	var after string
	for line := range strings.Lines(out) {
		if f := strings.Fields(line); len(f) > 0 && f[0] == "total" {
			after = f[4] + " " + f[5] // EVENTS, BYTES NOW (2 fields), BYTES AFTER
		}
	}
	want := "against " + old + " ("
	i := strings.Index(out, want)
	if after == "" || i < 0 {
		t.Fatalf("no total or against line:\n%s\n%s", out, errOut)
	}
	line, _, _ := strings.Cut(out[i:], "\n")
	if !strings.Contains(line, " under it, "+after+" under this policy): ") {
		t.Errorf("against line %q: want the size under this policy, %s (the total's BYTES AFTER), named so", line, after)
	}
}

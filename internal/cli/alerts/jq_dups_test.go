package alerts

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/testutil"
)

// otherBytes finds the notice of events with the auditID, stage and time
// of another but other bytes.
var otherBytes = regexp.MustCompile(`audittui: (\d+) events that feed a rule have the auditID, stage and time of another but other bytes \([^)]*\): not duplicates, so both are evaluated, as Loki keeps both\n`)

// TestAlertsJQExportOnce: the sample and every real log given with its
// `jq .` re-export (jq writes & < > raw where the apiserver wrote \u0026
// \u003c \u003e), in either order or as one file holding the export then
// the log (`(jq . S; cat S)`: 303 alerts instead of the sample's 294 in
// review H finding 10), fire exactly the alerts of the log alone; stderr
// counts the copies (when any event feeds a rule), and says of other
// bytes only what it says of the log alone (real fixtures share
// auditIDs).
func TestAlertsJQExportOnce(t *testing.T) {
	testutil.Tool(t, "jq", "jq")
	files := []string{filepath.Join(testutil.RepoRoot(), "testdata", "sample", "audit.log")}
	files = append(files, testutil.RealAuditFiles(t)...)
	for _, f := range files {
		export, err := exec.Command("jq", ".", f).Output()
		if err != nil {
			t.Fatalf("jq . %s: %v", f, err)
		}
		log, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		real, pretty, both := filepath.Join(dir, "audit.log"), filepath.Join(dir, "export.json"), filepath.Join(dir, "both.log")
		os.WriteFile(real, log, 0o644)
		os.WriteFile(pretty, export, 0o644)
		os.WriteFile(both, append(export, log...), 0o644)
		_, want, errAlone := runCLI(t, "", "-o", "jsonl", real)
		if f == files[0] && strings.Count(want, "\n") != 294 {
			t.Fatalf("the sample fires %d alerts, want 294", strings.Count(want, "\n"))
		}
		for _, args := range [][]string{{real, pretty}, {pretty, real}, {both}} {
			_, got, errOut := runCLI(t, "", append([]string{"-o", "jsonl"}, args...)...)
			if got != want {
				t.Errorf("%s %v: %d alerts, want the %d of the log alone:\n%s\nwant\n%s", filepath.Base(f), args, strings.Count(got, "\n"), strings.Count(want, "\n"), got, want)
			}
			if want != "" && !strings.Contains(errOut, " of the lines that feed a rule were duplicates") || otherBytes.FindString(errOut) != otherBytes.FindString(errAlone) {
				t.Errorf("%s %v: stderr %q\nalone %q", filepath.Base(f), args, errOut, errAlone)
			}
		}
	}
}

// TestAlertsSayOtherBytes: events that feed a rule and have the auditID,
// stage and time of another but other bytes (an edited copy) are
// evaluated both, as Loki keeps both, and stderr says how many, as query
// does: each group of lines sharing them counts all but its first, in
// any order, however often each line comes; -q quiets it. Exact copies
// are not among them.
func TestAlertsSayOtherBytes(t *testing.T) {
	at := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	a := auditLine("id-a", "alice", "create", "pods", "prod", "web", "exec", 201, at)
	b := auditLine("id-b", "bob", "create", "pods", "prod", "db", "exec", 201, at.Add(time.Second))
	c := auditLine("id-c", "carol", "get", "pods", "prod", "db", "", 200, at.Add(2*time.Second)) // feeds no rule
	edit := func(l, with string) string { return strings.Replace(l, `"requestURI":"/`, `"requestURI":"/`+with, 1) }
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.yaml")
	os.WriteFile(rules, []byte(teamRules), 0o644)
	orig := writeEvents(t, dir, "audit.log", []string{a, b, c})
	copies := writeEvents(t, dir, "copies.log", []string{edit(a, "x"), edit(a, "y"), a, b, edit(c, "x")})
	again := writeEvents(t, dir, "copies-again.log", []string{edit(a, "y"), edit(a, "x")})
	for _, args := range [][]string{{orig, copies}, {copies, orig}, {again, copies, orig}} {
		dups := "2"
		if len(args) == 3 {
			dups = "4" // and the copies of the edited copies
		}
		_, _, errOut := runCLI(t, "", append([]string{"--no-builtin", "--rules", rules}, args...)...)
		if m := otherBytes.FindStringSubmatch(errOut); m == nil || m[1] != "2" || !strings.Contains(errOut, "audittui: "+dups+" of the lines that feed a rule were duplicates") {
			t.Errorf("%v: stderr %q", args, errOut)
		}
		_, _, errOut = runCLI(t, "", append([]string{"-q", "--no-builtin", "--rules", rules}, args...)...)
		if errOut != "" {
			t.Errorf("-q %v: stderr %q", args, errOut)
		}
	}
	if _, _, errOut := runCLI(t, "", "--no-builtin", "--rules", rules, orig, orig); otherBytes.MatchString(errOut) {
		t.Errorf("exact copies: stderr %q", errOut)
	}
}

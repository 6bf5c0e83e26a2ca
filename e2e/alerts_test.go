package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/gen"
	"github.com/audittui/audittui/internal/testutil"
)

// benign is a read two weeks before the exec: more than the rules' longest
// look-back (a day and a minute), so the exec is never late, whether it is
// appended before or after the rules caught the old file up with the clock
// (CatchUp, DefaultReorder after the file went quiet: it seals every step
// to the longest window's drain after the newest event; with the read 26
// minutes before the exec, a slow start under load made the exec late for
// the shard holding the day-long rules, and PodExecDetected never fired).
const benign = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"b-1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods","verb":"list","user":{"username":"alice@corp.example"},"sourceIPs":["10.0.0.5"],"objectRef":{"resource":"pods","namespace":"default","apiVersion":"v1"},"responseStatus":{"code":200},"requestReceivedTimestamp":"2026-02-28T09:00:00.000000Z","stageTimestamp":"2026-02-28T09:00:00.010000Z"}
`

// execKubeSystem is an exec into an etcd pod (the rule's own fixture).
const execKubeSystem = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"01d74256-3860-4ab6-96a4-02f23ae8cc93","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/kube-system/pods/etcd-cp-1/exec?command=sh&container=etcd&stdin=true&stdout=true&tty=true","verb":"create","user":{"username":"mallory@corp.example","groups":["oidc:contractors","system:authenticated"]},"sourceIPs":["10.20.3.41"],"userAgent":"kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46","objectRef":{"resource":"pods","namespace":"kube-system","name":"etcd-cp-1","apiVersion":"v1","subresource":"exec"},"responseStatus":{"metadata":{},"code":101},"requestReceivedTimestamp":"2026-03-14T09:25:59.996000Z","stageTimestamp":"2026-03-14T09:26:00.000000Z"}
`

// TestQuietFollowedFileAlertsOnTheClock: the TUI follows a file; one exec
// into kube-system is appended and nothing more. Loki's ruler would fire
// at its next evaluation whether or not more lines come; so does the
// pane: the rules' clock moves with the wall clock once the file is
// quiet (DefaultReorder, 10 s, after the exec), and the alert fires
// without another line.
func TestQuietFollowedFileAlertsOnTheClock(t *testing.T) {
	tmux := requireTmux(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	log := filepath.Join(dir, "audit.log")
	if err := os.WriteFile(log, []byte(benign), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startSession(t, tmux, 80, 24, bin+" --follow "+log)
	// Read and followed: its event is months old, so the status says
	// "following · newest event …d ago" rather than "live · following".
	s.waitFor("open", "loaded 1 ", "following")
	s.keys("3")
	s.waitFor("alerts pane", "no alert fired")
	f, err := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(execKubeSystem); err != nil {
		t.Fatal(err)
	}
	f.Close()
	appended := time.Now()
	s.waitFor("the exec is read", "loaded 2 ")
	// No further line: the alert fires on the clock.
	// (PodExecDetected fires too: 2 firing groups.)
	screen := s.waitFor("the alert fires on the clock", "ExecIntoKubeSystem", "Alerts (2 firing)", "● mallory@corp.example · kube-system · etcd-cp-1")
	t.Logf("fired %.1fs after the append", time.Since(appended).Seconds())
	if st, _ := os.Stat(log); st.Size() != int64(len(benign)+len(execKubeSystem)) {
		t.Fatal("the file changed")
	}
	if !strings.Contains(screen, "Command run in a kube-system pod") {
		t.Errorf("the summary is not shown at 80 columns:\n%s", screen)
	}
	s.keys("q")
	s.waitFor("quit", "audittui-exit=0")
}

// TestGroupedAlertsPaneAt80x24: a generated day of traffic with the attack
// stories: at 80x24 the pane lists rules with their summaries and groups
// with their counts, s silences a group, f filters to a group's events
// with LogQL and a window.
func TestGroupedAlertsPaneAt80x24(t *testing.T) {
	tmux := requireTmux(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	log := filepath.Join(dir, "audit.log")
	g := gen.New(gen.Config{Seed: 7, Stories: true, Rate: 2})
	end := gen.DefaultStart.Add(100 * time.Minute).UnixNano()
	var buf bytes.Buffer
	for {
		r := g.Next()
		if r.Time > end {
			break
		}
		buf.Write(r.Line)
	}
	if err := os.WriteFile(log, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startSession(t, tmux, 80, 24, bin+" --follow=false "+log)
	s.waitFor("open", "indexed in")
	s.keys("3")
	// At the end of the input every window has drained: all resolved.
	screen := s.waitFor("grouped pane", "· evaluated in ", "▾ CRIT ExecIntoKubeSystem  Command run in a kube-system pod")
	lines := strings.Split(strings.TrimRight(screen, "\n"), "\n")
	if len(lines) != 24 {
		t.Fatalf("%d lines:\n%s", len(lines), screen)
	}
	for _, l := range lines {
		if w := len([]rune(l)); w > 80 {
			t.Fatalf("a line of %d cells:\n%s", w, screen)
		}
	}
	if !strings.Contains(lines[0], "3 Alerts ") || strings.Contains(lines[0], "firing") {
		t.Errorf("tab strip: %q", lines[0])
	}
	// A rule line carries its severity, name and summary; its groups
	// follow with a symbol, the labels, a sparkline, events and a time.
	if !strings.Contains(screen, "  ○ ") || !strings.Contains(screen, " ev ") {
		t.Errorf("no rule or group lines:\n%s", screen)
	}
	s.keys("j", "s")
	s.waitFor("silenced", "1 silenced")
	s.keys("j", "f")
	screen = s.waitFor("drill-in", `filter {job="audit"} |= "kube-"`, "matching 8 ")
	// The drill's window is the view's: the header shows it.
	if head, _, _ := strings.Cut(screen, "\n"); !strings.Contains(head, "→") || strings.Contains(head, "all ") {
		t.Errorf("drill-in without its window:\n%s", screen)
	}
	// The silence is in no case: the first q says it would be lost.
	s.keys("q")
	s.waitFor("quit asks again", "q again quits: 1 silence not saved")
	s.keys("q")
	s.waitFor("quit", "audittui-exit=0")
}

// TestAlertsPaneNamesRuleProblems: the real binary over the sample with a
// team's rules file: a ratio without group_left fails its evaluation
// (many-to-many), a ratio's leg selects a job the file does not carry.
// Both were said only in the log; the Alerts pane now names each, with
// its file:line and why, above the list at 80x24.
func TestAlertsPaneNamesRuleProblems(t *testing.T) {
	tmux := requireTmux(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	rulesFile := filepath.Join(dir, "r.yaml")
	if err := os.WriteFile(rulesFile, []byte(`groups:
  - name: g
    rules:
      - alert: ManyToOne
        expr: sum by (user_username, verb) (count_over_time({job="audit"} | json [5m])) / on () sum(count_over_time({job="audit"} | json [5m])) > 0
      - alert: KubeRatio
        expr: sum(count_over_time({job="audit"}[5m])) / sum(count_over_time({job="kube-audit"}[5m])) > 0
`), 0o644); err != nil {
		t.Fatal(err)
	}
	sample := filepath.Join(testutil.RepoRoot(), "testdata", "sample", "audit.log")
	s := startSession(t, tmux, 80, 24, "cd "+dir+" && "+bin+" --no-builtin --rules r.yaml "+sample)
	s.waitFor("open", "loaded 3,948", "warning: 1 alert rule has a selector that s")
	s.keys("3")
	s.waitFor("the pane names both rules", "⚠ rule KubeRatio (r.yaml:6) can never fire: {job=\"kube-audit\"} selects",
		"⚠ rule ManyToOne (r.yaml:4) failed: found duplicate series")
	s.keys("q")
	s.waitFor("quit", "audittui-exit=0")
}

package ui

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestDetailAfterCopytruncateDateext (review M 6): logrotate with dateext
// (RHEL's and Fedora's default) copies the followed audit.log to
// audit.log-20261207 before it cuts it. Detail of an event read before the
// cut reads its bytes there and cites that file, as for audit.log.1; it
// said the bytes were gone.
func TestDetailAfterCopytruncateDateext(t *testing.T) {
	fixture, err := os.ReadFile("testdata/events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(fixture), "\n")
	t.Chdir(t.TempDir())
	before := strings.Join(lines[:4], "")
	if err := os.WriteFile("audit.log", []byte(before), 0o644); err != nil {
		t.Fatal(err)
	}
	a, wait := followApp(t, "audit.log")
	a.Update(windowSize(140, 40))
	wait("loaded 4 ")
	row := 2 // audit.log:3
	raw, err := a.c.Snap.Raw(row)
	if err != nil {
		t.Fatal(err)
	}
	own := RawSHA256(raw)
	if err := os.WriteFile("audit.log-20261207", []byte(before), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate("audit.log", 0); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("audit.log", []byte(strings.Join(lines[10:20], "")), 0o644); err != nil {
		t.Fatal(err)
	}
	wait("loaded 14 ")
	// The tracker looks for moved files every half second; it gives up
	// (gone) when no copy holds the bytes.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if now, gone := a.c.Snap.sources[a.c.Snap.src.at(row)].info.Moved.Now(); now != "" || gone {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	a.tail.Select(row)
	send(t, a, "enter")
	s := wait("source    audit.log-20261207:3", "sha256    "+own[:12])
	if !strings.Contains(s, "00000003-aaaa-bbbb-cccc-000000000003") {
		t.Fatalf("Detail does not show the event read:\n%s", s)
	}
}

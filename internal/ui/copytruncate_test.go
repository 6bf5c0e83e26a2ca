package ui

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
)

// TestDetailAfterCopytruncate: the TUI follows audit.log; logrotate's
// copytruncate copies it to audit.log.1 and cuts it in place, and the API
// server writes on. Detail of an event read before the cut shows that
// event's own bytes, from the copy (it showed the new file's bytes at the
// old offset: another event as evidence); with no copy left, it says the
// bytes are gone, never another event's.
func TestDetailAfterCopytruncate(t *testing.T) {
	fixture, err := os.ReadFile("testdata/events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(fixture), "\n")
	var goneScreen string // drawn in the temporary directory
	for _, keepCopy := range []bool{true, false} {
		name := "copy kept"
		if !keepCopy {
			name = "copy gone"
		}
		t.Run(name, func(t *testing.T) {
			t.Chdir(t.TempDir()) // relative names: the citations fit a line
			before := strings.Join(lines[:4], "")
			if err := os.WriteFile("audit.log", []byte(before), 0o644); err != nil {
				t.Fatal(err)
			}
			a, wait := followApp(t, "audit.log")
			a.Update(windowSize(140, 40))
			wait("loaded 4 ")
			row := 2 // audit.log:3
			a.tail.Select(row)
			raw, err := a.c.Snap.Raw(row)
			if err != nil {
				t.Fatal(err)
			}
			own := RawSHA256(raw)
			send(t, a, "enter")
			wait("source    audit.log:3", "sha256    "+own[:12])
			send(t, a, "esc")

			// copytruncate: the copy, the cut, then more events, past the
			// old offsets (other events' bytes where the read ones were).
			if keepCopy {
				if err := os.WriteFile("audit.log.1", []byte(before), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Truncate("audit.log", 0); err != nil {
				t.Fatal(err)
			}
			after := strings.Join(lines[10:20], "")
			if err := os.WriteFile("audit.log", []byte(after), 0o644); err != nil {
				t.Fatal(err)
			}
			wait("loaded 14 ")
			if keepCopy {
				// The tracker looks for moved files every half second.
				deadline := time.Now().Add(10 * time.Second)
				for a.c.Snap.SourceName(row) != "audit.log.1" && time.Now().Before(deadline) {
					time.Sleep(20 * time.Millisecond)
				}
			}
			a.tail.Select(row)
			send(t, a, "enter")
			if keepCopy {
				s := wait("source    audit.log.1:3", "sha256    "+own[:12])
				if !strings.Contains(s, "00000003-aaaa-bbbb-cccc-000000000003") {
					t.Fatalf("Detail does not show the event read:\n%s", s)
				}
				// Y copies that citation, y those bytes.
				if cite, ok := a.detail.Citation(); !ok || !strings.Contains(cite, "audit.log.1:3 sha256:"+own) {
					t.Errorf("Y after the cut copies %q", cite)
				}
				if raw, ok := a.detail.RawLine(); !ok || RawSHA256(raw) != own {
					t.Errorf("y after the cut copies other bytes (%v)", ok)
				}
				return
			}
			s := wait("audit.log:3", "gone")
			for _, other := range []string{"00000011-", "00000012-", "00000013-"} {
				if strings.Contains(s, other) {
					t.Fatalf("Detail shows another event's bytes (%s):\n%s", other, s)
				}
			}
			goneScreen = s
			if !strings.Contains(s, "cut in place") {
				t.Errorf("Detail does not say the file was cut:\n%s", s)
			}
		})
	}
	if goneScreen != "" {
		golden(t, "detail_copytruncate_gone_140x40.txt", goneScreen)
	}
}

// TestRawCheckedReadsACompressedCopy: where the source's bytes are now may
// be the rotation's compressed copy (audit.log.1.gz): the event is read
// at its offset in the decompressed stream, and only when it is the event.
func TestRawCheckedReadsACompressedCopy(t *testing.T) {
	fixture, err := os.ReadFile("testdata/events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	s := loadIndex(t, "testdata/events.jsonl").Snapshot()
	dir := t.TempDir()
	gzipped := func(name string, b []byte) string {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(b)
		zw.Close()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	same := gzipped("audit.log.1.gz", fixture)
	lines := strings.SplitAfter(string(fixture), "\n")
	other := gzipped("other.gz", []byte(strings.Join(append(lines[5:], lines[:5]...), "")))
	for _, i := range []int{0, 3, s.Len() - 1} {
		want, err := s.Raw(i)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := s.readAt(same, i); !ok || !bytes.Equal(got, want) {
			t.Errorf("event %d from the .gz copy: %v %q", i, ok, got)
		}
		if got, ok := s.readAt(other, i); ok {
			t.Errorf("event %d read from a .gz that holds other events there: %q", i, got)
		}
	}
}

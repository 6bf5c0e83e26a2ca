package file

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/data"
)

// followUntilCaughtUp follows path and returns what it read up to the
// first batch that says it has read everything.
func followUntilCaughtUp(t *testing.T, path string) (events []data.Event, rejects []data.Reject, last *data.Batch) {
	t.Helper()
	src, err := New(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := src.Open(ctx, data.ReadOptions{Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for {
		b, err := st.Next(ctx)
		if err != nil {
			t.Fatalf("after %d events, %d rejects: %v", len(events), len(rejects), err)
		}
		events = append(events, b.Events...)
		rejects = append(rejects, b.Rejects...)
		if b.CaughtUp {
			return events, rejects, b
		}
	}
}

// TestFollowReadsAFinishedFileWithoutFinalNewline: a followed file whose
// last line has no newline and that nothing has written to for a while (an
// archive, a download, `jq -j` or concatenated JSON, the shapes' files cut
// of their last newline) is read whole, as --follow=false reads it: its
// last event is not held back forever as "1 partial line pending", and a
// pretty JSON document is not cut before its closing brace (which made
// every line of an `aws logs filter-log-events` file a reject and the TUI
// show 0 events). A file written just now still holds its partial line
// back (TestFollowReportsCaughtUpAndPartial).
func TestFollowReadsAFinishedFileWithoutFinalNewline(t *testing.T) {
	shapes := filepath.Join("..", "..", "..", "..", "testdata", "shapes")
	old := time.Now().Add(-2 * time.Hour)
	for _, c := range []struct {
		name   string
		events int
	}{
		{"plain.jsonl", 16},
		{"concatenated.json", 5},
		{"eks-filter-log-events.json", 16},
		{"array.json", 6},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(shapes, c.name))
			if err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(t.TempDir(), c.name)
			if err := os.WriteFile(p, []byte(strings.TrimSuffix(string(b), "\n")), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(p, old, old); err != nil {
				t.Fatal(err)
			}
			evs, rejects, last := followUntilCaughtUp(t, p)
			if len(evs) != c.events || len(rejects) != 0 || last.Partial != 0 {
				t.Fatalf("followed %s without its final newline: %d events, %d rejects, partial %d (want %d, 0, 0)",
					c.name, len(evs), len(rejects), last.Partial, c.events)
			}
		})
	}
}

// TestFollowWrittenJustNowHoldsThePartialLine: the same file cut of its
// newline but written just now is a live file mid-line: its last line waits.
func TestFollowWrittenJustNowHoldsThePartialLine(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "testdata", "shapes", "plain.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "audit.log")
	body := strings.TrimSuffix(string(b), "\n")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := os.Chtimes(p, now, now); err != nil {
		t.Fatal(err)
	}
	evs, rejects, last := followUntilCaughtUp(t, p)
	tail := len(body) - strings.LastIndexByte(body, '\n') - 1
	if len(evs) != 15 || len(rejects) != 0 || last.Partial != tail {
		t.Fatalf("followed a file written just now: %d events, %d rejects, partial %d (want 15, 0, %d)", len(evs), len(rejects), last.Partial, tail)
	}
}

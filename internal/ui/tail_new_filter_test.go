package ui

import (
	"context"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/audittui/audittui/internal/data"
)

// TestNewCountIgnoresTheFilterCatchingUp: while a filter is still being
// evaluated (a big file, a filter typed while it loads), the matches the
// evaluation finds among the events already read are not "new": the Tail
// counted every one of them as arrived since the user scrolled up or
// paused ("100 new ↓" with nothing arrived). Only the matching events
// read after the user left the bottom are new; paused, the matches among
// the events read before the pause are shown.
func TestNewCountIgnoresTheFilterCatchingUp(t *testing.T) {
	for _, leave := range []string{"k", "space"} {
		t.Run(leave, func(t *testing.T) {
			info := &data.SourceInfo{Name: "-", Labels: data.Labels{{Name: "job", Value: "audit"}}}
			ix := NewIndex(t.TempDir(), nil)
			defer ix.Close()
			a := New(context.Background(), ix, nil, Options{NoColor: true, Follow: true, Compile: CompileLogQL})
			a.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
			grow := func(from, n int) {
				b := spillBatch(info, from, n)
				b.CaughtUp = true
				if err := ix.Add(b); err != nil {
					t.Fatal(err)
				}
				_, cmd := a.Update(indexGrewMsg{})
				runCmd(t, a, cmd)
			}
			grow(0, 700) // 100 of user u3
			send(t, a, "/")
			typeText(t, a, `user_username="u3"`)
			// The filter starts; before its evaluation reports, the user
			// leaves the bottom and 70 more events arrive (10 of u3).
			_, eval := a.Update(keyMsg("enter"))
			if !a.running {
				t.Fatal("the filter's evaluation is not running")
			}
			send(t, a, leave)
			grow(700, 70)
			runCmd(t, a, eval)
			if a.running || a.c.Rows.Len() != 110 {
				t.Fatalf("evaluation: running %v, %d matches, want 110", a.running, a.c.Rows.Len())
			}
			s := screen(a)
			if got := a.tail.NewCount(); got != 10 {
				t.Errorf("%d new, want the 10 matches read after %s:\n%s", got, leave, s)
			}
			want := "10 new ↓ (G)"
			if leave == "space" {
				want = "PAUSED · 10 new"
				if got := a.tail.visible(); got != 100 {
					t.Errorf("paused: %d rows shown, want the 100 matches read before the pause:\n%s", got, s)
				}
			}
			if !strings.Contains(s, want) {
				t.Errorf("status lacks %q:\n%s", want, s)
			}
			// G (or space again) shows them all, following.
			if leave == "space" {
				send(t, a, "space")
			} else {
				send(t, a, "G")
			}
			if row, _ := a.tail.Selected(); row != 766 || a.tail.NewCount() != 0 {
				t.Errorf("back at the bottom: row %d, %d new; want 766, 0", row, a.tail.NewCount())
			}
		})
	}
}

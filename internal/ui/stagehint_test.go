package ui

import (
	"strings"
	"testing"
)

// stagesLine is the summary's "stages" line of what Detail shows.
func stagesLine(t *testing.T, a *App) string {
	t.Helper()
	for _, l := range a.detail.plain {
		if strings.HasPrefix(l, "stages ") {
			return l
		}
	}
	t.Fatalf("no stages line in the detail:\n%s", strings.Join(a.detail.plain, "\n"))
	return ""
}

// TestDetailNextStageHintOnlyWithAnotherStage: the summary offers `s`
// (the next stage of the same request) only when another stage of the
// request is in the index; on a request with one stage `s` says so
// rather than doing nothing.
func TestDetailNextStageHintOnlyWithAnotherStage(t *testing.T) {
	for _, sz := range sizes {
		a := newTestApp(t, sz.w, sz.h)
		// The exec request: RequestReceived and ResponseComplete.
		openEvent(t, a, `objectRef_subresource="exec" | stage="ResponseComplete"`)
		if l := stagesLine(t, a); !strings.Contains(l, "(s: next)") {
			t.Errorf("%dx%d: two stages but no (s: next): %q", sz.w, sz.h, l)
		}
		before := a.detail.cur
		send(t, a, "s")
		if a.detail.cur == before {
			t.Errorf("%dx%d: s did not move to the other stage", sz.w, sz.h)
		}
		send(t, a, "esc")

		// An event whose request has no other stage in the index.
		openEvent(t, a, `user_username="carol"`)
		if n := len(a.detail.stages); n != 1 {
			t.Fatalf("%dx%d: carol's first event has %d stages, want 1", sz.w, sz.h, n)
		}
		l := stagesLine(t, a)
		if strings.Contains(l, "(s: next)") {
			t.Errorf("%dx%d: one stage, yet (s: next): %q", sz.w, sz.h, l)
		}
		a.status = ""
		send(t, a, "s")
		if !strings.Contains(a.status, "no other stage") {
			t.Errorf("%dx%d: s on a one-stage request says %q", sz.w, sz.h, a.status)
		}
		if s := screen(a); strings.Contains(s, "(s: next)") {
			t.Errorf("%dx%d: the screen offers s on a one-stage request:\n%s", sz.w, sz.h, s)
		}
	}
}

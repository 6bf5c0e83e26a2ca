package ui

import (
	"fmt"
	"strings"
	"testing"
)

var sizes = []struct{ w, h int }{{80, 24}, {120, 40}}

func TestGoldenTail(t *testing.T) {
	for _, sz := range sizes {
		a := newTestApp(t, sz.w, sz.h)
		s := screen(a)
		checkScreen(t, s, sz.w, sz.h)
		golden(t, fmt.Sprintf("tail_%dx%d.txt", sz.w, sz.h), s)
	}
}

func TestGoldenFilterFlow(t *testing.T) {
	for _, sz := range sizes {
		a := newTestApp(t, sz.w, sz.h)
		send(t, a, "/")
		typeText(t, a, `user_username="bob"`)
		open := screen(a)
		checkScreen(t, open, sz.w, sz.h)
		golden(t, fmt.Sprintf("filter_typing_%dx%d.txt", sz.w, sz.h), open)
		send(t, a, "enter")
		s := screen(a)
		checkScreen(t, s, sz.w, sz.h)
		golden(t, fmt.Sprintf("filter_bob_%dx%d.txt", sz.w, sz.h), s)
		if got := a.c.Rows.Len(); got != 6 {
			t.Fatalf("bob matches %d events, want 6", got)
		}
	}
}

func TestFilterErrorShowsColumn(t *testing.T) {
	a := newTestApp(t, 80, 24)
	send(t, a, "/")
	typeText(t, a, `verb=~"(get"`)
	send(t, a, "enter")
	s := screen(a)
	checkScreen(t, s, 80, 24)
	if !a.bar.Active() || a.bar.errCol == 0 {
		t.Fatalf("error not shown with a column: active=%v col=%d", a.bar.Active(), a.bar.errCol)
	}
	// The caret sits under the column of the problem (the regexp string,
	// column 7 of what was typed; the prompt takes one cell). The message
	// itself is the LogQL parser's (not golden: its wording is theirs).
	lines := strings.Split(s, "\n")
	caretLine := lines[len(lines)-2]
	if got := strings.Index(caretLine, "^"); got != a.bar.errCol || a.bar.errCol != 7 {
		t.Fatalf("caret at %d (errCol %d), want 7:\n%s", got, a.bar.errCol, s)
	}
	if !strings.Contains(caretLine, "(get") {
		t.Fatalf("error message does not name the bad regexp:\n%s", s)
	}
	// esc leaves the bar; the filter is unchanged (none).
	send(t, a, "esc")
	if a.bar.Active() || a.filter.Active() {
		t.Fatalf("esc did not leave the bar cleanly")
	}
}

func TestFilterNegationAndHistory(t *testing.T) {
	a := newTestApp(t, 80, 24)
	total := a.c.Rows.Len()
	send(t, a, "/")
	typeText(t, a, `!verb="get"`)
	send(t, a, "enter")
	gets := 0
	for i := 0; i < a.c.Snap.Len(); i++ {
		if a.c.Snap.Str(ColVerb, i) == "get" {
			gets++
		}
	}
	if got := a.c.Rows.Len(); got != total-gets {
		t.Fatalf("/!verb=get matches %d, want %d", got, total-gets)
	}
	send(t, a, "/", "esc", "/")
	// history: up recalls the previous query.
	a.bar.text = nil
	a.bar.pos = 0
	send(t, a, "up")
	if got := a.bar.Value(); got != `!verb="get"` {
		t.Fatalf("history up = %q", got)
	}
}

func TestFilterCompletion(t *testing.T) {
	a := newTestApp(t, 80, 24)
	send(t, a, "/")
	typeText(t, a, "user_user")
	send(t, a, "tab")
	if got := a.bar.Value(); got != "user_username" {
		t.Fatalf("field completion = %q", got)
	}
	typeText(t, a, `="ca`)
	send(t, a, "tab")
	if got := a.bar.Value(); got != `user_username="carol"` {
		t.Fatalf("value completion = %q", got)
	}
	send(t, a, "enter")
	if got := a.c.Rows.Len(); got != 4 {
		t.Fatalf("carol matches %d, want 4", got)
	}
}

func TestGoldenDetail(t *testing.T) {
	for _, sz := range sizes {
		a := newTestApp(t, sz.w, sz.h)
		// The exec event: filter to it, open it.
		send(t, a, "/")
		typeText(t, a, `objectRef_subresource="exec" | stage="ResponseComplete"`)
		send(t, a, "enter", "enter")
		if a.focus != paneDetail {
			t.Fatalf("enter did not open the detail")
		}
		s := screen(a)
		checkScreen(t, s, sz.w, sz.h)
		golden(t, fmt.Sprintf("detail_exec_%dx%d.txt", sz.w, sz.h), s)
		if !strings.Contains(s, "sh -c 'cat /etc/shadow'") {
			t.Errorf("exec command not decoded:\n%s", s)
		}
		if !strings.Contains(s, "RequestReceived") || !strings.Contains(s, "ResponseComplete") {
			t.Errorf("stages of the auditID not merged:\n%s", s)
		}
		send(t, a, "esc")
		if a.focus != paneTail {
			t.Fatalf("esc did not go back to the tail")
		}
	}
}

func TestDetailFoldAndCopy(t *testing.T) {
	a := newTestApp(t, 120, 40)
	send(t, a, "/")
	typeText(t, a, `objectRef_name="settings" | verb="create"`)
	send(t, a, "enter", "enter", "G")
	folded := screen(a)
	if !strings.Contains(folded, "lines folded") {
		t.Fatalf("request object not folded:\n%s", folded)
	}
	send(t, a, "z", "G")
	unfolded := screen(a)
	if !strings.Contains(unfolded, `"two"`) {
		t.Fatalf("z did not unfold:\n%s", unfolded)
	}
	golden(t, "detail_unfolded_120x40.txt", unfolded)
	_, cmd := a.Update(keyMsg("y"))
	if cmd == nil {
		t.Fatal("y returned no command")
	}
}

func TestGoldenTimeline(t *testing.T) {
	for _, sz := range sizes {
		a := newTestApp(t, sz.w, sz.h)
		send(t, a, "tab") // as left: 2 would open the Tail event's user
		s := screen(a)
		checkScreen(t, s, sz.w, sz.h)
		golden(t, fmt.Sprintf("timeline_%dx%d.txt", sz.w, sz.h), s)
	}
}

func TestTimelinePivots(t *testing.T) {
	a := newTestApp(t, 120, 40)
	send(t, a, ":")
	typeText(t, a, "user admin")
	send(t, a, "enter")
	if a.focus != paneTimeline {
		t.Fatal(":user did not open the timeline")
	}
	if c, v := a.tl.Subject(); c != ColUser || v != "admin" {
		t.Fatalf("subject = %v %q", c, v)
	}
	send(t, a, "i") // admin impersonated carol
	if _, v := a.tl.Subject(); v != "carol" {
		t.Fatalf("pivot to impersonated user gave %q", v)
	}
	// carol's timeline includes what admin did as carol.
	if n := len(a.tl.events); n != 6 {
		t.Fatalf("carol has %d events, want 6 (4 own + 2 impersonated)", n)
	}
	send(t, a, "p")
	if c, v := a.tl.Subject(); c != ColSourceIP || v == "" {
		t.Fatalf("pivot to IP gave %v %q", c, v)
	}
	golden(t, "timeline_ip_120x40.txt", screen(a))
	// enter on an event of the list opens its detail.
	send(t, a, "enter")
	if a.focus != paneDetail {
		t.Fatal("enter on a timeline event did not open the detail")
	}
}

func TestGoldenStats(t *testing.T) {
	for _, sz := range sizes {
		a := newTestApp(t, sz.w, sz.h)
		send(t, a, "4")
		s := screen(a)
		checkScreen(t, s, sz.w, sz.h)
		golden(t, fmt.Sprintf("stats_%dx%d.txt", sz.w, sz.h), s)
	}
}

func TestGoldenHelpAndRejects(t *testing.T) {
	for _, sz := range sizes {
		a := newTestApp(t, sz.w, sz.h)
		send(t, a, "?")
		s := screen(a)
		checkScreen(t, s, sz.w, sz.h)
		golden(t, fmt.Sprintf("help_%dx%d.txt", sz.w, sz.h), s)
		send(t, a, "esc", "R")
		s = screen(a)
		checkScreen(t, s, sz.w, sz.h)
		if !strings.Contains(s, "events.jsonl:31") {
			t.Errorf("reject location missing:\n%s", s)
		}
		golden(t, fmt.Sprintf("rejects_%dx%d.txt", sz.w, sz.h), s)
	}
}

package ui

import (
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
)

// press sends one key the harness's keyMsg does not name.
func press(t *testing.T, a *App, k tea.KeyPressMsg) {
	t.Helper()
	_, cmd := a.Update(k)
	runCmd(t, a, cmd)
}

var (
	ctrlU  = tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl}
	endKey = tea.KeyPressMsg{Code: tea.KeyEnd}
)

// TestFilterBarReplacesAndClears: / with a filter in use opens with it
// selected: typing replaces it (it used to be appended to: `|= "x"verb=...`
// and a parse error), the arrow keys keep it for editing; after an error the
// cursor stays at the end, and ctrl+u clears the whole input wherever the
// cursor is; only an error scrolled out of view moves the cursor to it.
func TestFilterBarReplacesAndClears(t *testing.T) {
	for _, sz := range sizes {
		a := newTestApp(t, sz.w, sz.h)
		setFilter(t, a, "payments")
		send(t, a, "/")
		s := screen(a)
		checkScreen(t, s, sz.w, sz.h)
		golden(t, fmt.Sprintf("filter_reopen_%dx%d.txt", sz.w, sz.h), s)
		if !strings.Contains(s, `/|= "payments"`) || !strings.Contains(s, "typing replaces the filter · ←/→ home/end edit it · ctrl+u clears") {
			t.Fatalf("%dx%d: / with a filter:\n%s", sz.w, sz.h, s)
		}
		typeText(t, a, `objectRef_resorce="secrets"`)
		if got := a.bar.Value(); got != `objectRef_resorce="secrets"` {
			t.Fatalf("%dx%d: typing after / gave %q: not a replacement", sz.w, sz.h, got)
		}
		send(t, a, "enter")
		if a.bar.err != "unknown field objectRef_resorce, did you mean objectRef_resource?" || a.bar.pos != len(a.bar.text) {
			t.Fatalf("%dx%d: error %q, cursor at %d of %d", sz.w, sz.h, a.bar.err, a.bar.pos, len(a.bar.text))
		}
		press(t, a, ctrlU)
		if a.bar.Value() != "" || !a.bar.Active() {
			t.Fatalf("%dx%d: ctrl+u after the error left %q", sz.w, sz.h, a.bar.Value())
		}
		typeText(t, a, `verb="get"`)
		send(t, a, "enter")
		if a.bar.Active() || a.filter.Text != `verb="get"` {
			t.Fatalf("%dx%d: filter %q (bar error %q)", sz.w, sz.h, a.filter.Text, a.bar.err)
		}
	}
	a := newTestApp(t, 80, 24)
	setFilter(t, a, `verb="get"`)
	// A moving key keeps the text: typing then edits it.
	send(t, a, "/")
	press(t, a, endKey)
	typeText(t, a, ` | user_username="alice"`)
	send(t, a, "enter")
	if a.filter.Text != `verb="get" | user_username="alice"` || a.c.Rows.Len() != 6 {
		t.Fatalf("edited filter %q, %d events", a.filter.Text, a.c.Rows.Len())
	}
	// backspace on the selection clears it (the bar stays open).
	send(t, a, "/", "backspace")
	if !a.bar.Active() || a.bar.Value() != "" {
		t.Fatalf("backspace on the selection: active %v, %q", a.bar.Active(), a.bar.Value())
	}
	// ctrl+u with the cursor inside the text clears all of it.
	typeText(t, a, `verb="list"`)
	send(t, a, "left", "left", "left")
	press(t, a, ctrlU)
	if a.bar.Value() != "" {
		t.Fatalf("ctrl+u in the middle left %q", a.bar.Value())
	}
	send(t, a, "esc")
	// An error near the start of a query too long for the screen: from the
	// end the column is out of view, so the cursor goes to it.
	a = newTestApp(t, 60, 24)
	send(t, a, "/")
	typeText(t, a, `verb=~"(get" | objectRef_namespace="payments" | objectRef_resource="pods" | user_username="alice"`)
	send(t, a, "enter")
	if a.bar.errCol != 7 || a.bar.pos != 6 {
		t.Fatalf("long query: error column %d, cursor %d; want the cursor at the column", a.bar.errCol, a.bar.pos)
	}
	s := screen(a)
	checkScreen(t, s, 60, 24)
	if !strings.Contains(s, "^") {
		t.Fatalf("no caret under the error:\n%s", s)
	}
}

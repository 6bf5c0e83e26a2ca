package ui

import (
	"context"
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/audittui/audittui/internal/data"
)

var shiftTab = tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}

// openBar opens the bar in mode and types text.
func openBar(t *testing.T, a *App, mode, text string) {
	t.Helper()
	if a.bar.Active() {
		send(t, a, "esc")
	}
	send(t, a, mode)
	a.bar.text, a.bar.pos, a.bar.sel = nil, 0, false
	typeText(t, a, text)
}

// tabs presses tab n times and returns the text after each.
func tabs(t *testing.T, a *App, n int) []string {
	t.Helper()
	var out []string
	for range n {
		send(t, a, "tab")
		out = append(out, a.bar.Value())
	}
	return out
}

// TestTabCompletesCommands: tab in the `:` line completes every command's
// name (a space after one that takes an argument), :user's users and
// :ip's addresses from the index; ambiguous, it cycles (shift+tab back,
// the word as typed after the last); what tab adds is shown greyed after
// the cursor (k9s).
func TestTabCompletesCommands(t *testing.T) {
	a := newTestApp(t, 120, 40)
	for _, c := range commands {
		for _, n := range []int{1, len(c.name) - 1} {
			openBar(t, a, ":", c.name[:max(1, n)])
			want := c.name
			if c.parse != nil {
				want += " "
			}
			cands, _ := a.bar.candidates()
			got := ""
			for range len(cands) + 1 {
				if got = tabs(t, a, 1)[0]; got == want {
					break
				}
			}
			if got != want {
				t.Errorf(":%s and tabs never gave %q (candidates %q)", c.name[:max(1, n)], want, cands)
			}
		}
	}
	// u: user, undo, untag, unsilence, in the help's order; then u again.
	openBar(t, a, ":", "u")
	if got, want := tabs(t, a, 5), []string{"user ", "undo", "untag ", "unsilence", "u"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf(":u and tabs: %q, want %q", got, want)
	}
	press(t, a, shiftTab)
	if got := a.bar.Value(); got != "unsilence" {
		t.Errorf(":u, shift+tab: %q, want the last candidate", got)
	}
	for _, sz := range sizes {
		a := newTestApp(t, sz.w, sz.h)
		openBar(t, a, ":", "u")
		tabs(t, a, 2)
		s := screen(a)
		checkScreen(t, s, sz.w, sz.h)
		golden(t, fmt.Sprintf("complete_cycle_%dx%d.txt", sz.w, sz.h), s)
		if !strings.Contains(s, ":undo") || !strings.Contains(s, "tab 2/4: user undo untag unsilence") {
			t.Errorf("%dx%d: the cycle is not shown:\n%s", sz.w, sz.h, s)
		}
		// The ghost: :us shows :user, enter still runs what was typed.
		openBar(t, a, ":", "us")
		s = screen(a)
		golden(t, fmt.Sprintf("complete_ghost_%dx%d.txt", sz.w, sz.h), s)
		if a.bar.ghost != "er " || !strings.Contains(s, ":user") {
			t.Errorf("%dx%d: ghost %q:\n%s", sz.w, sz.h, a.bar.ghost, s)
		}
	}
	// :user NAME: the users, starts first, then parts of names.
	openBar(t, a, ":", "user ca")
	if got := tabs(t, a, 1)[0]; got != "user carol" {
		t.Errorf(":user ca<tab> = %q", got)
	}
	send(t, a, "enter")
	if _, v := a.tl.Subject(); v != "carol" || a.focus != paneTimeline {
		t.Errorf(":user carol completed: timeline of %q", v)
	}
	openBar(t, a, ":", "u ice")
	if got := tabs(t, a, 1)[0]; got != "u alice" {
		t.Errorf(":u ice<tab> = %q (part of a name)", got)
	}
	openBar(t, a, ":", "user ")
	var users []string
	for _, u := range a.c.Snap.Values(ColUser) {
		if u != "" && !strings.ContainsAny(u, " \t") {
			users = append(users, "user "+u)
		}
	}
	got := tabs(t, a, len(users))
	for _, u := range users {
		if !strings.Contains(strings.Join(got, "\n")+"\n", u+"\n") {
			t.Errorf(":user <tab>... never offered %q (%q)", u, got)
		}
	}
	// :ip ADDR: the source IPs.
	ip := a.c.Snap.Values(ColSourceIP)[1]
	openBar(t, a, ":", "ip "+ip[:len(ip)-1])
	if got := tabs(t, a, 1)[0]; !strings.HasPrefix(got, "ip "+ip[:len(ip)-1]) || len(got) <= len("ip "+ip[:len(ip)-1]) {
		t.Errorf(":ip %s<tab> = %q", ip[:len(ip)-1], got)
	}
	// Other commands' arguments are not completed.
	openBar(t, a, ":", "note ca")
	if got := tabs(t, a, 1)[0]; got != "note ca" {
		t.Errorf(":note ca<tab> = %q", got)
	}
}

// TestTabCompletesLabelsAndFields: in the filter bar, inside {...} tab
// completes the sources' label names and their values; after | json |
// the field names (as | json names them) and the label names, and after
// field=" the index's values, keeping the operator; nothing inside a
// quoted search.
func TestTabCompletesLabelsAndFields(t *testing.T) {
	ix := loadIndexLabels(t, "testdata/events.jsonl", data.Labels{{Name: "job", Value: "audit"}, {Name: "host", Value: "cp-1"}})
	a := New(context.Background(), ix, nil, Options{Title: "events.jsonl", NoColor: true, Compile: CompileLogQL})
	a.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	for _, c := range []struct{ typed, want string }{
		{`{ho`, `{host`},
		{`{host="`, `{host="cp-1"`},
		{`{job="audit", ho`, `{job="audit", host`},
		{`{us`, `{us`}, // a field is not a stream label
		{`{job="audit"} | json | user_user`, `{job="audit"} | json | user_username`},
		{`{job="audit"} | json | ho`, `{job="audit"} | json | host`},
		{`{job="audit"} | json | host="c`, `{job="audit"} | json | host="cp-1"`},
		{`{job="audit"} | json | user_username!="ca`, `{job="audit"} | json | user_username!="carol"`},
		{`user_username=~"ca`, `user_username=~"carol"`},
		{`{job="audit"} |= "user_user`, `{job="audit"} |= "user_user`}, // a search, not a field
		{`objectRef_res`, `objectRef_resource`},
	} {
		openBar(t, a, "/", c.typed)
		if got := tabs(t, a, 1)[0]; got != c.want {
			t.Errorf("%s<tab> = %q, want %q", c.typed, got, c.want)
		}
	}
	// Every completed query compiles.
	openBar(t, a, "/", `{host="`)
	tabs(t, a, 1)
	typeText(t, a, `} | json | user_username!="ca`)
	tabs(t, a, 1)
	send(t, a, "enter")
	if a.bar.Active() {
		t.Fatalf("%s: %s", a.bar.Value(), a.bar.err)
	}
	if n := a.c.Rows.Len(); n == 0 || n == a.c.Snap.Len() {
		t.Errorf("the completed filter matches %d of %d", n, a.c.Snap.Len())
	}
}

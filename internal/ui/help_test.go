package ui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// helpText renders the whole help (a screen tall enough for all of it),
// unstyled.
func helpText(t *testing.T) string {
	t.Helper()
	a := newTestApp(t, 140, 400)
	send(t, a, "?")
	return screen(a)
}

// TestHelpListsEveryBindingAndCommand: the help is built from the key
// table and the command table, so every binding (key and description) and
// every command (usage, description, each alias) is in it.
func TestHelpListsEveryBindingAndCommand(t *testing.T) {
	s := helpText(t)
	for _, b := range DefaultKeymap().Bindings {
		h := b.Key.Help()
		if !strings.Contains(s, "  "+h.Key+" ") || !strings.Contains(s, h.Desc) {
			t.Errorf("help lacks the %s binding %q: %q", b.Scope, h.Key, h.Desc)
		}
	}
	for _, c := range commands {
		if !strings.Contains(s, c.usage) || !strings.Contains(s, c.desc) {
			t.Errorf("help lacks the command %s (%s)", c.usage, c.desc)
		}
		for _, n := range append([]string{c.name}, c.aliases...) {
			if !strings.Contains(s, ":"+n) {
				t.Errorf("help does not name :%s", n)
			}
			// And the name parses to the command.
			args := ""
			if strings.Contains(c.usage, " ") {
				args = " " + strings.Fields(c.usage)[1]
				if c.name == "since" {
					args = " 1h"
				}
			}
			if got, err := parseCommand(n + args); err != nil || got.name != c.name {
				t.Errorf(":%s%s parses to %+v, %v", n, args, got, err)
			}
		}
	}
	for _, tip := range filterTips {
		if !strings.Contains(s, tip.desc) {
			t.Errorf("help lacks the filter tip %q", tip.desc)
		}
	}
	// The examples of what was unreachable at 80x24.
	for _, want := range []string{"q/ctrl+c", "space", "copy the raw line", "copy the citation", "fold/unfold", "next stage", "carrier record", "pivot to impersonated user", "pivot to source IP", "pivot to the event's user", "filter every pane to the alert's events", ":since 1h", ":clear", "/!query"} {
		if !strings.Contains(s, want) {
			t.Errorf("help lacks %q", want)
		}
	}
}

// TestHelpScrollsAndSearches: at 80x24 and 120x40 the help scrolls to its
// end (golden) and back, and / keeps only the lines that match.
func TestHelpScrollsAndSearches(t *testing.T) {
	all := helpText(t)
	lastTip := filterTips[len(filterTips)-1].desc[:20]
	for _, sz := range sizes {
		a := newTestApp(t, sz.w, sz.h)
		send(t, a, "?")
		first := screen(a)
		if strings.Contains(first, lastTip) {
			t.Fatalf("%dx%d: the help fits one screen; this test wants it to scroll", sz.w, sz.h)
		}
		send(t, a, "G")
		s := screen(a)
		checkScreen(t, s, sz.w, sz.h)
		golden(t, fmt.Sprintf("help_end_%dx%d.txt", sz.w, sz.h), s)
		if !strings.Contains(s, "(end)") || !strings.Contains(s, "  "+filterTips[len(filterTips)-1].key+" ") {
			t.Fatalf("%dx%d: G did not reach the end of the help:\n%s", sz.w, sz.h, s)
		}
		// Page by page from the top reaches every line too.
		send(t, a, "g")
		seen := map[string]bool{}
		for range 20 {
			for _, l := range strings.Split(screen(a), "\n") {
				seen[strings.TrimSpace(l)] = true
			}
			send(t, a, "pgdown")
		}
		for _, l := range strings.Split(all, "\n")[2 : len(strings.Split(all, "\n"))-2] {
			l = strings.TrimSpace(l)
			if l != "" && !strings.HasPrefix(l, "Help") && len(l) < sz.w-4 && !seen[l] {
				t.Errorf("%dx%d: paging never shows %q", sz.w, sz.h, l)
			}
		}
		// j scrolls by one line, q closes.
		send(t, a, "g", "j")
		if a.helpv.top != 1 {
			t.Fatalf("j: top %d", a.helpv.top)
		}
		// / searches: only matching lines, under their section.
		send(t, a, "/")
		typeText(t, a, "pivot")
		send(t, a, "enter")
		s = screen(a)
		checkScreen(t, s, sz.w, sz.h)
		if !strings.Contains(s, "pivot to source IP") || strings.Contains(s, "copy the raw line") || !strings.Contains(s, "timeline pane") {
			t.Fatalf("%dx%d: search for pivot:\n%s", sz.w, sz.h, s)
		}
		// esc drops the search, a second esc closes the help.
		send(t, a, "esc")
		if !a.help || a.helpv.Query() != "" {
			t.Fatalf("esc with a search: help %v query %q", a.help, a.helpv.Query())
		}
		send(t, a, "q")
		if a.help || a.quitting {
			t.Fatalf("q in the help: help %v quitting %v", a.help, a.quitting)
		}
	}
}

// TestREADMEKeyTable: README's key table names every key of every pane
// (the keymap's global scope), so a new key is documented there too.
func TestREADMEKeyTable(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "| `") {
			rows = append(rows, strings.SplitN(l, " | ", 2)[0])
		}
	}
	for _, bd := range DefaultKeymap().Scope(ScopeGlobal) {
		keys := strings.Split(bd.Key.Help().Key, "/")
		if bd.Key.Help().Key == "/" {
			keys = []string{"/"}
		}
		for _, k := range keys {
			if bd.Action >= ActPane1 && bd.Action <= ActPane5 {
				k = "1` ... `5" // one row for the five
			}
			found := false
			for _, r := range rows {
				if strings.Contains(r, "`"+k+"`") || strings.Contains(r, "`"+k+"/") || strings.Contains(r, "/`"+k+"`") {
					found = true
				}
			}
			if !found {
				t.Errorf("README's key table lacks %s (%s)", k, bd.Key.Help().Desc)
			}
		}
	}
}

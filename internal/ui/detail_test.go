package ui

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/termsafe/termsafetest"
)

// openEvent filters to q and opens the first match in Detail.
func openEvent(t *testing.T, a *App, q string) {
	t.Helper()
	send(t, a, "/")
	a.bar.text, a.bar.pos = nil, 0
	typeText(t, a, q)
	send(t, a, "enter", "g", "enter")
	if a.focus != paneDetail || !a.detail.loaded {
		t.Fatalf("%s: detail not opened (focus %d)", q, a.focus)
	}
}

// detailJSON returns the JSON part of what Detail shows (after the
// summary's blank line and the carrier record's title), continuation
// lines joined back.
func detailJSON(t *testing.T, d *Detail) string {
	t.Helper()
	start := -1
	for k, l := range d.plain {
		if l == "" {
			start = k + 1
			break
		}
	}
	if start < 0 {
		t.Fatal("no JSON in the detail")
	}
	if start < len(d.plain) && strings.HasPrefix(d.plain[start], "carrier record ") {
		start++ // the title of the carrier record (c)
	}
	var b strings.Builder
	indent := 0
	for k := start; k < len(d.plain); k++ {
		l := d.plain[k]
		if d.cont[k] {
			b.WriteString(l[indent+2:])
			continue
		}
		indent = len(l) - len(strings.TrimLeft(l, " "))
		b.WriteString("\n")
		b.WriteString(l)
	}
	return b.String()
}

// TestDetailShowsValidJSON: for events with quotes, backslashes, control
// characters, escape sequences and bidi controls in their values, what
// Detail shows (sanitised, wrapped or not) parses as JSON and equals the
// event; and it holds nothing a terminal would interpret.
func TestDetailShowsValidJSON(t *testing.T) {
	cases := []struct{ fixture, query string }{
		{"testdata/identities.jsonl", `user_username="alice@corp.example"`},                  // quotes, \, BEL, tab, newline
		{"testdata/events.jsonl", `objectRef_namespace="default"`},                           // ESC, OSC, BEL, U+202E, U+2066
		{"testdata/events.jsonl", `objectRef_subresource="exec" | stage="ResponseComplete"`}, // %-escapes, &
	}
	for _, tc := range cases {
		for _, w := range []int{60, 80, 200} {
			for _, wrap := range []bool{true, false} {
				name := fmt.Sprintf("%s/%d/wrap=%v", tc.query, w, wrap)
				a := newTestAppFile(t, tc.fixture, w, 40)
				openEvent(t, a, tc.query)
				send(t, a, "z") // unfold request/response objects
				if !wrap {
					send(t, a, "w")
				}
				if a.detail.wrap != wrap {
					t.Fatalf("%s: wrap %v", name, a.detail.wrap)
				}
				shown := detailJSON(t, a.detail)
				if err := termsafetest.CheckLines(strings.Join(a.detail.plain, "\n")); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				var got, want any
				if err := json.Unmarshal([]byte(shown), &got); err != nil {
					t.Fatalf("%s: what Detail shows is not JSON: %v\n%s", name, err, shown)
				}
				raw, _ := a.detail.RawLine()
				if err := json.Unmarshal(raw, &want); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("%s: Detail's JSON differs from the event:\n%s", name, shown)
				}
				if wrap {
					// (The summary's own lines are cut by View.)
					start := 0
					for k, l := range a.detail.plain {
						if l == "" {
							start = k
							break
						}
					}
					for k, l := range a.detail.lines[start:] {
						if termsafeWidth(l) > w {
							t.Fatalf("%s: line %d is wider than %d: %q", name, k, w, a.detail.plain[k])
						}
					}
				}
			}
		}
	}
}

func termsafeWidth(s string) int { return len([]rune(stripANSI(s))) }

func stripANSI(s string) string { return ansiStrip(s) }

// TestGoldenDetailWrapped: a long value (an admission webhook's message)
// wraps and can be read whole at 80x24 and 120x40; w shows it on one line,
// scrolled sideways with →/← (h is the history, as on every pane).
func TestGoldenDetailWrapped(t *testing.T) {
	for _, sz := range sizes {
		a := newTestAppFile(t, "testdata/identities.jsonl", sz.w, sz.h)
		openEvent(t, a, `user_username="alice@corp.example"`)
		// Scroll to the response status.
		for range len(a.detail.plain) {
			if strings.Contains(a.detail.plain[a.detail.top], `"responseStatus"`) {
				break
			}
			send(t, a, "j")
		}
		s := screen(a)
		checkScreen(t, s, sz.w, sz.h)
		golden(t, fmt.Sprintf("detail_wrapped_%dx%d.txt", sz.w, sz.h), s)
		if !strings.Contains(strings.Join(strings.Fields(s), ""), `trusted.pem)\u0007\ttab`) {
			t.Fatalf("the message is not shown whole:\n%s", s)
		}
		if strings.Contains(s, "…") {
			t.Fatalf("a value is cut:\n%s", s)
		}
		send(t, a, "w")
		one := screen(a)
		checkScreen(t, one, sz.w, sz.h)
		send(t, a, "right", "right", "right", "right", "right", "right", "right", "right")
		if a.detail.left == 0 {
			t.Fatal("→ did not scroll sideways")
		}
		moved := screen(a)
		checkScreen(t, moved, sz.w, sz.h)
		if moved == one {
			t.Fatal("the view did not move")
		}
		// h is the history everywhere, not a sideways scroll.
		left := a.detail.left
		send(t, a, "h")
		if a.detail.left != left || (!a.histOpen && !strings.Contains(a.status, "object")) {
			t.Fatalf("h in Detail: left %d (was %d), history open %v, status %q", a.detail.left, left, a.histOpen, a.status)
		}
		if a.histOpen {
			send(t, a, "esc")
			if a.histOpen || a.focus != paneDetail {
				t.Fatalf("esc from the history: open %v, focus %d", a.histOpen, a.focus)
			}
		}
		send(t, a, "left", "left", "left", "left", "left", "left", "left", "left", "left", "left")
		if a.detail.left != 0 {
			t.Fatalf("←: left %d", a.detail.left)
		}
	}
}

// TestDetailSearch: / finds text in the event, n and N step through the
// matches (the view scrolls to them), esc drops the search.
func TestDetailSearch(t *testing.T) {
	a := newTestAppFile(t, "testdata/identities.jsonl", 80, 24)
	openEvent(t, a, `user_username="alice@corp.example"`)
	before := a.filter
	send(t, a, "/")
	if a.bar.Mode() != 's' {
		t.Fatalf("/ in Detail opened the %q bar", a.bar.Mode())
	}
	typeText(t, a, "payments")
	send(t, a, "enter")
	d := a.detail
	if len(d.matches) < 3 {
		t.Fatalf("%d lines match payments", len(d.matches))
	}
	if a.filter != before {
		t.Fatal("the detail search changed the filter")
	}
	first := d.matches[d.cur2]
	send(t, a, "n")
	second := d.matches[d.cur2]
	if second <= first {
		t.Fatalf("n went from line %d to %d", first, second)
	}
	if second < d.top || second >= d.top+d.bodyHeight() {
		t.Fatalf("match line %d not in view (top %d)", second, d.top)
	}
	send(t, a, "N")
	if d.matches[d.cur2] != first {
		t.Fatal("N did not go back")
	}
	// Wrap around from the first to the last.
	send(t, a, "N")
	if d.cur2 != len(d.matches)-1 {
		t.Fatalf("N from the first match: %d", d.cur2)
	}
	s := screen(a)
	if !strings.Contains(s, "of") || !strings.Contains(s, "payments") {
		t.Fatalf("status does not count matches:\n%s", s)
	}
	// Smart case: upper case in the query matches case.
	d.SetSearch("PAYMENTS")
	if len(d.matches) != 0 {
		t.Fatalf("PAYMENTS matches %d lines", len(d.matches))
	}
	send(t, a, "/", "esc")
	if d.Query() != "" || len(d.matches) != 0 {
		t.Fatalf("esc left the search %q", d.Query())
	}
}

// TestDetailBeforeAnyEvent: 5 with nothing opened shows the event under
// the Tail's cursor; with no event at all it says how to open one.
func TestDetailBeforeAnyEvent(t *testing.T) {
	a := newTestApp(t, 80, 24)
	send(t, a, "5")
	if a.focus != paneDetail || !a.detail.loaded {
		t.Fatalf("5: focus %d loaded %v", a.focus, a.detail.loaded)
	}
	empty := New(t.Context(), NewIndex(t.TempDir(), nil), nil, Options{NoColor: true, Compile: CompileLogQL})
	empty.Update(windowSize(80, 24))
	send(t, empty, "5")
	if s := screen(empty); !strings.Contains(s, "no event selected") || strings.Contains(s, "loading event") {
		t.Fatalf("5 with no events:\n%s", s)
	}
}

// TestDetailVerbNone: an event without a verb (Panther's fixtures have
// some) shows "(none)" before its request URI, not a blank.
func TestDetailVerbNone(t *testing.T) {
	f := filepath.Join(t.TempDir(), "noverb.jsonl")
	line := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/prod/secrets/db","user":{"username":"u"},"objectRef":{"resource":"secrets","namespace":"prod","name":"db"},"responseStatus":{"code":200},"stageTimestamp":"2026-11-20T02:00:00Z"}` + "\n"
	if err := os.WriteFile(f, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	a := newTestAppFile(t, f, 100, 30)
	send(t, a, "5")
	if !a.detail.loaded {
		t.Fatal("detail not opened")
	}
	found := false
	for _, l := range a.detail.plain {
		if strings.HasPrefix(l, "verb ") {
			found = true
			if f := strings.Fields(l); len(f) != 3 || f[1] != "(none)" || f[2] != "/api/v1/namespaces/prod/secrets/db" {
				t.Errorf("verb line %q, want (none) and the URI", l)
			}
		}
	}
	if !found {
		t.Errorf("no verb line:\n%s", strings.Join(a.detail.plain, "\n"))
	}
}

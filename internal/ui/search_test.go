package ui

import (
	"fmt"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// TestWordIsALineFilter: text that is not LogQL searches the events'
// text (|= "word"), and the bar says so.
func TestWordIsALineFilter(t *testing.T) {
	a := newTestApp(t, 80, 24)
	send(t, a, "/")
	typeText(t, a, "bootstrap")
	typing := screen(a)
	if !strings.Contains(typing, `enter: search the events' text for "bootstrap"`) {
		t.Fatalf("the bar does not say what enter will do:\n%s", typing)
	}
	send(t, a, "enter")
	if a.bar.Active() {
		t.Fatalf("plain word rejected: %s", a.bar.err)
	}
	if a.filter.Text != `|= "bootstrap"` {
		t.Fatalf("filter text %q, want the LogQL line filter", a.filter.Text)
	}
	if got := a.c.Rows.Len(); got != 1 {
		t.Fatalf("bootstrap matches %d events, want 1 (the bootstrap-token secret)", got)
	}
	s := screen(a)
	checkScreen(t, s, 80, 24)
	if !strings.Contains(s, `filter |= "bootstrap"  (not LogQL: searching`) {
		t.Fatalf("filter line does not show the LogQL and the note:\n%s", s)
	}
	// Words with parentheses (a user agent, each word a line filter), a
	// quoted phrase, and the negated form (!= in LogQL).
	for _, tc := range []struct {
		typed, text string
		want        int
	}{
		{"kubectl/v1.31.0 (linux/amd64)", `|= "kubectl/v1.31.0" |= "(linux/amd64)"`, 0},
		{`"kubectl/v1.31.0 (linux/amd64)"`, `|= "kubectl/v1.31.0 (linux/amd64)"`, 0},
		{`"payments/settings"`, `|= "payments/settings"`, 0},
		{"!bootstrap", `!= "bootstrap"`, 29},
	} {
		send(t, a, "/")
		a.bar.text, a.bar.pos = nil, 0
		typeText(t, a, tc.typed)
		send(t, a, "enter")
		if a.bar.Active() || a.filter.Text != tc.text {
			t.Fatalf("%q: filter %q (bar error %q), want %q", tc.typed, a.filter.Text, a.bar.err, tc.text)
		}
		if tc.want > 0 && a.c.Rows.Len() != tc.want {
			t.Fatalf("%q matches %d, want %d", tc.typed, a.c.Rows.Len(), tc.want)
		}
	}
	// The same words through `audittui query` semantics: the filter line
	// holds a query the CLI accepts (TestTUIQueriesAreLogQL checks the
	// answers agree for the queries the TUI writes).
	if _, err := CompileLogQL(`{job="audit"} | json ` + `|= "bootstrap"`); err != nil {
		t.Fatal(err)
	}
}

// TestSeveralWordsAreAllSearched: several plain words are an AND of
// line filters (lnav and k9s users type "payments exec" for the events
// that have both), shown in the filter line as that LogQL; a quoted phrase
// is one line filter; /! with several words hides the events that have
// any of them. The bar says what enter will do.
func TestSeveralWordsAreAllSearched(t *testing.T) {
	for _, sz := range sizes {
		a := newTestApp(t, sz.w, sz.h)
		send(t, a, "/")
		typeText(t, a, "payments exec")
		typing := screen(a)
		checkScreen(t, typing, sz.w, sz.h)
		if !strings.Contains(typing, `enter: search the events' text for "payments" and "exec"`) {
			t.Fatalf("%dx%d: the bar does not say what enter will do:\n%s", sz.w, sz.h, typing)
		}
		send(t, a, "enter")
		s := screen(a)
		checkScreen(t, s, sz.w, sz.h)
		golden(t, fmt.Sprintf("search_words_%dx%d.txt", sz.w, sz.h), s)
		if a.filter.Text != `|= "payments" |= "exec"` || a.c.Rows.Len() != 2 {
			t.Fatalf("%dx%d: filter %q, %d events; want both words, 2 (alice's execs in payments)", sz.w, sz.h, a.filter.Text, a.c.Rows.Len())
		}
		if !strings.Contains(s, `filter |= "payments" |= "exec"  (not LogQL: searching each event's text for "payments" and "exec")`) &&
			!strings.Contains(s, `filter |= "payments" |= "exec"  (not LogQL: searching`) {
			t.Fatalf("%dx%d: filter line:\n%s", sz.w, sz.h, s)
		}
	}
	a := newTestApp(t, 120, 40)
	for _, tc := range []struct {
		typed, text string
		want        int
	}{
		{"exec payments", `|= "exec" |= "payments"`, 2},
		{"  payments   exec ", `|= "payments" |= "exec"`, 2},
		{`"payments exec"`, `|= "payments exec"`, 0},
		{"`payments` \"api-0/exec\"", `|= "payments" |= "api-0/exec"`, 2},
		{"!payments exec", `!= "payments" != "exec"`, 7},
	} {
		setFilter(t, a, tc.typed)
		if a.filter.Text != tc.text || a.c.Rows.Len() != tc.want {
			t.Errorf("%q: filter %q, %d events; want %q, %d", tc.typed, a.filter.Text, a.c.Rows.Len(), tc.text, tc.want)
		}
	}
	if !strings.Contains(a.filter.Note, `has none of "payments" or "exec"`) {
		t.Errorf("negated words: note %q", a.filter.Note)
	}
	// A quote glued to more text is no LogQL either: searched as typed,
	// as grep would (review I 5; it was a parse error).
	send(t, a, "/")
	a.bar.text, a.bar.pos = nil, 0
	typeText(t, a, `"payments"exec`)
	send(t, a, "enter")
	if a.bar.Active() || a.filter.Text != "|= `\"payments\"exec`" {
		t.Errorf(`"payments"exec: filter %q (bar open %v), want a literal search`, a.filter.Text, a.bar.Active())
	}
	send(t, a, "esc")
	// What the filter line shows is LogQL the CLI accepts.
	if _, err := CompileLogQL(`{job="audit"} | json |= "payments" |= "exec"`); err != nil {
		t.Fatal(err)
	}
}

func TestUnknownFieldDidYouMean(t *testing.T) {
	tests := []struct {
		typed, want string
	}{
		{`objectRef_resorce="pods"`, "unknown field objectRef_resorce, did you mean objectRef_resource?"},
		{`user_usernme="bob"`, "unknown field user_usernme, did you mean user_username?"},
		{`verb="get" | objectref_namespace="payments"`, "unknown field objectref_namespace, did you mean objectRef_namespace?"},
		{`responseStatus_cdoe >= 400`, "unknown field responseStatus_cdoe, did you mean responseStatus_code?"},
		{`requestObjct_spec_replicas > 3`, "unknown field requestObjct_spec_replicas, did you mean requestObject_spec_replicas?"},
		{`user_username`, `user_username is a field: compare it with a value, e.g. user_username="..."`},
	}
	for _, tt := range tests {
		t.Run(tt.typed, func(t *testing.T) {
			a := newTestApp(t, 80, 24)
			send(t, a, "/")
			typeText(t, a, tt.typed)
			send(t, a, "enter")
			if !a.bar.Active() || a.bar.err != tt.want {
				t.Fatalf("error %q, want %q", a.bar.err, tt.want)
			}
			s := screen(a)
			checkScreen(t, s, 80, 24)
			// (A long message wraps onto a second line.)
			if !strings.Contains(strings.Join(strings.Fields(s), " "), tt.want) {
				t.Fatalf("screen does not show the error:\n%s", s)
			}
		})
	}
	// Known names are fine: fields, names under a family, stream labels,
	// names the query binds.
	for _, ok := range []string{
		`objectRef_resource="pods"`,
		`requestObject_spec_replicas > 3`,
		`annotations_authorization_k8s_io_decision="forbid"`,
		`filename=~".*events.*"`,
		`json ip="sourceIPs[0]" | ip="10.0.0.5"`,
	} {
		a := newTestApp(t, 80, 24)
		send(t, a, "/")
		typeText(t, a, ok)
		send(t, a, "enter")
		if a.bar.Active() {
			t.Errorf("%s: rejected: %s", ok, a.bar.err)
		}
	}
	// A far-off unknown name (a field the schema does not list) is
	// allowed, with a note.
	a := newTestApp(t, 80, 24)
	send(t, a, "/")
	typeText(t, a, `responseStatus_details_kind="pods"`)
	send(t, a, "enter")
	if a.bar.Active() || !strings.Contains(a.filter.Note, "responseStatus_details_kind is not a known field") {
		t.Fatalf("far-off name: active %v err %q note %q", a.bar.Active(), a.bar.err, a.filter.Note)
	}
}

// TestParseErrorsFitTheWidth: a long query's error at 60 and 80 columns
// stays on screen, the caret under the column in the scrolled input.
func TestParseErrorsFitTheWidth(t *testing.T) {
	for _, w := range []int{60, 80} {
		a := newTestApp(t, w, 24)
		send(t, a, "/")
		q := `verb="get" | objectRef_namespace="payments" | objectRef_resource="pods" | user_username=~"(ali"`
		typeText(t, a, q)
		send(t, a, "enter")
		s := screen(a)
		checkScreen(t, s, w, 24)
		lines := strings.Split(s, "\n")
		var caret, msg int = -1, -1
		for k, l := range lines {
			if strings.TrimSpace(l) == "^" || strings.HasSuffix(strings.TrimRight(l, " "), "^") || strings.Contains(l, "^ ") {
				caret = k
			}
			if strings.Contains(l, "missing closing )") || strings.Contains(l, "(ali") {
				msg = k
			}
		}
		if caret < 0 || msg < 0 {
			t.Fatalf("%d columns: caret line %d, message line %d:\n%s", w, caret, msg, s)
		}
		// The caret points at the regexp's opening quote in the input.
		input := lines[caret-1]
		col := strings.Index(lines[caret], "^")
		if col < 0 || col >= ansi.StringWidth(input) || !strings.HasPrefix(string([]rune(input)[col:]), `"(ali`) {
			t.Fatalf("%d columns: caret at %d under %q:\n%s", w, col, input, s)
		}
	}
}

// TestEscClearsAndUUndoes: esc on the Tail clears the filter and says how
// to get it back; u (and :undo) restore the filters in reverse order.
func TestEscClearsAndUUndoes(t *testing.T) {
	a := newTestApp(t, 80, 24)
	send(t, a, "/")
	typeText(t, a, `verb="get"`)
	send(t, a, "enter", "/")
	a.bar.text, a.bar.pos = nil, 0
	typeText(t, a, `verb="get" | user_username="alice"`)
	send(t, a, "enter")
	if a.c.Rows.Len() != 6 {
		t.Fatalf("alice's gets: %d", a.c.Rows.Len())
	}
	send(t, a, "esc")
	s := screen(a)
	if a.filter.Active() || !strings.Contains(s, "filter cleared · u (or :undo) brings it back") {
		t.Fatalf("esc: filter %q:\n%s", a.filter.Text, s)
	}
	send(t, a, "u")
	if a.filter.Text != `verb="get" | user_username="alice"` || a.c.Rows.Len() != 6 {
		t.Fatalf("u: filter %q, %d rows", a.filter.Text, a.c.Rows.Len())
	}
	if s := screen(a); !strings.Contains(s, `undone: back to verb="get" | user_username="alice"`) {
		t.Fatalf("u does not say what it restored:\n%s", s)
	}
	send(t, a, ":")
	typeText(t, a, "undo")
	send(t, a, "enter")
	if a.filter.Text != `verb="get"` {
		t.Fatalf(":undo: filter %q", a.filter.Text)
	}
	send(t, a, "u", "u")
	if a.filter.Active() || !strings.Contains(screen(a), "nothing to undo") {
		t.Fatalf("undo past the first change: %q\n%s", a.filter.Text, screen(a))
	}
}

// TestOrBetweenWordsIsEither: or between two plain words is either of
// them, Loki 3's line filter alternatives (exec or attach -> |= "exec" or
// "attach"), binding tighter than the words' and; it was a third word
// (|= "exec" |= "or" |= "attach": no event, and nothing said). A quoted
// "or", or an or with no word on one side, is a word. /! hides the events
// that have any of the words. The bar says what enter will do.
func TestOrBetweenWordsIsEither(t *testing.T) {
	a := newTestApp(t, 120, 40)
	count := func(text string) int {
		t.Helper()
		setFilter(t, a, text)
		return a.c.Rows.Len()
	}
	either := count(`|~ "exec|bootstrap"`)
	if either != 3 {
		t.Fatalf(`|~ "exec|bootstrap": %d events, want 3 (two execs, the bootstrap-token secret)`, either)
	}
	for _, tc := range []struct {
		typed, text string
		want        int
	}{
		{"exec or bootstrap", `|= "exec" or "bootstrap"`, either},
		{"exec or bootstrap or payments", `|= "exec" or "bootstrap" or "payments"`, count(`|~ "exec|bootstrap|payments"`)},
		{"payments exec or bootstrap", `|= "payments" |= "exec" or "bootstrap"`, count(`|= "payments" |~ "exec|bootstrap"`)},
		{`exec "or" bootstrap`, `|= "exec" |= "or" |= "bootstrap"`, 0},
		{"or", `|= "or"`, count(`|= "or"`)},
		{"exec or", `|= "exec" |= "or"`, count(`|= "exec" |= "or"`)},
		{"exec or or bootstrap", `|= "exec" |= "or" |= "or" |= "bootstrap"`, 0},
		{"!exec or bootstrap", `!= "exec" != "bootstrap"`, a.c.Snap.Len() - either},
	} {
		setFilter(t, a, tc.typed)
		if a.filter.Text != tc.text || a.c.Rows.Len() != tc.want {
			t.Errorf("%q: filter %q, %d events; want %q, %d", tc.typed, a.filter.Text, a.c.Rows.Len(), tc.text, tc.want)
		}
	}
	setFilter(t, a, "payments exec or bootstrap")
	if want := `searching each event's text for "payments" and ("exec" or "bootstrap")`; !strings.Contains(a.filter.Note, want) {
		t.Errorf("note %q, want %q", a.filter.Note, want)
	}
	send(t, a, "/")
	a.bar.text, a.bar.pos = nil, 0
	typeText(t, a, "exec or bootstrap")
	if s := screen(a); !strings.Contains(s, `enter: search the events' text for "exec" or "bootstrap" (not LogQL)`) {
		t.Errorf("the bar does not say what enter will do:\n%s", s)
	}
	send(t, a, "esc")
	// What the filter line shows is LogQL the CLI accepts.
	if _, err := CompileLogQL(`{job="audit"} | json |= "payments" |= "exec" or "bootstrap"`); err != nil {
		t.Fatal(err)
	}
}

// TestFilterLineTypedBack: for every form the filter bar takes, what the
// filter line then shows, typed into / again, is the same filter. /!word
// shows != "word", which / read as the negation of = "word" (a parse
// error) while `audittui query` takes it.
func TestFilterLineTypedBack(t *testing.T) {
	a := newTestApp(t, 160, 40)
	for _, typed := range []string{
		"bootstrap",
		"payments exec",
		`"payments exec"`,
		"`payments` \"api-0/exec\"",
		"exec or bootstrap",
		"payments exec or bootstrap",
		"!bootstrap",
		"!payments exec",
		"!exec or bootstrap",
		`verb="delete"`,
		`!verb="delete"`,
		`| verb="get" | user_username="alice"`,
		`|= "secrets"`,
		`!= "kube-system"`,
		`!~ "kube-.*"`,
		`|~ "exec|bootstrap"`,
		`!verb="get" or verb="list"`,
		`{job="audit"} | json | verb="get"`,
		`!{job="audit"} |= "payments"`,
	} {
		setFilter(t, a, typed)
		want, wantNeg, wantRows := a.filter.lq.String(), a.filter.Negate, a.c.Rows.Len()
		shown := a.filterText()
		if s := screen(a); !strings.Contains(s, "filter "+shown) {
			t.Errorf("%q: the filter line does not show %q:\n%s", typed, shown, s)
		}
		send(t, a, "/")
		a.bar.text, a.bar.pos = nil, 0
		typeText(t, a, shown)
		send(t, a, "enter")
		if a.bar.Active() {
			t.Errorf("%q: the filter line %q typed back: %s", typed, shown, a.bar.err)
			send(t, a, "esc")
			continue
		}
		if got := a.filter.lq.String(); got != want || a.filter.Negate != wantNeg || a.c.Rows.Len() != wantRows {
			t.Errorf("%q: the filter line %q typed back is %q (negated %v, %d rows), was %q (negated %v, %d rows)",
				typed, shown, got, a.filter.Negate, a.c.Rows.Len(), want, wantNeg, wantRows)
		}
		if a.filterText() != shown {
			t.Errorf("%q: typed back, the filter line shows %q, was %q", typed, a.filterText(), shown)
		}
	}
}

// TestMisspeltTemplateAndFamilyFields: the filter bar's did-you-mean
// covers what line_format and label_format read and fields under a family
// (annotations_authorization_k8s_io_decisio is an annotation to `| json`,
// matching nothing), which it let through silently; other annotations and
// the names spelt right are taken.
func TestMisspeltTemplateAndFamilyFields(t *testing.T) {
	for _, tc := range []struct{ typed, want string }{
		{`annotations_authorization_k8s_io_decisio="allow"`, "unknown field annotations_authorization_k8s_io_decisio, did you mean annotations_authorization_k8s_io_decision?"},
		{`verb="get" | line_format "{{.objectRef_resorce}}"`, "unknown field objectRef_resorce, did you mean objectRef_resource?"},
		{`verb="get" | label_format who=user_usernme`, "unknown field user_usernme, did you mean user_username?"},
		{`verb="get" | label_format who="{{.user_usernme}}"`, "unknown field user_usernme, did you mean user_username?"},
	} {
		a := newTestApp(t, 120, 24)
		send(t, a, "/")
		typeText(t, a, tc.typed)
		send(t, a, "enter")
		if !a.bar.Active() || a.bar.err != tc.want {
			t.Errorf("%s: error %q, want %q", tc.typed, a.bar.err, tc.want)
		}
		if s := screen(a); !strings.Contains(strings.Join(strings.Fields(s), " "), tc.want) {
			t.Errorf("%s: the screen does not show the error:\n%s", tc.typed, s)
		}
		fixed := strings.NewReplacer("decisio=", "decision=", "resorce", "resource", "usernme", "username").Replace(tc.typed)
		a = newTestApp(t, 120, 24)
		setFilter(t, a, fixed)
	}
	a := newTestApp(t, 120, 24)
	setFilter(t, a, `annotations_mutation_webhook_admission_k8s_io_round_0_index_0=""`)
}

// TestArrayFieldFilterSaysHow: a filter on user_groups (an array, which
// `| json` skips: no event has it) is refused with the JSON expression
// that reads the array, not allowed with "only events that have it can
// match" (review H finding 16).
func TestArrayFieldFilterSaysHow(t *testing.T) {
	a := newTestApp(t, 80, 24)
	send(t, a, "/")
	typeText(t, a, `user_groups=~".*masters.*"`)
	send(t, a, "enter")
	want := `user_groups is an array (user.groups), which | json skips: no event has it, the filter compares an empty value; extract the array as JSON text with | json user_groups="user.groups" and match one element with user_groups=~".*\"system:masters\".*"`
	if !a.bar.Active() || a.bar.err != want {
		t.Fatalf("error %q, want %q", a.bar.err, want)
	}
	checkScreen(t, screen(a), 80, 24)
}

// TestQuotedTextIsSearchedLiterally: grep's '"verb":"delete"' and a
// half-quoted replicas":0 are searched as typed (shown as the LogQL they
// became), not parse errors; LogQL with a typo is still an error
// (review I 5).
func TestQuotedTextIsSearchedLiterally(t *testing.T) {
	a := newTestApp(t, 120, 40)
	deletes := func() int {
		setFilter(t, a, `verb="delete"`)
		return a.c.Rows.Len()
	}()
	for _, tc := range []struct{ typed, text string }{
		{`"verb":"delete"`, "|= `\"verb\":\"delete\"`"},
		{` "verb":"delete" `, "|= `\"verb\":\"delete\"`"},
	} {
		setFilter(t, a, tc.typed)
		if a.filter.Text != tc.text || a.c.Rows.Len() != deletes || !strings.Contains(a.filter.Note, "as typed") {
			t.Errorf("%q: filter %q (%s), %d events; want %q, %d", tc.typed, a.filter.Text, a.filter.Note, a.c.Rows.Len(), tc.text, deletes)
		}
	}
	f, err := CompileLogQL(`replicas":0`)
	if err != nil || f.Text != "|= `replicas\":0`" {
		t.Errorf(`replicas":0: %v, %+v`, err, f)
	}
	f, err = CompileLogQL("a`b\"c")
	if err != nil || f.Text != `|= "a`+"`"+`b\"c"` {
		t.Errorf("a backtick and a quote: %v, %+v", err, f)
	}
	for _, bad := range []string{`user_username="alice`, `verb="get" | objectRef_name="x`, `{job="audit"} | json | verb=`, `| json verb="x`} {
		if _, err := CompileLogQL(bad); err == nil {
			t.Errorf("%q compiled: LogQL with a typo must stay an error", bad)
		}
	}
}

package ui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
	"github.com/audittui/audittui/internal/testutil"
)

// labelsApp is an app over events.jsonl whose source carries the stream
// labels job and filename, as a file source's do.
func labelsApp(t *testing.T, w, h int) *App {
	t.Helper()
	ix := loadIndexLabels(t, "testdata/events.jsonl", data.Labels{{Name: "job", Value: "audit"}, {Name: "filename", Value: "testdata/events.jsonl"}})
	a := New(context.Background(), ix, nil, Options{Title: "events.jsonl", NoColor: true, Compile: CompileLogQL})
	a.Update(tea.WindowSizeMsg{Width: w, Height: h})
	return a
}

// TestTabOnAnEmptyWord: tab where no word is typed yet offers what may
// come there, as `:` tab lists the commands (review M 10): inside `{` the
// stream labels (not those the selector already has), after `| ` the
// pipeline stages (json only when the pipeline lacks it) then the fields
// a label filter takes, after a complete matcher (juxtaposed matchers
// mean and) or at the start of the line the fields.
func TestTabOnAnEmptyWord(t *testing.T) {
	a := labelsApp(t, 120, 40)
	stages := []string{"line_format", "label_format", "drop", "keep"}
	for _, c := range []struct {
		typed string
		first []string // the candidates start with these
		want  []string // and hold these
		not   []string // and not these
	}{
		{typed: ``, want: []string{"verb", "user_username", "objectRef_resource"}, not: []string{"json", "line_format"}},
		{typed: `{`, first: []string{"job", "filename"}},
		{typed: `{job="audit", `, first: []string{"filename"}, not: []string{"job"}},
		{typed: `{job="audit"} | json | `, first: stages, want: []string{"verb", "user_username"}, not: []string{"json"}},
		{typed: `verb="get" | `, first: stages, want: []string{"verb", "user_username"}, not: []string{"json"}},
		{typed: `{job="audit"} | `, first: append([]string{"json"}, stages...)},
		{typed: `verb="get" `, want: []string{"user_username", "objectRef_resource"}, not: []string{"json", "line_format"}},
		{typed: `{job="audit"} | json | verb="get", `, want: []string{"user_username"}, not: []string{"json"}},
		{typed: `verb="get" or `, want: []string{"user_username"}},
		{typed: `{job="audit"} `, first: []string{"| json", "|= ", "!= "}},
		{typed: `{job="audit"} |= "`, first: nil}, // inside a quoted search: nothing
	} {
		openBar(t, a, "/", c.typed)
		cands, start := a.bar.candidates()
		if len(cands) > 0 && start != len([]rune(c.typed)) {
			t.Errorf("/%s: the word starts at %d, want %d", c.typed, start, len(c.typed))
		}
		if c.first == nil && c.want == nil && len(cands) > 0 {
			t.Errorf("/%s<tab> offers %q, want nothing", c.typed, cands)
		}
		if c.first != nil && (len(cands) < len(c.first) || !slices.Equal(cands[:len(c.first)], c.first)) {
			t.Errorf("/%s<tab> offers %q, want it to start with %q", c.typed, cands, c.first)
		}
		for _, w := range c.want {
			if !slices.Contains(cands, w) {
				t.Errorf("/%s<tab> offers %q, without %s", c.typed, cands, w)
			}
		}
		for _, n := range c.not {
			if slices.Contains(cands, n) {
				t.Errorf("/%s<tab> offers %q, with %s", c.typed, cands, n)
			}
		}
		if len(cands) == 0 {
			continue
		}
		// Tab puts the first in, and every candidate tab gives compiles
		// once a value follows (a stage or a field: its own).
		got := tabs(t, a, 1)[0]
		if want := c.typed + cands[0]; got != want {
			t.Errorf("/%s<tab> = %q, want %q", c.typed, got, want)
		}
	}
	// Completed and given a value, the query runs.
	openBar(t, a, "/", `verb="get" `)
	typeText(t, a, "")
	cands, _ := a.bar.candidates()
	k := slices.Index(cands, "user_username")
	if k < 0 {
		t.Fatalf(`verb="get" <tab> offers %q`, cands)
	}
	got := tabs(t, a, k+1)[k]
	typeText(t, a, `="alice"`)
	send(t, a, "enter")
	if a.bar.Active() || got != `verb="get" user_username` {
		t.Fatalf("%q: %s", a.bar.Value(), a.bar.err)
	}
	if n := a.c.Rows.Len(); n == 0 || n == a.c.Snap.Len() {
		t.Errorf(`verb="get" user_username="alice" matches %d of %d`, n, a.c.Snap.Len())
	}
	// The screen: the cycle through the stages, at both sizes.
	for _, sz := range sizes {
		a := labelsApp(t, sz.w, sz.h)
		openBar(t, a, "/", `{job="audit"} | json | `)
		tabs(t, a, 1)
		s := screen(a)
		checkScreen(t, s, sz.w, sz.h)
		golden(t, fmt.Sprintf("complete_empty_stage_%dx%d.txt", sz.w, sz.h), s)
		if !strings.Contains(s, "tab 1/") || !strings.Contains(s, "line_format label_format drop keep") {
			t.Errorf("%dx%d: the stages are not offered:\n%s", sz.w, sz.h, s)
		}
	}
}

// TestTabRanksFields: a field typed whole is a candidate, first (not only
// its longer siblings); among fields that start with the word the
// indexed ones (those the panes and filters use most) come first, then
// the schema's order, not the alphabet (review M 10).
func TestTabRanksFields(t *testing.T) {
	a := labelsApp(t, 120, 40)
	openBar(t, a, "/", "objectRef_res")
	if got := tabs(t, a, 1)[0]; got != "objectRef_resource" {
		t.Fatalf("objectRef_res<tab> = %q", got)
	}
	if a.bar.ghost != "" || len(a.bar.suggestions) < 2 || a.bar.suggestions[0] != "objectRef_resource" {
		t.Errorf("after objectRef_resource: ghost %q, suggestions %q; want no ghost, objectRef_resource offered first", a.bar.ghost, a.bar.suggestions)
	}
	if got := tabs(t, a, 2); fmt.Sprint(got) != fmt.Sprint([]string{"objectRef_resource", "objectRef_resourceVersion"}) {
		t.Errorf("objectRef_resource<tab><tab> = %q", got)
	}
	openBar(t, a, "/", "user_u")
	if got := tabs(t, a, 2); fmt.Sprint(got) != fmt.Sprint([]string{"user_username", "user_uid"}) {
		t.Errorf("user_u<tab><tab> = %q, want user_username first", got)
	}
	// A whole field alone is nothing to complete: no suggestion of itself.
	openBar(t, a, "/", "verb")
	if len(a.bar.suggestions) != 0 || a.bar.ghost != "" {
		t.Errorf("verb: suggestions %q, ghost %q", a.bar.suggestions, a.bar.ghost)
	}
	// logfmt is no stage the parser takes: never offered.
	openBar(t, a, "/", `{job="audit"} | l`)
	if cands, _ := a.bar.candidates(); slices.Contains(cands, "logfmt") || !slices.Contains(cands, "label_format") {
		t.Errorf("| l<tab> offers %q", cands)
	}
}

// TestTabOffersBodyFields: with `| json` in the pipeline (or the bare
// form, which has it), tab offers the requestObject_* and
// responseObject_* names `| json` yields from the bodies read, not just
// the family's prefix; without it, the prefix.
func TestTabOffersBodyFields(t *testing.T) {
	a := labelsApp(t, 120, 40)
	for _, c := range []struct {
		typed string
		want  []string
	}{
		{`requestO`, []string{"requestObject_kind", "requestObject_metadata_name", "requestObject_data_a"}},
		{`{job="audit"} | json | responseObject_m`, []string{"responseObject_metadata_name", "responseObject_metadata_uid"}},
		{`verb="create" | requestObject_`, []string{"requestObject_kind"}},
	} {
		openBar(t, a, "/", c.typed)
		cands, _ := a.bar.candidates()
		for _, w := range c.want {
			if !slices.Contains(cands, w) {
				t.Errorf("/%s<tab> offers %q, without %s", c.typed, cands, w)
			}
		}
		if slices.Contains(cands, "requestObject_") {
			t.Errorf("/%s<tab> offers the bare prefix requestObject_ besides its fields: %q", c.typed, cands)
		}
	}
	openBar(t, a, "/", `{job="audit"} | requestO`)
	if got := tabs(t, a, 1)[0]; got != `{job="audit"} | requestObject_` {
		t.Errorf("without | json: %q, want the family's prefix", got)
	}
	if cands, _ := a.bar.candidates(); slices.Contains(cands, "requestObject_kind") {
		t.Errorf("without | json, body names offered: %q", cands)
	}
	// Completed, the query selects the event with that body.
	openBar(t, a, "/", `requestObject_metadata_n`)
	tabs(t, a, 1)
	typeText(t, a, `="settings"`)
	send(t, a, "enter")
	if a.bar.Active() || a.c.Rows.Len() != 1 {
		t.Errorf("%q: %d rows, %s", a.bar.Value(), a.c.Rows.Len(), a.bar.err)
	}
}

// TestTabOffersBodyFieldsRealData: falco's traces carry role bindings and
// deployments in their bodies; /requestO tab offers their fields.
func TestTabOffersBodyFieldsRealData(t *testing.T) {
	dir := os.Getenv("AUDITTUI_REALDATA")
	if dir == "" {
		t.Skip("AUDITTUI_REALDATA is not set (the real audit logs' folder, e.g. /work/shared/realdata)")
	}
	path := filepath.Join(dir, "audit", "falco-legacy-k8s-audit-traces.jsonl")
	ix := loadIndex(t, path)
	a := New(context.Background(), ix, nil, Options{Title: "falco", NoColor: true, Compile: CompileLogQL})
	a.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	openBar(t, a, "/", "requestObject_roleRef_")
	cands, _ := a.bar.candidates()
	if fmt.Sprint(cands) != "[requestObject_roleRef_apiGroup requestObject_roleRef_kind requestObject_roleRef_name]" {
		t.Fatalf("requestObject_roleRef_<tab>: %q", cands)
	}
	for _, c := range cands {

		if _, err := a.compile(c + `="x"`); err != nil {
			t.Errorf("%s: %v", c, err)
		}
	}
	openBar(t, a, "/", "requestO")
	cands, _ = a.bar.candidates()
	if !slices.Contains(cands, "requestObject_metadata_name") || !slices.Contains(cands, "requestObject_kind") {
		t.Errorf("requestO<tab> offers %q", cands)
	}
}

// TestCycleLineSaysMore: the cycle's line ends with "…" when candidates
// beyond those shown remain (`:` tab lists 8 of the commands at 80
// columns as at 120), and so does the suggestions line.
func TestCycleLineSaysMore(t *testing.T) {
	for _, sz := range sizes {
		a := newTestApp(t, sz.w, sz.h)
		openBar(t, a, ":", "")
		tabs(t, a, 1)
		s := screen(a)
		checkScreen(t, s, sz.w, sz.h)
		golden(t, fmt.Sprintf("complete_cycle_more_%dx%d.txt", sz.w, sz.h), s)
		lines := strings.Split(s, "\n")
		found := false
		for _, l := range lines {
			if strings.HasPrefix(l, "tab 1/") {
				found = strings.HasSuffix(strings.TrimRight(l, " "), "…")
			}
		}
		if !found {
			t.Errorf("%dx%d: the cycle's line does not end with …:\n%s", sz.w, sz.h, s)
		}
		// The last page: no "…".
		cands, _ := a.bar.candidates()
		send(t, a, "esc")
		openBar(t, a, ":", "")
		press(t, a, shiftTab)
		for _, l := range strings.Split(screen(a), "\n") {
			if strings.HasPrefix(l, fmt.Sprintf("tab %d/", len(cands))) && strings.HasSuffix(strings.TrimRight(l, " "), "…") {
				t.Errorf("%dx%d: the last page says more: %q", sz.w, sz.h, l)
			}
		}
	}
	// The suggestions line (before tab): 8 names, then "…" (on a screen
	// wide enough for all: not the cut's "…").
	a := labelsApp(t, 1000, 40)
	openBar(t, a, "/", "user")
	var line string
	for _, l := range strings.Split(screen(a), "\n") {
		if strings.HasPrefix(l, "tab: ") {
			line = strings.TrimRight(l, " ")
		}
	}
	if !strings.HasSuffix(line, "…") {
		t.Errorf("user: the suggestions line does not say more follow: %q", line)
	}
}

// TestUserCompletionPrefersPrefix: :user al completes alice when a name
// starts with al (k9s does); names that only contain the word are
// offered when none starts with it.
func TestUserCompletionPrefersPrefix(t *testing.T) {
	a := newTestApp(t, 120, 40)
	openBar(t, a, ":", "user al")
	cands, _ := a.bar.candidates()
	if fmt.Sprint(cands) != "[alice]" {
		t.Errorf(":user al offers %q, want alice alone", cands)
	}
	if got := tabs(t, a, 1)[0]; got != "user alice" || a.bar.cycle != nil {
		t.Errorf(":user al<tab> = %q (cycling: %v)", got, a.bar.cycle != nil)
	}
	openBar(t, a, ":", "user ob")
	if got := tabs(t, a, 1)[0]; got != "user bob" {
		t.Errorf(":user ob<tab> = %q, want a part of a name when none starts with it", got)
	}
}

// TestTabOffersARareBodyField: a body field that one event carries, the
// 10,000th of a file whose other events all have bodies, is offered by
// tab: the names are collected from every event indexed (a sample of
// them missed it), and the set stays bounded.
func TestTabOffersARareBodyField(t *testing.T) {
	var b strings.Builder
	const n = 10000
	for i := 1; i <= n; i++ {
		spec := fmt.Sprintf(`{"replicas":%d}`, i%5)
		if i == n {
			spec = `{"replicas":1,"rareField":"only here"}`
		}
		fmt.Fprintf(&b, `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Request","auditID":"rare-%05d","stage":"ResponseComplete","requestURI":"/apis/apps/v1/namespaces/ns/deployments/d%d","verb":"update","user":{"username":"alice"},"objectRef":{"resource":"deployments","namespace":"ns","name":"d%d","apiGroup":"apps","apiVersion":"v1"},"requestReceivedTimestamp":"2026-11-20T09:00:00.%06dZ","stageTimestamp":"2026-11-20T09:00:00.%06dZ","responseStatus":{"metadata":{},"code":200},"requestObject":{"kind":"Deployment","spec":%s}}`+"\n",
			i, i, i, i, i, spec)
	}
	path := filepath.Join(t.TempDir(), "rare.jsonl")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	ix := loadIndex(t, path)
	a := New(context.Background(), ix, nil, Options{Title: "rare", NoColor: true, Compile: CompileLogQL})
	a.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	if a.c.Snap.Len() != n {
		t.Fatalf("%d events indexed, want %d", a.c.Snap.Len(), n)
	}
	openBar(t, a, "/", "requestObject_spec_")
	cands, _ := a.bar.candidates()
	if fmt.Sprint(cands) != "[requestObject_spec_rareField requestObject_spec_replicas]" && fmt.Sprint(cands) != "[requestObject_spec_replicas requestObject_spec_rareField]" {
		t.Errorf("requestObject_spec_<tab> offers %q, want the rare field of event %d too", cands, n)
	}
	openBar(t, a, "/", "requestObject_spec_ra")
	if got := tabs(t, a, 1)[0]; got != "requestObject_spec_rareField" {
		t.Errorf("requestObject_spec_ra<tab>: %q", got)
	}
}

// TestBodyNamesBounded: the body names kept stop at maxBodyNames, however
// many distinct names the events carry.
func TestBodyNamesBounded(t *testing.T) {
	var bn bodyNames
	for i := range maxBodyNames + 100 {
		line := fmt.Sprintf(`{"kind":"Event","requestObject":{"data":{"k%d":"v"}}}`, i)
		bn.add(&data.Event{Raw: []byte(line), HasRequestObject: true})
	}
	if len(bn.names) != maxBodyNames || len(bn.seen) != maxBodyNames {
		t.Fatalf("%d names kept (%d seen), want the first %d", len(bn.names), len(bn.seen), maxBodyNames)
	}
	if bn.names[0] != "requestObject_data_k0" || bn.names[maxBodyNames-1] != fmt.Sprintf("requestObject_data_k%d", maxBodyNames-1) {
		t.Errorf("names kept: %s ... %s", bn.names[0], bn.names[len(bn.names)-1])
	}
}

// TestBodyNamesAsFlattenJSON: the names bodyNames walks out of an event
// are those `| json` (logql.FlattenJSON) yields under the bodies, in the
// same order: over the test events, the bundled sample, the real data
// when set, and lines with arrays, nulls, escaped and odd keys, a body
// name at the top level, and a syntax error part way.
func TestBodyNamesAsFlattenJSON(t *testing.T) {
	lines := []string{
		`{"requestObject":{"a":1,"b":[1,{"c":2}],"d":null,"e":{"f":true,"g":{}},"h\u0041":"x","i j":"y","ü":1,"0":2},"responseObject":{"metadata":{"uid":"u"}}}`,
		`{"requestObject_x":1,"requestObject":"str","responseObject":[{"a":1}],"request":{"Object_a":1}}`,
		`{"kind":"Event","requestObject":{"spec":{"a":1,"b":{"c":"d"}}},"responseObject":{"z":1}} trailing`,
		`{"requestObject":{"a":1,"b":{"c":`,
		`{"requestObject":{"a":1}, "requestObject":{"a":2,"b":3}}`,
	}
	lines = append(lines, bodyTestLines(t)...)
	withBody := 0
	for i, line := range lines {
		var want []string
		seen := map[string]bool{}
		_ = logql.FlattenJSON([]byte(line), func(name, _ string) {
			if !seen[name] && isBodyName(name) {
				seen[name] = true
				want = append(want, name)
			}
		})
		var bn bodyNames
		bn.add(&data.Event{Raw: []byte(line), HasRequestObject: true})
		if !slices.Equal(bn.names, want) {
			t.Errorf("line %d %.200s:\nwalked    %q\nFlattenJSON %q", i, line, bn.names, want)
		}
		if len(want) > 0 {
			withBody++
		}
	}
	if withBody < 10 {
		t.Errorf("%d lines with body names: the comparison compares little", withBody)
	}
}

// TestBodyNamesFromDecoderOffsets: the body names walked from where the
// decoder says the bodies are (data.Event.BodyAt) are those of the walk
// of the whole line, whatever the shape: bodies in either order, a
// repeated member, keys `| json` names like a body's, an indented line, a
// pretty-printed document, an event carried escaped in a record, the
// bundled and real logs.
func TestBodyNamesFromDecoderOffsets(t *testing.T) {
	docs := []string{
		`{"kind":"Event","verb":"get","requestObject":{"a":1,"b":[1,{"c":2}],"d":null,"e":{"f":true,"g":{}},"h\u0041":"x","i j":"y","ü":1,"0":2},"responseObject":{"metadata":{"uid":"u"}}}`,
		`{"kind":"Event","responseObject":{"z":1,"y":{"x":2}},"verb":"get","requestObject":{"a":1}}`,
		`   {"kind":"Event","requestObject":{"spec":{"a":1}},"responseObject":{"status":{"b":2}}}`,
		`{"kind":"Event","requestObject":{"x":1},"requestObject":{"a":2,"b":3}}`,
		`{"kind":"Event","requestObject":null,"requestObject":{"n":1}}`,
		`{"kind":"Event","requestObject_x":1,"requestObject":{"a":1}}`,
		`{"kind":"Event"," requestObject":{"q":1},"responseObject":{"a":1}}`,
		`{"kind":"Event","requestObject.k":{"q":1},"responseObject":{"a":1}}`,
		`{"kind":"Event","requestObject":"text","responseObject":[{"a":1}]}`,
		`{"kind":"Event","requestObject":{},"responseObject":{"a":{}}}`,
		"{\n  \"kind\": \"Event\",\n  \"requestObject\": {\"a\": 1, \"b\": {\"c\": 2}}\n}",
		`{"log":"{\"kind\":\"Event\",\"verb\":\"get\",\"requestObject\":{\"k\\u0041\":1,\"m\":{\"n\":2}}}","stream":"stdout"}`,
		`{"kind":"EventList","items":[{"kind":"Event","requestObject":{"i1":1}},{"kind":"Event","responseObject":{"i2":{"j":1}}}]}`,
	}
	docs = append(docs, bodyTestLines(t)...)
	var d data.Decoder
	exact, withNames := 0, 0
	for i, doc := range docs {
		evs, _ := d.Decode(nil, []byte(doc), data.Origin{Line: 1})
		for k := range evs {
			e := &evs[k]
			var got, whole bodyNames
			got.add(e)
			// The whole line's walk: the same event without offsets.
			w := *e
			w.BodyAt = [2]int32{}
			whole.add(&w)
			if !slices.Equal(got.names, whole.names) {
				t.Errorf("doc %d event %d %.200q (BodyAt %v):\nfrom offsets %q\nwhole line   %q", i, k, doc, e.BodyAt, got.names, whole.names)
			}
			if e.BodyAt[0] > 0 || e.BodyAt[1] > 0 {
				exact++
			}
			if len(whole.names) > 0 {
				withNames++
			}
		}
	}
	if exact < 8 || withNames < 10 {
		t.Errorf("%d events walked from offsets, %d with body names: the comparison compares little", exact, withNames)
	}
}

// bodyTestLines are the lines of the package's events, the bundled sample
// and, with AUDITTUI_REALDATA, the real logs: what the body-name tests
// check beside their own documents.
func bodyTestLines(t *testing.T) []string {
	t.Helper()
	files := []string{"testdata/events.jsonl", filepath.Join(testutil.RepoRoot(), "testdata", "sample", "audit.log")}
	if dir := os.Getenv("AUDITTUI_REALDATA"); dir != "" {
		real, _ := filepath.Glob(filepath.Join(dir, "audit", "*.jsonl"))
		files = append(files, real...)
	}
	var lines []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, strings.Split(string(b), "\n")...)
	}
	return lines
}

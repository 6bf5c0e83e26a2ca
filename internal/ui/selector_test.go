package ui

import (
	"context"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/history"
)

// filterErr types a filter and returns the bar's error ("" when applied).
func filterErr(t *testing.T, a *App, text string) string {
	t.Helper()
	send(t, a, "/")
	typeText(t, a, text)
	send(t, a, "enter")
	if !a.bar.Active() {
		return ""
	}
	err := a.bar.err
	send(t, a, "esc")
	return err
}

// TestFilterSelectorNoStreamHas (review H11): a filter whose stream
// selector names a label or value no stream of the sources carries would
// show nothing, silently; the filter bar refuses it with the labels the
// streams do carry and the name or value meant when one is close, the
// caret under the matcher.
func TestFilterSelectorNoStreamHas(t *testing.T) {
	a := newTestApp(t, 80, 24) // one file, labelled job="audit"
	all := a.c.Rows.Len()
	for _, tc := range []struct{ typed, want string }{
		{`{job="kube-audit"} | json | verb="get"`, `{job="kube-audit"} selects no stream of the sources: their job is "audit"`},
		{`{job="adit"} | json`, `{job="adit"} selects no stream of the sources: their job is "audit" (did you mean job="audit"?)`},
		{`{app="kube-apiserver"} | json`, `{app="kube-apiserver"} selects no stream of the sources: none has the label app (their labels: job="audit")`},
		{`{jb="audit"}`, `{jb="audit"} selects no stream of the sources: none has the label jb (did you mean job?) (their labels: job="audit")`},
		{`!{job="kube-audit"}`, `{job="kube-audit"} selects no stream of the sources: their job is "audit"`},
	} {
		got := filterErr(t, a, tc.typed)
		if got != tc.want {
			t.Errorf("%s: error %q, want %q", tc.typed, got, tc.want)
		}
		if a.c.Rows.Len() != all {
			t.Errorf("%s: the refused filter was applied (%d rows)", tc.typed, a.c.Rows.Len())
		}
	}
	// The caret is under the matcher, and the message fits the screen.
	send(t, a, "/")
	typeText(t, a, `{job="kube-audit"} | json`)
	send(t, a, "enter")
	if a.bar.errCol != 2 {
		t.Errorf("error column %d, want 2 (job)", a.bar.errCol)
	}
	s := screen(a)
	checkScreen(t, s, 80, 24)
	if !strings.Contains(s, "selects no stream of the sources") {
		t.Errorf("the screen does not say it:\n%s", s)
	}
	send(t, a, "esc")
	// Selectors the stream satisfies filter as before.
	for _, typed := range []string{`{job="audit"} | json | verb="get"`, `{job=~"aud.*", app!="x"} | json | verb="get"`, `verb="get"`} {
		if err := filterErr(t, a, typed); err != "" || a.c.Rows.Len() == 0 || a.c.Rows.Len() == all {
			t.Errorf("%s: error %q, %d rows", typed, err, a.c.Rows.Len())
		}
	}
}

// newJobApp is an app over the fixture read from files labelled
// job="kube-audit" (--label job=kube-audit): job is what the session was
// told (Options.Job), reported the labels the sources reported.
func newJobApp(t *testing.T, job string, reported *data.StreamLabels) *App {
	t.Helper()
	ix := loadIndexLabels(t, "testdata/events.jsonl", data.Labels{{Name: "job", Value: "kube-audit"}, {Name: "filename", Value: "events.jsonl"}})
	a := New(context.Background(), ix, nil, Options{Title: "events", NoColor: true, Compile: CompileLogQLFor(job), Job: job, Streams: reported})
	a.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	return a
}

// TestFilterWithLabelJob: with --label job=kube-audit the shorthand, the
// Timeline's pivots, the Stats queries and the History select that job,
// so the TUI works on the team's labels; {job="audit"} is then the
// selector no stream has.
func TestFilterWithLabelJob(t *testing.T) {
	reported := &data.StreamLabels{}
	reported.AddStream(data.Labels{{Name: "job", Value: "kube-audit"}, {Name: "filename", Value: "events.jsonl"}})
	a := newJobApp(t, "kube-audit", reported)
	all := a.c.Rows.Len()
	for _, typed := range []string{`verb="get"`, `| verb="get"`, `{job="kube-audit"} | json | verb="get"`} {
		if err := filterErr(t, a, typed); err != "" || a.c.Rows.Len() == 0 || a.c.Rows.Len() == all {
			t.Errorf("%s: error %q, %d rows of %d", typed, err, a.c.Rows.Len(), all)
		}
	}
	if err := filterErr(t, a, `payments`); err != "" || a.c.Rows.Len() == 0 {
		t.Errorf("a word search: error %q, %d rows", err, a.c.Rows.Len())
	}
	if err := filterErr(t, a, `{job="audit"} | json`); err != `{job="audit"} selects no stream of the sources: their job is "kube-audit"` {
		t.Errorf("{job=\"audit\"}: %q", err)
	}
	// The queries the TUI writes select the job.
	send(t, a, "esc")
	send(t, a, "2")
	f, ok := a.tl.SubjectFilter()
	if !ok || !strings.HasPrefix(f.Text, `{job="kube-audit"} | json | `) {
		t.Fatalf("subject filter %+v", f)
	}
	if rows, err := f.Eval(context.Background(), a.c.Snap, 0, nil); err != nil || len(rows) == 0 {
		t.Errorf("the pivot selects %d rows (%v)", len(rows), err)
	}
	if lq, _ := statsLogQuery(nil, a.c.shorthand()); lq != `{job="kube-audit"} | json` {
		t.Errorf("stats query %s", lq)
	}
	if a.hist.opts.Job != "kube-audit" {
		t.Errorf("history job %q", a.hist.opts.Job)
	}
	ref := history.Ref{Resource: "pods", Namespace: "payments", Name: "api-0"}
	if q := ref.QueryFor(a.hist.opts.Job, false); !strings.HasPrefix(q, `{job="kube-audit"} | json | `) {
		t.Errorf("history query %s", q)
	}
}

// TestShorthandSelectsNoStream: a session told nothing of the job (a Loki
// whose streams are job="kube-audit", read with --loki-selector) gets the
// shorthand's {job="audit"}: the bar says that selector selects nothing
// and shows one the streams have.
func TestShorthandSelectsNoStream(t *testing.T) {
	a := newJobApp(t, "", nil)
	want := `the shorthand's {job="audit"} selects no stream of the sources: their job is "kube-audit"; start with a selector they have: {job="kube-audit"} | json | ...`
	if err := filterErr(t, a, `verb="get"`); err != want {
		t.Errorf("error %q\nwant  %q", err, want)
	}
	if err := filterErr(t, a, `{job="kube-audit"} | json | verb="get"`); err != "" || a.c.Rows.Len() == 0 {
		t.Errorf("the suggested selector: error %q, %d rows", err, a.c.Rows.Len())
	}
}

package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/casefile"
)

func hostileState(t *testing.T) *casefile.State {
	t.Helper()
	ev := casefile.EventRef{SHA256: strings.Repeat("ab", 32), Cite: "nodes/a|b`c.log:12", AuditID: "id-1",
		User: "<script>alert(1)</script>|x", Verb: "delete", Object: "secrets *prod*/[x](http://evil)",
		Time: time.Date(2026, 11, 20, 2, 41, 7, 123456000, time.UTC)}
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	return casefile.Apply([]casefile.Record{
		{ID: "1", Kind: casefile.KindBookmark, Time: at, Author: "alice", Event: &ev},
		{ID: "2", Kind: casefile.KindNote, Time: at, Author: "m\u202eallory", Event: &ev, Text: "line one\nline two \x1b[2J `code` <b>bold</b>"},
		{ID: "3", Kind: casefile.KindTag, Time: at, Event: &ev, Tag: "t|g"},
		{ID: "4", Kind: casefile.KindView, Time: at, Query: `{job="audit"} | json | user_username="it's"`, Negate: true},
	})
}

// TestUntrustedTextIsInert: text from events and case files cannot
// inject Markdown structure, HTML, or terminal escapes into a report.
func TestUntrustedTextIsInert(t *testing.T) {
	r := Build("case", hostileState(t), time.Unix(0, 0), "audittui test", []string{"nodes/"})
	var md, html bytes.Buffer
	if err := Markdown(&md, r); err != nil {
		t.Fatal(err)
	}
	if err := HTML(&html, r); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"markdown": md.String(), "html": html.String()} {
		for _, bad := range []string{"\x1b", "\u202e", "<script>", "<b>bold"} {
			if strings.Contains(out, bad) {
				t.Errorf("%s holds %q raw", name, bad)
			}
		}
	}
	// Shown visibly instead: the sanitiser's tokens, escaped for each format.
	for name, v := range map[string]struct{ out, esc, bidi, nl string }{
		"markdown": {md.String(), `\\x1b\[2J`, `m\<U+202E\>allory`, `line one\\nline two`},
		"html":     {html.String(), `\x1b[2J`, `m&lt;U&#43;202E&gt;allory`, `line one\nline two`},
	} {
		for _, want := range []string{v.esc, v.bidi, v.nl} {
			if !strings.Contains(v.out, want) {
				t.Errorf("%s does not show %q", name, want)
			}
		}
	}
	m := md.String()
	for _, want := range []string{
		"| citation | ``nodes/a\\|b`c.log:12`` |", // a backtick inside: a longer fence; the pipe escaped
		`\<script\>alert(1)\</script\>\|x delete`, // in the heading: no HTML, no table cell
		"`#t\\|g`",
		"the events NOT matching",
		`'{job="audit"} \| json \| user_username="it'\''s"'`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("markdown lacks %q:\n%s", want, m)
		}
	}
	if h := html.String(); !strings.Contains(h, "&lt;script&gt;alert(1)&lt;/script&gt;|x") {
		t.Errorf("html does not escape the user:\n%s", h)
	}
}

func TestQueryCommand(t *testing.T) {
	from := time.Date(2026, 11, 20, 2, 30, 0, 0, time.UTC)
	got := QueryCommand(`{job="audit"} | json | verb="delete"`, Window{From: &from}, []string{"nodes/", "s3://b/p/", "my logs"})
	want := `audittui query -o raw --from 2026-11-20T02:30:00Z '{job="audit"} | json | verb="delete"' nodes/ s3://b/p/ 'my logs'`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestCodeSpan(t *testing.T) {
	for in, want := range map[string]string{"a": "`a`", "a`b": "``a`b``", "`x": "`` `x ``", "a|b": "`a\\|b`", "": "-"} {
		if got := code(in); got != want {
			t.Errorf("code(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestFmtTimeAsDetail: the report writes times as the TUI's Detail does
// (2026-11-20 02:00:50.156270 UTC): microseconds with no trailing zero
// dropped, nanoseconds when the time has them, so a time copied from the
// Detail is found in the report.
func TestFmtTimeAsDetail(t *testing.T) {
	for _, tt := range []struct {
		t    time.Time
		want string
	}{
		{time.Date(2026, 11, 20, 2, 0, 50, 156270000, time.UTC), "2026-11-20 02:00:50.156270 UTC"},
		{time.Date(2026, 11, 20, 9, 0, 0, 0, time.FixedZone("CET", 3600)), "2026-11-20 08:00:00.000000 UTC"},
		{time.Date(2026, 11, 20, 9, 0, 0, 123456789, time.UTC), "2026-11-20 09:00:00.123456789 UTC"},
		{time.Time{}, "-"},
	} {
		if got := FmtTime(tt.t); got != tt.want {
			t.Errorf("FmtTime(%v) = %q, want %q", tt.t, got, tt.want)
		}
	}
	r := Build("case", hostileState(t), time.Unix(0, 0), "audittui test", nil)
	var md, html bytes.Buffer
	Markdown(&md, r)
	HTML(&html, r)
	for _, out := range []string{md.String(), html.String()} {
		if !strings.Contains(out, "2026-11-20 02:41:07.123456 UTC") {
			t.Errorf("the event's time is not written as the Detail writes it:\n%s", out)
		}
	}
}

// TestAlertsSummaryAndState: the alerts section says how many groups
// fired by severity, the most severe first, and how many were still
// firing at the end of the window or had resolved; each group says which
// (not "3 (0 firing)" under a heading that says they fired).
func TestAlertsSummaryAndState(t *testing.T) {
	r := Build("case", hostileState(t), time.Unix(0, 0), "audittui test", nil)
	r.Alerts = Alerts{Evaluated: true, Rules: 79, Groups: []AlertGroup{
		{Name: "ClusterAdminBinding", Severity: "critical", Instances: 1, Firing: 1, Events: 2, Failed: 2},
		{Name: "PodExec", Severity: "warning", Instances: 3, Firing: 1, Events: 5, Failed: 1},
		{Name: "SecretList", Severity: "warning", Instances: 2, Events: 7},
	}}
	want := "3 alert groups fired in the window: 1 critical, 2 warning. At the end of the window 2 groups were still firing and 1 had resolved."
	if got := r.Alerts.Summary(); got != want {
		t.Errorf("summary %q", got)
	}
	var md, html bytes.Buffer
	Markdown(&md, r)
	HTML(&html, r)
	// The events' cells say how many failed (an attempt refused every
	// time is not a change).
	for _, cell := range []string{"1, still firing", "3: 1 still firing, 2 resolved", "2, resolved", "2 (all failed)", "5 (1 failed)", "7"} {
		if !strings.Contains(md.String(), "| "+cell+" |") || !strings.Contains(html.String(), "<td>"+cell+"</td>") {
			t.Errorf("no group row says %q:\n%s", cell, md.String())
		}
	}
	if !strings.Contains(md.String(), "79 rules evaluated over the sources in the window. "+want) || !strings.Contains(html.String(), want) ||
		strings.Contains(md.String(), "firing)") {
		t.Errorf("alerts section:\n%s", md.String())
	}
}

// TestExportGoneEvents: an export that left out events whose bytes were
// gone (:export after a copytruncate) says so in the report: how many, of
// which file, why, and where the first was read.
func TestExportGoneEvents(t *testing.T) {
	st := casefile.Apply([]casefile.Record{{ID: "1", Kind: casefile.KindExport, Time: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC),
		Export: &casefile.Export{Dir: "/srv/x", Events: 10, EventsGone: 4, Gone: []casefile.ExportGone{{Source: "audit.log", Events: 1, Unsearched: 3, First: "audit.log:1"}}}}})
	r := Build("case", st, time.Unix(0, 0), "audittui test", nil)
	var md, html bytes.Buffer
	if err := Markdown(&md, r); err != nil {
		t.Fatal(err)
	}
	if err := HTML(&html, r); err != nil {
		t.Fatal(err)
	}
	want := "NOT exported: 4 events of audit.log: their bytes were gone (the file was cut in place after they were read, no copy found); the first read at audit.log:1; 3 of them the filter could not search (they may have matched)"
	for name, out := range map[string]string{"markdown": md.String(), "html": html.String()} {
		if !strings.Contains(out, want) {
			t.Errorf("%s:\n%s", name, out)
		}
	}
}

// TestReportCountsAsWords: the report's counts read right at 1 and at 2:
// "1 rule evaluated", "1 event of", "1 byte" (an event's length).
func TestReportCountsAsWords(t *testing.T) {
	for _, n := range []int{1, 2} {
		st := casefile.Apply([]casefile.Record{{ID: "1", Kind: casefile.KindExport, Time: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC),
			Export: &casefile.Export{Dir: "/srv/x", Events: n}}})
		r := Build("case", st, time.Unix(0, 0), "audittui test", nil)
		r.Alerts = Alerts{Evaluated: true, Rules: n}
		var md, html bytes.Buffer
		if err := Markdown(&md, r); err != nil {
			t.Fatal(err)
		}
		if err := HTML(&html, r); err != nil {
			t.Fatal(err)
		}
		words := map[int][]string{1: {"1 rule evaluated", "1 event of every event"}, 2: {"2 rules evaluated", "2 events of every event"}}[n]
		for _, w := range words {
			if !strings.Contains(md.String(), w) || !strings.Contains(html.String(), w) {
				t.Errorf("%d: no %q in markdown or html:\n%s\n%s", n, w, md.String(), html.String())
			}
		}
		r.Alerts.Groups = []AlertGroup{{Name: "X", Instances: 1, Firing: 1}}
		md.Reset()
		html.Reset()
		Markdown(&md, r)
		HTML(&html, r)
		if w := words[0] + " over the sources in the window. 1 alert group fired"; !strings.Contains(md.String(), w) || !strings.Contains(html.String(), w) {
			t.Errorf("%d, fired: no %q:\n%s", n, w, md.String())
		}
		e := Event{Length: int64(n)}
		if got, want := e.LengthText(), map[int]string{1: "1 byte", 2: "2 bytes"}[n]; got != want {
			t.Errorf("length %d: %q, want %q", n, got, want)
		}
	}
}

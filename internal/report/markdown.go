package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/audittui/audittui/internal/plural"
)

// Markdown writes the report as Markdown (CommonMark with pipe tables).
// Citations, hashes, queries and commands are code spans; other text is
// escaped so that it cannot form links, emphasis or table cells.
func Markdown(w io.Writer, r *Report) error {
	b := bufio.NewWriter(w)
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }

	p("# Investigation report: %s\n\n", mdText(r.Case))
	p("Generated %s by %s.\n\n", FmtTime(r.Generated), mdText(r.Version))

	p("## Summary\n\n")
	p("- Window: %s\n", mdText(r.Window.String()))
	if s := r.EventsRead(); s != "" {
		p("- Events read: %s\n", mdText(s))
	}
	var args []string
	for _, s := range r.Sources {
		args = append(args, code(s.Arg))
	}
	p("- Sources: %s\n", orNone(strings.Join(args, ", ")))
	if len(r.Recorded) > 0 {
		p("- Re-checked against the sources above, given on the command line; the case recorded %s\n", orNone(codes(r.Recorded, ", ")))
	}
	if n := r.NotReadCount(); n > 0 {
		p("- Not read: %s the sources hold (listed under Sources)\n", plural.Count(n, "directory", "directories"))
	}
	p("- Events in the timeline: %d (bookmarked: %d); notes: %d; exports: %d; alert groups that fired: %d\n", len(r.Events), r.BookmarkCount(), r.NoteCount(), len(r.Exports), len(r.Alerts.Groups))
	if len(r.Problems) > 0 {
		p("- **Problems: %d** (listed at the end)\n", len(r.Problems))
	}
	p("\n")

	p("## Timeline of bookmarked events\n\n")
	if len(r.Events) == 0 {
		p("No event is bookmarked in this case.\n\n")
	}
	for _, e := range r.Events {
		p("### %d. %s — %s\n\n", e.N, FmtTime(e.Time), mdText(e.Title()))
		p("| field | value |\n|---|---|\n")
		row := func(k, v string) { p("| %s | %s |\n", k, v) }
		row("auditID", code(e.AuditID))
		if e.Stage != "" {
			row("stage", mdText(e.Stage))
		}
		row("citation", code(e.Cite))
		row("sha256", code(e.SHA256))
		row("length", mdText(e.LengthText()))
		check := mdText(e.Check)
		if !e.CheckOK && e.Check != "not re-read" {
			check = "**" + check + "**"
		}
		row("checked", check)
		if len(e.AlsoAt) > 0 {
			row("also at", codes(e.AlsoAt, ", ")+" (the same bytes)")
		}
		if len(e.Tags) > 0 {
			var tags []string
			for _, t := range e.Tags {
				tags = append(tags, code("#"+t))
			}
			row("tags", strings.Join(tags, " "))
		}
		if len(e.By) > 0 {
			row("bookmarked by", mdText(strings.Join(e.By, "; ")))
		} else {
			row("bookmarked by", "(annotated, not bookmarked)")
		}
		p("\n")
		if len(e.Notes) > 0 {
			p("Notes:\n\n")
			for _, n := range e.Notes {
				p("- %s %s: %s\n", FmtTime(n.Time), mdText(n.Author), mdText(n.Text))
			}
			p("\n")
		}
	}

	p("## Case notes\n\n")
	if len(r.CaseNotes) == 0 {
		p("None.\n\n")
	}
	for _, n := range r.CaseNotes {
		p("- %s %s: %s\n", FmtTime(n.Time), mdText(n.Author), mdText(n.Text))
	}
	if len(r.CaseNotes) > 0 {
		p("\n")
	}

	p("## Filters and windows used\n\n")
	p("Each command lists the same events with `audittui query` (a negated filter lists the events its query does not match: the TUI's `/!`).\n\n")
	p("### Saved filters\n\n")
	if len(r.Saved) == 0 {
		p("None.\n\n")
	} else {
		p("| name | query | window | saved | command |\n|---|---|---|---|---|\n")
		for _, q := range r.Saved {
			p("| %s | %s | %s | %s | %s |\n", mdText(q.Name), queryCell(q), mdText(q.Window.String()), mdText(strings.TrimSpace(q.Author+" "+FmtTime(q.Time))), code(q.Command))
		}
		p("\n")
	}
	p("### Applied, in order\n\n")
	if len(r.Applied) == 0 {
		p("None recorded.\n\n")
	} else {
		p("| time | by | query | window | command |\n|---|---|---|---|---|\n")
		for _, q := range r.Applied {
			p("| %s | %s | %s | %s | %s |\n", FmtTime(q.Time), mdText(q.Author), queryCell(q), mdText(q.Window.String()), code(q.Command))
		}
		p("\n")
	}

	p("## Alerts that fired in the window\n\n")
	if r.Alerts.Evaluated && r.Alerts.Partial != "" {
		p("**%s**\n\n", mdText(r.Alerts.Partial))
	}
	switch {
	case !r.Alerts.Evaluated:
		p("Not evaluated: %s.\n\n", mdText(r.Alerts.Why))
	case len(r.Alerts.Groups) == 0:
		p("%s evaluated over the sources in the window; none fired.\n\n", plural.Count(r.Alerts.Rules, "rule", "rules"))
	default:
		p("%s evaluated over the sources in the window. %s\n\n", plural.Count(r.Alerts.Rules, "rule", "rules"), mdText(r.Alerts.Summary()))
		p("Grouped by rule and grouping labels, the most severe first. Instances: how many times the alert fired, and whether each was still firing at the end of the window or had resolved.\n\n")
		p("| severity | alert | group | instances | events | first active | last active | sample auditIDs | silenced |\n|---|---|---|---|---|---|---|---|---|\n")
		for _, g := range r.Alerts.Groups {
			p("| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", mdText(g.Severity), mdText(g.Name)+" "+code(g.Rule), code(g.Labels),
				mdText(g.State()), g.EventsText(), FmtTime(g.First), FmtTime(g.Last), codes(g.AuditIDs, " "), mdText(orDash(g.Silenced)))
		}
		p("\n")
	}

	p("## Silences\n\n")
	if len(r.Silences) == 0 {
		p("None.\n\n")
	} else {
		p("| group | rule | labels | by | note |\n|---|---|---|---|---|\n")
		for _, s := range r.Silences {
			p("| %s | %s | %s | %s | %s |\n", code(s.Group), mdText(s.Rule), code(s.Labels), mdText(strings.TrimSpace(s.Author+" "+FmtTime(s.Time))), mdText(s.Note))
		}
		p("\n")
	}

	p("## Exports\n\n")
	if len(r.Exports) == 0 {
		p("None.\n\n")
	}
	for _, x := range r.Exports {
		p("### %s\n\n", code(x.Dir))
		p("- exported %s by %s: %s of %s (window %s)\n", FmtTime(x.Time), mdText(orDash(x.Author)), plural.Count(x.Events, "event", "events"), queryText(x.Query, x.Negate), mdText(x.Window.String()))
		p("- sha256 of MANIFEST.sha256: %s\n", code(x.ManifestSHA256))
		for _, g := range x.Gone {
			p("- **NOT exported: %s**\n", mdText(g))
		}
		check := mdText(x.Check)
		if !x.CheckOK {
			check = "**" + check + "**"
		}
		p("- checked now: %s\n", check)
		for _, nr := range x.NotRead {
			p("- not read, so not exported: %s\n", mdText(nr))
		}
		p("\n")
		if len(x.Entries) > 0 {
			p("| file | sha256 | bytes |\n|---|---|---|\n")
			for _, e := range x.Entries {
				p("| %s | %s | %d |\n", code(e.Path), code(e.SHA256), e.Size)
			}
			p("\n")
		}
	}

	p("## Sources\n\n")
	if len(r.ReadWith) > 0 {
		p("Read with:\n\n")
		for _, f := range r.ReadWith {
			p("- %s (%s)\n", code(f.Flag), mdText(f.From))
		}
		p("\n")
	}
	if len(r.Sources) == 0 {
		p("No session recorded its sources.\n\n")
	}
	for _, s := range r.Sources {
		p("### %s\n\n", code(s.Arg))
		if s.Err != "" {
			p("**%s**\n\n", mdText(s.Err))
		}
		if s.Note != "" {
			p("%s\n\n", mdText(s.Note))
		}
		if len(s.NotRead) > 0 {
			p("Not read, so nothing under them was examined:\n\n")
			for _, u := range s.NotRead {
				p("- %s: %s\n", code(u.Dir), mdText(u.Why))
			}
			p("\n")
		}
		if len(s.Files) > 0 {
			p("| file | sha256 (whole file, as stored) | bytes | since the case recorded it |\n|---|---|---|---|\n")
			for _, f := range s.Files {
				sum := code(f.SHA256)
				if f.Err != "" {
					sum = "**" + mdText(f.Err) + "**"
				}
				since := mdText(orDash(f.Since))
				if f.Since != "" && !f.SinceOK {
					since = "**" + since + "**"
				}
				p("| %s | %s | %d | %s |\n", code(f.Path), sum, f.Size, since)
			}
			p("\n")
		}
	}

	p("## Sessions\n\n")
	if len(r.Sessions) == 0 {
		p("None recorded.\n\n")
	} else {
		p("| opened | by | sources | directory | window |\n|---|---|---|---|---|\n")
		for _, s := range r.Sessions {
			p("| %s | %s | %s | %s | %s |\n", FmtTime(s.Time), mdText(orDash(s.Author)), codes(s.Sources, " "), code(s.Dir), mdText(s.Window.String()))
		}
		p("\n")
	}

	if r.RejectedLines > 0 {
		p("## Lines not read as audit events\n\n")
		p("%s of the sources read could not be read as audit events:\n\n", plural.Count(r.RejectedLines, "line", "lines"))
		for _, rj := range r.Rejects {
			more := ""
			if rj.Lines > 1 {
				more = fmt.Sprintf(" (%d lines from there)", rj.Lines)
			}
			p("- %s: %s%s\n", code(rj.Where), mdText(rj.Reason), more)
		}
		if n := r.MoreRejects(); n > 0 {
			p("- and %s, not listed (`audittui query` over the source names them all)\n", plural.Count(n, "more line", "more lines"))
		}
		p("\n")
	}

	if len(r.Problems) > 0 {
		p("## Problems\n\n")
		for _, pr := range r.Problems {
			p("- %s\n", mdText(pr))
		}
		p("\n")
	}
	p("---\n\nWritten by %s. Event citations are FILE:LINE (the 1-based line in the file, in the decompressed stream for .gz), FILE:LINE:COL when the event's bytes start at byte column COL of that line (events back to back on one line, array elements), s3://bucket/key:LINE[:COL], or a Loki stream and its nanosecond timestamp; sha256 is of the event's record bytes without the line ending (for a Logs Insights CSV row, its @message field as the CSV holds it, unquoted).\n", mdText(r.Version))
	return b.Flush()
}

// BookmarkCount is the number of the timeline's events that are
// bookmarked (the others are there for their notes or tags).
func (r *Report) BookmarkCount() int {
	n := 0
	for _, e := range r.Events {
		if e.Bookmarked {
			n++
		}
	}
	return n
}

// NoteCount is the number of notes in the report.
func (r *Report) NoteCount() int {
	n := len(r.CaseNotes)
	for _, e := range r.Events {
		n += len(e.Notes)
	}
	return n
}

func orNone(s string) string {
	if s == "" {
		return "none recorded"
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func queryText(q string, negate bool) string {
	if q == "" {
		return "every event"
	}
	s := code(q)
	if negate {
		s = "the events NOT matching " + s
	}
	return s
}

func queryCell(q Query) string {
	s := queryText(q.Query, q.Negate)
	if q.Filter != "" && q.Filter != q.Query {
		s += " (typed " + code(q.Filter) + ")"
	}
	return s
}

// Line endings become spaces (text stays on its line); codeReplacer
// also escapes pipes, for code spans in table cells.
var (
	lineReplacer = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ")
	codeReplacer = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "|", `\|`)
)

// mdText escapes text so Markdown shows it as it is: no emphasis, links,
// HTML, headings or table cells, on one line.
func mdText(s string) string {
	s = lineReplacer.Replace(s)
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("\\`*_[]<>|~&", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// code renders s as a code span: fenced with more backticks than any run
// inside it, pipes escaped for tables.
func code(s string) string {
	if s == "" {
		return "-"
	}
	s = codeReplacer.Replace(s)
	run, longest := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

// codes renders each of ss as a code span, joined by sep.
func codes(ss []string, sep string) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = code(s)
	}
	return strings.Join(out, sep)
}

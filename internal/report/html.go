package report

import (
	"html/template"
	"io"
	"strings"

	"github.com/audittui/audittui/internal/plural"
)

// HTML writes the report as one self-contained HTML file: the styles are
// inline, there are no scripts, images, fonts or links to fetch, and a
// print stylesheet keeps tables and events whole on paper.
func HTML(w io.Writer, r *Report) error {
	return htmlTemplate.Execute(w, r)
}

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"time":     FmtTime,
	"join":     strings.Join,
	"notEmpty": orDash,
	"checked":  func(s string) bool { return s != "not re-read" && s != "not checked" },
	"count":    plural.Count[int64],
	"countInt": plural.Count[int],
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="{{.Version}}">
<title>Investigation report: {{.Case}}</title>
<style>
:root { --fg: #1b1f24; --muted: #57606a; --line: #d0d7de; --bad: #b42318; --good: #1a7f37; --mark: #8250df; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", sans-serif; color: var(--fg); margin: 2rem auto; max-width: 78rem; padding: 0 1.5rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.25rem; border-bottom: 2px solid var(--line); padding-bottom: .2rem; margin-top: 2.2rem; }
h3 { font-size: 1.05rem; margin: 1.4rem 0 .4rem; }
.meta, .muted { color: var(--muted); }
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "Liberation Mono", monospace; font-size: .86em; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0 1rem; }
th, td { border: 1px solid var(--line); padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
.event { border: 1px solid var(--line); border-left: 4px solid var(--mark); border-radius: 4px; padding: .2rem 1rem .6rem; margin: 1rem 0; }
.event table td:first-child { width: 9rem; color: var(--muted); }
.tag { display: inline-block; border: 1px solid var(--mark); color: var(--mark); border-radius: 1rem; padding: 0 .5rem; margin-right: .3rem; font-size: .85em; }
.ok { color: var(--good); }
.bad { color: var(--bad); font-weight: 600; }
ul.notes { margin: .3rem 0 0; padding-left: 1.2rem; }
.summary li { margin: .15rem 0; }
footer { margin-top: 2.5rem; border-top: 1px solid var(--line); padding-top: .6rem; font-size: .85em; color: var(--muted); }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  h2 { break-after: avoid; }
  h3 { break-after: avoid; }
  .event, tr { break-inside: avoid; }
  th { background: none; }
  .event { border-left-width: 3px; }
  @page { margin: 15mm; }
}
</style>
</head>
<body>
<header>
<h1>Investigation report</h1>
<div class="meta">Case <code>{{.Case}}</code> · generated {{time .Generated}} by {{.Version}}</div>
</header>

<section id="summary">
<h2>Summary</h2>
<ul class="summary">
<li>Window: {{.Window.String}}</li>
{{with .EventsRead}}<li>Events read: {{.}}</li>
{{end}}<li>Sources: {{range $i, $s := .Sources}}{{if $i}}, {{end}}<code>{{$s.Arg}}</code>{{else}}none recorded{{end}}</li>
{{if .Recorded}}<li>Re-checked against the sources above, given on the command line; the case recorded {{range $i, $s := .Recorded}}{{if $i}}, {{end}}<code>{{$s}}</code>{{end}}</li>{{end}}
{{with .NotReadCount}}<li>Not read: {{.}} {{if eq . 1}}directory{{else}}directories{{end}} the sources hold (listed under Sources)</li>
{{end}}<li>Events in the timeline: {{len .Events}} (bookmarked: {{.BookmarkCount}}) · notes: {{.NoteCount}} · exports: {{len .Exports}} · alert groups that fired: {{len .Alerts.Groups}}</li>
{{if .Problems}}<li class="bad">Problems: {{len .Problems}} (listed at the end)</li>{{end}}
</ul>
</section>

<section id="timeline">
<h2>Timeline of bookmarked events</h2>
{{range .Events}}
<article class="event" id="event-{{.N}}">
<h3>{{.N}}. {{time .Time}} — {{.Title}}</h3>
<table>
<tr><td>auditID</td><td><code>{{notEmpty .AuditID}}</code></td></tr>
{{if .Stage}}<tr><td>stage</td><td>{{.Stage}}</td></tr>{{end}}
<tr><td>citation</td><td><code>{{.Cite}}</code></td></tr>
<tr><td>sha256</td><td><code>{{.SHA256}}</code></td></tr>
<tr><td>length</td><td>{{.LengthText}}</td></tr>
<tr><td>checked</td><td class="{{if .CheckOK}}ok{{else if checked .Check}}bad{{else}}muted{{end}}">{{.Check}}</td></tr>
{{if .AlsoAt}}<tr><td>also at</td><td>{{range $i, $a := .AlsoAt}}{{if $i}}, {{end}}<code>{{$a}}</code>{{end}} (the same bytes)</td></tr>{{end}}
{{if .Tags}}<tr><td>tags</td><td>{{range .Tags}}<span class="tag">#{{.}}</span>{{end}}</td></tr>{{end}}
<tr><td>bookmarked by</td><td>{{if .By}}{{join .By "; "}}{{else}}(annotated, not bookmarked){{end}}</td></tr>
</table>
{{if .Notes}}<div>Notes:</div>
<ul class="notes">{{range .Notes}}<li><span class="muted">{{time .Time}} {{.Author}}:</span> {{.Text}}</li>{{end}}</ul>{{end}}
</article>
{{else}}<p>No event is bookmarked in this case.</p>
{{end}}
</section>

<section id="case-notes">
<h2>Case notes</h2>
{{if .CaseNotes}}<ul>{{range .CaseNotes}}<li><span class="muted">{{time .Time}} {{.Author}}:</span> {{.Text}}</li>{{end}}</ul>{{else}}<p>None.</p>{{end}}
</section>

<section id="filters">
<h2>Filters and windows used</h2>
<p class="muted">Each command lists the same events with <code>audittui query</code> (a negated filter lists the events its query does not match: the TUI's <code>/!</code>).</p>
<h3>Saved filters</h3>
{{if .Saved}}<table>
<tr><th>name</th><th>query</th><th>window</th><th>saved</th><th>command</th></tr>
{{range .Saved}}<tr><td>{{.Name}}</td><td>{{if .Negate}}NOT {{end}}<code>{{notEmpty .Query}}</code></td><td>{{.Window.String}}</td><td>{{.Author}} {{time .Time}}</td><td><code>{{.Command}}</code></td></tr>
{{end}}</table>{{else}}<p>None.</p>{{end}}
<h3>Applied, in order</h3>
{{if .Applied}}<table>
<tr><th>time</th><th>by</th><th>query</th><th>window</th><th>command</th></tr>
{{range .Applied}}<tr><td>{{time .Time}}</td><td>{{.Author}}</td><td>{{if .Negate}}NOT {{end}}<code>{{notEmpty .Query}}</code></td><td>{{.Window.String}}</td><td><code>{{.Command}}</code></td></tr>
{{end}}</table>{{else}}<p>None recorded.</p>{{end}}
</section>

<section id="alerts">
<h2>Alerts that fired in the window</h2>
{{if and .Alerts.Evaluated .Alerts.Partial}}<p class="bad">{{.Alerts.Partial}}</p>{{end}}
{{if not .Alerts.Evaluated}}<p>Not evaluated: {{.Alerts.Why}}.</p>
{{else if not .Alerts.Groups}}<p>{{countInt .Alerts.Rules "rule" "rules"}} evaluated over the sources in the window; none fired.</p>
{{else}}<p>{{countInt .Alerts.Rules "rule" "rules"}} evaluated over the sources in the window. {{.Alerts.Summary}}</p>
<p class="muted">Grouped by rule and grouping labels, the most severe first. Instances: how many times the alert fired, and whether each was still firing at the end of the window or had resolved.</p>
<table>
<tr><th>severity</th><th>alert</th><th>group</th><th>instances</th><th>events</th><th>first active</th><th>last active</th><th>sample auditIDs</th><th>silenced</th></tr>
{{range .Alerts.Groups}}<tr><td>{{.Severity}}</td><td>{{.Name}}<br><code class="muted">{{.Rule}}</code></td><td><code>{{.Labels}}</code></td><td>{{.State}}</td><td>{{.EventsText}}</td><td>{{time .First}}</td><td>{{time .Last}}</td><td>{{range .AuditIDs}}<code>{{.}}</code> {{end}}</td><td>{{notEmpty .Silenced}}</td></tr>
{{end}}</table>{{end}}
</section>

<section id="silences">
<h2>Silences</h2>
{{if .Silences}}<table>
<tr><th>group</th><th>rule</th><th>labels</th><th>by</th><th>note</th></tr>
{{range .Silences}}<tr><td><code>{{.Group}}</code></td><td>{{.Rule}}</td><td><code>{{.Labels}}</code></td><td>{{.Author}} {{time .Time}}</td><td>{{.Note}}</td></tr>
{{end}}</table>{{else}}<p>None.</p>{{end}}
</section>

<section id="exports">
<h2>Exports</h2>
{{range .Exports}}
<h3><code>{{.Dir}}</code></h3>
<ul>
<li>exported {{time .Time}} by {{notEmpty .Author}}: {{countInt .Events "event" "events"}} of {{if .Query}}{{if .Negate}}the events NOT matching {{end}}<code>{{.Query}}</code>{{else}}every event{{end}} (window {{.Window.String}})</li>
<li>sha256 of MANIFEST.sha256: <code>{{.ManifestSHA256}}</code></li>
{{range .Gone}}<li class="bad">NOT exported: {{.}}</li>
{{end}}<li>checked now: <span class="{{if .CheckOK}}ok{{else}}bad{{end}}">{{.Check}}</span></li>
{{range .NotRead}}<li>not read, so not exported: {{.}}</li>
{{end}}</ul>
{{if .Entries}}<table><tr><th>file</th><th>sha256</th><th>bytes</th></tr>
{{range .Entries}}<tr><td><code>{{.Path}}</code></td><td><code>{{.SHA256}}</code></td><td>{{.Size}}</td></tr>
{{end}}</table>{{end}}
{{else}}<p>None.</p>{{end}}
</section>

<section id="sources">
<h2>Sources</h2>
{{if .ReadWith}}<p>Read with:</p><ul>{{range .ReadWith}}<li><code>{{.Flag}}</code> ({{.From}})</li>{{end}}</ul>{{end}}
{{range .Sources}}
<h3><code>{{.Arg}}</code></h3>
{{if .Err}}<p class="bad">{{.Err}}</p>{{end}}
{{if .Note}}<p>{{.Note}}</p>{{end}}
{{if .NotRead}}<p>Not read, so nothing under them was examined:</p>
<ul>{{range .NotRead}}<li><code>{{.Dir}}</code>: {{.Why}}</li>
{{end}}</ul>{{end}}
{{if .Files}}<table><tr><th>file</th><th>sha256 (whole file, as stored)</th><th>bytes</th><th>since the case recorded it</th></tr>
{{range .Files}}<tr><td><code>{{.Path}}</code></td><td>{{if .Err}}<span class="bad">{{.Err}}</span>{{else}}<code>{{.SHA256}}</code>{{end}}</td><td>{{.Size}}</td><td{{if and .Since (not .SinceOK)}} class="bad"{{end}}>{{notEmpty .Since}}</td></tr>
{{end}}</table>{{end}}
{{else}}<p>No session recorded its sources.</p>{{end}}
</section>

<section id="sessions">
<h2>Sessions</h2>
{{if .Sessions}}<table><tr><th>opened</th><th>by</th><th>sources</th><th>directory</th><th>window</th></tr>
{{range .Sessions}}<tr><td>{{time .Time}}</td><td>{{notEmpty .Author}}</td><td>{{range .Sources}}<code>{{.}}</code> {{end}}</td><td><code>{{notEmpty .Dir}}</code></td><td>{{.Window.String}}</td></tr>
{{end}}</table>{{else}}<p>None recorded.</p>{{end}}
</section>

{{if .RejectedLines}}<section id="rejected">
<h2>Lines not read as audit events</h2>
<p>{{count .RejectedLines "line" "lines"}} of the sources read could not be read as audit events:</p>
<ul>{{range .Rejects}}<li><code>{{.Where}}</code>: {{.Reason}}{{if gt .Lines 1}} ({{.Lines}} lines from there){{end}}</li>{{end}}{{if .MoreRejects}}<li>and {{count .MoreRejects "more line" "more lines"}}, not listed (<code>audittui query</code> over the source names them all)</li>{{end}}</ul>
</section>{{end}}

{{if .Problems}}<section id="problems">
<h2>Problems</h2>
<ul>{{range .Problems}}<li class="bad">{{.}}</li>{{end}}</ul>
</section>{{end}}

<footer>Written by {{.Version}}. Event citations are FILE:LINE (the 1-based line in the file, in the decompressed stream for .gz), FILE:LINE:COL when the event's bytes start at byte column COL of that line (events back to back on one line, array elements), s3://bucket/key:LINE[:COL], or a Loki stream and its nanosecond timestamp; sha256 is of the event's record bytes without the line ending (for a Logs Insights CSV row, its @message field as the CSV holds it, unquoted).</footer>
</body>
</html>
`))

// Package report turns a case (internal/casefile) into the report a
// forensic reviewer hands over: the timeline of bookmarked events with
// their notes and tags, each cited (FILE:LINE, FILE:LINE:COL,
// s3://bucket/key:LINE, or a Loki stream and nanosecond time) with the
// sha256 of its bytes and their length; the
// filters and windows used, each with the `audittui query` command that
// repeats it; the alerts that fired in the window, grouped; the silences;
// the exports with their manifests; the sources with whole-file hashes;
// and the audittui build that wrote it.
//
// Build fills the parts that come from the case alone; the report command
// (internal/cli/report) adds what needs the sources (hashes, checks,
// alerts). Markdown and HTML render the same Report. Every string that
// comes from the evidence or from a case file is passed through
// internal/termsafe when the Report is built, so control characters and
// bidi overrides are visible in both outputs; HTML is escaped by
// html/template on top.
package report

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/audittui/audittui/internal/casefile"
	"github.com/audittui/audittui/internal/plural"
	"github.com/audittui/audittui/internal/policy/rules"
	"github.com/audittui/audittui/internal/termsafe"
)

// Report is everything a report shows.
type Report struct {
	Case      string
	Generated time.Time
	Version   string
	// Window is the window of the sessions (the hull of their windows),
	// or the one the report command was given.
	Window Window
	// FirstEvent and LastEvent are the times of the first and the last
	// event the sources held in the window (zero: none read, or none
	// with a time).
	FirstEvent, LastEvent time.Time
	// Read is how many events the sources held in the window, an
	// exact copy (data.Dups) counted once; Copies how many copies were
	// left out so; Undated how many of the events have no time.
	Read, Copies, Undated int64
	Sources               []Source
	// Recorded are the case's own sources when the report re-read others
	// in their place (SOURCE arguments of the report command); nil when
	// it read the case's.
	Recorded []string
	// ReadWith are the flags the sources were read with (--label,
	// --cluster, -r), each saying whether the case recorded it or the
	// command line gave it (in place of the case's).
	ReadWith []ReadFlag
	Sessions []Session
	// Events is the timeline: the bookmarked (or annotated) events in
	// event time order.
	Events    []Event
	CaseNotes []Note
	Saved     []Query
	Applied   []Query
	Alerts    Alerts
	Silences  []Silence
	Exports   []Export
	// Rejects are the lines of the sources read that could not be read
	// as audit events (the first MaxRejects of them), RejectedLines how
	// many lines they were in all.
	Rejects       []Reject
	RejectedLines int64
	// Problems are what could not be used or did not check out.
	Problems []string
}

// MaxRejects bounds the rejected lines a report lists (all are counted).
const MaxRejects = 100

// Reject is a line (or a run of lines) of a source that could not be
// read as an audit event: where (FILE:LINE, s3://bucket/key:LINE), why,
// and how many lines from there.
type Reject struct {
	Where, Reason string
	Lines         int64
}

// MoreRejects is how many rejected lines the report counts but does not
// list.
func (r *Report) MoreRejects() int64 {
	n := r.RejectedLines
	for _, rj := range r.Rejects {
		n -= max(1, rj.Lines)
	}
	return max(0, n)
}

// EventsRead says when the events read are: the first and the last
// event's time ("" when none was read).
func (r *Report) EventsRead() string {
	if r.Read == 0 {
		return ""
	}
	s := plural.Count(r.Read, "event", "events")
	if r.Undated > 0 {
		s += fmt.Sprintf(" (%d without a time)", r.Undated)
	}
	if !r.FirstEvent.IsZero() {
		s += ", " + FmtTime(r.FirstEvent) + " → " + FmtTime(r.LastEvent) + " (the times of the first and the last event)"
	}
	if r.Copies > 0 {
		s += "; " + plural.Count(r.Copies, "exact copy", "exact copies") + " of an event counted once"
	}
	return s
}

// Window is a time window (nil ends are open).
type Window struct{ From, To *time.Time }

// String renders it as the report prints it.
func (w Window) String() string {
	if w.From == nil && w.To == nil {
		return "all events read (no window)"
	}
	return fmtTimePtr(w.From, "the first event") + " → " + fmtTimePtr(w.To, "the last event") + " (from inclusive, to exclusive)"
}

// Flags renders it as --from/--to flags ("" when open).
func (w Window) Flags() string {
	var parts []string
	if w.From != nil {
		parts = append(parts, "--from "+w.From.UTC().Format(time.RFC3339Nano))
	}
	if w.To != nil {
		parts = append(parts, "--to "+w.To.UTC().Format(time.RFC3339Nano))
	}
	return strings.Join(parts, " ")
}

func fmtTimePtr(t *time.Time, open string) string {
	if t == nil {
		return open
	}
	return FmtTime(*t)
}

// FmtTime is how the report writes a time: as the TUI's Detail writes an
// event's time in UTC, the date, the time to the microsecond (never a
// trailing zero dropped; to the nanosecond when it has them) and the
// zone, 2026-11-20 02:00:50.156270 UTC, so a time copied from the Detail
// is found in the report (an event time to the millisecond, which the
// Detail writes 09:00:00.000, as its start).
func FmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	t = t.UTC()
	if t.Nanosecond()%1000 != 0 {
		return t.Format("2006-01-02 15:04:05.000000000 MST")
	}
	return t.Format("2006-01-02 15:04:05.000000 MST")
}

// Source is one SOURCE argument of the case's sessions with the hashes of
// the files it names.
type Source struct {
	Arg   string
	Files []File
	// Note says why there are no file hashes (a Loki server; not read),
	// or where the source came from (the command line, stdin).
	Note string
	// Err says why the source could not be read: what it holds was not
	// checked.
	Err string
	// NotRead are the directories the source holds that were not read
	// (a subdirectory without -r, a directory a glob matched, one that
	// could not be listed): nothing under them was examined.
	NotRead []NotRead
}

// NotRead is a directory a source holds that was not read, and why.
type NotRead struct{ Dir, Why string }

// NotReadCount is the number of directories the sources hold that were
// not read.
func (r *Report) NotReadCount() int {
	n := 0
	for _, s := range r.Sources {
		n += len(s.NotRead)
	}
	return n
}

// File is a whole file (or S3 object, as stored) and its sha256.
type File struct {
	Path   string
	SHA256 string
	Size   int64
	Err    string
	// Since says how the file compares with the fingerprint the case
	// recorded of it (unchanged, grown, CHANGED, gone, not recorded);
	// SinceOK that it is not a problem. An S3 object is compared with
	// the case's object record (ETag, size, sha256).
	Since   string
	SinceOK bool
}

// ReadFlag is a flag the sources were read with (Report.ReadWith): the
// flag as typed, and where it came from.
type ReadFlag struct {
	Flag string
	From string
}

// Session is one opening of the case.
type Session struct {
	Time    time.Time
	Author  string
	Sources []string
	Dir     string
	Window  Window
}

// Event is one event of the timeline.
type Event struct {
	N       int // 1-based position in the timeline
	Time    time.Time
	AuditID string
	Stage   string
	User    string
	Verb    string
	Object  string
	Code    int
	Cite    string
	SHA256  string
	// Length is the number of the event's bytes (0: unknown, a case
	// written before lengths were recorded and not re-read).
	Length     int64
	Bookmarked bool
	// By lists who bookmarked it and when.
	By    []string
	Tags  []string
	Notes []Note
	// Check is what re-reading the sources found; CheckOK says it agrees.
	Check   string
	CheckOK bool
	// AlsoAt are the other places the sources read hold the same bytes
	// (a copy of a file), cited; the last may say how many more.
	AlsoAt []string
}

// LengthText is the length as the report writes it.
func (e *Event) LengthText() string {
	if e.Length <= 0 {
		return "unknown (not recorded by the case, and not re-read)"
	}
	return plural.Count(e.Length, "byte", "bytes")
}

// Title is the event's one-line summary.
func (e *Event) Title() string {
	s := strings.TrimSpace(e.User + " " + e.Verb + " " + e.Object)
	if e.Code != 0 {
		s += fmt.Sprintf(" (%d)", e.Code)
	}
	if s == "" {
		s = "event"
	}
	return s
}

// Note is a note's time, author and text.
type Note struct {
	Time   time.Time
	Author string
	Text   string
}

// Query is a saved filter or an applied view.
type Query struct {
	Time    time.Time
	Author  string
	Name    string
	Query   string
	Filter  string
	Negate  bool
	Window  Window
	Command string // the audittui query command line that repeats it
}

// Alerts are the alert groups that fired in the window.
type Alerts struct {
	Evaluated bool
	Why       string // why they were not evaluated
	// Partial names the sources left out of an evaluation (they could
	// not be opened): the alerts are those of the other sources only.
	Partial string
	Rules   int
	Groups  []AlertGroup
}

// Summary says how many groups fired, by severity (most severe first),
// and how many are still firing at the end of the window or resolved.
func (a *Alerts) Summary() string {
	var sevs []string
	count := map[string]int{}
	firing, resolved := 0, 0
	for _, g := range a.Groups {
		sev := g.Severity
		if sev == "" {
			sev = "no severity"
		}
		if count[sev] == 0 {
			sevs = append(sevs, sev) // the groups are most severe first
		}
		count[sev]++
		if g.Firing > 0 {
			firing++
		} else {
			resolved++
		}
	}
	var parts []string
	for _, s := range sevs {
		parts = append(parts, fmt.Sprintf("%d %s", count[s], s))
	}
	return fmt.Sprintf("%s fired in the window: %s. At the end of the window %s still firing and %d had resolved.",
		plural.Count(len(a.Groups), "alert group", "alert groups"), strings.Join(parts, ", "), plural.Count(firing, "group was", "groups were"), resolved)
}

// State says how a group's instances stood at the end of the window:
// resolved, still firing, or some of each.
func (g *AlertGroup) State() string {
	switch resolved := g.Instances - g.Firing; {
	case g.Firing == 0:
		return fmt.Sprintf("%d, resolved", g.Instances)
	case resolved <= 0:
		return fmt.Sprintf("%d, still firing", g.Instances)
	default:
		return fmt.Sprintf("%d: %d still firing, %d resolved", g.Instances, g.Firing, resolved)
	}
}

// AlertGroup is the instances of one rule with the same grouping labels
// (rules.GroupAlerts).
type AlertGroup struct {
	Key       string
	Name      string
	Severity  string
	Rule      string // file:line
	Labels    string
	Instances int
	Firing    int
	Events    int
	// Failed: of the Events, those whose request failed (status code
	// 400 or more; rules.Alert.Failed).
	Failed   int
	First    time.Time
	Last     time.Time
	Summary  string
	AuditIDs []string
	Silenced string // the case's silence of the group, if any
}

// Silence is an active silence of the case.
type Silence struct {
	Time   time.Time
	Author string
	Group  string
	Rule   string
	Labels string
	Note   string
}

// Export is one :export of the case.
type Export struct {
	Time           time.Time
	Author         string
	Dir            string
	Query          string
	Filter         string
	Negate         bool
	Window         Window
	Events         int
	ManifestSHA256 string
	Entries        []casefile.ExportEntry
	// Gone says, per file, the events the export left out because their
	// bytes were gone when it was made (casefile.Export.Gone), and
	// GoneProblem says it in one line for the report's Problems ("" when
	// it left none out).
	Gone        []string
	GoneProblem string
	Check       string
	CheckOK     bool
	// NotRead are the directories the export's sources held that it did
	// not read (MANIFEST.json's not_read, as checked): "DIR (reason)".
	NotRead []string
}

// EventsText is the group's event count with how many failed: "3",
// "3 (all failed)", "3 (1 failed)".
func (g AlertGroup) EventsText() string {
	if note := rules.FailedNote(g.Events, g.Failed); note != "" {
		return strconv.Itoa(g.Events) + " (" + note + ")"
	}
	return strconv.Itoa(g.Events)
}

func safe(s string) string { return termsafe.String(s) }

func safeAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = safe(s)
	}
	return out
}

func window(from, to *time.Time) Window { return Window{From: from, To: to} }

// Build fills a report from a case's state: the timeline, notes, filters,
// silences, exports and sessions. sourceArgs quotes the sources in the
// command lines it writes.
func Build(dir string, st *casefile.State, generated time.Time, version string, sourceArgs []string) *Report {
	r := &Report{Case: safe(dir), Generated: generated.UTC(), Version: safe(version)}
	for k, b := range st.Bookmarks {
		ev := b.Event
		e := Event{
			N: k + 1, Time: ev.Time, AuditID: safe(ev.AuditID), Stage: safe(ev.Stage), User: safe(ev.User),
			Verb: safe(ev.Verb), Object: safe(ev.Object), Code: ev.Code, Cite: safe(ev.Cite), SHA256: safe(ev.SHA256),
			Length: ev.Length, Bookmarked: len(b.IDs) > 0, Tags: safeAll(b.Tags), Check: "not re-read",
		}
		for _, m := range b.Marks {
			e.By = append(e.By, safe(strings.TrimSpace(m.Author+" "+FmtTime(m.Time))))
		}
		for _, n := range b.Notes {
			e.Notes = append(e.Notes, Note{n.Time, safe(n.Author), safe(n.Text)})
		}
		r.Events = append(r.Events, e)
	}
	for _, n := range st.Notes {
		r.CaseNotes = append(r.CaseNotes, Note{n.Time, safe(n.Author), safe(n.Text)})
	}
	var names []string
	for n := range st.Filters {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		r.Saved = append(r.Saved, query(st.Filters[n], sourceArgs))
	}
	for _, v := range st.Views {
		r.Applied = append(r.Applied, query(v, sourceArgs))
	}
	for _, s := range st.Silences {
		var labels []string
		for k, v := range s.Silence.Labels {
			labels = append(labels, fmt.Sprintf("%s=%q", k, v))
		}
		sort.Strings(labels)
		r.Silences = append(r.Silences, Silence{s.Time, safe(s.Author), safe(s.Silence.Group), safe(s.Silence.Rule), safe("{" + strings.Join(labels, ", ") + "}"), safe(s.Silence.Note)})
	}
	for _, x := range st.Exports {
		e := Export{Time: x.Time, Author: safe(x.Author), Dir: safe(x.Export.Dir), Query: safe(x.Query), Filter: safe(x.Filter), Negate: x.Negate,
			Window: window(x.From, x.To), Events: x.Export.Events, ManifestSHA256: safe(x.Export.ManifestSHA256), Check: "not checked"}
		for _, en := range x.Export.Entries {
			e.Entries = append(e.Entries, casefile.ExportEntry{Path: safe(en.Path), SHA256: safe(en.SHA256), Size: en.Size})
		}
		e.GoneProblem = goneProblem(x.Export)
		for _, g := range x.Export.Gone {
			line := fmt.Sprintf("%s of %s: their bytes were gone (the file was cut in place after they were read, no copy found); the first read at %s", plural.Count(g.Events+g.Unsearched, "event", "events"), g.Source, g.First)
			if g.Unsearched > 0 {
				line += fmt.Sprintf("; %d of them the filter could not search (they may have matched)", g.Unsearched)
			}
			e.Gone = append(e.Gone, safe(line))
		}
		r.Exports = append(r.Exports, e)
	}
	for _, o := range st.Opens {
		r.Sessions = append(r.Sessions, Session{o.Time, safe(o.Author), safeAll(o.Sources), safe(o.Dir), window(o.From, o.To)})
	}
	return r
}

// goneProblem says that an export left events out because their bytes
// were gone: how many, and of which files ("" when none). The count is
// the manifest's events_gone, or the files' sum when it is larger (a
// case that lost the count).
func goneProblem(x *casefile.Export) string {
	n, files := 0, make([]string, 0, len(x.Gone))
	for _, g := range x.Gone {
		n += g.Events + g.Unsearched
		files = append(files, fmt.Sprintf("%d of %s", g.Events+g.Unsearched, g.Source))
	}
	n = max(n, x.EventsGone)
	if n == 0 {
		return ""
	}
	where := "listed under the export"
	if len(files) > 0 {
		where = strings.Join(files, ", ") + "; " + where
	}
	return safe(fmt.Sprintf("export %s: %s NOT exported, their bytes were gone (%s)", x.Dir, plural.Count(n, "event", "events"), where))
}

// query is a saved filter or view with its command line.
func query(rec casefile.Record, sourceArgs []string) Query {
	q := Query{Time: rec.Time, Author: safe(rec.Author), Name: safe(rec.Name), Query: safe(rec.Query), Filter: safe(rec.Filter), Negate: rec.Negate, Window: window(rec.From, rec.To)}
	if rec.Query != "" || rec.From != nil || rec.To != nil {
		q.Command = safe(QueryCommand(rec.Query, Window{rec.From, rec.To}, sourceArgs))
	}
	return q
}

// QueryCommand is the `audittui query` command line that lists the
// events of a query in a window over the sources.
func QueryCommand(q string, w Window, sources []string) string {
	if q == "" {
		q = `{job="audit"} | json`
	}
	parts := []string{"audittui query -o raw"}
	if f := w.Flags(); f != "" {
		parts = append(parts, f)
	}
	parts = append(parts, ShellQuote(q))
	for _, s := range sources {
		parts = append(parts, ShellQuote(s))
	}
	return strings.Join(parts, " ")
}

// ShellQuote quotes s as one word of a POSIX shell command line.
func ShellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,@%+", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

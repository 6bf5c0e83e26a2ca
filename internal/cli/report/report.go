// Package report is `audittui report CASE [SOURCE...]`: the report of an
// investigation kept in a case directory (internal/casefile), as Markdown
// or as one self-contained HTML file (internal/report renders both). It
// re-reads the case's sources (or the SOURCEs given in their place) in its
// window to check every cited event (the bytes at the citation, or found
// by auditID and time elsewhere, still have the recorded sha256), to hash
// the source files whole, and to evaluate the alert rules; it checks each
// export directory against its manifest. A source that cannot be opened
// is named, and the others are still checked; stdin is never read from a
// terminal.
package report

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/audittui/audittui/internal/buildinfo"
	"github.com/audittui/audittui/internal/casefile"
	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/file"
	s3src "github.com/audittui/audittui/internal/data/source/s3"
	"github.com/audittui/audittui/internal/evidence"
	"github.com/audittui/audittui/internal/plural"
	"github.com/audittui/audittui/internal/policy/rules"
	rep "github.com/audittui/audittui/internal/report"
	"github.com/audittui/audittui/internal/termsafe"
	"github.com/audittui/audittui/internal/ui/sample"
)

// ReportOptions are `audittui report`'s options.
type ReportOptions struct {
	IO      *cmdutil.IOStreams
	Now     func() time.Time
	Logger  *slog.Logger
	Sources *cmdutil.SourceSet
	Getwd   func() (string, error)

	Case string
	// Args are SOURCE arguments given on the command line: they replace
	// the case's sources for the checks, the hashes and the alerts.
	Args      []string
	Output    string
	Window    cmdutil.WindowFlags
	RuleFiles []string
	NoBuiltin bool
	NoAlerts  bool
	NoVerify  bool
}

// NewCmdReport builds `audittui report`; runF, when not nil, runs instead
// of the report (tests).
func NewCmdReport(f *cmdutil.Factory, runF func(*ReportOptions) error) *cobra.Command {
	opts := &ReportOptions{IO: f.IOStreams, Now: f.Now, Logger: f.Logger, Getwd: os.Getwd}
	cmd := &cobra.Command{
		Use:   "report [flags] CASE [SOURCE...]",
		Short: "Write the report of an investigation kept in a case directory (Markdown or HTML)",
		Long: `Write the report of the investigation kept in the case directory CASE (what
the TUI's --case DIR or :case DIR recorded) on standard output:

  - the timeline of bookmarked events, with their notes and tags, each with
    its citation (FILE:LINE, FILE:LINE:COL, s3://bucket/key:LINE, or a Loki
    stream and nanosecond time), the sha256 of its bytes and their length
    (sed -n 'LINE,$p' FILE | tail -c +COL | head -c LEN | sha256sum);
  - the filters and windows used, each with the audittui query command that
    lists the same events;
  - the alerts that fired in the window, grouped by rule and labels, the
    most severe first, counted by severity, each group saying whether it
    was still firing at the end of the window or had resolved; and the
    case's silences;
  - the exports with their manifests, checked again;
  - the sources with the sha256 of each whole file (or S3 object as stored),
    each compared with what the case recorded when a session opened it
    (an S3 object: its ETag, size and sha256; unchanged, CHANGED, GONE or
    NEW under the prefix); a local file: unchanged, grown (the recorded bytes followed
    by more: only the live audit.log a session followed may grow), CHANGED
    (also a rotated, archived or read-once file that grew), recompressed:
    same content (a .gz whose decompressed bytes are those recorded: not
    a problem) or GONE; a
    file in a directory SOURCE that no session read is NEW (a problem
    unless a session followed the directory);
  - the audittui build that wrote it.

The case's sources are read again, in the window of its sessions (or
--since/--from/--to), to check each cited event: the bytes found at the
citation must still have the recorded sha256. An event whose file moved is
found by content (its auditID and time, then its sha256) wherever the
sources read hold it; found at another line of the file it is cited in, it
is MOVED (the file changed in place), and gone from that file, NOT FOUND. SOURCE arguments replace the case's sources (the
evidence copied elsewhere for review; the report says so and names what
the case recorded). A file read that holds the bytes the case recorded for
another path (the evidence rotated: audit.log.1, audit.log.1.gz) is that
file, found there; the file now at its path is a new one. Without SOURCE,
a case's source file whose path no longer holds the bytes the case
recorded (a followed audit.log the apiserver rotated: renamed to
audit-<time>.log, then gzipped) is read where a file beside it holds them,
with every backup rotated after it and every file a bookmark cites beside
it, for the checks, the hashes and the alerts. A source that cannot be
opened is named in the report
and its events are "not re-read"; the other sources are still checked.
--no-verify skips reading them (and the alerts and hashes that need them).

A case source "-" (stdin) is read from this command's stdin when it is a
pipe (cat FILE | audittui report CASE), never from a terminal: without a
pipe its events are "not re-read" and the report says to pipe it in.

-o html writes one self-contained HTML file (no scripts, images or other
files to fetch) that prints well.

Lines of the sources read that cannot be read as audit events are listed
under "Lines not read as audit events", each FILE:LINE with the reason (the
first 100; all are counted).

Exit status: 1 exactly when the report's Problems section is not empty: a
cited event, an export (not matching its manifest, or missing events
whose bytes were gone), a source (changed, gone or new since the case
recorded it, or not opened), a line of the case, or a line of the sources
(not read as an audit event) did not check out, or could not be checked;
0 when everything checked out; 2 on usage errors. A case written before audittui recorded
source fingerprints says "not recorded" for each file.`,
		Example: `  audittui report ./case-4711 > report.md
  audittui report -o html ./case-4711 > report.html
  audittui report ./case-4711 /mnt/evidence/nodes/   # the evidence, copied elsewhere
  cat audit.log | audittui report ./case-4711        # a case read from stdin
  audittui report --no-verify ./case-4711`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Case, opts.Args = args[0], args[1:]
			if runF != nil {
				return runF(opts)
			}
			return runReport(cmd.Context(), opts)
		},
	}
	fs := cmd.Flags()
	cmdutil.StringEnumFlag(fs, &opts.Output, "output", "o", "md", []string{"md", "html"}, "report format: md (Markdown) or html (one self-contained file)")
	opts.Window.AddFlags(fs)
	fs.StringArrayVar(&opts.RuleFiles, "rules", nil, "rule file in Loki ruler format besides the built-in pack (repeatable)")
	fs.BoolVar(&opts.NoBuiltin, "no-builtin", false, "do not load the built-in detection pack")
	fs.BoolVar(&opts.NoAlerts, "no-alerts", false, "do not evaluate alert rules")
	fs.BoolVar(&opts.NoVerify, "no-verify", false, "do not read the sources again (no checks of cited events, no file hashes, no alerts)")
	opts.Sources = f.Sources(fs)
	return cmd
}

func runReport(ctx context.Context, opts *ReportOptions) error {
	c, err := casefile.Load(opts.Case)
	if err != nil {
		return cmdutil.UsageError(err)
	}
	st := c.State()
	if len(st.Opens)+len(st.Bookmarks)+len(st.Notes)+len(st.Exports) == 0 && len(c.Problems()) == 0 {
		return cmdutil.UsageErrorf("%s holds no case records (*.jsonl written by audittui --case)", termsafe.String(opts.Case))
	}
	// The sources (the case's, or the SOURCEs given) are read as the
	// sessions read them: their --label labels, --cluster and -r, but
	// those given here again. The report says which were used.
	rd := st.Reading()
	flags, err := opts.Sources.Recorded(rd.Labels, rd.Cluster, rd.Recursive)
	if err != nil {
		return cmdutil.UsageError(fmt.Errorf("case %s: %w", termsafe.String(opts.Case), err))
	}
	var flagArgs []string // the query command lines read with them too
	var readWith []rep.ReadFlag
	for _, f := range flags {
		if !slices.Equal(f.Args, []string{"--recursive=false"}) {
			flagArgs = append(flagArgs, f.Args...)
		}
		flag := strings.Join(f.Args, " ")
		readWith = append(readWith, rep.ReadFlag{Flag: termsafe.String(flag), From: termsafe.String(f.From())})
	}
	wd, _ := opts.Getwd()
	recorded := st.SourceArgs(wd)
	args := recorded
	if len(opts.Args) > 0 {
		// The SOURCEs given replace the case's (the evidence moved).
		if slices.Contains(opts.Args, "-") && opts.IO.InTTY {
			return cmdutil.UsageErrorf("SOURCE - reads stdin, which is a terminal here: pipe the evidence in (cat FILE | audittui report %s -)", rep.ShellQuote(opts.Case))
		}
		args = opts.Args
	}
	r := rep.Build(opts.Case, st, opts.Now(), buildinfo.Get().String(), append(slices.Clip(flagArgs), args...))
	r.ReadWith = readWith
	if len(opts.Args) > 0 {
		r.Recorded = make([]string, len(recorded))
		for i, a := range recorded {
			r.Recorded[i] = termsafe.String(a)
		}
	}
	for _, p := range c.Problems() {
		r.Problems = append(r.Problems, termsafe.String("case "+p.Error()+" (skipped)"))
	}

	// The window: the flags, else the hull of the sessions' windows.
	from, to, err := opts.Window.Range(opts.Now)
	if err != nil {
		return err
	}
	if opts.Window.Since == 0 && opts.Window.From == "" && opts.Window.To == "" {
		from, to = hull(st.Opens)
	}
	r.Window = rep.Window{From: nsPtr(from), To: nsPtr(to)}

	var out outcome
	out.caseLines = len(c.Problems())
	for i := range r.Exports {
		if !checkExport(&r.Exports[i]) {
			out.exports++
			r.Problems = append(r.Problems, termsafe.String("export "+r.Exports[i].Dir+": "+r.Exports[i].Check))
		}
		// Events left out for their bytes being gone: the export is
		// not all the filter selected, whatever its files check.
		if p := r.Exports[i].GoneProblem; p != "" {
			out.gone++
			r.Problems = append(r.Problems, p)
		}
	}
	switch {
	case opts.NoVerify:
		r.Alerts.Why = "--no-verify"
		for _, a := range args {
			r.Sources = append(r.Sources, rep.Source{Arg: termsafe.String(a), Note: "not read (--no-verify)"})
		}
	case len(args) == 0:
		r.Alerts.Why = "no session recorded its sources"
	default:
		readSources(ctx, opts, st, args, from, to, r, &out)
	}
	// The exit status is 1 exactly when the Problems section is not
	// empty: whatever was counted is listed there.
	if msg := out.String(); msg != "" && len(r.Problems) == 0 {
		r.Problems = append(r.Problems, termsafe.String(msg))
	}
	w, done := opts.IO.DataOut()
	if opts.Output == "html" {
		err = rep.HTML(w, r)
	} else {
		err = rep.Markdown(w, r)
	}
	if err == nil {
		err = done()
	}
	if err != nil {
		return err
	}
	if len(r.Problems) > 0 {
		msg := out.String()
		if msg == "" {
			msg = plural.Count(len(r.Problems), "problem", "problems")
		}
		return &cmdutil.ExitError{Code: cmdutil.ExitInputError, Err: errors.New(msg + " (see the report's Problems)")}
	}
	return nil
}

// outcome counts what did not check out, or could not be checked.
type outcome struct {
	events    int   // cited events that do not check out (changed, not found)
	unread    int   // cited events whose source could not be read
	sources   int   // sources that could not be opened
	changed   int   // source files changed or gone since the case recorded them
	added     int   // source files or objects new since the sessions read their SOURCE (not expected there)
	exports   int   // exports that do not match their manifests
	gone      int   // exports that left out events whose bytes were gone
	caseLines int   // lines of the case skipped
	rejected  int64 // lines of the sources not read as audit events
	reading   int   // reads of the sources that failed part way
}

// String says what went wrong ("" when nothing did).
func (o outcome) String() string {
	var parts []string
	add := func(n int, one, many string) {
		if n > 0 {
			parts = append(parts, plural.Count(n, one, many))
		}
	}
	add(o.events, "cited event did not check out", "cited events did not check out")
	add(o.unread, "cited event could not be re-read", "cited events could not be re-read")
	add(o.sources, "source could not be opened", "sources could not be opened")
	add(o.changed, "source file changed or gone since the case recorded it", "source files changed or gone since the case recorded them")
	add(o.added, "source file or object new since the case's sessions read their SOURCE", "source files or objects new since the case's sessions read their SOURCE")
	add(o.exports, "export did not match its manifest", "exports did not match their manifest")
	add(o.gone, "export left out events whose bytes were gone", "exports left out events whose bytes were gone")
	add(o.caseLines, "line of the case could not be used", "lines of the case could not be used")
	add(int(o.rejected), "line of the sources could not be read as audit events", "lines of the sources could not be read as audit events")
	add(o.reading, "read of the sources failed", "reads of the sources failed")
	return strings.Join(parts, "; ")
}

func nsPtr(ns int64) *time.Time {
	if ns == 0 {
		return nil
	}
	t := time.Unix(0, ns).UTC()
	return &t
}

// hull is the smallest window holding every session's (open if any is).
func hull(opens []casefile.Record) (from, to int64) {
	for i, o := range opens {
		f, t := int64(0), int64(0)
		if o.From != nil {
			f = o.From.UnixNano()
		}
		if o.To != nil {
			t = o.To.UnixNano()
		}
		if i == 0 {
			from, to = f, t
			continue
		}
		if f == 0 || (from != 0 && f < from) {
			from = f
		}
		if t == 0 || (to != 0 && t > to) {
			to = t
		}
	}
	return from, to
}

// checkExport checks an export directory against its manifest and the
// manifest against the case's record of it.
func checkExport(x *rep.Export) bool {
	// What the export left out, as its manifest says (review M 14).
	if m, err := evidence.ReadManifest(x.Dir); err == nil {
		for _, nr := range m.NotRead {
			x.NotRead = append(x.NotRead, termsafe.String(nr.Path+" ("+nr.Reason+")"))
		}
	}
	res, err := evidence.Check(x.Dir)
	if err != nil {
		x.Check = termsafe.String(err.Error())
		return false
	}
	sum, _, err := evidence.HashFile(filepath.Join(x.Dir, evidence.ManifestSHA))
	switch {
	case err != nil:
		x.Check = termsafe.String(err.Error())
	case sum != x.ManifestSHA256:
		x.Check = fmt.Sprintf("MANIFEST.sha256 changed since the export (sha256 now %s)", sum)
	case !res.Clean():
		var bad []string
		for _, f := range res.Files {
			if f.Status != evidence.StatusOK {
				bad = append(bad, f.Status+" "+f.Path)
			}
		}
		bad = append(bad, res.JSONProblems...)
		x.Check = termsafe.String("does not match its manifest: " + strings.Join(bad, "; "))
	default:
		x.Check, x.CheckOK = fmt.Sprintf("OK: %s MANIFEST.sha256, which is unchanged (audittui verify)", plural.Count(res.OK, "file matches", "files match")), true
		return true
	}
	return false
}

// readSources re-reads the sources in the window: it hashes the files
// whole, checks every cited event and evaluates the alert rules. A source
// that cannot be opened is named (in its section, the alerts and the
// problems) and the others are still read; the events only it could hold
// are "not re-read", not "not found".
func readSources(ctx context.Context, opts *ReportOptions, st *casefile.State, args []string, from, to int64, r *rep.Report, out *outcome) {
	given := len(opts.Args) > 0
	u := &unread{dirs: sessionDirs(st), files: map[string]bool{}}
	states := fileStates{}
	fw := sessionsFollowing(st)
	var srcs []data.Source
	read := func(a, note string, src data.Source) {
		u.cover(src)
		u.read = true
		srcs = append(srcs, src)
		s, paths := hashSource(ctx, a, src, from, to, st, states, fw.files)
		if !given {
			fw.markNew(a, &s, paths, states)
		}
		for j, p := range paths {
			if fs := states[p]; fs != nil {
				fs.row = &rowAt{src: len(r.Sources), file: j}
			}
		}
		if note != "" && s.Note != "" {
			s.Note = note + "; " + s.Note
		} else if note != "" {
			s.Note = note
		}
		r.Sources = append(r.Sources, s)
	}
	for _, a := range args {
		src, why, note := openSource(ctx, opts, a, given)
		if why != "" && !given {
			if recs := fingerprintsOf(st, localPath(a)); len(recs) > 0 && !exists(a) {
				if found := movedTo(recs[len(recs)-1]); found != "" {
					// Rotated away and not recreated: read where its
					// bytes are (rotatedSources), not a failure.
					r.Sources = append(r.Sources, rep.Source{Arg: termsafe.String(a),
						Note: termsafe.String("gone from this path since the case recorded it: read where a rotation moved its bytes, " + found)})
					continue
				}
			}
		}
		if why != "" {
			u.failed = append(u.failed, failedSource{arg: a, why: why})
			if a == "-" {
				u.stdin = why
			}
			r.Sources = append(r.Sources, rep.Source{Arg: termsafe.String(a), Note: termsafe.String(note), Err: termsafe.String("not read: " + why)})
			r.Problems = append(r.Problems, termsafe.String("source "+a+" not read: "+why))
			out.sources++
			continue
		}
		read(a, note, src)
	}
	if !given {
		// What a rotation moved the case's sources to (fingerprint.go):
		// read in their place, for the checks, the hashes and the alerts.
		for _, x := range rotatedSources(st, states, u.files, u.dirs) {
			src, why, _ := openSource(ctx, opts, x.path, false)
			if why != "" {
				u.failed = append(u.failed, failedSource{arg: x.path, why: why})
				r.Sources = append(r.Sources, rep.Source{Arg: termsafe.String(x.path), Note: termsafe.String(x.note), Err: termsafe.String("not read: " + why)})
				r.Problems = append(r.Problems, termsafe.String("source "+x.path+" not read: "+why))
				out.sources++
				continue
			}
			read(x.path, termsafe.String(x.note), src)
		}
	}
	states.rotatedAway(r)
	for _, s := range r.Sources {
		for _, f := range s.Files {
			switch {
			case f.Since == "" || f.SinceOK:
			case strings.HasPrefix(f.Since, "NEW: "):
				r.Problems = append(r.Problems, termsafe.String("source file "+f.Path+": "+f.Since))
				out.added++
			default:
				r.Problems = append(r.Problems, termsafe.String("source file "+f.Path+": "+strings.TrimPrefix(f.Since, "CHANGED: ")))
				out.changed++
			}
		}
	}
	if !given {
		goneFiles(st, r, states, out)
	}
	checks := newChecker(st.Bookmarks, u.dirs)
	checks.given, checks.states = given, states
	if len(srcs) == 0 {
		r.Alerts.Why = termsafe.String("no source could be opened (" + u.failedList() + ")")
		checks.apply(r, u, out)
		return
	}
	if len(u.failed) > 0 {
		r.Alerts.Partial = termsafe.String("Evaluated over the sources that could be opened only; not read: " + u.failedList() + ".")
	}

	// One read: the checks see every batch before the rules do.
	stream, err := data.OpenAll(ctx, srcs, data.ReadOptions{From: from, To: to})
	if err != nil {
		r.Alerts.Why = termsafe.String(err.Error())
		r.Problems = append(r.Problems, termsafe.String("reading the sources: "+err.Error()))
		out.reading++
		checks.apply(r, u, out)
		return
	}
	dups := data.NewDups(0)
	tee := &teeStream{Stream: stream, fn: func(b *data.Batch) {
		checks.batch(b)
		addRejects(r, b.Rejects)
		spanEvents(r, b.Events)
		countEvents(r, dups, b.Events)
	}}
	defer tee.Close()
	if opts.NoAlerts {
		r.Alerts.Why = "--no-alerts"
		for {
			_, err := tee.Next(ctx)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				r.Problems = append(r.Problems, termsafe.String("reading the sources: "+err.Error()))
				out.reading++
				break
			}
		}
	} else {
		evalAlerts(ctx, opts, st, tee, from, to, r, out)
	}
	if r.RejectedLines > 0 {
		r.Problems = append(r.Problems, fmt.Sprintf("%s of the sources could not be read as audit events (listed under Lines not read as audit events)", plural.Count(r.RejectedLines, "line", "lines")))
		out.rejected = r.RejectedLines
	}
	checks.apply(r, u, out)
}

// spanEvents widens the report's first and last event's times to the
// events of a batch (those with a time).
func spanEvents(r *rep.Report, evs []data.Event) {
	for i := range evs {
		t := evs[i].Time
		if t == 0 {
			continue
		}
		if r.FirstEvent.IsZero() || t < r.FirstEvent.UnixNano() {
			r.FirstEvent = time.Unix(0, t).UTC()
		}
		if r.LastEvent.IsZero() || t > r.LastEvent.UnixNano() {
			r.LastEvent = time.Unix(0, t).UTC()
		}
	}
}

// countEvents counts the events of a batch in the report's Summary: an
// exact copy of an earlier one (data.Dups: the same line; at-least-once
// shippers, files concatenated twice) once, as `query` counts them.
func countEvents(r *rep.Report, dups *data.Dups, evs []data.Event) {
	for i := range evs {
		if dups.Seen(&evs[i]) {
			r.Copies++
			continue
		}
		r.Read++
		if evs[i].Time == 0 {
			r.Undated++
		}
	}
}

// addRejects lists the lines of the sources that could not be read as
// audit events (the first rep.MaxRejects of them) and counts them all.
func addRejects(r *rep.Report, rs []data.Reject) {
	for _, rj := range rs {
		r.RejectedLines += rj.LineCount()
		if len(r.Rejects) < rep.MaxRejects {
			r.Rejects = append(r.Rejects, rep.Reject{Where: termsafe.String(rj.Origin.Where()), Reason: termsafe.String(rj.Reason), Lines: rj.LineCount()})
		}
	}
}

// exists reports whether a local file or directory is at p.
func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// openSource opens one SOURCE argument (the bundled sample by its name).
// why says why it cannot be read; note where it comes from, for the
// report. Stdin ("-") is read only when it is not a terminal and
// something comes on it: a terminal is never read as evidence.
func openSource(ctx context.Context, opts *ReportOptions, arg string, given bool) (src data.Source, why, note string) {
	if given {
		note = "given on the command line, in place of the case's sources"
	}
	if arg == sample.Name {
		return sample.Source{}, "", note
	}
	if arg == "-" {
		what, pipeIn := "the case's source was stdin", "cat FILE | audittui report "+rep.ShellQuote(opts.Case)
		if given {
			what, pipeIn = "SOURCE - is stdin", pipeIn+" -"
		}
		if opts.IO.InTTY { // never read a terminal as evidence
			return nil, what + ", which is a terminal here; pipe it in again (" + pipeIn + ")", note
		}
		in := bufio.NewReader(opts.IO.In)
		if _, err := in.Peek(1); err != nil {
			why := "nothing came on stdin"
			if !errors.Is(err, io.EOF) {
				why = "stdin cannot be read (" + err.Error() + ")"
			}
			return nil, what + ", and " + why + "; pipe it in again (" + pipeIn + ")", note
		}
		opts.Sources.Stdin = in
		note = "the case's source was stdin: this command's stdin was read as that source"
		if given {
			note = "given on the command line: this command's stdin"
		}
	}
	srcs, ok, err := opts.Sources.Resolve(ctx, []string{arg})
	switch {
	case err != nil:
		return nil, err.Error(), note
	case !ok || len(srcs) != 1:
		return nil, "no source", note
	}
	return srcs[0], "", note
}

// failedSource is a SOURCE that could not be opened, and why.
type failedSource struct{ arg, why string }

// unread knows what was read, to tell an event not found in what was
// read from one whose source could not be read at all.
type unread struct {
	failed []failedSource
	stdin  string          // why the stdin source was not read
	files  map[string]bool // the local files read (as named, and absolute)
	prefix []string        // s3://bucket/prefix/ read
	loki   bool            // a Loki server was read
	read   bool            // some source was read
	dirs   []string        // the sessions' working directories
}

// sessionDirs are the directories the case's sessions were opened in: a
// relative citation is relative to one of them.
func sessionDirs(st *casefile.State) []string {
	var out []string
	for _, o := range st.Opens {
		if o.Dir != "" && !slices.Contains(out, o.Dir) {
			out = append(out, o.Dir)
		}
	}
	return out
}

// cover notes what src reads.
func (u *unread) cover(src data.Source) {
	switch src := src.(type) {
	case *file.Source:
		for _, g := range src.Files() {
			for _, p := range g {
				u.files[p] = true
				if abs, err := filepath.Abs(p); err == nil {
					u.files[abs] = true
				}
			}
		}
	case *s3src.Source:
		u.prefix = append(u.prefix, src.String())
	case sample.Source:
		u.files[sample.Name] = true
	default:
		u.loki = true
	}
}

// covered: the event's own source was read.
func (u *unread) covered(ref casefile.EventRef) bool {
	if ref.StreamTime != 0 {
		return u.loki
	}
	if u.files[ref.Source] {
		return true
	}
	if ref.Source != "" && !filepath.IsAbs(ref.Source) {
		for _, d := range u.dirs {
			if u.files[filepath.Join(d, ref.Source)] {
				return true
			}
		}
	}
	for _, p := range u.prefix {
		if strings.HasPrefix(ref.Source, p) {
			return true
		}
	}
	return false
}

// why says why an event that was not found was not re-read: its source
// could not be opened ("" when its source was read, or every source was:
// then it is not there).
func (u *unread) why(ref casefile.EventRef) string {
	if ref.Source == "-" && u.stdin != "" {
		return "not re-read: " + u.stdin
	}
	if len(u.failed) == 0 || u.covered(ref) {
		return ""
	}
	w := "not re-read: a source could not be opened (" + u.failedList() + ")"
	if u.read {
		w += ", and the sources read do not hold these bytes"
	}
	return w
}

func (u *unread) failedList() string {
	var parts []string
	for _, f := range u.failed {
		if f.arg == "-" || strings.Contains(f.why, f.arg) { // stdin: the why says so
			parts = append(parts, f.why)
		} else {
			parts = append(parts, f.arg+": "+f.why)
		}
	}
	return strings.Join(parts, "; ")
}

// hashSource hashes the files a SOURCE names, whole: local files (each
// compared with the case's fingerprints: see hashLocal), or the S3
// objects of the window as stored.
func hashSource(ctx context.Context, arg string, src data.Source, from, to int64, st *casefile.State, states fileStates, followed map[string]bool) (s rep.Source, paths []string) {
	s = rep.Source{Arg: termsafe.String(arg)}
	switch src := src.(type) {
	case *file.Source:
		for _, u := range src.Unread() {
			s.NotRead = append(s.NotRead, rep.NotRead{Dir: termsafe.String(u.Dir), Why: termsafe.String(u.Why)})
		}
		for _, g := range src.Files() {
			for _, p := range g {
				if p == "-" {
					s.Note = "stdin: no file to hash"
					continue
				}
				s.Files = append(s.Files, hashLocal(p, st, states, followed))
				paths = append(paths, localPath(p))
			}
		}
	case *s3src.Source:
		hashObjects(ctx, &s, src, from, to, st)
	case sample.Source:
		s.Note = "the sample bundled in the audittui binary (" + termsafe.String(buildinfo.Get().String()) + "): no file to hash"
	default:
		s.Note = "entries are cited by stream and nanosecond time; a Loki server has no files to hash"
	}
	return s, paths
}

// evalAlerts runs the rule pack over the stream and keeps the groups of
// rules that fired.
func evalAlerts(ctx context.Context, opts *ReportOptions, st *casefile.State, stream data.Stream, from, to int64, r *rep.Report, out *outcome) {
	set, err := cmdutil.LoadRulesFor(opts.RuleFiles, opts.NoBuiltin, opts.Sources.Job(), opts.IO.ErrOut)
	if err != nil {
		r.Alerts.Why = termsafe.String(err.Error())
		drain(ctx, stream)
		return
	}
	if set == nil || len(set.Rules()) == 0 {
		r.Alerts.Why = "no rules loaded"
		drain(ctx, stream)
		return
	}
	res, err := rules.Replay(ctx, stream, set, rules.Options{From: from, To: to, Logger: opts.Logger})
	if err != nil {
		r.Alerts.Why = termsafe.String(err.Error())
		r.Problems = append(r.Problems, termsafe.String("reading the sources: "+err.Error()))
		out.reading++
		return
	}
	r.Alerts.Evaluated, r.Alerts.Rules = true, len(set.Rules())
	silenced := map[string]casefile.Record{}
	for _, s := range st.Silences {
		silenced[s.Silence.Group] = s
	}
	for _, rg := range rules.GroupAlerts(res.Alerts, rules.GroupOptions{}) {
		for _, g := range rg.Groups {
			fired := false
			var ids []string
			summary := ""
			for _, a := range g.Alerts {
				if !a.FiredAt.IsZero() {
					fired = true
				}
				if summary == "" {
					summary = a.Annotations["summary"]
				}
				for _, id := range a.AuditIDs {
					if len(ids) < 5 && !slices.Contains(ids, termsafe.String(id)) {
						ids = append(ids, termsafe.String(id))
					}
				}
			}
			if !fired {
				continue
			}
			ag := rep.AlertGroup{Key: termsafe.String(g.Key), Name: termsafe.String(g.Name), Severity: termsafe.String(g.Severity),
				Rule: termsafe.String(g.Rule.Where()), Labels: termsafe.String(rules.LabelsString(g.Labels)),
				Instances: g.Instances, Firing: g.Firing, Events: g.Events, Failed: g.Failed, First: g.First, Last: g.Last,
				Summary: termsafe.String(summary), AuditIDs: ids}
			if s, ok := silenced[g.Key]; ok {
				ag.Silenced = termsafe.String(strings.TrimSpace(s.Author + " " + rep.FmtTime(s.Time) + ": " + s.Silence.Note))
			}
			r.Alerts.Groups = append(r.Alerts.Groups, ag)
		}
	}
	// Most severe first, then in time order.
	sort.SliceStable(r.Alerts.Groups, func(i, j int) bool {
		a, b := r.Alerts.Groups[i], r.Alerts.Groups[j]
		if ra, rb := rules.SeverityRank(a.Severity), rules.SeverityRank(b.Severity); ra != rb {
			return ra > rb
		}
		return a.First.Before(b.First)
	})
}

func drain(ctx context.Context, st data.Stream) {
	for {
		if _, err := st.Next(ctx); err != nil {
			return
		}
	}
}

// teeStream shows every batch to fn before handing it on.
type teeStream struct {
	data.Stream
	fn func(*data.Batch)
}

func (t *teeStream) Next(ctx context.Context) (*data.Batch, error) {
	b, err := t.Stream.Next(ctx)
	if b != nil {
		t.fn(b)
	}
	return b, err
}

// checker finds the cited events in what is read: a candidate by auditID
// and time, or by its place (file and line); its bytes' sha256 decides.
type checker struct {
	refs   map[string]casefile.EventRef // by sha256
	places map[string][]place           // sha256 -> where the citation may point (a relative file from each session's directory)
	byID   map[string][]string          // auditID + time -> sha256s
	byLine map[place][]string           // place -> sha256s
	found  map[string]foundAt           // sha256 -> where found
	seen   map[string][]string          // sha256 -> every place found, cited, in read order
	length map[string]int64             // sha256 -> length of the bytes found
	// differ: at the cited place, bytes with another sha256.
	differ map[string]string
	// given: the sources read were given on the command line in place
	// of the case's.
	given bool
	// states are the local files read and recorded (fingerprint.go).
	states fileStates
}

// place is where an event is: its file (a local one absolute) and the
// rest of its citation (":LINE", ":LINE:COL"); a Loki entry is its
// citation alone.
type place struct{ file, at string }

// foundAt is where an event's bytes were found.
type foundAt struct {
	cite string
	pl   place
}

// placeOf is the place of an event read now (a relative file is relative
// to this process's working directory).
func placeOf(o data.Origin) place {
	cite := o.Cite()
	if o.StreamTime != 0 || o.Source == nil {
		return place{file: cite}
	}
	return place{file: localPath(o.Source.Name), at: strings.TrimPrefix(cite, o.Source.Name)}
}

// refPlaces are the places a citation may point to: a relative file was
// relative to the directory its session was opened in (any of them).
func refPlaces(ref casefile.EventRef, dirs []string) []place {
	if ref.StreamTime != 0 || ref.Source == "" || !strings.HasPrefix(ref.Cite, ref.Source) {
		return []place{{file: ref.Cite}}
	}
	at := strings.TrimPrefix(ref.Cite, ref.Source)
	name := ref.Source
	if name == "-" || strings.Contains(name, "://") || filepath.IsAbs(name) {
		return []place{{file: name, at: at}}
	}
	out := []place{{file: localPath(name), at: at}}
	for _, d := range dirs {
		if p := (place{file: filepath.Join(d, name), at: at}); !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

func newChecker(bs []*casefile.Bookmark, dirs []string) *checker {
	c := &checker{refs: map[string]casefile.EventRef{}, places: map[string][]place{}, byID: map[string][]string{}, byLine: map[place][]string{},
		found: map[string]foundAt{}, seen: map[string][]string{}, length: map[string]int64{}, differ: map[string]string{}, states: fileStates{}}
	for _, b := range bs {
		ev := b.Event
		c.refs[ev.SHA256] = ev
		k := idKey(ev.AuditID, ev.Time)
		c.byID[k] = append(c.byID[k], ev.SHA256)
		if ev.Cite != "" {
			c.places[ev.SHA256] = refPlaces(ev, dirs)
			for _, p := range c.places[ev.SHA256] {
				c.byLine[p] = append(c.byLine[p], ev.SHA256)
			}
		}
	}
	return c
}

func idKey(id string, t time.Time) string {
	ns := int64(0)
	if !t.IsZero() {
		ns = t.UnixNano()
	}
	return fmt.Sprintf("%s@%d", id, ns)
}

// atCitation reports whether pl is where the event with this sha256 is
// cited.
func (c *checker) atCitation(sum string, pl place) bool { return slices.Contains(c.places[sum], pl) }

// compressedSince reports whether pl is the place the event with this
// sha256 is cited at, in the cited file compressed since (FILE.gz or
// FILE.zst, the same line decompressed; FILE is gone).
func (c *checker) compressedSince(sum string, pl place) bool {
	for _, p := range c.places[sum] {
		if p.at != pl.at || p.at == "" || (pl.file != p.file+".gz" && pl.file != p.file+".zst") {
			continue
		}
		if _, err := os.Stat(p.file); errors.Is(err, os.ErrNotExist) {
			return true
		}
	}
	return false
}

// citedFile is the local file the event is cited in, as read now (its
// place's file that the report read, else the first), "" for none.
func (c *checker) citedFile(sum string) string {
	ps := c.places[sum]
	if len(ps) == 0 || ps[0].at == "" {
		return ""
	}
	for _, p := range ps {
		if c.states[p.file] != nil {
			return p.file
		}
	}
	return ps[0].file
}

func (c *checker) batch(b *data.Batch) {
	for i := range b.Events {
		e := &b.Events[i]
		var t time.Time
		if e.Time != 0 {
			t = time.Unix(0, e.Time)
		}
		pl := placeOf(e.Origin)
		byID, byLine := c.byID[idKey(e.AuditID, t)], c.byLine[pl]
		if len(byID) == 0 && len(byLine) == 0 {
			continue
		}
		h := sha256.Sum256(e.Raw)
		sum := hex.EncodeToString(h[:])
		for _, want := range append(byID, byLine...) {
			switch {
			case want == sum:
				c.length[sum] = int64(len(e.Raw))
				if cite := e.Origin.Cite(); !slices.Contains(c.seen[sum], cite) {
					c.seen[sum] = append(c.seen[sum], cite)
				}
				if prev, ok := c.found[sum]; !ok || (!c.atCitation(sum, prev.pl) && c.atCitation(sum, pl)) {
					c.found[sum] = foundAt{e.Origin.Cite(), pl}
				}
			case c.atCitation(want, pl):
				c.differ[want] = sum
			}
		}
	}
}

// apply writes the checks into the report's events and counts those that
// do not check out, or could not be checked (u says why). An event found
// at another line of the file it is cited in, or no longer found in it,
// is not OK: the file changed (its fingerprint, when the case recorded
// one, says how).
func (c *checker) apply(r *rep.Report, u *unread, out *outcome) {
	for i := range r.Events {
		e := &r.Events[i]
		ref := c.refs[e.SHA256] // a sha256 is the same sanitised
		if n := c.length[ref.SHA256]; n > 0 && e.Length == 0 {
			// A case written before lengths were recorded: the bytes
			// found with this sha256 say it.
			e.Length = n
		}
		file := c.citedFile(ref.SHA256)
		where, found := c.found[ref.SHA256]
		if !found || !c.atCitation(ref.SHA256, where.pl) {
			// Not at its citation: a file that is what the case recorded
			// (or grew) changed after the session read past those bytes.
			c.states.changedAfterRead(file, ref)
		}
		changed := c.states.changedText(file)
		fileNote := changed
		if fileNote == "" && file != "" && c.states[file] != nil && !c.states[file].recorded {
			fileNote = "the case recorded no fingerprint of the file, so how it changed cannot be told"
		}
		failed := out.events
		switch {
		case found && c.atCitation(ref.SHA256, where.pl):
			e.Check, e.CheckOK = "OK: the bytes at the citation have this sha256 (sources re-read)", true
			if changed != "" {
				e.Check += "; but " + changed
			}
		case found && c.given:
			e.Check, e.CheckOK = "OK: the same bytes were found at "+where.cite+" (in the sources given on the command line)", true
		case found && c.compressedSince(ref.SHA256, where.pl):
			// The cited file rotated, then compressed: the same line.
			e.Check, e.CheckOK = "OK: the cited file was compressed since; the bytes at the same line of "+where.pl.file+" have this sha256", true
		case found && file != "" && where.pl.file == file:
			// The same file, another line: it changed in place.
			e.Check = fmt.Sprintf("MOVED: the cited line moved from %s to %s (the same bytes are at %s): %s",
				strings.TrimPrefix(c.places[ref.SHA256][0].at, ":"), strings.TrimPrefix(where.pl.at, ":"), where.cite, orText(fileNote, "the file changed since the case was opened"))
			out.events++
		case found:
			why := "not at the citation"
			switch {
			case changed != "":
				why += ": " + changed
			case file != "" && c.states[file] == nil:
				why += ": " + file + " was not read"
			case file != "" && c.states[file].away:
				why += ": " + file + " is gone from its path, a rotation moved it"
			case file != "" && c.states[file].rotated:
				why += ": " + file + " is a new file, the one the case recorded was rotated or moved"
			}
			e.Check, e.CheckOK = "OK: the same bytes were found at "+where.cite+" ("+why+")", true
		case c.differ[ref.SHA256] != "":
			e.Check = "MISMATCH: the bytes at the citation now have sha256 " + c.differ[ref.SHA256]
			if fileNote != "" {
				e.Check += "; " + fileNote
			}
			out.events++
		case u.why(ref) != "":
			e.Check = u.why(ref)
			out.unread++
		case changed != "":
			e.Check = "NOT FOUND: the bytes are gone: " + changed + " (and the other sources read, in the window, do not hold them)"
			out.events++
		case c.given:
			e.Check = "NOT FOUND in the sources given on the command line, read in the window"
			out.events++
		default:
			e.Check = "NOT FOUND in the sources read in the window"
			out.events++
		}
		e.Check = termsafe.String(e.Check)
		e.AlsoAt = c.alsoAt(ref.SHA256, where.cite)
		if out.events > failed {
			r.Problems = append(r.Problems, fmt.Sprintf("cited event %d (%s): %s", e.N, e.Cite, e.Check))
		}
	}
	c.states.flagChangedAfterRead(r, out)
}

// maxAlsoAt bounds the other places an event's report lists.
const maxAlsoAt = 8

// alsoAt are the places other than at where the sources read hold the
// bytes with this sha256 (cited, sanitised): copies of a file.
func (c *checker) alsoAt(sum, at string) []string {
	var out []string
	n := 0
	for _, cite := range c.seen[sum] {
		if cite == at {
			continue
		}
		if n++; n <= maxAlsoAt {
			out = append(out, termsafe.String(cite))
		}
	}
	if n > maxAlsoAt {
		out[len(out)-1] += fmt.Sprintf(" and %d more", n-maxAlsoAt)
	}
	return out
}

func orText(s, or string) string {
	if s == "" {
		return or
	}
	return s
}

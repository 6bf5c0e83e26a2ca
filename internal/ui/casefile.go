package ui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/audittui/audittui/internal/casefile"
	"github.com/audittui/audittui/internal/evidence"
	pl "github.com/audittui/audittui/internal/plural"
	"github.com/audittui/audittui/internal/termsafe"
)

// The case file (internal/casefile): `audittui --case DIR` or `:case DIR`
// keeps the investigation in DIR as append-only JSON-lines records:
// bookmarks (m), notes (:note TEXT, :comment TEXT, :casenote TEXT), tags
// (:tag NAME..., :untag NAME), saved filters (:save NAME, :load NAME,
// :filters), alert silences (RecordSilence), the sources and window each
// session opened, the filters and windows applied, and exports
// (:export DIR). Before a directory is given the records are kept in
// memory and written when one is. Reopening a case restores it: its
// bookmarked events are found again in the index by their sha256
// (resolve). Every write is a command (I/O never runs in Update) and goes
// through Options.Write (App.writeDir).

// Sources describes what the session opened, for the case's session
// record: the SOURCE arguments, the working directory they are relative
// to, and the local files they name.
type Sources struct {
	Args  []string
	Dir   string
	Files []string
	// Objects, when set, lists the S3 objects the session reads, as the
	// case's object records hold them, but those the case holds as they
	// are now (known: its latest record of each by URL). It runs in a
	// command once the first screen is drawn (cli/tui: the S3 sources'
	// Prints, each new object downloaded once more for its sha256).
	Objects func(ctx context.Context, known map[string]casefile.SourceObject) ([]casefile.SourceObject, error)
	// Labels are the --label NAME=VALUE labels, Cluster --cluster and
	// Recursive -r, as the sources were read (recorded for a reopening
	// and the report).
	Labels    []string
	Cluster   string
	Recursive bool
	// NotRead are the directories the sources hold that are not read
	// (:export records them in its manifest).
	NotRead []evidence.NotRead
	// FollowedLive, when set, says whether a session of the case (st)
	// followed the local file at path live: the report's rule
	// (report.FollowedLive), by which only that file's growth since the
	// case recorded it is benign. nil: growth is taken as benign.
	FollowedLive func(st *casefile.State, path string) bool
}

// workbench is the App's investigation state.
type workbench struct {
	cs       *casefile.Case // never nil: in memory until a directory is given
	list     marksList
	zooms    []TimeWindow
	lastView string // the last view recorded (not recorded twice in a row)
	// resolve: finding the case's events in the index.
	resolving    bool
	resolvedUpTo int
	resolveGen   uint64
	// firstScreen is closed once the first screen with events is drawn
	// (or the input is read, or was before the app started): the source
	// files are fingerprinted after it, so that never slows it down.
	firstScreen     chan struct{}
	firstScreenOnce sync.Once
}

func newWorkbench(opts Options, now func() time.Time) *workbench {
	cs := casefile.Memory()
	cs.Author = opts.Author
	cs.Now = now
	return &workbench{cs: cs, firstScreen: make(chan struct{})}
}

// drawn records that the first screen is drawn (or that there is no
// reading left to slow down).
func (w *workbench) drawn() { w.firstScreenOnce.Do(func() { close(w.firstScreen) }) }

// caseMsg carries the case's state after a change (a record added, a case
// opened); row >= 0 is the index row of the event sha the change was about.
type caseMsg struct {
	cs      *casefile.Case
	st      *casefile.State
	row     int
	sha     string
	status  string
	err     error
	opened  bool
	records []casefile.Record // the records added
	// act is what the message reports to OnAction beyond its records
	// (an export, done or failed).
	act *ActionRecord
}

// resolvedMsg carries the rows where the case's events were found, among
// rows [from, upTo) of the snapshot.
type resolvedMsg struct {
	gen   uint64
	upTo  int
	found map[string]int
}

// openCase opens (or creates) the case in the directory the user named,
// merges the records kept so far into it, and records the session.
func (a *App) openCase(path string) tea.Cmd {
	cs := a.wb.cs
	author, now, notice := a.opts.Author, a.c.Now, ""
	if path == a.opts.Case {
		notice = a.opts.Notice // about the case opened at start
	}
	open := a.sessionRecord()
	return func() tea.Msg {
		dir, err := a.writeDir(path)
		if err != nil {
			return caseMsg{err: err, row: -1}
		}
		if cs.Dir() != "" && cs.Dir() != dir {
			// Another case: start afresh (the old one is on disk).
			cs = casefile.Memory()
			cs.Author, cs.Now = author, now
		}
		if err := cs.Attach(dir); err != nil {
			return caseMsg{err: err, row: -1}
		}
		rec, err := cs.Add(open)
		if err != nil {
			return caseMsg{err: err, row: -1}
		}
		st := cs.State()
		status := fmt.Sprintf("case: %d bookmarked, %s, %s, %s, %s in %s", len(st.Bookmarks), plural(countNotes(st), "note", "notes"),
			plural(len(st.Filters), "saved filter", "saved filters"), plural(len(st.Silences), "silence", "silences"), plural(len(st.Opens), "session", "sessions"), dir)
		if p := cs.Problems(); len(p) > 0 {
			status += fmt.Sprintf("; %s skipped: %s", plural(len(p), "line", "lines"), p[0].Error())
		}
		if notice != "" {
			status = notice + " · " + status
		}
		return caseMsg{cs: cs, st: st, row: -1, status: status, opened: true, records: []casefile.Record{rec}}
	}
}

func countNotes(st *casefile.State) int {
	n := len(st.Notes)
	for _, b := range st.Bookmarks {
		n += len(b.Notes)
	}
	return n
}

// sessionRecord is the open record of this session: sources, window and
// whether it followed them.
func (a *App) sessionRecord() casefile.Record {
	r := casefile.Record{Kind: casefile.KindOpen, Sources: a.opts.Sources.Args, Dir: a.opts.Sources.Dir, Files: a.opts.Sources.Files, Text: a.opts.Title,
		Labels: a.opts.Sources.Labels, Cluster: a.opts.Sources.Cluster, Recursive: a.opts.Sources.Recursive}
	r.From, r.To = timePtr(a.opts.Window.From), timePtr(a.opts.Window.To)
	// Whether it followed its sources: the TUI's decision, so a report
	// does not guess it from the SOURCEs (an explicit --follow=false on
	// one file is not followed, and its growth is not benign).
	follow := a.opts.Follow
	r.Follow = &follow
	return r
}

func timePtr(ns int64) *time.Time {
	if ns == 0 {
		return nil
	}
	t := time.Unix(0, ns).UTC()
	return &t
}

// record adds records to the case in a command; row/sha name the event
// the change is about (-1: none).
func (a *App) record(recs []casefile.Record, row int, sha, status string) tea.Cmd {
	cs := a.wb.cs
	return func() tea.Msg { return addRecords(cs, recs, row, sha, status) }
}

// addRecords adds recs to cs (in a command) and reports the case's state.
func addRecords(cs *casefile.Case, recs []casefile.Record, row int, sha, status string) caseMsg {
	var added []casefile.Record
	for _, r := range recs {
		rec, err := cs.Add(r)
		if err != nil {
			return caseMsg{err: err, row: -1}
		}
		added = append(added, rec)
	}
	if cs.Dir() == "" && status != "" {
		status += " (no case open: :case DIR writes it)"
	}
	return caseMsg{cs: cs, st: cs.State(), row: row, sha: sha, status: status, records: added}
}

// caseChanged takes a caseMsg.
func (a *App) caseChanged(m caseMsg) tea.Cmd {
	if m.act != nil {
		a.action(*m.act)
	}
	for _, r := range m.records {
		switch {
		case r.Event == nil:
		case r.Kind == casefile.KindBookmark:
			a.action(ActionRecord{Kind: RecordBookmark, Text: r.Event.Cite})
		case r.Kind == casefile.KindUnbookmark:
			a.action(ActionRecord{Kind: RecordUnbookmark, Text: r.Event.Cite})
		}
	}
	if m.err != nil {
		a.status = "case: " + m.err.Error()
		return nil
	}
	if m.cs != a.wb.cs {
		if !m.opened {
			return nil // a write to a case that was replaced meanwhile
		}
		a.wb.cs = m.cs
	}
	a.c.Marks.setState(m.st)
	if m.row >= 0 && m.sha != "" {
		if _, ok := m.st.Bookmark(m.sha); ok {
			a.c.Marks.found(m.sha, m.row)
		}
	}
	if m.opened {
		// Look for the case's events in everything read so far.
		a.wb.resolvedUpTo = 0
		a.wb.resolving = false
		a.wb.resolveGen++
	}
	var fp tea.Cmd
	if m.opened {
		a.restoreSilences(m.st) // silences.go
		fp = a.fingerprintSources(m.cs)
	}
	if m.status != "" { // "": the action's own status stays (a silence)
		a.status = m.status
	}
	a.detail.build()
	return tea.Batch(a.resolve(), fp)
}

// fingerprintSources records in the case cs the fingerprint of each local
// source file the session opened (its size, modification time and the
// sha256 of its bytes, and of its content decompressed for a gzip or zstd
// file: evidence.CachedFingerprint, each file hashed once per process),
// unless the case holds one of the file as it is now (the
// same size and modification time): a report then tells a file changed
// since from the same evidence. It runs in a command, once the first
// screen is drawn.
func (a *App) fingerprintSources(cs *casefile.Case) tea.Cmd {
	files, dir, objects, followed := a.opts.Sources.Files, a.opts.Sources.Dir, a.opts.Sources.Objects, a.opts.Sources.FollowedLive
	if len(files) == 0 && objects == nil {
		return nil
	}
	ctx, wait := a.ctx, a.wb.firstScreen
	return func() tea.Msg {
		select {
		case <-wait:
		case <-ctx.Done():
			return nil
		}
		st := cs.State()
		var recs []casefile.Record
		var failed, changed []string
		for _, f := range files {
			if f == "-" || ctx.Err() != nil {
				continue // stdin: no file to fingerprint
			}
			p := f
			if !filepath.IsAbs(p) {
				p = filepath.Join(dir, p)
			}
			if abs, err := filepath.Abs(p); err == nil {
				p = abs
			}
			if fi, err := os.Stat(p); err == nil && st.Fingerprinted(p, fi.Size(), fi.ModTime().UTC()) {
				// As a session recorded it last: a change it found then
				// is still one.
				if how := foundChanged(st, p); how != "" {
					changed = append(changed, termsafe.String(f)+" "+how)
				}
				continue
			}
			fp, err := evidence.CachedFingerprint(p)
			if err != nil {
				failed = append(failed, err.Error())
				continue
			}
			how := sinceRecorded(st, p, fp, followed == nil || followed(st, p))
			if how != "" {
				changed = append(changed, termsafe.String(f)+" "+how)
			}
			rec := casefile.Record{Kind: casefile.KindFingerprint,
				File: &casefile.SourceFile{Path: p, Size: fp.Size, SHA256: fp.SHA256, ModTime: fp.ModTime, ContentSHA256: fp.ContentSHA256}}
			if strings.HasPrefix(how, "CHANGED") {
				rec.Text = how // for later sessions (foundChanged)
			}
			recs = append(recs, rec)
		}
		if objects != nil && ctx.Err() == nil {
			// The S3 objects read: each recorded once as it is.
			known := map[string]casefile.SourceObject{}
			for _, r := range st.Objects {
				known[r.Object.URL] = *r.Object
			}
			objs, err := objects(ctx, known)
			if err != nil {
				failed = append(failed, err.Error())
			}
			for _, o := range objs {
				recs = append(recs, casefile.Record{Kind: casefile.KindObject, Object: &o})
			}
		}
		status := ""
		if len(failed) > 0 {
			status = fmt.Sprintf("case: %s not fingerprinted: %s", plural(len(failed), "source", "sources"), termsafe.String(failed[0]))
		}
		if len(changed) > 0 {
			// The evidence is not what the case recorded: said before
			// anything else.
			more := ""
			if len(changed) > 1 {
				more = fmt.Sprintf(" (and %s)", plural(len(changed)-1, "more file", "more files"))
			}
			status = strings.TrimSuffix("case: "+changed[0]+more+" · "+status, " · ")
		}
		if len(recs) == 0 {
			if status != "" {
				return statusMsg(status)
			}
			return nil
		}
		return addRecords(cs, recs, -1, "", status)
	}
}

// sinceRecorded says how the local file at path p, fingerprinted now as
// fp, differs from what the case recorded of it: "" when it is the same
// (or the case holds no fingerprint of it), "grew by N bytes since ..."
// when every recorded fingerprint's bytes are its first bytes and a
// session followed it (followed: a live audit.log appended to), else
// "CHANGED since ...: how" (the report's words: bytes appended to a file
// no session followed were added after it was read). It reads the file
// (in a command).
func sinceRecorded(st *casefile.State, p string, fp evidence.Fingerprint, followed bool) string {
	var last *casefile.SourceFile
	for _, r := range st.Fingerprints {
		if r.File.Path != p {
			continue
		}
		fr := r.File
		last = fr
		switch {
		case fr.Size == fp.Size && fr.SHA256 == fp.SHA256:
		case fr.ContentSHA256 != "" && fr.ContentSHA256 == fp.ContentSHA256:
			// Recompressed: other stored bytes, the same content (the
			// report's "recompressed: same content", not a change).
			last = nil
			continue
		case fr.Size < fp.Size:
			if sum, err := evidence.PrefixSHA256(p, fr.Size); err != nil || sum != fr.SHA256 {
				return fmt.Sprintf("CHANGED since the case recorded it: %s now, and its first %d bytes are not those recorded (audittui report says more)", bytesText(fp.Size), fr.Size)
			}
		case fr.Size > fp.Size:
			return fmt.Sprintf("CHANGED since the case recorded it: %s now, %d fewer (audittui report says more)", bytesText(fp.Size), fr.Size-fp.Size)
		default:
			return "CHANGED since the case recorded it: the same size, other bytes (audittui report says more)"
		}
	}
	if last != nil && fp.Size > last.Size {
		if !followed {
			return fmt.Sprintf("CHANGED since the case recorded it: %s appended, and no session of the case followed it live (audittui report says more)", bytesText(fp.Size-last.Size))
		}
		return fmt.Sprintf("grew by %s since the case recorded it (the recorded bytes are unchanged)", bytesText(fp.Size-last.Size))
	}
	return ""
}

// foundChanged is the change a session found in the file at path p when
// it recorded the case's latest fingerprint of it ("" for none).
func foundChanged(st *casefile.State, p string) string {
	for i := len(st.Fingerprints) - 1; i >= 0; i-- {
		if r := st.Fingerprints[i]; r.File.Path == p {
			if !strings.HasPrefix(r.Text, "CHANGED") {
				return ""
			}
			return r.Text
		}
	}
	return ""
}

// resolve looks for the case's events not found yet among the rows not
// searched yet: candidates by auditID and time or by source and line from
// the index, confirmed by the sha256 of their bytes (a command: it reads).
func (a *App) resolve() tea.Cmd {
	missing := a.c.Marks.missing()
	s := a.c.Snap
	if len(missing) == 0 || a.wb.resolving || a.wb.resolvedUpTo >= s.Len() {
		return nil
	}
	a.wb.resolving = true
	gen, from, to := a.wb.resolveGen, a.wb.resolvedUpTo, s.Len()
	ctx := a.ctx
	return func() tea.Msg {
		return resolvedMsg{gen: gen, upTo: to, found: findEvents(ctx, s, from, to, missing)}
	}
}

// findEvents finds events in rows [from, to) of s.
func findEvents(ctx context.Context, s *Snapshot, from, to int, refs []casefile.EventRef) map[string]int {
	type idKey struct {
		h uint64
		t int64
	}
	type lineKey struct {
		src  string
		line int64
	}
	byID := map[idKey][]string{}
	byLine := map[lineKey][]string{}
	for _, r := range refs {
		var t int64
		if !r.Time.IsZero() {
			t = r.Time.UnixNano()
		}
		byID[idKey{hashID(r.AuditID), t}] = append(byID[idKey{hashID(r.AuditID), t}], r.SHA256)
		if r.Source != "" && r.Line > 0 {
			byLine[lineKey{r.Source, r.Line}] = append(byLine[lineKey{r.Source, r.Line}], r.SHA256)
		}
	}
	found := map[string]int{}
	for i := from; i < to; i++ {
		if i&0xfff == 0 && ctx.Err() != nil {
			break
		}
		cands := byID[idKey{s.AuditIDHash(i), s.Time(i)}]
		if len(byLine) > 0 {
			cands = append(cands, byLine[lineKey{s.SourceName(i), s.Line(i)}]...)
		}
		if len(cands) == 0 {
			continue
		}
		raw, err := s.Raw(i)
		if err != nil {
			continue
		}
		sum := RawSHA256(raw)
		for _, c := range cands {
			if c == sum {
				if _, dup := found[c]; !dup {
					found[c] = i
				}
			}
		}
	}
	return found
}

func (a *App) resolved(m resolvedMsg) tea.Cmd {
	if m.gen != a.wb.resolveGen {
		return nil
	}
	a.wb.resolving = false
	a.wb.resolvedUpTo = m.upTo
	for sha, row := range m.found {
		a.c.Marks.found(sha, row)
	}
	a.detail.build()
	return a.resolve()
}

// targetRow is the event a bookmark, note or tag is about: the one open
// in the Detail, else the one selected in the focused pane.
func (a *App) targetRow() (int, bool) {
	switch a.focus {
	case paneDetail:
		return a.detail.shownRow()
	case paneTail:
		return a.tail.Selected()
	case paneTimeline:
		return a.tl.Selected()
	case paneAlerts:
		return a.alerts.Selected()
	}
	return 0, false
}

// eventRef names event row of s for the case (reads it: call from a
// command).
func eventRef(s *Snapshot, row int) (casefile.EventRef, error) {
	raw, err := s.RawChecked(row)
	if err != nil {
		return casefile.EventRef{}, err
	}
	o := s.Origin(row)
	ref := casefile.EventRef{
		SHA256: RawSHA256(raw), Cite: o.Cite(), Length: int64(len(raw)), Source: s.SourceName(row),
		AuditID: auditIDOf(raw), Stage: s.Str(ColStage, row),
		User: s.Str(ColUser, row), Verb: s.Str(ColVerb, row), Object: objectText(s, row), Code: s.Code(row),
	}
	if o.StreamTime != 0 {
		ref.StreamTime = o.StreamTime
	} else {
		ref.Line = o.Line
	}
	if t := s.Time(row); t != 0 {
		ref.Time = time.Unix(0, t).UTC()
	}
	return ref, nil
}

// toggleMark bookmarks the target event, or removes its bookmark.
func (a *App) toggleMark() tea.Cmd {
	row, ok := a.targetRow()
	if !ok {
		return func() tea.Msg { return statusMsg("no event selected to bookmark") }
	}
	m := a.c.Marks
	if sha, marked := m.byRow[row]; marked {
		if b, ok := m.Of(sha); ok && len(b.IDs) > 0 {
			status := "bookmark removed"
			if len(b.Notes)+len(b.Tags) > 0 {
				status += fmt.Sprintf(" (the event keeps its %s and %s)", plural(len(b.Notes), "note", "notes"), plural(len(b.Tags), "tag", "tags"))
			}
			ev := b.Event
			return a.record([]casefile.Record{{Kind: casefile.KindUnbookmark, Refs: b.IDs, Event: &ev}}, row, sha, status)
		}
	}
	return a.withEvent(row, func(ref casefile.EventRef) ([]casefile.Record, string) {
		return []casefile.Record{{Kind: casefile.KindBookmark, Event: &ref}}, "bookmarked " + ref.Cite
	})
}

// withEvent reads the event at row, names it, and records what build
// returns about it.
func (a *App) withEvent(row int, build func(ref casefile.EventRef) ([]casefile.Record, string)) tea.Cmd {
	s := a.c.Snap
	cs := a.wb.cs
	return func() tea.Msg {
		ref, err := eventRef(s, row)
		if err != nil {
			return caseMsg{err: err, row: -1}
		}
		recs, status := build(ref)
		return addRecords(cs, recs, row, ref.SHA256, status)
	}
}

// runCaseCommand runs the case's `:` commands.
func (a *App) runCaseCommand(cmd command) (tea.Cmd, bool) {
	arg := strings.TrimSpace(cmd.arg)
	switch cmd.name {
	case "case":
		if arg == "" {
			d := a.wb.cs.Dir()
			if d == "" {
				d = "none (records kept in memory; :case DIR writes them)"
			}
			return func() tea.Msg { return statusMsg("case: " + d) }, true
		}
		return a.openCase(arg), true
	case "note", "comment":
		if row, ok := a.targetRow(); ok {
			return a.withEvent(row, func(ref casefile.EventRef) ([]casefile.Record, string) {
				recs := []casefile.Record{{Kind: casefile.KindNote, Event: &ref, Text: arg}}
				return recs, "note on " + ref.Cite
			}), true
		}
		fallthrough
	case "casenote":
		return a.record([]casefile.Record{{Kind: casefile.KindNote, Text: arg}}, -1, "", "note on the case"), true
	case "tag", "untag":
		row, ok := a.targetRow()
		if !ok {
			return a.statusErr(fmt.Errorf("no event selected to tag")), true
		}
		names := strings.Fields(arg)
		if cmd.name == "tag" {
			return a.withEvent(row, func(ref casefile.EventRef) ([]casefile.Record, string) {
				var recs []casefile.Record
				for _, n := range names {
					recs = append(recs, casefile.Record{Kind: casefile.KindTag, Event: &ref, Tag: strings.TrimPrefix(n, "#")})
				}
				return recs, "tagged " + ref.Cite + " #" + strings.Join(names, " #")
			}), true
		}
		sha, ok := a.c.Marks.byRow[row]
		b, ok2 := a.c.Marks.Of(sha)
		if !ok || !ok2 {
			return a.statusErr(fmt.Errorf("the event has no tags")), true
		}
		var recs []casefile.Record
		for _, n := range names {
			n = strings.TrimPrefix(n, "#")
			if ids := b.TagIDs[n]; len(ids) > 0 {
				ev := b.Event
				recs = append(recs, casefile.Record{Kind: casefile.KindUntag, Refs: ids, Tag: n, Event: &ev})
			}
		}
		if len(recs) == 0 {
			return a.statusErr(fmt.Errorf("the event has no tag %s", arg)), true
		}
		return a.record(recs, row, sha, "untagged #"+strings.Join(names, " #")), true
	case "save":
		if arg == "" {
			return a.statusErr(fmt.Errorf(":save NAME saves the filter and window under NAME")), true
		}
		r := a.viewRecord(casefile.KindFilter)
		r.Name = arg
		return a.record([]casefile.Record{r}, -1, "", "saved filter "+arg), true
	case "load":
		return a.loadFilter(arg), true
	case "filters":
		var names []string
		for n := range a.c.Marks.st.Filters {
			names = append(names, n)
		}
		sort.Strings(names)
		msg := "no saved filters (:save NAME)"
		if len(names) > 0 {
			msg = "saved filters: " + strings.Join(names, ", ") + " (:load NAME)"
		}
		return func() tea.Msg { return statusMsg(msg) }, true
	case "marks", "bookmarks":
		a.wb.list.open = true
		return nil, true
	case "export":
		return a.export(arg), true
	}
	return nil, false
}

// viewRecord describes the current filter and window.
func (a *App) viewRecord(kind string) casefile.Record {
	f := a.filter
	r := casefile.Record{Kind: kind, Filter: f.Text, Negate: f.Negate}
	if f.lq != nil {
		r.Query = f.lq.String()
	}
	w := a.viewWindow()
	r.From, r.To = timePtr(w.From), timePtr(w.To)
	return r
}

// recordView records the filter and window now applied (not twice in a
// row).
func (a *App) recordView() tea.Cmd {
	r := a.viewRecord(casefile.KindView)
	key := fmt.Sprint(r.Query, r.Negate, r.From, r.To)
	if key == a.wb.lastView || (r.Query == "" && r.From == nil && r.To == nil && a.wb.lastView == "") {
		return nil
	}
	a.wb.lastView = key
	cs := a.wb.cs
	return func() tea.Msg {
		if _, err := cs.Add(r); err != nil {
			return caseMsg{err: err, row: -1}
		}
		return nil
	}
}

// loadFilter applies a saved filter (its query and window).
func (a *App) loadFilter(name string) tea.Cmd {
	r, ok := a.c.Marks.st.Filters[name]
	if !ok {
		return a.statusErr(fmt.Errorf("no saved filter %q (:filters lists them)", name))
	}
	text := r.Filter
	if text == "" && r.Query != "" {
		text = r.Query
		if r.Negate {
			text = "!" + text
		}
	}
	f, err := a.compile(text)
	if err != nil {
		return a.statusErr(fmt.Errorf("saved filter %s: %w", name, err))
	}
	f.Since, f.Until = 0, 0
	if r.From != nil {
		f.Since = r.From.UnixNano()
	}
	if r.To != nil {
		f.Until = r.To.UnixNano()
	}
	return tea.Batch(a.changeFilter(f), func() tea.Msg { return statusMsg("filter " + name) })
}

// RecordSilence keeps an alert silence in the case (the keys and commands
// that silence a group record it through recordSilenceChanges); the
// command writes it.
func (a *App) RecordSilence(s casefile.Silence) tea.Cmd {
	return a.record([]casefile.Record{{Kind: casefile.KindSilence, Silence: &s}}, -1, "", "silenced "+s.Group)
}

// RecordUnsilence removes the case's silences of an alert group.
func (a *App) RecordUnsilence(group string) tea.Cmd {
	r, ok := a.unsilenceRecord(group)
	if !ok {
		return nil
	}
	return a.record([]casefile.Record{r}, -1, "", "unsilenced "+group)
}

// CaseSilences returns the silences the case holds, oldest first: those
// restored when it was opened and those recorded since.
func (a *App) CaseSilences() []casefile.Silence {
	var out []casefile.Silence
	for _, r := range a.c.Marks.st.Silences {
		out = append(out, *r.Silence)
	}
	return out
}

// CaseDir is the directory of the open case ("" when none).
func (a *App) CaseDir() string { return a.wb.cs.Dir() }

// bytesText is a size as the case's status says it: "1 byte", "2 bytes"
// (the exact count, as ls -l shows it, without thousands separators).
func bytesText(n int64) string { return pl.Count(n, "byte", "bytes") }

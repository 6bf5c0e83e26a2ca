package report

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/audittui/audittui/internal/casefile"
	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/file"
	"github.com/audittui/audittui/internal/evidence"
	"github.com/audittui/audittui/internal/plural"
	rep "github.com/audittui/audittui/internal/report"
	"github.com/audittui/audittui/internal/tail"
	"github.com/audittui/audittui/internal/termsafe"
)

// The case records each local source file a session opened (casefile
// KindFingerprint: its absolute path, size, modification time and the
// sha256 of that many bytes). The report hashes the files again and
// compares: the same bytes (unchanged), the recorded bytes followed by
// more (a live audit.log appended to), or anything else (changed: lines
// inserted, edited, removed, the file replaced), or gone. A changed or
// gone source is a problem (exit status 1), and the events cited from it
// say so.

// fileState is what the report found of one local source file, by
// absolute path.
type fileState struct {
	// recorded: the case holds a fingerprint of this path; changed,
	// gone: the file is not what the case recorded (a change other than
	// growth), or not there any more.
	recorded, changed, gone bool
	// why says how it changed ("" when it did not): when the case
	// recorded it and how big it was, how big it is now.
	why string
	// last is the case's latest fingerprint of the file (recorded).
	last casefile.Record
	// afterRead: the file is what the case recorded (or grew), but a
	// cited event the session read past those bytes is not at its
	// citation: the file changed after the session read it (why says
	// how).
	afterRead bool
	// row is the file's row in the report's Sources (nil: none).
	row *rowAt
	// holds names the recorded file (absolute path) whose bytes this
	// file, read in place of the case's sources, holds: a copy, or the
	// file rotated (audit.log.1) or compressed (audit.log.1.gz).
	holds string
	// rotated: the file at the recorded path is a new one (away: there
	// is none); the bytes the case recorded are in the file read that
	// holds them.
	rotated, away bool
}

// rowAt is where a file's row is in the report: Sources[src].Files[file].
type rowAt struct{ src, file int }

// fileStates is the state of every local file the report read or the
// case recorded.
type fileStates map[string]*fileState

// changedText says how the file at path changed since the case recorded
// it ("" when it did not, or nothing is known).
func (fs fileStates) changedText(path string) string {
	s := fs[path]
	if s == nil || !(s.changed || s.gone) {
		return ""
	}
	return s.why
}

// localPath is name as an absolute local path (relative to the working
// directory), or name itself when it names no local file (stdin, s3://).
func localPath(name string) string {
	if name == "-" || name == "" || strings.Contains(name, "://") {
		return name
	}
	if abs, err := filepath.Abs(name); err == nil {
		return abs
	}
	return name
}

// fingerprintsOf are the case's fingerprints of the file at path, in
// time order.
func fingerprintsOf(st *casefile.State, path string) []casefile.Record {
	var out []casefile.Record
	for _, r := range st.Fingerprints {
		if r.File.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// recordedWhen says when and by whom a fingerprint was recorded, and what.
func recordedWhen(r casefile.Record) string {
	by := ""
	if r.Author != "" {
		by = " by " + r.Author
	}
	return fmt.Sprintf("at %s%s (%s, sha256 %s)", rep.FmtTime(r.Time), by, plural.Count(r.File.Size, "byte", "bytes"), r.File.SHA256)
}

// hashLocal hashes the local file p whole and compares it with the case's
// fingerprints: of its path, or, for a file the case did not record (the
// evidence copied elsewhere and given in place of the case's sources, a
// file rotated: audit.log.1, audit.log.1.gz), of any path, by content. It
// returns the row of the Sources table and records the file's state.
func hashLocal(p string, st *casefile.State, states fileStates, followed map[string]bool) rep.File {
	abs := localPath(p)
	recs := fingerprintsOf(st, abs)
	var offsets []int64
	for _, r := range recs {
		offsets = append(offsets, r.File.Size)
	}
	if len(recs) == 0 {
		for _, r := range st.Fingerprints {
			offsets = append(offsets, r.File.Size)
		}
	}
	slices.Sort(offsets)
	offsets = slices.Compact(offsets)
	sum, n, prefixes, err := evidence.HashFileAtEach(p, offsets)
	f := rep.File{Path: termsafe.String(p), SHA256: sum, Size: n}
	if err != nil {
		f.Err = termsafe.String(err.Error())
		return f
	}
	s := &fileState{recorded: len(recs) > 0}
	if s.recorded {
		s.last = recs[len(recs)-1]
	}
	states[abs] = s
	switch {
	case len(recs) > 0:
		f.Since, f.SinceOK = compare(recs, sum, n, prefixes, s, followed[abs], contentOf(p))
		f.Since = termsafe.String(f.Since)
	case len(st.Fingerprints) == 0:
		f.Since, f.SinceOK = "not recorded (the case holds no fingerprint of its sources: written before audittui recorded them, or they were never opened with the case)", true
	default:
		f.Since, f.SinceOK = "not recorded (the case holds no fingerprint of this path)", true
		content := contentOf(p)
		for _, r := range st.Fingerprints {
			switch {
			case r.File.ContentSHA256 != "" && (r.File.ContentSHA256 == sum || r.File.ContentSHA256 == content()):
				// The recorded .gz's content: decompressed (gunzip), or
				// compressed again (other stored bytes).
				how := "decompressed: its sha256 is that of the content the case recorded"
				if r.File.ContentSHA256 != sum {
					how = "compressed again: decompressed, its sha256 is that of the content the case recorded"
				}
				f.Since = termsafe.String(fmt.Sprintf("the content the case recorded for %s %s, %s (%s)", r.File.Path, recordedWhen(r), how, r.File.ContentSHA256))
			case r.File.Size == n && r.File.SHA256 == sum:
				f.Since = termsafe.String("the same bytes the case recorded for " + r.File.Path + " " + recordedWhen(r))
			case r.File.Size < n && prefixes[r.File.Size] == r.File.SHA256:
				f.Since = termsafe.String(fmt.Sprintf("the bytes the case recorded for %s %s, and %d bytes appended since", r.File.Path, recordedWhen(r), n-r.File.Size))
				if !followed[r.File.Path] {
					// Only a followed live file grows.
					s.changed = true
					s.why = fmt.Sprintf("it holds the bytes the case recorded for %s %s, and %d bytes appended since: %s", r.File.Path, recordedWhen(r), n-r.File.Size, notFollowed)
					f.Since, f.SinceOK = termsafe.String("CHANGED: "+s.why), false
				}
			default:
				// A compressed copy (audit.log.1.gz): its bytes
				// decompressed.
				how, ok := holdsRecorded(p, *r.File, false)
				if !ok {
					continue
				}
				f.Since = termsafe.String(fmt.Sprintf("the bytes the case recorded for %s %s, %s", r.File.Path, recordedWhen(r), how))
				if strings.HasSuffix(how, "followed by more") && !followed[r.File.Path] {
					s.changed = true
					s.why = fmt.Sprintf("it holds the bytes the case recorded for %s %s, %s: %s", r.File.Path, recordedWhen(r), how, notFollowed)
					f.Since, f.SinceOK = termsafe.String("CHANGED: "+s.why), false
				}
			}
			s.holds = r.File.Path
			break
		}
	}
	return f
}

// holdsRecorded reports whether the file at path holds the bytes a
// fingerprint recorded (evidence.Holds: the matcher the TUI uses for a
// followed file rotated while it is read).
func holdsRecorded(path string, fp casefile.SourceFile, raw bool) (how string, ok bool) {
	return evidence.Holds(path, recordedPrint(fp), raw)
}

// recordedPrint is the fingerprint a case recorded, for evidence.Holds.
func recordedPrint(fp casefile.SourceFile) evidence.Fingerprint {
	return evidence.Fingerprint{Size: fp.Size, SHA256: fp.SHA256, ModTime: fp.ModTime}
}

// rotatedHolding looks next to the recorded file (absolute path) for a
// file named as its rotation would name it that holds the bytes the case
// recorded (evidence.FindRotated), and says how ("" when none does).
func rotatedHolding(rec casefile.Record) (path, how string) {
	return evidence.FindRotated(rec.File.Path, recordedPrint(*rec.File))
}

// rotatedAway reconciles the files read in place of the case's sources:
// a recorded file that changed, while another file read holds the bytes
// the case recorded for it (it was rotated: audit.log -> audit.log.1, and
// a new audit.log started), is found, not changed; the file now at its
// path is a new file the case did not record.
func (fs fileStates) rotatedAway(r *rep.Report) {
	paths := slices.Sorted(maps.Keys(fs))
	for _, p := range paths {
		s := fs[p]
		if !s.changed || s.row == nil {
			continue
		}
		for _, hp := range paths {
			h := fs[hp]
			if h.holds != p || h.row == nil {
				continue
			}
			s.changed, s.why, s.rotated = false, "", true
			f := &r.Sources[s.row.src].Files[s.row.file]
			f.Since, f.SinceOK = termsafe.String("a new file at this path, not one the case recorded: the bytes the case recorded for it "+recordedWhen(s.last)+
				" are in "+r.Sources[h.row.src].Files[h.row.file].Path+" (rotated or moved there)"), true
			break
		}
	}
}

// following is what the case's sessions followed live and named.
type following struct {
	// files are the local files (absolute) a session followed live: the
	// live file (plain, not named as a rotation) ending each rotated set
	// of a session that followed its sources. Only these may grow past
	// what the case recorded; any other file that grew was altered after
	// it was read.
	files map[string]bool
	// args are the local SOURCEs (absolute) of sessions that followed
	// them: a file that appears in such a directory (a rotation's
	// backup) is expected.
	args map[string]bool
	// named are, by local SOURCE (absolute), the files (absolute) the
	// sessions that opened it read: their open records' files, and the
	// files fingerprinted after each opened (the TUI fingerprints its
	// session's files once it opens them). None: nothing is known.
	named map[string]map[string]bool
}

// FollowedLive reports whether a session of the case followed the local
// file at path live (the live file of a followed rotated set): the only
// file whose growth past what the case recorded is benign. The TUI's
// status bar applies the same rule (ui.Sources.FollowedLive).
func FollowedLive(st *casefile.State, path string) bool {
	return sessionsFollowing(st).files[localPath(path)]
}

// sessionsFollowing finds what the case's sessions followed: what each
// open record says ("follow"), or, when it does not, what the TUI's
// default would have done with its SOURCEs and files (followsByDefault).
func sessionsFollowing(st *casefile.State) following {
	out := following{files: map[string]bool{}, args: map[string]bool{}, named: map[string]map[string]bool{}}
	for i, o := range st.Opens {
		abs := func(p string) string {
			if p == "-" || strings.Contains(p, "://") {
				return p
			}
			if o.Dir != "" && !filepath.IsAbs(p) {
				p = filepath.Join(o.Dir, p)
			}
			return localPath(p)
		}
		var args, files []string
		for _, a := range o.Sources {
			args = append(args, abs(a))
		}
		for _, f := range o.Files {
			if f != "-" {
				files = append(files, abs(f))
			}
		}
		// The files it read: its record's, and those fingerprinted
		// after it opened, before the next session did.
		read := slices.Clone(files)
		for _, r := range st.Fingerprints {
			if r.Time.Before(o.Time) || (i+1 < len(st.Opens) && !r.Time.Before(st.Opens[i+1].Time)) {
				continue
			}
			read = append(read, r.File.Path)
		}
		for _, a := range args {
			if a == "-" || strings.Contains(a, "://") {
				continue
			}
			for _, p := range read {
				if p == a || strings.HasPrefix(p, a+string(filepath.Separator)) || (strings.ContainsAny(a, "*?[") && filepath.Dir(p) == filepath.Dir(a)) {
					if out.named[a] == nil {
						out.named[a] = map[string]bool{}
					}
					out.named[a][p] = true
				}
			}
		}
		follow := o.Follow != nil && *o.Follow
		if o.Follow == nil {
			follow = followsByDefault(args, files)
		}
		if !follow {
			continue
		}
		for _, a := range args {
			out.args[a] = true
		}
		if len(files) == 0 {
			for _, a := range args {
				if a == "-" || strings.Contains(a, "://") {
					continue
				}
				if paths, err := file.ExpandPath(a); err == nil {
					for _, p := range paths {
						files = append(files, localPath(p))
					}
				}
			}
		}
		for _, set := range file.GroupRotated(files) {
			if live := set[len(set)-1]; file.IsLive(live) {
				out.files[live] = true
			}
		}
	}
	return out
}

// followsByDefault decides, as the TUI does when --follow is not given
// (cmdutil.DefaultFollow), whether a session over these SOURCEs (absolute)
// followed them: one plain file, or a directory or glob holding one
// rotated set that ends in a plain live file. The files the session read
// (its open record's), when recorded, decide, not what is there now.
func followsByDefault(args, files []string) bool {
	if len(args) != 1 || args[0] == "-" || strings.Contains(args[0], "://") {
		return false
	}
	if len(files) == 0 {
		return cmdutil.DefaultFollow(args).On
	}
	sets := file.GroupRotated(files)
	if len(sets) != 1 {
		return false
	}
	live := sets[0][len(sets[0])-1]
	if len(files) == 1 && live == args[0] {
		return !strings.HasSuffix(live, ".gz") && !strings.HasSuffix(live, ".zst") && !strings.HasSuffix(live, ".zstd")
	}
	return file.IsLive(live)
}

// markNew marks the files read under the local directory or glob SOURCE
// arg (its row s, the files' absolute paths) that no session of the case
// read and that hold no bytes the case recorded: they appeared after the
// investigation read the directory, so the evidence set differs. NEW is
// expected in a directory a session followed (a rotation's new file), a
// problem in any other. A case that names no file says nothing.
func (fw following) markNew(arg string, s *rep.Source, paths []string, states fileStates) {
	a := localPath(arg)
	named := fw.named[a]
	if len(named) == 0 {
		return // nothing known of what the sessions read there
	}
	if fi, err := os.Stat(a); err == nil && fi.Mode().IsRegular() {
		return // a file SOURCE: the file itself
	}
	for j, p := range paths {
		st := states[p]
		if st == nil || st.recorded || st.holds != "" || named[p] || j >= len(s.Files) || s.Files[j].Err != "" {
			continue
		}
		f := &s.Files[j]
		why := "NEW: not read by the investigation: it appeared in " + arg + " after the case's sessions read it"
		if fw.args[a] {
			f.Since, f.SinceOK = termsafe.String(why+" (a session followed "+arg+": new files are expected there)"), true
		} else {
			f.Since, f.SinceOK = termsafe.String(why+", and no session followed "+arg+": the evidence set differs from the one investigated"), false
		}
	}
}

// contentOf returns the sha256 of the decompressed bytes of the
// compressed file at path, computed once when first asked ("" when it is
// not compressed or does not decompress whole).
func contentOf(path string) func() string {
	var once sync.Once
	var sum string
	return func() string {
		once.Do(func() { sum, _, _ = evidence.ContentSHA256(path) })
		return sum
	}
}

// contentNote says, of a compressed file that changed, what its content's
// sha256 is now and whether the case recorded one to compare with (a
// recompression, the same content, is not a change: see compare); "" for
// a plain file.
func contentNote(fp *casefile.SourceFile, content func() string) string {
	c := content()
	switch {
	case c == "":
		return ""
	case fp.ContentSHA256 != "":
		return "; decompressed, its sha256 is " + c + ", not the " + fp.ContentSHA256 + " recorded: the content changed"
	}
	return "; decompressed, its sha256 is " + c + " (the case recorded no sha256 of its content, so a recompression cannot be told from a change)"
}

// notFollowed says why growth is a change for a file no session
// followed.
const notFollowed = "no session followed it live (a file read once, or a rotated or archived one), so bytes appended after it was read are evidence altered"

// compare checks the file (sha256 sum, size n, sha256 of its first bytes
// at each recorded size) against each fingerprint of its path: unchanged,
// grown (the recorded bytes followed by more), or changed since the first
// it does not agree with.
func compare(recs []casefile.Record, sum string, n int64, prefixes map[int64]string, s *fileState, followed bool, content func() string) (string, bool) {
	recompressed := ""
	for _, r := range recs {
		fp := r.File
		switch {
		case fp.Size == n && fp.SHA256 == sum:
		case fp.ContentSHA256 != "" && fp.ContentSHA256 == content():
			// Other stored bytes, the same content: recompressed.
			recompressed = fmt.Sprintf("recompressed: same content: its bytes as stored are not those the case recorded %s (%d bytes, sha256 %s now), but decompressed they have the sha256 it recorded, %s",
				recordedWhen(r), n, sum, fp.ContentSHA256)
		case fp.Size < n && prefixes[fp.Size] == fp.SHA256 && !followed:
			// Growth is benign only for a live file a session followed.
			s.changed = true
			s.why = fmt.Sprintf("the file grew by %s since the case recorded it %s: %s", plural.Count(n-fp.Size, "byte", "bytes"), recordedWhen(r), notFollowed)
			return "CHANGED: " + s.why, false
		case fp.Size < n && prefixes[fp.Size] == fp.SHA256:
		case fp.Size > n:
			s.changed = true
			s.why = fmt.Sprintf("the file changed since the case recorded it %s: it has %s now, %d fewer", recordedWhen(r), plural.Count(n, "byte", "bytes"), fp.Size-n) + contentNote(fp, content)
			return "CHANGED: " + s.why, false
		default:
			s.changed = true
			s.why = fmt.Sprintf("the file changed since the case recorded it %s: ", recordedWhen(r))
			if fp.Size == n {
				s.why += "the same size, other bytes"
			} else {
				s.why += fmt.Sprintf("it has %d bytes now, and its first %d bytes are not those recorded", n, fp.Size)
			}
			s.why += contentNote(fp, content)
			return "CHANGED: " + s.why, false
		}
	}
	first, last := recs[0], recs[len(recs)-1]
	if recompressed != "" {
		return recompressed, true
	}
	if last.File.Size == n {
		return "unchanged since the case recorded it " + recordedWhen(first), true
	}
	return fmt.Sprintf("grew by %s since the case last recorded it %s: the bytes recorded are unchanged (appended to, as a live audit log is)",
		plural.Count(n-last.File.Size, "byte", "bytes"), recordedWhen(last)), true
}

// goneFiles finds the files the case recorded that are not there any more
// (the case's own sources re-read, not copies given in their place): each
// is a problem, listed under the source that holds it.
func goneFiles(st *casefile.State, r *rep.Report, states fileStates, out *outcome) {
	var seen []string
	for _, rec := range st.Fingerprints {
		p := rec.File.Path
		if states[p] != nil || slices.Contains(seen, p) {
			continue
		}
		seen = append(seen, p)
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			continue // there: not read in the window, or its source failed (said so)
		}
		why := "the file is gone: the case recorded it " + recordedWhen(rec)
		f := rep.File{Path: termsafe.String(p), Err: "GONE", Since: termsafe.String(why)}
		moved := states.holding(p)
		if moved != "" {
			// Rotated away and not recreated: found where it went.
			why = "gone from this path: the bytes the case recorded for it " + recordedWhen(rec) + " are in " + moved + " (rotated or moved there)"
			f = rep.File{Path: termsafe.String(p), Since: termsafe.String(why), SinceOK: true}
		}
		states[p] = &fileState{recorded: true, gone: moved == "", rotated: moved != "", away: moved != "", why: why}
		for i := range r.Sources {
			arg := localPath(r.Sources[i].Arg)
			if arg == p || strings.HasPrefix(p, arg+string(filepath.Separator)) {
				r.Sources[i].Files = append(r.Sources[i].Files, f)
				break
			}
		}
		if moved != "" {
			continue
		}
		r.Problems = append(r.Problems, termsafe.String("source file "+p+": "+why))
		out.changed++
	}
}

// holding is the file read that holds the bytes the case recorded for
// the file at path p ("" for none).
func (fs fileStates) holding(p string) string {
	for _, hp := range slices.Sorted(maps.Keys(fs)) {
		if fs[hp].holds == p {
			return hp
		}
	}
	return ""
}

// changedAfterRead notes that the event ref, cited in the local file at
// path, is not at its citation. When the file is what the case recorded
// (or those bytes followed by more), the session read the event past the
// recorded bytes, following the file, and the file changed after that:
// cut back (the cited line is beyond its lines now), or changed past the
// recorded bytes. The file is then changed, not unchanged.
func (fs fileStates) changedAfterRead(path string, ref casefile.EventRef) {
	s := fs[path]
	if s == nil || !s.recorded || s.changed || s.gone || s.rotated || ref.Line <= 0 {
		return
	}
	by := ""
	if s.last.Author != "" {
		by = " by " + s.last.Author
	}
	kept := fmt.Sprintf("its first %d bytes, sha256 %s, are those the case recorded at %s%s", s.last.File.Size, s.last.File.SHA256, rep.FmtTime(s.last.Time), by)
	if n, err := lineCount(path); err == nil && ref.Line > n {
		s.why = fmt.Sprintf("the cited line %d is beyond the file's %d lines: cut after the session read it (%s: the session read on past them, following the file)", ref.Line, n, kept)
	} else {
		s.why = fmt.Sprintf("the cited line %d does not hold the cited bytes: the file changed after the session read it (%s: the change is past them)", ref.Line, kept)
	}
	s.changed, s.afterRead = true, true
}

// flagChangedAfterRead marks the Sources row of each file that changed
// after the session read it (changedAfterRead) as changed, a problem.
func (fs fileStates) flagChangedAfterRead(r *rep.Report, out *outcome) {
	var paths []string
	for p, s := range fs {
		if s.afterRead && s.row != nil {
			paths = append(paths, p)
		}
	}
	slices.Sort(paths)
	for _, p := range paths {
		s := fs[p]
		f := &r.Sources[s.row.src].Files[s.row.file]
		f.Since, f.SinceOK = termsafe.String("CHANGED: "+s.why), false
		r.Problems = append(r.Problems, termsafe.String("source file "+p+": "+s.why))
		out.changed++
	}
}

// lineCount counts the lines of the file at path as the readers number
// them (in the decompressed stream of a .gz or .zst file; a last line
// without a newline counts).
func lineCount(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r, _, done, err := data.Decompress(f)
	if err != nil {
		return 0, err
	}
	defer done()
	buf := make([]byte, 256<<10)
	var n int64
	last := byte('\n')
	for {
		k, err := r.Read(buf)
		if k > 0 {
			n += int64(bytes.Count(buf[:k], []byte{'\n'}))
			last = buf[k-1]
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, err
		}
	}
	if last != '\n' {
		n++
	}
	return n, nil
}

// extraSource is a file read besides the case's sources, and why.
type extraSource struct{ path, note string }

// rotatedSources are the files to read besides the case's sources (no
// SOURCE given) because a rotation moved what the session read there: a
// case's source file whose path no longer holds the bytes the case
// recorded, while a file beside it does (evidence.FindRotated: audit.log
// renamed to audit-<time>.log, then gzipped), is read there, with every
// backup rotated after it (a followed audit.log rotated again while the
// session read it: its later files); and a local file a bookmark cites
// that was not read, beside a case's source (the TUI cites a followed
// file's events where a rotation moved them), or its .gz or .zst when it
// was compressed since. states are the files read (hashLocal), read the
// files read already (absolute and as named); those returned are added.
func rotatedSources(st *casefile.State, states fileStates, read map[string]bool, dirs []string) []extraSource {
	var out []extraSource
	take := func(p, note string) {
		if abs := localPath(p); !read[abs] {
			read[abs] = true
			out = append(out, extraSource{abs, note})
		}
	}
	var sources []string // the case's source files (absolute)
	latest := map[string]casefile.Record{}
	for _, r := range st.Fingerprints {
		if _, ok := latest[r.File.Path]; !ok {
			sources = append(sources, r.File.Path)
		}
		latest[r.File.Path] = r
	}
	for _, p := range sources {
		var found string
		switch fs := states[p]; {
		case fs != nil && !fs.changed:
			continue // read where it was: unchanged, or grown
		case fs != nil:
			found, _ = rotatedHolding(latest[p]) // changed: a new file at its path?
		default:
			found = movedTo(latest[p]) // not read: gone?
		}
		if found == "" {
			continue
		}
		take(found, "beside the case's source "+p+", which a rotation moved here: this file holds the bytes the case recorded for it, read in its place")
		after := false
		for _, b := range tail.Standard(p) {
			if !after {
				after = sameBackup(b.Path, found)
				continue
			}
			take(b.Path, "rotated after "+found+" (the case's source "+p+" followed through its rotations): read too")
		}
	}
	for _, b := range st.Bookmarks {
		ref := b.Event
		if ref.StreamTime != 0 || ref.Source == "" || ref.Source == "-" || strings.Contains(ref.Source, "://") {
			continue
		}
		for _, pl := range refPlaces(ref, dirs) {
			if read[pl.file] || !besideSource(pl.file, sources) {
				continue
			}
			if fi, err := os.Stat(pl.file); err == nil && fi.Mode().IsRegular() {
				take(pl.file, "cited by a bookmark, beside the case's source (the file a rotation moved it to): read too")
				break
			}
			if z := compressedCopy(pl.file); z != "" && !read[z] {
				take(z, "the file a bookmark cites ("+pl.file+"), compressed since: read too")
				break
			}
		}
	}
	return out
}

// movedTo is the file beside the recorded file that holds the bytes the
// case recorded, when the file at its path does not (gone, or a new file
// there): a rotation moved it ("" when it did not, or no file holds them).
func movedTo(rec casefile.Record) string {
	if _, ok := holdsRecorded(rec.File.Path, *rec.File, true); ok {
		return "" // where it was: not rotated
	}
	found, _ := rotatedHolding(rec)
	return found
}

// sameBackup reports whether a and b name the same backup, plain or
// compressed (a finder lists the plain one while both exist).
func sameBackup(a, b string) bool {
	trim := func(p string) string {
		return strings.TrimSuffix(strings.TrimSuffix(localPath(p), ".gz"), ".zst")
	}
	return trim(a) == trim(b)
}

// besideSource reports whether p is named as a rotation of one of the
// case's source files names it, in its directory.
func besideSource(p string, sources []string) bool {
	for _, s := range sources {
		if filepath.Dir(s) == filepath.Dir(p) && evidence.RotationSibling(filepath.Base(s), filepath.Base(p)) {
			return true
		}
	}
	return false
}

// compressedCopy is the .gz or .zst beside p when p is gone ("" when
// neither is there).
func compressedCopy(p string) string {
	for _, z := range []string{".gz", ".zst"} {
		if fi, err := os.Stat(p + z); err == nil && fi.Mode().IsRegular() {
			return p + z
		}
	}
	return ""
}

package tui

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/audittui/audittui/internal/casefile"
	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/file"
	s3src "github.com/audittui/audittui/internal/data/source/s3"
	"github.com/audittui/audittui/internal/evidence"
	pl "github.com/audittui/audittui/internal/plural"
	rep "github.com/audittui/audittui/internal/report"
	"github.com/audittui/audittui/internal/termsafe"
	"github.com/audittui/audittui/internal/ui"
	"github.com/audittui/audittui/internal/ui/sample"
)

// reopenCase: `audittui --case DIR` without SOURCE arguments opens the
// sources the case's sessions opened (relative paths from the directory
// they were opened in), and without --since/--from/--to the window of its
// last session. A case that does not exist yet is created by the TUI.
//
// A case source "-" (stdin) is never read from a terminal: the TUI would
// take the investigator's keystrokes as evidence. When stdin is a pipe it
// is read as the case's stdin source (and the status bar says so); when it
// is a terminal the case is not opened, and the error says how to pipe the
// evidence in again.
//
// SOURCEs given or not, they are read as the case's sessions read theirs
// (readAsRecorded): the recorded --label, --cluster and -r apply unless
// the command line gives them again, and the status bar says which did.
func reopenCase(opts *TUIOptions) error {
	if opts.Case == "" || opts.Sample {
		return nil
	}
	if _, err := os.Stat(opts.Case); os.IsNotExist(err) {
		return nil
	}
	c, err := casefile.Load(opts.Case)
	if err != nil {
		return cmdutil.UsageError(err)
	}
	st := c.State()
	if len(opts.Args) > 0 {
		return readAsRecorded(opts, st)
	}
	wd, _ := os.Getwd()
	args := st.SourceArgs(wd)
	if len(args) == 0 {
		return nil
	}
	if slices.Contains(args, "-") {
		if opts.IO == nil || opts.IO.InTTY {
			return stdinCaseError(opts.Case, args)
		}
		opts.Notice, opts.StdinCase = "stdin taken as the case's stdin source (-)", true
	}
	if len(args) == 1 && args[0] == sample.Name {
		opts.Sample = true
	} else {
		opts.Args = args
		if err := readAsRecorded(opts, st); err != nil {
			return err
		}
	}
	if w := &opts.Window; w.Since == 0 && w.From == "" && w.To == "" && len(st.Opens) > 0 {
		last := st.Opens[len(st.Opens)-1]
		from, to, notice := coverBookmarks(last.From, last.To, st.Bookmarks)
		if from != nil {
			w.From = from.UTC().Format("2006-01-02T15:04:05.999999999Z07:00")
		}
		if to != nil {
			w.To = to.UTC().Format("2006-01-02T15:04:05.999999999Z07:00")
		}
		opts.Notice = joinNotice(opts.Notice, notice)
	}
	return nil
}

// coverBookmarks widens the window [from, to) of the case's last session
// so that the reopened case reads every bookmarked event its sources hold:
// the window is the last session's view, the bookmarks the whole case's,
// and one made in an earlier session outside that window was not read (☆
// in the list, not reachable from the TUI). A dated bookmark outside it
// moves the end it is beyond, to whole seconds (--to is exclusive: past
// it); an undated one, which any window leaves out, drops the window. The
// notice says what was done and what the last session's window was (:from
// and :to narrow the view to it again); "" when nothing was.
func coverBookmarks(from, to *time.Time, marks []*casefile.Bookmark) (_, _ *time.Time, notice string) {
	if from == nil && to == nil {
		return nil, nil, ""
	}
	outside, undated := 0, 0
	nf, nt := from, to
	for _, b := range marks {
		t := b.Event.Time
		switch {
		case t.IsZero():
			undated++
		case from != nil && t.Before(*from):
			outside++
			if t.Before(*nf) {
				s := t.Truncate(time.Second)
				nf = &s
			}
		case to != nil && !t.Before(*to):
			outside++
			if !t.Before(*nt) {
				e := t.Truncate(time.Second).Add(time.Second)
				nt = &e
			}
		}
	}
	was := windowText(from, to)
	switch {
	case undated > 0:
		return nil, nil, fmt.Sprintf("no window: %s, which a window leaves out (the last session's: %s; :from and :to narrow the view)",
			pl.Count(undated, "undated bookmark", "undated bookmarks"), was)
	case outside > 0:
		return nf, nt, fmt.Sprintf("window widened to hold %s (the last session's: %s; :from and :to narrow the view)",
			pl.Count(outside, "bookmark", "bookmarks"), was)
	}
	return from, to, ""
}

// windowText writes a window as the TUI's header does (UTC).
func windowText(from, to *time.Time) string {
	end := func(t *time.Time, open string) string {
		if t == nil {
			return open
		}
		return t.UTC().Format("2006-01-02 15:04:05.999999999")
	}
	return end(from, "the first event") + " → " + end(to, "the last event") + " UTC"
}

// readAsRecorded reads the sources as the case's sessions did: their
// --label labels, --cluster and -r (source.Set.Recorded), but those the
// command line gives again. The status bar says the case's flags that
// apply and those given in their place.
func readAsRecorded(opts *TUIOptions, st *casefile.State) error {
	if opts.Sources == nil {
		return nil
	}
	r := st.Reading()
	flags, err := opts.Sources.Recorded(r.Labels, r.Cluster, r.Recursive)
	if err != nil {
		return cmdutil.UsageError(fmt.Errorf("case %s: %w", opts.Case, err))
	}
	var recorded, instead []string
	for _, f := range flags {
		switch {
		case f.Recorded:
			recorded = append(recorded, strings.Join(f.Args, " "))
		case f.Instead != "":
			instead = append(instead, strings.Join(f.Args, " ")+" in place of the case's "+f.Instead)
		}
	}
	if len(recorded) > 0 {
		opts.Notice = joinNotice(opts.Notice, termsafe.String("read with the case's "+strings.Join(recorded, " ")))
	}
	if len(instead) > 0 {
		opts.Notice = joinNotice(opts.Notice, termsafe.String("given: "+strings.Join(instead, ", ")))
	}
	return nil
}

// stdinCaseError is the refusal to reopen a case read from stdin while
// stdin is a terminal.
func stdinCaseError(dir string, args []string) error {
	c := rep.ShellQuote(dir)
	var others []string
	for _, a := range args {
		if a != "-" {
			others = append(others, rep.ShellQuote(a))
		}
	}
	if len(others) == 0 {
		return cmdutil.UsageErrorf("this case was read from stdin; pipe the same evidence in again: cat FILE | audittui --case %s -", c)
	}
	return cmdutil.UsageErrorf("this case was read from stdin (and %s); pipe the same evidence in again: cat FILE | audittui --case %s (or name the sources: audittui --case %s SOURCE...)",
		strings.Join(others, " "), c, c)
}

// stdinOnTerminal refuses SOURCE "-" when stdin is a terminal: the TUI
// would read the keys typed into it as audit events.
func stdinOnTerminal(opts *TUIOptions) error {
	if opts.IO != nil && opts.IO.InTTY && slices.Contains(opts.Args, "-") {
		cmd := "audittui"
		if opts.Case != "" {
			cmd += " --case " + rep.ShellQuote(opts.Case)
		}
		return cmdutil.UsageErrorf("SOURCE - reads stdin, which is a terminal here: pipe the events in (cat FILE | %s -)", cmd)
	}
	return nil
}

// sessionSources describes what the TUI opened, for the case's session
// record: the arguments, the working directory and the local files.
func sessionSources(opts *TUIOptions, srcs []data.Source, isSample bool) ui.Sources {
	wd, _ := os.Getwd()
	s := ui.Sources{Args: opts.Args, Dir: wd}
	if isSample {
		s.Args = []string{sample.Name}
	} else if opts.Sources != nil {
		s.Labels, s.Cluster, s.Recursive = opts.Sources.LabelArgs(), opts.Sources.Cluster(), opts.Sources.Recursive()
	}
	if len(s.Args) == 0 {
		for _, src := range srcs {
			s.Args = append(s.Args, termsafe.String(src.String()))
		}
	}
	for _, src := range srcs {
		if f, ok := src.(*file.Source); ok {
			for _, g := range f.Files() {
				s.Files = append(s.Files, g...)
			}
		}
	}
	for _, u := range cmdutil.Unread(srcs) {
		s.NotRead = append(s.NotRead, evidence.NotRead{Path: u.Dir, Reason: u.Why})
	}
	return s
}

// s3Digests are the digests of the S3 objects the session read in full
// (s3.Options.OnObject, through source.Options.OnS3Object), by URL: the
// case's object records take their sha256 from them instead of
// downloading each object a second time. Kept from the start of every
// session, with a case or not, so a case opened later (:case DIR) has
// them too: one sha256, ETag and size per object read.
type s3Digests struct {
	mu sync.Mutex
	m  map[string]objectDigest
}

// objectDigest is what s3Digests keeps of an object read.
type objectDigest struct {
	etag, sha256 string
	bytes        int64
}

// add keeps d (OnObject: called from the fetches, concurrently).
func (ds *s3Digests) add(d s3src.Digest) {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	if ds.m == nil {
		ds.m = map[string]objectDigest{}
	}
	ds.m[d.URL] = objectDigest{etag: d.Object.ETag, sha256: d.SHA256, bytes: d.Bytes}
}

// hashS3AsRead has the S3 objects the sources read hashed as they are
// read, with a case or not, so that a case opened with :case DIR after
// the objects were read records them with the sha256s of that read
// (s3Objects), without downloading them again. The cost is within the
// noise: 24 objects read 20 times from the in-process fake (as
// BenchmarkRead) took 5.4-5.8 s of user CPU hashed, 5.8-6.1 s not, at
// load 13.
func hashS3AsRead(opts *TUIOptions) *s3Digests {
	if opts.Sources == nil {
		return nil
	}
	read := &s3Digests{}
	opts.Sources.OnS3Object = read.add
	return read
}

// of returns the sha256 of the object at url as read, when it was read
// as listed now (the same ETag and size): what the session read is what
// is there.
func (ds *s3Digests) of(url, etag string, size int64) (string, bool) {
	if ds == nil {
		return "", false
	}
	ds.mu.Lock()
	defer ds.mu.Unlock()
	d, ok := ds.m[url]
	return d.sha256, ok && d.sha256 != "" && d.etag == etag && d.bytes == size
}

// s3Objects lists the S3 objects the S3 sources among srcs read in the
// window [from, to) for the case's object records (ui.Sources.Objects):
// their URL, SOURCE, ETag, size and LastModified, and the sha256 of the
// bytes as stored of each object the case does not hold as it is now
// (known): taken from the session's own read (read: the digests its
// fetches computed, with a case from the start or opened later with
// :case; wait, when set, returns once the sources are read), else, for
// an object not read in full as listed now (the read stopped, or the
// window left it out), by downloading it once more.
// An archived object keeps its ETag only. `audittui report` judges them:
// the same, CHANGED, GONE, or NEW. nil without S3 sources.
func s3Objects(srcs []data.Source, from, to int64, read *s3Digests, wait func(context.Context)) func(context.Context, map[string]casefile.SourceObject) ([]casefile.SourceObject, error) {
	var s3s []*s3src.Source
	for _, src := range srcs {
		if s, ok := src.(*s3src.Source); ok {
			s3s = append(s3s, s)
		}
	}
	if len(s3s) == 0 {
		return nil
	}
	return func(ctx context.Context, known map[string]casefile.SourceObject) ([]casefile.SourceObject, error) {
		var out []casefile.SourceObject
		for _, s := range s3s {
			prints, err := s.Prints(ctx, from, to, false)
			if err != nil {
				return out, fmt.Errorf("S3 objects of %s: %w", s, err)
			}
			for _, p := range prints {
				o := casefile.SourceObject{URL: p.URL, Source: p.Source, ETag: p.ETag, Size: p.Size, LastModified: p.LastModified}
				if k, ok := known[p.URL]; ok && k.SHA256 != "" && k.ETag == o.ETag && k.Size == o.Size && k.LastModified.Equal(o.LastModified) {
					continue // as the case recorded it
				}
				if read != nil && wait != nil {
					if _, ok := read.of(p.URL, p.ETag, p.Size); !ok {
						wait(ctx) // the session's read may not have reached it yet
						wait = nil
					}
				}
				if sum, ok := read.of(p.URL, p.ETag, p.Size); ok {
					o.SHA256 = sum
					out = append(out, o)
					continue
				}
				obj, found, err := s.Stat(ctx, strings.TrimPrefix(p.URL, "s3://"+s.Bucket()+"/"))
				if err != nil {
					return out, err
				}
				if !found {
					continue // gone since listed: nothing read to record
				}
				o.ETag, o.Size, o.LastModified = obj.ETag, obj.Size, obj.LastModified.UTC()
				if !obj.Archived() {
					d, err := s.Download(ctx, obj, io.Discard)
					if err != nil {
						return out, err
					}
					o.SHA256, o.Size = d.SHA256, d.Bytes
				}
				if o.ETag == "" && o.SHA256 == "" {
					continue // nothing to judge it by
				}
				out = append(out, o)
			}
		}
		return out, nil
	}
}

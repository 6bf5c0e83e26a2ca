package tui

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/audittui/audittui/internal/casefile"
	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/file"
	s3src "github.com/audittui/audittui/internal/data/source/s3"
	"github.com/audittui/audittui/internal/evidence"
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
func reopenCase(opts *TUIOptions) error {
	if opts.Case == "" || len(opts.Args) > 0 || opts.Sample {
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
		if opts.Sources != nil {
			// Read as the session did: its --label labels and -r.
			if err := opts.Sources.Recorded(st.Reading()); err != nil {
				return cmdutil.UsageError(fmt.Errorf("case %s: %w", opts.Case, err))
			}
		}
	}
	if w := &opts.Window; w.Since == 0 && w.From == "" && w.To == "" && len(st.Opens) > 0 {
		last := st.Opens[len(st.Opens)-1]
		if last.From != nil {
			w.From = last.From.UTC().Format("2006-01-02T15:04:05.999999999Z07:00")
		}
		if last.To != nil {
			w.To = last.To.UTC().Format("2006-01-02T15:04:05.999999999Z07:00")
		}
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
		s.Labels, s.Recursive = opts.Sources.LabelArgs(), opts.Sources.Recursive()
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

// s3Objects lists the S3 objects the S3 sources among srcs read in the
// window [from, to) for the case's object records (ui.Sources.Objects):
// their URL, SOURCE, ETag, size and LastModified, and each object the
// case does not hold as it is now (known) is downloaded once more for the
// sha256 of its bytes as stored (an archived one keeps its ETag only), so
// `audittui report` judges them: the same, CHANGED, GONE, or NEW. nil
// without S3 sources.
func s3Objects(srcs []data.Source, from, to int64) func(context.Context, map[string]casefile.SourceObject) ([]casefile.SourceObject, error) {
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

package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source"
	"github.com/audittui/audittui/internal/data/source/file"
	"github.com/audittui/audittui/internal/termsafe"
)

// SourceSet resolves one command's SOURCE arguments. It adapts
// source.Set (the source kinds and their flags, in internal/data/source)
// to the commands: a bad argument is a usage error, and without arguments
// stdin can stand in.
type SourceSet struct {
	*source.Set
	ios *IOStreams
}

// NewSourceSet registers the flags of every source kind (--cluster,
// --s3-*, --loki-*) on fs. SOURCE "-" reads ios.In; S3 progress and
// warnings go to ios.ErrOut; LOKI_* variables are read with lookupEnv.
func NewSourceSet(fs *pflag.FlagSet, ios *IOStreams, lookupEnv func(string) (string, bool)) *SourceSet {
	return &SourceSet{
		Set: source.New(fs, source.Options{Stdin: ios.In, Stderr: ios.ErrOut, Getenv: lookupEnv}),
		ios: ios,
	}
}

// Resolve turns SOURCE arguments into sources. With no arguments a kind
// may supply a default (Loki via LOKI_ADDR); if none does, ok is false.
// A bad argument is a usage error.
func (s *SourceSet) Resolve(ctx context.Context, args []string) ([]data.Source, bool, error) {
	srcs, ok, err := s.Set.Resolve(ctx, args)
	var ae *source.ArgError
	if errors.As(err, &ae) {
		return nil, false, UsageError(err)
	}
	for _, n := range Notices(srcs) {
		fmt.Fprintf(s.ios.ErrOut, "audittui: %s\n", termsafe.String(n))
	}
	return srcs, ok, err
}

// Notices are what the SOURCE arguments hold that is not read: a
// directory's subdirectories without -r, the links -r did not follow
// (file.Source.Notices). Resolve prints them on stderr; the TUI shows
// them in its status bar too.
func Notices(srcs []data.Source) []string {
	var out []string
	for _, s := range srcs {
		if f, ok := unwrapSource(s).(*file.Source); ok {
			out = append(out, f.Notices()...)
		}
	}
	return out
}

// Unread lists the directories the SOURCE arguments hold that are not
// read (file.Source.Unread): what Notices name, each one.
func Unread(srcs []data.Source) []file.Unread {
	var out []file.Unread
	for _, s := range srcs {
		if f, ok := unwrapSource(s).(*file.Source); ok {
			out = append(out, f.Unread()...)
		}
	}
	return out
}

// Window resolves what a command that reads events starts with: the time
// window of w (now is the clock) and the SOURCE arguments (ResolveOrStdin).
// When a read with that window decodes events but lets none through,
// stderr says so once all the sources are read (watchWindow): an empty
// answer says that the window left everything out.
func (s *SourceSet) Window(ctx context.Context, w *WindowFlags, now func() time.Time, args []string) (from, to int64, srcs []data.Source, err error) {
	if from, to, err = w.Range(now); err != nil {
		return 0, 0, nil, err
	}
	if srcs, err = s.ResolveOrStdin(ctx, args); err != nil {
		return 0, 0, nil, err
	}
	return from, to, watchWindow(srcs, from, to, w, s.ios.ErrOut), nil
}

// ResolveOrStdin resolves SOURCE arguments; with none it uses a kind's
// default (Loki), else stdin when it is not a terminal.
func (s *SourceSet) ResolveOrStdin(ctx context.Context, args []string) ([]data.Source, error) {
	srcs, ok, err := s.Resolve(ctx, args)
	if err != nil {
		return nil, err
	}
	if ok {
		return warnSources(srcs, s.ios.ErrOut), nil
	}
	if s.ios.InTTY {
		return nil, UsageErrorf("no SOURCE given (name audit log files, s3://bucket/prefix/ or loki://host:3100, set LOKI_ADDR, or pipe events on stdin)")
	}
	src, err := s.File("-")
	if err != nil {
		return nil, err
	}
	return warnSources([]data.Source{src}, s.ios.ErrOut), nil
}

// Warned wraps srcs as ResolveOrStdin does: what a source finds wrong
// with its input as a whole is said on stderr, each message once (for a
// command that reads other sources than those it resolved: export reads
// its copies).
func (s *SourceSet) Warned(srcs []data.Source) []data.Source {
	return warnSources(srcs, s.ios.ErrOut)
}

// warnSources wraps srcs so that what a source finds wrong with its input
// as a whole (data.ReadOptions.Warn: an export that is one page of a
// longer answer, a Loki window that may miss events) is said on errOut,
// each message once however many times the sources are read.
func warnSources(srcs []data.Source, errOut io.Writer) []data.Source {
	w := &warner{errOut: errOut, said: map[string]bool{}}
	out := make([]data.Source, len(srcs))
	for i, s := range srcs {
		out[i] = &warnedSource{Source: s, w: w}
	}
	return out
}

type warner struct {
	mu     sync.Mutex
	errOut io.Writer
	said   map[string]bool
}

func (w *warner) warn(msg string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.said[msg] {
		return
	}
	w.said[msg] = true
	fmt.Fprintf(w.errOut, "audittui: warning: %s\n", termsafe.String(msg))
}

type warnedSource struct {
	data.Source
	w *warner
}

func (s *warnedSource) Unwrap() data.Source { return s.Source }

func (s *warnedSource) StreamLabels(ctx context.Context, opts data.ReadOptions, names []string) (*data.StreamLabels, error) {
	return streamLabelsOf(ctx, s.Source, opts, names)
}

func (s *warnedSource) Open(ctx context.Context, opts data.ReadOptions) (data.Stream, error) {
	if opts.Warn == nil {
		opts.Warn = s.w.warn
	}
	return s.Source.Open(ctx, opts)
}

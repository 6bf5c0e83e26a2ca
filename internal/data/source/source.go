// Package source turns SOURCE arguments into data.Source values. Its
// children are the source kinds, siblings of each other:
//
//	file  a file, glob, directory (rotated sets), "-" for stdin; --follow
//	s3    s3://bucket/prefix/ archives (and the S3 client constructor)
//	loki  loki://, lokis://, http(s):// servers (and the Loki client)
//
// A Set binds the flags every kind needs (--cluster, --label, --s3-endpoint,
// --loki-addr, ...) to a command's pflag.FlagSet when it is built, and
// resolves the arguments after the flags are parsed. It is a plain value:
// each command builds its own, nothing is registered globally.
package source

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/file"
	s3src "github.com/audittui/audittui/internal/data/source/s3"
)

// Options are what sources need from the command besides its flags.
type Options struct {
	// Stdin is read for the SOURCE "-" (os.Stdin when nil).
	Stdin io.Reader
	// Stderr receives --s3-progress lines and S3 warnings (os.Stderr when
	// nil).
	Stderr io.Writer
	// Getenv reads the LOKI_* variables (os.LookupEnv when nil).
	Getenv func(string) (string, bool)
	// S3Client replaces the client built from the S3 flags (tests).
	S3Client s3src.API
	// OnS3Object, if set, is given to every S3 source as its
	// s3.Options.OnObject: each object fully read, with the sha256 of
	// its bytes as stored (the TUI records a case's objects from it
	// rather than download them again).
	OnS3Object func(s3src.Digest)
	// Quiet (query's and alerts' -q) keeps informational notices off
	// Stderr: the S3 keys a window left out by the time in their key.
	// What may explain missing events is still said.
	Quiet bool
}

func (o *Options) stderr() io.Writer {
	if o.Stderr != nil {
		return o.Stderr
	}
	return os.Stderr
}

func (o *Options) getenv(name string) (string, bool) {
	if o.Getenv != nil {
		return o.Getenv(name)
	}
	return os.LookupEnv(name)
}

// ArgError is a SOURCE argument (or a default source) that cannot be
// used: a usage error, with the reason.
type ArgError struct {
	Arg string // "" for a default source
	Err error
}

func (e *ArgError) Error() string { return e.Err.Error() }
func (e *ArgError) Unwrap() error { return e.Err }

// kind resolves SOURCE arguments of one kind.
type kind interface {
	// match reports whether arg names a source of this kind.
	match(arg string) bool
	// open turns arg into a source.
	open(ctx context.Context, arg string) (data.Source, error)
	// defaultSource is the source to read when no SOURCE is given (Loki
	// when an address is set); ok is false when the kind has none.
	defaultSource(ctx context.Context) (src data.Source, ok bool, err error)
}

// Set resolves SOURCE arguments for one command.
type Set struct {
	// Options may be changed until Resolve is called (a command sets
	// Stdin when it runs, for example).
	Options
	fs        *pflag.FlagSet // the command's: what its command line gave
	cluster   string
	labels    labelFlag
	recursive bool
	s3        *S3
	loki      *Loki
	kinds     []kind // in resolution order; files last (they match anything)
}

// New returns a Set whose flags are bound to fs.
func New(fs *pflag.FlagSet, opts Options) *Set {
	s := &Set{Options: opts, fs: fs}
	fs.StringVar(&s.cluster, "cluster", "", "cluster label for file sources (stream label cluster=...)")
	fs.Var(&s.labels, "label", "stream label of file and S3 sources, NAME=VALUE (repeatable): --label job=kube-audit for rules written for that job; the job also sets what the built-in rules, the filter shorthand and the default --loki-selector select")
	fs.BoolVarP(&s.recursive, "recursive", "r", false, "read a directory SOURCE's subdirectories too, every level (a reviewer's case/node-a/..., case/node-b/...): rotated sets are grouped per directory, each file's filename label is its path; symbolic links are followed, loops are not. Without it the subdirectories not read are named on stderr")
	s.loki = newLoki(fs, &s.Options)
	s.loki.job = s.Job
	s.s3 = newS3(fs, &s.Options, &s.cluster)
	s.s3.labels = &s.labels.labels
	s.kinds = []kind{s.loki, s.s3, files{s}}
	return s
}

// Cluster is the --cluster value.
func (s *Set) Cluster() string { return s.cluster }

// Labels are the --label labels (a copy).
func (s *Set) Labels() data.Labels { return append(data.Labels(nil), s.labels.labels...) }

// Job is the job label of the events of file and S3 sources: --label
// job=..., else data.DefaultJob. The built-in rules and the filter
// shorthand select it.
func (s *Set) Job() string {
	if v, ok := s.labels.labels.Get("job"); ok {
		return v
	}
	return data.DefaultJob
}

// checkLabels refuses --label cluster=X with another --cluster.
func (s *Set) checkLabels() error {
	if v, ok := s.labels.labels.Get("cluster"); ok && s.cluster != "" && s.cluster != v {
		return fmt.Errorf("--cluster %q and --label cluster=%q disagree: give one", s.cluster, v)
	}
	return nil
}

// clusterLabel is --cluster, else --label cluster=....
func (s *Set) clusterLabel() string {
	if s.cluster != "" {
		return s.cluster
	}
	v, _ := s.labels.labels.Get("cluster")
	return v
}

// Recursive is -r: a directory SOURCE is read with its subdirectories.
func (s *Set) Recursive() bool { return s.recursive }

// ReadFlag is one flag a read of a case's sources used: its command-line
// words (--label NAME=VALUE, --cluster NAME, -r), whether it came from
// the case's sessions (Recorded) or the command line, and the case's
// value it replaced when the command line gave that flag again (Instead,
// its words; "" none).
type ReadFlag struct {
	Args     []string
	Recorded bool
	Instead  string
}

// From says where the flag came from, as a report says it.
func (f ReadFlag) From() string {
	switch {
	case f.Recorded:
		return "recorded by the case"
	case f.Instead != "":
		return "given on the command line, in place of the case's " + f.Instead
	}
	return "given on the command line"
}

// String is the flag with where it came from.
func (f ReadFlag) String() string { return strings.Join(f.Args, " ") + " (" + f.From() + ")" }

// Recorded reads the sources as a case's sessions did (casefile
// State.Reading), whatever SOURCEs are read: each of their --label
// NAME=VALUE labels whose name the command line did not give, their
// --cluster unless the command line gave --cluster or --label
// cluster=..., and -r when they read with it unless the command line
// said --recursive=false. It returns every flag the read uses, each with
// where it came from (the report says them). A label that is not one is
// an error naming it.
func (s *Set) Recorded(labels []string, cluster string, recursive bool) ([]ReadFlag, error) {
	var out []ReadFlag
	for _, l := range s.labels.labels {
		out = append(out, ReadFlag{Args: []string{"--label", l.Name + "=" + l.Value}})
	}
	if s.cluster != "" {
		out = append(out, ReadFlag{Args: []string{"--cluster", s.cluster}})
	}
	given := len(out)
	// The cluster the command line gave: --cluster, or --label cluster=.
	var givenCluster []string
	if s.cluster != "" {
		givenCluster = []string{"--cluster", s.cluster}
	} else if v, ok := s.labels.labels.Get("cluster"); ok {
		givenCluster = []string{"--label", "cluster=" + v}
	}
	// instead says the command line's flag args was given in place of
	// the case's (words).
	instead := func(args []string, words string) {
		for k := range out[:given] {
			if slices.Equal(out[k].Args, args) && strings.Join(args, " ") != words && out[k].Instead == "" {
				out[k].Instead = words
			}
		}
	}
	for _, l := range labels {
		name := labelName(l)
		if name == "cluster" && givenCluster != nil {
			instead(givenCluster, "--label "+l)
			continue
		}
		if v, ok := s.labels.labels.Get(name); ok {
			instead([]string{"--label", name + "=" + v}, "--label "+l)
			continue
		}
		if err := s.labels.Set(l); err != nil {
			return nil, fmt.Errorf("the case's --label %w", err)
		}
		out = append(out, ReadFlag{Args: []string{"--label", l}, Recorded: true})
	}
	if cluster != "" {
		if givenCluster != nil {
			instead(givenCluster, "--cluster "+cluster)
		} else {
			s.cluster = cluster
			out = append(out, ReadFlag{Args: []string{"--cluster", cluster}, Recorded: true})
		}
	}
	switch {
	case s.recursive:
		out = append(out, ReadFlag{Args: []string{"-r"}})
	case recursive && s.fs != nil && s.fs.Changed("recursive"):
		out = append(out, ReadFlag{Args: []string{"--recursive=false"}, Instead: "-r"})
	case recursive:
		s.recursive = true
		out = append(out, ReadFlag{Args: []string{"-r"}, Recorded: true})
	}
	return out, nil
}

// labelName is the name of a NAME=VALUE label.
func labelName(l string) string {
	name, _, _ := strings.Cut(l, "=")
	return strings.TrimSpace(name)
}

// LabelArgs are the --label labels as NAME=VALUE, for a case's record.
func (s *Set) LabelArgs() []string {
	var out []string
	for _, l := range s.labels.labels {
		out = append(out, l.Name+"="+l.Value)
	}
	return out
}

// Loki is the Set's Loki kind (its flags are the Set's).
func (s *Set) Loki() *Loki { return s.loki }

// File returns the file source for path (a file, glob, directory or "-"),
// labelled as the Set's file sources are.
func (s *Set) File(path string) (*file.Source, error) {
	if err := s.checkLabels(); err != nil {
		return nil, err
	}
	return file.New(path, file.Options{Cluster: s.clusterLabel(), Labels: s.Labels(), Stdin: s.Stdin, Recursive: s.recursive})
}

// FileAs is File for a copy of evidence (export's files/ and objects/),
// read under the filename label of what it copies: a selector naming the
// original selects the copy.
func (s *Set) FileAs(path, filename string) (*file.Source, error) {
	if err := s.checkLabels(); err != nil {
		return nil, err
	}
	return file.New(path, file.Options{Cluster: s.clusterLabel(), Labels: s.Labels(), Stdin: s.Stdin, Filename: filename})
}

// Resolve turns SOURCE arguments into sources. With no arguments a kind
// may supply a default (Loki when --loki-addr or LOKI_ADDR is set); if
// none does, ok is false. A bad argument is an *ArgError.
func (s *Set) Resolve(ctx context.Context, args []string) (srcs []data.Source, ok bool, err error) {
	if err := s.checkLabels(); err != nil {
		return nil, false, &ArgError{Err: err}
	}
	if len(args) == 0 {
		for _, k := range s.kinds {
			src, ok, err := k.defaultSource(ctx)
			if err != nil {
				return nil, false, &ArgError{Err: err}
			}
			if ok {
				return []data.Source{src}, true, nil
			}
		}
		return nil, false, nil
	}
	for _, a := range args {
		for _, k := range s.kinds {
			if !k.match(a) {
				continue
			}
			src, err := k.open(ctx, a)
			if err != nil {
				return nil, false, &ArgError{Arg: a, Err: err}
			}
			srcs = append(srcs, src)
			break
		}
	}
	if len(srcs) != len(args) {
		return nil, false, fmt.Errorf("unresolved SOURCE arguments %q", args)
	}
	return srcs, true, nil
}

// files resolves local files, globs, directories and "-" (stdin).
type files struct{ s *Set }

func (files) match(string) bool { return true }

func (f files) open(_ context.Context, arg string) (data.Source, error) { return f.s.File(arg) }

func (files) defaultSource(context.Context) (data.Source, bool, error) { return nil, false, nil }

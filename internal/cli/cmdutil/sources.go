package cmdutil

import (
	"context"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/audittui/audittui/internal/data"
)

// SourceKind resolves SOURCE arguments of one kind (files, s3://, loki://).
// The kinds live in internal/cli/sourcearg; a command reaches them through
// Factory.Sources.
type SourceKind interface {
	// AddFlags registers the kind's flags (--s3-endpoint, --loki-addr, ...).
	AddFlags(fs *pflag.FlagSet)
	// Match reports whether arg names a source of this kind.
	Match(arg string) bool
	// Open turns arg into a source.
	Open(ctx context.Context, arg string, common *SourceOptions) (data.Source, error)
	// Default returns the source to use when no SOURCE is given (for
	// example Loki when LOKI_ADDR is set); ok is false when the kind has none.
	Default(ctx context.Context, common *SourceOptions) (src data.Source, ok bool, err error)
}

// SourceOptions are the flags every source kind shares.
type SourceOptions struct {
	Cluster string // --cluster: cluster label for file sources
}

// SourceSet resolves one command's SOURCE arguments.
type SourceSet struct {
	common SourceOptions
	kinds  []SourceKind
	ios    *IOStreams
}

// NewSourceSet registers --cluster and each kind's flags on fs. Kinds are
// tried in order; the last should match anything (files).
func NewSourceSet(fs *pflag.FlagSet, ios *IOStreams, kinds ...SourceKind) *SourceSet {
	s := &SourceSet{kinds: kinds, ios: ios}
	fs.StringVar(&s.common.Cluster, "cluster", "", "cluster label for file sources (stream label cluster=...)")
	for _, k := range kinds {
		k.AddFlags(fs)
	}
	return s
}

// Cluster is the --cluster flag.
func (s *SourceSet) Cluster() string { return s.common.Cluster }

// Resolve turns SOURCE arguments into sources. With no arguments each kind
// may supply a default (Loki via LOKI_ADDR); if none does, ok is false.
func (s *SourceSet) Resolve(ctx context.Context, args []string) ([]data.Source, bool, error) {
	if len(args) == 0 {
		for _, k := range s.kinds {
			src, ok, err := k.Default(ctx, &s.common)
			if err != nil {
				return nil, false, err
			}
			if ok {
				return []data.Source{src}, true, nil
			}
		}
		return nil, false, nil
	}
	var out []data.Source
	for _, a := range args {
		var matched bool
		for _, k := range s.kinds {
			if !k.Match(a) {
				continue
			}
			src, err := k.Open(ctx, a, &s.common)
			if err != nil {
				return nil, false, UsageError(err)
			}
			out = append(out, src)
			matched = true
			break
		}
		if !matched {
			return nil, false, UsageErrorf("unknown source %q", a)
		}
	}
	if len(out) == 0 {
		return nil, false, fmt.Errorf("no sources")
	}
	return out, true, nil
}

// ResolveOrStdin resolves SOURCE arguments; with none it uses a kind's
// default (Loki), else stdin when it is not a terminal.
func (s *SourceSet) ResolveOrStdin(ctx context.Context, args []string) ([]data.Source, error) {
	srcs, ok, err := s.Resolve(ctx, args)
	if err != nil {
		return nil, err
	}
	if ok {
		return srcs, nil
	}
	if s.ios.InTTY {
		return nil, UsageErrorf("no SOURCE given (name audit log files, s3://bucket/prefix/ or loki://host:3100, set LOKI_ADDR, or pipe events on stdin)")
	}
	src, err := data.NewFileSource("-", data.FileOptions{Cluster: s.common.Cluster, Stdin: s.ios.In})
	if err != nil {
		return nil, err
	}
	return []data.Source{src}, nil
}

package cli

import (
	"context"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/audittui/audittui/internal/data"
)

// sourceKind resolves SOURCE arguments of one kind (files, s3://, loki://).
// Each kind lives in its own file and registers a constructor in
// sourceKinds; every command that reads sources builds a fresh set so
// flag state is per command.
type sourceKind interface {
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

// SourceOptions are the flags every source shares.
type SourceOptions struct {
	Cluster string // --cluster: cluster label for file sources
}

// sourceKinds: constructors, in resolution order. The file kind is last
// (it matches anything).
var sourceKinds []func() sourceKind

// sourceSet is the per-command collection of source kinds.
type sourceSet struct {
	common SourceOptions
	kinds  []sourceKind
}

func newSourceSet(fs *pflag.FlagSet) *sourceSet {
	s := &sourceSet{}
	fs.StringVar(&s.common.Cluster, "cluster", "", "cluster label for file sources (stream label cluster=...)")
	for _, mk := range sourceKinds {
		k := mk()
		k.AddFlags(fs)
		s.kinds = append(s.kinds, k)
	}
	fk := &fileKind{}
	fk.AddFlags(fs)
	s.kinds = append(s.kinds, fk)
	return s
}

// resolve turns SOURCE arguments into sources. With no arguments each kind
// may supply a default (Loki via LOKI_ADDR); if none does, ok is false.
func (s *sourceSet) resolve(ctx context.Context, args []string) ([]data.Source, bool, error) {
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
				return nil, false, &ExitError{Code: ExitUsage, Err: err}
			}
			out = append(out, src)
			matched = true
			break
		}
		if !matched {
			return nil, false, usageErr("unknown source %q", a)
		}
	}
	if len(out) == 0 {
		return nil, false, fmt.Errorf("no sources")
	}
	return out, true, nil
}

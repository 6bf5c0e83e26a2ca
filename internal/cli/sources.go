package cli

import (
	"context"
	"errors"

	"github.com/spf13/pflag"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source"
)

// sourceSet adapts source.Set (SOURCE resolution and the flags of every
// source kind) to the commands: bad arguments become usage errors, and
// without arguments stdin can stand in.
type sourceSet struct{ *source.Set }

func newSourceSet(fs *pflag.FlagSet) *sourceSet {
	return &sourceSet{source.New(fs, source.Options{})}
}

// resolve turns SOURCE arguments into sources. With no arguments a kind
// may supply a default (Loki via LOKI_ADDR); if none does, ok is false.
func (s *sourceSet) resolve(ctx context.Context, args []string) ([]data.Source, bool, error) {
	srcs, ok, err := s.Resolve(ctx, args)
	var ae *source.ArgError
	if errors.As(err, &ae) {
		return nil, false, &ExitError{Code: ExitUsage, Err: err}
	}
	return srcs, ok, err
}

// resolveOrStdin resolves SOURCE arguments ("-" reads the command's
// stdin); with none it uses a kind's default (Loki) or stdin when it is
// not a terminal.
func (s *sourceSet) resolveOrStdin(ctx context.Context, args []string, io *IO) ([]data.Source, error) {
	if io.In != nil {
		s.Stdin = io.In
	}
	s.Stderr = io.Err
	srcs, ok, err := s.resolve(ctx, args)
	if err != nil {
		return nil, err
	}
	if ok {
		return srcs, nil
	}
	if io.InTTY {
		return nil, usageErr("no SOURCE given (name audit log files, s3://bucket/prefix/ or loki://host:3100, set LOKI_ADDR, or pipe events on stdin)")
	}
	src, err := s.File("-")
	if err != nil {
		return nil, err
	}
	return []data.Source{src}, nil
}

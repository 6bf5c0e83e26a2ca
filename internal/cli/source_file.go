package cli

import (
	"context"

	"github.com/spf13/pflag"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/file"
)

// fileKind resolves local files, globs, directories and "-" (stdin).
type fileKind struct {
	stdin interface{ Read([]byte) (int, error) }
}

func (k *fileKind) AddFlags(fs *pflag.FlagSet) {}

func (k *fileKind) Match(arg string) bool { return true }

func (k *fileKind) Open(ctx context.Context, arg string, common *SourceOptions) (data.Source, error) {
	opts := file.Options{Cluster: common.Cluster}
	if k.stdin != nil {
		opts.Stdin = k.stdin
	}
	return file.New(arg, opts)
}

func (k *fileKind) Default(ctx context.Context, common *SourceOptions) (data.Source, bool, error) {
	return nil, false, nil
}

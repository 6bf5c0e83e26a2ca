package sourcearg

import (
	"context"
	"io"

	"github.com/spf13/pflag"

	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/data"
)

// fileKind resolves local files, globs, directories and "-" (stdin).
type fileKind struct {
	stdin io.Reader // read for "-"
}

func (k *fileKind) AddFlags(fs *pflag.FlagSet) {}

func (k *fileKind) Match(arg string) bool { return true }

func (k *fileKind) Open(ctx context.Context, arg string, common *cmdutil.SourceOptions) (data.Source, error) {
	return data.NewFileSource(arg, data.FileOptions{Cluster: common.Cluster, Stdin: k.stdin})
}

func (k *fileKind) Default(ctx context.Context, common *cmdutil.SourceOptions) (data.Source, bool, error) {
	return nil, false, nil
}

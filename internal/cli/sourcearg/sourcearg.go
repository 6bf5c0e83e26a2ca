// Package sourcearg turns SOURCE arguments and their flags into data
// sources: local files, globs, directories and "-" (file.go), s3://
// archives (s3.go) and loki:// servers (loki.go, which also gives Loki as
// the default source when LOKI_ADDR is set). Kinds is what the Factory's
// source builder (cmdutil.Factory.Sources) resolves SOURCE arguments with.
package sourcearg

import "github.com/audittui/audittui/internal/cli/cmdutil"

// Kinds returns fresh source kinds for one command, in resolution order:
// Loki, S3, then files (which match any argument).
func Kinds(f *cmdutil.Factory) []cmdutil.SourceKind {
	return []cmdutil.SourceKind{NewLoki(f), &s3Kind{progressOut: f.IOStreams.ErrOut}, &fileKind{stdin: f.IOStreams.In}}
}

// Package sample embeds the bundled sample audit log (a copy of
// testdata/sample/audit.log, which the generator writes; go:embed cannot
// reach outside the package directory, and testdata folders cannot hold
// packages). TestCopyIsCurrent fails when the copy is stale.
package sample

import (
	"bytes"
	"context"
	_ "embed"

	"github.com/audittui/audittui/internal/data"
)

//go:generate cp ../../../testdata/sample/audit.log audit.log

//go:embed audit.log
var auditLog []byte

// Name is how the sample is named in the UI and in messages.
const Name = "bundled sample (generated demo data)"

// Bytes returns the sample's contents.
func Bytes() []byte { return auditLog }

// Source is the sample as a data.Source. It is not seekable, so the index
// spills its events to a local file.
type Source struct{}

func (Source) String() string { return Name }

// Open reads the embedded bytes.
func (Source) Open(ctx context.Context, opts data.ReadOptions) (data.Stream, error) {
	info := &data.SourceInfo{
		Name:   Name,
		Labels: data.Labels{{Name: "job", Value: "audit"}, {Name: "filename", Value: "sample/audit.log"}},
	}
	opts.Follow = false
	return data.NewReaderStream(ctx, bytes.NewReader(auditLog), info, opts, nil), nil
}

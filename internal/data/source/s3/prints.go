package s3

import (
	"context"
	"io"
	"time"
)

// ObjectPrint is what an investigation records of an S3 object it read
// (a case's object record): its URL, the SOURCE that listed it, its ETag,
// size and LastModified as listed, and the sha256 of its bytes as stored
// when they were hashed ("" when not).
type ObjectPrint struct {
	URL, Source, ETag string
	Size              int64
	LastModified      time.Time
	SHA256            string
}

// Prints lists the objects the source reads in [from, to) (Unix
// nanoseconds, 0 open), archived ones too, and returns what a case
// records of each; with hash, each readable object is downloaded once
// more for the sha256 of its bytes as stored. `audittui report` judges
// them again: the same, CHANGED, GONE, or NEW under the prefix.
func (s *Source) Prints(ctx context.Context, from, to int64, hash bool) ([]ObjectPrint, error) {
	l, err := s.List(ctx, from, to)
	if err != nil {
		return nil, err
	}
	var out []ObjectPrint
	for _, o := range append(append([]Object{}, l.Objects...), l.Archived...) {
		p := ObjectPrint{URL: s.URL(o), Source: s.String(), ETag: o.ETag, Size: o.Size, LastModified: o.LastModified.UTC()}
		if hash && !o.Archived() {
			d, err := s.Download(ctx, o, io.Discard)
			if err != nil {
				return nil, err
			}
			p.SHA256, p.Size = d.SHA256, d.Bytes
			if p.ETag == "" {
				p.ETag = d.Object.ETag
			}
		}
		out = append(out, p)
	}
	return out, nil
}

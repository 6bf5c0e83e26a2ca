package s3

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
)

// Ranged reads: an object of at least RangeThreshold bytes is fetched as
// parts of PartSize with up to RangeConcurrency range requests in flight,
// and read back in order. Parallel requests keep a big object from being
// bound by one connection's throughput; memory stays at RangeConcurrency
// parts. Every part is requested with If-Match on the listed ETag, so an
// object replaced during the read fails instead of mixing two versions.

// Defaults for ranged reads.
const (
	DefaultRangeThreshold   = 64 << 20
	DefaultPartSize         = 16 << 20
	DefaultRangeConcurrency = 4
)

// openObject returns the object's bytes as stored; ranged tells whether a
// big object may be fetched in parallel parts (a read merging several
// objects at once fetches each as one stream: parts are memory, and the
// objects are fetched in parallel already).
func (s *Source) openObject(ctx context.Context, o Object, ranged bool) (io.ReadCloser, *awss3.GetObjectOutput, error) {
	if !ranged || s.opts.RangeThreshold < 0 || o.Size < s.opts.RangeThreshold || o.Size <= s.opts.PartSize {
		out, err := s.client.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(o.Key)})
		if err != nil {
			return nil, nil, err
		}
		return out.Body, out, nil
	}
	// The first part is fetched here so that errors (archived, denied)
	// come back as for a whole-object GET.
	first, out, err := s.getRange(ctx, o, 0)
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	r := &rangeReader{ctx: ctx, cancel: cancel, cur: bytes.NewReader(first)}
	n := int((o.Size + s.opts.PartSize - 1) / s.opts.PartSize)
	r.parts = make([]chan partResult, n)
	for i := range r.parts {
		r.parts[i] = make(chan partResult, 1)
	}
	r.idx = 1
	r.slots = make(chan struct{}, s.opts.RangeConcurrency)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for i := 1; i < n; i++ {
			select {
			case r.slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			r.wg.Add(1)
			go func() {
				defer r.wg.Done()
				b, _, err := s.getRange(ctx, o, int64(i)*s.opts.PartSize)
				r.parts[i] <- partResult{b: b, err: err}
			}()
		}
	}()
	return r, out, nil
}

// getRange fetches the part starting at off.
func (s *Source) getRange(ctx context.Context, o Object, off int64) ([]byte, *awss3.GetObjectOutput, error) {
	end := min(off+s.opts.PartSize, o.Size) - 1
	in := &awss3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(o.Key),
		Range: aws.String(fmt.Sprintf("bytes=%d-%d", off, end))}
	if o.ETag != "" {
		in.IfMatch = aws.String(`"` + o.ETag + `"`)
	}
	out, err := s.client.GetObject(ctx, in)
	if err != nil {
		return nil, nil, err
	}
	defer out.Body.Close()
	b := make([]byte, end-off+1)
	if _, err := io.ReadFull(out.Body, b); err != nil {
		return nil, nil, fmt.Errorf("bytes %d-%d: %w", off, end, err)
	}
	if n, _ := out.Body.Read(make([]byte, 1)); n > 0 {
		return nil, nil, fmt.Errorf("bytes %d-%d: the server sent more than asked (no range support?)", off, end)
	}
	return b, out, nil
}

type partResult struct {
	b   []byte
	err error
}

// rangeReader yields the parts in order.
type rangeReader struct {
	ctx    context.Context
	cancel context.CancelFunc
	cur    *bytes.Reader
	parts  []chan partResult
	idx    int
	slots  chan struct{}
	wg     sync.WaitGroup
	err    error
}

func (r *rangeReader) Read(p []byte) (int, error) {
	for {
		if r.err != nil {
			return 0, r.err
		}
		if r.cur != nil && r.cur.Len() > 0 {
			return r.cur.Read(p)
		}
		if r.idx >= len(r.parts) {
			return 0, io.EOF
		}
		var res partResult
		select {
		case res = <-r.parts[r.idx]:
		case <-r.ctx.Done():
			r.err = r.ctx.Err()
			continue
		}
		<-r.slots // the part is taken: another may be fetched
		r.idx++
		if res.err != nil {
			r.err = res.err
			continue
		}
		r.cur = bytes.NewReader(res.b)
	}
}

func (r *rangeReader) Close() error {
	r.cancel()
	r.wg.Wait()
	return nil
}

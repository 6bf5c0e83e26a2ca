package shipfaults

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// VictoriaLogs reads back what ship pushed to VictoriaLogs' Loki push
// endpoint, with LogsQL over /select/logsql/query.
type VictoriaLogs struct {
	URL string // base URL, http://127.0.0.1:PORT
}

// PushURL is the Loki push URL to put in ship's Loki.URL.
func (v VictoriaLogs) PushURL() string { return v.URL + "/insert/loki/api/v1/push" }

func (v VictoriaLogs) query(ctx context.Context, q string, row func([]byte) error) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.URL+"/select/logsql/query",
		strings.NewReader(url.Values{"query": {q}}.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("VictoriaLogs query: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("VictoriaLogs query %q: %s: %s", q, resp.Status, b)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		if err := row(sc.Bytes()); err != nil {
			return err
		}
	}
	return sc.Err()
}

// Seqs returns the sequence numbers of every entry of the cluster's
// streams (one per stored entry: duplicates are kept, VictoriaLogs does not
// de-duplicate). The auditID is extracted server-side, so only IDs travel.
func (v VictoriaLogs) Seqs(ctx context.Context, cluster string, tag Tag) ([]int, error) {
	q := fmt.Sprintf(`_stream:{cluster=%q} | extract '"auditID":"<id>"' from _msg | fields id`, cluster)
	var out []int
	err := v.query(ctx, q, func(b []byte) error {
		var r struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(b, &r); err != nil {
			return fmt.Errorf("VictoriaLogs row %q: %w", b, err)
		}
		if s, ok := tag.Seq(r.ID); ok {
			out = append(out, s)
		} else {
			out = append(out, -1)
		}
		return nil
	})
	return out, err
}

// Count returns how many entries the cluster's streams hold.
func (v VictoriaLogs) Count(ctx context.Context, cluster string) (int, error) {
	n := 0
	err := v.query(ctx, fmt.Sprintf(`_stream:{cluster=%q} | stats count() n`, cluster), func(b []byte) error {
		var r struct {
			N string `json:"n"`
		}
		if err := json.Unmarshal(b, &r); err != nil {
			return err
		}
		var err error
		n, err = strconv.Atoi(r.N)
		return err
	})
	return n, err
}

// S3Store lists and reads the objects ship's S3 sink uploaded under a
// prefix: gzip (or plain) JSON lines, one event per line. Objects already
// read are cached by key, ETag and size.
type S3Store struct {
	Client *s3.Client
	Bucket string
	Prefix string // without a leading slash, ending in "/"

	mu    sync.Mutex
	cache map[string]s3Object
}

type s3Object struct {
	etag string
	size int64
	seqs []int
}

// NewS3Client returns a path-style client for an S3-compatible endpoint.
func NewS3Client(endpoint, access, secret, region string) *s3.Client {
	return s3.New(s3.Options{
		Region: region, BaseEndpoint: aws.String(endpoint), UsePathStyle: true,
		Credentials:                               credentials.NewStaticCredentialsProvider(access, secret, ""),
		RequestChecksumCalculation:                aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation:                aws.ResponseChecksumValidationWhenRequired,
		DisableLogOutputChecksumValidationSkipped: true,
	})
}

// EnsureBucket creates the bucket unless it exists.
func EnsureBucket(ctx context.Context, c *s3.Client, bucket string) error {
	_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	if err != nil && !strings.Contains(err.Error(), "BucketAlready") {
		return fmt.Errorf("create bucket %s: %w", bucket, err)
	}
	return nil
}

// Objects returns how many objects are under the prefix.
func (s *S3Store) Objects() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.cache)
}

// Seqs returns the sequence numbers of every line of every object.
func (s *S3Store) Seqs(ctx context.Context, tag Tag) ([]int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cache == nil {
		s.cache = map[string]s3Object{}
	}
	seen := map[string]bool{}
	p := s3.NewListObjectsV2Paginator(s.Client, &s3.ListObjectsV2Input{Bucket: aws.String(s.Bucket), Prefix: aws.String(s.Prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", s.Bucket, s.Prefix, err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			seen[key] = true
			etag, size := aws.ToString(o.ETag), aws.ToInt64(o.Size)
			if c, ok := s.cache[key]; ok && c.etag == etag && c.size == size {
				continue
			}
			seqs, err := s.read(ctx, key, tag)
			if err != nil {
				return nil, err
			}
			s.cache[key] = s3Object{etag: etag, size: size, seqs: seqs}
		}
	}
	var out []int
	for k, c := range s.cache {
		if !seen[k] {
			delete(s.cache, k)
			continue
		}
		out = append(out, c.seqs...)
	}
	return out, nil
}

func (s *S3Store) read(ctx context.Context, key string, tag Tag) ([]int, error) {
	g, err := s.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key)})
	if err != nil {
		return nil, fmt.Errorf("get s3://%s/%s: %w", s.Bucket, key, err)
	}
	defer g.Body.Close()
	br := bufio.NewReaderSize(g.Body, 256<<10)
	var r io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gunzip s3://%s/%s: %w", s.Bucket, key, err)
		}
		r = zr
	}
	var out []int
	lr := bufio.NewReaderSize(r, 1<<20)
	var carry []byte // end of the previous fragment of a long line
	found := false
	for {
		frag, err := lr.ReadSlice('\n')
		if !found {
			text := append(carry, frag...)
			if seqs := tag.Seqs(text); len(seqs) > 0 {
				out = append(out, seqs[0])
				found = true
			}
			carry = append(carry[:0], text[max(0, len(text)-64):]...)
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue // the same line goes on
		case err == io.EOF:
			return out, nil
		case err != nil:
			return nil, fmt.Errorf("read s3://%s/%s: %w", s.Bucket, key, err)
		}
		carry, found = carry[:0], false
	}
}

// Package s3 reads audit events from S3 archives (s3://bucket/prefix/),
// such as those Fluent Bit's s3 output and audittui's ship S3 sink write.
//
// Reading lists only the key prefixes that a time window needs (planned
// from the archive's S3_key_format, see package s3key), skips keys whose
// time falls outside the window without downloading them, fetches the
// remaining objects in parallel (bounded), decompresses them by their magic
// bytes (gzip, zstd, or plain), decodes them with data.Decoder and merges
// them into time order.
//
// Listing: the window, widened by Span before (an object holds events from
// its key time to its key time plus the writer's upload timeout) and Skew
// after, becomes hour, day or month prefixes (s3key.Plan). A format whose
// prefix stops at a per-stream variable (CLUSTER_NAME not given by the
// s3:// URL, $TAG) is first listed with the delimiter "/" to find the
// clusters or tags, then planned for each. Keys whose time cannot hold
// events of the window are skipped without a GET; keys that do not follow
// the format are read whole (their events are still filtered by time).
//
// Fetching: Concurrency objects at a time, each through its own decoder;
// objects of RangeThreshold bytes or more are fetched as parallel range
// requests pinned to the listed ETag (If-Match).
//
// Time order: objects are consumed in key-time order and their events are
// merged through a heap of sorted runs. An event is passed on once no
// later object can hold an earlier one (the next object's key time minus
// Skew) and the object being read has moved Skew past it. The output is
// exactly in time order when each object's events are in order within
// Skew and no event precedes its object's key time by more than Skew,
// which holds for Fluent Bit and the ship sink (keys carry the first
// record's time); memory holds about Skew worth of events.
//
// Problems with one object (archived storage class, a corrupt gzip, a line
// that is not an audit event) are reported as data.Reject with the
// object's s3:// URL and line, and the read goes on; bad credentials, a
// missing bucket or access denied on the listing stop it with a message
// that says what to check.
//
// Reading never writes to the bucket: only ListObjectsV2 and GetObject are
// called.
package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/s3/s3key"
)

// API is the part of the S3 client the source uses (read-only calls).
type API interface {
	ListObjectsV2(ctx context.Context, in *awss3.ListObjectsV2Input, optFns ...func(*awss3.Options)) (*awss3.ListObjectsV2Output, error)
	GetObject(ctx context.Context, in *awss3.GetObjectInput, optFns ...func(*awss3.Options)) (*awss3.GetObjectOutput, error)
}

// Options configure a Source.
type Options struct {
	// Config says how to reach the store (region, endpoint, path style,
	// credentials, retries); see NewClient.
	Config ClientConfig
	// KeyFormat plans the prefixes to list and dates keys; nil lists the
	// whole prefix and downloads every object.
	KeyFormat *s3key.Format
	// Span is how long after its key time an object may still hold events
	// (the writer's upload timeout, plus margin). 0 means DefaultSpan.
	Span time.Duration
	// Skew is how much earlier than its key time an object's events may be
	// (ingestion delay, clock skew), and how far out of order the events
	// inside one object may be. Events are held this long (in event time)
	// before they are passed on, so it bounds memory as well. 0 means
	// DefaultSkew.
	Skew time.Duration
	// Concurrency bounds parallel object downloads (0 = DefaultConcurrency).
	Concurrency int
	// RangeThreshold: objects at least this big are fetched with parallel
	// range requests of PartSize, RangeConcurrency at a time (0 = the
	// defaults; a negative RangeThreshold turns ranged reads off).
	RangeThreshold   int64
	PartSize         int64
	RangeConcurrency int
	// MaxLine bounds one line (one event) in bytes; longer lines are
	// rejected (0 = DefaultMaxLine).
	MaxLine int
	// Cluster, if set, is the stream label cluster=... of every object.
	Cluster string
	// Logger; nil discards.
	Logger *slog.Logger
	// Client replaces the client NewClient would build from Config
	// (tests; Config is then ignored).
	Client API
	// Progress, if set, is called as objects are fetched.
	Progress func(Progress)
	// OnObject, if set, is called once per object fully read, with the
	// digest of its bytes as downloaded (export builds its manifest from it).
	OnObject func(Digest)
}

// Defaults.
const (
	DefaultSpan        = 15 * time.Minute
	DefaultSkew        = 2 * time.Minute
	DefaultConcurrency = 8
	DefaultMaxLine     = 64 << 20
)

// Source is an S3 prefix as a data.Source.
type Source struct {
	bucket, prefix string
	opts           Options
	client         API
	log            *slog.Logger
	format         *s3key.Format // anchored to prefix; nil = no planning
}

// ParseURL splits s3://bucket/prefix into its bucket and key prefix.
func ParseURL(raw string) (bucket, prefix string, err error) {
	if !strings.HasPrefix(raw, "s3://") {
		return "", "", fmt.Errorf("s3 url %q: must start with s3://", raw)
	}
	rest := strings.TrimPrefix(raw, "s3://")
	bucket, prefix, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("s3 url %q: no bucket name", raw)
	}
	if strings.ContainsAny(bucket, " ?#") {
		return "", "", fmt.Errorf("s3 url %q: invalid bucket name %q", raw, bucket)
	}
	return bucket, prefix, nil
}

// New returns the source for an s3:// URL. Without Options.Client it loads
// the AWS default credential chain (environment, shared config and
// profile, web identity, IMDS).
func New(ctx context.Context, rawURL string, opts Options) (*Source, error) {
	bucket, prefix, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	if opts.Span <= 0 {
		opts.Span = DefaultSpan
	}
	if opts.Skew <= 0 {
		opts.Skew = DefaultSkew
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.MaxLine <= 0 {
		opts.MaxLine = DefaultMaxLine
	}
	if opts.RangeThreshold == 0 {
		opts.RangeThreshold = DefaultRangeThreshold
	}
	if opts.PartSize <= 0 {
		opts.PartSize = DefaultPartSize
	}
	if opts.RangeConcurrency <= 0 {
		opts.RangeConcurrency = DefaultRangeConcurrency
	}
	s := &Source{bucket: bucket, prefix: prefix, opts: opts, log: opts.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if opts.KeyFormat != nil {
		f, ok := opts.KeyFormat.Anchor(prefix)
		if ok {
			s.format = f
		} else {
			s.log.Warn("keys under the prefix cannot follow the key format; listing the whole prefix",
				"source", s.String(), "key_format", opts.KeyFormat.String())
		}
	}
	s.client = opts.Client
	if s.client == nil {
		c, err := NewClient(ctx, opts.Config)
		if err != nil {
			return nil, err
		}
		s.client = c
	}
	return s, nil
}

// String names the source: s3://bucket/prefix.
func (s *Source) String() string { return "s3://" + s.bucket + "/" + s.prefix }

// Bucket returns the bucket name.
func (s *Source) Bucket() string { return s.bucket }

// Prefix returns the key prefix.
func (s *Source) Prefix() string { return s.prefix }

// Object is one listed object.
type Object struct {
	Key          string
	ETag         string // as S3 returns it, quotes removed
	Size         int64
	StorageClass string
	LastModified time.Time
	// KeyTime is the time the key carries (start of its unit); zero when
	// the key does not follow the key format.
	KeyTime time.Time
	KeyUnit s3key.Unit
}

// URL returns s3://bucket/key.
func (s *Source) URL(o Object) string { return "s3://" + s.bucket + "/" + o.Key }

// Archived reports whether the object is in a storage class that needs a
// restore before it can be read.
func (o Object) Archived() bool {
	switch types.ObjectStorageClass(o.StorageClass) {
	case types.ObjectStorageClassGlacier, types.ObjectStorageClassDeepArchive:
		return true
	}
	return false
}

// Listing is the outcome of listing a window.
type Listing struct {
	// Prefixes are the prefixes listed.
	Prefixes []string
	// ListCalls counts ListObjectsV2 requests.
	ListCalls int
	// Objects to read, sorted by key time then key (undated keys first).
	Objects []Object
	// Archived objects (GLACIER, DEEP_ARCHIVE) in the window: not readable
	// until restored.
	Archived []Object
	// Skipped counts keys outside the window (not downloaded).
	Skipped int
}

// List lists the objects that may hold events in [from, to) (Unix nanos,
// 0 = open).
func (s *Source) List(ctx context.Context, from, to int64) (*Listing, error) {
	l := &Listing{}
	prefixes := []string{s.prefix}
	var wFrom, wTo time.Time
	if s.format != nil && s.format.Unit() != s3key.Unknown {
		unit := unitDuration(s.format.Unit())
		if from != 0 {
			wFrom = time.Unix(0, from).UTC().Add(-s.opts.Span - unit)
		}
		if to != 0 {
			wTo = time.Unix(0, to).UTC().Add(s.opts.Skew)
		} else if from != 0 {
			// Archives hold no future events: plan up to now.
			wTo = time.Now().UTC().Add(s.opts.Skew)
		}
		var err error
		var calls int
		prefixes, calls, err = s.plan(ctx, s.format, wFrom, wTo, 0)
		l.ListCalls += calls
		if err != nil {
			return nil, err
		}
	}
	l.Prefixes = prefixes
	for _, p := range prefixes {
		var token *string
		for {
			out, err := s.client.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{
				Bucket:            aws.String(s.bucket),
				Prefix:            aws.String(p),
				ContinuationToken: token,
			})
			l.ListCalls++
			if err != nil {
				return nil, s.explain(err, "list "+"s3://"+s.bucket+"/"+p)
			}
			for _, c := range out.Contents {
				o := Object{Key: aws.ToString(c.Key), ETag: strings.Trim(aws.ToString(c.ETag), `"`),
					Size: aws.ToInt64(c.Size), StorageClass: string(c.StorageClass), LastModified: aws.ToTime(c.LastModified)}
				if strings.HasSuffix(o.Key, "/") && o.Size == 0 {
					continue // a folder marker
				}
				if s.format != nil {
					if kt, unit, ok := s.format.TimeOf(o.Key); ok {
						o.KeyTime, o.KeyUnit = kt, unit
						if !s.mayHold(o, from, to) {
							l.Skipped++
							continue
						}
					}
				}
				if o.Archived() {
					l.Archived = append(l.Archived, o)
					continue
				}
				l.Objects = append(l.Objects, o)
			}
			if !aws.ToBool(out.IsTruncated) || out.NextContinuationToken == nil {
				break
			}
			token = out.NextContinuationToken
		}
	}
	sort.SliceStable(l.Objects, func(i, j int) bool {
		a, b := l.Objects[i], l.Objects[j]
		if !a.KeyTime.Equal(b.KeyTime) {
			return a.KeyTime.Before(b.KeyTime)
		}
		return a.Key < b.Key
	})
	return l, nil
}

// plan returns the prefixes to list for a window. When the format's
// prefix stops at a per-stream variable (CLUSTER_NAME unset, $TAG), one
// delimiter listing finds its values (the clusters, the tags) and each is
// planned on its own: LIST calls grow with clusters times hours, not with
// the keys in the bucket. It returns the LIST calls it made.
func (s *Source) plan(ctx context.Context, f *s3key.Format, wFrom, wTo time.Time, depth int) ([]string, int, error) {
	p, open := f.OpenVariable()
	if !open || depth >= 4 || wFrom.IsZero() || wTo.IsZero() {
		return narrow(f.Plan(wFrom, wTo), s.prefix), 0, nil
	}
	at := p
	switch {
	case strings.HasPrefix(s.prefix, p):
		at = s.prefix
	case !strings.HasPrefix(p, s.prefix):
		return []string{}, 0, nil
	}
	var out []string
	calls := 0
	var token *string
	for {
		res, err := s.client.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{Bucket: aws.String(s.bucket), Prefix: aws.String(at),
			Delimiter: aws.String("/"), ContinuationToken: token})
		calls++
		if err != nil {
			return nil, calls, s.explain(err, "list s3://"+s.bucket+"/"+at)
		}
		for _, cp := range res.CommonPrefixes {
			g, ok := f.Anchor(aws.ToString(cp.Prefix))
			if !ok {
				continue
			}
			sub, c, err := s.plan(ctx, g, wFrom, wTo, depth+1)
			calls += c
			if err != nil {
				return nil, calls, err
			}
			out = append(out, sub...)
		}
		// Keys beside the per-stream folders do not follow the format:
		// list them too, so they are read (undated) rather than ignored.
		for _, c := range res.Contents {
			out = append(out, aws.ToString(c.Key))
		}
		if !aws.ToBool(res.IsTruncated) || res.NextContinuationToken == nil {
			break
		}
		token = res.NextContinuationToken
	}
	if out == nil {
		out = []string{}
	}
	return out, calls, nil
}

// mayHold reports whether an object dated by its key may hold events in
// [from, to): its events lie in [KeyTime-Skew, KeyTime+unit+Span).
func (s *Source) mayHold(o Object, from, to int64) bool {
	lo := o.KeyTime.Add(-s.opts.Skew)
	hi := o.KeyUnit.Next(o.KeyTime).Add(s.opts.Span)
	if to != 0 && !lo.Before(time.Unix(0, to)) {
		return false
	}
	if from != 0 && !hi.After(time.Unix(0, from)) {
		return false
	}
	return true
}

// narrow intersects planned prefixes with the URL's prefix.
func narrow(plan []string, prefix string) []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range plan {
		var q string
		switch {
		case strings.HasPrefix(p, prefix):
			q = p
		case strings.HasPrefix(prefix, p):
			q = prefix
		default:
			continue
		}
		if !seen[q] {
			seen[q] = true
			out = append(out, q)
		}
	}
	if out == nil {
		return []string{}
	}
	return out
}

func unitDuration(u s3key.Unit) time.Duration {
	switch u {
	case s3key.Second:
		return time.Second
	case s3key.Minute:
		return time.Minute
	case s3key.Hour:
		return time.Hour
	case s3key.Day:
		return 24 * time.Hour
	case s3key.Month:
		return 31 * 24 * time.Hour
	case s3key.Year:
		return 366 * 24 * time.Hour
	}
	return 0
}

// explain turns S3 errors into messages that say what to do.
func (s *Source) explain(err error, what string) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NoSuchBucket":
			return fmt.Errorf("%s: bucket %q does not exist (check the name, --s3-region and --s3-endpoint)", what, s.bucket)
		case "AccessDenied", "AllAccessDisabled", "Forbidden":
			return fmt.Errorf("%s: access denied: the credentials in use may not read this bucket or prefix (they need s3:ListBucket and s3:GetObject): %w", what, err)
		case "InvalidAccessKeyId", "XAdminUserNotFound":
			return fmt.Errorf("%s: bad credentials: the access key ID is not known to the server (check AWS_ACCESS_KEY_ID / AWS_PROFILE): %w", what, err)
		case "SignatureDoesNotMatch":
			return fmt.Errorf("%s: bad credentials: the secret key does not match the access key (check AWS_SECRET_ACCESS_KEY): %w", what, err)
		case "ExpiredToken", "TokenRefreshRequired", "InvalidToken":
			return fmt.Errorf("%s: the session token is expired or invalid (refresh the credentials, e.g. aws sso login): %w", what, err)
		case "PreconditionFailed":
			return fmt.Errorf("%s: the object changed while it was being read (its ETag no longer matches the listing): read it again: %w", what, err)
		case "PermanentRedirect", "AuthorizationHeaderMalformed":
			return fmt.Errorf("%s: the bucket is in another region (set --s3-region): %w", what, err)
		}
	}
	if strings.Contains(err.Error(), "failed to retrieve credentials") || strings.Contains(err.Error(), "no EC2 IMDS role found") {
		return fmt.Errorf("%s: no AWS credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or pass --s3-anonymous for a public bucket): %w", what, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// fatal reports whether an object error should stop the whole read
// (credentials are wrong for every object) rather than be reported for
// that object alone.
func fatal(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "InvalidAccessKeyId", "XAdminUserNotFound", "SignatureDoesNotMatch", "ExpiredToken", "TokenRefreshRequired", "InvalidToken", "NoSuchBucket":
			return true
		}
	}
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		strings.Contains(err.Error(), "failed to retrieve credentials")
}

// archivedState reports a GetObject refused because the object must be
// restored first (GLACIER, DEEP_ARCHIVE, archive tiers of INTELLIGENT_TIERING).
func archivedState(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "InvalidObjectState"
}

func restoreMessage(o Object) string {
	class := o.StorageClass
	if class == "" {
		class = "an archive tier"
	}
	return fmt.Sprintf("object is in storage class %s: restore it first (aws s3api restore-object --key %s ...), then read again", class, o.Key)
}

var _ data.Source = (*Source)(nil)

// errReader wraps an io.Reader so read errors name the object.
type errReader struct {
	r    io.Reader
	name string
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.ErrUnexpectedEOF {
		err = fmt.Errorf("read %s: truncated (unexpected EOF)", e.name)
	} else if err != nil && err != io.EOF {
		err = fmt.Errorf("read %s: %w", e.name, err)
	}
	return n, err
}

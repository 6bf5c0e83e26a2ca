// Package s3 reads audit events from S3 archives (s3://bucket/prefix/),
// such as those Fluent Bit's s3 output and audittui's ship S3 sink write.
//
// Reading lists only the key prefixes that a time window needs (planned
// from the archive's S3_key_format, see package s3key), skips keys whose
// time falls outside the window without downloading them, fetches the
// remaining objects as a time merge reaches them (bounded), decompresses
// them by their magic bytes (gzip, zstd, or plain), decodes them with
// data.Decoder and merges them into time order.
//
// Listing: the window, widened by Span before (an object holds events from
// its key time to its key time plus the writer's upload timeout) and
// KeyLag after (a Fluent Bit key carries the time its tail read the first
// record, which trails the events after a restart or a Mem_Buf_Limit
// pause), becomes hour, day or month prefixes (s3key.Plan). A format whose
// prefix stops at a per-stream variable (CLUSTER_NAME not given by the
// s3:// URL, $TAG) is first listed with the delimiter "/" to find the
// clusters or tags, then planned for each. Keys whose time cannot hold
// events of the window are skipped without a GET (Notice says how many,
// and by which assumption); keys that do not follow the format, under
// the URL's prefix but beside the format's (s3://bucket/ with node files
// copied under case-4711/, a Firehose layout), are listed whole and read
// whole (their events are still filtered by time). A listing that finds
// nothing says so.
//
// Fetching: objects are the inputs of a time merge (data.MergeStreams):
// each is fetched when the merge reaches the time its events start (its
// key time less Skew; for a key without a time, the first event of its
// head, fetched for that), and Concurrency more are fetched ahead, so
// memory holds the objects that overlap in time, not the archive. Each
// object goes through its own decoder; of the objects of RangeThreshold
// bytes or more read at once, one is fetched as parallel range requests
// pinned to the listed ETag (If-Match).
//
// Time order: an object's events are passed on once the object has moved
// Skew past them, sorted; the merge interleaves the objects. The output is
// exactly in time order when each object's events are in order within
// Skew and no event precedes its object's key time by more than Skew,
// which holds for Fluent Bit and the ship sink (keys carry the first
// record's time); an object read for a window that holds events older
// than its key by more than KeyLag is warned about (later keys may hold
// events of the window).
//
// Problems with one object (archived storage class, a corrupt gzip, binary
// content, rejected once, a line that is not an audit event) are reported
// as data.Reject with the object's s3:// URL and line, and the read goes
// on; bad credentials, a missing bucket or access denied on the listing
// stop it with a message that says what to check.
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
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/s3/s3key"
	"github.com/audittui/audittui/internal/plural"
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
	// Skew is how far out of order the events inside one object may be,
	// and how much earlier than its key time an object's events are taken
	// to start when objects are merged: an event is held until its object
	// has moved this far past it (in event time). 0 means DefaultSkew.
	Skew time.Duration
	// KeyLag is how much older than its key time an object's events may
	// be: Fluent Bit's key carries the time its tail read the first
	// record, which trails the events after a restart or while the input
	// is paused (Mem_Buf_Limit). A window lists the objects keyed up to
	// its end plus KeyLag. 0 means DefaultKeyLag; it is never less than
	// Skew.
	KeyLag time.Duration
	// Notice, if set, receives what a read should tell the user (one line,
	// without "audittui: "): keys a window left out by the time in their
	// key, a prefix that holds no object, an object whose events are older
	// than its key by more than KeyLag. Each kind is said once per Source.
	Notice func(string)
	// Quiet keeps the listing's informational notice (keys a window left
	// out by their time, as asked) from Notice; what may explain missing
	// events (no object found, an object older than its key) still goes.
	Quiet bool
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
	// Labels are more stream labels of every object (--label): a job
	// among them replaces job="audit"; filename and cluster are not
	// taken from here.
	Labels data.Labels
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
	DefaultSpan = 15 * time.Minute
	DefaultSkew = 2 * time.Minute
	// DefaultKeyLag: a tail paused by Mem_Buf_Limit resumes once the s3
	// output has uploaded its buffer, at the latest at Upload_timeout
	// (10m in Fluent Bit's defaults); 15m covers that plus margin, at the
	// cost of listing and fetching 15m of objects past a window's end.
	DefaultKeyLag      = 15 * time.Minute
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

	noticeMu sync.Mutex
	noticed  map[string]bool
}

// notice passes msg to Options.Notice, the first of each kind only (a
// metric query reads a source twice).
func (s *Source) notice(kind, msg string) {
	if s.opts.Notice == nil || (s.opts.Quiet && kind == "skipped") {
		return
	}
	s.noticeMu.Lock()
	seen := s.noticed[kind]
	if s.noticed == nil {
		s.noticed = map[string]bool{}
	}
	s.noticed[kind] = true
	s.noticeMu.Unlock()
	if !seen {
		s.opts.Notice(msg)
	}
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
	if opts.KeyLag <= 0 {
		opts.KeyLag = DefaultKeyLag
	}
	opts.KeyLag = max(opts.KeyLag, opts.Skew)
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
	// Listed counts the keys the listing returned (folder markers
	// included).
	Listed int
	// Objects to read, sorted by key time then key (undated keys first).
	Objects []Object
	// Archived objects (GLACIER, DEEP_ARCHIVE) in the window: not readable
	// until restored.
	Archived []Object
	// Skipped counts keys outside the window (not downloaded): SkippedAfter
	// of them keyed KeyLag or more after its end, the others keyed so that
	// their unit plus Span ended before its start.
	Skipped, SkippedAfter int
}

// List lists the objects that may hold events in [from, to) (Unix nanos,
// 0 = open). The keys under the URL's prefix that follow the key format
// are listed by the prefixes the window needs; those that do not (a
// copy of node files beside the archive, another writer's layout) are
// listed whole and read whole. What a read should know of the listing
// (no object found, keys left out by their time) goes to Notice.
func (s *Source) List(ctx context.Context, from, to int64) (*Listing, error) {
	l := &Listing{}
	prefixes := []string{s.prefix}
	var beside []types.Object
	if s.format != nil {
		var err error
		var calls int
		prefixes, beside, calls, err = s.outside(ctx, s.format.LiteralPrefix())
		l.ListCalls += calls
		if err != nil {
			return nil, err
		}
	}
	if s.format != nil && s.format.Unit() != s3key.Unknown {
		unit := unitDuration(s.format.Unit())
		var wFrom, wTo time.Time
		if from != 0 {
			wFrom = time.Unix(0, from).UTC().Add(-s.opts.Span - unit)
		}
		if to != 0 {
			wTo = time.Unix(0, to).UTC().Add(s.opts.KeyLag)
		} else if from != 0 {
			// Archives hold no future events: plan up to now.
			wTo = time.Now().UTC().Add(s.opts.KeyLag)
		}
		planned, calls, err := s.plan(ctx, s.format, wFrom, wTo, 0)
		l.ListCalls += calls
		if err != nil {
			return nil, err
		}
		prefixes = append(planned, prefixes...)
	} else if s.format != nil {
		prefixes = append(narrow([]string{s.format.LiteralPrefix()}, s.prefix), prefixes...)
	}
	l.Prefixes = prefixes
	add := func(c types.Object) {
		l.Listed++
		o := Object{Key: aws.ToString(c.Key), ETag: strings.Trim(aws.ToString(c.ETag), `"`),
			Size: aws.ToInt64(c.Size), StorageClass: string(c.StorageClass), LastModified: aws.ToTime(c.LastModified)}
		if strings.HasSuffix(o.Key, "/") && o.Size == 0 {
			return // a folder marker
		}
		if s.format != nil {
			if kt, unit, ok := s.format.TimeOf(o.Key); ok {
				o.KeyTime, o.KeyUnit = kt, unit
				if ok, after := s.mayHold(o, from, to); !ok {
					l.Skipped++
					if after {
						l.SkippedAfter++
					}
					return
				}
			}
		}
		if o.Archived() {
			l.Archived = append(l.Archived, o)
			return
		}
		l.Objects = append(l.Objects, o)
	}
	for _, c := range beside {
		add(c)
	}
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
				add(c)
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
	s.noticeListing(l, from, to)
	return l, nil
}

// Stat finds the object at key, whatever its time (one ListObjectsV2 of
// that prefix, at most one key): found is false when there is none.
func (s *Source) Stat(ctx context.Context, key string) (o Object, found bool, err error) {
	out, err := s.client.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{Bucket: aws.String(s.bucket), Prefix: aws.String(key), MaxKeys: aws.Int32(1)})
	if err != nil {
		return Object{}, false, s.explain(err, "list s3://"+s.bucket+"/"+key)
	}
	for _, c := range out.Contents {
		if aws.ToString(c.Key) == key {
			return Object{Key: key, ETag: strings.Trim(aws.ToString(c.ETag), `"`), Size: aws.ToInt64(c.Size),
				StorageClass: string(c.StorageClass), LastModified: aws.ToTime(c.LastModified)}, true, nil
		}
	}
	return Object{}, false, nil
}

// noticeListing says what a listing left out, or that it found nothing.
func (s *Source) noticeListing(l *Listing, from, to int64) {
	if l.Skipped > 0 {
		var parts []string
		if n := l.Skipped - l.SkippedAfter; n > 0 {
			parts = append(parts, fmt.Sprintf("%d whose time unit ended more than --s3-object-span %s before the window (%s)",
				n, shortDur(s.opts.Span), time.Unix(0, from).UTC().Format(time.RFC3339)))
		}
		if l.SkippedAfter > 0 {
			parts = append(parts, fmt.Sprintf("%d keyed --s3-key-lag %s or more after its end (%s)",
				l.SkippedAfter, shortDur(s.opts.KeyLag), time.Unix(0, to).UTC().Format(time.RFC3339)))
		}
		s.notice("skipped", fmt.Sprintf("%s: %d of the %d keys listed were not read, by the time in their key: %s",
			s.String(), l.Skipped, l.Listed, strings.Join(parts, " and ")))
	}
	if len(l.Objects)+len(l.Archived)+l.Skipped > 0 {
		return
	}
	var where string
	switch n := len(l.Prefixes); {
	case n == 0:
		where = "the window leaves no prefix to list"
	case n == 1:
		where = fmt.Sprintf("s3://%s/%s holds %s that could be read", s.bucket, l.Prefixes[0], plural.Count(l.Listed, "key", "keys"))
	default:
		where = fmt.Sprintf("the %d prefixes listed for the window (s3://%s/%s ... %s) hold %s that could be read",
			n, s.bucket, l.Prefixes[0], l.Prefixes[n-1], plural.Count(l.Listed, "key", "keys"))
	}
	if (from != 0 || to != 0) && s.format != nil && s.format.Unit() != s3key.Unknown {
		where += fmt.Sprintf(" (objects are taken to hold events from --s3-key-lag %s before the time in their key to --s3-object-span %s after it)",
			shortDur(s.opts.KeyLag), shortDur(s.opts.Span))
	}
	s.notice("empty", fmt.Sprintf("%s: no object found: %s", s.String(), where))
}

// outside finds what lies under the URL's prefix but outside the key
// format's literal prefix lit (s3://bucket/ with the default format: every
// folder but audit-logs/): the prefixes to list whole and the keys beside
// them, with one delimiter LIST per folder on the way to lit. It returns
// the URL's prefix itself when the format does not narrow it.
func (s *Source) outside(ctx context.Context, lit string) (prefixes []string, keys []types.Object, calls int, err error) {
	if !strings.HasPrefix(lit, s.prefix) || lit == s.prefix {
		return nil, nil, 0, nil
	}
	todo := []string{s.prefix}
	for len(todo) > 0 {
		p := todo[0]
		todo = todo[1:]
		var token *string
		for {
			out, err := s.client.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{Bucket: aws.String(s.bucket), Prefix: aws.String(p),
				Delimiter: aws.String("/"), ContinuationToken: token})
			calls++
			if err != nil {
				return nil, nil, calls, s.explain(err, "list s3://"+s.bucket+"/"+p)
			}
			for _, cp := range out.CommonPrefixes {
				switch q := aws.ToString(cp.Prefix); {
				case strings.HasPrefix(q, lit):
					// The format's keys: listed by the plan.
				case strings.HasPrefix(lit, q):
					todo = append(todo, q)
				default:
					prefixes = append(prefixes, q)
				}
			}
			for _, c := range out.Contents {
				if !strings.HasPrefix(aws.ToString(c.Key), lit) {
					keys = append(keys, c)
				}
			}
			if !aws.ToBool(out.IsTruncated) || out.NextContinuationToken == nil {
				break
			}
			token = out.NextContinuationToken
		}
	}
	if prefixes == nil {
		prefixes = []string{}
	}
	return prefixes, keys, calls, nil
}

// shortDur writes d as a flag is written: 15m, 1h30m, 90s as 1m30s.
func shortDur(d time.Duration) string {
	d = d.Round(time.Second)
	out := d.String()
	if strings.HasSuffix(out, "m0s") {
		out = strings.TrimSuffix(out, "0s")
	}
	if strings.HasSuffix(out, "h0m") {
		out = strings.TrimSuffix(out, "0m")
	}
	return out
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
// [from, to): its events lie in [KeyTime-KeyLag, KeyTime+unit+Span).
// after tells, when it may not, that it is keyed after the window.
func (s *Source) mayHold(o Object, from, to int64) (ok, after bool) {
	lo := o.KeyTime.Add(-s.opts.KeyLag)
	hi := o.KeyUnit.Next(o.KeyTime).Add(s.opts.Span)
	if to != 0 && !lo.Before(time.Unix(0, to)) {
		return false, true
	}
	if from != 0 && !hi.After(time.Unix(0, from)) {
		return false, false
	}
	return true, false
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

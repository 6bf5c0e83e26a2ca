package source

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/audittui/audittui/internal/data"
	s3src "github.com/audittui/audittui/internal/data/source/s3"
	"github.com/audittui/audittui/internal/data/source/s3/s3key"
	"github.com/audittui/audittui/internal/termsafe"
)

// S3 resolves s3://bucket/prefix/ sources.
type S3 struct {
	opts        *Options
	cluster     *string
	labels      *data.Labels // --label (set by the Set)
	endpoint    string
	region      string
	pathStyle   bool
	anonymous   bool
	keyFormat   string
	span        time.Duration
	keyLag      time.Duration
	concurrency int
	progress    bool
}

func newS3(fs *pflag.FlagSet, opts *Options, cluster *string) *S3 {
	k := &S3{opts: opts, cluster: cluster}
	fs.StringVar(&k.endpoint, "s3-endpoint", "", "S3-compatible endpoint URL for s3:// sources, e.g. http://127.0.0.1:7070 (default: AWS, or AWS_ENDPOINT_URL_S3)")
	fs.StringVar(&k.region, "s3-region", "", "S3 region (default: AWS_REGION or the profile's, else us-east-1)")
	fs.BoolVar(&k.pathStyle, "s3-path-style", false, "use path-style S3 addressing (on by itself for IP and localhost endpoints)")
	fs.BoolVar(&k.anonymous, "s3-anonymous", false, "send unsigned S3 requests (public buckets); otherwise the AWS default credential chain is used")
	fs.StringVar(&k.keyFormat, "key-format", s3key.DefaultFormat, "S3_key_format the archive was written with (Fluent Bit syntax); turns the time window into the key prefixes to list. ${VAR}s match any value: the s3:// prefix narrows them")
	fs.DurationVar(&k.span, "s3-object-span", s3src.DefaultSpan, "longest time an S3 object covers after the time in its key (the writer's Upload_timeout plus margin)")
	fs.DurationVar(&k.keyLag, "s3-key-lag", s3src.DefaultKeyLag, "how much older than the time in its key an S3 object's events may be (Fluent Bit keys carry the time its tail read the first record, which trails the events after a restart or a Mem_Buf_Limit pause): a window reads the objects keyed up to this long after its end")
	fs.IntVar(&k.concurrency, "s3-concurrency", s3src.DefaultConcurrency, "S3 objects fetched in parallel")
	fs.BoolVar(&k.progress, "s3-progress", false, "print S3 download progress (objects, bytes, rate, ETA) on stderr")
	return k
}

func (k *S3) match(arg string) bool { return strings.HasPrefix(arg, "s3://") }

func (k *S3) defaultSource(context.Context) (data.Source, bool, error) { return nil, false, nil }

// parseKeyFormat parses --key-format for reading. Its ${VAR}s match any
// value whatever the environment says: the s3:// URL sets the scope
// (s3://b/audit-logs/prod/ binds CLUSTER_NAME to prod; s3://b/ reads every
// cluster, found with one delimiter listing).
func parseKeyFormat(format string) (*s3key.Format, error) {
	f, err := s3key.Parse(format, s3key.ParseOptions{UnsetAsWildcard: true,
		LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		return nil, fmt.Errorf("--key-format: %w", err)
	}
	return f, nil
}

func (k *S3) open(ctx context.Context, arg string) (data.Source, error) {
	opts := s3src.Options{
		Config:      s3src.ClientConfig{Endpoint: k.endpoint, Region: k.region, PathStyle: k.pathStyle, Anonymous: k.anonymous},
		Span:        k.span,
		KeyLag:      k.keyLag,
		Concurrency: k.concurrency,
		Cluster:     *k.cluster,
		Client:      k.opts.S3Client,
		Notice:      noticePrinter(k.opts.stderr()),
		Quiet:       k.opts.Quiet,
		OnObject:    k.opts.OnS3Object,
	}
	if k.labels != nil {
		opts.Labels = append(data.Labels(nil), (*k.labels)...)
		if opts.Cluster == "" {
			opts.Cluster, _ = opts.Labels.Get("cluster")
		}
	}
	if k.keyFormat != "" {
		f, err := parseKeyFormat(k.keyFormat)
		if err != nil {
			return nil, err
		}
		opts.KeyFormat = f
	}
	if k.progress {
		opts.Progress = progressPrinter(k.opts.stderr(), arg)
		opts.Logger = slog.New(slog.NewTextHandler(k.opts.stderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return s3src.New(ctx, arg, opts)
}

// noticePrinter prints what an S3 read says of its listing (keys left out
// by their time, a prefix without objects) on w, as one line each.
func noticePrinter(w io.Writer) func(string) {
	var mu sync.Mutex
	return func(msg string) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(w, "audittui: %s\n", termsafe.String(msg))
	}
}

// progressPrinter prints a progress line at most once a second, and the
// last one when every object is read.
func progressPrinter(w io.Writer, name string) func(s3src.Progress) {
	var mu sync.Mutex
	var last time.Time
	return func(p s3src.Progress) {
		mu.Lock()
		defer mu.Unlock()
		done := p.Objects == p.ObjectsTotal
		if !done && time.Since(last) < time.Second {
			return
		}
		last = time.Now()
		fmt.Fprintf(w, "audittui: %s: %s\n", name, p)
	}
}

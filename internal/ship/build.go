package ship

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/loki"
	"github.com/audittui/audittui/internal/data/source/s3/s3key"
	"github.com/audittui/audittui/internal/ship/config"
	"github.com/audittui/audittui/internal/ship/lokisink"
	"github.com/audittui/audittui/internal/ship/metrics"
	"github.com/audittui/audittui/internal/ship/pipe"
	"github.com/audittui/audittui/internal/ship/s3sink"
)

func buildSinks(ctx context.Context, c *config.Config, labelNames, mdNames []string, m *metrics.Metrics, lg *slog.Logger,
	getenv func(string) (string, bool)) ([]pipe.Sink, error) {
	var sinks []pipe.Sink
	if c.Loki != nil {
		lc, err := LokiClientConfig(c.Loki, getenv)
		if err != nil {
			return nil, err
		}
		lc.Logger = lg
		client, err := loki.NewClient(lc)
		if err != nil {
			return nil, fmt.Errorf("option Loki.URL: %w", err)
		}
		s, err := lokisink.New(lokisink.Options{
			Client: client, Static: staticLabels(c), LabelNames: labelNames, MetadataNames: mdNames,
			BatchSize: int64(c.Loki.BatchSize), BatchWait: c.Loki.BatchWait.D(),
			Backoff:    loki.Backoff{Min: c.Loki.MinBackoff.D(), Max: c.Loki.MaxBackoff.D()},
			DeadLetter: c.Loki.DeadLetterFile, Metrics: m, Logger: lg.With("sink", "loki"),
		})
		if err != nil {
			return nil, err
		}
		sinks = append(sinks, s)
	}
	if c.S3 != nil {
		client, err := S3Client(ctx, c.S3)
		if err != nil {
			return nil, err
		}
		format, err := s3key.Parse(c.S3.KeyFormat, s3key.ParseOptions{LookupEnv: getenv})
		if err != nil {
			return nil, fmt.Errorf("option S3.S3_key_format: %w", err)
		}
		s, err := s3sink.New(s3sink.Options{
			Client: client, Bucket: c.S3.Bucket, Format: format, StoreDir: c.S3.StoreDir,
			TotalFileSize: int64(c.S3.TotalFileSize), UploadTimeout: c.S3.UploadTimeout.D(),
			StoreLimit: int64(c.S3.StoreDirLimitSize), Gzip: c.S3.Compression == "gzip",
			PartSize: int64(c.S3.UploadChunkSize), Metrics: m, Logger: lg.With("sink", "s3"),
		})
		if err != nil {
			return nil, err
		}
		sinks = append(sinks, s)
	}
	return sinks, nil
}

// LokiClientConfig maps the Loki options to the shared client's settings.
// Secrets come from files or the logcli environment variables
// (LOKI_USERNAME, LOKI_PASSWORD, LOKI_BEARER_TOKEN, LOKI_ORG_ID), never
// from the command line.
func LokiClientConfig(l *config.Loki, getenv func(string) (string, bool)) (loki.Config, error) {
	env := func(k string) string { v, _ := getenv(k); return v }
	lc := loki.Config{
		Addr: l.URL, TenantID: l.TenantID, Username: l.Username,
		CACertPath: l.CAFile, ClientCertPath: l.CertFile, ClientKeyPath: l.KeyFile,
		InsecureSkipVerify: l.InsecureSkipVerify, Timeout: l.Timeout.D(),
	}
	if lc.TenantID == "" {
		lc.TenantID = env("LOKI_ORG_ID")
	}
	if lc.Username == "" {
		lc.Username = env("LOKI_USERNAME")
	}
	switch {
	case l.PasswordFile != "":
		b, err := os.ReadFile(l.PasswordFile)
		if err != nil {
			return lc, fmt.Errorf("option Loki.Password_file: %w", err)
		}
		lc.Password = strings.TrimRight(string(b), "\r\n")
	default:
		lc.Password = env("LOKI_PASSWORD")
	}
	switch {
	case l.BearerTokenFile != "":
		lc.BearerTokenFile = l.BearerTokenFile
	case env("LOKI_BEARER_TOKEN_FILE") != "":
		lc.BearerTokenFile = env("LOKI_BEARER_TOKEN_FILE")
	default:
		lc.BearerToken = env("LOKI_BEARER_TOKEN")
	}
	if lc.CACertPath == "" {
		lc.CACertPath = env("LOKI_CA_CERT_PATH")
	}
	if lc.ClientCertPath == "" && lc.ClientKeyPath == "" {
		lc.ClientCertPath, lc.ClientKeyPath = env("LOKI_CLIENT_CERT_PATH"), env("LOKI_CLIENT_KEY_PATH")
	}
	return lc, nil
}

// S3Client builds an S3 client from the default AWS credential chain, the
// region and an optional S3-compatible endpoint (path-style addressing).
func S3Client(ctx context.Context, s *config.S3) (*s3.Client, error) {
	var lo []func(*awsconfig.LoadOptions) error
	if s.Region != "" {
		lo = append(lo, awsconfig.WithRegion(s.Region))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, lo...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	pathStyle := s.PathStyle != nil && *s.PathStyle
	if s.Endpoint != "" {
		u, err := url.Parse(s.Endpoint)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("option S3.Endpoint %q: not a URL", s.Endpoint)
		}
		if h := u.Hostname(); net.ParseIP(h) != nil || h == "localhost" {
			pathStyle = true
		}
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		if s.Endpoint != "" {
			o.BaseEndpoint = aws.String(s.Endpoint)
		}
		o.UsePathStyle = pathStyle
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		o.DisableLogOutputChecksumValidationSkipped = true
	}), nil
}

func nopClient() *loki.Client {
	c, _ := loki.NewClient(loki.Config{Addr: "http://127.0.0.1:1"})
	return c
}

func formatLabels(ls data.Labels) string { return loki.FormatLabels(ls) }

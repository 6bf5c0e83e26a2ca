package ship

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/loki"
	s3src "github.com/audittui/audittui/internal/data/source/s3"
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
			return nil, configErr(err)
		}
		lc.Logger = lg
		client, err := loki.NewClient(lc)
		if err != nil {
			return nil, configErr(fmt.Errorf("option Loki.URL: %s", config.RedactText(err.Error(), nil)))
		}
		s, err := lokisink.New(lokisink.Options{
			Client: client, Static: staticLabels(c), LabelNames: labelNames, MetadataNames: mdNames,
			BatchSize: int64(c.Loki.BatchSize), BatchWait: c.Loki.BatchWait.D(),
			Backoff:    loki.Backoff{Min: c.Loki.MinBackoff.D(), Max: c.Loki.MaxBackoff.D()},
			DeadLetter: c.Loki.DeadLetterFile, DeadLetterLimit: int64(c.Loki.DeadLetterLimit), MaxLineSize: int64(c.Loki.MaxLineSize), Metrics: m, Logger: lg.With("sink", "loki"),
			StoreDir: c.Loki.StoreDir, StoreLimit: int64(c.Loki.StoreDirLimitSize),
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
			return nil, configErr(fmt.Errorf("option S3.S3_key_format: %w", err))
		}
		s, err := s3sink.New(s3sink.Options{
			MinBackoff: c.S3.MinBackoff.D(), MaxBackoff: c.S3.MaxBackoff.D(),
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

// LokiClientConfig maps the Loki options to the shared client's settings
// and resolves them as the CLI does (loki.ConfigFrom): an option set in
// the config file or by a flag wins over logcli's LOKI_* variable
// (LOKI_ADDR, LOKI_ORG_ID, LOKI_USERNAME, LOKI_PASSWORD,
// LOKI_BEARER_TOKEN(_FILE), LOKI_CA_CERT_PATH, LOKI_CLIENT_CERT_PATH,
// LOKI_CLIENT_KEY_PATH, LOKI_TLS_SKIP_VERIFY), which wins over the
// default. Secrets come from files or the environment, never from the
// command line.
func LokiClientConfig(l *config.Loki, getenv func(string) (string, bool)) (loki.Config, error) {
	lc, err := loki.ConfigFrom(loki.Settings{
		Addr: l.URL, OrgID: l.TenantID, Username: l.Username,
		PasswordFile: l.PasswordFile, BearerTokenFile: l.BearerTokenFile,
		CACertPath: l.CAFile, ClientCertPath: l.CertFile, ClientKeyPath: l.KeyFile,
		TLSSkipVerify: l.InsecureSkipVerify, Timeout: l.Timeout.D(),
	}, getenv)
	var pe *fs.PathError
	switch {
	case errors.As(err, &pe):
		return lc, fmt.Errorf("option Loki.Password_file: %w", err)
	case err != nil:
		return lc, fmt.Errorf("option Loki: %w", err)
	}
	return lc, nil
}

// S3Client builds the sink's S3 client with the constructor the S3 source
// uses: the default AWS credential chain, the region, an optional
// S3-compatible endpoint (path-style addressing by default with one), and
// the SDK's retries: Retry_limit attempts per request, waits capped by
// Max_backoff.
func S3Client(ctx context.Context, s *config.S3) (*s3.Client, error) {
	return s3src.NewClient(ctx, s3src.ClientConfig{Region: s.Region, Endpoint: s.Endpoint, PathStyle: s.PathStyle != nil && *s.PathStyle,
		MaxAttempts: s.RetryLimit, MaxBackoff: s.MaxBackoff.D()})
}

func nopClient() *loki.Client {
	c, _ := loki.NewClient(loki.Config{Addr: "http://127.0.0.1:1"})
	return c
}

func formatLabels(ls data.Labels) string { return loki.FormatLabels(ls) }

package s3

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
)

// ClientConfig says how to reach S3 or an S3-compatible store. The S3
// source and ship's S3 sink build their clients from it with NewClient.
type ClientConfig struct {
	// Region; "" uses the default chain (AWS_REGION, the profile's), else
	// us-east-1.
	Region string
	// Endpoint is an S3-compatible endpoint URL (http://127.0.0.1:7070);
	// "" uses AWS (or AWS_ENDPOINT_URL_S3).
	Endpoint string
	// PathStyle forces path-style addressing (http://host/bucket/key). It
	// is on by itself for endpoints that are IP addresses or localhost,
	// where virtual-host addressing cannot work.
	PathStyle bool
	// Anonymous sends unsigned requests (public buckets). Otherwise the
	// AWS default credential chain is used: environment, shared config
	// and profile, web identity (IRSA), container and instance roles.
	Anonymous bool
	// MaxAttempts bounds the tries of one request, MaxBackoff the delay
	// between two (the SDK's standard retryer: exponential backoff with
	// jitter, on throttling and transient errors). 0 keeps the SDK's
	// defaults (3 attempts, 20 s).
	MaxAttempts int
	MaxBackoff  time.Duration
}

// NewClient builds an S3 client. Checksums are computed and validated
// only where the API requires them, as S3-compatible stores differ in
// their support. Nothing is sent: a wrong endpoint or missing credentials
// show on the first request.
func NewClient(ctx context.Context, c ClientConfig) (*awss3.Client, error) {
	pathStyle := c.PathStyle
	if c.Endpoint != "" {
		u, err := url.Parse(c.Endpoint)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, fmt.Errorf("S3 endpoint %q: want a URL such as http://127.0.0.1:7070", c.Endpoint)
		}
		if h := u.Hostname(); net.ParseIP(h) != nil || h == "localhost" {
			pathStyle = true
		}
	}
	var lo []func(*config.LoadOptions) error
	if c.Region != "" {
		lo = append(lo, config.WithRegion(c.Region))
	}
	if c.MaxAttempts > 0 || c.MaxBackoff > 0 {
		lo = append(lo, config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				if c.MaxAttempts > 0 {
					o.MaxAttempts = c.MaxAttempts
				}
				if c.MaxBackoff > 0 {
					o.MaxBackoff = c.MaxBackoff
				}
			})
		}))
	}
	cfg, err := config.LoadDefaultConfig(ctx, lo...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if c.Anonymous {
		cfg.Credentials = aws.AnonymousCredentials{}
	}
	return awss3.NewFromConfig(cfg, func(o *awss3.Options) {
		if c.Endpoint != "" {
			o.BaseEndpoint = aws.String(c.Endpoint)
		}
		o.UsePathStyle = pathStyle
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		o.DisableLogOutputChecksumValidationSkipped = true
	}), nil
}

package s3

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func TestNewClient(t *testing.T) {
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_ACCESS_KEY_ID", "id")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	ctx := context.Background()

	c, err := NewClient(ctx, ClientConfig{Endpoint: "http://127.0.0.1:7070"})
	if err != nil {
		t.Fatal(err)
	}
	o := c.Options()
	if !o.UsePathStyle || aws.ToString(o.BaseEndpoint) != "http://127.0.0.1:7070" || o.Region != "us-east-1" ||
		o.RequestChecksumCalculation != aws.RequestChecksumCalculationWhenRequired {
		t.Errorf("IP endpoint: path style %v, endpoint %v, region %q", o.UsePathStyle, aws.ToString(o.BaseEndpoint), o.Region)
	}
	if creds, err := o.Credentials.Retrieve(ctx); err != nil || creds.AccessKeyID != "id" {
		t.Errorf("default chain: %v %v", creds.AccessKeyID, err)
	}
	c, _ = NewClient(ctx, ClientConfig{Endpoint: "https://s3.example.com", Region: "eu-west-1"})
	if o := c.Options(); o.UsePathStyle || o.Region != "eu-west-1" {
		t.Errorf("named endpoint: path style %v, region %q", o.UsePathStyle, o.Region)
	}
	c, _ = NewClient(ctx, ClientConfig{Endpoint: "https://s3.example.com", PathStyle: true, Anonymous: true, MaxAttempts: 7, MaxBackoff: 3 * time.Second})
	o = c.Options()
	if !o.UsePathStyle || o.Retryer.MaxAttempts() != 7 {
		t.Errorf("path style %v, attempts %d", o.UsePathStyle, o.Retryer.MaxAttempts())
	}
	if o.Credentials != nil { // the SDK signs nothing without a provider
		t.Errorf("anonymous: credentials %T", o.Credentials)
	}
	if _, err := NewClient(ctx, ClientConfig{Endpoint: "127.0.0.1:7070"}); err == nil || !strings.Contains(err.Error(), "want a URL") {
		t.Errorf("endpoint without scheme: %v", err)
	}
}

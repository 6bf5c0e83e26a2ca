package source

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/file"
	"github.com/audittui/audittui/internal/data/source/loki"
	s3src "github.com/audittui/audittui/internal/data/source/s3"
	"github.com/audittui/audittui/internal/data/source/s3/s3test"
)

// newSet binds a Set to a fresh flag set, parses args and reads the LOKI_*
// variables from env only.
func newSet(t *testing.T, env map[string]string, opts Options, args ...string) *Set {
	t.Helper()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	opts.Getenv = func(n string) (string, bool) { v, ok := env[n]; return v, ok }
	s := New(fs, opts)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLokiConfigFromLogcliEnvironment(t *testing.T) {
	env := map[string]string{
		"LOKI_ADDR":              "http://env:3100",
		"LOKI_ORG_ID":            "a|b",
		"LOKI_USERNAME":          "alice",
		"LOKI_PASSWORD":          "pw",
		"LOKI_BEARER_TOKEN_FILE": "/env/token",
		"LOKI_CA_CERT_PATH":      "/env/ca.pem",
		"LOKI_CLIENT_CERT_PATH":  "/env/cert.pem",
		"LOKI_CLIENT_KEY_PATH":   "/env/key.pem",
		"LOKI_TLS_SKIP_VERIFY":   "true",
	}
	k := newSet(t, env, Options{}).Loki()
	if k.Addr() != "http://env:3100" {
		t.Errorf("addr = %q", k.Addr())
	}
	cfg, err := k.Config(k.Addr())
	if err != nil {
		t.Fatal(err)
	}
	want := loki.Config{Addr: "http://env:3100", TenantID: "a|b", Username: "alice", Password: "pw", BearerTokenFile: "/env/token",
		CACertPath: "/env/ca.pem", ClientCertPath: "/env/cert.pem", ClientKeyPath: "/env/key.pem", InsecureSkipVerify: true,
		Timeout: loki.DefaultTimeout, UserAgent: "audittui"}
	if cfg.Addr != want.Addr || cfg.TenantID != want.TenantID || cfg.Username != want.Username || cfg.Password != want.Password ||
		cfg.BearerTokenFile != want.BearerTokenFile || cfg.CACertPath != want.CACertPath || cfg.ClientCertPath != want.ClientCertPath ||
		cfg.ClientKeyPath != want.ClientKeyPath || cfg.InsecureSkipVerify != want.InsecureSkipVerify || cfg.Timeout != want.Timeout ||
		cfg.UserAgent != want.UserAgent {
		t.Errorf("config = %+v", cfg)
	}

	// Flags win over the environment.
	k = newSet(t, env, Options{}, "--loki-addr", "https://flag", "--loki-org-id", "t1", "--loki-tls-skip-verify=false",
		"--loki-ca-cert", "/flag/ca.pem", "--loki-bearer-token-file", "/flag/token").Loki()
	cfg, _ = k.Config(k.Addr())
	if cfg.Addr != "https://flag" || cfg.TenantID != "t1" || cfg.InsecureSkipVerify || cfg.CACertPath != "/flag/ca.pem" ||
		cfg.BearerTokenFile != "/flag/token" || cfg.Username != "alice" {
		t.Errorf("flags: %+v", cfg)
	}

	if _, err := newSet(t, map[string]string{"LOKI_TLS_SKIP_VERIFY": "maybe"}, Options{}).Loki().Config("h"); err == nil {
		t.Error("bad LOKI_TLS_SKIP_VERIFY accepted")
	}
	if _, err := newSet(t, nil, Options{}, "--loki-batch", "0").Loki().Config("h"); err == nil {
		t.Error("--loki-batch 0 accepted")
	}
}

func TestLokiMatch(t *testing.T) {
	k := newSet(t, nil, Options{}).Loki()
	for arg, want := range map[string]bool{"loki://h:3100": true, "lokis://h": true, "http://h:3100": true, "https://h/prefix": true,
		"audit.log": false, "s3://b/": false, "./loki://x": false} {
		if k.match(arg) != want {
			t.Errorf("match(%q) = %v", arg, !want)
		}
	}
}

func mkEvent(id string, t time.Time) string {
	return `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"` + id +
		`","stage":"ResponseComplete","verb":"get","user":{"username":"u"},"stageTimestamp":"` + t.UTC().Format(time.RFC3339Nano) + `"}`
}

func readAll(t *testing.T, srcs []data.Source) []data.Event {
	t.Helper()
	st, err := data.OpenAll(context.Background(), srcs, data.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var evs []data.Event
	for {
		b, err := st.Next(context.Background())
		if errors.Is(err, io.EOF) {
			return evs
		}
		if err != nil {
			t.Fatal(err)
		}
		for i := range b.Events {
			evs = append(evs, b.Events[i].Clone())
		}
	}
}

func TestResolveKinds(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	os.WriteFile(filepath.Join(dir, "a.log"), []byte(mkEvent("a", t0)+"\n"), 0o644)
	stdin := strings.NewReader(mkEvent("s", t0.Add(time.Second)) + "\n")
	s := newSet(t, nil, Options{Stdin: stdin}, "--cluster", "prod")
	srcs, ok, err := s.Resolve(context.Background(), []string{filepath.Join(dir, "a.log"), "-", "loki://h:3100", "s3://bucket/p/"})
	if err != nil || !ok || len(srcs) != 4 {
		t.Fatalf("resolve: %v %v %v", srcs, ok, err)
	}
	if _, isFile := srcs[0].(*file.Source); !isFile {
		t.Errorf("file source %T", srcs[0])
	}
	if _, isLoki := srcs[2].(*loki.Source); !isLoki {
		t.Errorf("loki source %T", srcs[2])
	}
	if s3, isS3 := srcs[3].(*s3src.Source); !isS3 || s3.Bucket() != "bucket" {
		t.Errorf("s3 source %T", srcs[3])
	}
	// Files and stdin carry the --cluster label.
	evs := readAll(t, srcs[:2])
	if len(evs) != 2 || evs[0].AuditID != "a" || evs[1].AuditID != "s" {
		t.Fatalf("events %v", evs)
	}
	for _, e := range evs {
		if c, _ := e.StreamLabel("cluster"); c != "prod" {
			t.Errorf("%s: cluster label %q", e.AuditID, c)
		}
	}
	// No argument, no LOKI_ADDR: no default.
	if _, ok, err := s.Resolve(context.Background(), nil); ok || err != nil {
		t.Errorf("default without LOKI_ADDR: %v %v", ok, err)
	}
}

func TestResolveErrorsAreArgErrors(t *testing.T) {
	s := newSet(t, nil, Options{}, "--key-format", "%Q")
	for _, arg := range []string{"loki://", filepath.Join(t.TempDir(), "missing.log"), "s3:///nobucket", "s3://b/x"} {
		_, _, err := s.Resolve(context.Background(), []string{arg})
		var ae *ArgError
		if !errors.As(err, &ae) || ae.Arg != arg {
			t.Errorf("%s: %v (%T)", arg, err, err)
		}
		if arg == "s3://b/x" && !strings.Contains(err.Error(), "--key-format") {
			t.Errorf("bad --key-format: %v", err)
		}
	}
	// A bad default source is a usage error too.
	s = newSet(t, map[string]string{"LOKI_ADDR": "ftp://x"}, Options{})
	_, _, err := s.Resolve(context.Background(), nil)
	var ae *ArgError
	if !errors.As(err, &ae) || !strings.Contains(err.Error(), "scheme") {
		t.Errorf("bad LOKI_ADDR: %v", err)
	}
}

// Each Set has its own flags and options: there is no shared state.
func TestSetsAreIndependent(t *testing.T) {
	a := newSet(t, map[string]string{"LOKI_ADDR": "http://a:3100"}, Options{}, "--loki-org-id", "ta", "--cluster", "ca")
	b := newSet(t, nil, Options{}, "--loki-addr", "http://b:3100")
	if a.Loki().Addr() != "http://a:3100" || b.Loki().Addr() != "http://b:3100" || a.Cluster() != "ca" || b.Cluster() != "" {
		t.Fatalf("a: %s %s; b: %s %s", a.Loki().Addr(), a.Cluster(), b.Loki().Addr(), b.Cluster())
	}
	ca, _ := a.Loki().Config("")
	cb, _ := b.Loki().Config("")
	if ca.TenantID != "ta" || cb.TenantID != "" {
		t.Errorf("tenants %q %q", ca.TenantID, cb.TenantID)
	}
}

func TestS3FlagsAndProgress(t *testing.T) {
	fake := s3test.NewFake(t)
	t0 := time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC)
	s3test.CreateBucket(context.Background(), t, fake.Client, "bkt")
	body := []byte(mkEvent("o1", t0) + "\n")
	s3test.Put(context.Background(), t, fake.Client, "bkt", "audit-logs/c1/2026/02/10/00/00/00-x.json", body, "")
	var stderr bytes.Buffer
	// OnS3Object gets each object read, with the sha256 of its bytes.
	var digests []s3src.Digest
	s := newSet(t, nil, Options{S3Client: fake.Client, Stderr: &stderr, OnS3Object: func(d s3src.Digest) { digests = append(digests, d) }}, "--s3-progress", "--cluster", "c1")
	srcs, _, err := s.Resolve(context.Background(), []string{"s3://bkt/audit-logs/c1/"})
	if err != nil {
		t.Fatal(err)
	}
	evs := readAll(t, srcs)
	if len(evs) != 1 || evs[0].AuditID != "o1" {
		t.Fatalf("events %v", evs)
	}
	if c, _ := evs[0].StreamLabel("cluster"); c != "c1" {
		t.Errorf("cluster label %q", c)
	}
	if sum := sha256.Sum256(body); len(digests) != 1 || digests[0].SHA256 != hex.EncodeToString(sum[:]) || digests[0].URL != "s3://bkt/audit-logs/c1/2026/02/10/00/00/00-x.json" {
		t.Errorf("digests %+v", digests)
	}
	if !strings.Contains(stderr.String(), "audittui: s3://bkt/audit-logs/c1/: 1/1 objects") {
		t.Errorf("progress: %q", stderr.String())
	}
}

// Package loki is audittui's client for Grafana Loki's HTTP API: push
// (protobuf+snappy or JSON), query_range and query (with logcli-style
// pagination and parallel range splitting), labels, series, index stats and
// the live-tail websocket. It follows the documented HTTP API only; no Loki
// code is used. One HTTP layer (auth, TLS, tenant, user agent, timeouts,
// retries) serves both the query side and ship's push sink, and one
// resolution of its settings (ConfigFrom: explicit setting > logcli's
// LOKI_* variable > default) serves both the CLI and ship. Source is the
// data.Source over it: the parsed query is pushed down to the server.
package loki

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
)

// API paths, relative to the base address.
const (
	PathPush       = "/loki/api/v1/push"
	PathQuery      = "/loki/api/v1/query"
	PathQueryRange = "/loki/api/v1/query_range"
	PathLabels     = "/loki/api/v1/labels"
	PathSeries     = "/loki/api/v1/series"
	PathIndexStats = "/loki/api/v1/index/stats"
	PathTail       = "/loki/api/v1/tail"
)

// DefaultUserAgent is sent when Config.UserAgent is empty.
const DefaultUserAgent = "audittui"

// DefaultTimeout bounds one HTTP request when Config.Timeout is zero.
const DefaultTimeout = 60 * time.Second

// maxErrorBody bounds how much of an error response body is kept.
const maxErrorBody = 4 << 10

// Config holds connection settings, the same ones logcli takes from
// LOKI_ADDR, LOKI_USERNAME, LOKI_PASSWORD, LOKI_BEARER_TOKEN(_FILE),
// LOKI_ORG_ID, LOKI_CA_CERT_PATH, LOKI_CLIENT_CERT_PATH,
// LOKI_CLIENT_KEY_PATH and LOKI_TLS_SKIP_VERIFY.
type Config struct {
	// Addr is the server address: http(s)://host:port[/prefix]. loki:// and
	// lokis:// are accepted as http:// and https://. A full push URL
	// (…/loki/api/v1/push, or VictoriaLogs' …/insert/loki/api/v1/push) is
	// accepted too: the path up to /loki/api/v1/push is the prefix.
	Addr string
	// TenantID is sent as X-Scope-OrgID ("a|b" queries several tenants).
	TenantID string

	Username, Password string
	// BearerToken, or BearerTokenFile (re-read when it changes, so rotated
	// service-account tokens work), is sent as "Authorization: Bearer".
	BearerToken     string
	BearerTokenFile string

	CACertPath         string
	ClientCertPath     string
	ClientKeyPath      string
	InsecureSkipVerify bool
	// ServerName overrides the TLS server name (SNI and verification).
	ServerName string

	// UserAgent defaults to DefaultUserAgent.
	UserAgent string
	// Timeout bounds each HTTP request (not a tail connection); 0 means
	// DefaultTimeout, negative means none.
	Timeout time.Duration
	// Headers are extra headers sent with every request.
	Headers map[string]string

	// Retry is the policy for idempotent reads (queries, labels, series,
	// stats, tail reconnects). Push makes one attempt: its caller (ship's
	// sink) owns retries and dead-lettering, with the same Backoff type.
	Retry Backoff

	// HTTPClient replaces the client built from the TLS settings (tests).
	// Its Transport is used as is.
	HTTPClient *http.Client
	// Logger receives debug logs of requests and retries (nil = discard).
	Logger *slog.Logger
}

// Client talks to one Loki (or Loki-push-compatible) server. It is safe for
// concurrent use.
type Client struct {
	cfg      Config
	base     *url.URL // scheme://host[/prefix], no trailing slash
	pushPath string
	hc       *http.Client
	tlsConf  *tls.Config
	log      *slog.Logger

	tokMu   sync.Mutex
	tok     string
	tokMod  time.Time
	tokRead time.Time
}

// NewClient validates cfg and builds a client.
func NewClient(cfg Config) (*Client, error) {
	base, pushPath, err := parseAddr(cfg.Addr)
	if err != nil {
		return nil, err
	}
	if cfg.BearerToken != "" && cfg.BearerTokenFile != "" {
		return nil, errors.New("loki: bearer token and bearer token file are both set; use one")
	}
	if (cfg.Username != "" || cfg.Password != "") && (cfg.BearerToken != "" || cfg.BearerTokenFile != "") {
		return nil, errors.New("loki: basic auth and bearer token are both set; use one")
	}
	c := &Client{cfg: cfg, base: base, pushPath: pushPath, log: cfg.Logger}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.cfg.UserAgent == "" {
		c.cfg.UserAgent = DefaultUserAgent
	}
	if c.cfg.Timeout == 0 {
		c.cfg.Timeout = DefaultTimeout
	}
	c.cfg.Retry = c.cfg.Retry.withDefaults()
	if cfg.HTTPClient != nil {
		c.hc = cfg.HTTPClient
		if t, ok := cfg.HTTPClient.Transport.(*http.Transport); ok {
			c.tlsConf = t.TLSClientConfig
		}
	} else {
		tc, err := buildTLS(cfg)
		if err != nil {
			return nil, err
		}
		c.tlsConf = tc
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.Proxy = http.ProxyFromEnvironment
		tr.TLSClientConfig = tc
		tr.MaxIdleConnsPerHost = 32
		c.hc = &http.Client{Transport: tr}
	}
	if cfg.BearerTokenFile != "" {
		if _, err := c.bearerToken(); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Addr returns the base address in use (without the API path), with any
// password in it redacted.
func (c *Client) Addr() string { return c.base.Redacted() }

// Timeout returns how long one request may take (<= 0: no bound).
func (c *Client) Timeout() time.Duration { return c.cfg.Timeout }

// PushURL returns the URL pushes go to.
func (c *Client) PushURL() string { return c.url(c.pushPath, nil) }

// parseAddr splits addr into a base URL and the push path.
func parseAddr(addr string) (*url.URL, string, error) {
	addr = strings.TrimSpace(addr)
	if addr == "" {
		return nil, "", errors.New("loki: no address given, and LOKI_ADDR is not set")
	}
	if !strings.Contains(addr, "://") {
		addr = "http://" + addr
	}
	u, err := url.Parse(addr)
	if err != nil {
		return nil, "", fmt.Errorf("loki: address %q: %w", addr, err)
	}
	switch u.Scheme {
	case "http", "https":
	case "loki":
		u.Scheme = "http"
	case "lokis":
		u.Scheme = "https"
	default:
		return nil, "", fmt.Errorf("loki: address %q: scheme %q is not http, https, loki or lokis", addr, u.Scheme)
	}
	if u.Host == "" {
		return nil, "", fmt.Errorf("loki: address %q has no host", addr)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, "", fmt.Errorf("loki: address %q must not have a query or fragment", addr)
	}
	p := strings.TrimRight(u.Path, "/")
	if strings.HasSuffix(p, PathPush) {
		p = strings.TrimSuffix(p, PathPush)
	}
	u.Path = p
	u.RawPath = ""
	return u, PathPush, nil
}

func buildTLS(cfg Config) (*tls.Config, error) {
	tc := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: cfg.InsecureSkipVerify, //nolint:gosec // user's explicit choice (LOKI_TLS_SKIP_VERIFY)
		ServerName:         cfg.ServerName,
	}
	if cfg.CACertPath != "" {
		pem, err := os.ReadFile(cfg.CACertPath)
		if err != nil {
			return nil, fmt.Errorf("loki: read CA certificate %s: %w", cfg.CACertPath, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("loki: CA certificate %s: no PEM certificate found", cfg.CACertPath)
		}
		tc.RootCAs = pool
	}
	if (cfg.ClientCertPath == "") != (cfg.ClientKeyPath == "") {
		return nil, errors.New("loki: client certificate and client key must be given together")
	}
	if cfg.ClientCertPath != "" {
		cert, err := tls.LoadX509KeyPair(cfg.ClientCertPath, cfg.ClientKeyPath)
		if err != nil {
			return nil, fmt.Errorf("loki: load client certificate %s / key %s: %w", cfg.ClientCertPath, cfg.ClientKeyPath, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// bearerToken returns the token, re-reading BearerTokenFile at most every
// 10 s and only when its modification time changed.
func (c *Client) bearerToken() (string, error) {
	if c.cfg.BearerTokenFile == "" {
		return c.cfg.BearerToken, nil
	}
	c.tokMu.Lock()
	defer c.tokMu.Unlock()
	now := time.Now()
	if c.tok != "" && now.Sub(c.tokRead) < 10*time.Second {
		return c.tok, nil
	}
	fi, err := os.Stat(c.cfg.BearerTokenFile)
	if err != nil {
		if c.tok != "" {
			return c.tok, nil // keep the last good token; the file may be mid-rotation
		}
		return "", fmt.Errorf("loki: bearer token file: %w", err)
	}
	c.tokRead = now
	if c.tok != "" && fi.ModTime().Equal(c.tokMod) {
		return c.tok, nil
	}
	b, err := os.ReadFile(c.cfg.BearerTokenFile)
	if err != nil {
		if c.tok != "" {
			return c.tok, nil
		}
		return "", fmt.Errorf("loki: bearer token file: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("loki: bearer token file %s is empty", c.cfg.BearerTokenFile)
	}
	c.tok, c.tokMod = tok, fi.ModTime()
	return tok, nil
}

// url joins the base address, an API path and query parameters.
func (c *Client) url(path string, q url.Values) string {
	u := *c.base
	u.Path = c.base.Path + path
	if q != nil {
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// headers sets auth, tenant, user agent and extra headers on h.
func (c *Client) headers(h http.Header) error {
	h.Set("User-Agent", c.cfg.UserAgent)
	if c.cfg.TenantID != "" {
		h.Set("X-Scope-OrgID", c.cfg.TenantID)
	}
	switch {
	case c.cfg.Username != "" || c.cfg.Password != "":
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(c.cfg.Username+":"+c.cfg.Password)))
	case c.cfg.BearerToken != "" || c.cfg.BearerTokenFile != "":
		tok, err := c.bearerToken()
		if err != nil {
			return err
		}
		h.Set("Authorization", "Bearer "+tok)
	}
	for k, v := range c.cfg.Headers {
		h.Set(k, v)
	}
	return nil
}

// do sends one request and returns the response body of a 2xx answer.
// Non-2xx answers become *HTTPError; transport failures are wrapped so
// IsRetryable recognises them. The per-request timeout covers reading the
// body.
func (c *Client) do(ctx context.Context, method, path string, q url.Values, body []byte, hdr map[string]string) ([]byte, error) {
	return c.doInto(ctx, method, path, q, body, hdr, nil)
}

// doInto is do reading the response into buf (reused when large enough).
func (c *Client) doInto(ctx context.Context, method, path string, q url.Values, body []byte, hdr map[string]string, buf []byte) ([]byte, error) {
	if c.cfg.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.Timeout)
		defer cancel()
	}
	u := c.url(path, q)
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("loki: %s %s: %w", method, path, err)
	}
	if err := c.headers(req.Header); err != nil {
		return nil, err
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, &NetError{Op: method + " " + c.redact(u), Err: urlCause(err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		return nil, newHTTPError(method, path, resp, b)
	}
	b, err := readBody(resp, buf)
	if err != nil {
		return nil, &NetError{Op: "read response of " + method + " " + c.redact(u), Err: err}
	}
	c.log.Debug("loki request", "method", method, "path", path, "status", resp.StatusCode, "bytes", len(b))
	return b, nil
}

// readBody reads a response body into buf, sized from Content-Length when
// the server sends it (no doubling copies for multi-megabyte pages).
func readBody(resp *http.Response, buf []byte) ([]byte, error) {
	if n := resp.ContentLength; n > 0 && n < 1<<31 {
		if int64(cap(buf)) < n {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(resp.Body, buf); err != nil {
			return nil, err
		}
		return buf, nil
	}
	w := bytes.NewBuffer(buf[:0])
	_, err := w.ReadFrom(resp.Body)
	return w.Bytes(), err
}

// get runs a GET with the read retry policy.
func (c *Client) get(ctx context.Context, path string, q url.Values) ([]byte, error) {
	return c.getInto(ctx, path, q, nil)
}

// getInto is get reading into buf.
func (c *Client) getInto(ctx context.Context, path string, q url.Values, buf []byte) ([]byte, error) {
	var out []byte
	err := c.cfg.Retry.Do(ctx, c.log, "GET "+path, func(ctx context.Context) error {
		b, err := c.doInto(ctx, http.MethodGet, path, q, nil, nil, buf)
		out = b
		return err
	})
	return out, err
}

// redact drops user info from a URL for messages.
func (c *Client) redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	return p.Redacted()
}

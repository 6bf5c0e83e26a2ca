package loki

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/audittui/audittui/internal/termsafe"
)

// HTTPError is a non-2xx answer from the server. Body is Loki's message
// (trimmed, at most 4 KiB; untrusted text: sanitise before display).
type HTTPError struct {
	Status int
	Body   string
	// Method and Path name the request ("POST /loki/api/v1/push").
	Method, Path string
	// RetryAfter is the server's Retry-After hint (0 when absent).
	RetryAfter time.Duration
}

func newHTTPError(method, path string, resp *http.Response, body []byte) *HTTPError {
	e := &HTTPError{Status: resp.StatusCode, Method: method, Path: path, Body: errorMessage(body)}
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		if s, err := strconv.Atoi(ra); err == nil && s >= 0 {
			e.RetryAfter = time.Duration(s) * time.Second
		} else if t, err := http.ParseTime(ra); err == nil {
			e.RetryAfter = max(time.Until(t), 0)
		}
	}
	return e
}

// errorMessage extracts the message from an error body: Loki answers with
// plain text, some proxies and Loki's querier with {"status":"error",
// "error":"...","message":"..."} style JSON.
func errorMessage(b []byte) string {
	s := strings.TrimSpace(string(b))
	if strings.HasPrefix(s, "{") {
		if m := jsonMessage(b); m != "" {
			s = m
		}
	}
	return s
}

// Error reads like "loki: POST /loki/api/v1/push: 400 Bad Request: entry too far behind".
func (e *HTTPError) Error() string {
	msg := sanitize(e.Body)
	if msg == "" {
		msg = "(empty body)"
	}
	var hint string
	switch e.Status {
	case http.StatusUnauthorized:
		hint = " (check LOKI_USERNAME/LOKI_PASSWORD or LOKI_BEARER_TOKEN)"
		if noOrgID(e.Body) {
			// Loki's tenant middleware (auth_enabled: true) answers
			// 401 "no org id" when X-Scope-OrgID is missing: the
			// credentials are not what is wrong.
			hint = " (the server wants a tenant: set LOKI_ORG_ID or --loki-org-id; ship's Tenant_id)"
		}
	case http.StatusForbidden:
		hint = " (check the credentials and LOKI_ORG_ID)"
	}
	return fmt.Sprintf("loki: %s %s: %d %s: %s%s", e.Method, e.Path, e.Status, http.StatusText(e.Status), msg, hint)
}

// noOrgID reports whether a 401 body is Loki's "no org id" (the request
// named no tenant), as opposed to bad credentials.
func noOrgID(body string) bool {
	return strings.Contains(strings.ToLower(body), "no org id")
}

// Retryable is true for 429 (rate limited) and 5xx (server trouble);
// other 4xx answers are permanent (bad request, auth, entry too old...).
func (e *HTTPError) Retryable() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// NetError is a transport failure (connection refused, reset, timeout,
// TLS handshake...). It is retryable unless the caller's context ended.
type NetError struct {
	Op  string
	Err error
}

func (e *NetError) Error() string { return "loki: " + e.Op + ": " + e.Err.Error() }

// urlCause strips the *url.Error that net/http wraps a transport failure
// in: its text repeats the method and the whole URL (unredacted), which
// NetError.Op already names.
func urlCause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err
	}
	return err
}
func (e *NetError) Unwrap() error { return e.Err }

// Retryable reports whether a retry may help: false when the cause is a
// cancelled context or a certificate the server will keep presenting.
func (e *NetError) Retryable() bool {
	if errors.Is(e.Err, context.Canceled) {
		return false
	}
	msg := e.Err.Error()
	if strings.Contains(msg, "x509:") || strings.Contains(msg, "certificate") {
		return false
	}
	return true
}

// IsRetryable reports whether err is worth retrying: 429, 5xx and network
// errors are; other HTTP errors, bad input and cancellation are not.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	var he *HTTPError
	if errors.As(err, &he) {
		return he.Retryable()
	}
	var ne *NetError
	if errors.As(err, &ne) {
		return ne.Retryable()
	}
	return false
}

// sanitize makes untrusted server text safe for a terminal (the shared
// rendering: termsafe.String).
func sanitize(s string) string { return termsafe.String(s) }

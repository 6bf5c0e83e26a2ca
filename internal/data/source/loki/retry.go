package loki

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"
)

// Backoff is a retry policy: exponential backoff with jitter, honouring the
// server's Retry-After. The zero value means the defaults. It is used by
// the query client and by ship's push sink.
type Backoff struct {
	// Min is the first delay (default 250ms), Max the cap (default 30s).
	Min, Max time.Duration
	// MaxRetries is how many times a failed attempt is retried (default 5);
	// negative retries until the context ends.
	MaxRetries int
	// Retryable decides which errors are retried (default IsRetryable).
	Retryable func(error) bool
}

func (b Backoff) withDefaults() Backoff {
	if b.Min <= 0 {
		b.Min = 250 * time.Millisecond
	}
	if b.Max <= 0 {
		b.Max = 30 * time.Second
	}
	if b.Max < b.Min {
		b.Max = b.Min
	}
	if b.MaxRetries == 0 {
		b.MaxRetries = 5
	}
	if b.Retryable == nil {
		b.Retryable = IsRetryable
	}
	return b
}

// Delay returns the wait before retry number n (0-based): Min*2^n capped at
// Max, with "equal jitter" (half fixed, half random) so that many clients
// retrying at once spread out.
func (b Backoff) Delay(n int) time.Duration {
	b = b.withDefaults()
	d := b.Min
	for i := 0; i < n && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	half := d / 2
	return half + rand.N(half+1)
}

// wait is the pause before retry n after err: the backoff delay, or the
// server's Retry-After when longer (capped at Max).
func (b Backoff) wait(n int, err error) time.Duration {
	b = b.withDefaults()
	d := b.Delay(n)
	var he *HTTPError
	if errors.As(err, &he) && he.RetryAfter > d {
		d = min(he.RetryAfter, b.Max)
	}
	return d
}

// Do runs fn until it succeeds, returns an error that is not retryable, the
// retries are used up or ctx ends. The last error is returned (wrapped in
// nothing, so errors.As finds *HTTPError). Each call of fn gets ctx; the
// per-request timeout is the client's.
func (b Backoff) Do(ctx context.Context, log *slog.Logger, op string, fn func(ctx context.Context) error) error {
	b = b.withDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for n := 0; ; n++ {
		err := fn(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%w (giving up: %w)", err, ctx.Err())
		}
		if !b.Retryable(err) || (b.MaxRetries >= 0 && n >= b.MaxRetries) {
			return err
		}
		wait := b.wait(n, err)
		log.Debug("loki retry", "op", op, "attempt", n+1, "wait", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (giving up: %w)", err, ctx.Err())
		case <-t.C:
		}
	}
}

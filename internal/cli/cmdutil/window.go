package cmdutil

import (
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"github.com/audittui/audittui/internal/data"
)

// WindowFlags are --since, --from and --to, the time window of every
// command that reads events, with logcli's semantics: --from inclusive,
// --to exclusive, --since counted back from --to (or from now).
type WindowFlags struct {
	Since    time.Duration
	From, To string
}

// AddFlags registers --since, --from and --to on fs.
func (w *WindowFlags) AddFlags(fs *pflag.FlagSet) {
	fs.DurationVar(&w.Since, "since", 0, "only events newer than this duration before --to (or now), e.g. 1h")
	fs.StringVar(&w.From, "from", "", "start of the window, inclusive (RFC 3339 or YYYY-MM-DD)")
	fs.StringVar(&w.To, "to", "", "end of the window, exclusive (RFC 3339 or YYYY-MM-DD)")
}

// Range returns the window [from, to) in Unix nanoseconds (0 = open). now
// is read only for --since without --to. Errors are usage errors naming
// the flag.
func (w *WindowFlags) Range(now func() time.Time) (from, to int64, err error) {
	if w.To != "" {
		if to, err = parseFlagTime(w.To); err != nil {
			return 0, 0, UsageErrorf("--to: %v", err)
		}
	}
	if w.From != "" {
		if from, err = parseFlagTime(w.From); err != nil {
			return 0, 0, UsageErrorf("--from: %v", err)
		}
		if w.Since != 0 {
			return 0, 0, UsageErrorf("--since and --from are mutually exclusive")
		}
	}
	if w.Since < 0 {
		return 0, 0, UsageErrorf("--since %s: want a positive duration", w.Since)
	}
	if w.Since > 0 {
		end := to
		if end == 0 {
			end = now().UnixNano()
		}
		from = end - int64(w.Since)
	}
	if from != 0 && to != 0 && from >= to {
		return 0, 0, UsageErrorf("empty window: --from %s is not before --to %s", w.From, w.To)
	}
	return from, to, nil
}

func parseFlagTime(s string) (int64, error) {
	if t, err := data.ParseTime(s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t.UnixNano(), nil
	}
	return 0, fmt.Errorf("cannot parse %q (want RFC 3339 such as 2026-11-20T08:00:00Z, or YYYY-MM-DD)", s)
}

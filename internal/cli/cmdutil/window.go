package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/plural"
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
	fs.DurationVar(&w.Since, "since", 0, "only events newer than this duration before --to (or now, not the newest event: use --from for an archive), e.g. 1h")
	fs.StringVar(&w.From, "from", "", "start of the window, inclusive (RFC 3339, \"2026-11-20 08:00\" in UTC, or YYYY-MM-DD)")
	fs.StringVar(&w.To, "to", "", "end of the window, exclusive (RFC 3339, \"2026-11-20 08:00\" in UTC, or YYYY-MM-DD)")
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
	// The forms the TUI's :from and :to take too (without a zone: UTC).
	if t, err := data.ParseTimeIn(s, time.UTC); err == nil {
		return t, nil
	}
	return 0, fmt.Errorf("cannot parse %q (want RFC 3339 such as 2026-11-20T08:00:00Z, 2026-11-20 08:00 (UTC) or YYYY-MM-DD)", s)
}

// watchWindow wraps srcs so that, when a read of the window [from, to)
// of w or of one holding it (not a narrower one a command derives, not a
// followed one) has read every source to its end and the window let through none
// of the events decoded although some were, errOut says so: how many
// were before it and after it, and the newest before and oldest after.
// An empty answer then says why, rather than look like no match (an
// archive read with --since, which counts back from now). The exit status
// is unchanged.
func watchWindow(srcs []data.Source, from, to int64, w *WindowFlags, errOut io.Writer) []data.Source {
	if from == 0 && to == 0 {
		return srcs
	}
	ww := &windowWatch{windowDesc: windowDesc{from: from, to: to, since: w.Since, toSet: w.To != ""}, errOut: errOut}
	out := make([]data.Source, len(srcs))
	for i, s := range srcs {
		out[i] = &watchedSource{Source: s, w: ww}
	}
	return out
}

// windowWatch is what the sources of one command share.
type windowWatch struct {
	windowDesc
	errOut      io.Writer
	tally       data.WindowTally
	mu          sync.Mutex
	open, ended int
	said        bool
}

// windowDesc is the window as the user gave it, and whether the reads
// were prefiltered (lines that cannot match were not decoded).
type windowDesc struct {
	from, to    int64
	since       time.Duration
	toSet       bool
	prefiltered bool
}

// within reports whether a read of [from, to) holds the whole window: a
// metric query reads its first step's range before --from, and a line at
// exactly --to. When such a read lets nothing through, nothing of the
// window was there either, and what it left out is before the window or
// at or after its end.
func (w *windowDesc) within(from, to int64) bool {
	if from > 1 && (w.from == 0 || from > w.from) {
		return false
	}
	return to == 0 || (w.to != 0 && to >= w.to)
}

type watchedSource struct {
	data.Source
	w *windowWatch
}

func (s *watchedSource) Unwrap() data.Source { return s.Source }

func (s *watchedSource) StreamLabels(ctx context.Context, opts data.ReadOptions, names []string) (*data.StreamLabels, error) {
	return streamLabelsOf(ctx, s.Source, opts, names)
}

func (s *watchedSource) Open(ctx context.Context, opts data.ReadOptions) (data.Stream, error) {
	w := s.w
	from := opts.From
	if opts.TallyFrom != 0 {
		from = opts.TallyFrom // a read that starts earlier, for the rules' look-back
	}
	if opts.Follow || !w.within(from, opts.To) || opts.Tally != nil {
		return s.Source.Open(ctx, opts)
	}
	opts.Tally = &w.tally
	st, err := s.Source.Open(ctx, opts)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	w.open++
	w.prefiltered = w.prefiltered || opts.Prefilter != nil
	w.mu.Unlock()
	return &watchedStream{Stream: st, w: w}, nil
}

type watchedStream struct {
	data.Stream
	w     *windowWatch
	ended bool
}

func (s *watchedStream) Next(ctx context.Context) (*data.Batch, error) {
	b, err := s.Stream.Next(ctx)
	if errors.Is(err, io.EOF) && !s.ended {
		s.ended = true
		s.w.end()
	}
	return b, err
}

// Start passes on the watched stream's start (data.Starter), so that a
// merge of many watched sources still opens them only when their time
// comes.
func (s *watchedStream) Start(ctx context.Context) (int64, bool) {
	if st, ok := s.Stream.(data.Starter); ok {
		return st.Start(ctx)
	}
	return 0, false
}

// end notes that a watched stream was read to its end; after the last,
// it says what the window left out when it let nothing through.
func (w *windowWatch) end() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.ended++
	if w.ended < w.open || w.said {
		return
	}
	w.said = true
	if msg := w.message(w.tally.Counts()); msg != "" {
		fmt.Fprintf(w.errOut, "audittui: %s\n", msg)
	}
}

// message says what the window left out, or "" when it let an event
// through or there was nothing to leave out.
func (w *windowDesc) message(c data.WindowCounts) string {
	if c.In > 0 || c.Before+c.After == 0 {
		return ""
	}
	// A start counted back from now is said to the second.
	fromNow := w.since > 0 && !w.toSet
	win := ""
	switch {
	case w.from != 0 && w.to != 0:
		win = "from " + flagTime(w.from, fromNow) + " to " + flagTime(w.to, false)
	case w.from != 0:
		win = "from " + flagTime(w.from, fromNow)
	default:
		win = "before " + flagTime(w.to, false)
	}
	if w.since > 0 {
		if w.toSet {
			win += fmt.Sprintf(": --since %s counts back from --to", data.ShortDuration(w.since))
		} else {
			win += fmt.Sprintf(": --since %s counts back from now, not from the newest event as the TUI's :since does", data.ShortDuration(w.since))
		}
	}
	// With a prefilter, lines that cannot match were not decoded: what is
	// known is that none of those that could match is in the window.
	none, read := "no event read", "read"
	if w.prefiltered {
		none, read = "no event the query could match", "that it could match"
	}
	var where string
	switch {
	case c.After == 0:
		if c.Before == 1 {
			where = fmt.Sprintf("the 1 event %s is before it, at %s", read, FormatTime(c.NewestBefore))
		} else {
			where = fmt.Sprintf("all %d events %s are before it, the newest at %s", c.Before, read, FormatTime(c.NewestBefore))
		}
	case c.Before == 0:
		if c.After == 1 {
			where = fmt.Sprintf("the 1 event %s is at or after its end, at %s", read, FormatTime(c.OldestAfter))
		} else {
			where = fmt.Sprintf("all %d events %s are at or after its end, the oldest at %s", c.After, read, FormatTime(c.OldestAfter))
		}
	default:
		where = fmt.Sprintf("of the %d events %s, %d %s before it (the newest at %s) and %d at or after its end (the oldest at %s)",
			c.Before+c.After, read, c.Before, plural.Word(c.Before, "is", "are"), FormatTime(c.NewestBefore), c.After, FormatTime(c.OldestAfter))
	}
	return none + " falls in the window (" + win + "): " + where
}

// flagTime writes a window bound as the flags take it (to the second).
func flagTime(ns int64, seconds bool) string {
	if seconds {
		return time.Unix(0, ns).UTC().Format(time.RFC3339)
	}
	return time.Unix(0, ns).UTC().Format(time.RFC3339Nano)
}

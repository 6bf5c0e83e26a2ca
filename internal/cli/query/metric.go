package query

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
	"github.com/audittui/audittui/internal/termsafe"
)

// runMetricQuery evaluates a metric query. Without --step it is an instant
// query at the end of the window (--to, exclusive) or, with no --to, at the
// time of the last matching event; with --step it is a range query with
// steps on multiples of the step, from the start of the window (or the
// first matching event) rounded down, to the first step at or after the
// end of the window (or the last matching event), so that every event of
// the window is in some step's range when the range is the step.
func runMetricQuery(ctx context.Context, out *bufio.Writer, srcs []data.Source, q *logql.MetricQuery, opts *QueryOptions, from, to int64, rep *cmdutil.RejectReporter) error {
	lq := q.LogQuery()
	pf := data.PrefilterFor(lq)
	rng := int64(q.Range())
	off := int64(q.Offset())

	var start, end int64
	if to != 0 {
		end = to - 1
	}
	if opts.Step > 0 {
		start = from
	}
	if end == 0 || (opts.Step > 0 && start == 0) {
		// Find the span of the matching events (a first, prefiltered pass).
		for _, src := range srcs {
			if src.String() == "-" {
				return cmdutil.UsageErrorf("a metric query over stdin needs a window (--from and --to, or --since): stdin cannot be read twice")
			}
		}
		lo, hi, skipped, err := matchSpan(ctx, srcs, lq, data.ReadOptions{From: from, To: to, Prefilter: pf, Query: lq})
		if err != nil {
			return err
		}
		if hi == 0 {
			// Nothing matched, so there is no second pass to report what
			// was rejected or left out: this one does.
			rep.Add(skipped.rejects)
			rep.AddUndated(skipped.undated, skipped.undatedAt)
			return cmdutil.WriteMetric(out, opts.Output, nil, nil)
		}
		if opts.Step > 0 && start == 0 {
			start = lo
		}
		if end == 0 {
			end = hi
		}
	}
	if step := int64(opts.Step); step > 0 {
		// Steps on multiples of the step, as Grafana aligns them, up to
		// the first step at or after the window's end (or the last
		// match): its window holds what came after the step before (a
		// last step that stopped short never counted it). The read
		// window still bounds the events.
		start -= start % step
		end = start + (end-start+step-1)/step*step
	} else {
		start = end
	}
	// Only events that can fall in some window matter.
	ro := data.ReadOptions{From: start - off - rng + 1, To: end - off + 1, Prefilter: pf, Query: lq}
	if from != 0 && ro.From < from {
		ro.From = from
	}
	if to != 0 && ro.To > to {
		// --to is exclusive for an instant query; a range query counts a
		// line at exactly its end in the step there, as Loki does since
		// 3.2 (grafana/loki#13448: the steps are (t-range, t], the lines
		// selected [start, end], not [start, end)).
		ro.To = to
		if opts.Step > 0 {
			ro.To = to + 1
		}
	}
	if ro.From <= 0 {
		ro.From = 1
	}
	st, err := data.OpenAll(ctx, srcs, ro)
	if err != nil {
		return err
	}
	defer st.Close()
	var ev *logql.Evaluator
	if opts.Step > 0 {
		if ev, err = q.NewRangeEvaluator(start, end, opts.Step); err != nil {
			return cmdutil.UsageErrorf("--step: %v", err)
		}
	} else {
		ev = q.NewInstantEvaluator(end)
	}
	dups := newDups(opts)
	ev.Unique = func(e logql.Entry) bool { return !dups.Seen(e.(*data.Event)) }
	defer reportDups(rep, dups)
	for {
		b, err := st.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		rep.Add(b.Rejects)
		rep.AddUndated(b.Undated, b.UndatedAt)
		for i := range b.Events {
			ev.Add(&b.Events[i])
		}
	}
	if err := ev.Err(); err != nil {
		fmt.Fprintf(opts.IO.ErrOut, "audittui: warning: %v\n", termsafe.String(err.Error()))
	}
	if opts.Step <= 0 {
		return cmdutil.WriteMetric(out, opts.Output, ev.Vector(), nil)
	}
	return cmdutil.WriteMetric(out, opts.Output, nil, ev.Result())
}

// skippedInput is what a read rejected and the events without a time it
// left out (a metric query cannot place them).
type skippedInput struct {
	rejects   []data.Reject
	undated   int
	undatedAt string
}

func (s *skippedInput) addUndated(n int, at string) {
	if n > 0 && s.undated == 0 {
		s.undatedAt = at
	}
	s.undated += n
}

// matchSpan returns the times of the first and last events matching lq,
// and what it rejected or left out for lack of a time.
func matchSpan(ctx context.Context, srcs []data.Source, lq *logql.LogQuery, ro data.ReadOptions) (lo, hi int64, skipped skippedInput, err error) {
	st, err := data.OpenAll(ctx, srcs, ro)
	if err != nil {
		return 0, 0, skipped, err
	}
	defer st.Close()
	for {
		b, err := st.Next(ctx)
		if errors.Is(err, io.EOF) {
			return lo, hi, skipped, nil
		}
		if err != nil {
			return 0, 0, skipped, err
		}
		skipped.rejects = append(skipped.rejects, b.Rejects...)
		skipped.addUndated(b.Undated, b.UndatedAt)
		for i := range b.Events {
			e := &b.Events[i]
			if e.Time == 0 {
				skipped.addUndated(1, e.Origin.Cite())
				continue
			}
			if !lq.Matches(e) {
				continue
			}
			if lo == 0 || e.Time < lo {
				lo = e.Time
			}
			if e.Time > hi {
				hi = e.Time
			}
		}
	}
}

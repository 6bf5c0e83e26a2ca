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

// runMetricQuery evaluates a metric query as Loki does (since 3.2,
// grafana/loki#13448): a value at time t counts the lines in
// (t-range-offset, t-offset]. Without --step it is an instant query at the
// end of the window (--to: a line at exactly --to counts, as Loki's query
// at time=--to counts it) or, with no --to, at the time of the last
// matching event; the window's start bounds what it reads. With --step it
// is a range query with steps on multiples of the step, from the start of
// the window (or the first matching event) rounded down (absent_over_time
// without a window: up, to the first step at or after the first event, as
// alerts judge it), to the first step
// at or after the end of the window (or the last matching event), so that
// every event of the window is in some step's range when the range is the
// step. The first step reads back one range before it, as Loki selects
// lines from start-range: with --from, lines before --from count there
// (a log query still starts at --from).
func runMetricQuery(ctx context.Context, out *bufio.Writer, srcs []data.Source, q *logql.MetricQuery, opts *QueryOptions, from, to int64, rep *cmdutil.RejectReporter) error {
	lq := q.LogQuery()
	pf := data.PrefilterFor(lq)
	rng := int64(q.Range())
	off := int64(q.Offset())
	step := int64(opts.Step)

	start, end := int64(0), to
	absent := q.ReturnsWithoutEntries()
	if absent && end == 0 && from != 0 {
		// --since or --from alone: the window ends now, as Loki's
		// instant query at now (an absence needs no matching event).
		end = opts.Now().UnixNano()
	}
	if step > 0 && from != 0 {
		start = from - from%step
	}
	// lookback is where the first step of a range query starting at s
	// reads from: the lines after s-range-offset.
	lookback := func(s int64) int64 { return s - off - rng + 1 }
	if end == 0 || (step > 0 && start == 0) {
		// Find the span of the matching events (a first, prefiltered pass).
		for _, src := range srcs {
			if src.String() == "-" {
				return cmdutil.UsageErrorf("a metric query over stdin needs a window (--from and --to, or --since): stdin cannot be read twice")
			}
		}
		spanFrom := from
		if start != 0 {
			// The first step's lines count: the last match may be there.
			spanFrom = min(from, max(lookback(start), 1))
		}
		sro := data.ReadOptions{From: spanFrom, To: to, Prefilter: pf, Query: lq}
		span := lq
		if absent {
			// absent_over_time answers where nothing matches: its span
			// is that of every event read, not of the matches.
			sro.Prefilter, sro.Query, span = nil, nil, nil
		}
		lo, hi, skipped, err := matchSpan(ctx, srcs, span, sro)
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
		if step > 0 && start == 0 {
			start = lo - lo%step
			if absent && start < lo {
				// A step before the first event read nothing: no
				// evidence of absence. Steps start at the first one at
				// or after it, as alerts judge such a rule.
				start += step
			}
		}
		if end == 0 {
			end = hi
		}
	}
	if step > 0 {
		// Steps on multiples of the step, as Grafana aligns them, up to
		// the first step at or after the window's end (or the last
		// match): its window holds what came after the step before (a
		// last step that stopped short never counted it). The read
		// window still bounds the events. A last match before the first
		// step (in its lookback) is counted there.
		end = max(end, start)
		end = start + (end-start+step-1)/step*step
	} else {
		start = end
	}
	// Only events that can fall in some step's range matter: from the
	// first step's lookback to the last step, and no later than --to (a
	// line at exactly --to counts, as Loki counts it since 3.2: the steps
	// are (t-range, t] and the lines selected [start-range, end]).
	ro := data.ReadOptions{From: lookback(start), To: end - off + 1, Prefilter: pf, Query: lq}
	if step == 0 && from != 0 && ro.From < from {
		// An instant query has no start in Loki: --from (or --since)
		// bounds the evidence it counts.
		ro.From = from
	}
	if to != 0 {
		// --to still bounds the read, a line at exactly --to included.
		if ro.To > to {
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
	if step > 0 {
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
	// Evaluate first: Result records the vector matching error, which
	// refuses the query (as Loki does) rather than answering "(no data)".
	var vec logql.Vector
	var mat logql.Matrix
	if opts.Step <= 0 {
		vec = ev.Vector()
	} else {
		mat = ev.Result()
	}
	if err := ev.MatchErr(); err != nil {
		return cmdutil.UsageErrorf("%s", termsafe.String(err.Error()))
	}
	if err := ev.Err(); err != nil {
		fmt.Fprintf(opts.IO.ErrOut, "audittui: warning: %v\n", termsafe.String(err.Error()))
	}
	return cmdutil.WriteMetric(out, opts.Output, vec, mat)
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

// matchSpan returns the times of the first and last events matching lq
// (every event read when lq is nil),
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
			if lq != nil && !lq.Matches(e) {
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

package cli

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"text/tabwriter"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
)

// runMetricQuery evaluates a metric query. Without --step it is an instant
// query at the end of the window (--to, exclusive) or, with no --to, at the
// time of the last matching event; with --step it is a range query from the
// start of the window (or the first matching event) to its end.
func runMetricQuery(ctx context.Context, out *bufio.Writer, srcs []data.Source, q *logql.MetricQuery, opts *QueryOptions, from, to int64, rep *rejectReporter) error {
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
				return usageErr("a metric query over stdin needs a window (--from and --to, or --since): stdin cannot be read twice")
			}
		}
		lo, hi, err := matchSpan(ctx, srcs, lq, data.ReadOptions{From: from, To: to, Prefilter: pf, Query: lq.String()})
		if err != nil {
			return err
		}
		if hi == 0 {
			return writeMetric(out, opts.Output, nil, nil) // nothing matched
		}
		if end == 0 {
			end = hi
		}
		if opts.Step > 0 && start == 0 {
			start = lo
		}
	}
	if opts.Step <= 0 {
		start = end
	}
	// Only events that can fall in some window matter.
	ro := data.ReadOptions{From: start - off - rng + 1, To: end - off + 1, Prefilter: pf, Query: lq.String()}
	if from != 0 && ro.From < from {
		ro.From = from
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
			return usageErr("--step: %v", err)
		}
	} else {
		ev = q.NewInstantEvaluator(end)
	}
	for {
		b, err := st.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		rep.add(b.Rejects)
		rep.undated += b.Undated
		for i := range b.Events {
			ev.Add(&b.Events[i])
		}
	}
	if err := ev.Err(); err != nil {
		fmt.Fprintf(rep.w, "audittui: warning: %v\n", err)
	}
	if opts.Step <= 0 {
		return writeMetric(out, opts.Output, ev.Vector(), nil)
	}
	return writeMetric(out, opts.Output, nil, ev.Result())
}

// matchSpan returns the times of the first and last events matching lq.
func matchSpan(ctx context.Context, srcs []data.Source, lq *logql.LogQuery, ro data.ReadOptions) (lo, hi int64, err error) {
	st, err := data.OpenAll(ctx, srcs, ro)
	if err != nil {
		return 0, 0, err
	}
	defer st.Close()
	for {
		b, err := st.Next(ctx)
		if errors.Is(err, io.EOF) {
			return lo, hi, nil
		}
		if err != nil {
			return 0, 0, err
		}
		for i := range b.Events {
			e := &b.Events[i]
			if e.Time == 0 || !lq.Matches(e) {
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

func fmtValue(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}

func labelMap(ls logql.Labels) map[string]string {
	m := make(map[string]string, len(ls))
	for _, l := range ls {
		m[l.Name] = l.Value
	}
	return m
}

// writeMetric prints a vector (instant) or a matrix (range).
func writeMetric(out *bufio.Writer, format string, vec logql.Vector, mat logql.Matrix) error {
	var sets []logql.Labels
	for _, s := range vec {
		sets = append(sets, s.Labels)
	}
	for _, s := range mat {
		sets = append(sets, s.Labels)
	}
	names := sortedLabelNames(sets)
	// Highest values first, as a dashboard's table shows them.
	sort.SliceStable(vec, func(i, j int) bool { return vec[i].V > vec[j].V })
	switch format {
	case "jsonl":
		enc := json.NewEncoder(out)
		for _, s := range vec {
			if err := enc.Encode(map[string]any{"metric": labelMap(s.Labels), "value": []any{float64(s.T) / 1e9, fmtValue(s.V)}}); err != nil {
				return err
			}
		}
		for _, s := range mat {
			vals := make([][]any, 0, len(s.Points))
			for _, p := range s.Points {
				vals = append(vals, []any{float64(p.T) / 1e9, fmtValue(p.V)})
			}
			if err := enc.Encode(map[string]any{"metric": labelMap(s.Labels), "values": vals}); err != nil {
				return err
			}
		}
		return nil
	case "csv":
		cw := csv.NewWriter(out)
		cw.Write(append(append([]string{}, names...), "time", "value"))
		row := func(ls logql.Labels, t int64, v float64) {
			r := make([]string, 0, len(names)+2)
			for _, n := range names {
				val, _ := ls.Get(n)
				r = append(r, val)
			}
			cw.Write(append(r, fmtTime(t), fmtValue(v)))
		}
		for _, s := range vec {
			row(s.Labels, s.T, s.V)
		}
		for _, s := range mat {
			for _, p := range s.Points {
				row(s.Labels, p.T, p.V)
			}
		}
		cw.Flush()
		return cw.Error()
	default: // table (raw means table for metric queries)
		tw := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
		hdr := ""
		if mat != nil {
			hdr = "TIME\t"
		}
		for _, n := range names {
			hdr += n + "\t"
		}
		fmt.Fprintln(tw, hdr+"VALUE")
		line := func(ls logql.Labels, t int64, v float64, withTime bool) {
			s := ""
			if withTime {
				s = fmtTime(t) + "\t"
			}
			for _, n := range names {
				val, _ := ls.Get(n)
				if val == "" {
					val = "-"
				}
				s += cell(val) + "\t"
			}
			fmt.Fprintln(tw, s+fmtValue(v))
		}
		for _, s := range vec {
			line(s.Labels, s.T, s.V, false)
		}
		for _, s := range mat {
			for _, p := range s.Points {
				line(s.Labels, p.T, p.V, true)
			}
		}
		if len(vec) == 0 && len(mat) == 0 {
			fmt.Fprintln(tw, "(no data)")
		}
		return tw.Flush()
	}
}

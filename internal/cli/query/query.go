// Package query is `audittui query`: a LogQL log or metric query over
// files, S3 or Loki, printed as raw lines, jsonl, a table or csv.
package query

import (
	"bufio"
	"context"
	"errors"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
)

// QueryOptions are `audittui query`'s options.
type QueryOptions struct {
	IO      *cmdutil.IOStreams
	Now     func() time.Time
	Sources *cmdutil.SourceSet

	Query  string
	Args   []string
	Window cmdutil.WindowFlags
	Limit  int
	Output string
	Step   time.Duration
	Quiet  bool
	Follow bool
}

// NewCmdQuery builds `audittui query`; runF, when not nil, runs instead of
// the query (tests).
func NewCmdQuery(f *cmdutil.Factory, runF func(*QueryOptions) error) *cobra.Command {
	opts := &QueryOptions{IO: f.IOStreams, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "query [flags] QUERY [SOURCE...]",
		Short: "Run a LogQL query over files, S3 or Loki (like logcli query)",
		Long: `Run a LogQL query (the subset Loki's ruler and Grafana use, with field
names as Loki's | json parser produces them) over audit events.

Log queries print matching events: -o raw prints each event's original bytes,
one per line. Metric queries print an instant vector evaluated at the end of
the window (or of the data); --step turns them into range queries.

SOURCE is a file, a glob, a directory (the apiserver's rotated set is read in
order, .gz backups included), - for stdin, s3://bucket/prefix/ or
loki://host:3100. Without SOURCE: Loki when LOKI_ADDR is set, else stdin when
it is a pipe.

Exit status: 0 success; 1 when some input was rejected (after printing all
results; each rejected line's file:line and reason go to stderr) or events
without a timestamp had to be left out (a time window or a metric query
cannot place them; stderr names the first); 2 on usage or query errors.`,
		Example: `  audittui query '{job="audit"} | json | objectRef_resource="secrets" | verb=~"get|list"' audit.log
  audittui query -o table '{job="audit"} | json | user_username="alice"' /var/log/kubernetes/audit/
  audittui query 'topk(10, sum by (user_username) (count_over_time({job="audit"} | json [1h])))' audit.log`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Query, opts.Args = args[0], args[1:]
			if runF != nil {
				return runF(opts)
			}
			return runQuery(cmd.Context(), opts)
		},
	}
	fs := cmd.Flags()
	opts.Window.AddFlags(fs)
	fs.IntVar(&opts.Limit, "limit", 0, "maximum number of entries to print (0 = all)")
	cmdutil.StringEnumFlag(fs, &opts.Output, "output", "o", "raw", cmdutil.EventFormats(), "output format: raw, jsonl, table or csv")
	fs.DurationVar(&opts.Step, "step", 0, "evaluate a metric query as a range query with this step")
	fs.BoolVarP(&opts.Follow, "follow", "f", false, "keep reading growing files (through rotation and truncation) or tail Loki, printing new matches")
	fs.BoolVarP(&opts.Quiet, "quiet", "q", false, "do not print the summary of rejected input on stderr (the exit status still tells)")
	opts.Sources = f.Sources(fs)
	return cmd
}

func runQuery(ctx context.Context, opts *QueryOptions) error {
	expr, err := cmdutil.ParseQuery(opts.Query)
	if err != nil {
		return err
	}
	from, to, srcs, err := opts.Sources.Window(ctx, &opts.Window, opts.Now, opts.Args)
	if err != nil {
		return err
	}
	rep := cmdutil.NewRejectReporter(opts.IO.ErrOut, opts.Quiet)
	dataOut, done := opts.IO.DataOut()
	defer done()
	out := bufio.NewWriterSize(dataOut, 1<<20)
	defer out.Flush()
	switch q := expr.(type) {
	case *logql.LogQuery:
		err = runLogQuery(ctx, out, srcs, q, opts, from, to, rep)
	case *logql.MetricQuery:
		err = runMetricQuery(ctx, out, srcs, q, opts, from, to, rep)
	}
	if ferr := out.Flush(); err == nil && ferr != nil {
		err = ferr
	}
	if err != nil {
		return err
	}
	return rep.Err()
}

// recycleReads is whether log queries read with recycling (tests compare
// with it off).
var recycleReads = true

func runLogQuery(ctx context.Context, out *bufio.Writer, srcs []data.Source, q *logql.LogQuery, opts *QueryOptions, from, to int64, rep *cmdutil.RejectReporter) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Each batch is released once written (the writers copy what they
	// print): the readers reuse the memory.
	ro := data.ReadOptions{From: from, To: to, Query: q, Limit: opts.Limit, Follow: opts.Follow, Recycle: recycleReads}
	ro.Prefilter = data.PrefilterFor(q)
	st, err := data.OpenAll(ctx, srcs, ro)
	if err != nil {
		return err
	}
	defer st.Close()
	w := cmdutil.NewEventWriter(out, opts.Output)
	w.Query = q
	dups := newDups(opts)
	defer func() { rep.AddDuplicates(dups.Count()) }()
	// Lines are printed as read (merged by time across sources). When a
	// match is more than a minute older than one printed before it (one
	// file holding several nodes' logs one after the other), say so once.
	var newest int64
	disorder := ""
	defer func() {
		if disorder != "" {
			rep.AddNote("the input is not in time order (" + disorder + " is older than lines printed before it): lines are printed as read; the TUI shows them in time order")
		}
	}()
	n := 0
	for {
		b, err := st.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if opts.Follow && errors.Is(err, context.Canceled) {
				break // Ctrl-C ends a follow normally
			}
			return err
		}
		rep.Add(b.Rejects)
		rep.AddUndated(b.Undated, b.UndatedAt)
		for i := range b.Events {
			e := &b.Events[i]
			if !q.Matches(e) || dups.Seen(e) {
				continue
			}
			if e.Time != 0 {
				if disorder == "" && e.Time < newest-int64(time.Minute) {
					disorder = e.Origin.Cite()
				}
				newest = max(newest, e.Time)
			}
			if err := w.Write(e); err != nil {
				return err
			}
			n++
			if opts.Limit > 0 && n >= opts.Limit {
				return w.Flush()
			}
		}
		b.Release()
		if opts.Follow {
			// Live output: show each batch as it arrives.
			if err := w.Flush(); err != nil {
				return err
			}
			if err := out.Flush(); err != nil {
				return err
			}
		}
	}
	return w.Flush()
}

// newDups is the filter that prints and counts exact duplicate lines once:
// of every match, or, when following, of the last hour of event time.
func newDups(opts *QueryOptions) *data.Dups {
	if opts.Follow {
		return data.NewDups(time.Hour)
	}
	return data.NewDups(0)
}

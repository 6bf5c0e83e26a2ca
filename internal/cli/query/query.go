// Package query is `audittui query`: a LogQL log or metric query over
// files, S3 or Loki, printed as raw lines, jsonl, a table or csv.
package query

import (
	"bufio"
	"bytes"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"time"

	"github.com/prometheus/common/model"
	"github.com/spf13/cobra"

	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
	"github.com/audittui/audittui/internal/plural"
	"github.com/audittui/audittui/internal/termsafe"
)

// QueryOptions are `audittui query`'s options.
type QueryOptions struct {
	IO      *cmdutil.IOStreams
	Now     func() time.Time
	Sources *cmdutil.SourceSet

	Query   string
	Args    []string
	Window  cmdutil.WindowFlags
	Limit   int
	Forward bool
	Output  string
	Step    time.Duration
	Quiet   bool
	Follow  bool
}

// NewCmdQuery builds `audittui query`; runF, when not nil, runs instead of
// the query (tests).
func NewCmdQuery(f *cmdutil.Factory, runF func(*QueryOptions) error) *cobra.Command {
	opts := &QueryOptions{IO: f.IOStreams, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "query [flags] QUERY [SOURCE...]",
		Short: "Run a LogQL query over files, S3 or Loki (like logcli query)",
		Long: `Run a LogQL query (the subset Loki's ruler and Grafana use, with field
names as Loki's | json parser produces them) over audit events. A query that
starts with neither a stream selector nor a function is read as the TUI's
filter line reads it: objectRef_resource="secrets" | verb="get" is
{job="audit"} | json | objectRef_resource="secrets" | verb="get".

The stream selector is matched against the labels of the sources' streams:
files and S3 objects carry job="audit", filename and --cluster, Loki
streams their own. A selector none of them satisfies ({job="kube-audit"})
matches nothing, as in Loki, and stderr says so with the labels they do
carry; --label job=kube-audit gives files and objects the labels a team's
queries select (the shorthand then selects that job).

Log queries print matching events: -o raw prints each event's original bytes,
one per line (an event pretty-printed over several lines in its file is put
on one, with only the whitespace between JSON tokens removed; with
line_format in the query, the lines as it formats them). --limit N
keeps the newest N matches (as logcli does), printed in time order;
--forward the oldest N. Metric queries print an instant vector evaluated at
the end of the window (or of the data); --step turns them into range
queries, whose steps fall on multiples of the step. As in Loki, a value at
t counts the lines in (t-range, t]: a line at exactly --to counts, and the
first step of a range query counts its range before --from too.

SOURCE is a file, a glob, a directory (the apiserver's rotated set is read in
order, .gz backups included; its subdirectories too with -r, every level),
- for stdin, s3://bucket/prefix/ or
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
	fs.IntVar(&opts.Limit, "limit", 0, "print only the newest N matches, in time order (0 = all); with --forward the oldest N; with --follow the first N that come")
	fs.BoolVar(&opts.Forward, "forward", false, "with --limit, keep the oldest matches instead of the newest (as logcli --forward)")
	cmdutil.StringEnumFlag(fs, &opts.Output, "output", "o", "raw", cmdutil.EventFormats(), "output format: raw, jsonl, table or csv")
	fs.Var(stepValue{&opts.Step}, "step", "evaluate a metric query as a range query with this step (90s, 5m, 1h, or 1d, 1w as LogQL writes them)")
	fs.BoolVarP(&opts.Follow, "follow", "f", false, "keep reading growing files (through rotation and truncation) or tail Loki, printing new matches")
	fs.BoolVarP(&opts.Quiet, "quiet", "q", false, "do not list rejected lines or print notices on stderr (the exit status still tells, and one line says why it is 1)")
	opts.Sources = f.Sources(fs)
	return cmd
}

func runQuery(ctx context.Context, opts *QueryOptions) error {
	if opts.Limit < 0 {
		return cmdutil.UsageErrorf("--limit %d: want a number of entries, 0 for all", opts.Limit)
	}
	expr, err := cmdutil.ParseQueryFor(opts.Query, opts.Sources.Job())
	if err != nil {
		return err
	}
	// A misspelt field matches nothing, silently (as in Loki): say so
	// first, as the TUI's filter bar does, and run the query.
	var labels []string
	for _, l := range opts.Sources.Labels() {
		labels = append(labels, l.Name)
	}
	warnings, notes := cmdutil.FieldWarnings(expr, labels...)
	for _, w := range warnings {
		fmt.Fprintf(opts.IO.ErrOut, "audittui: warning: %s\n", termsafe.String(w))
	}
	if !opts.Quiet {
		for _, n := range notes {
			fmt.Fprintf(opts.IO.ErrOut, "audittui: %s\n", termsafe.String(n))
		}
	}
	opts.Sources.Quiet = opts.Quiet
	from, to, srcs, err := opts.Sources.Window(ctx, &opts.Window, opts.Now, opts.Args)
	if err != nil {
		return err
	}
	// A selector no stream of the sources has matches nothing, silently
	// (as in Loki): say so first, with the labels they do carry. Each leg
	// of a binary operation between vectors is judged (the read's
	// selector keeps only the matchers they share: {job="nope"} in one
	// leg answers (no data) for the whole query).
	lq := logQuery(expr)
	legs := []*logql.LogQuery{lq}
	if m, ok := expr.(*logql.MetricQuery); ok {
		legs = m.LogQueries()
	}
	var sels [][]*logql.Matcher
	for _, l := range legs {
		sels = append(sels, l.Selector())
	}
	streams := cmdutil.StreamLabels(ctx, srcs, data.ReadOptions{From: from, To: to, Query: lq, Follow: opts.Follow}, data.SelectorNames(sels...))
	var said []string
	for _, sel := range sels {
		if why, ok := streams.Miss(sel); ok && !slices.Contains(said, why) {
			said = append(said, why)
			fmt.Fprintf(opts.IO.ErrOut, "audittui: warning: %s\n", termsafe.String(why))
		}
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

// logQuery is the log query of a query: itself, or a metric query's.
func logQuery(expr logql.Expr) *logql.LogQuery {
	if m, ok := expr.(*logql.MetricQuery); ok {
		return m.LogQuery()
	}
	return expr.(*logql.LogQuery)
}

// recycleReads is whether log queries read with recycling (tests compare
// with it off).
var recycleReads = true

func runLogQuery(ctx context.Context, out *bufio.Writer, srcs []data.Source, q *logql.LogQuery, opts *QueryOptions, from, to int64, rep *cmdutil.RejectReporter) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Each batch is released once written (the writers copy what they
	// print): the readers reuse the memory.
	// --limit N: the newest N (logcli's default direction) or, with
	// --forward, the oldest, whatever the input's order; when following,
	// the first N as they come.
	ro := data.ReadOptions{From: from, To: to, Query: q, Limit: opts.Limit, Newest: !opts.Forward, Follow: opts.Follow, Recycle: recycleReads}
	ro.Prefilter = data.PrefilterFor(q)
	st, err := data.OpenAll(ctx, srcs, ro)
	if err != nil {
		return err
	}
	defer st.Close()
	w := cmdutil.NewEventWriter(out, opts.Output)
	w.Query = q
	dups := newDups(opts)
	defer reportDups(rep, dups)
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
	var keep *keepN
	if opts.Limit > 0 && !opts.Follow {
		keep = &keepN{max: opts.Limit, oldest: opts.Forward}
	}
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
			if keep != nil {
				keep.add(e)
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
	if keep != nil {
		for _, e := range keep.sorted() {
			if err := w.Write(e); err != nil {
				return err
			}
		}
	}
	return w.Flush()
}

// keepN keeps the newest max events offered (or, oldest, the oldest),
// by time and then by the event's canonical line (data.DupLine), each a
// copy owning its memory: logcli's --limit over input in any order, and
// the same answer whatever that order (audit2rbac's v1beta1 timestamps
// have a 1 s resolution: dozens of events tie at the cut). Undated events
// (time 0) are the oldest.
type keepN struct {
	max    int
	oldest bool
	seq    int
	buf    []byte
	heap   keptHeap
}

type keptEvent struct {
	ev      data.Event
	line    []byte // data.DupLine, owned, once a tie asked for it
	hasLine bool
	seq     int
}

// key is the event's canonical line, made when first needed: only ties
// in time compare it, so most events never make it.
func (a *keptEvent) key() []byte {
	if !a.hasLine {
		a.line, a.hasLine = data.DupLine(&a.ev), true
	}
	return a.line
}

// before orders events by time, then by canonical line, then (identical
// lines: the same event twice, as printed) by arrival.
func (a *keptEvent) before(b *keptEvent) bool {
	if a.ev.Time != b.ev.Time {
		return a.ev.Time < b.ev.Time
	}
	if c := bytes.Compare(a.key(), b.key()); c != 0 {
		return c < 0
	}
	return a.seq < b.seq
}

// keptHeap's root is the event to give up first: the oldest kept when
// keeping the newest, the newest when keeping the oldest.
type keptHeap struct {
	evs    []keptEvent
	oldest bool
}

func (h *keptHeap) Len() int { return len(h.evs) }
func (h *keptHeap) Less(i, j int) bool {
	if h.oldest {
		return h.evs[j].before(&h.evs[i])
	}
	return h.evs[i].before(&h.evs[j])
}
func (h *keptHeap) Swap(i, j int) { h.evs[i], h.evs[j] = h.evs[j], h.evs[i] }
func (h *keptHeap) Push(x any)    { h.evs = append(h.evs, x.(keptEvent)) }
func (h *keptHeap) Pop() any {
	x := h.evs[len(h.evs)-1]
	h.evs = h.evs[:len(h.evs)-1]
	return x
}

func (k *keepN) add(e *data.Event) {
	k.seq++
	k.heap.oldest = k.oldest
	if len(k.heap.evs) < k.max {
		heap.Push(&k.heap, keptEvent{ev: e.Clone(), seq: k.seq})
		return
	}
	// Compare before copying: most events of a long input are not kept.
	// Only a tie in time with the root needs the line.
	root := &k.heap.evs[0]
	cand := keptEvent{ev: data.Event{Time: e.Time}, seq: k.seq}
	if e.Time == root.ev.Time {
		cand.line, cand.hasLine = data.DupLineBuf(e, &k.buf), true
	}
	if k.oldest && !cand.before(root) || !k.oldest && cand.before(root) {
		return
	}
	k.heap.evs[0] = keptEvent{ev: e.Clone(), seq: k.seq}
	if cand.hasLine {
		k.heap.evs[0].line, k.heap.evs[0].hasLine = bytes.Clone(cand.line), true
	}
	heap.Fix(&k.heap, 0)
}

// sorted returns the events kept, oldest first.
func (k *keepN) sorted() []*data.Event {
	evs := k.heap.evs
	sort.Slice(evs, func(i, j int) bool { return evs[i].before(&evs[j]) })
	out := make([]*data.Event, len(evs))
	for i := range evs {
		out[i] = &evs[i].ev
	}
	return out
}

// reportDups tells rep what dups found among the matches: the copies
// counted once, and the events that have the auditID, stage and time of
// another but other bytes (kept, and said).
func reportDups(rep *cmdutil.RejectReporter, dups *data.Dups) {
	rep.AddDuplicates(dups.Count(), "the matching lines")
	if n := dups.AKSCategories(); n > 0 {
		rep.AddNote(fmt.Sprintf("%s twice, in AKS records of category kube-audit and of kube-audit-admin (a diagnostic setting with both: kube-audit-admin repeats every kube-audit event but get and list): counted once, among the duplicates", plural.Count(n, "matching event came", "matching events came")))
	}
	if n := dups.Others(); n > 0 {
		rep.AddNote(cmdutil.OthersMessage(n, "matching event", "matching events", "printed and counted"))
	}
}

// newDups is the filter that prints and counts exact duplicate lines once:
// of every match, or, when following, of the last hour of event time.
func newDups(opts *QueryOptions) *data.Dups {
	if opts.Follow {
		return data.NewDups(time.Hour)
	}
	return data.NewDups(0)
}

// stepValue is --step: a Go duration (90s, 1h30m) or a Prometheus one
// (1d, 2w), as Loki's step parameter and LogQL's ranges take them (the
// Stats pane writes [56d]).
type stepValue struct{ d *time.Duration }

func (v stepValue) String() string {
	if v.d == nil {
		return "0s"
	}
	return v.d.String()
}

func (v stepValue) Set(s string) error {
	if d, err := time.ParseDuration(s); err == nil {
		*v.d = d
		return nil
	}
	d, err := model.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration (90s, 5m, 1h30m, 1d, 1w)", s)
	}
	*v.d = time.Duration(d)
	return nil
}

func (v stepValue) Type() string { return "duration" }

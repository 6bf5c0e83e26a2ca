package cli

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
	"github.com/audittui/audittui/internal/ui"
)

func init() { subcommands = append(subcommands, newQueryCmd) }

// TimeFlags are the --since/--from/--to flags shared by commands that read
// a time window (logcli semantics: --from inclusive, --to exclusive).
type TimeFlags struct {
	Since    time.Duration
	From, To string
	now      func() time.Time
}

// AddFlags registers the flags.
func (t *TimeFlags) AddFlags(fs *pflag.FlagSet) {
	fs.DurationVar(&t.Since, "since", 0, "only events newer than this duration before --to (or now), e.g. 1h")
	fs.StringVar(&t.From, "from", "", "start of the window, inclusive (RFC 3339 or YYYY-MM-DD)")
	fs.StringVar(&t.To, "to", "", "end of the window, exclusive (RFC 3339 or YYYY-MM-DD)")
}

// Window returns [from, to) in Unix nanoseconds (0 = open).
func (t *TimeFlags) Window() (from, to int64, err error) {
	if t.To != "" {
		if to, err = parseFlagTime(t.To); err != nil {
			return 0, 0, usageErr("--to: %v", err)
		}
	}
	if t.From != "" {
		if from, err = parseFlagTime(t.From); err != nil {
			return 0, 0, usageErr("--from: %v", err)
		}
		if t.Since != 0 {
			return 0, 0, usageErr("--since and --from are mutually exclusive")
		}
	}
	if t.Since > 0 {
		end := to
		if end == 0 {
			now := time.Now
			if t.now != nil {
				now = t.now
			}
			end = now().UnixNano()
		}
		from = end - int64(t.Since)
	}
	if from != 0 && to != 0 && from >= to {
		return 0, 0, usageErr("empty window: --from %s is not before --to %s", t.From, t.To)
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

// QueryOptions are `audittui query`'s options.
type QueryOptions struct {
	Query  string
	Args   []string
	Time   TimeFlags
	Limit  int
	Output string
	Step   time.Duration
	Quiet  bool
	Follow bool
}

func newQueryCmd(s *IO) *cobra.Command {
	opts := &QueryOptions{}
	var sources *sourceSet
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
results; each rejected line's file:line and reason go to stderr); 2 on usage
or query errors.`,
		Example: `  audittui query '{job="audit"} | json | objectRef_resource="secrets" | verb=~"get|list"' audit.log
  audittui query -o table '{job="audit"} | json | user_username="alice"' /var/log/kubernetes/audit/
  audittui query 'topk(10, sum by (user_username) (count_over_time({job="audit"} | json [1h])))' audit.log`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Query, opts.Args = args[0], args[1:]
			return runQuery(cmd.Context(), s, sources, opts)
		},
	}
	fs := cmd.Flags()
	opts.Time.AddFlags(fs)
	fs.IntVar(&opts.Limit, "limit", 0, "maximum number of entries to print (0 = all)")
	fs.StringVarP(&opts.Output, "output", "o", "raw", "output format: raw, jsonl, table or csv")
	fs.DurationVar(&opts.Step, "step", 0, "evaluate a metric query as a range query with this step")
	fs.BoolVarP(&opts.Follow, "follow", "f", false, "keep reading growing files (through rotation and truncation) or tail Loki, printing new matches")
	fs.BoolVarP(&opts.Quiet, "quiet", "q", false, "do not print the summary of rejected input on stderr (the exit status still tells)")
	sources = newSourceSet(fs)
	return cmd
}

// ParseQuery parses a query, turning a parse error into a usage error that
// points at the column.
func ParseQuery(q string) (logql.Expr, error) {
	expr, err := logql.Parse(q)
	if err != nil {
		var pe *logql.ParseError
		if errors.As(err, &pe) {
			return nil, &ExitError{Code: ExitUsage, Err: fmt.Errorf("query: %v\n  %s\n  %s^", pe, firstLine(q, pe.Line), strings.Repeat(" ", max(0, pe.Col-1)))}
		}
		return nil, &ExitError{Code: ExitUsage, Err: fmt.Errorf("query: %w", err)}
	}
	return expr, nil
}

func firstLine(q string, line int) string {
	ls := strings.Split(q, "\n")
	if line >= 1 && line <= len(ls) {
		return ls[line-1]
	}
	return q
}

func runQuery(ctx context.Context, s *IO, sources *sourceSet, opts *QueryOptions) error {
	switch opts.Output {
	case "raw", "jsonl", "table", "csv":
	default:
		return usageErr("-o %q: want raw, jsonl, table or csv", opts.Output)
	}
	expr, err := ParseQuery(opts.Query)
	if err != nil {
		return err
	}
	from, to, err := opts.Time.Window()
	if err != nil {
		return err
	}
	srcs, err := sources.resolveOrStdin(ctx, opts.Args, s)
	if err != nil {
		return err
	}
	rep := newRejectReporter(s.Err, opts.Quiet)
	out := bufio.NewWriterSize(s.Out, 1<<20)
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
	return rep.finish()
}

// resolveOrStdin resolves SOURCE arguments; with none it uses a kind's
// default (Loki) or stdin when it is not a terminal.
func (s *sourceSet) resolveOrStdin(ctx context.Context, args []string, io *IO) ([]data.Source, error) {
	for _, k := range s.kinds {
		if fk, ok := k.(*fileKind); ok && io.In != nil {
			fk.stdin = io.In // "-" reads the command's stdin
		}
	}
	srcs, ok, err := s.resolve(ctx, args)
	if err != nil {
		return nil, err
	}
	if ok {
		return srcs, nil
	}
	if io.InTTY {
		return nil, usageErr("no SOURCE given (name audit log files, s3://bucket/prefix/ or loki://host:3100, set LOKI_ADDR, or pipe events on stdin)")
	}
	src, err := data.NewFileSource("-", data.FileOptions{Cluster: s.common.Cluster, Stdin: io.In})
	if err != nil {
		return nil, err
	}
	return []data.Source{src}, nil
}

func runLogQuery(ctx context.Context, out *bufio.Writer, srcs []data.Source, q *logql.LogQuery, opts *QueryOptions, from, to int64, rep *rejectReporter) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ro := data.ReadOptions{From: from, To: to, Query: opts.Query, Limit: opts.Limit, Follow: opts.Follow}
	ro.Prefilter = data.PrefilterFor(q)
	st, err := data.OpenAll(ctx, srcs, ro)
	if err != nil {
		return err
	}
	defer st.Close()
	w := newEventWriter(out, opts.Output)
	w.q = q
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
		rep.add(b.Rejects)
		rep.undated += b.Undated
		for i := range b.Events {
			e := &b.Events[i]
			if !q.Matches(e) {
				continue
			}
			if err := w.write(e); err != nil {
				return err
			}
			n++
			if opts.Limit > 0 && n >= opts.Limit {
				return w.flush()
			}
		}
		if opts.Follow {
			// Live output: show each batch as it arrives.
			if err := w.flush(); err != nil {
				return err
			}
			if err := out.Flush(); err != nil {
				return err
			}
		}
	}
	return w.flush()
}

// eventWriter prints matching events.
type eventWriter struct {
	out    *bufio.Writer
	q      *logql.LogQuery // for the line as line_format leaves it (jsonl)
	format string
	tw     *tabwriter.Writer
	cw     *csv.Writer
	rows   int
}

func newEventWriter(out *bufio.Writer, format string) *eventWriter {
	w := &eventWriter{out: out, format: format}
	switch format {
	case "table":
		w.tw = tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
		fmt.Fprintln(w.tw, "TIME\tUSER\tVERB\tRESOURCE\tNAMESPACE/NAME\tCODE\tSOURCE IP\tAUDIT ID")
	case "csv":
		w.cw = csv.NewWriter(out)
		w.cw.Write([]string{"time", "auditID", "stage", "user", "impersonatedUser", "verb", "resource", "subresource", "namespace", "name", "code", "sourceIP", "userAgent", "source", "line"})
	}
	return w
}

func jsonlLabels(ls data.Labels) map[string]string {
	m := make(map[string]string, len(ls))
	for _, l := range ls {
		m[l.Name] = l.Value
	}
	return m
}

func (w *eventWriter) write(e *data.Event) error {
	switch w.format {
	case "raw":
		w.out.Write(e.Raw)
		return w.out.WriteByte('\n')
	case "jsonl":
		// logcli's jsonl shape: timestamp, labels, line (the line as the
		// query's line_format left it). An event without a time has no
		// timestamp key.
		line := e.EntryLine()
		if w.q != nil {
			if l, _, ok := w.q.Process(e); ok {
				line = l
			}
		}
		rec := struct {
			Timestamp string            `json:"timestamp,omitempty"`
			Labels    map[string]string `json:"labels"`
			Line      string            `json:"line"`
		}{Line: string(line)}
		if e.Time != 0 {
			rec.Timestamp = fmtTime(e.Time)
		}
		if e.Origin.Source != nil {
			rec.Labels = jsonlLabels(e.Origin.Source.Labels)
		}
		b, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		w.out.Write(b)
		return w.out.WriteByte('\n')
	case "table":
		res := e.Resource
		if e.Subresource != "" {
			res += "/" + e.Subresource
		}
		nsName := e.Name
		if e.Namespace != "" {
			nsName = e.Namespace + "/" + e.Name
		}
		code := ""
		if e.Code != 0 {
			code = strconv.Itoa(e.Code)
		}
		user := e.User
		if e.ImpUser != "" {
			user += " (as " + e.ImpUser + ")"
		}
		ip := ""
		if len(e.SourceIPs) > 0 {
			ip = e.SourceIPs[0]
		}
		if res == "" {
			res = e.RequestURI
		}
		fmt.Fprintf(w.tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", fmtTime(e.Time), cell(user), cell(e.Verb), cell(res), cell(nsName), code, cell(ip), cell(e.AuditID))
		w.rows++
		if w.rows%1000 == 0 {
			return w.tw.Flush()
		}
		return nil
	case "csv":
		ip := ""
		if len(e.SourceIPs) > 0 {
			ip = e.SourceIPs[0]
		}
		code := ""
		if e.Code != 0 {
			code = strconv.Itoa(e.Code)
		}
		return w.cw.Write([]string{fmtTime(e.Time), e.AuditID, e.Stage, e.User, e.ImpUser, e.Verb, e.Resource, e.Subresource, e.Namespace, e.Name, code, ip, e.UserAgent, e.Origin.Source.Name, strconv.FormatInt(e.Origin.Line, 10)})
	}
	return nil
}

// cell makes an untrusted string safe for a terminal table cell.
func cell(s string) string {
	return strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(ui.Sanitize(s))
}

func (w *eventWriter) flush() error {
	if w.tw != nil {
		return w.tw.Flush()
	}
	if w.cw != nil {
		w.cw.Flush()
		return w.cw.Error()
	}
	return nil
}

func fmtTime(ns int64) string {
	if ns == 0 {
		return "-"
	}
	return time.Unix(0, ns).UTC().Format("2006-01-02T15:04:05.000000Z07:00")
}

// rejectReporter prints rejected input on stderr and sets the exit status.
type rejectReporter struct {
	w       io.Writer
	quiet   bool
	n       int
	reasons map[string]int
	undated int // events a time window left out for lack of a time
}

func newRejectReporter(w io.Writer, quiet bool) *rejectReporter {
	return &rejectReporter{w: w, quiet: quiet, reasons: map[string]int{}}
}

func (r *rejectReporter) add(rejs []data.Reject) {
	for _, rj := range rejs {
		r.n++
		if !r.quiet {
			fmt.Fprintf(r.w, "audittui: skipped %s\n", cell(rj.Error()))
		}
	}
}

// finish returns an exit error when input was rejected.
func (r *rejectReporter) finish() error {
	if r.undated > 0 && !r.quiet {
		fmt.Fprintf(r.w, "audittui: %d event(s) without a timestamp could not be placed in the time window and were left out\n", r.undated)
	}
	if r.n == 0 {
		return nil
	}
	return &ExitError{Code: ExitInputError, Err: fmt.Errorf("%d input line(s) rejected (see above)", r.n)}
}

// sortedLabelNames returns the union of label names of a result, sorted.
func sortedLabelNames(sets []logql.Labels) []string {
	seen := map[string]bool{}
	for _, ls := range sets {
		for _, l := range ls {
			seen[l.Name] = true
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

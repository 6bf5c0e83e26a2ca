// Package history is `audittui history`: every request that touched one
// object, in time order, with the diff of the object between versions and
// the people behind the identities (see internal/history).
package history

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
	"github.com/audittui/audittui/internal/history"
	"github.com/audittui/audittui/internal/plural"
	"github.com/audittui/audittui/internal/report"
	"github.com/audittui/audittui/internal/termsafe"
)

// HistoryOptions are `audittui history`'s options.
type HistoryOptions struct {
	IO      *cmdutil.IOStreams
	Now     func() time.Time
	Sources *cmdutil.SourceSet

	Object    string
	Namespace string
	Args      []string
	Window    cmdutil.WindowFlags
	Output    string
	Status    bool
	Reads     bool
	Quiet     bool
}

// Formats are the output formats of history.
func Formats() []string { return []string{"table", "jsonl", "diff"} }

// NewCmdHistory builds `audittui history`; runF, when not nil, runs
// instead (tests).
func NewCmdHistory(f *cmdutil.Factory, runF func(*HistoryOptions) error) *cobra.Command {
	opts := &HistoryOptions{IO: f.IOStreams, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "history [-n NAMESPACE] RESOURCE[.GROUP]/NAME [SOURCE...]",
		Short: "Every request that touched one object, with diffs and who was behind it",
		Long: `Show the history of one object: every create, update, patch and delete
(with their subresources, such as status and scale), every exec, attach,
port-forward and proxy request whatever its verb (kubectl 1.30 and later
logs an exec as get: a WebSocket upgrade), in time order, one row per
request, denied attempts marked, and between consecutive known versions a
unified diff of the object without bookkeeping (managedFields,
resourceVersion, generation, creationTimestamp, uid; status unless
--status). --reads adds the get, list and watch of the object and its
other subresources (log, ...), and the list and watch requests of its
collection (its namespace's and cluster-wide) that could have returned it.

A deletecollection of the object's collection (DELETE on
/namespaces/NS/RESOURCE, or the cluster-scoped collection: every object its
labelSelector and fieldSelector pick) is a row too: "deleted
(deletecollection)" when its response lists the object, or when nothing in
the request could have left it out and no response body says otherwise;
"may have deleted it (deletecollection with labelSelector ...; no response
body recorded)" when that cannot be told. One whose event shows it did not
touch the object (a fieldSelector that excludes it, a response listing the
deleted objects without it) is left out, and a note says how many and where
(-o jsonl prints them with "leftOut": true).

The stages of an auditID are merged only when they agree on verb, user,
request URI, object and received time, one line per stage: the client may
choose the auditID (the Audit-ID header), so lines that disagree are rows of
their own, marked "(auditID reused)". A successful create of an object that
the log says exists (no delete recorded since its last create or change) is
"created again", with a note on the missing delete and a diff from the
version before it.

Versions come from what the audit policy level recorded: the response object,
the request object, or a patch applied to the previous version (the audit log
does not record a patch's type: a JSON array is a JSON patch, an object a
strategic merge patch for built-in kinds and a JSON merge patch otherwise).
A request recorded at Metadata level says so ("Metadata level: no body
recorded"). A Secret's values never appear: each key shows a short hash of
its value, so a diff tells which keys changed.

The object is named as kubectl names it: RESOURCE[.GROUP]/NAME, with short
names (cm, deploy, rolebinding, secret, ...), -n for the namespace (default
"default" for namespaced built-in resources). A Namespace (ns/NAME) also
takes its own requests, which the apiserver logs with namespace NAME. The
events are those of the LogQL query printed in the header; audittui query
with that query selects the same events.

Who: the user, "→ the impersonated user", and in parentheses the person
behind the account (an EKS role's session name, a service-account token's
pod); -o jsonl adds the ARN, the access key id, the token's node and
credential id.

-o table lists the requests, -o diff adds each request's notes, patch and
diff, -o jsonl prints one JSON object per request.

Exit status: 0 success; 1 when some input was rejected or events without a
timestamp were left out of the window; 2 on usage errors.`,
		Example: `  audittui history -n payments rolebinding/payments-deployers /var/log/kubernetes/audit/
  audittui history -n payments -o diff cm/payments-config audit.log
  audittui history -o jsonl --since 24h clusterrolebinding/ci-bot-debug s3://audit-archive/prod/`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Object, opts.Args = args[0], args[1:]
			if runF != nil {
				return runF(opts)
			}
			return runHistory(cmd.Context(), opts)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&opts.Namespace, "namespace", "n", "", "the object's namespace (default \"default\" for namespaced built-in resources)")
	opts.Window.AddFlags(fs)
	cmdutil.StringEnumFlag(fs, &opts.Output, "output", "o", "table", Formats(), "output format: table, jsonl or diff")
	fs.BoolVar(&opts.Status, "status", false, "show status in versions and diffs")
	fs.BoolVar(&opts.Reads, "reads", false, "also list get, list and watch requests of the object, and the lists and watches of its collection that could have returned it (exec, attach, portforward and proxy requests are listed whatever their verb)")
	fs.BoolVarP(&opts.Quiet, "quiet", "q", false, "do not print the summary of rejected input on stderr (the exit status still tells)")
	opts.Sources = f.Sources(fs)
	return cmd
}

func runHistory(ctx context.Context, opts *HistoryOptions) error {
	ref, err := history.ParseRef(opts.Object, opts.Namespace)
	if err != nil {
		return cmdutil.UsageError(err)
	}
	from, to, srcs, err := opts.Sources.Window(ctx, &opts.Window, opts.Now, opts.Args)
	if err != nil {
		return err
	}
	hopts := history.Options{Status: opts.Status, Reads: opts.Reads, Job: opts.Sources.Job()}
	rep := cmdutil.NewRejectReporter(opts.IO.ErrOut, opts.Quiet)
	b := history.NewBuilder(ref, hopts)
	if err := collect(ctx, srcs, b, ref, from, to, rep); err != nil {
		return err
	}
	h := b.Build()
	dataOut, done := opts.IO.DataOut()
	defer done()
	out := bufio.NewWriterSize(dataOut, 1<<16)
	switch opts.Output {
	case "jsonl":
		err = writeJSONL(out, h)
	case "diff":
		err = writeDiff(out, h)
	default:
		err = writeTable(out, h)
	}
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return err
	}
	if len(h.Rows) == 0 {
		hint := ""
		if ref.Kind == "" && ref.Namespace == "" {
			hint = " (for a namespaced resource, give -n NAMESPACE)"
		}
		where := "the input"
		if from != 0 || to != 0 {
			where = "the window" // the window's own notice says where the events are
		}
		fmt.Fprintf(opts.IO.ErrOut, "audittui: no request touched %s in %s%s\n", termsafe.String(ref.Display()), where, hint)
		if !slices.Contains(opts.Args, "-") && len(opts.Args) > 0 {
			// (stdin cannot be read again)
			for _, o := range elsewhere(ctx, srcs, ref, opts.Sources.Job(), from, to) {
				ns := o.Ref.Namespace
				fmt.Fprintln(opts.IO.ErrOut, termsafe.String(fmt.Sprintf("audittui: named in namespace %s by %s: audittui history -n %s %s",
					ns, plural.Count(o.Events, "event", "events"), report.ShellQuote(ns), report.ShellQuote(ref.Resource+"/"+ref.Name))))
			}
		}
	}
	return rep.Err()
}

// elsewhere reads srcs again for the events that name ref's resource and
// name in other namespaces than ref's (history.RankElsewhere, as the TUI's
// :history says them too).
func elsewhere(ctx context.Context, srcs []data.Source, ref history.Ref, job string, from, to int64) []history.Elsewhere {
	if ref.Namespace == "" || ref.Name == "" {
		return nil
	}
	if job == "" {
		job = "audit"
	}
	q := `{job=` + strconv.Quote(job) + `} | json | objectRef_resource=` + strconv.Quote(ref.Resource) +
		` | objectRef_name=` + strconv.Quote(ref.Name)
	if ref.GroupGiven {
		q += ` | objectRef_apiGroup=` + strconv.Quote(ref.Group)
	}
	lq, err := logql.ParseLog(q)
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st, err := data.OpenAll(ctx, srcs, data.ReadOptions{From: from, To: to, Query: lq, Prefilter: data.PrefilterFor(lq)})
	if err != nil {
		return nil
	}
	defer st.Close()
	counts := map[string]int{}
	for {
		b, err := st.Next(ctx)
		if b != nil {
			for i := range b.Events {
				if e := &b.Events[i]; lq.Matches(e) {
					counts[e.Namespace]++
				}
			}
			b.Release()
		}
		if err != nil {
			break // io.EOF, or said by the first read
		}
	}
	return history.RankElsewhere(ref, counts)
}

// collect reads the sources with the query's literal prefilter and feeds
// the object's events to the builder.
func collect(ctx context.Context, srcs []data.Source, b *history.Builder, ref history.Ref, from, to int64, rep *cmdutil.RejectReporter) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	lq, err := logql.ParseLog(b.Query())
	if err != nil {
		return fmt.Errorf("history of %s: query %s: %w", ref.Display(), b.Query(), err)
	}
	ro := data.ReadOptions{From: from, To: to, Query: lq, Prefilter: data.PrefilterFor(lq)}
	st, err := data.OpenAll(ctx, srcs, ro)
	if err != nil {
		return err
	}
	defer st.Close()
	for {
		batch, err := st.Next(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		rep.Add(batch.Rejects)
		rep.AddUndated(batch.Undated, batch.UndatedAt)
		for i := range batch.Events {
			b.Add(&batch.Events[i])
		}
	}
}

// header is the first line of table and diff output.
func header(h *history.History) string {
	kind := ""
	if h.Kind != "" {
		kind = " (" + h.Kind + ")"
	}
	return fmt.Sprintf("# %s%s: %s; events: %s", h.Ref.Display(), kind, plural.Count(len(h.Rows), "request", "requests"), h.Query)
}

func verbOf(r *history.Row) string {
	if r.Subresource != "" {
		return r.Verb + "/" + r.Subresource
	}
	return r.Verb
}

func codeOf(r *history.Row) string {
	if r.Code == 0 {
		return "-"
	}
	return strconv.Itoa(r.Code)
}

// writeNotes writes the history's notes under the header.
func writeNotes(out *bufio.Writer, h *history.History) {
	for _, n := range h.Notes {
		fmt.Fprintln(out, termsafe.String("# note: "+n))
	}
}

func writeTable(out *bufio.Writer, h *history.History) error {
	fmt.Fprintln(out, termsafe.String(header(h)))
	writeNotes(out, h)
	tw := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tVERB\tCODE\tWHO\tFROM\tCHANGE")
	for i := range h.Rows {
		r := &h.Rows[i]
		change := r.Change
		if r.Denied() {
			change = "DENIED"
			if r.DryRun {
				change += " (dry run: not persisted)"
			}
		}
		if len(r.Notes) > 0 && r.Diff == "" && r.Outcome == history.OK && strings.HasSuffix(r.Notes[len(r.Notes)-1], "no body recorded") {
			change += " (no body recorded)"
		}
		if r.AuditIDShared > 0 {
			change += " (auditID reused)"
		}
		if r.DryRunUnproven {
			change += " (asks for a dry run: not provable at this level, see -o diff)"
		}
		cells := []string{cmdutil.FormatTime(r.Time), verbOf(r), codeOf(r), r.Identity.String(), data.SourceIPsText(r.SourceIPs), change}
		for k, c := range cells {
			cells[k] = termsafe.String(c)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

func writeDiff(out *bufio.Writer, h *history.History) error {
	fmt.Fprintln(out, header(h))
	writeNotes(out, h)
	for i := range h.LeftOut {
		r := &h.LeftOut[i]
		fmt.Fprintf(out, "# left out: %s %s %s by %s at %s: %s\n", cmdutil.FormatTime(r.Time), verbOf(r), codeOf(r), r.Identity.String(), strings.Join(r.Where, ", "), r.Change)
	}
	for i := range h.Rows {
		r := &h.Rows[i]
		fmt.Fprintf(out, "\n# %s %s %s %s by %s", cmdutil.FormatTime(r.Time), verbOf(r), codeOf(r), capitalize(r.Change), r.Identity.String())
		if r.SourceIP != "" {
			fmt.Fprintf(out, " from %s", data.SourceIPsText(r.SourceIPs))
		}
		fmt.Fprintln(out)
		fmt.Fprintf(out, "#   auditID %s, level %s, stages %s, at %s\n", dash(r.AuditID), dash(r.Level), dash(strings.Join(r.Stages, ",")), strings.Join(r.Where, ", "))
		for _, d := range r.Identity.Details() {
			if d.Label == "user" {
				continue
			}
			fmt.Fprintf(out, "#   %s: %s\n", d.Label, d.Value)
		}
		for _, n := range r.Notes {
			fmt.Fprintf(out, "#   note: %s\n", n)
		}
		if r.Patch != "" {
			fmt.Fprintf(out, "#   patch (%s):\n", r.PatchType)
			for _, l := range strings.Split(strings.TrimSuffix(r.Patch, "\n"), "\n") {
				fmt.Fprintf(out, "#     %s\n", l)
			}
		}
		out.WriteString(r.Diff)
	}
	return nil
}

func capitalize(s string) string {
	if s == "" {
		return "-"
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// jsonRow is a row as -o jsonl prints it.
type jsonRow struct {
	Time          string `json:"time,omitempty"`
	AuditID       string `json:"auditID,omitempty"`
	AuditIDShared int    `json:"auditIDSharedWith,omitempty"`
	Object        string `json:"object"`
	Verb          string `json:"verb"`
	Subresource   string `json:"subresource,omitempty"`
	Code          int    `json:"code,omitempty"`
	Outcome       string `json:"outcome"`
	Change        string `json:"change"`
	// DryRun: a server-side dry run, which stored nothing (the change is
	// what it would have done).
	DryRun bool `json:"dryRun"`
	// DryRunUnproven: a delete whose URI asks for a dry run at a level
	// that cannot show it was one (notes say why): counted as done.
	DryRunUnproven bool          `json:"dryRunUnproven,omitempty"`
	User           string        `json:"user"`
	Impersonated   string        `json:"impersonatedUser,omitempty"`
	Person         string        `json:"person,omitempty"`
	Identity       *jsonIdentity `json:"identity,omitempty"`
	SourceIP       string        `json:"sourceIP,omitempty"`
	// SourceIPs: every address, when there are several (sourceIP is the
	// first: X-Forwarded-For's when the client sent one).
	SourceIPs []string `json:"sourceIPs,omitempty"`
	UserAgent string   `json:"userAgent,omitempty"`
	Level     string   `json:"level,omitempty"`
	Stages    []string `json:"stages,omitempty"`
	Where     []string `json:"where"`
	Reason    string   `json:"reason,omitempty"`
	Notes     []string `json:"notes,omitempty"`
	PatchType string   `json:"patchType,omitempty"`
	Patch     string   `json:"patch,omitempty"`
	Diff      string   `json:"diff,omitempty"`
	Version   any      `json:"version,omitempty"`
	// LeftOut marks a request the query selects that is no row of the
	// history (History.LeftOut): change says why.
	LeftOut bool `json:"leftOut,omitempty"`
}

// jsonIdentity is what the event records behind the account, under the
// names of user.extra's keys.
type jsonIdentity struct {
	ARN          string `json:"arn,omitempty"`
	SessionName  string `json:"sessionName,omitempty"`
	AccessKeyID  string `json:"accessKeyId,omitempty"`
	PodName      string `json:"podName,omitempty"`
	NodeName     string `json:"nodeName,omitempty"`
	CredentialID string `json:"credentialId,omitempty"`
	Principal    string `json:"principalEmail,omitempty"`
}

func writeJSONL(out *bufio.Writer, h *history.History) error {
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	rows := h.Rows
	if len(h.LeftOut) > 0 {
		rows = append(slices.Clip(rows), h.LeftOut...)
	}
	for i := range rows {
		r := &rows[i]
		jr := jsonRow{LeftOut: i >= len(h.Rows),
			AuditID: r.AuditID, AuditIDShared: r.AuditIDShared, Object: h.Ref.Display(), Verb: r.Verb, Subresource: r.Subresource, Code: r.Code,
			Outcome: string(r.Outcome), Change: r.Change, DryRun: r.DryRun, DryRunUnproven: r.DryRunUnproven, User: r.Identity.User, Impersonated: r.Identity.ImpersonatedUser,
			Person: r.Identity.Person(), SourceIP: r.SourceIP, UserAgent: r.UserAgent, Level: r.Level, Stages: r.Stages,
			Where: r.Where, Reason: r.Reason, Notes: r.Notes, PatchType: r.PatchType, Patch: r.Patch, Diff: r.Diff, Version: r.Object,
		}
		if r.Time != 0 {
			jr.Time = cmdutil.FormatTime(r.Time)
		}
		if len(r.SourceIPs) > 1 {
			jr.SourceIPs = r.SourceIPs
		}
		if id := r.Identity; id.ARN != "" || id.PodName != "" || id.CredentialID != "" || id.Principal != "" || id.NodeName != "" {
			jr.Identity = &jsonIdentity{ARN: id.ARN, SessionName: id.SessionName, AccessKeyID: id.AccessKeyID,
				PodName: id.PodName, NodeName: id.NodeName, CredentialID: id.CredentialID, Principal: id.Principal}
		}
		if err := enc.Encode(jr); err != nil {
			return err
		}
	}
	return nil
}
